"""The disk image matrix: how each image is built and what a correct agent finds on it.

Images are built once per session into a cache directory; tests work on copies."""
import contextlib
import os
import shutil
import uuid as uuidlib
from dataclasses import dataclass, field

from . import disks
from .disks import BIOS_BOOT, ESP, LINUX, LVM_PV, SWAP
from .fakeroot import Account, RootSpec, populate
from .sh import run

OLD_KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOldKeyNumberOneForTestsOnly0000000000000000 old-one",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQColdkeytwoxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx old-two",
]


@dataclass
class Expect:
    """What a correct agent reports, and where the root (and home) live for read-only checks."""
    user: str
    uid: int
    gid: int
    distro: str
    filesystem: str
    part: int | None = None  # root partition number; None: whole disk (or LVM, see lv)
    lv: int | None = None  # partition holding the LVM physical volume of the root
    subvol: str | None = None  # btrfs subvolume holding the root
    home_subvol: str | None = None  # btrfs subvolume mounted at /home
    home_part: int | None = None  # partition mounted at /home
    selinux: bool = False
    existing_keys: list = field(default_factory=list)
    error: tuple = ()  # expected error codes when the disk cannot be rescued

    @property
    def home(self):
        return f"/home/{self.user}"

    @property
    def authorized_keys(self):
        return f"{self.home}/.ssh/authorized_keys"


def account(name):
    return Account(name, 1000, 1000, f"/home/{name}")


