"""`vm` instances for real: a Debian image boots in QEMU (TCG, ~30 s here), `ssh` logs in on the
forwarded port, user-data runs and reaches the cloud's URL, volumes hot-plug as EBS NVMe devices,
guest poweroff and stop() end QEMU. Two boots in all; several checks on each."""
from __future__ import annotations

import http.server
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "Tests/localcloud"))

from localcloud.runtime import LaunchSpec, Volume  # noqa: E402
from localcloud.vm import VMRuntime  # noqa: E402
from localcloud.vm_image import build_debian_image, rootfs_tarball  # noqa: E402

pytestmark = pytest.mark.skipif(
    not shutil.which("qemu-system-x86_64") or os.geteuid() != 0,
    reason="boots QEMU VMs: needs qemu-system-x86_64 and root (image files with root-owned trees)")

BOOT_TIMEOUT = 600          # TCG on a busy 2-core machine; a boot takes ~30 s when it is quiet
SERIAL_OF = "vol0a1b2c3d4e5f60718"


class CloudStub:
    """Stands for the cloud's endpoint: answers GET /probe with a token the guest must fetch."""

    def __init__(self):
        self.token = secrets.token_hex(8)
        token = self.token

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"cloud-says-{token}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("vm")


@pytest.fixture(scope="module")
def key(workdir):
    path = workdir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm-test", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def seed(workdir, key):
    image = workdir / "seed.img"
    build_debian_image(rootfs_tarball(REPO, "vm"), image, user="admin", public_key=key.with_suffix(".pub").read_text())
    return image


def copy_image(seed: Path, target: Path) -> Path:
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", str(seed), str(target)], check=True)
    return target


def blank(path: Path, mib: int = 64) -> Path:
    with open(path, "wb") as f:
        f.truncate(mib * 1024 * 1024)
    return path


def ssh(runtime: VMRuntime, key: Path, user: str, command: str) -> subprocess.CompletedProcess:
    host, port = runtime.ssh_endpoint()
    return subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "-o", "ConnectTimeout=20", f"{user}@{host}", command],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def nitro_vm(workdir, seed, key):
    cloud = CloudStub()
    user_data = f"#!/bin/sh\necho \"user-data ran as $(id -un) home $HOME in $(pwd)\"\necho \"fetched: $(curl -fsS {cloud.url}/probe)\"\n"
    spec = LaunchSpec("i-0a1b2c3d4e5f60718", Volume("vol-0a1b2c3d4e5f60719", copy_image(seed, workdir / "root1.img"),
                                                    "/dev/xvda"),
                      (), user_data.encode(), workdir / "console1.log", cloud.url, nitro=True)
    runtime = VMRuntime(workdir / "i1", login_user="root", authorized_keys=key.with_suffix(".pub").read_text())
    began = time.monotonic()
    runtime.start(spec)
    try:
        banner = runtime.wait_ready(BOOT_TIMEOUT)
        print(f"\nvm boot: start() to guest setup done and sshd answering: {time.monotonic() - began:.1f} s")
        yield runtime, spec, cloud, banner
    finally:
        runtime.stop(force=True)
        cloud.close()


def test_debian_image_boots_and_ssh_logs_in_with_the_image_key_on_the_forwarded_port(nitro_vm, key):
    runtime, spec, _, banner = nitro_vm
    assert banner.startswith("SSH-2.0-OpenSSH")
    host, _ = runtime.ssh_endpoint()
    assert host == "127.0.0.1"
    out = ssh(runtime, key, "admin", "id -un; findmnt -no SOURCE /")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["admin", "/dev/nvme0n1p1"]


def test_root_volume_is_an_nvme_device_with_its_ebs_name(nitro_vm, key):
    runtime, spec, _, _ = nitro_vm
    out = ssh(runtime, key, "admin", "readlink -f /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0a1b2c3d4e5f60719")
    assert out.stdout.strip() == "/dev/nvme0n1", out.stderr


def test_launch_key_is_installed_for_the_login_user(nitro_vm, key):
    runtime, *_ = nitro_vm
    out = ssh(runtime, key, "root", "id -u")
    assert (out.returncode, out.stdout.strip()) == (0, "0"), out.stderr


