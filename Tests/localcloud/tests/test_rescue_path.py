"""The controller's path end to end, with a shell script standing in for the agent: user-data on the
AL2023 rescue host downloads the "agent" from S3 with a presigned GET, runs it against the target's
root volume (found by its NVMe by-id link), uploads the report with a presigned PUT; the target
then starts again and its own sshd lets the new key in."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import boto3
from botocore.config import Config

from conftest import launch, state_of, wait_states

AGENT = r"""#!/bin/sh
set -e
dev=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$1-part1
for i in $(seq 1 300); do [ -b "$dev" ] && break; sleep 0.2; done
mkdir -p /mnt/target && mount -o nouuid,nosuid,nodev "$dev" /mnt/target
echo "$2" >> /mnt/target/home/ec2-user/.ssh/authorized_keys
sync
owner=$(stat -c %u:%a /mnt/target/home/ec2-user/.ssh/authorized_keys)
umount /mnt/target
printf '{"ok": true, "owner_mode": "%s"}' "$owner"
"""


def test_rescue_path_with_presigned_urls(endpoint, ec2, al2023, tmp_path):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDCONTROLLER",
                      aws_secret_access_key="x", config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="keyrescue-test-path")
    s3.put_object(Bucket="keyrescue-test-path", Key="agent", Body=AGENT.encode())
    get = s3.generate_presigned_url("get_object", Params={"Bucket": "keyrescue-test-path", "Key": "agent"}, ExpiresIn=600)
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "keyrescue-test-path", "Key": "report"}, ExpiresIn=600)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    new_key = (tmp_path / "k.pub").read_text().strip()

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "lost")], check=True)
    ec2.import_key_pair(KeyName="lost-key", PublicKeyMaterial=(tmp_path / "lost.pub").read_bytes())
    target = launch(ec2, al2023, KeyName="lost-key")
    wait_states(lambda: state_of(ec2, target), "running")
    root = ec2.describe_instances(InstanceIds=[target])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"][0]
    volume = root["Ebs"]["VolumeId"]
    user_data = f"""#!/bin/sh
curl -fsS -o /run/agent '{get}' && chmod 700 /run/agent
/run/agent {volume.replace('-', '')} '{new_key}' > /run/report.json 2>/run/agent.err || echo '{{"ok": false}}' > /run/report.json
cat /run/agent.err
curl -fsS -X PUT --data-binary @/run/report.json '{put}' && echo report-uploaded
"""
    ec2.stop_instances(InstanceIds=[target])
    rescue = launch(ec2, al2023, UserData=user_data, InstanceInitiatedShutdownBehavior="terminate")
    wait_states(lambda: state_of(ec2, target), "stopped")
    ec2.detach_volume(VolumeId=volume)
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["State"], "available")
    wait_states(lambda: state_of(ec2, rescue), "running")
    ec2.attach_volume(VolumeId=volume, InstanceId=rescue, Device="/dev/sdf")

    deadline = time.monotonic() + 60
    while "report-uploaded" not in (out := ec2.get_console_output(InstanceId=rescue, Latest=True).get("Output", "")):
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    report = json.loads(s3.get_object(Bucket="keyrescue-test-path", Key="report")["Body"].read())
    assert report == {"ok": True, "owner_mode": "1000:600"}

    ec2.detach_volume(VolumeId=volume)
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["State"], "available")
    ec2.attach_volume(VolumeId=volume, InstanceId=target, Device=root["DeviceName"])
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Attachments"][0]["State"], "attached")
    ec2.start_instances(InstanceIds=[target])
    ec2.terminate_instances(InstanceIds=[rescue])
    wait_states(lambda: state_of(ec2, target), "running")

    deadline = time.monotonic() + 30
    while True:
        runtimes = json.loads(urllib.request.urlopen(f"{endpoint}/_localcloud/instances").read())
        host, port = next(r["ssh"] for r in runtimes if r["instance_id"] == target)
        login = subprocess.run(["ssh", "-i", str(tmp_path / "k"), "-p", str(port), "-o", "BatchMode=yes",
                                "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/known",
                                f"ec2-user@{host}", "id -un"], capture_output=True, text=True, timeout=30)
        if login.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert login.stdout.strip() == "ec2-user", login.stderr
    ec2.terminate_instances(InstanceIds=[target])
