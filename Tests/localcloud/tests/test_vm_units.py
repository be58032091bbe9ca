"""The vm runtime's pure parts and its QMP client, without QEMU."""
from __future__ import annotations

import json
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localcloud.vm import _device_option, nvme_serial, xen_name  # noqa: E402
from localcloud.vm_disk import ImageError, extract_kernel, find_root_partition, newest_kernel, parse_partition_table  # noqa: E402
from localcloud.vm_guest import BOOT_SCRIPT, fw_cfg_files, guest_config, kernel_cmdline  # noqa: E402
from localcloud.vm_qmp import QMP, QMPError  # noqa: E402

GPT_JSON = json.dumps({"partitiontable": {"label": "gpt", "id": "X", "device": "d.img", "partitions": [
    {"node": "d.img1", "start": 2048, "size": 2048, "type": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "uuid": "AAAA"},
    {"node": "d.img2", "start": 4096, "size": 8192, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
     "uuid": "42AAB1A2-C1E8-4BF6-A832-1AC814454DFC"}]}})
MBR_JSON = json.dumps({"partitiontable": {"label": "dos", "id": "0x1a2b3c4d", "device": "d.img", "partitions": [
    {"node": "d.img1", "start": 2048, "size": 4096, "type": "83"}]}})


def test_gpt_linux_partitions_carry_their_partuuid_and_byte_offsets():
    [part] = parse_partition_table(GPT_JSON)
    assert (part.number, part.offset, part.size) == (2, 4096 * 512, 8192 * 512)
    assert part.partuuid == "42aab1a2-c1e8-4bf6-a832-1ac814454dfc"


def test_mbr_partuuid_is_disk_signature_dash_partition_number():
    [part] = parse_partition_table(MBR_JSON)
    assert part.partuuid == "1a2b3c4d-01"


def test_newest_kernel_needs_a_matching_initrd_and_compares_versions_numerically():
    names = ["vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64", "vmlinuz-6.1.0-10-amd64",
             "initrd.img-6.1.0-10-amd64", "vmlinuz-6.2.0-1-amd64", "config-6.2.0-1-amd64"]
    assert newest_kernel(names) == ("vmlinuz-6.1.0-10-amd64", "initrd.img-6.1.0-10-amd64")
    with pytest.raises(ImageError, match="linux-image-amd64"):
        newest_kernel(["vmlinuz-6.2.0-1-amd64", "grub"])


def test_ebs_names():
    assert nvme_serial("vol-0123456789abcdef0") == "vol0123456789abcdef0"
    assert [xen_name(d) for d in ("/dev/sdf", "/dev/sda1", "/dev/xvdg", "xvdh")] == ["xvdf", "xvda", "xvdg", "xvdh"]


def test_device_option_escapes_commas_as_qemu_wants():
    assert _device_option({"driver": "nvme", "id": "d1", "serial": "a,b"}) == "nvme,id=d1,serial=a,,b"


def test_kernel_cmdline_boots_multi_user_and_runs_the_fw_cfg_script_beside_it():
    line = kernel_cmdline("42aab1a2-c1e8-4bf6-a832-1ac814454dfc")
    words = shlex.split(line)
    assert "root=PARTUUID=42aab1a2-c1e8-4bf6-a832-1ac814454dfc" in words
    assert {"console=ttyS0,115200", "systemd.unit=multi-user.target",
            "systemd.wants=kernel-command-line.service", "systemd.run_success_action=none"} <= set(words)
    [run] = [w for w in words if w.startswith("systemd.run=")]
    assert "/sys/firmware/qemu_fw_cfg/by_name/opt/localcloud/boot/raw" in run


