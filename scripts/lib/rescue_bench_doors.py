"""The door rows of scripts/bench rescue (issue 13): SSM and EC2 Instance Connect on AL2023 targets.

Imported by rescue_bench.py. The SSM target has an instance profile whose role carries
AmazonSSMManagedInstanceCore and is Online in SSM before the clock starts; the Instance Connect
target has no profile. Both are rescued with `keyrescue reset --method … --verify ssh`: the total
includes the login check, whose own time comes from keyrescue's `verify` step event, so the
route's time without it is total − login check.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
METHODS = {"ssm": "ssm", "eic": "instance-connect"}


def launch_al2023(aws, work: Path, managed: bool) -> str:
    """One AL2023 target, not waited for; with an SSM instance profile when `managed`."""
    extra: list[str] = []
    if managed:
        name = f"ssm-{work.name}"[:60]
        aws("setup", "create-role", "--role-name", name, "--assume-role-policy-document", TRUST, service="iam")
        aws("setup", "attach-role-policy", "--role-name", name, "--policy-arn", CORE, service="iam")
        aws("setup", "create-instance-profile", "--instance-profile-name", name, service="iam")
        aws("setup", "add-role-to-instance-profile", "--instance-profile-name", name, "--role-name", name, service="iam")
        extra = ["--iam-instance-profile", f"Name={name}"]
    image = aws("setup", "get-parameter", "--name", AL2023, service="ssm")["Parameter"]["Value"]
    return aws("setup", "run-instances", "--image-id", image, "--instance-type", "t3.micro",
               *extra)["Instances"][0]["InstanceId"]


def wait_online(aws, iid: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = aws("setup", "describe-instance-information", "--filters", f"Key=InstanceIds,Values={iid}",
                     service="ssm")["InstanceInformationList"]
        if any(i["PingStatus"] == "Online" for i in listed):
            return
        time.sleep(1)
    raise RuntimeError(f"{iid} never came Online in SSM")


def through_door(row: str, iid: str, new_pub: Path, port: int, keyrescue: str, aws_options: list[str],
                 env: dict) -> dict:
    """`keyrescue reset --method …` with the login check (to the instance's forwarded ssh port);
    returns the check's own seconds, from keyrescue's `verify` step."""
    out = subprocess.run([keyrescue, "reset", iid, "--public-key", str(new_pub), "--yes", "--json", *aws_options,
                          "--method", METHODS[row], "--verify", "ssh",
                          "--ssh-option=-oHostName=127.0.0.1", f"--ssh-option=-oPort={port}"],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"keyrescue --method {METHODS[row]} exited {out.returncode}: "
                           f"{out.stdout[-1500:]}{out.stderr[-1500:]}")
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    summary = next(e for e in events if e.get("event") == "summary")
    verify = next(float(e["seconds"]) for e in events if e.get("event") == "step-finished" and e.get("step") == "verify")
    if summary["route"] != METHODS[row] or "logged in with the new key" not in summary["verified"]:
        raise RuntimeError(f"keyrescue --method {METHODS[row]}: route {summary['route']}, {summary['verified']}")
    return {"login": verify}
