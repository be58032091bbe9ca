import Testing

@testable import RescueAgent

@Suite(.enabled(if: isRootWithLoopDevices, "needs root and loop devices"))
struct LoopDeviceTests {
    @Test func attachesReadOnlyWindowAndDetachesOnCleanup() throws {
        let scratch = try Scratch()
        let image = "\(scratch.path)/disk.img"
        try sh("truncate -s 8M \(image)")
        let cleanup = CleanupStack()
        defer { cleanup.runAll() }
        let loop = try LoopDevice.attach(image, offset: 1_048_576, size: 2_097_152, readOnly: true, cleanup: cleanup)
        let name = String(loop.dropFirst("/dev/".count))
        #expect(LoopDevice.backingFile(loop) == image)
        #expect(try HostFiles.readText("/sys/block/\(name)/ro").hasPrefix("1"))
        #expect(try HostFiles.readText("/sys/block/\(name)/loop/offset").hasPrefix("1048576"))
        #expect(try HostFiles.readText("/sys/block/\(name)/size").hasPrefix("4096"))
        #expect(cleanup.runAll().isEmpty)
        #expect(leftovers(under: scratch.path).isEmpty)
    }
}
