import Foundation
import Synchronization
import Testing
@testable import MTJobs
import WorkerPool
import MTSupport

/// "Helpers on evidence" (JobRun+Drive.swift): with many chunks per thread
/// the caller starts alone and asks for helpers once the work left is worth
/// a wake-up.
@Suite("MTJob.run: helpers on evidence")
struct EvidenceTests {
    @Test("while the estimated work left stays under the budget, the caller runs every chunk alone: no helper is asked for")
    func underBudgetStaysOnCaller() throws {
        // The budget is raised to 1 s so that the test does not depend on
        // how fast this build runs a chunk (a debug or ThreadSanitizer
        // build, a loaded CI machine); with the library's 20 µs budget an
        // empty chunk stays alone in release builds, which the benchmarks
        // show (10 of 10,000 back-to-back runs asked for a helper).
        for _ in 0 ..< 40 {
            let log = RangeLog()
            var job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { log.add($0) }
            job.evidenceBudgetNanos = 1_000_000_000
            let r = try job.run()
            #expect(r.threadsStarted == 1)
            #expect(r.participants.count == 1 && r.participants[0].role == .caller && r.participants[0].chunks == 64)
            #expect(log.sorted == r.plan.chunks, "every chunk once, as planned")
            #expect(r.unitsCompleted == 64 && r.completedRanges == [0 ..< 64])
        }
    }

    @Test("once the estimated work left exceeds the budget, helpers are asked for and share the rest")
    func overBudgetEngages() throws {
        // A 1 ns budget: the first check already exceeds it.
        let log = RangeLog()
        var job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { range in
            busyWait(micros: 20)
            log.add(range)
        }
        job.evidenceBudgetNanos = 1
        let r = try job.run()
        #expect(r.threadsStarted == 2)
        #expect(log.sorted == r.plan.chunks)
        #expect(r.participants.reduce(0) { $0 + $1.chunks } == 64)
        #expect(r.completedRanges == [0 ..< 64])
    }

    @Test("heavy chunks bring helpers in after the caller's first chunk, which stays on the caller")
    func heavyJobEngagesHelpers() throws {
        let firstOnCaller = Atomic<Bool>(false)
        let log = RangeLog()
        // 64 chunks of 300 µs: the first one alone is clearly worth a helper.
        let r = try MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { range in
            if range.lowerBound == 0 { firstOnCaller.store(WorkerPool.current == nil, ordering: .relaxed) }
            busyWait(micros: 300)
            log.add(range)
        }.run()
        #expect(log.sorted == r.plan.chunks)
        #expect(r.threadsStarted == 2)
        let first = firstOnCaller.load(ordering: .relaxed)
        #expect(first)
        let caller = r.participants.first { $0.role == .caller }
        #expect(caller != nil && caller!.chunks >= 1)
        #expect(r.participants.reduce(0) { $0 + $1.chunks } == 64)
        #expect(r.participants.reduce(0) { $0 + $1.units } == 64)
        #expect(r.completedRanges == [0 ..< 64])
        // The caller's busy time covers the chunks it ran alone too.
        #expect(caller!.busy >= .microseconds(250 * caller!.chunks))
    }

    @Test("an error in a chunk the caller runs alone is rethrown at once, nothing else runs")
    func errorWhileAlone() throws {
        let calls = Atomic<Int>(0)
        let job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { range in
            calls.wrappingAdd(1, ordering: .relaxed)
            if range.lowerBound == 3 { throw TestError(tag: "alone") }
        }
        #expect(throws: TestError(tag: "alone")) { try job.run() }
        // Chunks 0...3 ran on the caller; a helper, if one was asked for,
        // would only add chunks after 3, and never after run returned.
        let n = calls.load(ordering: .relaxed)
        #expect(n >= 4)
        Thread.sleep(forTimeInterval: 0.01)
        let later = calls.load(ordering: .relaxed)
        #expect(later == n, "the function ran after run returned")
    }

    @Test("a cancel while the caller is alone reports exactly the prefix it ran")
    func cancelWhileAlone() throws {
        let handle = MTJobCancelHandle()
        let log = RangeLog()
        let job = MTJob(size: 640, minChunk: 1, maxThreads: 2, loadBalanceFactor: 320, cancellation: handle) { range in
            log.add(range)
            if range.lowerBound == 10 { handle.cancel() }
        }
        do {
            try job.run()
            Issue.record("not cancelled")
        } catch let c as MTJobCancelled {
            #expect(c.report.completedRanges == merged(log.sorted))
            #expect(c.report.unitsCompleted == log.sorted.reduce(0) { $0 + $1.count })
            #expect(c.report.unitsCompleted >= 11 && c.report.unitsCompleted < 640)
            // Alone (the usual case: these chunks are tiny), what ran is one
            // prefix. A slow build may have brought a helper in, whose
            // claimed batch then shows as a second range.
            if c.report.threadsStarted == 1 {
                #expect(c.report.completedRanges == [0 ..< c.report.unitsCompleted])
            }
        }
    }

