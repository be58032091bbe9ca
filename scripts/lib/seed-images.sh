# shellcheck shell=bash
# Seed disk images for the local cloud's AMIs, built once from the cached Debian rootfs.
#
#   source scripts/lib/seed-images.sh
#   dir=$(seed_images [ssh|vm])  # builds what is missing, prints the directory holding
#                             #   debian-12.img  (ext4 on GPT, login user admin)
#                             #   debian-12-xfs.img (XFS on GPT, login user admin)
#                             #   al2023.img     (XFS on GPT, ec2-user, Amazon Linux 2023 os-release,
#                             #                   ec2-instance-connect's sshd AuthorizedKeysCommand)
#                             # each with its default user in sudoers.d (passwordless, as on AWS)
# Each image is an 8 GiB sparse file (EC2's smallest AL2023 root), one Linux partition
# starting at 1 MiB. al2023.img is Debian underneath: the same shell, curl and sshd (and xz:
# the agent arrives xz-compressed), with an ec2-user and an os-release saying amzn 2023, so it serves as the rescue host
# and as a target. The `vm` flavour (for --instances vm) adds a kernel, systemd and udev
# (see rootfs.sh). A flock makes concurrent callers wait for one build.
# shellcheck source=scripts/lib/rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

SEED_VERSION=v6

# seed_build IMAGE FSTYPE USER OSFLAVOUR TARBALL
seed_build() {
    local img=$1 fs=$2 user=$3 flavour=$4 tarball=$5 tmp mnt loop uuid
    tmp="$img.tmp"
    mnt=$(mktemp -d /tmp/localcloud-seed.XXXXXX)
    rm -f "$tmp"
    truncate -s 8G "$tmp"
    sgdisk -n 1:2048:0 -t 1:8300 -c 1:root "$tmp" >/dev/null
    # The partition ends 34 sectors before the disk (GPT backup); the filesystem must
    # not run over it.
    loop=$(losetup --find --show --offset $((2048 * 512)) --sizelimit $(((16777216 - 34 - 2048 + 1) * 512)) "$tmp")
    # shellcheck disable=SC2064
    trap "umount '$mnt' 2>/dev/null; losetup -d '$loop' 2>/dev/null; rmdir '$mnt'" RETURN
    if [ "$fs" = xfs ]; then
        mkfs.xfs -q -L / "$loop"
    else
        mkfs.ext4 -q -L root "$loop"
    fi
    uuid=$(blkid -s UUID -o value "$loop")
    mount "$loop" "$mnt"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$mnt" -xf "$tarball"
    useradd -R "$mnt" -m -s /bin/bash -U "$user"
    seed_sudoers "$mnt" "$user"
    ssh-keygen -A -f "$mnt" >/dev/null
    printf 'UUID=%s / %s defaults 0 1\n' "$uuid" "$fs" >"$mnt/etc/fstab"
    mkdir -p "$mnt/etc/cloud/cloud.cfg.d"
    printf 'system_info:\n  default_user:\n    name: %s\n' "$user" >"$mnt/etc/cloud/cloud.cfg"
    echo "localhost" >"$mnt/etc/hostname"
    if [ "$flavour" = amzn ]; then
        # The bootstrap unpacks the agent with xz or python3; a real AL2023 host has python3 (its
        # cloud-init, which runs the user-data, is Python), Debian's minbase has neither. The
        # host's xz (Debian 12 too; liblzma5 is in minbase) stands in.
        install -m 755 "$(command -v xz)" "$mnt/usr/bin/xz"
        seed_instance_connect "$mnt"
        rm -f "$mnt/etc/os-release"
        cat >"$mnt/etc/os-release" <<'OS'
NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.11.20260427 (localcloud: Debian 12 underneath)"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
HOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"
OS
    fi
    umount "$mnt"
    losetup -d "$loop"
    mv "$tmp" "$img"
}

# seed_sudoers ROOT USER: on AWS's AMIs (Amazon Linux 2023, Debian, Ubuntu) cloud-init's
# users-groups module gives the default user passwordless sudo in this file; the Instance Connect
# route runs the agent with `sudo -n` as that user.
seed_sudoers() {
    local root=$1 user=$2
    install -d -m 750 "$root/etc/sudoers.d"
    printf '# Created by cloud-init (localcloud seed)\n\n# User rules for %s\n%s ALL=(ALL) NOPASSWD:ALL\n' \
        "$user" "$user" >"$root/etc/sudoers.d/90-cloud-init-users"
    chmod 440 "$root/etc/sudoers.d/90-cloud-init-users"
}

# seed_instance_connect ROOT: AL2023's ec2-instance-connect package, as far as sshd sees it: its
# AuthorizedKeysCommand /opt/aws/bin/eic_run_authorized_keys %u %f, run as the package's own
# ec2-instance-connect user, asks the instance metadata service for the keys SendSSHPublicKey
# pushed for the user in the last 60 s. The real script also checks the keys' signatures
# against AWS's signer certificate (from IMDS too); this one prints what IMDS answers.
seed_instance_connect() {
    local root=$1
    useradd -R "$root" -r -M -d /nonexistent -s /usr/sbin/nologin ec2-instance-connect
    install -d -m 755 "$root/opt/aws/bin"
    cat >"$root/opt/aws/bin/eic_run_authorized_keys" <<'EIC'
#!/bin/sh
# ec2-instance-connect (localcloud): sshd's AuthorizedKeysCommand, called with %u %f.
[ -n "$1" ] || exit 1
imds=http://169.254.169.254
token=$(curl -s -f -m 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$imds/latest/api/token") || exit 0
curl -s -f -m 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/managed-ssh-keys/active-keys/$1/" || exit 0
EIC
    chmod 755 "$root/opt/aws/bin/eic_run_authorized_keys"
    mkdir -p "$root/etc/ssh/sshd_config.d"
    printf 'AuthorizedKeysCommand /opt/aws/bin/eic_run_authorized_keys %%u %%f\nAuthorizedKeysCommandUser ec2-instance-connect\n' \
        >"$root/etc/ssh/sshd_config.d/60-ec2-instance-connect.conf"
}

seed_images() {
    local flavour=${1:-ssh} tarball key dir
    tarball=$(rootfs_tarball "$flavour") || return 1
    key=$(printf '%s|%s' "$(basename "$tarball")" "$SEED_VERSION" | sha256sum | cut -c1-12)
    dir="$KEYRESCUE_CACHE/localcloud-seed-$key"
    mkdir -p "$dir"
    (
        flock 9
        [ -s "$dir/debian-12.img" ] || { echo "seed: building debian-12.img (ext4)" >&2; seed_build "$dir/debian-12.img" ext4 admin debian "$tarball"; } || exit 1
        [ -s "$dir/debian-12-xfs.img" ] || { echo "seed: building debian-12-xfs.img (xfs)" >&2; seed_build "$dir/debian-12-xfs.img" xfs admin debian "$tarball"; } || exit 1
        [ -s "$dir/al2023.img" ] || { echo "seed: building al2023.img (xfs, ec2-user)" >&2; seed_build "$dir/al2023.img" xfs ec2-user amzn "$tarball"; } || exit 1
    ) 9>"$dir/.lock" || return 1
    echo "$dir"
}
