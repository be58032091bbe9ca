"""The controller killed with SIGKILL right after each step is journaled (KEYRESCUE_TEST_KILL_AFTER,
a test hook of the engine); then `resume` finishes the rescue, or `rollback` restores the
instance — both checked by describing the cloud and by logging in."""
from __future__ import annotations

import signal

import pytest

from conftest import Rescuer, assert_restored, describe, launch, root_volume_of, ssh_ok, ssh_port

STEPS = ["snapshotted", "agentUploaded", "targetStopped", "rootDetached", "attachedToRescue", "reportReceived",
         "detachedFromRescue", "rootReturned", "targetRestored"]


def killed_run(ec2, rescuer, tmp_path, step: str):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none", KEYRESCUE_TEST_KILL_AFTER=step)
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert record["step"] == step and record["status"] == "in-progress"
    if step not in ("snapshotted", "agentUploaded"):
        tags = {t["Key"]: t["Value"] for t in describe(ec2, iid).get("Tags", [])}
        assert tags["keyrescue:run"] == run_id and tags["keyrescue:root-volume"] == root
    return iid, lost, new, root, run_id


@pytest.mark.parametrize("step", STEPS)
def test_resume_finishes_after_a_kill(ec2, cloud, rescuer, tmp_path, step):
    iid, _, new, root, run_id = killed_run(ec2, rescuer, tmp_path, step)
    status = rescuer.run("status", run_id)
    assert status.returncode == 0 and f"last step done: {step}" in status.stdout
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "done"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


@pytest.mark.parametrize("step", ["targetStopped", "attachedToRescue", "reportReceived", "rootReturned"])
def test_rollback_restores_after_a_kill(ec2, cloud, rescuer, tmp_path, step):
    iid, lost, _, root, run_id = killed_run(ec2, rescuer, tmp_path, step)
    out = rescuer.run("rollback", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "rolled-back"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)


def test_rollback_from_another_workstation_uses_the_tags(ec2, cloud, rescuer, tmp_path):
    iid, lost, _, root, run_id = killed_run(ec2, rescuer, tmp_path, "attachedToRescue")
    elsewhere = Rescuer(rescuer.cloud, tmp_path / "other-workstation")
    listed = elsewhere.run("runs")
    assert run_id in listed.stdout and "tags" in listed.stdout
    out = elsewhere.run("rollback", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)
    again = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "again"), "--yes", "--verify", "none")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_second_rescue_of_the_same_instance_is_refused(ec2, rescuer, tmp_path):
    iid, _, _, _, run_id = killed_run(ec2, rescuer, tmp_path, "targetStopped")
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "second"), "--yes", "--verify", "none")
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"keyrescue resume {run_id}" in out.stdout
    assert rescuer.run("rollback", run_id).returncode == 0