    @Test("a synchronous run in an already cancelled Task calls nothing, also when it would start alone")
    func cancelledTaskRunsNothingAlone() async throws {
        let calls = Atomic<Int>(0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var job = MTJob(size: 640, minChunk: 1, maxThreads: 2, loadBalanceFactor: 320) { _ in
                calls.wrappingAdd(1, ordering: .relaxed)
            }
            job.evidenceBudgetNanos = 1_000_000_000
            return try job.run()
        }
        await #expect(throws: MTJobCancelled.self) { try await task.value }
        #expect(calls.load(ordering: .relaxed) == 0)
    }

    @Test("Task cancellation reaches a caller alone on tiny chunks within 64 chunks, and it reports the prefix it ran")
    func taskCancelWhileAloneOnTinyChunks() async throws {
        let log = RangeLog()
        let task = Task {
            var job = MTJob(size: 6400, minChunk: 1, maxThreads: 2, loadBalanceFactor: 3200) { range in
                log.add(range)
                if range.lowerBound == 100 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            job.evidenceBudgetNanos = 1_000_000_000
            return try job.run()
        }
        do {
            _ = try await task.value
            Issue.record("not cancelled")
        } catch let c as MTJobCancelled {
            #expect(c.report.threadsStarted == 1)
            #expect(c.report.completedRanges == merged(log.sorted))
            #expect(c.report.completedRanges == [0 ..< c.report.unitsCompleted])
            // Cancelled during chunk 100: polled before chunk 101 at the
            // latest when chunks are slow, within 64 chunks when fast.
            #expect(c.report.unitsCompleted >= 101 && c.report.unitsCompleted <= 101 + 64)
        }
    }

    /// Runs `size` chunks shared with a helper from the first check on; in
    /// the caller's chunk number `cancelAt` (counted from 1) the Task is
    /// cancelled. Returns the caller's chunks and the report.
    func sharedRunCancelledByTask(size: Int, cancelAt: Int, chunkMicros: Int) async throws
        -> (callerChunks: Int, report: MTJobReport, log: [Range<Int>]) {
        let log = RangeLog()
        let callerChunks = Atomic<Int>(0)
        let task = Task {
            var job = MTJob(size: size, minChunk: 1, maxThreads: 2, loadBalanceFactor: size / 2) { range in
                log.add(range)
                if WorkerPool.current == nil,
                   callerChunks.wrappingAdd(1, ordering: .relaxed).newValue == cancelAt {
                    withUnsafeCurrentTask { $0?.cancel() }
                }
                if chunkMicros > 0 { busyWait(micros: chunkMicros) }
            }
            job.evidenceBudgetNanos = 0
            return try job.run()
        }
        do {
            let r = try await task.value
            Issue.record("not cancelled: \(r)")
            return (callerChunks.load(ordering: .relaxed), r, log.sorted)
        } catch let c as MTJobCancelled {
            return (callerChunks.load(ordering: .relaxed), c.report, log.sorted)
        }
    }

    @Test("Task cancellation reaches a shared run's caller within 64 of its tiny chunks, and the report has exactly the chunks run")
    func taskCancelSharedTinyChunks() async throws {
        let (mine, report, log) = try await sharedRunCancelledByTask(size: 20_000, cancelAt: 200, chunkMicros: 0)
        #expect(mine >= 200 && mine <= 200 + 64, "the caller polls at least every 64th chunk")
        #expect(report.completedRanges == merged(log))
        #expect(report.unitsCompleted < 20_000)
    }

    @Test("Task cancellation reaches a shared run's caller before its next chunk when chunks are long")
    func taskCancelSharedLongChunks() async throws {
        let (mine, report, log) = try await sharedRunCancelledByTask(size: 200, cancelAt: 3, chunkMicros: 100)
        #expect(mine == 3, "a chunk of 100 µs is more than the poll interval: polled before every chunk")
        #expect(report.completedRanges == merged(log))
    }

    @Test("progress runs from the chunks done alone through the hand-over to size")
    func progressAcrossHandOver() throws {
        let seen = Locked<[Int]>([])
        let job = MTJob(size: 256, minChunk: 1, maxThreads: 2, loadBalanceFactor: 128,
                        progress: { n in seen.withLock { $0.append(n) } }) { _ in busyWait(micros: 50) }
        let r = try job.run()
        let values = seen.withLock { $0 }
        #expect(r.threadsStarted == 2, "256 chunks of 50 µs are worth a helper")
        #expect(values.first == 1)
        #expect(values.last == 256)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
    }
}
