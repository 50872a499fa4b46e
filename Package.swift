// swift-tools-version:6.0
import PackageDescription

// Module map (see README "Architecture"):
//   CHwloc → Topology → WorkerPool → { MTJobs, SerialJobs } → HashEngine → mtrun
// CSystemShims carries the operating-system calls of every layer, CHashGuard
// the SIGBUS guard of HashEngine's file mappings.
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
        // hwloc and nothing else; only Topology imports it.
        .systemLibrary(
            name: "CHwloc",
            pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]
        ),
        // Linux calls Swift cannot make directly (futex, TSC, spin hint,
        // current CPU, thread name, gettid, move_pages).
        .target(name: "CSystemShims"),
        // The SIGBUS guard for mapped files that shrink while being hashed.
        .target(name: "CHashGuard"),
        // Package-internal helpers every layer shares (not a product): the
        // lock, the parker, the clocks, thread start, thread-local keys,
        // cache-line padding, small-file reads.
        .target(name: "MTSupport", dependencies: ["CSystemShims"]),
        .target(name: "Topology", dependencies: ["CHwloc", "CSystemShims", "MTSupport"]),
        .target(name: "WorkerPool", dependencies: ["Topology", "MTSupport", "CSystemShims"]),
        .target(name: "MTJobs", dependencies: ["WorkerPool", "Topology", "MTSupport", "CSystemShims"]),
        .target(name: "SerialJobs", dependencies: ["WorkerPool", "Topology", "MTSupport", "CSystemShims"]),
        .target(
            name: "HashEngine",
            dependencies: [
                "SerialJobs", "WorkerPool", "Topology", "MTSupport", "CSystemShims", "CHashGuard",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "mtrun",
            dependencies: [
                "Topology", "MTJobs", "HashEngine", "MTSupport",
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
        .testTarget(name: "MTJobsTests", dependencies: ["MTJobs", "WorkerPool", "Topology", "MTSupport", "CSystemShims"]),
        .testTarget(name: "SerialJobsTests", dependencies: ["SerialJobs", "WorkerPool", "Topology", "MTSupport"]),
        .testTarget(
            name: "HashEngineTests",
            dependencies: ["HashEngine", "Topology", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "mtrunTests", dependencies: ["mtrun"]),
        // Misuse the documentation says traps, run in a child process so the
        // tests can check each trap's message (in debug and release builds).
        .executableTarget(name: "TrapProbe", dependencies: ["MTJobs", "SerialJobs", "Topology"], path: "Tests/TrapProbe"),
        .testTarget(name: "TrapTests", dependencies: ["TrapProbe"]),
        // The Swift examples of README.md and the DocC articles, compiled and checked verbatim.
        .testTarget(name: "DocExamplesTests", dependencies: ["MTJobs", "SerialJobs", "Topology", "WorkerPool"]),
    ],
    swiftLanguageModes: [.v6]
)
