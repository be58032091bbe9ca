"""scripts/bench rescue: keyrescue beside the guides' sequential AWS CLI procedure, and its doors.

    python3 scripts/lib/rescue_bench.py ENDPOINT ROUNDS [ROWS]   (scripts/bench.d/rescue starts the cloud)

ROWS (comma-separated, default all): `keyrescue` and `cli` each rescue a Debian target whose key is
lost, one with `keyrescue reset` (the swap) and the other with the procedure of the step-by-step
guides (snapshot and wait, launch a helper and wait, stop and wait, detach, attach, inject over
SSH, detach, attach, start and wait); `ssm` and `eic` rescue AL2023 targets through SSM and EC2
Instance Connect (rescue_bench_doors.py). Each row has its own access key so the cloud's call log
tells their calls apart. Every target must end with the new key logging in (checked after the
clock stops). Downtime comes from the cloud's transition log: the target's `stopping` to its next
`running` (0 when it never stopped). For the swap, the same log gives the rescue host's boot and
how long the target's stop waited for the host to be ready (launched at its `pending`).
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

import rescue_bench_doors as doors

ENDPOINT, ROUNDS = sys.argv[1], int(sys.argv[2])
ROWS = (sys.argv[3] if len(sys.argv) > 3 else "keyrescue,cli,ssm,eic").split(",")
KEYRESCUE = os.environ["KEYRESCUE_BIN"]
AGENT = os.environ["KEYRESCUE_AGENT"]
REGION = "us-east-1"
DEBIAN_OWNER = "136693071363"
KEYS = {"setup": "AKIDBENCHSETUP", "keyrescue": "AKIDBENCHKEYRESCUE", "cli": "AKIDBENCHAWSCLI",
        "ssm": "AKIDBENCHSSM", "eic": "AKIDBENCHEIC"}
USERS = {"keyrescue": "admin", "cli": "admin", "ssm": "ec2-user", "eic": "ec2-user"}
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
    """One AWS CLI invocation, as a person following a guide would type it. A waiter that fails on
    a NotFound (a new id not yet visible: EC2's eventual consistency, the profile's `settle`) is
    typed again, as that person would, for up to 60 s."""
    deadline = time.monotonic() + 60
    while True:
        out = subprocess.run(["aws", "--endpoint-url", ENDPOINT, "--output", "json", service, *args],
                             capture_output=True, text=True, env=env(who))
        if out.returncode == 0:
            return json.loads(out.stdout) if out.stdout.strip() else {}
        if args[0] != "wait" or "NotFound" not in out.stderr or time.monotonic() > deadline:
            raise RuntimeError(f"aws {service} {' '.join(args)}: {out.stderr.strip()}")
        time.sleep(1)


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


def launch_targets(work: Path) -> dict[str, str]:
    """One target per row, booted together: Debian for the swap rows, AL2023 for the doors."""
    lost = keygen(work / "lost")
    aws("setup", "import-key-pair", "--key-name", f"lost-{work.name}",
        "--public-key-material", f"fileb://{lost}.pub")
    swaps = [r for r in ROWS if r in ("keyrescue", "cli")]
    targets: dict[str, str] = {}
    if swaps:
        image = aws("setup", "describe-images", "--owners", DEBIAN_OWNER,
                    "--filters", "Name=name,Values=debian-12-amd64-2*")["Images"][0]["ImageId"]
        ids = [i["InstanceId"] for i in aws("setup", "run-instances", "--image-id", image, "--instance-type", "t3.micro",
                                            "--key-name", f"lost-{work.name}", "--count", str(len(swaps)))["Instances"]]
        targets.update(zip(swaps, ids))
    for row in (r for r in ROWS if r in doors.METHODS):
        targets[row] = doors.launch_al2023(aws, work, managed=row == "ssm")
    aws("setup", "wait", "instance-running", "--instance-ids", *targets.values())
    for iid in targets.values():
        ssh_endpoint(iid)   # booted: sshd is up, as a real target would be before its key is lost
    if "ssm" in targets:
        doors.wait_online(aws, targets["ssm"])
    return targets


def sequential_cli(iid: str, new_pub: Path, work: Path) -> dict:
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
    return {"helper": helper}


def keyrescue_env(who: str, work: Path) -> dict:
    return dict(env(who), XDG_STATE_HOME=str(work / "state"), KEYRESCUE_AGENT=AGENT)


def with_keyrescue(iid: str, new_pub: Path, work: Path) -> dict:
    """The swap with `--verify none`, as the before figures were taken. Returns the rescue host's id."""
    out = subprocess.run([KEYRESCUE, "reset", iid, "--public-key", str(new_pub), "--yes", "--verify", "none", "--json",
                          "--endpoint-url", ENDPOINT, "--region", REGION], capture_output=True, text=True,
                         env=keyrescue_env("keyrescue", work))
    if out.returncode != 0:
        raise RuntimeError(f"keyrescue exited {out.returncode}: {out.stderr[-2000:]}")
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {"host": next(e["id"] for e in events if e.get("event") == "created" and e.get("kind") == "rescue instance")}


def with_door(row: str):
    def rescue(iid: str, new_pub: Path, work: Path) -> dict:
        return doors.through_door(row, iid, new_pub, ssh_endpoint(iid), KEYRESCUE,
                                  ["--endpoint-url", ENDPOINT, "--region", REGION], keyrescue_env(row, work))
    return rescue


