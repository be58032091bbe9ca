import Glibc
import RescueModel
import Testing

@testable import RescueAgent

/// LVM, a separate /home partition, a hostile mount point, and a block device given as --device.
@Suite(.enabled(if: isRootWithLoopDevices, "needs root, loop devices, mount(2) and lvm2"), .serialized)
struct OpenDiskTargetLayoutTests {
    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func lvmRootWhileAnotherPVCarriesAVolumeGroupOfTheSameName() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/lvm.img"
        let twin = "\(scratch.path)/twin.img"
        let vg = "krtest\(getpid())vg"
        // lvm restricted to one device at a time, without device-mapper (this kernel has none).
        let lvm =
            #"export LVM_SUPPRESS_FD_WARNINGS=1; lvmon() { C="devices { filter=[ \"a|^$1\$|\", \"r|.*|\" ] global_filter=[ \"a|^$1\$|\", \"r|.*|\" ] use_devicesfile=0 }"; shift; lvm "$@" --config "$C"; }"#
        try DiskImages.build(
            lvm + """

                truncate -s 96M \(image); truncate -s 32M \(twin)
                sgdisk -n1:1M:+8M -t1:ef00 -n2:0:0 -t2:8e00 \(image) >/dev/null
                fs \(image) 1 8 "mkfs.vfat" ""
                pv=$(losetup -f --show -o $((9*1048576)) --sizelimit $((86*1048576)) \(image)); LOOPS="$pv $LOOPS"
                lvmon $pv pvcreate -q $pv; lvmon $pv vgcreate -q \(vg) $pv
                lvmon $pv lvcreate -q --driverloaded n -an -Zn -L 8M -n swap \(vg)
                lvmon $pv lvcreate -q --driverloaded n -an -Zn -L 64M -n root \(vg)
                pe=$(lvmon $pv pvs --noheadings --units b --nosuffix -o pe_start $pv | tr -d ' ')
                fs \(image) $((9 + pe/1048576 + 8)) 64 "mkfs.ext4 -q" "$ROOTFILES"
                tw=$(losetup -f --show \(twin)); LOOPS="$tw $LOOPS"
                lvmon $tw pvcreate -q $tw; lvmon $tw vgcreate -q \(vg) $tw
                """)
        let target = try openDiskTarget(.image(image), readOnly: true)
        #expect(target.facts.logicalVolume == "\(vg)/root")
        #expect(target.facts.filesystem == "ext4")
        #expect(exists("\(target.rootPath)/etc/os-release"))
        try target.close()
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func homeOnAnotherPartitionOfTheSameDiskByLabelAndPartUUID() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/home.img"
        try DiskImages.build(
            """
            truncate -s 72M \(image)
            printf 'label-id: 0x1234abcd\\nstart=2048,size=61440,type=83\\nstart=63488,type=83\\n' | sfdisk -q \(image)
            fs \(image) 1 30 "mkfs.ext4 -q" "$ROOTFILES; mkdir srv"
            fs \(image) 31 40 "mkfs.ext4 -q -L HOME" "mkdir admin; echo hi > admin/file"
            """)
        let target = try openDiskTarget(.image(image), readOnly: true)
        let home = try target.mountSecondary(
            FstabEntry(spec: "LABEL=HOME", mountPoint: "/home", type: "ext4", options: ["defaults"]))
        #expect(home == .mounted(at: "\(target.rootPath)/home"))
        #expect(exists("\(target.rootPath)/home/admin/file"))
        let srv = try target.mountSecondary(
            FstabEntry(spec: "PARTUUID=1234ABCD-02", mountPoint: "/srv", type: "ext4", options: []))
        #expect(srv == .mounted(at: "\(target.rootPath)/srv"))
        #expect(exists("\(target.rootPath)/srv/admin/file"))
        let missing = try target.mountSecondary(
            FstabEntry(spec: "PARTUUID=00000000-09", mountPoint: "/srv", type: "ext4", options: []))
        #expect(
            missing
                == .onAnotherVolume(
                    "no partition, logical volume or btrfs volume of \(image) matches PARTUUID=00000000-09"))
        try target.close()
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func aMountPointSymlinkedToSlashStaysInsideTheTarget() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/evil.img"
        try DiskImages.build(
            """
            truncate -s 72M \(image)
            printf 'start=2048,size=61440,type=83\\nstart=63488,type=83\\n' | sfdisk -q \(image)
            fs \(image) 1 30 "mkfs.ext4 -q" "$ROOTFILES; rmdir home/admin; rmdir home; ln -s / home"
            fs \(image) 31 40 "mkfs.ext4 -q -L HOME" "mkdir admin"
            """)
        let target = try openDiskTarget(.image(image), readOnly: true)
        // /home → / resolves to the target's own root, never the host's.
        let home = try target.mountSecondary(
            FstabEntry(spec: "LABEL=HOME", mountPoint: "/home", type: "ext4", options: []))
        #expect(home == .mounted(at: target.rootPath))
        #expect(!exists("/admin"))
        try target.close()
        #expect(leftovers(under: scratch.path).isEmpty)
    }

    @Test func aBlockDeviceGivenAsDeviceNamesPartitionsAfterIt() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/dev.img"
        try DiskImages.build(DiskImages.efiAndLinux(image, mkfs: "mkfs.ext4 -q", populate: "$ROOTFILES"))
        let loop = try sh("losetup -f --show -r \(image)").split(separator: "\n")[0]
        var attached = true
        defer { if attached { _ = try? sh("losetup -d \(loop)") } }
        let target = try openDiskTarget(.device(String(loop)), readOnly: true)
        #expect(target.facts.partition == "\(loop)p2")
        try target.close()
        // The agent's loop over this device is gone once close() returns: detaching works at once.
        try sh("losetup -d \(loop)")
        attached = false
    }

    @Test func theKernelsPartitionDevicesAreUsedWithoutALoopDevice() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/nvme.img"
        try DiskImages.build(DiskImages.efiAndLinux(image, mkfs: "mkfs.ext4 -q", populate: "$ROOTFILES"))
        let loop = String(try sh("losetup -f --show \(image)").split(separator: "\n")[0])
        defer { _ = try? sh("partx -d \(loop); losetup -d \(loop)") }
        try sh("partx -a \(loop)")
        let target = try openDiskTarget(.device(loop), readOnly: true)
        #expect(target.facts.partition == "\(loop)p2")
        // The root is mounted from the kernel's partition device, and no loop device backs the disk.
        let mountinfo = try HostFiles.readText("/proc/self/mountinfo")
        #expect(
            mountinfo.split(separator: "\n").contains {
                $0.contains(" \(target.rootPath) ") && $0.contains("\(loop)p2")
            })
        let names = try HostFiles.listDirectory("/sys/block").filter { $0.hasPrefix("loop") }
        #expect(!names.contains { LoopDevice.backingFile("/dev/\($0)") == loop })
        try target.close()
        #expect(leftovers(under: loop).isEmpty)
    }
}
