// swift-tools-version: 6.2
// keyrescue: reset the SSH key of an EC2 instance whose private key is lost.
// Two executables: `keyrescue` (controller, workstation) and `keyrescue-agent`
// (static, runs on the rescue host or any Linux box with the disk attached).
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "keyrescue",
    products: [
        .executable(name: "keyrescue", targets: ["keyrescue"]),
        .executable(name: "keyrescue-agent", targets: ["keyrescue-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        // System libraries. Shims hold typed inline wrappers for C variadics.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CBlkid", pkgConfig: "blkid",
            providers: [.apt(["libblkid-dev"])]),
        // What Glibc's module lacks: openat2, fsetxattr, loop and block-size ioctls, mount(2).
        .target(name: "CLinux"),

        // Shared by both programs; pure values, FoundationEssentials only.
        .target(name: "RescueModel", swiftSettings: strict),

        // The agent: syscalls and libblkid. Must link statically (no Foundation, no curl).
        .target(
            name: "RescueAgent",
            dependencies: [
                "RescueModel", "CBlkid", "CLinux",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),

        // The controller's connection to AWS: SigV4, credentials, libcurl, retries, waiters.
        .target(
            name: "AWSKit",
            dependencies: [
                "CCurl", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // The rescue itself: preflight, plan, step machine, journal, resume/rollback.
        .target(
            name: "RescueController",
            dependencies: [
                "AWSKit", "RescueModel", "COpenSSL",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strict),

        .executableTarget(
            name: "keyrescue",
            dependencies: [
                "RescueController", "AWSKit", "RescueModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "keyrescue-agent",
            dependencies: [
                "RescueAgent", "RescueModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        .testTarget(name: "RescueModelTests", dependencies: ["RescueModel"], swiftSettings: strict),
        .testTarget(
            name: "RescueAgentTests", dependencies: ["RescueAgent", "RescueModel", "CLinux"],
            swiftSettings: strict),
        // Test fixtures shared by test targets: moto_server and scripted HTTP servers on 127.0.0.1.
        .target(
            name: "AWSTestSupport", dependencies: ["AWSKit"], path: "Tests/TestSupport",
            exclude: ["scripted_server.py", "credential_servers.py"], swiftSettings: strict),
        .testTarget(name: "AWSKitTests", dependencies: ["AWSKit", "AWSTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RescueControllerTests", dependencies: ["RescueController", "AWSKit", "RescueModel"],
            swiftSettings: strict),
    ]
)
