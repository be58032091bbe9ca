"""Boot-time figures of the vm runtime (for docs/LOCALCLOUD-VM.md), from Tests/localcloud:

    python3 -m localcloud.vm_bench [--runs 3] [--cpus 2]

Builds a Debian image from `rootfs_tarball vm` in a temp dir, then each run boots a copy of it and
reports seconds from start() to sshd's banner on the forwarded port, to the guest's setup being
done (user-data started), to a completed `ssh` login, and for stop() (ACPI).
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from .runtime import LaunchSpec, Volume
from .vm import VMRuntime
from .vm_image import build_debian_image, rootfs_tarball

REPO = Path(__file__).resolve().parents[3]


def boot_once(image: Path, key: Path, tmp: Path, run: int, cpus: int) -> dict[str, float]:
    spec = LaunchSpec(f"i-0bench{run:012d}", Volume("vol-0bench000000000000", image, "/dev/xvda"), (),
                      b"#!/bin/sh\necho bench user-data\n", tmp / f"console{run}.log", "http://127.0.0.1:9")
    runtime = VMRuntime(cpus=cpus)
    began = time.monotonic()
    runtime.start(spec)
    try:
        runtime.wait_ssh(600)
        banner = time.monotonic() - began
        runtime.wait_ready(600)
        ready = time.monotonic() - began
        host, port = runtime.ssh_endpoint()
        subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"admin@{host}", "true"],
                       check=True, timeout=120)
        login = time.monotonic() - began
        stopping = time.monotonic()
        runtime.stop()
        return {"sshd": banner, "setup": ready, "login": login, "stop": time.monotonic() - stopping,
                "clean_stop": float(runtime.returncode == 0)}
    finally:
        runtime.stop(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vm-bench-", dir="/var/tmp") as tmp_name:
        tmp = Path(tmp_name)
        key = tmp / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        seed = tmp / "seed.img"
        t0 = time.monotonic()
        build_debian_image(rootfs_tarball(REPO, "vm"), seed, public_key=key.with_suffix(".pub").read_text())
        print(f"image build: {time.monotonic() - t0:.1f} s")
        for run in range(args.runs):
            image = tmp / "run.img"
            subprocess.run(["cp", "--sparse=always", str(seed), str(image)], check=True)
            figures = boot_once(image, key, tmp, run, args.cpus)
            print(f"run {run + 1} (-smp {args.cpus}): " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
            image.unlink()


if __name__ == "__main__":
    main()
