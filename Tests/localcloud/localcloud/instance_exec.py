"""Runs a shell script as root inside a running namespace instance, as the SSM Agent would.

The agent (a root service in the instance) writes each AWS-RunShellScript command to
/var/lib/amazon/ssm/INSTANCE/document/orchestration/COMMAND/awsrunShellScript/0.awsrunShellScript/_script.sh
and runs it with the image's /bin/sh in that directory unless workingDirectory says otherwise,
keeping stdout and stderr beside it. Here the cloud does the same from outside: the script
file is written through /proc/PID/root, and `nsenter` joins the instance's mount, UTS, PID and
network namespaces with its root and the capability bounding set the instance has.
"""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .namespace_guest import DROPPED_CAPS

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def orchestration_dir(instance_id: str, command_id: str) -> str:
    return (f"/var/lib/amazon/ssm/{instance_id}/document/orchestration/{command_id}"
            "/awsrunShellScript/0.awsrunShellScript")


@dataclass
class Running:
    proc: subprocess.Popen
    stdout: Path      # host paths of the files inside the instance
    stderr: Path

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def output(self) -> tuple[str, str]:
        return _read(self.stdout), _read(self.stderr)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def start_script(init_pid: int, instance_id: str, command_id: str, commands: list[str],
                 working_directory: str = "") -> Running:
    """Starts the commands (one script, as the agent joins them) in the instance; returns at once."""
    inside = orchestration_dir(instance_id, command_id)
    host_dir = Path(f"/proc/{init_pid}/root{inside}")
    host_dir.mkdir(parents=True, exist_ok=True)
    script = host_dir / "_script.sh"
    script.write_text("\n".join(commands) + "\n")
    script.chmod(0o700)
    out, err = host_dir / "stdout", host_dir / "stderr"
    workdir = working_directory or inside
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            ["nsenter", f"--target={init_pid}", "--mount", "--uts", "--pid", "--net", "--root", "--wd",
             "setpriv", "--bounding-set", DROPPED_CAPS, "/usr/bin/env", "-i", f"PATH={PATH}", "HOME=/root",
             "LANG=C.UTF-8", "/bin/sh", "-c", f"cd {_quote(workdir)} && exec /bin/sh {_quote(inside)}/_script.sh"],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
    return Running(proc, out, err)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"
