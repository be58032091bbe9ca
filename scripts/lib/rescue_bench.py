"""scripts/bench rescue: keyrescue beside the guides' sequential AWS CLI procedure.

    python3 scripts/lib/rescue_bench.py ENDPOINT ROUNDS      (scripts/bench.d/rescue starts the cloud)

Each round launches two Debian targets whose key is lost, rescues one with `keyrescue reset` and
the other with the procedure of the step-by-step guides (snapshot and wait, launch a helper and
wait, stop and wait, detach, attach, inject over SSH, detach, attach, start and wait), each with
its own access key so the cloud's call log tells their calls apart. Both must end with the new
key logging in (checked after the clock stops). Downtime comes from the cloud's transition log:
the target's `stopping` to its next `running`.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ENDPOINT, ROUNDS = sys.argv[1], int(sys.argv[2])
KEYRESCUE = os.environ["KEYRESCUE_BIN"]
AGENT = os.environ["KEYRESCUE_AGENT"]
REGION = "us-east-1"
DEBIAN_OWNER = "136693071363"
KEYS = {"setup": "AKIDBENCHSETUP", "keyrescue": "AKIDBENCHKEYRESCUE", "cli": "AKIDBENCHAWSCLI"}
HELPER_USER_DATA = (  # the images have no sudo: the guides' `sudo` becomes a root login with the same key
    "#!/bin/sh\nmkdir -p /root/.ssh && cp /home/ec2-user/.ssh/authorized_keys /root/.ssh/ "
    "&& chmod 600 /root/.ssh/authorized_keys\n")


def control(what: str):
    return json.load(urllib.request.urlopen(f"{ENDPOINT}/_localcloud/{what}"))


def env(who: str) -> dict:
    e = dict(os.environ, AWS_ACCESS_KEY_ID=KEYS[who], AWS_SECRET_ACCESS_KEY="bench-secret",
             AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="10")
    e.pop("AWS_PROFILE", None)
    return e


def aws(who: str, *args: str, service: str = "ec2") -> dict:
    """One AWS CLI invocation, as a person following a guide would type it."""
    out = subprocess.run(["aws", "--endpoint-url", ENDPOINT, "--output", "json", service, *args],
                         capture_output=True, text=True, env=env(who))
    if out.returncode != 0:
        raise RuntimeError(f"aws {service} {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else {}


def ssh_endpoint(iid: str, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in control("instances"):
            if r["instance_id"] == iid and r.get("ssh"):
                return int(r["ssh"][1])
        time.sleep(0.5)
    raise RuntimeError(f"no ssh endpoint for {iid}")


def ssh(port: int, key: Path, user: str, command: str, stdin: str = "", attempts: int = 60) -> subprocess.CompletedProcess:
    for _ in range(attempts):   # sshd may still be starting
        out = subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes",
                              "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                              "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", f"{user}@127.0.0.1", command],
                             input=stdin, capture_output=True, text=True, timeout=120)
        if out.returncode != 255:
            return out
        time.sleep(1)
    return out


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def launch_targets(work: Path, count: int) -> list[str]:
    lost = keygen(work / "lost")
    aws("setup", "import-key-pair", "--key-name", f"lost-{work.name}",
        "--public-key-material", f"fileb://{lost}.pub")
    image = aws("setup", "describe-images", "--owners", DEBIAN_OWNER,
                "--filters", "Name=name,Values=debian-12-amd64-2*")["Images"][0]["ImageId"]
    ids = [i["InstanceId"] for i in aws("setup", "run-instances", "--image-id", image, "--instance-type", "t3.micro",
                                        "--key-name", f"lost-{work.name}", "--count", str(count))["Instances"]]
    aws("setup", "wait", "instance-running", "--instance-ids", *ids)
    for iid in ids:
        ssh_endpoint(iid)   # booted: sshd is up, as a real target would be before its key is lost
    return ids


def sequential_cli(iid: str, new_pub: Path, work: Path) -> str:
    """The guides' procedure. Returns the helper's id (terminated by the caller, off the clock)."""
    helper_key = keygen(work / "helper")
    aws("cli", "import-key-pair", "--key-name", f"helper-{work.name}", "--public-key-material", f"fileb://{helper_key}.pub")
    inst = aws("cli", "describe-instances", "--instance-ids", iid)["Reservations"][0]["Instances"][0]
    root_dev = inst["RootDeviceName"]
    volume = next(m["Ebs"]["VolumeId"] for m in inst["BlockDeviceMappings"] if m["DeviceName"] == root_dev)
    snap = aws("cli", "create-snapshot", "--volume-id", volume, "--description", "before key reset")["SnapshotId"]
    aws("cli", "wait", "snapshot-completed", "--snapshot-ids", snap)
    al2023 = aws("cli", "get-parameter", "--name", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                 service="ssm")["Parameter"]["Value"]
    helper = aws("cli", "run-instances", "--image-id", al2023, "--instance-type", "t3.micro",
                 "--key-name", f"helper-{work.name}", "--subnet-id", inst["SubnetId"],
                 "--user-data", HELPER_USER_DATA)["Instances"][0]["InstanceId"]
    aws("cli", "wait", "instance-running", "--instance-ids", helper)
    aws("cli", "stop-instances", "--instance-ids", iid)
    aws("cli", "wait", "instance-stopped", "--instance-ids", iid)
    aws("cli", "detach-volume", "--volume-id", volume)
    aws("cli", "wait", "volume-available", "--volume-ids", volume)
    aws("cli", "attach-volume", "--volume-id", volume, "--instance-id", helper, "--device", "/dev/sdf")
    aws("cli", "wait", "volume-in-use", "--volume-ids", volume)
    port = ssh_endpoint(helper)
    out = ssh(port, helper_key, "root",
              "until [ -e /dev/sdf1 ]; do sleep 0.2; done; mkdir -p /rescue && mount /dev/sdf1 /rescue "
              "&& cat >> /rescue/home/admin/.ssh/authorized_keys && umount /rescue", stdin=new_pub.read_text())
    if out.returncode != 0:
        raise RuntimeError(f"inject over ssh: {out.stderr.strip()}")
    aws("cli", "detach-volume", "--volume-id", volume)
    aws("cli", "wait", "volume-available", "--volume-ids", volume)
    aws("cli", "attach-volume", "--volume-id", volume, "--instance-id", iid, "--device", root_dev)
    aws("cli", "wait", "volume-in-use", "--volume-ids", volume)
    aws("cli", "start-instances", "--instance-ids", iid)
    aws("cli", "wait", "instance-running", "--instance-ids", iid)
    return helper


def with_keyrescue(iid: str, new_pub: Path, work: Path) -> None:
    out = subprocess.run([KEYRESCUE, "reset", iid, "--public-key", str(new_pub), "--yes", "--verify", "none",
                          "--endpoint-url", ENDPOINT, "--region", REGION], capture_output=True, text=True,
                         env=dict(env("keyrescue"), XDG_STATE_HOME=str(work / "state"), KEYRESCUE_AGENT=AGENT))
    if out.returncode != 0:
        raise RuntimeError(f"keyrescue exited {out.returncode}: {out.stderr[-2000:]}")


def downtime(iid: str, since: float) -> float:
    log = [t for t in control("transitions") if t["instance_id"] == iid and t["time"] >= since]
    down = next(t["time"] for t in log if t["state"] == "stopping")
    up = next(t["time"] for t in log if t["state"] == "running" and t["time"] > down)
    return up - down


def calls_of(who: str, since: float) -> list[dict]:
    return [c for c in control("calls") if c.get("access_key_id") == KEYS[who] and c["time"] >= since]


def agent_seconds(work: Path) -> float:
    """The agent's own time once the volume was there (its report's phase durations)."""
    [journal] = (work / "state" / "keyrescue" / "runs").glob("*.json")
    durations = json.loads(journal.read_text())["report"]["durations"]
    return sum(d["seconds"] for d in durations if d["phase"] != "wait for the volume")


def one_round(n: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"kr-bench-rescue-{n}-", dir="/var/tmp"))
    new = keygen(work / "new")
    new_pub = Path(f"{new}.pub")
    target_kr, target_cli = launch_targets(work, 2)
    row: dict = {}
    for name, iid, procedure in (("keyrescue", target_kr, with_keyrescue), ("cli", target_cli, sequential_cli)):
        print(f"  round {n}: {name} on {iid}", file=sys.stderr, flush=True)
        since = time.time()
        t0 = time.monotonic()
        helper = procedure(iid, new_pub, work)
        total = time.monotonic() - t0
        calls = calls_of(name, since)
        row[name] = {"total": total, "downtime": downtime(iid, since), "calls": len(calls),
                     "ec2_calls": sum(c["service"] == "ec2" for c in calls),
                     "throttled": sum(bool(c.get("throttled")) or c.get("status") == 503 for c in calls)}
        if name == "keyrescue":
            row[name]["agent"] = agent_seconds(work)
        if helper:
            aws("setup", "terminate-instances", "--instance-ids", helper)
        if ssh(ssh_endpoint(iid), new, "admin", "true").returncode != 0:
            raise RuntimeError(f"{name}: the new key does not log in to {iid}")
        print(f"    {name}: total {total:.1f} s, downtime {row[name]['downtime']:.1f} s, {len(calls)} calls, "
              f"{row[name]['throttled']} throttled", file=sys.stderr, flush=True)
    aws("setup", "terminate-instances", "--instance-ids", target_kr, target_cli)
    return row


def median(rows: list[dict], who: str, field: str) -> float:
    return statistics.median(r[who][field] for r in rows)


# The realistic profile's latencies, for the downtime bound (Tests/localcloud/localcloud/profiles.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests/localcloud"))
from localcloud.profiles import REALISTIC  # noqa: E402

PROFILE = {f: getattr(REALISTIC, f) for f in ("run", "start", "stop", "attach", "detach", "snapshot")}

if __name__ == "__main__":
    print(f"bench rescue: {ROUNDS} round(s) on {ENDPOINT}, profile realistic {PROFILE}", file=sys.stderr)
    rows = [one_round(n) for n in range(1, ROUNDS + 1)]
    kr_total, cli_total = median(rows, "keyrescue", "total"), median(rows, "cli", "total")
    agent = median(rows, "keyrescue", "agent")
    bound = PROFILE["stop"] + 2 * (PROFILE["attach"] + PROFILE["detach"]) + agent + PROFILE["start"] + 10
    print(f"{'median of ' + str(ROUNDS):22s} {'keyrescue':>10s} {'AWS CLI guide':>14s}")
    for field, unit in (("total", "s"), ("downtime", "s"), ("calls", ""), ("ec2_calls", ""), ("throttled", "")):
        print(f"{field:22s} {median(rows, 'keyrescue', field):9.1f}{unit:1s} {median(rows, 'cli', field):13.1f}{unit:1s}")
    print(f"total ratio            {kr_total / cli_total:.2f}  (target ≤ 0.60)")
    print(f"downtime bound         {bound:.1f} s = stop {PROFILE['stop']:.0f} + 4 moves "
          f"{2 * (PROFILE['attach'] + PROFILE['detach']):.0f} + agent {agent:.2f} + start {PROFILE['start']:.0f} + 10")
    print(json.dumps(rows))