def downtime(iid: str, since: float) -> tuple[float, int]:
    """(seconds from `stopping` to the next `running`, number of `stopping` transitions); (0, 0) if none."""
    log = [t for t in control("transitions") if t["instance_id"] == iid and t["time"] >= since]
    stops = [t["time"] for t in log if t["state"] == "stopping"]
    if not stops:
        return 0.0, 0
    up = next(t["time"] for t in log if t["state"] == "running" and t["time"] > stops[0])
    return up - stops[0], len(stops)


def host_timing(host: str, target: str, since: float) -> dict:
    """The rescue host's boot (`pending` → `running`) and its launch to the target's `stopping`."""
    log = [t for t in control("transitions") if t["time"] >= since]
    launched = next(t["time"] for t in log if t["instance_id"] == host and t["state"] == "pending")
    running = next(t["time"] for t in log if t["instance_id"] == host and t["state"] == "running")
    stopping = next(t["time"] for t in log if t["instance_id"] == target and t["state"] == "stopping")
    return {"host_boot": running - launched, "stop_waited": stopping - launched}


def calls_of(who: str, since: float) -> list[dict]:
    return [c for c in control("calls") if c.get("access_key_id") == KEYS[who] and c["time"] >= since]


def agent_seconds(work: Path) -> float:
    """The agent's own time once the volume was there (its report's phase durations)."""
    [journal] = (work / "state" / "keyrescue" / "runs").glob("*.json")
    durations = json.loads(journal.read_text())["report"]["durations"]
    return sum(d["seconds"] for d in durations if d["phase"] != "wait for the volume")


PROCEDURES = {"keyrescue": with_keyrescue, "cli": sequential_cli, "ssm": with_door("ssm"), "eic": with_door("eic")}


def one_round(n: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"kr-bench-rescue-{n}-", dir="/var/tmp"))
    new = keygen(work / "new")
    new_pub = Path(f"{new}.pub")
    targets = launch_targets(work)
    row: dict = {"load": os.getloadavg()[0]}
    for name, iid in targets.items():
        print(f"  round {n}: {name} on {iid} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
        since = time.time()
        t0 = time.monotonic()
        extra = PROCEDURES[name](iid, new_pub, work)
        total = time.monotonic() - t0
        calls = calls_of(name, since)
        down, stops = downtime(iid, since)
        row[name] = {"total": total, "downtime": down, "stops": stops, "calls": len(calls),
                     "ec2_calls": sum(c["service"] == "ec2" for c in calls),
                     "throttled": sum(bool(c.get("throttled")) or c.get("status") == 503 for c in calls)}
        if name == "keyrescue":
            row[name].update(agent=agent_seconds(work), **host_timing(extra["host"], iid, since))
        if "login" in extra:
            row[name].update(login=extra["login"], without_login=total - extra["login"])
        if "helper" in extra:
            aws("setup", "terminate-instances", "--instance-ids", extra["helper"])
        if ssh(ssh_endpoint(iid), new, USERS[name], "true").returncode != 0:
            raise RuntimeError(f"{name}: the new key does not log in to {iid}")
        print(f"    {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in row[name].items()), file=sys.stderr, flush=True)
    aws("setup", "terminate-instances", "--instance-ids", *targets.values())
    row["load_end"] = os.getloadavg()[0]
    return row


def spread(rounds: list[dict], row: str, field: str) -> str:
    """median (min–max) over the rounds, or '-' where the row has no such figure."""
    values = [r[row][field] for r in rounds if field in r[row]]
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


# The realistic profile's latencies, for the downtime bound (Tests/localcloud/localcloud/profiles.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests/localcloud"))
from localcloud.profiles import REALISTIC  # noqa: E402

PROFILE = {f: getattr(REALISTIC, f) for f in ("run", "start", "stop", "attach", "detach", "snapshot")}

FIELDS = ("total", "downtime", "stops", "login", "without_login", "host_boot", "stop_waited",
          "calls", "ec2_calls", "throttled")
TITLES = {"keyrescue": "keyrescue swap", "cli": "AWS CLI guide", "ssm": "keyrescue ssm", "eic": "keyrescue eic"}

if __name__ == "__main__":
    print(f"bench rescue: {ROUNDS} round(s) of {','.join(ROWS)} on {ENDPOINT}, profile realistic {PROFILE}",
          file=sys.stderr)
    rounds = [one_round(n) for n in range(1, ROUNDS + 1)]
    print(f"{'median (range) of ' + str(ROUNDS):16s} " + " ".join(f"{TITLES[r]:>22s}" for r in ROWS))
    for field in FIELDS:
        print(f"{field:16s} " + " ".join(f"{spread(rounds, r, field):>22s}" for r in ROWS))
    loads = [r["load"] for r in rounds] + [r["load_end"] for r in rounds]
    print(f"load average (1 min) at the rounds' starts and ends: {min(loads):.2f}–{max(loads):.2f}")
    if "keyrescue" in ROWS and "cli" in ROWS:
        kr_total = statistics.median(r["keyrescue"]["total"] for r in rounds)
        cli_total = statistics.median(r["cli"]["total"] for r in rounds)
        print(f"total ratio      {kr_total / cli_total:.2f}  (target ≤ 0.60)")
    if "keyrescue" in ROWS:
        agent = statistics.median(r["keyrescue"]["agent"] for r in rounds)
        bound = PROFILE["stop"] + 2 * (PROFILE["attach"] + PROFILE["detach"]) + agent + PROFILE["start"] + 10
        print(f"downtime bound   {bound:.1f} s = stop {PROFILE['stop']:.0f} + 4 moves "
              f"{2 * (PROFILE['attach'] + PROFILE['detach']):.0f} + agent {agent:.2f} + start {PROFILE['start']:.0f} + 10")
    print(json.dumps(rounds))
