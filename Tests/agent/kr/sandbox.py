"""A throwaway sandbox for running the agent on hostile disks.

The agent runs chrooted in a private mount namespace whose / is an overlay over the machine's /
(upper layer on a tmpfs), with /dev, /proc, /sys and the test's own directories bound through. A
write outside those directories lands in the overlay's upper layer, which we list before and after
the run, and dies with the namespace: a bug cannot damage the machine, and the test sees what the
agent wrote where it should not have. Mounts the agent leaves in the namespace are listed too.
"""
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

from .agent import Result

SCRIPT = r'''
set -eu
T=$KR_SANDBOX
mount -t tmpfs -o mode=700 kr-proof-sandbox "$T"
mkdir "$T/upper" "$T/work" "$T/root"
mount -t overlay kr-proof-overlay -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/root"
mount --rbind /dev "$T/root/dev"
mount -t proc proc "$T/root/proc"
mount --rbind /sys "$T/root/sys"
for d in $KR_BINDS; do
    mkdir -p "$T/root$d"
    mount --bind "$d" "$T/root$d"
done
list_upper() { (cd "$T/upper" && find . -mindepth 1 -printf '%y %m %U %G %s %T@ %P\n' | sort); }
list_upper >"$KR_OUT/upper-before"
cat /proc/self/mountinfo >"$KR_OUT/mounts-before"
set +e
# A hung agent gets SIGTERM (exit 124), as `kill` would; its cleanup is then judged like any run.
timeout --kill-after=10 "$KR_TIMEOUT" chroot "$T/root" "$@" >"$KR_OUT/stdout" 2>"$KR_OUT/stderr"
echo $? >"$KR_OUT/rc"
set -e
cat /proc/self/mountinfo >"$KR_OUT/mounts-after"
list_upper >"$KR_OUT/upper-after"
'''


@dataclass
class SandboxRun:
    result: Result
    writes_outside: list  # upper-layer entries the agent made or changed, outside the bound dirs
    leaked_mounts: list  # mounts the agent left in its namespace

    def __str__(self):
        return (f"{self.result}\n--- written outside the image\n" + "\n".join(self.writes_outside)
                + "\n--- mounts left behind\n" + "\n".join(self.leaked_mounts))


def parse_listing(text):
    entries = {}
    for line in text.splitlines():
        kind, mode, uid, gid, size, mtime, path = line.split(" ", 6)
        entries[path] = (kind, mode, uid, gid, size, mtime)
    return entries


# The agent's workspace for its temporary mount points; it may stay, empty (the mount points inside
# it must be gone: any entry under it is reported).
EXPECTED_DIRS = {"run/keyrescue-agent"}


def existed_before(path, started):
    """True when /path is a directory on the machine that was born before the run started (a copy-up
    artifact: a temporary child came and went). Birth time 0 means unknown: an old directory."""
    if not os.path.isdir("/" + path):
        return False
    born = subprocess.run(["stat", "-c", "%W", "/" + path], capture_output=True, text=True).stdout
    return int(born.strip() or 0) < started


def writes_outside(before, after, started):
    """Upper-layer entries that appeared or changed during the run, except directories that were
    only copied up (they existed before and kept their type and mode) and EXPECTED_DIRS."""
    changed = []
    for path, entry in sorted(after.items()):
        if before.get(path) == entry:
            continue
        old = before.get(path)
        if entry[0] == "d" and (path in EXPECTED_DIRS or existed_before(path, started)) \
                and (old is None or old[:5] == entry[:5]):
            continue
        changed.append(f"{entry[0]} {entry[1]} uid={entry[2]} size={entry[4]} /{path}")
    changed += [f"removed from upper: /{p}" for p in sorted(before.keys() - after.keys())]
    return changed


HUNG = 124  # the exit code of `timeout` when it had to stop the agent


def run_sandboxed(agent, args, binds, scratch, timeout=30, prefix=()):
    """Runs `agent args…` in the sandbox; `binds` are host directories the agent may write through;
    `prefix` goes before the agent (e.g. /usr/bin/time, to measure its peak RSS)."""
    out = tempfile.mkdtemp(prefix="sandbox-out-", dir=scratch)
    mountpoint = tempfile.mkdtemp(prefix="sandbox-", dir=scratch)
    agent_dir = os.path.dirname(os.path.abspath(agent))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KR_SANDBOX": mountpoint, "KR_OUT": out, "KR_TIMEOUT": str(timeout),
           "KR_BINDS": " ".join(sorted({*binds, agent_dir, out}))}
    env.update({k: v for k, v in os.environ.items() if k.startswith("KEYRESCUE_")})
    argv = list(prefix) + [os.path.abspath(agent)] + [str(a) for a in args]
    started = int(time.time())
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", SCRIPT,
                           "sandbox"] + argv, env=env, capture_output=True, text=True, timeout=timeout + 60)
    os.rmdir(mountpoint)
    if proc.returncode != 0 or not os.path.exists(f"{out}/rc"):
        raise RuntimeError(f"the sandbox itself failed ({proc.returncode}): {proc.stderr}")

    def read(name):
        with open(f"{out}/{name}") as f:
            return f.read()

    result = Result(argv, int(read("rc")), read("stdout"), read("stderr"))
    mounts_before = set(read("mounts-before").splitlines())
    leaked = [l for l in read("mounts-after").splitlines() if l not in mounts_before]
    return SandboxRun(result, writes_outside(parse_listing(read("upper-before")),
                                             parse_listing(read("upper-after")), started), leaked)
