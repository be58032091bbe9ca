"""The sweep's pure core (localcloud/sweep.py): what belongs to one cloud, from /proc and losetup."""
from __future__ import annotations

import os

from localcloud.sweep import Proc, cloud_loops, mounts_in, plan

STATE = "/var/tmp/keyrescue-localcloud/35311"
ROOT_DEV, VOL_DEV, OTHER_DEV = (259, 3), (259, 4), (259, 9)


def test_loops_are_the_clouds_by_backing_file_deleted_or_not():
    listing = "\n".join([
        f"/dev/loop1 {STATE}/volumes/vol-1.img (deleted)",
        f"/dev/loop2 {STATE}/instances/i-1/store-0.img",
        "/dev/loop3 /var/tmp/keyrescue-localcloud/353110/volumes/vol-2.img",   # another cloud's port
        "/dev/loop4 /var/tmp/keyrescue-localcloud/3531/volumes/vol-3.img",
        "/dev/loop5 ",
    ])
    assert cloud_loops(listing, STATE) == ["/dev/loop1", "/dev/loop2"]
    assert cloud_loops(listing, STATE + "/") == ["/dev/loop1", "/dev/loop2"]


def test_mountinfo_lines_give_device_and_mount_point():
    text = ("2201 2190 259:3 / / rw,relatime - xfs /dev/loop1p1 rw\n"
            "2202 2201 0:22 / /proc rw - proc proc rw\n"
            "2230 2201 259:4 / /mnt/my\\040data rw - xfs /dev/loop2p1 rw\n")
    assert mounts_in(text) == [(ROOT_DEV, "/"), ((0, 22), "/proc"), (VOL_DEV, "/mnt/my data")]


def _proc(pid, cmdline="", ns="mnt:[1]", mounts=()):
    return Proc(pid, cmdline, ns, tuple(mounts))


def test_an_instance_whose_processes_no_longer_name_it_is_found_by_its_root():
    """The leak this sweep exists for: init and sshd of a namespace instance, their unshare gone,
    root on the cloud's loop partition; every process of that mount namespace goes."""
    host = [((8, 1), "/")]
    leaked = [(ROOT_DEV, "/"), ((0, 22), "/proc"), (VOL_DEV, "/mnt/data")]
    procs = [_proc(1, "/sbin/init", mounts=host),
             _proc(500, "/bin/sh /run/localcloud/ctl/init", "mnt:[7]", leaked),
             _proc(501, "sshd: /usr/sbin/sshd -p 22 [listener]", "mnt:[7]", leaked),
             _proc(600, "/bin/sh /run/localcloud/ctl/init /var/tmp/keyrescue-localcloud/40255/instances/i-2",
                   "mnt:[8]", [(OTHER_DEV, "/")])]   # another cloud's instance: not ours
    left = plan(procs, "mnt:[1]", {ROOT_DEV, VOL_DEV}, STATE, ["/dev/loop1"], [])
    assert left.pids == {500, 501}
    assert list(left.inside.values()) == [["/", "/mnt/data"]]   # one entry per namespace
    assert left.host_mounts == [] and not left.empty()


def test_processes_naming_the_cloud_go_and_host_mounts_are_unmounted_never_killed():
    procs = [_proc(10, f"unshare --pid --fork setpriv /bin/sh {STATE}/instances/i-1/setup.sh"),
             _proc(11, f"/bin/sh /run/localcloud/ctl/init {STATE}/instances/i-1", "mnt:[5]"),
             _proc(12, f"python3 -m localcloud --port 35311 --state-dir {STATE}", mounts=[(VOL_DEV, "/tmp/k1")]),
             _proc(13, "bash", mounts=[(VOL_DEV, "/tmp/k1")]),
             _proc(os.getpid(), f"sweep {STATE}/instances/")]
    left = plan(procs, "mnt:[1]", {VOL_DEV}, STATE, [], ["lc35311-i-1"])
    assert left.pids == {10, 11}   # the cloud itself and the sweeper are never killed
    assert left.host_mounts == ["/tmp/k1"]


def test_nothing_of_the_cloud_is_empty():
    procs = [_proc(1, "/sbin/init", mounts=[((8, 1), "/")])]
    assert plan(procs, "mnt:[1]", set(), STATE, [], []).empty()
