"""What the guest does at boot, delivered from outside the disk (pure: text in, text out).

The image needs no agent of ours: QEMU's fw_cfg carries a setup script and its inputs, and the kernel
command line asks systemd (>= 240, systemd-run-generator) to run it once at boot:

    systemd.run="/bin/sh -c 'modprobe qemu_fw_cfg; exec /bin/sh …/opt/localcloud/boot/raw'"
    systemd.unit=multi-user.target systemd.wants=kernel-command-line.service

The script writes only to /run (udev rule, units) except what cloud-init would write on a first boot:
missing SSH host keys, the launch key in the login user's authorized_keys and a per-instance marker
under /var/lib/localcloud so that user-data and the key are applied once per instance, as on EC2.
"""
from __future__ import annotations

import shlex

FW_CFG_PREFIX = "opt/localcloud"
FW_CFG_DIR = f"/sys/firmware/qemu_fw_cfg/by_name/{FW_CFG_PREFIX}"
SLIRP_HOST = "10.0.2.2"      # QEMU user networking's address of the host's 127.0.0.1
SLIRP_GUEST = "10.0.2.15"
READY_LINE = "localcloud: guest setup done"

BOOT_SCRIPT = r"""
set -u
FW=/sys/firmware/qemu_fw_cfg/by_name/opt/localcloud
say() { echo "localcloud: $*"; }
. "$FW/config/raw"
STATE=/var/lib/localcloud/$LC_INSTANCE_ID

# EBS names: QEMU's NVMe model is "QEMU NVMe Ctrl" and can't be set, so udev's own by-id link is
# nvme-QEMU_NVMe_Ctrl_<serial>; add the one a Nitro instance has, from the serial (= volume id).
# Xen style: virtio disks whose serial is the EC2 name (xvdf) get /dev/xvdf.
mkdir -p /run/udev/rules.d
cat >/run/udev/rules.d/61-localcloud-ebs.rules <<'EOF'
KERNEL=="nvme*[0-9]n*[0-9]", ENV{DEVTYPE}=="disk", ATTRS{serial}=="vol*", SYMLINK+="disk/by-id/nvme-Amazon_Elastic_Block_Store_$attr{serial}"
KERNEL=="nvme*[0-9]n*[0-9]p*[0-9]", ENV{DEVTYPE}=="partition", ATTRS{serial}=="vol*", SYMLINK+="disk/by-id/nvme-Amazon_Elastic_Block_Store_$attr{serial}-part%n"
KERNEL=="vd*[!0-9]", ATTRS{serial}=="xvd*", SYMLINK+="$attr{serial}"
KERNEL=="vd*[0-9]", ATTRS{serial}=="xvd*", SYMLINK+="$attr{serial}%n"
EOF
udevadm control --reload
udevadm trigger --subsystem-match=block --action=change
say "udev rule for EBS device names installed"

# Network: static slirp address (no DHCP wait); eth0 thanks to net.ifnames=0.
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
ip addr replace 10.0.2.15/24 dev eth0
ip route replace default via 10.0.2.2
say "eth0 10.0.2.15/24 via 10.0.2.2"

# The cloud at the same URL as on the host: 127.0.0.1:PORT -> slirp's host address.
mkdir -p /run/systemd/system
cat >/run/systemd/system/localcloud-endpoint.socket <<EOF
[Socket]
ListenStream=127.0.0.1:$LC_CLOUD_PORT
[Install]
WantedBy=sockets.target
EOF
cat >/run/systemd/system/localcloud-endpoint.service <<EOF
[Service]
ExecStart=/lib/systemd/systemd-socket-proxyd 10.0.2.2:$LC_CLOUD_PORT
EOF

# Power button (QMP system_powerdown): logind needs dbus, which minimal images lack.
for d in /sys/class/input/event*; do
    [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && PWR=/dev/input/${d##*/} && break
done
if [ -n "${PWR:-}" ]; then
cat >/run/systemd/system/localcloud-powerbutton.service <<EOF
[Service]
ExecStart=/bin/sh -c 'dd if=$PWR bs=24 count=1 status=none >/dev/null && systemctl poweroff'
EOF
fi
systemctl daemon-reload
systemctl start localcloud-endpoint.socket
say "cloud endpoint 127.0.0.1:$LC_CLOUD_PORT -> 10.0.2.2:$LC_CLOUD_PORT"
[ -n "${PWR:-}" ] && systemctl start localcloud-powerbutton.service && say "power button $PWR"

# SSH host keys, as cloud-init makes them on a first boot.
if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
    ssh-keygen -A && say "generated SSH host keys"
    systemctl reset-failed ssh.service 2>/dev/null; systemctl restart ssh.service
fi

mkdir -p "$STATE"
# fw_cfg raw files report size 0: test existence, not -s.
if [ -e "$FW/authorized-keys/raw" ] && [ ! -e "$STATE/key-installed" ]; then
    home=$(getent passwd "$LC_LOGIN_USER" | cut -d: -f6)
    if [ -n "$home" ] && [ -d "$home" ]; then
        install -d -m 700 -o "$LC_LOGIN_USER" -g "$(id -g "$LC_LOGIN_USER")" "$home/.ssh"
        cat "$FW/authorized-keys/raw" >>"$home/.ssh/authorized_keys"
        chown "$LC_LOGIN_USER:$(id -g "$LC_LOGIN_USER")" "$home/.ssh/authorized_keys"
        chmod 600 "$home/.ssh/authorized_keys"
        touch "$STATE/key-installed"; say "launch key added for $LC_LOGIN_USER"
    else
        say "no user $LC_LOGIN_USER: launch key not installed"
    fi
fi

if [ -e "$FW/user-data/raw" ] && [ ! -e "$STATE/user-data-ran" ]; then
    # Kept with the instance's state, as cloud-init keeps its scripts (/run is mounted noexec).
    cp "$FW/user-data/raw" "$STATE/user-data" && chmod 700 "$STATE/user-data"
    touch "$STATE/user-data-ran"
    if [ "$(head -c 2 "$STATE/user-data")" = "#!" ]; then
        systemd-run --no-block --unit=localcloud-user-data --setenv=HOME=/root --working-directory=/ \
            --property=StandardOutput=journal+console \
            --property=StandardError=journal+console "$STATE/user-data"
        say "user-data started"
    else
        say "user-data is not a script (no #!); ignored"
    fi
fi
sync
say "guest setup done"
"""


