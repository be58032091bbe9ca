import RescueModel
import Testing

@testable import RescueAgent

/// Volume lookup over fake /dev and /sys trees (no root needed).
@Suite struct VolumeLookupTests {
    @Test func findsByByIdLinkThenSysfsSerialThenXenName() throws {
        let scratch = try Scratch()
        let (dev, sys) = ("\(scratch.path)/dev", "\(scratch.path)/sys")
        try sh(
            """
            mkdir -p \(dev)/disk/by-id \(sys)/block/nvme1n1/device \(sys)/block/nvme2n1/device
            touch \(dev)/nvme1n1 \(dev)/nvme2n1 \(dev)/xvdf
            ln -s ../../nvme1n1 \(dev)/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0aaa
            echo 'vol0bbb             ' > \(sys)/block/nvme2n1/device/serial
            """)
        #expect(VolumeLookup.find("vol-0aaa", dev: dev, sys: sys) == "\(dev)/nvme1n1")
        #expect(VolumeLookup.find("vol-0bbb", dev: dev, sys: sys) == "\(dev)/nvme2n1")
        #expect(VolumeLookup.find("vol-0ccc", deviceName: "/dev/sdf", dev: dev, sys: sys) == "\(dev)/xvdf")
        #expect(VolumeLookup.find("vol-0ccc", dev: dev, sys: sys) == nil)
    }

    @Test func aVolumeThatNeverAppearsIsAClearError() {
        let error = #expect(throws: RescueReport.Failure.self) {
            _ = try VolumeLookup.waitForVolume("vol-0doesnotexist000", waitSeconds: 0)
        }
        #expect(error?.code == .volumeNotFound)
        #expect(error?.message.contains("vol-0doesnotexist000") == true)
    }

    @Test func theHostsRootDiskIsInUse() throws {
        let mountinfo = try HostFiles.readText("/proc/self/mountinfo")
        #expect(HostDisks.busyDeviceNumbers(mountinfo: "22 27 0:21 / /proc rw - proc proc rw\n") == ["0:21"])
        // Whatever holds / here is mounted, so it counts as the host's.
        let rootLine = mountinfo.split(separator: "\n").first { $0.split(separator: " ")[4] == "/" }
        if let source = rootLine?.split(separator: " ").dropFirst(8).first, source.hasPrefix("/dev/") {
            #expect(HostDisks.isInUse(String(source)))
        }
    }
}
