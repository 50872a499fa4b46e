// WorkerPool benchmarks, each beside its peer (Dispatch) in the same run.
//
//   cd Benchmarks && swift package benchmark --target PoolBenchmarks
//
// Latencies are reported two ways: `wallClock` is the round trip (submit,
// the item runs, the caller sees it ran); the custom metric `submit→run`
// is one way: from just before `submit` to the first instruction of the
// item, both read from CLOCK_MONOTONIC.
import CBenchShims
import Benchmark
import Dispatch
import Synchronization
import Topology
import WorkerPool
#if canImport(Glibc)
import Glibc
#endif

@inline(__always)
func now() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// CPU time (ns) of a clock id (a thread's or the process's).
func cpuNanos(_ clock: clockid_t) -> Int {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Where an item leaves its start time.
final class Probe: Sendable {
    let started = Atomic<Int>(0)
    func reset() { started.store(0, ordering: .relaxed) }
    /// Polls until the item ran; returns its start time. It yields the CPU
    /// between polls: an item queued to a thread on this CPU (a worker
    /// pinned here, a Dispatch thread the kernel placed here) would
    /// otherwise wait for the end of this thread's time slice.
    func wait() -> Int {
        while true {
            let t = started.load(ordering: .acquiring)
            if t != 0 { return t }
            sched_yield()
        }
    }
}

/// A counter work items bump.
final class Count: Sendable {
    let value = Atomic<Int>(0)
}

let oneWay = BenchmarkMetric.custom("submit→run (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let idleCPU = BenchmarkMetric.custom("CPU used (µs)", polarity: .prefersSmaller, useScalingFactor: false)

/// Submits one empty item with `submit` and measures it.
func measure(_ benchmark: Benchmark, idleNanos: Int, _ submit: (@escaping @Sendable () -> Void) -> Void) {
    let probe = Probe()
    for _ in benchmark.scaledIterations {
        probe.reset()
        if idleNanos > 0 { usleep(useconds_t(idleNanos / 1_000)) }
        benchmark.startMeasurement()
        let t0 = now()
        submit { probe.started.store(now(), ordering: .releasing) }
        let t1 = probe.wait()
        benchmark.stopMeasurement()
        benchmark.measurement(oneWay, t1 - t0)
    }
}

let benchmarks: @Sendable () -> Void = {
    let latencyConfig = Benchmark.Configuration(
        metrics: [.wallClock, oneWay], timeUnits: .nanoseconds, warmupIterations: 100,
        maxDuration: .seconds(3), maxIterations: 20_000)
    let idleLatencyConfig = Benchmark.Configuration(
        metrics: [.wallClock, oneWay], timeUnits: .nanoseconds, warmupIterations: 3,
        maxDuration: .seconds(5), maxIterations: 120)
    let idleCPUConfig = Benchmark.Configuration(
        metrics: [idleCPU], timeUnits: .microseconds, warmupIterations: 0,
        maxDuration: .seconds(10), maxIterations: 3)
    let throughputConfig = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], timeUnits: .milliseconds, warmupIterations: 2,
        maxDuration: .seconds(5), maxIterations: 30)

    let pool = WorkerPool(name: "bench")
    let workers = pool.workerCount
    // A worker on another CPU than the caller's, chosen at each submission
    // (the benchmark thread is not pinned). A worker on the caller's own
    // CPU would wait for the caller's spin to end: a scheduler time slice,
    // ≈ 4 ms.
    let workerCPUs = pool.placement
    @Sendable func other() -> Int {
        let here = Int(bench_current_cpu())
        return workerCPUs.firstIndex { $0 != here } ?? 0
    }
    let dispatchSerial = DispatchQueue(label: "bench.serial")

    // MARK: submit → run, back to back (the worker is still spinning)

    Benchmark("WorkerPool.submit→run (empty item, worker spinning)", configuration: latencyConfig) { b in
        measure(b, idleNanos: 0) { try! pool.submit($0) }
    }
    Benchmark("WorkerPool.submit(toWorker: another CPU's)→run (empty item, worker spinning)", configuration: latencyConfig) { b in
        measure(b, idleNanos: 0) { try! pool.submit(toWorker: other(), $0) }
    }
    Benchmark("DispatchQueue.global().async→run (empty item, back to back)", configuration: latencyConfig) { b in
        measure(b, idleNanos: 0) { DispatchQueue.global().async(execute: $0) }
    }

    // MARK: submit → run after 20 ms idle (the worker sleeps)

    Benchmark("WorkerPool.submit→run (empty item, after 20 ms idle)", configuration: idleLatencyConfig) { b in
        measure(b, idleNanos: 20_000_000) { try! pool.submit($0) }
    }
    Benchmark("WorkerPool.submit(toWorker: another CPU's)→run (empty item, after 20 ms idle)", configuration: idleLatencyConfig) { b in
        measure(b, idleNanos: 20_000_000) { try! pool.submit(toWorker: other(), $0) }
    }
    Benchmark("DispatchQueue.global().async→run (empty item, after 20 ms idle)", configuration: idleLatencyConfig) { b in
        measure(b, idleNanos: 20_000_000) { DispatchQueue.global().async(execute: $0) }
    }

    // MARK: throughput of tiny items through one worker (SerialJobs' use)

    let items = 100_000
    Benchmark("WorkerPool.submit(toWorker: another CPU's) × \(items) empty items", configuration: throughputConfig) { b in
        let done = Count()
        for _ in b.scaledIterations {
            done.value.store(0, ordering: .relaxed)
            let w = other()
            for _ in 0..<items { try! pool.submit(toWorker: w) { done.value.wrappingAdd(1, ordering: .relaxed) } }
            while done.value.load(ordering: .relaxed) < items { sched_yield() }
        }
    }
    Benchmark("WorkerPool.submit × \(items) empty items", configuration: throughputConfig) { b in
        let done = Count()
        for _ in b.scaledIterations {
            done.value.store(0, ordering: .relaxed)
            for _ in 0..<items { try! pool.submit { done.value.wrappingAdd(1, ordering: .relaxed) } }
            while done.value.load(ordering: .relaxed) < items { sched_yield() }
        }
    }
    Benchmark("DispatchQueue(serial).async × \(items) empty items", configuration: throughputConfig) { b in
        let done = Count()
        for _ in b.scaledIterations {
            done.value.store(0, ordering: .relaxed)
            for _ in 0..<items { dispatchSerial.async { done.value.wrappingAdd(1, ordering: .relaxed) } }
            while done.value.load(ordering: .relaxed) < items { sched_yield() }
        }
    }

    // MARK: CPU time of an idle pool over one second

    Benchmark("WorkerPool idle CPU over 1 s (\(workers) workers started, after the spin phase)", configuration: idleCPUConfig) { b in
        let idle = WorkerPool(name: "bidle")
        // Each worker leaves its thread CPU clock id (never 0) in a probe.
        let clocks = (0..<workers).map { _ in Probe() }
        for i in 0..<workers {
            try! idle.submit(toWorker: i) {
                var c = clockid_t()
                pthread_getcpuclockid(pthread_self(), &c)
                clocks[i].started.store(Int(c), ordering: .releasing)
            }
        }
        let ids = clocks.map { clockid_t($0.wait()) }
        for _ in b.scaledIterations {
            usleep(100_000)  // well past the 50 µs spin
            let before = ids.reduce(0) { $0 + cpuNanos($1) }
            b.startMeasurement()
            usleep(1_000_000)
            b.stopMeasurement()
            let after = ids.reduce(0) { $0 + cpuNanos($1) }
            b.measurement(idleCPU, (after - before) / 1_000)
        }
        idle.shutdown()
    }
    Benchmark("DispatchQueue.global() idle CPU over 1 s (process, after use)", configuration: idleCPUConfig) { b in
        let done = Count()
        for _ in 0..<workers * 4 { DispatchQueue.global().async { done.value.wrappingAdd(1, ordering: .relaxed) } }
        while done.value.load(ordering: .relaxed) < workers * 4 {}
        for _ in b.scaledIterations {
            usleep(100_000)
            let before = cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuNanos(CLOCK_THREAD_CPUTIME_ID)
            b.startMeasurement()
            usleep(1_000_000)
            b.stopMeasurement()
            let after = cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuNanos(CLOCK_THREAD_CPUTIME_ID)
            b.measurement(idleCPU, (after - before) / 1_000)
        }
    }
    Benchmark("WorkerPool idle CPU over 1 s (process, after the spin phase)", configuration: idleCPUConfig) { b in
        let idle = WorkerPool(name: "bidl2")
        let done = Count()
        for i in 0..<workers { try! idle.submit(toWorker: i) { done.value.wrappingAdd(1, ordering: .relaxed) } }
        while done.value.load(ordering: .relaxed) < workers {}
        for _ in b.scaledIterations {
            usleep(100_000)
            let before = cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuNanos(CLOCK_THREAD_CPUTIME_ID)
            b.startMeasurement()
            usleep(1_000_000)
            b.stopMeasurement()
            let after = cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuNanos(CLOCK_THREAD_CPUTIME_ID)
            b.measurement(idleCPU, (after - before) / 1_000)
        }
        idle.shutdown()
    }
}
