"""Whole rescues: the demo's path with an ssh login, XFS, --replace-keys, --dry-run, refusals,
the agent failing, throttling and 503 on every action."""
from __future__ import annotations

import json
import os
import subprocess
import urllib.request

from conftest import (KEYRESCUE, assert_restored, describe, image, launch, root_volume_of, ssh_ok, ssh_port)


def test_generate_key_rescue_logs_in_with_host_key_checking(ec2, cloud, rescuer, tmp_path):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    port = ssh_port(cloud, iid)
    new = tmp_path / "new_key"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "ssh",
                      "--ssh-option=-oHostName=127.0.0.1", f"--ssh-option=-oPort={port}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "logged in with the new key (host key checked)" in out.stdout
    assert "user:        admin" in out.stdout
    assert (new.stat().st_mode & 0o777) == 0o600
    assert_restored(ec2, iid, root)
    assert ssh_ok(port, new)
    assert ssh_ok(port, lost), "without --replace-keys the old key stays"
    run = rescuer.record(rescuer.run_ids()[0])
    assert run["status"] == "done" and run["snapshotID"].startswith("snap-")
    assert ec2.describe_snapshots(SnapshotIds=[run["snapshotID"]])["Snapshots"]


def test_a_xen_rescue_host_finds_the_volume_by_its_device_name(ec2, cloud, rescuer, tmp_path):
    """t2 is Xen: no NVMe serial, the volume shows up as /dev/xvdf for the /dev/sdf that was asked
    for; the agent must be told that name. The report says how long each of its phases took."""
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--instance-type", "t2.micro", "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)
    report = rescuer.record(rescuer.run_ids()[0])["report"]
    assert report["device"] in ("/dev/sdf", "/dev/xvdf"), report["device"]   # no NVMe serial to go by
    phases = [d["phase"] for d in report["durations"]]
    assert phases == ["wait for the volume", "open and mount", "inspect and write", "unmount"], phases
    assert all(d["seconds"] >= 0 for d in report["durations"])


def test_xfs_target_with_replace_keys(ec2, cloud, rescuer, tmp_path):
    iid, lost = launch(ec2, tmp_path, "debian-12-amd64-xfs-*")
    root = root_volume_of(ec2, iid)
    new = tmp_path / "mine"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(new)], check=True)
    out = rescuer.run("reset", iid, "--public-key", f"{new}.pub", "--replace-keys", "--yes", "--verify", "none", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    summary = [e for e in events if e["event"] == "summary"][0]
    assert summary["user"] == "admin" and summary["keyFingerprint"].startswith("SHA256:")
    assert any(e["event"] == "step-finished" and e["step"] == "reportReceived" for e in events)
    assert_restored(ec2, iid, root)
    port = ssh_port(cloud, iid)
    assert ssh_ok(port, new)
    assert not ssh_ok(port, lost, timeout=5), "--replace-keys removes the old key"


def state_of_cloud(ec2) -> dict:
    return {
        "instances": sorted((i["InstanceId"], i["State"]["Name"], json.dumps(i.get("Tags", []), sort_keys=True))
                            for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]),
        "volumes": sorted((v["VolumeId"], v["State"], json.dumps(v.get("Attachments", []), default=str, sort_keys=True))
                          for v in ec2.describe_volumes()["Volumes"]),
        "snapshots": sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]),
        "groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
    }


