"""The `namespace` instance runtime: user-data run for real, as the instance.

Its / is its own root volume (a loop device's partition), in private mount, PID and
UTS namespaces, with a private /dev (a host directory bind-mounted) that holds only its
own disks, named as EC2 presents them (see devices.py). It shares the host's network
namespace, so the cloud is at the same http://127.0.0.1:PORT. Its shutdown, poweroff,
halt and reboot end only itself; reboot(2) in a PID namespace ends only that namespace.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

from . import devices
from .disks import run
from .namespace_guest import DROPPED_CAPS, INIT, SHIM, setup_script
from .runtime import LaunchSpec, Volume

log = logging.getLogger("localcloud.namespace")

_BASIC_NODES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                "urandom": (1, 9), "tty": (5, 0)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sysfs_dev(name: str) -> tuple[int, int]:
    major, minor = Path(f"/sys/class/block/{name}/dev").read_text().strip().split(":")
    return int(major), int(minor)


class AttachedDisk:
    """One volume as a host loop device (+ partitions) and its names in the private /dev."""

    def __init__(self, volume: Volume, names: devices.DeviceNames) -> None:
        self.volume = volume
        self.names = names
        self.loop = run("losetup", "--find", "--show", str(volume.image))
        proc = subprocess.run(["partx", "-a", self.loop], capture_output=True)
        self.partitioned = proc.returncode == 0

    def partitions(self) -> list[tuple[int, str]]:
        base = os.path.basename(self.loop)
        found = []
        for entry in Path(f"/sys/class/block/{base}").glob(f"{base}p*"):
            found.append((int(entry.name[len(base) + 1:]), entry.name))
        return sorted(found)

    def release(self, deadline: float) -> None:
        while self.partitioned:
            if subprocess.run(["partx", "-d", self.loop], capture_output=True).returncode == 0 or \
                    not self.partitions():
                break
            if time.monotonic() > deadline:
                log.warning("%s: partitions still busy; loop device left to autoclear", self.loop)
                break
            time.sleep(0.2)
        run("losetup", "-d", self.loop, check=False)


class NamespaceRuntime:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.dev = workdir / "dev"
        self.ctl = workdir / "ctl"
        self.mountpoint = workdir / "root"
        self._disks: dict[str, AttachedDisk] = {}
        self._proc: subprocess.Popen | None = None
        self._spec: LaunchSpec | None = None
        self._lock = threading.RLock()
        self._stopping = False

    # InstanceRuntime -------------------------------------------------------
    def start(self, spec: LaunchSpec) -> None:
        with self._lock:
            self._spec = spec
            self._stopping = False
            self._prepare_dirs(spec)
            root = self._add_disk(spec.root, root=True)
            for volume in spec.volumes:
                self._add_disk(volume)
            parts = root.partitions()
            if not parts:
                raise RuntimeError(f"root volume {spec.root.volume_id} has no partition to boot")
            partition = f"/dev/{parts[0][1]}"
            fstype = run("blkid", "-p", "-s", "TYPE", "-o", "value", partition, check=False)
            script = setup_script(str(self.mountpoint), partition, fstype, str(self.dev), str(self.ctl),
                                  hostname=spec.instance_id)
            (self.workdir / "setup.sh").write_text(script)
            # The console is a pipe (so /dev/console, /dev/ttyS0 → /proc/1/fd/1 work inside),
            # copied to the console log by a thread until the last writer in the instance exits.
            self._proc = subprocess.Popen(
                ["unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child",
                 "--propagation", "private",
                 "setpriv", "--bounding-set", DROPPED_CAPS, "/bin/sh", str(self.workdir / "setup.sh")],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True)
            threading.Thread(target=self._copy_console, args=(self._proc.stdout, spec.console_log),
                             daemon=True).start()
            threading.Thread(target=self._watch, args=(self._proc,), daemon=True).start()

    def attach(self, volume: Volume) -> None:
        with self._lock:
            if volume.volume_id not in self._disks:
                self._add_disk(volume)

    def detach(self, volume: Volume) -> None:
        with self._lock:
            disk = self._disks.pop(volume.volume_id, None)
            if disk is not None:
                self._remove_nodes(disk)
                disk.release(time.monotonic() + 2)

    def stop(self, force: bool = False) -> None:
        with self._lock:
            self._stopping = True
            proc = self._proc
            if proc is not None and proc.poll() is None:
                child = self._ns_init_pid(proc.pid)
                if child and not force:
                    os.kill(child, signal.SIGTERM)
                    try:
                        proc.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        pass
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)   # --kill-child takes the namespace with it
                    proc.wait()
            self._release_all()

    def is_running(self) -> bool:
        """A guest reboot in progress counts as running (the instance stays `running` on EC2)."""
        if self._proc is not None and self._proc.poll() is None:
            return True
        return self._proc is not None and not self._stopping and self.power_request() == "reboot"

    def ssh_endpoint(self) -> tuple[str, int] | None:
        try:
            return "127.0.0.1", int((self.ctl / "ssh-port").read_text())
        except (OSError, ValueError):
            return None

    def init_pid(self) -> int | None:
        """The instance's PID 1 as the host sees it, while it runs (SSM runs commands in its namespaces)."""
        proc = self._proc
        return self._ns_init_pid(proc.pid) if proc is not None and proc.poll() is None else None

    # internals --------------------------------------------------------------
    def _prepare_dirs(self, spec: LaunchSpec) -> None:
        shutil.rmtree(self.dev, ignore_errors=True)
        for d in (self.dev, self.ctl, self.mountpoint, self.dev / "pts", self.dev / "shm",
                  self.dev / "disk" / "by-id"):
            d.mkdir(parents=True, exist_ok=True)
        for name, (major, minor) in _BASIC_NODES.items():
            os.mknod(self.dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                             ("ptmx", "pts/ptmx"), ("console", "/proc/1/fd/1"), ("ttyS0", "/proc/1/fd/1"),
                             ("kmsg", "/proc/1/fd/1")):
            os.symlink(target, self.dev / name)
        (self.ctl / "init").write_text(INIT)
        (self.ctl / "shim").write_text(SHIM)
        os.chmod(self.ctl / "shim", 0o755)
        (self.ctl / "power").unlink(missing_ok=True)
        if not (self.ctl / "ssh-port").exists():
            (self.ctl / "ssh-port").write_text(str(_free_port()))
        if spec.user_data and not (self.ctl / "user-data").exists():
            (self.ctl / "user-data").write_bytes(spec.user_data)

    def _names_for(self, volume: Volume, root: bool) -> devices.DeviceNames:
        assert self._spec is not None
        if not self._spec.nitro:
            return devices.xen_names(volume.device_name)
        used = {d.names.disk for d in self._disks.values()}
        index = 0 if root else next(i for i in range(1, 64) if f"nvme{i}n1" not in used)
        return devices.nitro_names(index, volume.volume_id, volume.device_name)

    def _add_disk(self, volume: Volume, root: bool = False) -> AttachedDisk:
        disk = AttachedDisk(volume, self._names_for(volume, root))
        self._disks[volume.volume_id] = disk
        names = disk.names
        os.mknod(self.dev / names.disk, 0o660 | stat.S_IFBLK, os.makedev(*_sysfs_dev(os.path.basename(disk.loop))))
        for k, sysname in disk.partitions():
            os.mknod(self.dev / devices.partition_name(names, k), 0o660 | stat.S_IFBLK,
                     os.makedev(*_sysfs_dev(sysname)))
        for link, target in names.links:
            path = self.dev / link
            path.unlink(missing_ok=True)
            os.symlink(target, path)
            for k, _ in disk.partitions():
                # udev's by-id links end -partK; amazon-ec2-utils' /dev/sdf gets /dev/sdf1 …
                by_id = link.startswith("disk/by-id/")
                part_link = self.dev / (f"{link}-part{k}" if by_id else f"{link}{k}")
                part_link.unlink(missing_ok=True)
                os.symlink(("../../" if by_id else "") + devices.partition_name(names, k), part_link)
        return disk

    def _remove_nodes(self, disk: AttachedDisk) -> None:
        names = disk.names
        paths = [self.dev / names.disk] + [self.dev / devices.partition_name(names, k) for k, _ in disk.partitions()]
        for link, _ in names.links:
            paths.append(self.dev / link)
            paths.extend((self.dev / link).parent.glob(Path(link).name + "-part*"))
            paths.extend(p for p in (self.dev / link).parent.glob(Path(link).name + "[0-9]*") if p.is_symlink())
        for p in paths:
            if p.is_symlink() or p.exists():
                p.unlink()

    def _release_all(self) -> None:
        deadline = time.monotonic() + 10
        for disk in list(self._disks.values()):
            self._remove_nodes(disk)
            disk.release(deadline)
        self._disks.clear()

    @staticmethod
    def _ns_init_pid(unshare_pid: int) -> int | None:
        try:
            children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def power_request(self) -> str | None:
        try:
            return (self.ctl / "power").read_text().strip() or None
        except OSError:
            return None

    @staticmethod
    def _copy_console(pipe, log_path: Path) -> None:
        with pipe, open(log_path, "ab") as log_file:
            while chunk := pipe.read1(65536):
                log_file.write(chunk)
                log_file.flush()

    def _watch(self, proc: subprocess.Popen) -> None:
        """A guest reboot restarts the instance in place; anything else leaves it stopped."""
        proc.wait()
        with self._lock:
            if self._stopping or proc is not self._proc:
                return
            if self.power_request() == "reboot" and self._spec is not None:
                self._release_all()
                try:
                    self.start(self._spec)
                except Exception:
                    log.exception("%s: restart after reboot failed", self._spec.instance_id)
                    (self.ctl / "power").unlink(missing_ok=True)
