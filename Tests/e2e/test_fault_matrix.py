"""The controller killed with SIGKILL right after each step is journaled (KEYRESCUE_TEST_KILL_AFTER,
a test hook of the engine) and in the middle of each wait; then `resume` finishes the rescue, or
`rollback` restores the instance — both checked by describing the cloud and by logging in."""
from __future__ import annotations

import json
import signal
import subprocess

import pytest

from conftest import KEYRESCUE, Rescuer, assert_restored, describe, launch, root_volume_of, ssh_ok, ssh_port

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


# In the middle of each wait: the controller is killed as soon as it reports its first poll of the
# step's transition (the `waiting` JSON event), so the step's change was made but not journaled.
WAITS = ["targetStopped", "rootDetached", "attachedToRescue", "reportReceived", "detachedFromRescue",
         "rootReturned", "targetRestored"]


def killed_mid_wait(ec2, rescuer, tmp_path, step: str):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    cmd = [str(KEYRESCUE), "reset", iid, "--generate-key", str(new), "--yes", "--verify", "none", "--json",
           "--endpoint-url", rescuer.cloud, "--region", "us-east-1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=rescuer.env())
    current, seen = None, []
    for line in proc.stdout:
        event = json.loads(line)
        seen.append(event)
        if event["event"] == "step-started":
            current = event["step"]
        elif event["event"] == "waiting" and current == step:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"never saw a wait in {step}: {seen[-5:]} {proc.stderr.read()}"
    [run_id] = rescuer.run_ids()
    record = rescuer.record(run_id)
    assert record["step"] != step and record["status"] == "in-progress", "the killed step must not be journaled as done"
    return iid, lost, new, root, run_id


def killed(ec2, rescuer, tmp_path, step: str, when: str):
    return killed_run(ec2, rescuer, tmp_path, step) if when == "after" else killed_mid_wait(ec2, rescuer, tmp_path, step)


# Which kills are tried here. Tests/RescueControllerTests/Engine/EngineCrashTests crash the engine
# at every checkpoint (each step boundary, after each cloud change before its journal line, in every
# wait) and resume or roll back, in memory and in seconds. What only this file proves is the wiring:
# a real SIGKILL through the test hook, the --json wait events, the journal and tags on disk and in
# the cloud, and the local cloud's timing. So one kill per phase of a rescue is enough for each.
# A kill while waiting for the target to stop comes after the rescue host's launch (and readiness):
# resume describes that host rather than sending RunInstances again (issue 12).
RESUME_CASES = [("agentUploaded", "after"), ("rootDetached", "after"), ("reportReceived", "after"),
                ("targetRestored", "after"), ("targetStopped", "mid-wait"), ("attachedToRescue", "mid-wait"),
                ("reportReceived", "mid-wait"), ("rootReturned", "mid-wait")]
ROLLBACK_CASES = [("snapshotted", "after"), ("targetStopped", "after"), ("attachedToRescue", "after"),
                  ("detachedFromRescue", "after"), ("rootDetached", "mid-wait"), ("reportReceived", "mid-wait"),
                  ("targetRestored", "mid-wait")]
assert {s for s, _ in RESUME_CASES + ROLLBACK_CASES} <= set(STEPS)
assert {s for s, w in RESUME_CASES + ROLLBACK_CASES if w == "mid-wait"} <= set(WAITS)


@pytest.mark.parametrize("step,when", RESUME_CASES)
def test_resume_finishes_after_a_kill(ec2, cloud, rescuer, tmp_path, step, when):
    iid, _, new, root, run_id = killed(ec2, rescuer, tmp_path, step, when)
    if when == "after":
        status = rescuer.run("status", run_id)
        assert status.returncode == 0 and f"last step done: {step}" in status.stdout
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "done"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


@pytest.mark.parametrize("step,when", ROLLBACK_CASES)
def test_rollback_restores_after_a_kill(ec2, cloud, rescuer, tmp_path, step, when):
    iid, lost, _, root, run_id = killed(ec2, rescuer, tmp_path, step, when)
    out = rescuer.run("rollback", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert rescuer.record(run_id)["status"] == "rolled-back"
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)
