// swift-tools-version:6.0
import PackageDescription

// Module map (see README "Architecture"):
//   CHwloc → Topology → WorkerPool → { MTJobs, SerialJobs } → HashEngine → mtrun
let package = Package(
    name: "mtjobs",
    products: [
        .library(name: "MTJobs", targets: ["MTJobs"]),
        .library(name: "SerialJobs", targets: ["SerialJobs"]),
        .library(name: "Topology", targets: ["Topology"]),
        .library(name: "WorkerPool", targets: ["WorkerPool"]),
        .executable(name: "mtrun", targets: ["mtrun"]),
        .library(name: "BLAKE3", targets: ["BLAKE3"]),
    ],
    dependencies: [
        // The CLI's argument parsing, help and error messages.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // SHA-256/512, SHA-1, MD5 backed by BoringSSL's assembly (SHA-NI on x86_64).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHwloc",
            pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]
        ),
        .target(name: "Topology", dependencies: ["CHwloc"]),
        .target(name: "WorkerPool", dependencies: ["Topology", "CHwloc"]),
        .target(name: "MTJobs", dependencies: ["WorkerPool", "Topology", "CHwloc"]),
        .target(name: "SerialJobs", dependencies: ["WorkerPool", "Topology"]),
        .target(
            name: "HashEngine",
            dependencies: [
                "SerialJobs", "WorkerPool",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "mtrun",
            dependencies: [
                "Topology", "WorkerPool", "MTJobs", "SerialJobs", "HashEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // BLAKE3: SIMD compression kernels in C (each function compiled for
        // its instruction set by attribute), tree, modes and I/O in Swift.
        .target(name: "CBLAKE3"),
        .target(name: "BLAKE3", dependencies: ["CBLAKE3", "MTJobs", "WorkerPool"]),
        .testTarget(name: "BLAKE3Tests", dependencies: ["BLAKE3", "WorkerPool"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TopologyTests",
            dependencies: ["Topology"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "WorkerPoolTests", dependencies: ["WorkerPool", "Topology"]),
        .testTarget(name: "MTJobsTests", dependencies: ["MTJobs", "WorkerPool", "Topology"]),
        .testTarget(name: "SerialJobsTests", dependencies: ["SerialJobs", "WorkerPool", "Topology"]),
        .testTarget(name: "HashEngineTests", dependencies: ["HashEngine"]),
        .testTarget(name: "mtrunTests", dependencies: ["mtrun"]),
    ],
    swiftLanguageModes: [.v6]
)
