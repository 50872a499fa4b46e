import Synchronization
import Testing
@testable import MTJobs
import WorkerPool
import MTSupport

@Suite("JobRun: thread spans and helper slots")
struct ThreadSpanTests {
    /// A run's state for `chunks` one-unit chunks on `threads` threads.
    func makeRun(chunks: Int, threads: Int, solo: SoloShare = SoloShare()) -> JobRun {
        let job = MTJob(size: chunks, minChunk: 1, maxThreads: threads, loadBalanceFactor: max(1, chunks / threads)) { _ in }
        let plan = ChunkPlan(validatedStart: 0, size: chunks, align: 1, minChunk: 1, maxThreads: threads,
                             loadBalanceFactor: job.loadBalanceFactor)
        return JobRun(plan: plan, job: job, extraCancel: nil, spans: [], helpers: threads - 1, solo: solo)
    }

    func bounds(_ run: JobRun) -> [Range<Int>] {
        (0 ..< run.spanCount).map { run.spans[$0].lo ..< run.spans[$0].hi }
    }

    @Test("span and helper slots take one cache line each, and both tables start on a line")
    func layout() {
        #expect(MemoryLayout<SpanSlot>.stride == 64)
        #expect(MemoryLayout<HelperSlot>.stride == 64)
        for threads in 2 ... 9 {
            let run = makeRun(chunks: 64, threads: threads)
            #expect(Int(bitPattern: run.spans) % 64 == 0)
            #expect(Int(bitPattern: run.helperSlots) % 64 == 0)
            #expect(run.helperSlotCount == threads - 1)
        }
    }

    @Test("without NUMA the chunks are split evenly, one contiguous span per thread, after the caller's solo chunks")
    func evenSplit() throws {
        let run = makeRun(chunks: 64, threads: 4)
        #expect(bounds(run) == [0 ..< 16, 16 ..< 32, 32 ..< 48, 48 ..< 64])
        // The caller ran 4 chunks alone: they stay in its span, claimed.
        let after = makeRun(chunks: 64, threads: 4, solo: SoloShare(chunks: 4, units: 4, start: 0, end: 0))
        #expect(bounds(after) == [0 ..< 19, 19 ..< 34, 34 ..< 49, 49 ..< 64])
        #expect(after.spans[0].cursor.load(ordering: .relaxed) == 4)
        #expect(after.claimedCount() == 4)
        // A chunk count near Int.max (a huge load-balance factor) splits
        // without overflow, and the spans still tile every chunk.
        let huge = try ChunkPlan(start: 0, size: 1 << 62, align: 1, minChunk: 1, maxThreads: 64, loadBalanceFactor: .max)
        #expect(huge.chunkCount == 1 << 62)
        let job = MTJob(size: 1 << 62, minChunk: 1, maxThreads: 64, loadBalanceFactor: .max) { _ in }
        let big = JobRun(plan: huge, job: job, extraCancel: nil, spans: [], helpers: 63)
        let b = bounds(big)
        #expect(b.count == 64 && b.first?.lowerBound == 0 && b.last?.upperBound == 1 << 62)
        #expect(zip(b, b.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
        // Fewer chunks left than threads: one span per chunk left.
        let short = makeRun(chunks: 8, threads: 4, solo: SoloShare(chunks: 6, units: 6, start: 0, end: 0))
        #expect(bounds(short) == [0 ..< 7, 7 ..< 8])
    }

    @Test("a thread claims its own span first, then steals from the front of the span with most left; every chunk once")
    func ownSpanThenSteal() throws {
        let run = makeRun(chunks: 64, threads: 4)
        var times = [Int](repeating: 0, count: 64)
        var mine: [Int] = []
        while let c = run.claim(span: 1) { mine += Array(c) }
        #expect(mine == Array(16 ..< 32))
        for k in mine { times[k] += 1 }
        // Spans 0 and 3 lose a batch each: span 2 is then the fullest.
        for s in [0, 3] { for k in try #require(run.claim(span: s)) { times[k] += 1 } }
        let stolen = try #require(run.claim(home: 1))
        #expect(stolen.lowerBound == 32)
        for k in stolen { times[k] += 1 }
        while let c = run.claim(home: 1) { for k in c { times[k] += 1 } }
        #expect(times == [Int](repeating: 1, count: 64))
        #expect(run.claimedCount() == 64)
    }

    @Test("beyond maxThreadSpans threads, helpers share spans round-robin")
    func capped() {
        let run = makeRun(chunks: 1000, threads: 100)
        #expect(run.spanCount == JobRun.maxThreadSpans)
        #expect(run.threadSpanHome(slot: 0) == 1)
        #expect(run.threadSpanHome(slot: JobRun.maxThreadSpans - 2) == JobRun.maxThreadSpans - 1)
        #expect(run.threadSpanHome(slot: JobRun.maxThreadSpans - 1) == 0)
        #expect(bounds(run).map(\.count).reduce(0, +) == 1000)
    }

    @Test("a helper that ran chunks is reported from its slot: its worker, CPU, node and counts")
    func helperRecord() throws {
        let pool = makePool(workers: 1, name: "mtjt-slot")
        defer { pool.shutdown() }
        // The caller's first chunk waits (up to 2 s) until a helper has
        // entered a chunk, so that a helper surely takes part.
        let helperIn = Atomic<Bool>(false)
        let job = MTJob(size: 64, minChunk: 1, maxThreads: 2, loadBalanceFactor: 4) { r in
            if WorkerPool.current != nil { helperIn.store(true, ordering: .relaxed) }
            else if r.lowerBound == 0 {
                let end = TSCClock.now() + 2_000_000_000
                while !helperIn.load(ordering: .relaxed) && TSCClock.now() < end {}
            }
            busyWait(micros: 50)
        }
        let r = try job.run(on: pool)
        let helpers = r.participants.filter { $0.role == .helper }
        try #require(helpers.count == 1)
        let h = helpers[0]
        #expect(h.chunks > 0 && h.units == h.chunks * r.chunkSize)
        #expect(h.busy >= .microseconds(40 * h.chunks))
        let w = try #require(h.worker)
        #expect(w.index == 0)
        #expect(h.cpu == w.cpu && h.numaNode == w.numaNode)
        #expect(pool.placement.contains(w.cpu))
        #expect(r.chunksRun == 8 && r.unitsCompleted == 64)
    }
}
