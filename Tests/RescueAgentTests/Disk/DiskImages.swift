import Glibc
import Testing

@testable import RescueAgent

/// Builds real disk images for the disk tests with the host's own tools. Every loop device and
/// mount the builder makes is undone inside the same shell command (trap on EXIT).
enum DiskImages {
    /// Shell function `fs IMG OFF_MIB SIZE_MIB "mkfs…" "populate…"` makes and fills a filesystem
    /// in a window of the image.
    static let prelude = #"""
        set -e
        LOOPS=""; MNTS=""
        cleanup() { for m in $MNTS; do umount "$m" 2>/dev/null; rmdir "$m"; done; for l in $LOOPS; do losetup -d "$l" 2>/dev/null; done; }
        trap cleanup EXIT
        fs() {
            l=$(losetup -f --show -o $(($2*1048576)) --sizelimit $(($3*1048576)) "$1"); LOOPS="$l $LOOPS"
            $4 "$l" >/dev/null 2>&1
            if [ -n "$5" ]; then m=$(mktemp -d /tmp/keyrescue-disk-test-mnt-XXXXXX); MNTS="$m $MNTS"; mount "$l" "$m"; (cd "$m"; eval "$5"); umount "$m"; MNTS="${MNTS#"$m "}"; rmdir "$m"; fi
        }
        ROOTFILES='mkdir -p etc home/admin usr/lib; printf "ID=debian\nVERSION_ID=12\n" > etc/os-release; echo "root:x:0:0::/root:/bin/sh" > etc/passwd'

        """#

    /// A 48 MiB GPT image: an EFI partition (vfat) and a 38 MiB Linux partition at 9 MiB.
    static func efiAndLinux(_ image: String, mkfs: String, populate: String) -> String {
        """
        truncate -s 48M \(image)
        sgdisk -n1:1M:+8M -t1:ef00 -n2:0:0 -t2:8300 \(image) >/dev/null
        fs \(image) 1 8 "mkfs.vfat" ""
        fs \(image) 9 38 "\(mkfs)" "\(populate)"

        """
    }

    static func build(_ script: String) throws {
        try sh(prelude + script)
    }
}
