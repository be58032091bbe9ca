import Glibc
import RescueModel
import Testing

@testable import RescueAgent

@Suite(.enabled(if: isRootWithLoopDevices, "needs root, loop devices and mount(2)"), .serialized)
struct OpenDiskTargetTests {
    func open(_ image: String, readOnly: Bool = true) throws -> any OpenedTarget {
        try openDiskTarget(.image(image), readOnly: readOnly)
    }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func gptWithEFIBiosBootAndBootFindsRootOnFourthPartitionAndChangesNothing() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/gpt.img"
        try DiskImages.build(
            """
            truncate -s 80M \(image)
            sgdisk -n1:1M:+8M -t1:ef00 -n2:0:+1M -t2:ef02 -n3:0:+20M -t3:8300 -n4:0:0 -t4:8300 \(image) >/dev/null
            fs \(image) 1 8 "mkfs.vfat" ""
            fs \(image) 10 20 "mkfs.ext4 -q" "mkdir grub"
            fs \(image) 30 49 "mkfs.ext4 -q" "$ROOTFILES"
            """)
        let before = try sh("sha256sum \(image)")
        let target = try open(image)
        #expect(exists("\(target.rootPath)/etc/os-release"))
        #expect(target.facts.partition == "\(image) partition 4")
        #expect(target.facts.filesystem == "ext4")
        #expect(target.facts.device == image)
        try target.close()
        try target.close()
        #expect(leftovers(under: scratch.path).isEmpty)
        #expect(try sh("sha256sum \(image)") == before)
    }

    @Test func mbrWithSwapMountsReadWriteWhenAsked() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/mbr.img"
        try DiskImages.build(
            """
            truncate -s 64M \(image)
            printf 'start=2048,size=16384,type=82\\nstart=18432,type=83\\n' | sfdisk -q \(image)
            fs \(image) 1 8 "mkswap" ""
            fs \(image) 9 54 "mkfs.ext4 -q" "$ROOTFILES"
            """)
        let target = try open(image, readOnly: false)
        #expect(target.facts.partition == "\(image) partition 2")
        try sh("touch \(target.rootPath)/home/admin/written")
        try target.close()
        let again = try open(image)
        defer { try? again.close() }
        #expect(exists("\(again.rootPath)/home/admin/written"))
        try again.close()
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func wholeDiskXFSWithTheUUIDOfAMountedXFS() throws {
        let scratch = try Scratch()
        let host = "\(scratch.path)/host.img"
        let image = "\(scratch.path)/xfs.img"
        let uuid = "5d2b8c4e-6f0a-4b1c-9d3e-7a8b9c0d1e2f"
        try DiskImages.build(
            """
            truncate -s 320M \(host) \(image)
            mkfs.xfs -q -m uuid=\(uuid) \(host)
            mkfs.xfs -q -m uuid=\(uuid) \(image)
            fs \(image) 0 320 "true" "$ROOTFILES"
            """)
        // The "rescue host's" own XFS with the same UUID, mounted by the test for the test's length.
        let hostMount = "\(scratch.path)/hostmnt"
        try sh("mkdir \(hostMount) && mount -o loop,ro \(host) \(hostMount)")
        var hostMounted = true
        defer { if hostMounted { _ = try? sh("umount \(hostMount)") } }
        let target = try open(image)
        #expect(target.facts.partition == image)
        #expect(target.facts.filesystem == "xfs")
        #expect(target.facts.uuid == uuid)
        #expect(exists("\(target.rootPath)/etc/passwd"))
        try target.close()
        try sh("umount \(hostMount)")
        hostMounted = false
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func btrfsRootAndHomeSubvolumes() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/btrfs.img"
        try DiskImages.build(
            """
            truncate -s 180M \(image)
            sgdisk -n1:1M:+8M -t1:ef00 -n2:0:0 -t2:8300 \(image) >/dev/null
            fs \(image) 1 8 "mkfs.vfat" ""
            fs \(image) 9 170 "mkfs.btrfs -q" "btrfs -q subvolume create root; btrfs -q subvolume create home; (cd root; eval \\"\\$ROOTFILES\\"); mkdir -p home/admin; echo hi > home/admin/file"
            """)
        let target = try open(image)
        #expect(target.facts.subvolume == "root")
        #expect(target.facts.filesystem == "btrfs")
        #expect(!exists("\(target.rootPath)/home/admin/file"))
        let uuid = try #require(target.facts.uuid)
        let home = try target.mountSecondary(
            FstabEntry(
                spec: "UUID=\(uuid)", mountPoint: "/home", type: "btrfs", options: ["subvol=home", "compress=zstd:1"]))
        #expect(home == .mounted(at: "\(target.rootPath)/home"))
        #expect(exists("\(target.rootPath)/home/admin/file"))
        let other = try target.mountSecondary(
            FstabEntry(spec: "UUID=0badc0de-0000-4000-8000-000000000000", mountPoint: "/srv", type: "ext4", options: [])
        )
        #expect(
            other
                == .onAnotherVolume(
                    "no partition, logical volume or btrfs volume of \(image) matches UUID=0badc0de-0000-4000-8000-000000000000"
                ))
        try target.close()
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func noLinuxRootListsWhatWasFound() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/data.img"
        try DiskImages.build(DiskImages.efiAndLinux(image, mkfs: "mkfs.ext4 -q -L data", populate: "mkdir stuff"))
        let error = #expect(throws: RescueReport.Failure.self) { try open(image) }
        #expect(error?.code == .noLinuxRoot)
        #expect(error?.message.contains("partition 1 (vfat): skipped") == true)
        #expect(error?.message.contains("partition 2 (ext4, label data): no etc/os-release") == true)
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func corruptFilesystemNamesThePartitionAndSuggestsFsck() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/corrupt.img"
        // Zero the group descriptors (block 1): blkid still sees ext4, mount(2) says EUCLEAN.
        try DiskImages.build(
            DiskImages.efiAndLinux(image, mkfs: "mkfs.ext4 -q -b 4096", populate: "$ROOTFILES")
                + "dd if=/dev/zero of=\(image) bs=4096 seek=$((9*256+1)) count=1 conv=notrunc status=none\n")
        let error = #expect(throws: RescueReport.Failure.self) { try open(image) }
        #expect(error?.code == .corruptFilesystem)
        #expect(error?.message.contains("partition 2") == true)
        #expect(error?.hint.contains("fsck.ext4") == true)
        #expect(leftovers(under: scratch.path).isEmpty)
    }
}
