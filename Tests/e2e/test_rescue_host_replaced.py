"""`resume` after a long absence: a rescue host that is gone, or whose presigned URLs expired, is
replaced by a new one with fresh URLs (the root taken off the old one first), and the rescue ends
with the new key logging in. Time passing is simulated by moving the journal's expiry into the past."""
from __future__ import annotations

import json
import signal
import time
import urllib.request

import boto3

from conftest import assert_restored, describe, launch, root_volume_of, ssh_ok, ssh_port, wait_state


def journal_path(rescuer, run_id: str):
    return rescuer.state / "keyrescue" / "runs" / f"{run_id}.json"


def expire_urls(rescuer, run_id: str) -> None:
    path = journal_path(rescuer, run_id)
    record = json.loads(path.read_text())
    assert record["rescueHostValidUntil"], "the journal records when the rescue host's URLs expire"
    record["rescueHostValidUntil"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(record))


def killed_after(ec2, rescuer, tmp_path, step: str):
    iid, _ = launch(ec2, tmp_path)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none", KEYRESCUE_TEST_KILL_AFTER=step)
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    return iid, new, root_volume_of(ec2, iid), run_id


def finish_and_check(ec2, cloud, rescuer, iid, new, root, run_id, old_host) -> None:
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"the rescue host {old_host} cannot do its job" in out.stdout + out.stderr
    record = rescuer.record(run_id)
    assert record["status"] == "done"
    assert record["rescueInstanceID"] != old_host and record["retiredRescueInstanceIDs"] == [old_host]
    assert describe(ec2, old_host)["State"]["Name"] in ("shutting-down", "terminated")
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


def test_a_terminated_rescue_host_is_replaced(ec2, cloud, rescuer, tmp_path):
    iid, new, root, run_id = killed_after(ec2, rescuer, tmp_path, "targetStopped")
    old_host = rescuer.record(run_id)["rescueInstanceID"]
    ec2.terminate_instances(InstanceIds=[old_host])
    wait_state(ec2, old_host, "terminated")
    finish_and_check(ec2, cloud, rescuer, iid, new, root, run_id, old_host)


def test_a_rescue_host_with_expired_urls_is_replaced_before_the_attach(ec2, cloud, rescuer, tmp_path):
    iid, new, root, run_id = killed_after(ec2, rescuer, tmp_path, "targetStopped")
    old_host = rescuer.record(run_id)["rescueInstanceID"]
    expire_urls(rescuer, run_id)
    finish_and_check(ec2, cloud, rescuer, iid, new, root, run_id, old_host)


def test_a_rescue_host_whose_agent_download_failed_is_replaced(ec2, cloud, rescuer, tmp_path):
    """What expired URLs do to a host that had not fetched the agent yet: its download fails and it
    reports that failure. resume launches a new host with fresh URLs, and the old host's report is
    not taken for the new one's."""
    faults = f"{cloud}/_localcloud/faults"
    fault = json.dumps({"action": "GetObject", "kind": "500", "count": 1000}).encode()
    urllib.request.urlopen(urllib.request.Request(faults, data=fault, method="POST"))
    try:
        iid, new, root, run_id = killed_after(ec2, rescuer, tmp_path, "targetStopped")
        record = rescuer.record(run_id)
        old_host = record["rescueInstanceID"]
        bucket, key = record["plan"]["delivery"]["bucket"], record["plan"]["delivery"]["prefix"] + "report.json"
        s3 = boto3.client("s3", endpoint_url=cloud, region_name="us-east-1",
                          aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
        deadline = time.monotonic() + 180
        while True:   # HeadObject, not GetObject: that one is failing
            try:
                s3.head_object(Bucket=bucket, Key=key)
                break
            except s3.exceptions.ClientError:
                assert time.monotonic() < deadline, "the first host never reported its failed download"
                time.sleep(1)
    finally:
        urllib.request.urlopen(urllib.request.Request(faults, method="DELETE"))
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["ok"] is False and report["error"]["code"] == "agentDownloadFailed"
    expire_urls(rescuer, run_id)
    finish_and_check(ec2, cloud, rescuer, iid, new, root, run_id, old_host)
