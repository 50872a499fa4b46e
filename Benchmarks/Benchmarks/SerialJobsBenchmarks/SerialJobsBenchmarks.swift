// SerialJobs benchmarks: ordered throughput and submit→serial latency, each
// beside a Swift baseline measured in the same run.
//
//   cd Benchmarks && swift package benchmark --target SerialJobsBenchmarks
//
// Workloads follow ../shared/peers (section 4, "Ordered processing"): item i's
// result (tiny: splitmix64(i); SHA-256 of a 4 KiB or 1 MiB slice of a 64 MiB
// pseudo-random pool) is folded in item order by the serial stage, and the
// fold is checked against the serial fold. The custom metric "items/s" is
// items per second of one whole run (submit of the first item to the
// serialization of the last).
//
// Baseline: a TaskGroup keeping `window` child tasks in flight, results put
// back in order through a reorder buffer (a dictionary keyed by index) and
// folded by the parent task: what a Swift programmer writes without this
// library.
import Benchmark
import Dispatch
import Crypto
import Synchronization
import SerialJobs
#if canImport(Glibc)
import Glibc
#endif

@inline(__always)
func now() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

@inline(__always)
func splitmix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

@inline(__always)
func foldStep(_ acc: UInt64, _ v: UInt64) -> UInt64 { (acc ^ v) &* 0x0000_0100_0000_01B3 }

/// 64 MiB of pseudo-random bytes, shared read-only by every hashing item.
final class DataPool: @unchecked Sendable {  // immutable after init
    static let size = 64 << 20
    let base: UnsafeMutableRawPointer
    init() {
        base = .allocate(byteCount: DataPool.size, alignment: 4096)
        let words = base.bindMemory(to: UInt64.self, capacity: DataPool.size / 8)
        for i in 0..<(DataPool.size / 8) { words[i] = splitmix64(UInt64(i)) }
    }
    /// SHA-256 of item i's slice, first 8 bytes as a number.
    @inline(__always) func sha(_ i: Int, bytes: Int) -> UInt64 {
        let offset = (i * bytes) % DataPool.size
        var h = SHA256()
        h.update(bufferPointer: UnsafeRawBufferPointer(start: base + offset, count: bytes))
        return h.finalize().withUnsafeBytes { $0.load(as: UInt64.self) }
    }
}

let dataPool = DataPool()

/// The serial stage's fold; only serial functions (one at a time) touch it.
final class Fold: @unchecked Sendable {
    var value: UInt64 = 0
}

let itemsPerSecond = BenchmarkMetric.custom("items/s", polarity: .prefersLarger, useScalingFactor: false)
let submitToSerial = BenchmarkMetric.custom("submit→serial (ns)", polarity: .prefersSmaller, useScalingFactor: false)

func throughputConfig(_ iterations: Int) -> Benchmark.Configuration {
    .init(metrics: [itemsPerSecond], timeUnits: .milliseconds, warmupIterations: 1,
          maxDuration: .seconds(4), maxIterations: iterations)
}

// Computed: `Benchmark.Configuration` is not Sendable, so no global `let`.
var latencyConfig: Benchmark.Configuration {
    .init(metrics: [submitToSerial], timeUnits: .nanoseconds, warmupIterations: 100,
          maxDuration: .seconds(3), maxIterations: 20_000)
}
var idleLatencyConfig: Benchmark.Configuration {
    .init(metrics: [submitToSerial], timeUnits: .nanoseconds, warmupIterations: 3,
          maxDuration: .seconds(4), maxIterations: 150)
}

/// The reference fold of `n` items.
func serialFold(_ n: Int, _ f: (Int) -> UInt64) -> UInt64 {
    var acc: UInt64 = 0
    for i in 0..<n { acc = foldStep(acc, f(i)) }
    return acc
}

/// One run through a shell: `n` items, each `work(i)`, folded in order.
func runShell(_ shell: Shell, n: Int, _ work: @escaping @Sendable (Int) -> UInt64) -> UInt64 {
    let fold = Fold()
    for i in 0..<n {
        try! shell.submit(parallel: { work(i) }, serial: { r in fold.value = foldStep(fold.value, try! r.get()) })
    }
    shell.stop()
    shell.start()
    return fold.value
}

/// One run through a shell with batched submits: `n` items, `run` inputs per
/// `submit(contentsOf:)` call, each input its own item, folded in order.
func runBatched(_ shell: Shell, n: Int, run: Int, _ work: @escaping @Sendable (Int) -> UInt64) -> UInt64 {
    let fold = Fold()
    var i = 0
    while i < n {
        let end = min(n, i + run)
        try! shell.submit(contentsOf: i..<end, parallel: work, serial: { _, r in fold.value = foldStep(fold.value, try! r.get()) })
        i = end
    }
    shell.stop()
    shell.start()
    return fold.value
}

