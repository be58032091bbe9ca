"""The `namespace` instance runtime: user-data run for real, as the instance.

Its / is its own root volume (a loop device's partition), in private mount, PID, UTS and
network namespaces, with a private /dev (a host directory bind-mounted) that holds only its
own disks, named as EC2 presents them (see devices.py), instance-store disks included. In
its network namespace the cloud answers at the same http://127.0.0.1:PORT as far as its VPC
carries the traffic, and its sshd listens on port 22 (instance_network.py). Its shutdown,
poweroff, halt and reboot end only itself; reboot(2) in a PID namespace ends only that namespace.
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

from . import devices, instance_store
from .disks import run
from .disk_release import release_partitions
from .instance_network import InstanceNetwork
from .mounts import mounts_of, unmount_inside
from .namespace_guest import DROPPED_CAPS, INIT, SHIM, setup_script
from .runtime import LaunchSpec, Volume

log = logging.getLogger("localcloud.namespace")

# The instance's own mount, UTS and PID namespaces; its PID 1 is unshare's child.
UNSHARE = ("unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child", "--propagation", "private")
_BASIC_NODES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                "urandom": (1, 9), "tty": (5, 0)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_gone(pid: int | None, timeout: float = 5) -> None:
    """The namespace's init exits after unshare; its mounts go only when it has."""
    deadline = time.monotonic() + timeout
    while pid is not None and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)


