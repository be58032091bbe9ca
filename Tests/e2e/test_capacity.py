"""StartInstances answered InsufficientInstanceCapacity when the target goes back up: retried with
backoff; when it persists, the run stops resumable — not rolled back, the key is written — with the
instance stopped and its root attached, and `resume` later finishes."""
from __future__ import annotations

import json
import urllib.request

from conftest import assert_restored, describe, launch, root_volume_of, ssh_ok, ssh_port


def capacity_fault(cloud: str, count: int) -> None:
    body = json.dumps({"action": "StartInstances", "kind": "capacity", "count": count}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", data=body, method="POST"))


def test_a_short_capacity_shortage_is_waited_out(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    capacity_fault(cloud, 2)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(f"no capacity to start {iid} yet") == 2
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), tmp_path / "new")


def test_a_lasting_shortage_leaves_the_run_resumable_with_the_root_attached(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    capacity_fault(cloud, 5)   # the first attempt and the four retries
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 6, out.stdout + out.stderr
    assert "InsufficientInstanceCapacity" in out.stderr and "keyrescue resume" in out.stderr
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert record["status"] == "needs-attention" and record["step"] == "rootReturned"
    assert "no capacity" in record["history"][-1]
    inst = describe(ec2, iid)
    assert inst["State"]["Name"] == "stopped"
    assert [m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"] if m["DeviceName"] == inst["RootDeviceName"]] == [root]
    assert {t["Key"]: t["Value"] for t in inst.get("Tags", [])}.get("keyrescue:run") == run_id

    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "done"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), tmp_path / "new")