/// One run through orderedMap with `batch` elements per item.
func runOrderedMap(_ instance: Instance, n: Int, batch: Int, window: Int, _ work: @escaping @Sendable (Int) -> UInt64) -> UInt64 {
    let results = try! instance.orderedMap(0..<n, window: window, batch: batch, work)
    var acc: UInt64 = 0
    for v in results { acc = foldStep(acc, v) }
    return acc
}

/// The baseline: TaskGroup with `window` tasks in flight (each `batch`
/// items), reorder buffer, in-order fold.
func runTaskGroup(n: Int, window: Int, batch: Int = 1, _ work: @escaping @Sendable (Int) -> UInt64) async -> UInt64 {
    await withTaskGroup(of: (Int, [UInt64]).self) { group in
        var nextToSubmit = 0
        var nextToFold = 0
        var acc: UInt64 = 0
        var buffer: [Int: [UInt64]] = [:]
        func add() {
            let start = nextToSubmit
            let end = min(n, start + batch)
            nextToSubmit = end
            group.addTask { (start, (start..<end).map(work)) }
        }
        while nextToSubmit < n && nextToSubmit < window * batch { add() }
        while let (start, values) = await group.next() {
            buffer[start] = values
            while let vs = buffer.removeValue(forKey: nextToFold) {
                for v in vs { acc = foldStep(acc, v) }
                nextToFold += vs.count
            }
            if nextToSubmit < n { add() }
        }
        return acc
    }
}

/// The 2-core limit for a hashing workload, measured in the same process
/// with the same SHA-256 and data: two threads (`concurrentPerform`) each
/// hash every other item, no ordering, no library. Items per second.
func twoThreadLimit(_ b: Benchmark, items: Int, _ work: @escaping @Sendable (Int) -> UInt64) {
    for _ in b.scaledIterations {
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            var acc: UInt64 = 0
            var i = half
            while i < items { acc ^= work(i); i += 2 }
            blackHole(acc)
        }
        let dt = now() - t0
        b.measurement(itemsPerSecond, Int(Double(items) * 1e9 / Double(dt)))
    }
}

func record(_ b: Benchmark, items: Int, _ body: () -> UInt64, expect: UInt64) {
    for _ in b.scaledIterations {
        let t0 = now()
        let fold = body()
        let dt = now() - t0
        precondition(fold == expect, "\(b.name): order broken (fold \(fold) != \(expect))")
        b.measurement(itemsPerSecond, Int(Double(items) * 1e9 / Double(dt)))
    }
}

func recordAsync(_ b: Benchmark, items: Int, _ body: () async -> UInt64, expect: UInt64) async {
    for _ in b.scaledIterations {
        let t0 = now()
        let fold = await body()
        let dt = now() - t0
        precondition(fold == expect, "\(b.name): order broken (fold \(fold) != \(expect))")
        b.measurement(itemsPerSecond, Int(Double(items) * 1e9 / Double(dt)))
    }
}

