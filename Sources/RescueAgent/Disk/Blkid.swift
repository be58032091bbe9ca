import CBlkid

/// One entry of the disk's partition table, as libblkid reads it.
struct PartitionEntry: Sendable, Equatable {
    var number: Int
    /// Byte offset and length on the disk.
    var start: UInt64
    var size: UInt64
    /// GPT type GUID (lowercase) or MBR type as `0x83`.
    var type: String
    /// GPT partition name, when set.
    var name: String?
    /// PARTUUID (GPT unique GUID, or MBR `disk-id-NN`).
    var partUUID: String?
}

/// What a superblock probe found at some window of the disk.
struct FilesystemProbe: Sendable, Equatable {
    var type: String
    var uuid: String?
    var label: String?
}

/// libblkid over a file descriptor: the partition table and the filesystem at an offset.
/// Every probe is freed with `defer`.
enum Blkid {
    /// The partition table (`gpt`, `dos`) and its entries; nil when the disk has none.
    static func partitions(fd: Int32) -> (table: String, entries: [PartitionEntry])? {
        guard let probe = blkid_new_probe() else { return nil }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, 0, 0) == 0 else { return nil }
        blkid_probe_enable_superblocks(probe, 0)
        blkid_probe_enable_partitions(probe, 1)
        blkid_probe_set_partitions_flags(probe, Int32(BLKID_PARTS_ENTRY_DETAILS))
        guard let list = blkid_probe_get_partitions(probe) else { return nil }
        let table = blkid_partlist_get_table(list).flatMap { blkid_parttable_get_type($0) }.map { String(cString: $0) }
        var entries: [PartitionEntry] = []
        for index in 0..<blkid_partlist_numof_partitions(list) {
            guard let part = blkid_partlist_get_partition(list, index) else { continue }
            let typeString = blkid_partition_get_type_string(part).map { String(cString: $0).lowercased() }
            let mbrType = "0x" + String(blkid_partition_get_type(part), radix: 16)
            entries.append(
                PartitionEntry(
                    number: Int(blkid_partition_get_partno(part)),
                    start: UInt64(blkid_partition_get_start(part)) * 512,
                    size: UInt64(blkid_partition_get_size(part)) * 512,
                    type: typeString ?? mbrType,
                    name: blkid_partition_get_name(part).map { String(cString: $0) },
                    partUUID: blkid_partition_get_uuid(part).map { String(cString: $0).lowercased() }))
        }
        return (table ?? "unknown", entries)
    }

    /// The filesystem (or LVM PV, swap…) in the window `offset ..< offset+size` of `fd`
    /// (size 0: to the end); nil when nothing is recognised or the result is ambiguous.
    static func filesystem(fd: Int32, offset: UInt64 = 0, size: UInt64 = 0) -> FilesystemProbe? {
        guard let probe = blkid_new_probe() else { return nil }
        defer { blkid_free_probe(probe) }
        guard blkid_probe_set_device(probe, fd, blkid_loff_t(offset), blkid_loff_t(size)) == 0 else { return nil }
        blkid_probe_enable_partitions(probe, 0)
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(
            probe, Int32(BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL))
        guard blkid_do_safeprobe(probe) == 0 else { return nil }
        func value(_ name: String) -> String? {
            var data: UnsafePointer<CChar>?
            var length = 0
            guard blkid_probe_lookup_value(probe, name, &data, &length) == 0, let data else { return nil }
            return String(cString: data)
        }
        guard let type = value("TYPE") else { return nil }
        return FilesystemProbe(type: type, uuid: value("UUID"), label: value("LABEL"))
    }
}
