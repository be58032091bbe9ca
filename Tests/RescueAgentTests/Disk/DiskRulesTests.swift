import CLinux
import Testing

@testable import RescueAgent

/// The pure cores of the disk layer: option table, candidate rules, LVM and fstab parsing.
@Suite struct DiskRulesTests {
    @Test(arguments: [
        ("xfs", true, ["nouuid", "norecovery"]), ("xfs", false, ["nouuid"]),
        ("ext4", true, ["noload"]), ("ext4", false, []), ("btrfs", true, ["rescue=nologreplay"]), ("ext2", true, []),
    ])
    func mountOptions(type: String, readOnly: Bool, data: [String]) {
        let options = MountOptions.forFilesystem(type, readOnly: readOnly)
        #expect(options.data == data)
        let always = UInt(KR_MS_NOSUID | KR_MS_NODEV | KR_MS_NOEXEC)
        #expect(options.flags & always == always)
        #expect((options.flags & UInt(KR_MS_RDONLY) != 0) == readOnly)
    }

    @Test func candidateRules() {
        #expect(
            RootCandidates.verdict(partitionType: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", filesystem: "vfat")
                == .skipped("EFI system partition"))
        #expect(
            RootCandidates.verdict(partitionType: "21686148-6449-6e6f-744e-656564454649", filesystem: nil)
                == .skipped("BIOS boot partition"))
        #expect(RootCandidates.verdict(partitionType: "0x83", filesystem: "swap") == .skipped("swap"))
        #expect(RootCandidates.verdict(partitionType: "0x83", filesystem: "xfs") == .candidate)
        #expect(RootCandidates.verdict(partitionType: "0x8e", filesystem: "LVM2_member") == .candidate)
        #expect(RootCandidates.verdict(partitionType: nil, filesystem: nil) == .skipped("no filesystem found"))
        #expect(
            RootCandidates.orderSubvolumes(["home", "snapshots", "root", "@"]) == ["@", "root", "home", "snapshots"])
    }

    @Test func lvmSegmentsBecomeWindowsAndOddLayoutsAreReported() {
        let output = """
              vg|root|linear|0|5|/dev/loop3:2-6|4194304
              vg|swap|linear|0|2|/dev/loop3:0-1|4194304
              vg|data|linear|0|2|/dev/loop3:7-8|4194304
              vg|data|linear|2|1|/dev/loop3:20-20|4194304
              vg|pool|thin-pool|0|4|pool_tdata:0-3|4194304
            """
        let (volumes, unsupported) = LVM.parseSegments(output, device: "/dev/loop3", peStart: 1_048_576)
        let extent: UInt64 = 4_194_304
        let root = LVM.LogicalVolume(volumeGroup: "vg", name: "root", offset: 1_048_576 + 2 * extent, size: 5 * extent)
        let swap = LVM.LogicalVolume(volumeGroup: "vg", name: "swap", offset: 1_048_576, size: 2 * extent)
        #expect(volumes == [root, swap])
        #expect(unsupported.count == 2)
        #expect(unsupported[0].contains("vg/data: extents not contiguous"))
        #expect(unsupported[1].contains("thin-pool"))
        #expect(LVM.parsePEStart("  /dev/loop3|1048576\n") == 1_048_576)
    }

    @Test(arguments: [
        ("UUID=ABC-1", FstabSpec.uuid("abc-1")), ("LABEL=home", .label("home")),
        ("PARTUUID=\"1234abcd-02\"", .partUUID("1234abcd-02")), ("/dev/disk/by-uuid/x", .uuid("x")),
        ("/dev/mapper/vg--a-home", .logicalVolume("vg-a/home")), ("/dev/vg0/home", .logicalVolume("vg0/home")),
        ("/dev/xvda3", .rootDiskPartition(3)), ("/dev/nvme0n1p2", .rootDiskPartition(2)),
    ])
    func fstabSpecs(spec: String, expected: FstabSpec) {
        #expect(FstabSpec.parse(spec) == expected)
    }

    @Test func fstabSpecsTheAgentCannotPlace() {
        #expect(FstabSpec.parse("/dev/nvme1n1p1") == nil)
        #expect(FstabSpec.parse("/dev/xvdf") == nil)
        #expect(FstabSpec.parse("tmpfs") == nil)
    }

    @Test func volumeIDsAndXenNames() {
        #expect(VolumeLookup.serial(of: "vol-0abc123") == "vol0abc123")
        #expect(VolumeLookup.xenNames("/dev/sdf") == ["/dev/sdf", "/dev/xvdf"])
        #expect(VolumeLookup.xenNames("/dev/xvdg") == ["/dev/xvdg", "/dev/sdg"])
    }
}
