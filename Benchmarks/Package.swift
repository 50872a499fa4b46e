// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so the library's users and CI never
// build package-benchmark. Run: `cd Benchmarks && swift package benchmark`.
// Every benchmark sits beside the peer it is compared with, in the same run.
let package = Package(
    name: "mtjobs-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "mtjobs", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "PoolBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Topology", package: "mtjobs"),
                .product(name: "WorkerPool", package: "mtjobs"),
                "CBenchShims",
            ],
            path: "Benchmarks/PoolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .target(name: "BenchSupport", path: "Benchmarks/BenchSupport"),
        .target(name: "CBenchShims", path: "Benchmarks/CBenchShims"),
        .executableTarget(
            name: "MTJobsBenchmarks",
            dependencies: [
                "BenchSupport",
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "MTJobs", package: "mtjobs"),
            ],
            path: "Benchmarks/MTJobsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Comparisons that must run interleaved on a machine whose speed
        // changes minute by minute: `swift run -c release MTJobsInterleaved`.
        .executableTarget(
            name: "MTJobsInterleaved",
            dependencies: [
                "BenchSupport",
                .product(name: "MTJobs", package: "mtjobs"),
            ],
            path: "Benchmarks/MTJobsInterleaved"
        ),
        .executableTarget(
            name: "SerialJobsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "SerialJobs", package: "mtjobs"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/SerialJobsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