class Builder:
    """Builds the catalogue's images into `cache_dir`, each once; `vg` names our LVM volume group."""

    def __init__(self, cache_dir, vg, host_key_pub):
        self.dir = cache_dir
        self.vg = vg
        self.host_key_pub = host_key_pub

    def image(self, name):
        path = os.path.join(self.dir, f"{name}.img")
        if not os.path.exists(path):
            work = os.path.join(self.dir, f"{name}.work")
            os.makedirs(work)
            try:
                getattr(self, "build_" + name)(path + ".tmp", work)
                os.rename(path + ".tmp", path)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return path

    def root(self, work, spec):
        src = os.path.join(work, "root")
        os.makedirs(src)
        spec.host_key_pub = spec.host_key_pub or self.host_key_pub
        populate(src, spec)
        return src

    # Ubuntu cloud image layout: root is partition 1 but comes last; 14 BIOS boot, 15 EFI.
    def build_ubuntu_gpt(self, img, work):
        disks.gpt(img, 128, [(14, 4, BIOS_BOOT), (15, 16, ESP), (1, None, LINUX)])
        disks.vfat(img, 15)
        disks.ext4_from_dir(img, 1, self.root(work, RootSpec("ubuntu", "24.04", account("ubuntu"),
                                                             cloud_default_user="ubuntu")),
                            label="cloudimg-rootfs")

    # Amazon Linux: XFS over the whole disk, SELinux permissive, an earlier key in place.
    def build_amzn_xfs(self, img, work):
        run("truncate", "-s", "320M", img)
        spec = RootSpec("amzn", "2023", account("ec2-user"), cloud_default_user="ec2-user",
                        selinux="permissive", existing_keys=OLD_KEYS)
        src = self.root(work, spec)
        with disks.loop(img) as dev:
            run("mkfs.xfs", "-q", "-f", "-L", "/", dev)
            with disks.mounted(dev, "xfs") as mnt:
                disks.copy_tree(src, mnt)

    # Fedora: EFI, ext4 /boot, btrfs with `root` and `home` subvolumes named in fstab.
    def build_fedora_btrfs(self, img, work):
        disks.gpt(img, 320, [(1, 16, ESP), (2, 32, LINUX), (3, None, LINUX)])
        disks.vfat(img, 1)
        fs_uuid, boot_uuid = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        boot = os.path.join(work, "boot")
        os.makedirs(boot)
        disks.ext4_from_dir(img, 2, boot, uuid=boot_uuid)
        fstab = (f"UUID={fs_uuid} / btrfs subvol=root,compress=zstd:1 0 0\n"
                 f"UUID={boot_uuid} /boot ext4 defaults 1 2\n"
                 f"UUID={fs_uuid} /home btrfs subvol=home,compress=zstd:1 0 0\n")
        src = self.root(work, RootSpec("fedora", "41", account("fedora"),
                                       cloud_default_user="fedora", fstab=fstab))
        with disks.loop(img, 3) as dev:
            run("mkfs.btrfs", "-q", "-f", "-U", fs_uuid, dev)
            with disks.mounted(dev, "btrfs") as mnt:
                run("btrfs", "-q", "subvolume", "create", f"{mnt}/root")
                run("btrfs", "-q", "subvolume", "create", f"{mnt}/home")
                disks.copy_tree(f"{src}/home", f"{mnt}/home")
                shutil.rmtree(f"{src}/home/fedora")
                disks.copy_tree(src, f"{mnt}/root")

    # Debian on an MBR disk, no cloud-init: the distro table says `admin`.
    def build_debian_mbr(self, img, work):
        disks.mbr(img, 96, [(None, "83")])
        disks.ext4_from_dir(img, 1, self.root(work, RootSpec("debian", "12", account("admin"))))

    # RHEL-like: ext4 /boot and an LVM volume group holding the root. The logical volume is never
    # activated (this kernel may lack device-mapper): its ext4 is written at its offset in the PV.
    def build_rhel_lvm(self, img, work):
        disks.gpt(img, 160, [(1, 32, LINUX), (2, None, LVM_PV)])
        boot = os.path.join(work, "boot")
        os.makedirs(boot)
        disks.ext4_from_dir(img, 1, boot)
        src = self.root(work, RootSpec("rhel", "9.4", account("ec2-user")))
        with disks.loop(img, 2) as dev:
            disks.lvm(dev, "pvcreate", "-q", dev)
            disks.lvm(dev, "vgcreate", "-q", self.vg, dev)
            disks.lvm(dev, "lvcreate", "-q", "-y", "-an", "-Zn", "-n", "root", "-l", "100%FREE",
                      self.vg)
            lv_offset, lv_size = disks.lv_extent(dev, self.vg)
        part_start, _ = disks.extent(img, 2)
        run("mkfs.ext4", "-q", "-F", "-E", f"offset={part_start + lv_offset}", "-d", src, img,
            f"{lv_size // 1024}k")

    # Root on partition 4, after EFI, BIOS boot and swap.
    def build_root_p4(self, img, work):
        disks.gpt(img, 128, [(1, 16, ESP), (2, 1, BIOS_BOOT), (3, 16, SWAP), (4, None, LINUX)])
        disks.vfat(img, 1)
        disks.swap(img, 3, work)
        disks.ext4_from_dir(img, 4, self.root(work, RootSpec("debian", "12", account("admin"),
                                                             cloud_default_user="admin")))

    # No partition table: ext4 over the whole disk.
    def build_whole_ext4(self, img, work):
        run("truncate", "-s", "96M", img)
        disks.ext4_from_dir(img, None, self.root(work, RootSpec("sles", "15.6", account("ec2-user"))))

    # Two ordinary users, no cloud-init and a distro the table does not know: no user can be chosen.
    def build_two_users(self, img, work):
        disks.gpt(img, 64, [(1, None, LINUX)])
        spec = RootSpec("gentoo", "2.15", account("alice"),
                        extra_accounts=[Account("bob", 1001, 1001, "/home/bob")])
        disks.ext4_from_dir(img, 1, self.root(work, spec))

    # /home on its own partition of the same disk (fstab by UUID): the agent must mount it too.
    def build_home_partition(self, img, work):
        disks.gpt(img, 128, [(1, 64, LINUX), (2, None, LINUX)])
        home_uuid = str(uuidlib.uuid4())
        src = self.root(work, RootSpec("ubuntu", "22.04", account("ubuntu"), cloud_default_user="ubuntu",
                                       fstab=f"LABEL=root / ext4 defaults 0 1\n"
                                             f"UUID={home_uuid} /home ext4 defaults 0 2\n"))
        home = os.path.join(work, "home")
        os.rename(f"{src}/home", home)
        os.makedirs(f"{src}/home")
        disks.ext4_from_dir(img, 1, src, label="root")
        disks.ext4_from_dir(img, 2, home, uuid=home_uuid)

    # /home on a filesystem that is not on this disk (another EBS volume).
    def build_home_elsewhere(self, img, work):
        disks.gpt(img, 64, [(1, None, LINUX)])
        src = self.root(work, RootSpec("ubuntu", "22.04", account("ubuntu"), cloud_default_user="ubuntu",
                                       fstab=f"/dev/nvme1n1p1 /home ext4 defaults,nofail 0 2\n"))
        shutil.rmtree(f"{src}/home/ubuntu")
        disks.ext4_from_dir(img, 1, src)

    # EFI and a data partition, no Linux root anywhere.
    def build_no_root(self, img, work):
        disks.gpt(img, 96, [(1, 16, ESP), (2, None, LINUX)])
        disks.vfat(img, 1)
        data = os.path.join(work, "data")
        os.makedirs(f"{data}/photos")
        with open(f"{data}/README", "w") as f:
            f.write("just data\n")
        disks.ext4_from_dir(img, 2, data)

    # A root whose block group descriptors are garbage: blkid still says ext4, mount fails.
    def build_corrupt(self, img, work):
        self.build_debian_mbr(img, work)
        start, _ = disks.extent(img, 1)
        with open(img, "r+b") as f:
            f.seek(start + 2048)  # 1 KiB blocks: superblock in block 1, descriptors from block 2
            f.write(bytes((i * 37 + 11) % 251 for i in range(8192)))


