import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Topology
import WorkerPool
@testable import MTJobs
import MTSupport

@Suite("MTJob.run: claiming, errors, cancellation, nesting")
struct MTJobRunTests {
    @Test("the real engine runs every chunk of every small shape exactly once, as planned")
    func engineSweep() throws {
        let maxSize = stress ? 64 : 40
        for size in 0 ... maxSize {
            for align in 1 ... 9 {
                for minChunk in 0 ... 9 {
                    for maxThreads in [1, 2, 5] where stress || (size + align + minChunk) % 3 == 0 || maxThreads == 2 {
                        let log = RangeLog()
                        let job = MTJob(start: 3, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads) { log.add($0) }
                        let report = try job.run()
                        let plan = try ChunkPlan(start: 3, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads)
                        if log.sorted != plan.chunks {
                            Issue.record("size \(size) align \(align) min \(minChunk) max \(maxThreads): \(log.sorted) vs \(plan.chunks)")
                            return
                        }
                        if report.threadsUsed > max(plan.threads, 0) || report.threadsStarted > max(maxThreads, 0) {
                            Issue.record("threads \(report.threadsUsed)/\(report.threadsStarted) for \(plan)"); return
                        }
                        if report.unitsCompleted != size || report.chunksRun != plan.chunkCount {
                            Issue.record("report \(report.unitsCompleted) \(report.chunksRun) for \(plan)"); return
                        }
                    }
                }
            }
        }
    }

    @Test("size 0 returns at once without calling the function")
    func sizeZero() throws {
        let calls = Atomic<Int>(0)
        let r = try MTJob(size: 0) { _ in calls.wrappingAdd(1, ordering: .relaxed) }.run()
        let callsValue = calls.load(ordering: .relaxed)
        #expect(callsValue == 0)
        #expect(r.unitsCompleted == 0 && r.participants.isEmpty)
    }