def kernel_cmdline(root_partuuid: str) -> str:
    run = f"/bin/sh -c 'modprobe qemu_fw_cfg; exec /bin/sh {FW_CFG_DIR}/boot/raw'"
    return " ".join([
        f"root=PARTUUID={root_partuuid}", "rw", "console=ttyS0,115200", "net.ifnames=0",
        # systemd.run= alone would make its own target the default (run the command instead of booting):
        # boot multi-user.target as usual and pull the command's service in beside it.
        f'systemd.run="{run}"', "systemd.run_success_action=none", "systemd.run_failure_action=none",
        "systemd.unit=multi-user.target", "systemd.wants=kernel-command-line.service",
    ])


def guest_config(instance_id: str, cloud_port: int, login_user: str) -> str:
    """Shell assignments the boot script sources (values quoted: nothing in them is executed)."""
    return "".join(f"{k}={shlex.quote(v)}\n" for k, v in (
        ("LC_INSTANCE_ID", instance_id), ("LC_CLOUD_PORT", str(cloud_port)), ("LC_LOGIN_USER", login_user)))


def fw_cfg_files(instance_id: str, cloud_port: int, login_user: str, user_data: bytes | None,
                 authorized_keys: str | None) -> dict[str, bytes]:
    """fw_cfg entry name (below opt/localcloud/) → content."""
    files = {"boot": BOOT_SCRIPT.lstrip().encode(),
             "config": guest_config(instance_id, cloud_port, login_user).encode()}
    if user_data:
        files["user-data"] = user_data
    if authorized_keys:
        files["authorized-keys"] = authorized_keys.strip().encode() + b"\n"
    return files
