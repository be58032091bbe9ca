# shellcheck shell=bash
# Cached Debian root filesystems for tests, the local cloud and the demo.
#
#   source scripts/lib/rootfs.sh
#   tarball=$(rootfs_tarball ssh)     # builds once, then prints the cached path
#
# Flavours (one place, so every user shares the same cache entries):
#   ssh : minbase + openssh-server, curl, sudo    (agent login proof, namespace instances;
#                                                  sudo: an AMI's default user has it, and the
#                                                  Instance Connect route runs the agent with sudo -n)
#   vm  : ssh + kernel, systemd, udev, DHCP       (QEMU-booted instances, the demo's login)
# The package list is part of the cache key: changing it builds a new tarball.
# The tarball keeps numeric owners and xattrs; a flock makes concurrent callers wait
# for one build instead of racing.

KEYRESCUE_CACHE=${KEYRESCUE_CACHE:-/var/cache/keyrescue}
KEYRESCUE_DEBIAN_MIRROR=${KEYRESCUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRESCUE_DEBIAN_SUITE=${KEYRESCUE_DEBIAN_SUITE:-bookworm}

rootfs_packages() {
    case "$1" in
        ssh) echo "openssh-server,curl,ca-certificates,sudo" ;;
        vm) echo "$(rootfs_packages ssh),linux-image-amd64,systemd-sysv,udev,ifupdown,isc-dhcp-client,iproute2,nvme-cli,xfsprogs,e2fsprogs" ;;
        *) echo "rootfs: unknown flavour '$1' (ssh, vm)" >&2; return 2 ;;
    esac
}

rootfs_tarball() {
    local flavour=$1 pkgs key out tmp
    pkgs=$(rootfs_packages "$flavour") || return 2
    key=$(printf '%s|%s|%s' "$KEYRESCUE_DEBIAN_SUITE" "$pkgs" v1 | sha256sum | cut -c1-12)
    out="$KEYRESCUE_CACHE/rootfs-$flavour-$key.tar"
    mkdir -p "$KEYRESCUE_CACHE"
    (
        flock 9
        if [ ! -s "$out" ]; then
            tmp=$(mktemp -d "$KEYRESCUE_CACHE/debootstrap.XXXXXX")
            echo "rootfs: debootstrap $KEYRESCUE_DEBIAN_SUITE ($flavour: $pkgs), once; cached in $out" >&2
            if ! debootstrap --variant=minbase --include="$pkgs" "$KEYRESCUE_DEBIAN_SUITE" "$tmp/root" \
                "$KEYRESCUE_DEBIAN_MIRROR" >"$tmp.log" 2>&1; then
                echo "rootfs: debootstrap failed; last lines of $tmp.log:" >&2
                tail -20 "$tmp.log" >&2
                rm -rf "$tmp"
                exit 1
            fi
            # Host keys made by the package's postinst belong to no one: each image gets
            # its own when it is laid out (ssh-keygen -A in the image builder).
            rm -f "$tmp"/root/etc/ssh/ssh_host_*
            rm -rf "$tmp"/root/var/cache/apt/archives/*.deb "$tmp"/root/var/lib/apt/lists/*
            tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/root" -cf "$out.tmp" .
            mv "$out.tmp" "$out"
            rm -rf "$tmp" "$tmp.log"
        fi
    ) 9>"$out.lock" || return 1
    echo "$out"
}