    @Test("invalid jobs throw an error naming the field, and run nothing")
    func invalid() {
        let cases: [(MTJob, MTJob.Field)] = [
            (MTJob(size: -1) { _ in }, .size),
            (MTJob(start: Int.max, size: 1) { _ in }, .size),
            (MTJob(size: 10, align: 0) { _ in }, .align),
            (MTJob(size: 10, minChunk: -1) { _ in }, .minChunk),
            (MTJob(size: 10, maxThreads: 0) { _ in }, .maxThreads),
            (MTJob(size: 10, bytesPerUnit: 0) { _ in }, .bytesPerUnit),
            (MTJob(size: 10, loadBalanceFactor: 0) { _ in }, .loadBalanceFactor),
        ]
        for (job, field) in cases {
            do {
                try job.run()
                Issue.record("\(field) accepted")
            } catch let e as MTJobError {
                #expect(e.field == field)
                #expect(e.description.contains(field.rawValue))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("the one-work fast path runs inline on the caller and touches no thread")
    func inline() throws {
        let me = pthread_self()
        let onCaller = Atomic<Bool>(false)
        let r = try MTJob(size: 10, minChunk: 100, maxThreads: 8) { range in
            onCaller.store(pthread_equal(pthread_self(), me) != 0 && range == 0 ..< 10, ordering: .relaxed)
        }.run()
        let onCallerValue = onCaller.load(ordering: .relaxed)
        #expect(onCallerValue)
        #expect(r.ranInline && r.threadsStarted == 1 && r.threadsUsed == 1)
    }

    @Test("the caller's job value is never changed by a run")
    func jobUnchanged() throws {
        let job = MTJob(start: 5, size: 1000, align: 4, minChunk: 8, maxThreads: 2) { _ in }
        let copy = job
        try job.run()
        try job.run()
        #expect(job.start == copy.start && job.size == copy.size && job.align == copy.align)
        #expect(job.minChunk == copy.minChunk && job.maxThreads == copy.maxThreads)
    }

    @Test("the report names threads, chunk size, chunks and busy time per participant")
    func report() throws {
        let r = try MTJob(size: 64, minChunk: 1, maxThreads: 2) { _ in busyWait(micros: 200) }.run()
        #expect(r.chunkSize == 8 && r.plan.chunkCount == 8)
        #expect(r.threadsStarted == 2)
        #expect(r.chunksRun == 8)
        #expect(r.participants.first { $0.role == .caller } != nil)
        for p in r.participants where p.chunks > 0 {
            #expect(p.busy >= .microseconds(150 * p.chunks))
            if p.role == .helper { #expect(p.worker != nil && p.cpu != nil) }
        }
        #expect(r.completedRanges == [0 ..< 64])
    }

    @Test("an error in the caller's chunk stops claims and is rethrown after every started chunk")
    func errorInCallersChunk() throws {
        try checkError(throwOnCaller: true, throwOnHelper: false)
    }

    @Test("an error in a helper's chunk stops claims and is rethrown after every started chunk")
    func errorInHelpersChunk() throws {
        try checkError(throwOnCaller: false, throwOnHelper: true)
    }

    @Test("errors in both the caller's and a helper's chunks: one of them is rethrown, after every started chunk")
    func errorInBoth() throws {
        try checkError(throwOnCaller: true, throwOnHelper: true)
    }

    func checkError(throwOnCaller: Bool, throwOnHelper: Bool) throws {
        let rounds = stress ? 200 : 5
        for _ in 0 ..< rounds {
            let started = Atomic<Int>(0), finished = Atomic<Int>(0)
            // 64 chunks of 4 units, 300 µs each; chunks from unit 32 on throw.
            let job = MTJob(size: 256, minChunk: 1, maxThreads: 2, loadBalanceFactor: 32) { range in
                started.wrappingAdd(1, ordering: .relaxed)
                defer { finished.wrappingAdd(1, ordering: .relaxed) }
                busyWait(micros: 300)
                let onHelper = WorkerPool.current != nil
                if range.lowerBound >= 32 {
                    if onHelper && throwOnHelper { throw TestError(tag: "helper") }
                    if !onHelper && throwOnCaller { throw TestError(tag: "caller") }
                }
            }
            do {
                try job.run()
                // A helper may never have got a chunk on a loaded machine.
                #expect(!throwOnCaller, "the caller's error was lost")
            } catch let e as TestError {
                let startedValue = started.load(ordering: .relaxed)
                let finishedValue = finished.load(ordering: .relaxed)
                #expect(startedValue == finishedValue)
                #expect(startedValue < 64, "claims went on after the error")
                if !throwOnCaller { #expect(e.tag == "helper") }
                if !throwOnHelper { #expect(e.tag == "caller") }
            }
        }
    }

    @Test("an explicit cancel stops new claims and the report says exactly which units were done")
    func cancelHandle() throws {
        let handle = MTJobCancelHandle()
        let done = RangeLog()
        let active = Atomic<Int>(0)
        let returned = Atomic<Bool>(false)
        let lateChunks = Atomic<Int>(0)
        let job = MTJob(size: 1000, minChunk: 1, maxThreads: 2, loadBalanceFactor: 50, cancellation: handle) { range in
            active.add(1, ordering: .relaxed)
            if returned.load(ordering: .acquiring) { lateChunks.add(1, ordering: .relaxed) }
            busyWait(micros: 100)
            if range.lowerBound >= 100 { handle.cancel() }
            done.add(range)
            active.subtract(1, ordering: .releasing)
        }
        do {
            try job.run()
            Issue.record("not cancelled")
        } catch let c as MTJobCancelled {
            let ran = done.sorted
            #expect(c.report.unitsCompleted == ran.reduce(0) { $0 + $1.count })
            #expect(c.report.unitsCompleted < 1000)
            // The report lists exactly the units that ran.
            #expect(c.report.completedRanges == merged(ran))
            #expect(c.report.completedRanges.first?.lowerBound == 0)
            // run returns only when every chunk that started has finished,
            // and none starts afterwards.
            returned.store(true, ordering: .releasing)
            let stillActive = active.load(ordering: .acquiring)
            #expect(stillActive == 0, "a chunk was still running when run returned")
        }
        // A cancelled handle runs nothing.
        let calls = Atomic<Int>(0)
        #expect(throws: MTJobCancelled.self) {
            try MTJob(size: 10, cancellation: handle) { _ in calls.wrappingAdd(1, ordering: .relaxed) }.run()
        }
        let callsValue = calls.load(ordering: .relaxed)
        #expect(callsValue == 0)
        let late = lateChunks.load(ordering: .relaxed)
        #expect(late == 0, "a chunk started after run returned")
    }

    @Test("Task cancellation stops an async run and reports how far it got")
    func taskCancellation() async throws {
        // 1000 chunks; each waits at a gate that opens only after the task
        // is cancelled, so the job cannot finish first, however the
        // threads are scheduled.
        let started = Atomic<Int>(0)
        let gate = Atomic<Bool>(false)
        let task = Task {
            try await MTJob(size: 1000, minChunk: 1, maxThreads: 2, loadBalanceFactor: 500) { _ in
                started.wrappingAdd(1, ordering: .relaxed)
                while !gate.load(ordering: .acquiring) { sched_yield() }
            }.run()
        }
        while started.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        // cancel() runs the task's cancellation handler before it returns,
        // which sets the run's cancellation flag: no chunk starts after it.
        task.cancel()
        gate.store(true, ordering: .releasing)
        do {
            _ = try await task.value
            Issue.record("not cancelled")
        } catch let c as MTJobCancelled {
            // Only the chunks already started (at most one per thread) ran.
            #expect(c.report.unitsCompleted <= 2 * c.report.chunkSize)
            #expect(c.report.chunksRun == started.load(ordering: .relaxed))
            #expect(c.report.unitsCompleted == c.report.completedRanges.reduce(0) { $0 + $1.count })
        }
        // Sync run inside a cancelled task runs nothing.
        let t2 = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try MTJob(size: 100, maxThreads: 2) { _ in }.run()
        }
        await #expect(throws: MTJobCancelled.self) { try await t2.value }
    }

    @Test("async run returns the same work as sync")
    func asyncRun() async throws {
        let log = RangeLog()
        let r = try await MTJob(size: 1000, minChunk: 10, maxThreads: 2) { log.add($0) }.run()
        #expect(log.sorted == r.plan.chunks)
        #expect(r.unitsCompleted == 1000)
    }

    @Test("progress reports increasing units done, ending at size, never after return")
    func progress() throws {
        let seen = Locked<[Int]>([])
        let job = MTJob(size: 500, minChunk: 1, maxThreads: 2, progress: { n in seen.withLock { $0.append(n) } }) { _ in
            busyWait(micros: 20)
        }
        try job.run()
        let values = seen.withLock { $0 }
        #expect(values.last == 500)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("nested jobs never deadlock, even on a one-worker pool and deep nesting")
    func nesting() throws {
        let pool = makePool(workers: 1, name: "nest1")
        defer { pool.shutdown() }
        let leaves = Atomic<Int>(0)
        let depth = stress ? 6 : 4
        @Sendable func level(_ d: Int) throws {
            try MTJob(size: 4, minChunk: 1, maxThreads: 4) { range in
                for _ in range {
                    if d == 0 { leaves.wrappingAdd(1, ordering: .relaxed) } else { try level(d - 1) }
                }
            }.run(on: pool)
        }
        try level(depth)
        var expected = 1
        for _ in 0 ... depth { expected *= 4 }
        let leavesValue = leaves.load(ordering: .relaxed)
        #expect(leavesValue == expected)
    }

    @Test("library-chosen sizing: maxThreads from available parallelism, minChunk from the cache and bytesPerUnit")
    func sizing() throws {
        let t = Topology.shared
        let s = JobSizing.resolve(MTJob(size: 10) { _ in }, topology: t)
        #expect(s.maxThreads == t.availableParallelism && s.minChunk == 1)
        let b = JobSizing.resolve(MTJob(size: 10, bytesPerUnit: 64) { _ in }, topology: t)
        #expect(b.minChunk == (JobSizing.chunkBytes(t) + 63) / 64)
        let own = JobSizing.resolve(MTJob(size: 10, minChunk: 3, maxThreads: 7, bytesPerUnit: 64) { _ in }, topology: t)
        #expect(own == (3, 7))
    }

    @Test("stress: many back-to-back runs cover every unit exactly once")
    func backToBack() throws {
        let n = stress ? 20_000 : 500
        let sum = Atomic<Int>(0)
        for _ in 0 ..< n {
            try MTJob(size: 64, minChunk: 1, maxThreads: 2) { r in sum.wrappingAdd(r.count, ordering: .relaxed) }.run()
        }
        let sumValue = sum.load(ordering: .relaxed)
        #expect(sumValue == 64 * n)
    }
}