def test_dry_run_changes_nothing(ec2, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    before = state_of_cloud(ec2)
    out = rescuer.run("plan", iid, "--public-key", f"{key}.pub")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "dry run: the rescue could go ahead" in out.stdout
    assert "plan for " + iid in out.stdout
    assert state_of_cloud(ec2) == before
    assert rescuer.run_ids() == []


def test_warnings_need_yes_without_a_terminal(ec2, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)  # a public IP without an Elastic IP: a warning
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    before = state_of_cloud(ec2)
    out = rescuer.run("reset", iid, "--public-key", f"{key}.pub")
    assert out.returncode == 4, out.stdout + out.stderr
    assert "pass --yes" in out.stderr
    assert state_of_cloud(ec2) == before


def test_refusals_say_what_to_do(ec2, rescuer, tmp_path):
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    missing = rescuer.run("reset", "i-0123456789abcdef0", "--public-key", f"{key}.pub", "--yes")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "not found in region us-east-1" in missing.stderr and "--region" in missing.stderr
    for pattern, words in (("windows-server-2022-*", "runs Windows"), ("debian-12-amd64-instance-store-*", "instance-store root")):
        iid = ec2.run_instances(ImageId=image(ec2, pattern), InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        out = rescuer.run("reset", iid, "--public-key", f"{key}.pub", "--yes")
        assert out.returncode == 3, out.stdout + out.stderr
        assert words in out.stdout and "refused" in out.stderr
    private = rescuer.run("reset", "i-0123456789abcdef0", "--public-key", str(key), "--yes")
    assert private.returncode == 2 and "private key" in private.stderr


def test_no_credentials_anywhere_is_bad_input_before_any_call(tmp_path):
    """No environment keys, no ~/.aws, and an instance metadata service that does not answer:
    exit 2 at once, saying where keyrescue looked and what to run."""
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), AWS_REGION="us-east-1",
               AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9")
    for command in (["plan", "i-0123456789abcdef0", "--public-key", f"{key}.pub"], ["rollback", "kr-20260101T000000-1"],
                    ["cleanup"]):
        out = subprocess.run([str(KEYRESCUE), *command], capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 2, f"{command[0]}: exit {out.returncode}\n{out.stdout}{out.stderr}"
        assert "no usable AWS credentials" in out.stderr and "aws configure" in out.stderr and "aws sso login" in out.stderr
        assert "127.0.0.1:9" in out.stderr, "the message says where it looked"
    assert not (tmp_path / "state").exists(), "nothing was started"


def test_agent_failure_rolls_back_and_gives_the_agents_reason(ec2, cloud, rescuer, tmp_path):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--user", "nosuchuser", "--yes", "--verify", "none")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "user nosuchuser is not in the target's /etc/passwd" in out.stderr
    assert "rolled back" in out.stderr
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)


# Every action a rescue calls (the local cloud's names; S3 by operation).
RESCUE_ACTIONS = [
    "GetCallerIdentity", "DescribeInstances", "DescribeVolumes", "DescribeInstanceAttribute", "DescribeAddresses",
    "DescribeRouteTables", "GetParameter", "DescribeInstanceTypeOfferings", "CreateSnapshot", "DescribeSnapshots",
    "CreateBucket", "PutPublicAccessBlock", "PutBucketLifecycleConfiguration", "HeadObject", "PutObject", "CreateTags",
    "StopInstances", "DescribeSecurityGroups", "CreateSecurityGroup", "RunInstances", "DetachVolume", "AttachVolume",
    "GetObject", "ModifyInstanceAttribute", "StartInstances", "TerminateInstances", "DeleteObject",
    "DeleteSecurityGroup", "DeleteTags",
]
# A 503 may hide a call that ran: these have no client token and are not sent again after one.
NOT_RETRIED_AFTER_503 = {"CreateSnapshot", "CreateSecurityGroup"}


def add_fault(cloud: str, spec: dict) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", method="POST", data=json.dumps(spec).encode()))


def test_throttling_and_503_on_every_action_are_retried(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    for action in RESCUE_ACTIONS:
        add_fault(cloud, {"action": action, "kind": "throttle", "count": 1})
        if action not in NOT_RETRIED_AFTER_503:
            add_fault(cloud, {"action": action, "kind": "503", "count": 1})
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none")
    faults = json.load(urllib.request.urlopen(f"{cloud}/_localcloud/faults"))
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", method="DELETE"))
    assert out.returncode == 0, out.stdout + out.stderr
    fired = {f["action"] for f in faults if f["fired"]}
    assert fired >= set(RESCUE_ACTIONS) - {"DescribeAddresses", "DeleteObject"}, sorted(set(RESCUE_ACTIONS) - fired)
    assert_restored(ec2, iid, root)
