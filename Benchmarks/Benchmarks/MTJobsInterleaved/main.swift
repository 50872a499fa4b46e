import BenchSupport
import Dispatch
import MTJobs
#if canImport(Glibc)
import Glibc
#endif

// Comparisons run interleaved, in one process. A virtual machine can
// change speed minute by minute (a thread can run chunks a fifth slower
// while the other vCPU is busy), so rows measured one after
// the other, as package-benchmark runs them, can disagree by more than the
// difference they are meant to show. Here each comparison alternates short
// blocks of its contenders and reports the median of per-block ratios.
//
//   swift run -c release MTJobsInterleaved [w64|irregular|b2b|all]
//
// ../bound/omp_bound.cpp measures OpenMP's static schedule against the
// same runtime-free bound, the same way.

func now() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

@inline(never) func sink<T>(_ x: T) { withExtendedLifetime(x) {} }

func median<T: Comparable>(_ a: [T]) -> T { a.sorted()[a.count / 2] }

func f3(_ x: Double) -> String { "\((x * 1000).rounded() / 1000)" }

/// Each run timed alone (as the peers time theirs); the median of `n`.
func medianRun(_ n: Int, _ body: () -> Void) -> Int {
    var t = [Int](repeating: 0, count: n)
    for k in 0 ..< n {
        let a = now()
        body()
        t[k] = now() - a
    }
    return median(t)
}

/// 64 chunks of ~1 µs on 2 threads against the runtime-free bound (static
/// halves on a polling thread): 12 rounds of 500 runs each.
func w64() throws {
    let job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { r in
        for i in r { sink(workChunk(i)) }
    }
    let pair = StaticPair(chunks: 64) { sink(workChunk($0)) }
    var ratios: [Double] = [], bound: [Int] = [], mt: [Int] = [], loop: [Int] = []
    for _ in 0 ..< 12 {
        // The pair's thread polls without sleeping: it runs only in its own
        // block, so that it never takes a CPU from MTJobs' workers.
        pair.start()
        for _ in 0 ..< 20 { pair.run() }
        let b = medianRun(500) { pair.run() }
        pair.stop()
        for _ in 0 ..< 20 { _ = try job.run() }
        let m = medianRun(500) { _ = try! job.run() }
        let l = medianRun(100) { for i in 0 ..< 64 { sink(workChunk(i)) } }
        bound.append(b); mt.append(m); loop.append(l)
        ratios.append(Double(m) / Double(b))
    }
    print("w64: 64 chunks x ~1 us on 2 threads, median run per block (ns)")
    print("  static halves (bound): \(bound)")
    print("  MTJob.run:             \(mt)")
    print("  plain loop, 1 thread:  \(loop)")
    print("  MTJob / bound: median \(f3(median(ratios))) (min \(f3(ratios.min()!)), max \(f3(ratios.max()!)))")
}

/// The irregular loop (iteration i costs (i+1)·K): T1, then T2 for MTJob
/// with factor 64 and with the padata default, then concurrentPerform; 9
/// rounds, efficiency T1 / (2·T2) per round.
func irregularLoop() throws {
    let body: @Sendable (Range<Int>) -> Void = { r in for i in r { sink(irregular(i, k: irregularK)) } }
    let f64 = MTJob(size: irregularN, minChunk: 1, maxThreads: 2, loadBalanceFactor: 64, threadFunction: body)
    let f4 = MTJob(size: irregularN, minChunk: 1, maxThreads: 2, threadFunction: body)
    var e64: [Double] = [], e4: [Double] = [], ecp: [Double] = []
    for _ in 0 ..< 9 {
        var t = now()
        for i in 0 ..< irregularN { sink(irregular(i, k: irregularK)) }
        let t1 = Double(now() - t)
        t = now(); _ = try f64.run(); let a = Double(now() - t)
        t = now(); _ = try f4.run(); let b = Double(now() - t)
        t = now()
        DispatchQueue.concurrentPerform(iterations: irregularN) { sink(irregular($0, k: irregularK)) }
        let c = Double(now() - t)
        e64.append(t1 / (2 * a)); e4.append(t1 / (2 * b)); ecp.append(t1 / (2 * c))
    }
    print("irregular: efficiency T1 / (2 T2), median of 9 interleaved rounds")
    print("  MTJob factor 64 \(f3(median(e64))), MTJob padata factor 4 \(f3(median(e4))), concurrentPerform \(f3(median(ecp)))")
}

/// 64 empty chunks back to back: each run timed alone, median of 20 000,
/// three times; and the same clock reads around nothing.
func b2b() throws {
    let job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { r in for i in r { sink(i) } }
    for _ in 0 ..< 200 { _ = try job.run() }
    let runs = (0 ..< 3).map { _ in medianRun(20_000) { _ = try! job.run() } }
    let empty = medianRun(20_000) {}
    print("b2b: 64 empty chunks, median run (ns): \(runs); empty timed region \(empty) ns")
}

let which = CommandLine.arguments.dropFirst().first ?? "all"
switch which {
case "w64": try w64()
case "irregular": try irregularLoop()
case "b2b": try b2b()
case "all":
    try b2b()
    try w64()
    try irregularLoop()
default:
    print("usage: MTJobsInterleaved [w64|irregular|b2b|all]")
    exit(2)
}
