"""The sandbox itself: it must see a write outside, ignore writes to the bound directories and the
traces of a temporary directory that came and went, and keep the machine untouched."""
import os

from conftest import needs_root
from kr.sandbox import run_sandboxed

pytestmark = needs_root


def test_sandbox_sees_and_contains_a_write_outside(scratch):
    canary = f"/etc/kr-proof-canary-{os.getpid()}"
    run = run_sandboxed("/bin/sh", ["-c", f"echo owned >{canary}; echo ok"], [scratch], scratch)
    assert run.result.rc == 0 and run.result.stdout == "ok\n", str(run)
    assert any(canary in w for w in run.writes_outside), str(run)
    assert not os.path.exists(canary)


def test_sandbox_passes_bound_writes_and_transient_dirs(scratch):
    script = f"mkdir /tmp/kr-proof-t && rmdir /tmp/kr-proof-t && echo hi >{scratch}/through"
    run = run_sandboxed("/bin/sh", ["-c", script], [scratch], scratch)
    assert run.result.rc == 0, str(run)
    assert run.writes_outside == [] and run.leaked_mounts == [], str(run)
    with open(f"{scratch}/through") as f:
        assert f.read() == "hi\n"


def test_sandbox_sees_a_mount_left_behind(scratch):
    run = run_sandboxed("/bin/sh", ["-c", "mount -t tmpfs kr-proof-left /mnt"], [scratch], scratch)
    assert any("kr-proof-left" in m for m in run.leaked_mounts), str(run)


def test_sandbox_reports_a_directory_left_behind(scratch):
    run = run_sandboxed("/bin/sh", ["-c", "mkdir /var/tmp/kr-proof-left-dir"], [scratch], scratch)
    assert any("/var/tmp/kr-proof-left-dir" in w for w in run.writes_outside), str(run)
    assert not os.path.exists("/var/tmp/kr-proof-left-dir")
