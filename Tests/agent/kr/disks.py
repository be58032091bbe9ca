"""Disk image plumbing: partition tables, filesystems written at an offset, loop devices and mounts
that are always undone (context managers), LVM with a private config so the host's volume groups
and other engineers' devices are never scanned."""
import contextlib
import json
import os
import subprocess
import tempfile

from .sh import out, run

MiB = 1024 * 1024

# GPT type codes (sgdisk short forms).
ESP, BIOS_BOOT, LINUX, SWAP, LVM_PV = "ef00", "ef02", "8300", "8200", "8e00"


def gpt(img, size_mb, parts):
    """A sparse image with a GPT; `parts` = [(number, size_mb or None for the rest, type code)],
    laid out in list order (so a partition numbered 14 may come first, as on Ubuntu)."""
    run("truncate", "-s", f"{size_mb}M", img)
    args = []
    for number, size, code in parts:
        args += ["-n", f"{number}:0:{f'+{size}M' if size else '0'}", "-t", f"{number}:{code}"]
    run("sgdisk", *args, img)


def mbr(img, size_mb, parts):
    """A sparse image with an MBR (DOS) table; `parts` = [(size_mb or None, type hex)]."""
    run("truncate", "-s", f"{size_mb}M", img)
    lines = ["label: dos"] + [f", {f'{s}M' if s else ''}, {t}" for s, t in parts]
    run("sfdisk", "-q", img, input="\n".join(lines) + "\n")


def partitions(img):
    """{number: (start_bytes, size_bytes)} from the image's partition table."""
    table = json.loads(out("sfdisk", "-J", img))["partitiontable"]
    sector = table.get("sectorsize", 512)
    found = {}
    for p in table["partitions"]:
        number = int(p["node"][len(img):].lstrip("p"))
        found[number] = (p["start"] * sector, p["size"] * sector)
    return found


def extent(img, part):
    """(offset, size) of partition `part`, or the whole file when `part` is None."""
    if part is None:
        return 0, os.path.getsize(img)
    return partitions(img)[part]


def ext4_from_dir(img, part, src, uuid=None, label=None):
    """ext4 filled from `src` at partition `part` (None: whole file) without mounting anything."""
    start, size = extent(img, part)
    args = ["mkfs.ext4", "-q", "-F", "-E", f"offset={start}", "-d", src]
    if uuid:
        args += ["-U", uuid]
    if label:
        args += ["-L", label]
    run(*args, img, f"{size // 1024}k")


def vfat(img, part):
    start, size = extent(img, part)
    run("mkfs.vfat", "-F", "16", "--offset", start // 512, img, size // 1024)


def swap(img, part, workdir):
    """mkswap has no offset option: make the signature in a scratch file and copy it in place."""
    start, size = extent(img, part)
    scratch = os.path.join(workdir, "swap.tmp")
    run("truncate", "-s", size, scratch)
    run("mkswap", scratch)
    run("dd", f"if={scratch}", f"of={img}", "bs=1M", f"seek={start}", "oflag=seek_bytes",
        "conv=notrunc,sparse", "status=none")
    os.remove(scratch)


def loop(img, part=None, read_only=False):
    """A loop device over partition `part` of `img` (the whole file when None); always detached."""
    start, size = extent(img, part)
    return loop_at(img, start, size, read_only)


@contextlib.contextmanager
def loop_at(img, start, size, read_only=False):
    """A loop device over bytes [start, start+size) of `img`; always detached."""
    args = ["losetup", "--find", "--show", "--offset", start, "--sizelimit", size]
    if read_only:
        args.append("--read-only")
    dev = out(*args, img).strip()
    try:
        yield dev
    finally:
        run("losetup", "-d", dev, check=False)


@contextlib.contextmanager
def mounted(dev, fstype, options="", where=None):
    """Mounts `dev` on a fresh directory (or `where`); always unmounted and the directory removed."""
    target = where or tempfile.mkdtemp(prefix="kr-proof-mnt-", dir="/var/tmp")
    args = ["mount", "-t", fstype] + (["-o", options] if options else []) + [dev, target]
    run(*args)
    try:
        yield target
    finally:
        unmounted = subprocess.run(["umount", target], capture_output=True, text=True)
        if unmounted.returncode != 0:
            # Busy: detach it anyway so nothing stays behind, and say so.
            subprocess.run(["umount", "-l", target], capture_output=True)
        if where is None:
            os.rmdir(target)
        if unmounted.returncode != 0:
            raise RuntimeError(f"umount {target}: {unmounted.stderr.strip()}")


def copy_tree(src, dst):
    """Copies a directory's content keeping owners, modes and xattrs."""
    run("cp", "-a", f"{src}/.", f"{dst}/")


def lvm_config(dev):
    """Scans only `dev`, never talks to device-mapper (this machine's kernel may have none), keeps no
    metadata backups in the host's /etc/lvm."""
    return ("devices { filter = [ \"a|^%s$|\", \"r|.*|\" ] obtain_device_list_from_udev = 0 } "
            "global { activation = 0 } backup { backup = 0 archive = 0 }") % dev


def lvm(dev, *args):
    return run("lvm", args[0], "--config", lvm_config(dev), *args[1:])


def device_mapper_available():
    with open("/proc/misc") as f:
        return any(line.split()[1:] == ["device-mapper"] for line in f)


def lv_extent(dev, vg, lv="root"):
    """(offset, size) in bytes of a linear logical volume within the physical volume `dev`."""
    pe_start = int(lvm(dev, "pvs", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start",
                       dev).stdout.split()[0])
    name, ranges, extent_size, size = lvm(
        dev, "lvs", "--noheadings", "--units", "b", "--nosuffix",
        "-o", "lv_name,seg_pe_ranges,vg_extent_size,lv_size", f"{vg}/{lv}").stdout.split()
    first_pe = int(ranges.rsplit(":", 1)[1].split("-")[0])
    return pe_start + first_pe * int(extent_size), int(size)
