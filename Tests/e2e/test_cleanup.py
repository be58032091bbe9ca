"""`keyrescue cleanup`: leftovers of runs no longer in progress go (S3 objects under keyrescue/RUN/,
rescue hosts, security groups); those of a run in progress, and anything not ours, stay."""
from __future__ import annotations

import fcntl
import signal

import boto3

from conftest import describe, launch


def test_cleanup_removes_old_runs_objects_and_keeps_an_active_runs(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none",
                      KEYRESCUE_TEST_KILL_AFTER="targetStopped")
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [active] = rescuer.run_ids()
    record = rescuer.record(active)
    bucket = record["plan"]["delivery"]["bucket"]
    s3 = boto3.client("s3", endpoint_url=cloud, region_name="us-east-1",
                      aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
    for key in ("keyrescue/kr-19990101T000000-dead/keyrescue-agent", "keyrescue/kr-19990101T000000-dead/report.json",
                "not-keyrescue/keep-me"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")

    out = rescuer.run("cleanup", "--older-than", "0m")
    assert out.returncode == 0, out.stdout + out.stderr
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert not {k for k in keys if k.startswith("keyrescue/kr-19990101T000000-dead/")}, keys
    agent_key = f"keyrescue/agents/{record['plan']['delivery']['agentSHA256']}.xz"
    assert agent_key in keys, "the shared agent (the run in progress needs it) stays"
    assert "not-keyrescue/keep-me" in keys
    assert describe(ec2, record["rescueInstanceID"])["State"]["Name"] in ("pending", "running"), \
        "the run in progress keeps its rescue host"
    assert "deleted s3://" in out.stdout

    # Another keyrescue holding the run's lock: resume says so and what to do, exit 6.
    with open(rescuer.state / "keyrescue" / "locks" / f"{active}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.truncate(0)
        lock.write("4242\n")
        lock.flush()
        busy = rescuer.run("resume", active)
    assert busy.returncode == 6, busy.stdout + busy.stderr
    assert "another keyrescue" in busy.stderr and "wait for it" in busy.stderr, busy.stderr

    assert rescuer.run("rollback", active).returncode == 0
