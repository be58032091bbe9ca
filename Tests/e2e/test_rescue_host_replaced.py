"""`resume` after a long absence: a rescue host that is gone, or whose presigned URLs expired, is
replaced by a new one with fresh URLs (the root taken off the old one first), and the rescue ends
with the new key logging in. Time passing is simulated by moving the journal's expiry into the past."""
from __future__ import annotations

import json
import signal
import urllib.request

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


def test_s3_failing_before_the_rescue_host_is_ready_leaves_the_target_never_stopped(ec2, cloud, rescuer, tmp_path):
    """S3 answering 500 to every GetObject: the rescue host cannot fetch the agent, and the controller
    cannot read its `ready` object. Since issue 12 (ready before the stop) this ends the run before
    the target is stopped, rather than costing a stop and a replacement host after it."""
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    def states():
        return [t["state"] for t in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
                if t["instance_id"] == iid]
    before = states()
    faults = f"{cloud}/_localcloud/faults"
    fault = json.dumps({"action": "GetObject", "kind": "500", "count": 1000}).encode()
    urllib.request.urlopen(urllib.request.Request(faults, data=fault, method="POST"))
    try:
        out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    finally:
        urllib.request.urlopen(urllib.request.Request(faults, method="DELETE"))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "never stopped" in out.stderr
    assert states() == before, "the target must never change state"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)
