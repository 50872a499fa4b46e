import Benchmark
import BenchSupport
import Dispatch
import MTJobs
#if canImport(Glibc)
import Glibc
#endif

// MTJobs beside its peers, in the same run. The kernels are the peers'
// (../shared/peers/cpp/common.h): 64 chunks on 2 threads, ~1 µs chunks of
// dependent xorshift-multiply steps, a 2 GiB fresh-buffer fill with 0x5A
// then 0xA5, and an irregular loop where iteration i costs (i+1)·K steps.
// Read GB/s as 2 GiB / time, efficiency as T1 / (2 · T2). The kernels
// themselves are in BenchSupport, shared with MTJobsInterleaved.

let fillBytes = 2 << 30
let fillChunk = 2 << 20

let benchmarks: @Sendable () -> Void = {
    // A mean over 1000 runs per sample: timed one by one, package-benchmark's
    // own overhead per sample (~0.15 µs here) would be a quarter of the row.
    // For back-to-back runs the mean is within ~5% of the per-run median the
    // peers report (0.60 µs median, 0.61–0.64 mean, in one process).
    let hot = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 1000,
        scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 50)
    // Nanoseconds: package-benchmark prints whole units, and a microsecond
    // is too coarse for these rows.
    let idle = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 1,
        maxDuration: .seconds(3), maxIterations: 40)
    // One run per sample, as the peers time it (../shared/peers/cpp/common.h:
    // each call timed alone, the median reported): a mean over a thousand
    // runs counts every run a helper missed (its CPU taken by another
    // process, the VM's other vCPU descheduled), which a median does not.
    let work = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 100,
        maxDuration: .seconds(3), maxIterations: 5000)
    let fill = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .milliseconds, warmupIterations: 0,
        maxDuration: .seconds(20), maxIterations: 5)
    let irr = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .milliseconds, warmupIterations: 1,
        maxDuration: .seconds(10), maxIterations: 7)

    // 64 chunks on 2 threads: loadBalanceFactor 32 turns the padata plan
    // (size / (2 × factor)) into 64 chunks of one unit.
    let noopJob = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { r in
        for i in r { blackHole(i) }
    }
    let workJob = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { r in
        for i in r { blackHole(workChunk(i)) }
    }

    // MARK: fork-join, back-to-back

    Benchmark("forkjoin hot: MTJob.run(64 no-op chunks, 2 threads)", configuration: hot) { b in
        for _ in b.scaledIterations { blackHole(try noopJob.run()) }
    }
    Benchmark("forkjoin hot: DispatchQueue.concurrentPerform(64 no-op)", configuration: hot) { b in
        for _ in b.scaledIterations { DispatchQueue.concurrentPerform(iterations: 64) { blackHole($0) } }
    }
    Benchmark("forkjoin hot: TaskGroup(64 no-op)", configuration: hot) { b async in
        for _ in b.scaledIterations {
            await withTaskGroup(of: Void.self) { g in
                for i in 0 ..< 64 { g.addTask { blackHole(i) } }
            }
        }
    }

    // MARK: fork-join after 20 ms idle

    Benchmark("forkjoin after 20ms idle: MTJob.run(64 no-op chunks, 2 threads)", configuration: idle) { b in
        usleep(20_000)
        b.startMeasurement()
        blackHole(try noopJob.run())
        b.stopMeasurement()
    }
    Benchmark("forkjoin after 20ms idle: DispatchQueue.concurrentPerform(64 no-op)", configuration: idle) { b in
        usleep(20_000)
        b.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: 64) { blackHole($0) }
        b.stopMeasurement()
    }
    Benchmark("forkjoin after 20ms idle: TaskGroup(64 no-op)", configuration: idle) { b async in
        usleep(20_000)
        b.startMeasurement()
        await withTaskGroup(of: Void.self) { g in
            for i in 0 ..< 64 { g.addTask { blackHole(i) } }
        }
        b.stopMeasurement()
    }

    // MARK: 64 chunks × ~1 µs

    Benchmark("64x1us: MTJob.run(64 chunks, 2 threads)", configuration: work) { b in
        for _ in b.scaledIterations { blackHole(try workJob.run()) }
    }
    Benchmark("64x1us: DispatchQueue.concurrentPerform(64)", configuration: work) { b in
        for _ in b.scaledIterations { DispatchQueue.concurrentPerform(iterations: 64) { blackHole(workChunk($0)) } }
    }
    Benchmark("64x1us: plain loop (1 thread)", configuration: work) { b in
        for _ in b.scaledIterations { for i in 0 ..< 64 { blackHole(workChunk(i)) } }
    }
    let pair = StaticPair(chunks: 64) { blackHole(workChunk($0)) }
    Benchmark("64x1us: static halves, 2 threads, no runtime (the bound)", configuration: work,
              closure: { b in for _ in b.scaledIterations { pair.run() } },
              setup: { pair.start() }, teardown: { pair.stop() })

    // MARK: fill a fresh 2 GiB buffer (first touch), then a second pass

    Benchmark("fill 2GiB first touch: ParallelBuffer.fill(2 threads, THP)", configuration: fill) { b in
        let buf = try ParallelBuffer(bytes: fillBytes)
        b.startMeasurement()
        blackHole(try buf.fill(0x5A, threads: 2))
        b.stopMeasurement()
    }
    Benchmark("fill 2GiB first touch: memset 1 thread (malloc)", configuration: fill) { b in
        let p = malloc(fillBytes)!
        // Escapes: otherwise the optimizer sees malloc, memset, one load
        // and free, folds the load and drops the memset (0 ms).
        blackHole(p)
        b.startMeasurement()
        memset(p, 0x5A, fillBytes)
        b.stopMeasurement()
        blackHole(p.load(fromByteOffset: fillBytes - 1, as: UInt8.self))
        free(p)
    }
    Benchmark("fill 2GiB first touch: memset 1 thread (MADV_HUGEPAGE)", configuration: fill) { b in
        let buf = try ParallelBuffer(bytes: fillBytes)
        b.startMeasurement()
        memset(buf.memory.baseAddress!, 0x5A, fillBytes)
        b.stopMeasurement()
    }
    Benchmark("fill 2GiB first touch: concurrentPerform 2MiB chunks (malloc)", configuration: fill) { b in
        let p = malloc(fillBytes)!
        let base = Int(bitPattern: p)
        b.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: fillBytes / fillChunk) { c in
            memset(UnsafeMutableRawPointer(bitPattern: base + c * fillChunk)!, 0x5A, fillChunk)
        }
        b.stopMeasurement()
        free(p)
    }

    let second = try! ParallelBuffer(bytes: fillBytes)
    try! second.fill(0x5A, threads: 2)
    Benchmark("fill 2GiB second pass: ParallelBuffer.fill(2 threads)", configuration: fill) { b in
        blackHole(try second.fill(0xA5, threads: 2))
    }
    Benchmark("fill 2GiB second pass: memset whole buffer (1 thread)", configuration: fill) { b in
        memset(second.memory.baseAddress!, 0xA5, fillBytes)
    }
    Benchmark("fill 2GiB second pass: concurrentPerform 2MiB chunks", configuration: fill) { b in
        let base = Int(bitPattern: second.memory.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: fillBytes / fillChunk) { c in
            memset(UnsafeMutableRawPointer(bitPattern: base + c * fillChunk)!, 0xA5, fillChunk)
        }
    }

    // MARK: irregular: iteration i costs (i+1)·K

    Benchmark("irregular T1: plain loop (1 thread)", configuration: irr) { b in
        for i in 0 ..< irregularN { blackHole(irregular(i, k: irregularK)) }
    }
    Benchmark("irregular T2: MTJob.run(loadBalanceFactor 64, 2 threads)", configuration: irr) { b in
        try MTJob(size: irregularN, minChunk: 1, maxThreads: 2, loadBalanceFactor: 64) { r in
            for i in r { blackHole(irregular(i, k: irregularK)) }
        }.run()
    }
    Benchmark("irregular T2: MTJob.run(padata factor 4, 2 threads)", configuration: irr) { b in
        try MTJob(size: irregularN, minChunk: 1, maxThreads: 2) { r in
            for i in r { blackHole(irregular(i, k: irregularK)) }
        }.run()
    }
    Benchmark("irregular T2: DispatchQueue.concurrentPerform(2048)", configuration: irr) { b in
        DispatchQueue.concurrentPerform(iterations: irregularN) { blackHole(irregular($0, k: irregularK)) }
    }
}
