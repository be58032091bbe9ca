"""Bytes the controller uploads for the agent: two rescues of one instance into the same bucket on
a local cloud (fast profile), read from each run's JSON note (RescueController's AgentDelivery:
"agent in s3://BUCKET/KEY: N bytes uploaded (M compressed)").
    python3 scripts/lib/delivery_bench.py CLOUD_URL   (KEYRESCUE_BIN, KEYRESCUE_AGENT set)"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import boto3

cloud = sys.argv[1]
creds = dict(aws_access_key_id="AKIDBENCH", aws_secret_access_key="secret", region_name="us-east-1")
ec2 = boto3.client("ec2", endpoint_url=cloud, **creds)
work = tempfile.mkdtemp(prefix="kr-delivery-bench-", dir="/var/tmp")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/lost"], check=True)
ec2.import_key_pair(KeyName="bench-lost", PublicKeyMaterial=open(f"{work}/lost.pub", "rb").read())
ami = ec2.describe_images(Owners=["136693071363"], Filters=[{"Name": "name", "Values": ["debian-12-amd64-2*"]}])["Images"][0]["ImageId"]
iid = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", KeyName="bench-lost", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
deadline = time.monotonic() + 300
while ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] != "running":
    assert time.monotonic() < deadline, f"{iid} never ran"
    time.sleep(0.5)
env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="secret", AWS_DEFAULT_REGION="us-east-1",
           XDG_STATE_HOME=f"{work}/state")
for n, which in enumerate(("first", "second"), 1):
    started = time.monotonic()
    out = subprocess.run([os.environ["KEYRESCUE_BIN"], "reset", iid, "--generate-key", f"{work}/new{n}", "--yes",
                          "--verify", "none", "--json", "--endpoint-url", cloud, "--region", "us-east-1"],
                         capture_output=True, text=True, env=env, timeout=900)
    if out.returncode != 0:
        sys.exit(f"bench: the {which} rescue failed:\n{out.stdout}{out.stderr}")
    notes = [json.loads(l).get("message", "") for l in out.stdout.splitlines() if l.startswith("{")]
    found = next(m for m in map(re.compile(r"agent in s3://\S+: (\d+) bytes uploaded \((\d+) compressed\)").match, notes) if m)
    print(f"{which} rescue into the bucket: {int(found.group(1)):>9,} bytes of agent uploaded "
          f"(object {int(found.group(2)):,} bytes; rescue took {time.monotonic() - started:.0f} s)")
