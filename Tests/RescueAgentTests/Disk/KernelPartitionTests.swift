import RescueModel
import Testing

@testable import RescueAgent

/// Which kernel partition device may stand for a partition of the table (pure rules and a fake
/// sysfs tree; the real leftovers are made in Tests/agent/test_stale_partitions.py).
@Suite struct KernelPartitionTests {
    @Test func sysfsWindowsAreReadInBytesWithTheirDeviceNumbers() throws {
        let scratch = try Scratch()
        let disk = "\(scratch.path)/dev/block/7:3"
        try sh(
            """
            mkdir -p \(disk)/loop3p1 \(disk)/loop3p2 \(disk)/queue
            printf '1\\n' > \(disk)/loop3p1/partition; printf '2048\\n' > \(disk)/loop3p1/start
            printf '40960\\n' > \(disk)/loop3p1/size; printf '259:0\\n' > \(disk)/loop3p1/dev
            printf '2\\n' > \(disk)/loop3p2/partition; printf 'x\\n' > \(disk)/loop3p2/start
            """)
        let found = BlockDevices.kernelPartitions(of: disk)
        #expect(found.count == 1, "a directory without a readable window is not a partition")
        #expect(found.first?.window == .init(number: 1, start: 2048 * 512, size: 40960 * 512))
        #expect(found.first?.deviceNumber == "259:0")
    }

    @Test func deviceNumbersFollowGlibcsEncoding() {
        #expect(BlockDevices.deviceNumberString(0x0703) == "7:3")
        #expect(BlockDevices.deviceNumberString(0x1_0300) == "259:0")  // major 259 spills past 8 bits
        #expect(BlockDevices.deviceNumberString(0x0010_0700) == "7:256")  // minor 256 moves up
    }

    @Test func aFileIsNotADiskSoNoKernelPartitionIsOffered() {
        #expect(BlockDevices.partition(of: "/etc/hostname", number: 1, start: 1_048_576, size: 1_048_576) == nil)
    }
}

/// Which fstab entry must be mounted before the home is written (pure).
@Suite struct HomeMountTests {
    let entries = Fstab.parse(
        """
        LABEL=root / ext4 defaults 0 1
        UUID=aaaa /home ext4 defaults 0 2
        """)

    @Test func theHomesFilesystemIsChosenWhetherOrNotTheDirectoryExists() {
        #expect(HomeMount.entry(holding: "/home/ubuntu", in: entries)?.spec == "UUID=aaaa")
    }

    @Test func theRootAndNoautoEntriesNeedNoMount() {
        #expect(HomeMount.entry(holding: "/root", in: entries) == nil)
        #expect(
            HomeMount.entry(holding: "/srv/app", in: Fstab.parse("/dev/nvme1n1p1 /srv ext4 noauto,nofail 0 2")) == nil)
    }

    @Test func mountPointsAreReadFromMountinfoWithEscapesUndone() {
        let text = "36 35 98:0 / /mnt/my\\040disk rw - ext4 /dev/root rw\n22 27 0:21 / /proc rw - proc proc rw\n"
        #expect(MountTable.mountPoints(mountinfo: text) == ["/mnt/my disk", "/proc"])
    }
}
