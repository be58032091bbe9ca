"""`vm` instances: QEMU (TCG) boots the instance's root volume; volumes are NVMe devices whose
serial is the volume id, hot-plugged through QMP, as on Nitro; sshd is forwarded to a loopback port.

    rt = VMRuntime(authorized_keys=pubkey)      # all keyword arguments optional
    rt.start(spec)                              # returns once QEMU runs (the guest then boots, ~1 min)
    host, port = rt.ssh_endpoint(); rt.wait_ssh(300)
    rt.attach(vol); rt.detach(vol)              # detach waits for the guest to let go (DEVICE_DELETED)
    rt.stop()                                   # ACPI power button, killed after `stop_timeout`

See docs/LOCALCLOUD-VM.md for the boot path and the guest side.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .runtime import LaunchSpec, Volume
from .vm_disk import extract_kernel, find_root_partition
from .vm_guest import FW_CFG_PREFIX, READY_LINE, fw_cfg_files, kernel_cmdline
from .vm_qmp import QMP, QMPError

_live: "weakref.WeakSet[VMRuntime]" = weakref.WeakSet()


def _kill_all_at_exit() -> None:
    for runtime in list(_live):
        runtime.stop(force=True)


atexit.register(_kill_all_at_exit)


def nvme_serial(volume_id: str) -> str:
    """EBS NVMe serial: the volume id without its dash (vol-0abc… → vol0abc…)."""
    return volume_id.replace("-", "")


def xen_name(device_name: str) -> str:
    """The whole-disk name a Xen guest sees: /dev/sdf → xvdf, /dev/sda1 → xvda, /dev/xvdf → xvdf."""
    base = device_name.rsplit("/", 1)[-1].rstrip("0123456789")
    return "xvd" + base[-1]


def _opt(value: str) -> str:
    """Escape a value for QEMU's comma-separated option syntax."""
    return value.replace(",", ",,")


def _device_option(device: dict) -> str:
    """device_add's arguments as a -device option: driver,key=value,…"""
    return ",".join([device["driver"], *(f"{k}={_opt(str(v))}" for k, v in device.items() if k != "driver")])


