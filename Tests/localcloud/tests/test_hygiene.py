"""`scripts/localcloud stop` leaves nothing of its own behind: no loop device, no kernel
partition, no network namespace, even when its instances still had filesystems mounted
and files open on them, or were booting while they were stopped or the cloud stopped."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

from conftest import REPO, client, console_until, launch, needs_root, separate_cloud, state_of, wait_states
from localcloud.namespace import UNSHARE, NamespaceRuntime


def loops_under(directory: str) -> dict[str, str]:
    out = subprocess.run(["losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"],
                         capture_output=True, text=True).stdout
    return {name: path for name, path in (line.split(None, 1) for line in out.splitlines() if " " in line.strip())
            if path.startswith(directory + "/")}


def partitions_of(loop: str) -> list[str]:
    base = os.path.basename(loop)
    return sorted(p.name for p in Path(f"/sys/class/block/{base}").glob(f"{base}p*"))


def test_stop_leaves_no_loop_device_partition_or_namespace():
    with separate_cloud() as (url, port, state):
        ec2 = client(url, "ec2")
        al2023 = client(url, "ssm").get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        snapshot = ec2.describe_images(ImageIds=[al2023])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        # Holds its attached volume mounted, with a file open on it, until the end.
        busy = launch(ec2, al2023, InstanceType="m5d.large", UserData="""#!/bin/sh
for i in $(seq 1 300); do [ -b /dev/sdf1 ] && break; sleep 0.2; done
mkdir -p /mnt/data && mount -o nouuid /dev/sdf1 /mnt/data && echo mounted
exec 3</mnt/data/etc/os-release
sleep 600
""")
        wait_states(lambda: state_of(ec2, busy), "running")
        vol = ec2.create_volume(SnapshotId=snapshot, AvailabilityZone="us-east-1a")["VolumeId"]
        ec2.attach_volume(VolumeId=vol, InstanceId=busy, Device="/dev/sdf")
        console_until(ec2, busy, "mounted")
        stopped = launch(ec2, al2023)
        wait_states(lambda: state_of(ec2, stopped), "running")
        ec2.stop_instances(InstanceIds=[stopped])
        wait_states(lambda: state_of(ec2, stopped), "stopped")
        used = loops_under(state)
        assert len(used) >= 3, f"root, volume and instance store of the running instance: {used}"
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert f"lc{port}-{busy}" in namespaces
    assert not loops_under(state)
    for loop in used:
        still = loops_under("")  # every attached loop device, whoever's
        if loop not in still:   # ours, detached: no partition may outlive it
            assert partitions_of(loop) == [], f"{loop} kept {partitions_of(loop)} after the cloud stopped"
    assert f"lc{port}-" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not Path(state).exists()


def leftovers_of(state: str, port: str) -> list[str]:
    """Everything on the host still naming the cloud, found without the cloud's own sweep code:
    a process whose command line or mounts name its state directory (an instance's init mounts
    its ctl and dev directories from there), a loop device backed by a file there, its network
    namespaces."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            mountinfo = (proc / "mountinfo").read_text()
        except (OSError, NotADirectoryError):
            continue
        if f"{state}/" in cmdline or f"{state}/" in mountinfo:
            found.append(f"process {proc.name}: {cmdline.strip()[:160]}")
    found += [f"loop device {name} ({path})" for name, path in loops_under(state).items()]
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    found += [f"network namespace {n.split()[0]}" for n in namespaces if n.startswith(f"lc{port}-")]
    return found


def test_instances_booting_when_stopped_or_when_the_cloud_stops_leave_nothing():
    """The leak this guards against: an instance whose stop came in the first milliseconds of its
    boot (a terminate right behind the launch; the cloud's shutdown right behind a boot) kept its
    init and sshd running with no process naming the cloud, root mounted from a loop partition
    whose image was deleted, and `stop` missed it. A boot still to come when the cloud stops
    (the slow-boot fault holds it back) must never start."""
    with separate_cloud() as (url, port, state):
        ec2 = client(url, "ec2")
        al2023 = client(url, "ssm").get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        quick = [launch(ec2, al2023) for _ in range(3)]
        ec2.terminate_instances(InstanceIds=quick)   # each stop queued right behind its boot
        for iid in quick:
            wait_states(lambda i=iid: state_of(ec2, i), "terminated")
        fault = urllib.request.Request(f"{url}/_localcloud/faults", method="POST", data=json.dumps(
            {"action": "RunInstances", "kind": "slow-boot", "seconds": 5}).encode())
        urllib.request.urlopen(fault)
        late = launch(ec2, al2023)
        assert state_of(ec2, late) == "pending"
        stop = subprocess.run([str(REPO / "scripts/localcloud"), "stop", "--port", port],
                              capture_output=True, text=True, timeout=300)
        assert stop.returncode == 0, stop.stderr
        assert "leftover" not in stop.stderr, f"the cloud left things for the sweep:\n{stop.stderr}"
    assert leftovers_of(state, port) == []


@needs_root
def test_a_stop_in_the_first_milliseconds_of_a_boot_kills_the_namespace_too(tmp_path):
    """The root of that leak: unshare's child sets --kill-child's death signal itself, after the
    fork, so SIGKILL of unshare alone before the child first ran (likelier the busier the CPUs:
    it was seen after full CI runs) left the child, the instance's init, running. The runtime's
    stop right behind the start, with every CPU kept busy meanwhile."""
    marker = f"{7000 + os.getpid() % 1000}.25"   # this test's own sleep: `sleep 7123.25`
    spinners = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(os.cpu_count() or 2)]
    try:
        for attempt in range(24):
            runtime = NamespaceRuntime(tmp_path / f"i-{attempt}")
            runtime._proc = subprocess.Popen([*UNSHARE, "sleep", marker], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, start_new_session=True)
            time.sleep((attempt % 4) * 0.0005)
            runtime.stop(force=True)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    time.sleep(0.5)
    orphans = subprocess.run(["pgrep", "-x", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()
    for pid in orphans:   # never leave them behind, even when failing
        os.kill(int(pid), 9)
    assert orphans == [], f"{len(orphans)} of 24 namespaces outlived their stop"