CATALOGUE = {
    "ubuntu_gpt": Expect("ubuntu", 1000, 1000, "ubuntu", "ext4", part=1),
    "amzn_xfs": Expect("ec2-user", 1000, 1000, "amzn", "xfs", selinux=True, existing_keys=OLD_KEYS),
    "fedora_btrfs": Expect("fedora", 1000, 1000, "fedora", "btrfs", part=3, subvol="root",
                           home_subvol="home"),
    "debian_mbr": Expect("admin", 1000, 1000, "debian", "ext4", part=1),
    "rhel_lvm": Expect("ec2-user", 1000, 1000, "rhel", "ext4", lv=2),
    "root_p4": Expect("admin", 1000, 1000, "debian", "ext4", part=4),
    "whole_ext4": Expect("ec2-user", 1000, 1000, "sles", "ext4"),
    "home_partition": Expect("ubuntu", 1000, 1000, "ubuntu", "ext4", part=1, home_part=2),
    "two_users": Expect("", 0, 0, "gentoo", "ext4", part=1, error=("noLoginUser",)),
    "no_root": Expect("", 0, 0, "", "", error=("noLinuxRoot",)),
    "corrupt": Expect("", 0, 0, "", "", error=("corruptFilesystem", "mountFailed", "noLinuxRoot")),
}
RESCUABLE = [n for n, e in CATALOGUE.items() if not e.error]


@contextlib.contextmanager
def target_root_ro(img, expect: Expect, vg):
    """Mounts the image's root (and a btrfs /home subvolume) read-only; yields the root directory."""
    with contextlib.ExitStack() as stack:
        if expect.lv:
            with disks.loop(img, expect.lv, read_only=True) as pv:
                lv_offset, lv_size = disks.lv_extent(pv, vg)
            part_start, _ = disks.extent(img, expect.lv)
            dev = stack.enter_context(disks.loop_at(img, part_start + lv_offset, lv_size, True))
            yield stack.enter_context(disks.mounted(dev, expect.filesystem, "ro"))
            return
        dev = stack.enter_context(disks.loop(img, expect.part, read_only=True))
        opts = {"xfs": "ro,nouuid", "btrfs": f"ro,subvol={expect.subvol}"}.get(expect.filesystem, "ro")
        root = stack.enter_context(disks.mounted(dev, expect.filesystem, opts))
        if expect.home_subvol:
            stack.enter_context(disks.mounted(dev, "btrfs", f"ro,subvol={expect.home_subvol}",
                                              where=f"{root}/home"))
        if expect.home_part:
            home_dev = stack.enter_context(disks.loop(img, expect.home_part, read_only=True))
            stack.enter_context(disks.mounted(home_dev, "ext4", "ro", where=f"{root}/home"))
        yield root