def test_guest_config_quotes_what_it_is_given():
    config = guest_config("i-1; reboot", 4567, "admin")
    out = subprocess.run(["sh", "-c", config + 'printf "%s|%s|%s" "$LC_INSTANCE_ID" "$LC_CLOUD_PORT" "$LC_LOGIN_USER"'],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "i-1; reboot|4567|admin"


def test_fw_cfg_carries_user_data_and_keys_only_when_given():
    assert set(fw_cfg_files("i-1", 80, "admin", None, None)) == {"boot", "config"}
    files = fw_cfg_files("i-1", 80, "admin", b"#!/bin/sh\n", "ssh-ed25519 AAAA k\n\n")
    assert files["user-data"] == b"#!/bin/sh\n" and files["authorized-keys"] == b"ssh-ed25519 AAAA k\n"


def test_boot_script_is_valid_posix_shell():
    subprocess.run(["sh", "-n", "-c", BOOT_SCRIPT], check=True)


needs_disk_tools = pytest.mark.skipif(not (shutil.which("sgdisk") and shutil.which("debugfs")),
                                      reason="needs sgdisk, mkfs.ext4 and debugfs (gdisk, e2fsprogs)")


@needs_disk_tools
def test_kernel_and_initrd_are_copied_out_of_an_ext4_gpt_image_without_mounting(tmp_path):
    from localcloud.vm_image import build_disk
    tree = tmp_path / "tree"
    (tree / "boot").mkdir(parents=True)
    (tree / "boot/vmlinuz-6.1.0-9-amd64").write_bytes(b"old kernel")
    (tree / "boot/vmlinuz-6.1.0-10-amd64").write_bytes(b"KERNEL")
    (tree / "boot/initrd.img-6.1.0-10-amd64").write_bytes(b"INITRD")
    (tree / "boot/initrd.img-6.1.0-9-amd64").write_bytes(b"old initrd")
    image = tmp_path / "disk.img"
    build_disk(tree, image, size_mib=16)
    part = find_root_partition(image)
    assert (part.offset, part.fstype) == (1024 * 1024, "ext4")
    out = tmp_path / "out"
    out.mkdir()
    kernel, initrd = extract_kernel(image, part, out)
    assert (kernel.read_bytes(), initrd.read_bytes()) == (b"KERNEL", b"INITRD")


def test_an_image_without_partitions_is_refused_with_the_reason(tmp_path):
    image = tmp_path / "blank.img"
    image.write_bytes(bytes(1024 * 1024))
    with pytest.raises(ImageError, match="partition table"):
        find_root_partition(image)


class FakeQEMU:
    """A QMP server that answers like QEMU: greeting, capabilities, then scripted replies."""

    def __init__(self, path: Path, replies: list[list[dict]]):
        self.received: list[dict] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(1)
        self._replies = replies
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        with conn, conn.makefile("rwb") as f:
            f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
            f.flush()
            for replies in [[{"return": {}}], *self._replies]:
                line = f.readline()
                if not line:
                    return
                self.received.append(json.loads(line))
                for reply in replies:
                    f.write(json.dumps(reply).encode() + b"\n")
                f.flush()
            f.read()                    # stay connected, as QEMU does, until the client leaves
        self._server.close()


def test_qmp_commands_errors_and_events(tmp_path):
    sock = tmp_path / "qmp.sock"
    event = {"event": "DEVICE_DELETED", "data": {"device": "dvol1", "path": "/machine/peripheral/dvol1"}}
    other = {"event": "DEVICE_DELETED", "data": {"device": "dvol2"}}
    fake = FakeQEMU(sock, [[{"return": {}}, other], [{"error": {"class": "GenericError", "desc": "no such node"}}],
                           [event, {"return": "ok"}]])
    with QMP(sock) as qmp:
        assert qmp.command("device_del", id="dvol1") == {}
        with pytest.raises(QMPError, match="no such node"):
            qmp.command("blockdev-del", **{"node-name": "nvol9"})
        assert qmp.command("query-status") == "ok"
        assert qmp.wait_event("DEVICE_DELETED", 5, device="dvol1") == event
        with pytest.raises(TimeoutError):
            qmp.wait_event("DEVICE_DELETED", 0.2, device="dvol1")
    assert fake.received[0] == {"execute": "qmp_capabilities"}
    assert fake.received[1] == {"execute": "device_del", "arguments": {"id": "dvol1"}}


def _runtime_dirs() -> set[Path]:
    return set(Path("/tmp").glob("localcloud-vm-*"))


def _bootable_tree_image(tmp_path: Path) -> Path:
    from localcloud.vm_image import build_disk
    tree = tmp_path / "tree"
    (tree / "boot").mkdir(parents=True)
    (tree / "boot/vmlinuz-1").write_bytes(b"not a kernel")
    (tree / "boot/initrd.img-1").write_bytes(b"not an initrd")
    image = tmp_path / "disk.img"
    build_disk(tree, image, size_mib=16)
    return image


def _spec(tmp_path: Path, image: Path):
    from localcloud.runtime import LaunchSpec, Volume
    return LaunchSpec("i-0units", Volume("vol-0units", image, "/dev/xvda"), (), None, tmp_path / "console.log",
                      "http://127.0.0.1:9")


@needs_disk_tools
def test_start_refuses_an_image_without_a_kernel_and_leaves_nothing_behind(tmp_path):
    from localcloud.vm import VMRuntime
    from localcloud.vm_image import build_disk
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    image = tmp_path / "disk.img"
    build_disk(tree, image, size_mib=16)
    before = _runtime_dirs()
    runtime = VMRuntime()
    with pytest.raises(ImageError, match="rootfs_tarball vm"):
        runtime.start(_spec(tmp_path, image))
    assert not runtime.is_running() and runtime.ssh_endpoint() is None
    assert _runtime_dirs() == before


@needs_disk_tools
@pytest.mark.skipif(not shutil.which("qemu-system-x86_64"), reason="needs qemu-system-x86_64 (qemu-system-x86)")
def test_start_reports_qemu_failing_to_start_with_its_own_words_and_cleans_up(tmp_path):
    from localcloud.vm import VMRuntime
    before = _runtime_dirs()
    runtime = VMRuntime(accel="no-such-accelerator")
    with pytest.raises(RuntimeError, match="no-such-accelerator"):
        runtime.start(_spec(tmp_path, _bootable_tree_image(tmp_path)))
    assert not runtime.is_running()
    assert _runtime_dirs() == before