def test_user_data_runs_as_root_reaches_the_cloud_url_and_prints_to_the_console_log(nitro_vm):
    runtime, spec, cloud, _ = nitro_vm
    deadline = time.monotonic() + 120
    while f"fetched: cloud-says-{cloud.token}" not in runtime.console_text() and time.monotonic() < deadline:
        time.sleep(1)
    console = spec.console_log.read_text(errors="replace")
    assert "user-data ran as root home /root in /" in console
    assert f"fetched: cloud-says-{cloud.token}" in console, console[-3000:]


def test_hot_plugged_volume_is_nvme_with_the_by_id_link_of_its_volume_id_and_leaves_on_detach(nitro_vm, key, workdir):
    runtime, *_ = nitro_vm
    volume = Volume("vol-0a1b2c3d4e5f60718", blank(workdir / "data.img"), "/dev/sdf")
    link = f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{SERIAL_OF}"
    runtime.attach(volume)
    seen = ssh(runtime, key, "root", f"for i in $(seq 60); do [ -e {link} ] && break; sleep 0.5; done; "
                                     f"dev=$(readlink -f {link}); echo $dev; cat /sys/block/${{dev#/dev/}}/device/serial; "
                                     f"printf written-by-guest | dd of=$dev bs=512 conv=sync,fsync status=none")
    assert seen.returncode == 0, seen.stderr
    device, serial = seen.stdout.split()
    assert device.startswith("/dev/nvme") and device != "/dev/nvme0n1"
    assert serial == SERIAL_OF
    runtime.detach(volume)
    gone = ssh(runtime, key, "root", f"for i in $(seq 20); do [ -e {link} ] || break; sleep 0.5; done; "
                                     f"for p in {link} {device}; do [ -e $p ] && echo present || echo absent; done")
    assert gone.stdout.split() == ["absent", "absent"], gone.stderr
    assert (workdir / "data.img").read_bytes()[:16] == b"written-by-guest"


def test_guest_poweroff_ends_the_runtime_and_leaves_nothing_behind(nitro_vm, key):
    runtime, *_ = nitro_vm
    pid = runtime._proc.pid
    ssh(runtime, key, "root", "systemctl poweroff")       # the connection may drop: no status to check
    assert runtime.wait_exit(180), "QEMU still runs 180 s after the guest's poweroff"
    assert not runtime.is_running()
    assert runtime.ssh_endpoint() is None
    assert runtime.returncode == 0
    assert not runtime._dir.exists()
    assert not Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def xen_vm(workdir, seed, key):
    spec = LaunchSpec("i-0a1b2c3d4e5f60719", Volume("vol-0a1b2c3d4e5f6071a", copy_image(seed, workdir / "root2.img"),
                                                    "/dev/sda1"),
                      (Volume("vol-0a1b2c3d4e5f6071b", blank(workdir / "xen-data.img"), "/dev/sdg"),),
                      None, workdir / "console2.log", "http://127.0.0.1:9", nitro=False)
    runtime = VMRuntime(workdir / "i2")
    runtime.start(spec)
    try:
        runtime.wait_ready(BOOT_TIMEOUT)
        yield runtime
    finally:
        runtime.stop(force=True)


def test_xen_style_volumes_get_their_xvd_names(xen_vm, key):
    out = ssh(xen_vm, key, "admin", "for i in $(seq 20); do [ -e /dev/xvdg ] && break; sleep 0.5; done; "
                                    "readlink -f /dev/xvdg /dev/xvda1")
    assert out.returncode == 0, out.stderr
    data, root = out.stdout.split()
    assert data.startswith("/dev/vd") and root.startswith("/dev/vd") and root.endswith("1")


def test_stop_shuts_the_guest_down_cleanly_through_acpi(xen_vm):
    xen_vm.stop()
    assert not xen_vm.is_running()
    assert xen_vm.returncode == 0, "QEMU was killed: the guest did not power off on the ACPI power button"
    assert "reboot: Power down" in xen_vm.console_text()