class VMRuntime:
    """InstanceRuntime of the `vm` mode (see runtime.py). One object per boot: start() once.

    authorized_keys/login_user: a launch key added once per instance at first boot, as cloud-init
    would (the local cloud writes the key on the image instead, so it passes none)."""

    def __init__(self, workdir: Path | None = None, *, login_user: str = "admin", authorized_keys: str | None = None,
                 memory_mib: int = 1024, cpus: int = 2, accel: str | None = None,
                 stop_timeout: float = 90.0, on_exit: Callable[[int], None] | None = None,
                 qemu: str = "qemu-system-x86_64", logger: logging.Logger | None = None):
        # The cloud passes the instance's work directory; QEMU's socket and the kernel copy live in a
        # short temp dir of their own (unix socket paths are limited to 107 bytes), removed at exit.
        self.workdir = workdir
        self.login_user = login_user
        self.authorized_keys = authorized_keys
        self.memory_mib = memory_mib
        self.cpus = cpus
        # /dev/kvm on this machine hangs a stock kernel: TCG unless told otherwise.
        self.accel = accel or os.environ.get("LOCALCLOUD_VM_ACCEL", "tcg")
        self.stop_timeout = stop_timeout
        self.on_exit = on_exit
        self.qemu = qemu
        self.log = logger or logging.getLogger("localcloud.vm")
        self._proc: subprocess.Popen | None = None
        self._dir: Path | None = None
        self._ssh_port: int | None = None
        self._nitro = True
        self._console_log: Path | None = None
        self._console_offset = 0
        self._lock = threading.Lock()           # one QMP conversation at a time
        self._exited = threading.Event()
        self.returncode: int | None = None

    # --- InstanceRuntime -------------------------------------------------------------------------

    def start(self, spec: LaunchSpec) -> None:
        if self._proc is not None:
            raise RuntimeError(f"{spec.instance_id}: this VMRuntime already started once; make a new one")
        self._nitro = spec.nitro
        self._dir = Path(tempfile.mkdtemp(prefix=f"localcloud-vm-{spec.instance_id}-"))
        try:
            self._launch(spec)
        except BaseException:
            self._kill()
            if self._proc is not None:
                self._proc.wait()
            self._cleanup()
            raise
        _live.add(self)

    def attach(self, volume: Volume) -> None:
        with self._lock, self._qmp() as qmp:
            qmp.command("blockdev-add", **self._blockdev(volume))
            try:
                qmp.command("device_add", **self._device(volume))
            except QMPError:
                qmp.command("blockdev-del", **{"node-name": self._names(volume)[0]})
                raise

    def detach(self, volume: Volume, timeout: float = 60.0) -> None:
        """Unplug and wait until the guest released the device (it must have booted far enough to
        answer the ACPI eject), then free the image."""
        node, dev = self._names(volume)
        with self._lock, self._qmp() as qmp:
            qmp.command("device_del", id=dev)
            qmp.wait_event("DEVICE_DELETED", timeout, device=dev)
            qmp.command("blockdev-del", **{"node-name": node})

    def stop(self, force: bool = False) -> None:
        """Clean shutdown through the ACPI power button (re-pressed every 5 s, since a guest still
        booting misses it), killed after stop_timeout; force kills at once. Returns when QEMU is gone
        and its files are removed."""
        if self._proc is None:
            return
        if not force and self.is_running():
            deadline = time.monotonic() + self.stop_timeout
            while self.is_running() and time.monotonic() < deadline:
                try:
                    with self._lock, self._qmp() as qmp:
                        qmp.command("system_powerdown")
                except OSError:
                    pass                        # QEMU is exiting
                self._exited.wait(min(5.0, max(0.0, deadline - time.monotonic())))
        self._kill()
        self._exited.wait(30)

    def is_running(self) -> bool:
        return self._proc is not None and not self._exited.is_set() and self._proc.poll() is None

    def ssh_endpoint(self) -> tuple[str, int] | None:
        return ("127.0.0.1", self._ssh_port) if self._ssh_port and self.is_running() else None

    # --- helpers for tests and the demo ------------------------------------------------------------

    def wait_ssh(self, timeout: float) -> str:
        """Wait until sshd in the guest sends its banner through the forwarded port; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"the VM exited (status {self.returncode}) before sshd answered")
            try:
                with socket.create_connection(("127.0.0.1", self._ssh_port), timeout=5) as s:
                    banner = s.recv(256)
                    if banner.startswith(b"SSH-"):
                        return banner.decode(errors="replace").strip()
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"no SSH banner on 127.0.0.1:{self._ssh_port} within {timeout:.0f} s")

    def wait_ready(self, timeout: float) -> str:
        """Wait until the guest's setup script finished (user-data started, key installed) and sshd
        answers; returns the SSH banner."""
        deadline = time.monotonic() + timeout
        while READY_LINE.encode() not in self._console_since_start():
            if not self.is_running():
                raise RuntimeError(f"the VM exited (status {self.returncode}) before its setup finished")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the guest's setup did not finish within {timeout:.0f} s "
                                   f"(see {self._console_log})")
            time.sleep(1)
        return self.wait_ssh(max(1.0, deadline - time.monotonic()))

    def console_text(self) -> str:
        """What the guest printed on its serial console since this runtime started it."""
        return self._console_since_start().decode(errors="replace")

    def wait_exit(self, timeout: float) -> bool:
        return self._exited.wait(timeout)

    # --- internals -----------------------------------------------------------------------------------

    def _launch(self, spec: LaunchSpec) -> None:
        assert self._dir is not None
        root = find_root_partition(spec.root.image)
        kernel, initrd = extract_kernel(spec.root.image, root, self._dir)
        cloud_port = urlsplit(spec.cloud_endpoint).port or 80
        fw_args = []
        for name, content in fw_cfg_files(spec.instance_id, cloud_port, self.login_user, spec.user_data,
                                          self.authorized_keys).items():
            path = self._dir / f"fw-{name}"
            path.write_bytes(content)
            fw_args += ["-fw_cfg", f"name={FW_CFG_PREFIX}/{name},file={_opt(str(path))}"]
        qmp_path = self._dir / "qmp.sock"
        args = [self.qemu, "-name", spec.instance_id, "-machine", f"pc,accel={self.accel}",
                "-m", str(self.memory_mib), "-smp", str(self.cpus),
                "-nodefaults", "-no-user-config", "-display", "none",
                "-kernel", str(kernel), "-initrd", str(initrd), "-append", kernel_cmdline(root.partuuid),
                "-chardev", f"file,id=console,path={_opt(str(spec.console_log))},append=on",
                "-serial", "chardev:console",
                "-qmp", f"unix:{_opt(str(qmp_path))},server=on,wait=off",
                # Port 0: the host's kernel picks a free port; read back below (no race with others).
                "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:0-:22",
                "-device", "virtio-net-pci,netdev=net0", *fw_args]
        for volume in (spec.root, *spec.volumes):
            args += ["-blockdev", json.dumps(self._blockdev(volume)),
                     "-device", _device_option(self._device(volume))]
        spec.console_log.parent.mkdir(parents=True, exist_ok=True)
        self._console_log = spec.console_log
        self._console_offset = spec.console_log.stat().st_size if spec.console_log.exists() else 0
        with open(self._dir / "qemu.log", "wb") as qemu_log:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=qemu_log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self.log.info("%s: qemu pid %d (%s) booting %s", spec.instance_id, self._proc.pid, self.accel,
                      spec.root.image)
        self._wait_qmp(qmp_path)
        self._ssh_port = self._forwarded_port()
        threading.Thread(target=self._reap, name=f"vm-reaper-{spec.instance_id}", daemon=True).start()

    def _wait_qmp(self, path: Path) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"qemu exited with status {self._proc.returncode}: {self._qemu_log()}")
            if path.exists():
                try:
                    with self._qmp():
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"qemu's QMP socket did not answer within 20 s: {self._qemu_log()}")

    def _forwarded_port(self) -> int:
        with self._lock, self._qmp() as qmp:
            usernet = qmp.command("human-monitor-command", **{"command-line": "info usernet"})
        # "  TCP[HOST_FORWARD]  12       127.0.0.1 34567       10.0.2.15    22     0     0"
        for line in str(usernet).splitlines():
            fields = line.split()
            if fields and fields[0] == "TCP[HOST_FORWARD]" and fields[-3] == "22":
                return int(fields[3])
        raise RuntimeError(f"no SSH port forward in QEMU's 'info usernet': {usernet!r}")

    def _qmp(self) -> QMP:
        assert self._dir is not None
        return QMP(self._dir / "qmp.sock")

    def _names(self, volume: Volume) -> tuple[str, str]:
        serial = nvme_serial(volume.volume_id)
        return f"n{serial}", f"d{serial}"

    def _blockdev(self, volume: Volume) -> dict:
        node, _ = self._names(volume)
        return {"driver": "raw", "node-name": node,
                "file": {"driver": "file", "filename": str(volume.image)}}

    def _device(self, volume: Volume) -> dict:
        node, dev = self._names(volume)
        if self._nitro:
            return {"driver": "nvme", "id": dev, "drive": node, "serial": nvme_serial(volume.volume_id)}
        return {"driver": "virtio-blk-pci", "id": dev, "drive": node, "serial": xen_name(volume.device_name)}

    def _console_since_start(self) -> bytes:
        try:
            with open(self._console_log, "rb") as f:
                f.seek(self._console_offset)
                return f.read()
        except OSError:
            return b""

    def _qemu_log(self) -> str:
        try:
            return (self._dir / "qemu.log").read_text(errors="replace").strip()[-2000:]
        except OSError:
            return "(no qemu log)"

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _reap(self) -> None:
        self.returncode = self._proc.wait()
        self.log.info("qemu pid %d exited with status %d", self._proc.pid, self.returncode)
        self._cleanup()
        _live.discard(self)
        self._exited.set()
        if self.on_exit is not None:
            self.on_exit(self.returncode)

    def _cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
