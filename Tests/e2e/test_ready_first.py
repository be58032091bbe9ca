"""Issue 12 on the local cloud: the rescue host proves ready before the target is stopped (a host
that cannot launch leaves the target never stopped), a kill after the stop was requested resumes
without re-sending RunInstances, and a detach stuck `busy` on the rescue host is recovered. (A limit
at the final start: test_capacity.py.)"""
from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

from conftest import KEYRESCUE, assert_restored, launch, root_volume_of, ssh_ok, ssh_port


def fault(cloud: str, **spec) -> None:
    body = json.dumps(spec).encode()
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", data=body, method="POST"))


def get(cloud: str, what: str) -> list:
    return json.load(urllib.request.urlopen(f"{cloud}/_localcloud/{what}"))


def states_of(cloud: str, iid: str) -> list[str]:
    return [t["state"] for t in get(cloud, "transitions") if t["instance_id"] == iid]


def test_a_rescue_host_that_cannot_launch_leaves_the_target_never_stopped(ec2, cloud, rescuer, tmp_path):
    iid, lost = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    before = states_of(cloud, iid)
    fault(cloud, action="RunInstances", kind="instance-limit", count=1)
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "new"), "--yes", "--verify", "none")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "InstanceLimitExceeded" in out.stderr and "never stopped" in out.stderr
    assert states_of(cloud, iid) == before, "the target must never change state"
    [run_id] = rescuer.run_ids()
    assert rescuer.record(run_id)["status"] == "rolled-back"
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"keyrescue-{run_id}"]}])
    assert groups["SecurityGroups"] == []
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), lost)


def test_a_kill_after_the_stop_was_requested_resumes_without_a_second_launch(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    cmd = [str(KEYRESCUE), "reset", iid, "--generate-key", str(new), "--yes", "--verify", "none", "--json",
           "--endpoint-url", rescuer.cloud, "--region", "us-east-1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=rescuer.env())
    seen = []
    for line in proc.stdout:
        event = json.loads(line)
        seen.append(event)
        # The ready wait observes the rescue host; the stop's wait observes the target.
        if event["event"] == "waiting" and event["step"] == "targetStopped" and event["observed"].startswith(iid):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"never saw the stop's wait: {seen[-5:]} {proc.stderr.read()}"
    [run_id] = rescuer.run_ids()
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    calls = get(cloud, "calls")
    assert not [c for c in calls if c["error_code"] == "IdempotentParameterMismatch"]
    launches = [c for c in calls if c["action"] == "RunInstances" and not c["dry_run"] and c["client_token"] == run_id]
    assert len(launches) == 1
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)


def test_a_detach_stuck_busy_on_the_rescue_host_is_recovered(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none",
                      KEYRESCUE_TEST_KILL_AFTER="reportReceived")
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    host = rescuer.record(run_id)["rescueInstanceID"]
    fault(cloud, action="DetachVolume", kind="busy", volume_id=root)
    out = rescuer.run("resume", run_id)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"stuck detaching from the rescue host {host}: terminating the host" in out.stdout + out.stderr
    assert "force" not in (out.stdout + out.stderr).lower()
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)