let benchmarks: @Sendable () -> Void = {
    let instance = try! Instance()
    let tiny: @Sendable (Int) -> UInt64 = { splitmix64(UInt64($0)) }
    let sha4K: @Sendable (Int) -> UInt64 = { dataPool.sha($0, bytes: 4096) }
    let sha1M: @Sendable (Int) -> UInt64 = { dataPool.sha($0, bytes: 1 << 20) }

    // Sizes as in the peers' run: 500,000 tiny, 100,000 × 4 KiB, 256 × 1 MiB.
    let nTiny = 500_000, n4K = 100_000, n1M = 256
    let tinyFold = serialFold(nTiny, { splitmix64(UInt64($0)) })
    let fold4K = serialFold(n4K, { dataPool.sha($0, bytes: 4096) })
    let fold1M = serialFold(n1M, { dataPool.sha($0, bytes: 1 << 20) })

    // MARK: tiny items

    let anyShell = try! instance.makeShell(window: 1024, placement: .anyWorker)
    Benchmark("Shell.submit × 500k tiny items (window 1024, anyWorker)", configuration: throughputConfig(5)) { b in
        record(b, items: nTiny, { runShell(anyShell, n: nTiny, tiny) }, expect: tinyFold)
    }
    let laneShell = try! instance.makeShell(window: 1024, placement: .callbackCPU)
    Benchmark("Shell.submit × 500k tiny items (window 1024, callbackCPU)", configuration: throughputConfig(5)) { b in
        record(b, items: nTiny, { runShell(laneShell, n: nTiny, tiny) }, expect: tinyFold)
    }
    for run in [64, 256] {
        Benchmark("Shell.submit(contentsOf:) × 500k tiny items (runs of \(run), window 1024, anyWorker)", configuration: throughputConfig(5)) { b in
            record(b, items: nTiny, { runBatched(anyShell, n: nTiny, run: run, tiny) }, expect: tinyFold)
        }
    }
    Benchmark("Instance.orderedMap × 500k tiny items (batch 1, window 1024)", configuration: throughputConfig(5)) { b in
        record(b, items: nTiny, { runOrderedMap(instance, n: nTiny, batch: 1, window: 1024, tiny) }, expect: tinyFold)
    }
    Benchmark("Instance.orderedMap × 500k tiny items (batch 256, window 64)", configuration: throughputConfig(5)) { b in
        record(b, items: nTiny, { runOrderedMap(instance, n: nTiny, batch: 256, window: 64, tiny) }, expect: tinyFold)
    }
    Benchmark("Baseline TaskGroup+reorder × 500k tiny items (window 32)", configuration: throughputConfig(3)) { b in
        await recordAsync(b, items: nTiny, { await runTaskGroup(n: nTiny, window: 32, tiny) }, expect: tinyFold)
    }
    Benchmark("Baseline TaskGroup+reorder × 500k tiny items (batch 256, window 64)", configuration: throughputConfig(5)) { b in
        await recordAsync(b, items: nTiny, { await runTaskGroup(n: nTiny, window: 64, batch: 256, tiny) }, expect: tinyFold)
    }

    // MARK: SHA-256 of 4 KiB

    let shaShell = try! instance.makeShell(window: 256, placement: .anyWorker)
    Benchmark("Shell.submit × 100k SHA-256(4 KiB) (window 256, anyWorker)", configuration: throughputConfig(5)) { b in
        record(b, items: n4K, { runShell(shaShell, n: n4K, sha4K) }, expect: fold4K)
    }
    Benchmark("Shell.submit(contentsOf:) × 100k SHA-256(4 KiB) (runs of 64, window 256, anyWorker)", configuration: throughputConfig(5)) { b in
        record(b, items: n4K, { runBatched(shaShell, n: n4K, run: 64, sha4K) }, expect: fold4K)
    }
    let shaLaneShell = try! instance.makeShell(window: 256, placement: .callbackCPU)
    Benchmark("Shell.submit × 100k SHA-256(4 KiB) (window 256, callbackCPU)", configuration: throughputConfig(5)) { b in
        record(b, items: n4K, { runShell(shaLaneShell, n: n4K, sha4K) }, expect: fold4K)
    }
    Benchmark("Limit: 2 threads, unordered × 100k SHA-256(4 KiB) (concurrentPerform)", configuration: throughputConfig(5)) { b in
        twoThreadLimit(b, items: n4K, sha4K)
    }
    Benchmark("Baseline TaskGroup+reorder × 100k SHA-256(4 KiB) (window 32)", configuration: throughputConfig(5)) { b in
        await recordAsync(b, items: n4K, { await runTaskGroup(n: n4K, window: 32, sha4K) }, expect: fold4K)
    }

    // MARK: SHA-256 of 1 MiB

    let bigShell = try! instance.makeShell(window: 16, placement: .anyWorker)
    Benchmark("Shell.submit × 256 SHA-256(1 MiB) (window 16, anyWorker)", configuration: throughputConfig(5)) { b in
        record(b, items: n1M, { runShell(bigShell, n: n1M, sha1M) }, expect: fold1M)
    }
    Benchmark("Shell.submit(contentsOf:) × 256 SHA-256(1 MiB) (runs of 64, window 16, anyWorker)", configuration: throughputConfig(5)) { b in
        record(b, items: n1M, { runBatched(bigShell, n: n1M, run: 64, sha1M) }, expect: fold1M)
    }
    Benchmark("Limit: 2 threads, unordered × 256 SHA-256(1 MiB) (concurrentPerform)", configuration: throughputConfig(5)) { b in
        twoThreadLimit(b, items: n1M, sha1M)
    }
    Benchmark("Baseline TaskGroup+reorder × 256 SHA-256(1 MiB) (window 16)", configuration: throughputConfig(5)) { b in
        await recordAsync(b, items: n1M, { await runTaskGroup(n: n1M, window: 16, sha1M) }, expect: fold1M)
    }

    // MARK: submit → serial latency on an idle instance

    let latencyShell = try! instance.makeShell(window: 16, placement: .callbackCPU)
    let seen = Atomic<Int>(0)
    func latency(_ b: Benchmark, gapMicros: UInt32) {
        for _ in b.scaledIterations {
            if gapMicros > 0 { usleep(gapMicros) }
            seen.store(0, ordering: .relaxed)
            let t0 = now()
            try! latencyShell.submit(parallel: { 0 }, serial: { _ in seen.store(now(), ordering: .releasing) })
            var t1 = 0
            while t1 == 0 { t1 = seen.load(ordering: .acquiring) }
            b.measurement(submitToSerial, t1 - t0)
        }
    }
    Benchmark("Shell.submit→serial latency (idle instance, back to back)", configuration: latencyConfig) { b in
        latency(b, gapMicros: 0)
    }
    Benchmark("Shell.submit→serial latency (idle instance, after 20 ms idle)", configuration: idleLatencyConfig) { b in
        latency(b, gapMicros: 20_000)
    }
}