def _kill_unshare(proc: subprocess.Popen) -> int | None:
    """Kills unshare and the namespace's init it forked; returns the init's pid, if it had one.
    --kill-child's death signal is set by the child after the fork, so a SIGKILL of unshare alone
    in the first milliseconds of a boot (a stop right behind a start) leaves the init running,
    orphaned, naming nothing of its cloud. So unshare is frozen first (it forks no more), then its
    child, if any, is killed (the whole PID namespace with it), then unshare."""
    _signal(proc.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 2
    while _state(proc.pid) not in ("T", "Z", None) and time.monotonic() < deadline:
        time.sleep(0.005)
    child = NamespaceRuntime._ns_init_pid(proc.pid)   # a stopped unshare reaps nothing: the pid stays its child's
    if child:
        _signal(child, signal.SIGKILL)
    _signal(proc.pid, signal.SIGKILL)
    proc.wait()
    return child


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _sysfs_dev(name: str) -> tuple[int, int]:
    major, minor = Path(f"/sys/class/block/{name}/dev").read_text().strip().split(":")
    return int(major), int(minor)


class AttachedDisk:
    """One volume as a host loop device (+ partitions) and its names in the private /dev."""

    def __init__(self, volume: Volume, names: devices.DeviceNames) -> None:
        self.volume = volume
        self.names = names
        self.loop = run("losetup", "--find", "--show", str(volume.image))
        subprocess.run(["partx", "-a", self.loop], capture_output=True)   # fails without a table: fine

    def partitions(self) -> list[tuple[int, str]]:
        base = os.path.basename(self.loop)
        found = []
        for entry in Path(f"/sys/class/block/{base}").glob(f"{base}p*"):
            found.append((int(entry.name[len(base) + 1:]), entry.name))
        return sorted(found)

    def devices(self) -> set[tuple[int, int]]:
        base = os.path.basename(self.loop)
        return {_sysfs_dev(base)} | {_sysfs_dev(name) for _, name in self.partitions()}

    def release(self, ns_pid: int | None, deadline: float) -> None:
        """Unmounts what the running instance still has mounted from it, then drops its
        partitions and the loop device (disk_release.py: never a stale partition)."""
        if ns_pid is not None:
            unmount_inside(ns_pid, mounts_of(ns_pid, self.devices()))
        release_partitions(self.loop, deadline)


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
        self._network: InstanceNetwork | None = None

    # InstanceRuntime -------------------------------------------------------
    def start(self, spec: LaunchSpec) -> None:
        with self._lock:
            self._spec = spec
            self._stopping = False
            self._prepare_dirs(spec)
            root = self._add_disk(spec.root, root=True)
            for store in spec.instance_store:
                instance_store.ensure(store)
                self._add_disk(Volume(store.serial, store.image, ""), store=True)
            for volume in spec.volumes:
                self._add_disk(volume)
            enter_net: list[str] = []
            if spec.network is not None:
                self._network = InstanceNetwork(spec.network, int((self.ctl / "ssh-port").read_text()),
                                                self.ctl / "ssh-forwarded")
                self._network.open()
                enter_net = ["nsenter", f"--net={self._network.path}"]
            parts = root.partitions()
            if not parts:
                raise RuntimeError(f"root volume {spec.root.volume_id} has no partition to boot")
            partition = f"/dev/{parts[0][1]}"
            fstype = run("blkid", "-p", "-s", "TYPE", "-o", "value", partition, check=False)
            script = setup_script(str(self.mountpoint), partition, fstype, str(self.dev), str(self.ctl),
                                  hostname=spec.instance_id, marker=str(self.workdir))
            (self.workdir / "setup.sh").write_text(script)
            # The console is a pipe (so /dev/console, /dev/ttyS0 → /proc/1/fd/1 work inside),
            # copied to the console log by a thread until the last writer in the instance exits.
            self._proc = subprocess.Popen(
                [*enter_net, *UNSHARE, "setpriv", "--bounding-set", DROPPED_CAPS, "/bin/sh", str(self.workdir / "setup.sh")],
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
        """The device goes away; whatever the instance still had mounted from it goes with it."""
        with self._lock:
            disk = self._disks.pop(volume.volume_id, None)
            if disk is not None:
                self._remove_nodes(disk)
                disk.release(self.init_pid(), time.monotonic() + 10)

    def holds_mounted(self, volume_id: str) -> bool:
        """True while a filesystem on the volume is mounted inside the running instance. Asked
        with the cloud's lock held, so it does not wait for this runtime's (a stop holds it for
        seconds): it reads what is there, and a disk going away meanwhile counts as unmounted."""
        disk = self._disks.get(volume_id)
        pid = self.init_pid()
        try:
            return disk is not None and pid is not None and bool(mounts_of(pid, disk.devices()))
        except OSError:
            return False

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
                    child = _kill_unshare(proc) or child
                _wait_gone(child)
            self._release_all()
            if self._spec is not None:
                for store in self._spec.instance_store:   # a stop erases instance storage
                    instance_store.erase(store)

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

    # internals --------------------------------------------------------------
    def _prepare_dirs(self, spec: LaunchSpec) -> None:
        shutil.rmtree(self.dev, ignore_errors=True)
        for d in (self.dev, self.ctl, self.mountpoint, self.dev / "pts", self.dev / "shm",
                  self.dev / "disk" / "by-id"):
            d.mkdir(parents=True, exist_ok=True)
        for name, (major, minor) in _BASIC_NODES.items():
            os.mknod(self.dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
            os.chmod(self.dev / name, 0o666)   # mknod's mode passes the umask: 0644 left /dev/null root's only
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                             ("ptmx", "pts/ptmx"), ("console", "/proc/1/fd/1"), ("ttyS0", "/proc/1/fd/1"),
                             ("kmsg", "/proc/1/fd/1")):
            os.symlink(target, self.dev / name)
        (self.ctl / "init").write_text(INIT)
        (self.ctl / "shim").write_text(SHIM)
        os.chmod(self.ctl / "shim", 0o755)
        (self.ctl / "power").unlink(missing_ok=True)
        if not (self.ctl / "ssh-port").exists():   # the host port: the same at every boot
            (self.ctl / "ssh-port").write_text(str(_free_port()))
        # Own network namespace: sshd on 22 there (forwarded); else the host's, on the host port.
        (self.ctl / "sshd-args").write_text(
            "-p 22" if spec.network is not None else f"-p {(self.ctl / 'ssh-port').read_text()} -o ListenAddress=127.0.0.1")
        if spec.user_data and not (self.ctl / "user-data").exists():
            (self.ctl / "user-data").write_bytes(spec.user_data)

    def _names_for(self, volume: Volume, root: bool) -> devices.DeviceNames:
        assert self._spec is not None
        if not self._spec.nitro:
            return devices.xen_names(volume.device_name)
        used = {d.names.disk for d in self._disks.values()}
        index = 0 if root else next(i for i in range(1, 64) if f"nvme{i}n1" not in used)
        return devices.nitro_names(index, volume.volume_id, volume.device_name)

    def _store_names(self, serial: str) -> devices.DeviceNames:
        """Instance storage is NVMe, even on a Xen type (i3): the next free nvmeN."""
        used = {d.names.disk for d in self._disks.values()}
        return devices.instance_store_names(next(i for i in range(64) if f"nvme{i}n1" not in used), serial)

    def _add_disk(self, volume: Volume, root: bool = False, store: bool = False) -> AttachedDisk:
        names = self._store_names(volume.volume_id) if store else self._names_for(volume, root)
        disk = AttachedDisk(volume, names)
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
            disk.release(None, deadline)
        self._disks.clear()
        if self._network is not None:
            self._network.close()
            self._network = None

    def init_pid(self) -> int | None:
        """The instance's PID 1 as the host sees it, while it runs (SSM runs commands in its namespaces)."""
        proc = self._proc
        return self._ns_init_pid(proc.pid) if proc is not None and proc.poll() is None else None

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
