"""The shell scripts a namespace instance runs: setup (host side, as the namespace's
PID 1 before it pivots into the root volume), init (the instance's PID 1, the image's
own /bin/sh) and the power shim that stands in for shutdown/poweroff/halt/reboot.
"""
from __future__ import annotations

import shlex

# Capabilities an instance does not get: nothing it runs may load modules, set the
# clock, reach raw devices, make device nodes (it could reach the host's disks),
# or change its network (addresses and routes are the cloud's, as the VPC's are).
DROPPED_CAPS = ("-sys_module,-sys_time,-sys_rawio,-mknod,-net_admin,-sys_boot,-syslog,"
                "-mac_admin,-mac_override,-audit_control,-wake_alarm,-block_suspend")

SHIM_NAMES = ("shutdown", "poweroff", "halt", "reboot")


def setup_script(root: str, partition: str, fstype: str, dev: str, ctl: str, hostname: str, marker: str) -> str:
    """`marker` (the instance's work directory on the host) is init's argument, unused by it: its
    command line names its cloud, so a sweep finds it even when nothing else does (sweep.py)."""
    q = shlex.quote
    options = "nouuid" if fstype == "xfs" else "defaults"
    binds = "\n".join(
        f'[ -f "$R/usr/sbin/{n}" ] && [ ! -L "$R/usr/sbin/{n}" ] && mount --bind "$C/shim" "$R/usr/sbin/{n}"'
        for n in SHIM_NAMES)
    return f"""set -e
R={q(root)}; C={q(ctl)}
mount -o {options} {q(partition)} "$R"
[ ! -L "$R/usr" ] && [ ! -L "$R/usr/sbin" ]
mount -t proc proc "$R/proc"
for p in sysrq-trigger sys; do [ -e "$R/proc/$p" ] || continue; mount --bind "$R/proc/$p" "$R/proc/$p"; mount -o remount,bind,ro "$R/proc/$p"; done
mount -t sysfs -o ro sysfs "$R/sys"
mount --bind {q(dev)} "$R/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mkdir -p "$R/run/localcloud/ctl" "$R/run/localcloud/bin" "$R/run/localcloud/oldroot"
mount --bind "$C" "$R/run/localcloud/ctl"
for n in {' '.join(SHIM_NAMES)}; do ln -s ../ctl/shim "$R/run/localcloud/bin/$n"; done
{binds}
echo {q(hostname)} > /proc/sys/kernel/hostname
cd "$R"
pivot_root . run/localcloud/oldroot
cd /
umount -l /run/localcloud/oldroot
rmdir /run/localcloud/oldroot
exec /bin/sh /run/localcloud/ctl/init {q(marker)}
"""


INIT = r"""# PID 1 of a localcloud namespace instance.
trap 'exit 0' TERM INT
export PATH=/run/localcloud/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
C=/run/localcloud/ctl
echo "[localcloud] $(cat /proc/sys/kernel/hostname) up ($(. /etc/os-release; echo "$PRETTY_NAME"))"
# cloud-init's final stage runs scripts-per-boot before scripts-user (its default
# cloud_final_modules): the image's per-boot scripts at every boot, in alphabetical order,
# executable files only; then, at the first boot only, the user-data.
for f in /var/lib/cloud/scripts/per-boot/*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    echo "[localcloud] running per-boot script ${f##*/}"
    "$f" </dev/null &
    wait $!
    echo "[localcloud] per-boot script ${f##*/} exited with status $?"
done
if [ -s $C/user-data ] && [ ! -e $C/user-data.done ]; then
    : > $C/user-data.done
    if [ "$(head -c 2 $C/user-data)" = "#!" ]; then
        cp $C/user-data /run/localcloud/user-data && chmod 700 /run/localcloud/user-data
        echo "[localcloud] running user-data"
        /run/localcloud/user-data </dev/null &
        wait $!
        echo "[localcloud] user-data exited with status $?"
    else
        echo "[localcloud] user-data is not a script (#!…); not run"
    fi
fi
if [ -x /usr/sbin/sshd ] && [ -s $C/sshd-args ]; then
    # The image's own sshd judges logins with the image's own authorized_keys, sshd_config and
    # PAM: on port 22 in the instance's network namespace (the cloud forwards a host port to it).
    mkdir -p /run/sshd && chmod 0755 /run/sshd
    if /usr/sbin/sshd $(cat $C/sshd-args) -o PidFile=/run/sshd.pid; then
        # Said once the host can reach it: in its own namespace, when the cloud's forward is up.
        for i in $(seq 1 50); do [ "$(cat $C/sshd-args)" != "-p 22" ] || [ -e $C/ssh-forwarded ] && break; sleep 0.1; done
        echo "[localcloud] sshd listening ($(cat $C/sshd-args))"
    fi
fi
while :; do sleep 1 & wait $!; done
"""

SHIM = r"""#!/bin/sh
# localcloud: ends this instance only (the cloud sees it and acts as EC2 would).
name=${0##*/}
case "$name $*" in
    reboot*|*" -r"*|*" --reboot"*) what=reboot ;;
    *) what=poweroff ;;
esac
echo "[localcloud] $name $*: $what"
echo $what > /run/localcloud/ctl/power
kill -TERM 1
"""
