import CBlkid
import Glibc
import RescueModel

/// One place a filesystem may live on the disk: a partition, or the whole disk.
public struct DiskRegion: Equatable, Sendable {
    /// 1-based partition number; nil for a whole-disk filesystem.
    public var number: Int?
    public var offset: UInt64
    public var size: UInt64
    /// GPT type GUID or MBR type (`0x83`), as blkid gives it.
    public var partitionType: String?
    public var partUUID: String?
    /// What blkid found in it: ext4, xfs, btrfs, LVM2_member, vfat, swap …; nil when nothing.
    public var filesystem: String?
    public var uuid: String?
    public var label: String?

    public var name: String { number.map { "partition \($0)" } ?? "whole disk" }

    /// Filesystems that can hold a Linux root.
    public var mayHoldLinuxRoot: Bool { ["ext4", "ext3", "ext2", "xfs", "btrfs"].contains(filesystem ?? "") }
}

/// libblkid's view of a disk: its partition table and the filesystem in each partition, probed by
/// offset on the disk itself (no partition devices are needed).
public enum DiskLayout {
    public static func read(_ device: String) throws(RescueReport.Failure) -> (table: String?, regions: [DiskRegion]) {
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RescueReport.Failure(.volumeNotFound, "cannot open \(device): \(SystemError.text(errno))", hint: "check the path (and run as root)")
        }
        defer { close(fd) }
        guard let probe = blkid_new_probe() else {
            throw RescueReport.Failure(.internalError, "libblkid could not allocate a probe", hint: "")
        }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, 0, 0) == 0 else {
            throw RescueReport.Failure(.volumeNotFound, "libblkid cannot read \(device)", hint: "is it a disk or a disk image?")
        }
        let diskSize = UInt64(max(0, blkid_probe_get_size(probe)))
        blkid_probe_enable_partitions(probe, 1)
        blkid_probe_set_partitions_flags(probe, Int32(BLKID_PARTS_ENTRY_DETAILS))
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, Int32(BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL))
        var regions: [DiskRegion] = []
        var table: String?
        if let list = blkid_probe_get_partitions(probe), blkid_partlist_numof_partitions(list) > 0 {
            table = blkid_partlist_get_table(list).flatMap { blkid_parttable_get_type($0) }.map { String(cString: $0) }
            for index in 0..<blkid_partlist_numof_partitions(list) {
                guard let part = blkid_partlist_get_partition(list, index) else { continue }
                let start = UInt64(blkid_partition_get_start(part)) * 512
                let size = UInt64(blkid_partition_get_size(part)) * 512
                // MBR extended partitions are containers, not filesystems.
                if blkid_partition_is_extended(part) != 0 { continue }
                var region = DiskRegion(
                    number: Int(blkid_partition_get_partno(part)), offset: start, size: size,
                    partitionType: blkid_partition_get_type_string(part).map { String(cString: $0) }
                        ?? "0x" + String(blkid_partition_get_type(part), radix: 16),
                    partUUID: blkid_partition_get_uuid(part).map { String(cString: $0) })
                probeFilesystem(fd, &region)
                regions.append(region)
            }
        } else {
            var whole = DiskRegion(number: nil, offset: 0, size: diskSize)
            probeFilesystem(fd, &whole)
            regions.append(whole)
        }
        return (table, regions)
    }

    private static func probeFilesystem(_ fd: Int32, _ region: inout DiskRegion) {
        guard let probe = blkid_new_probe() else { return }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, blkid_loff_t(region.offset), blkid_loff_t(region.size)) == 0 else { return }
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, Int32(BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL))
        blkid_probe_enable_partitions(probe, 0)
        guard blkid_do_safeprobe(probe) == 0 else { return }
        region.filesystem = value(probe, "TYPE")
        region.uuid = value(probe, "UUID")
        region.label = value(probe, "LABEL")
    }

    private static func value(_ probe: blkid_probe, _ name: String) -> String? {
        var data: UnsafePointer<CChar>?
        var length = 0
        guard blkid_probe_lookup_value(probe, name, &data, &length) == 0, let data else { return nil }
        return String(cString: data)
    }
}
