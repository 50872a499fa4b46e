import Dispatch
import Synchronization
import CSystemShims
import Topology
import WorkerPool
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Claiming, stopping and waiting
//
// One `JobRun` is the shared state of one run of a job (the kernel's
// `struct padata_mt_job_state`). It is reference counted: the caller and
// every helper closure queued on the pool hold it, so a helper that starts
// after the run returned still finds valid state, claims nothing and leaves.
//
// Claiming. The chunks (see ChunkPlan) are cut into contiguous spans: one
// per thread of the run (see "Thread spans" below), or one per NUMA node.
// Each span has a cursor: the index of its next unclaimed chunk, plus a
// STOP bit. A thread claims chunks `c ..< c + n` of a span by
// compare-and-swap of the cursor from `c` to `c + n`, only while `c < hi`
// and STOP is clear. There is no lock: the kernel's spinlock around
// `job->start/size` becomes one CAS per claim. `n` follows a guided
// schedule over the span: `max(1, left / (2 × threads))`, so while many
// chunks are left a claim takes several consecutive ones (fewer atomic
// operations), and the last chunks go one by one (the end stays
// balanced). A thread claims from its home span; once that is exhausted it
// steals from the front of the span with the most chunks left. Chunk
// boundaries and the one call per chunk are the kernel's; only which
// thread runs which chunk differs. Every claimed chunk is run exactly once
// by its claimer, or skipped because the job stopped (the skipped chunks
// are recorded).
//
// Thread spans. Without NUMA spans, the chunks the caller did not run alone
// are split evenly into one span per thread: the caller's first, then
// helper `i`'s (helper slot `i` homes span `i + 1`). The kernel has one
// counter for all: every claim then moves its cache line from the thread
// that claimed last (of the order of 0.1 µs), several times per thread in
// a run of short chunks. A thread's own cursor stays in its own cache until someone
// steals. The split also balances uneven chunks better: with the padata
// default of 8 chunks whose cost grows with the index, the thread with the
// cheap half steals the front of the other's half, where one shared
// counter handed them out alternately (efficiency 0.89–0.91 against
// 0.84–0.87, measured interleaved). Beyond `maxThreadSpans` threads, spans
// are shared (slot `i` homes span `(i + 1) mod maxThreadSpans`), so that a
// thread looking for chunks to steal reads at most that many cursors.
//
// Stopping. The first error thrown by the thread function is kept (under
// the rare state's lock) and STOP is set on every cursor (atomic OR), as
// is a cancellation (the explicit handle, checked before every chunk; the
// caller's Task, polled every `taskPollNanos` of work), and `stopped` is
// set. A stopped cursor can no longer move, so once
// a thread sees every span exhausted or stopped, the set of claimed chunks
// is final: one prefix `[lo, cursor)` per span. A thread that sees `stopped`
// in the middle of a claimed batch runs no more of it and records the rest
// as skipped; so the chunks done are exactly the claimed prefixes minus the
// skipped ranges, and no chunk starts after a thread saw the stop.
//
// Waiting. Each helper has a slot of its own (see `HelperSlot`): one cache
// line with its record and `done`, the chunks it ran or skipped, stored
// last. The caller claims until nothing is left, then computes how many
// chunks were claimed in all (the cursors are final then), less its own,
// and waits until the helpers' `done` add up to that number. It never
// waits for a helper that claimed nothing, so a helper still queued behind
// busy workers (a nested job, a one-worker pool) cannot make it wait:
// nesting never deadlocks. Because every call of the thread function
// happens before its helper's `done` store, which happens before the
// caller sees the total, the function is never called after `run` returns.
//
// The caller's wait spins briefly, then parks on a semaphore: it stores
// `waiter = 1` and re-reads the slots; a helper stores its `done` and then
// reads `waiter`, signalling the semaphore if it is 1. Both sides use
// sequentially consistent operations, so at least one sees the other (no
// lost wake-up); extra signals are harmless.

/// What the caller did alone before a run's shared state existed: chunks
/// `0 ..< chunks`, their units, and when it started and ended them.
struct SoloShare {
    var chunks = 0, units = 0, start = 0, end = 0
}

/// One helper's record and completion, on one cache line: the helper writes
/// it once, at its end, and the caller reads it once, so the hand-back from
/// a helper's last chunk to the caller's return moves one line each way.
/// (A shared `done` counter, a shared record index and the record itself
/// were about six line transfers: 0.9 µs of a 64 × 1 µs run's tail here.)
struct HelperSlot: ~Copyable {
    /// Chunks the helper ran or skipped; 0 until it is done, stored last
    /// (sequentially consistent, see "Waiting").
    let done = Atomic<Int>(0)
    var chunks = 0, units = 0, busyNanos = 0
    /// The worker it ran on (`hasWorker`), as `WorkerInfo` holds it.
    var poolID = 0
    var index: Int32 = 0, cpu: Int32 = -1, node: Int32 = -1
    var hasWorker = false
    /// To 64 bytes: one slot per line (the table starts on a line).
    let pad = 0

    /// The record (valid once `done` is nonzero).
    func participant() -> MTJobReport.Participant {
        let info = hasWorker ? WorkerInfo(poolID: poolID, index: Int(index), cpu: Int(cpu),
                                          numaNode: node < 0 ? nil : Int(node)) : nil
        return MTJobReport.Participant(role: .helper, worker: info, cpu: cpu < 0 ? nil : Int(cpu),
                                       numaNode: info?.numaNode, chunks: chunks, units: units,
                                       busy: .nanoseconds(busyNanos))
    }
}

/// One span's claiming state. Padded to a cache line so cursors of
/// different NUMA spans do not share one.
struct SpanSlot: ~Copyable {
    /// Next unclaimed chunk index, with `JobRun.stopBit` once stopped.
    /// Relaxed CAS: a claim only needs atomicity (each index handed out
    /// once); the chunk's range comes from the immutable plan, and results
    /// are published through `done` (sequentially consistent).
    let cursor: Atomic<Int>
    /// Chunk index range of the span.
    let lo: Int
    let hi: Int
    /// NUMA node of the span (-1 when the job is not NUMA-aware).
    let node: Int
    let pad: (Int, Int, Int, Int) = (0, 0, 0, 0)

    init(lo: Int, hi: Int, node: Int) {
        cursor = Atomic(lo)
        self.lo = lo
        self.hi = hi
        self.node = node
    }
}

final class JobRun {
    static let stopBit = 1 << 62

    enum Stop: Int { case none = 0, error = 1, cancelled = 2 }

    let plan: ChunkPlan
    let body: @Sendable (Range<Int>) throws -> Void
    let progress: (@Sendable (Int) -> Void)?
    let cancel: MTJobCancelHandle?
    let extraCancel: MTJobCancelHandle?
    /// Immutable after init: the span table (cursors inside are atomic).
    let spans: UnsafeMutablePointer<SpanSlot>
    let spanCount: Int

    /// 1 once the caller parks on `semaphore`; see "Waiting" above.
    let waiter = Atomic<Int>(0)
    /// Written by the caller before it stores `waiter = 1`; read by a
    /// participant only after it reads `waiter == 1` (happens-before
    /// through that pair).
    nonisolated(unsafe) var semaphore: DispatchSemaphore?
    /// Set once by `stop`; polled before every chunk (relaxed: a late
    /// observation only lets one more chunk of the batch start, which the
    /// stop protocol allows: chunks already claimed before the stop was
    /// seen may run).
    let stopped = Atomic<Bool>(false)
    /// Claim size divisor of the guided schedule: 2 × threads.
    let guidedDivisor: Int
    /// Why claims stopped (a `Stop` raw value). Relaxed: the reason is read
    /// by the caller after the wait, which orders it.
    let stopReason = Atomic<Int>(0)
    /// Units of finished chunks, counted only when there is a progress
    /// callback (relaxed counter; the progress lock orders the reported
    /// values). The report sums the participants' own counts instead.
    let unitsDone = Atomic<Int>(0)

    /// What is written rarely (errors, skips) or only with a progress
    /// callback: one lock for all of it, so a run has one lock, not one per
    /// field.
    struct Rare {
        var firstError: (any Error)?
        /// Chunk ranges claimed but skipped after a stop.
        var skipped: [Range<Int>] = []
        /// The largest value given to `progress` so far.
        var progressReported = 0
    }
    /// protected by `rareLock` (use `withRare`); in `block`
    let rare: UnsafeMutablePointer<Rare>
    /// A pthread mutex (ThreadSanitizer sees its ordering; it does not see
    /// that of the standard library's `Mutex`, whose atomics are compiled
    /// without instrumentation), in `block`.
    let rareLock: UnsafeMutablePointer<pthread_mutex_t>

    func withRare<R>(_ body: (inout Rare) throws -> R) rethrows -> R {
        pthread_mutex_lock(rareLock)
        defer { pthread_mutex_unlock(rareLock) }
        return try body(&rare.pointee)
    }

    /// One allocation for the span table, the helpers' slots and the
    /// rare state with its lock: a run used to make four beside the object
    /// (the two tables, a `Locked` and its mutex), ~0.15 µs before the
    /// caller's first chunk. Allocated with malloc's alignment (a larger
    /// one goes through `posix_memalign`, ~0.2 µs more here) and 48 bytes
    /// more, so that the tables start on a cache line: span and helper
    /// slots are 64 bytes each, one line apiece.
    let block: UnsafeMutableRawPointer
    /// Where the run's offer to a polling worker is written (see
    /// `offerHelper`), in `block`; initialized only when posted.
    let offerCell: UnsafeMutablePointer<WorkerPool.Offer>

    /// One slot per helper the run may submit (helper `i` has slot `i`),
    /// in `block`; see `HelperSlot` and "Waiting".
    let helperSlots: UnsafeMutablePointer<HelperSlot>
    let helperSlotCount: Int

    /// `solo`: the chunks `0 ..< solo.chunks` the caller already ran alone
    /// (one span only): they count as claimed and done.
    /// `helpers`: the most helpers the run may submit.
    init(plan: ChunkPlan, job: MTJob, extraCancel: MTJobCancelHandle?, spans spanPlan: [NUMASpan], helpers: Int,
         solo: SoloShare = SoloShare()) {
        helperSlotCount = max(helpers, 0)
        // Without NUMA spans, one span per thread over the chunks the
        // caller did not run alone (see "Thread spans").
        let threadSpans = max(1, min(helpers + 1, plan.chunkCount - solo.chunks, JobRun.maxThreadSpans))
        let n = spanPlan.isEmpty ? threadSpans : spanPlan.count
        spanCount = n
        func up(_ x: Int, _ a: Int) -> Int { (x + a - 1) / a * a }
        let slotsAt = n * MemoryLayout<SpanSlot>.stride
        let rareAt = up(slotsAt + helperSlotCount * MemoryLayout<HelperSlot>.stride, MemoryLayout<Rare>.alignment)
        let lockAt = up(rareAt + MemoryLayout<Rare>.stride, MemoryLayout<pthread_mutex_t>.alignment)
        let offerAt = up(lockAt + MemoryLayout<pthread_mutex_t>.stride, MemoryLayout<WorkerPool.Offer>.alignment)
        block = .allocate(byteCount: offerAt + MemoryLayout<WorkerPool.Offer>.stride + 48, alignment: 16)
        let line = block + (64 - Int(bitPattern: block) % 64) % 64
        spans = line.bindMemory(to: SpanSlot.self, capacity: n)
        helperSlots = (line + slotsAt).bindMemory(to: HelperSlot.self, capacity: helperSlotCount)
        for i in 0 ..< helperSlotCount { (helperSlots + i).initialize(to: HelperSlot()) }
        rare = (line + rareAt).bindMemory(to: Rare.self, capacity: 1)
        rare.initialize(to: Rare())
        rareLock = (line + lockAt).bindMemory(to: pthread_mutex_t.self, capacity: 1)
        pthread_mutex_init(rareLock, nil)
        offerCell = (line + offerAt).bindMemory(to: WorkerPool.Offer.self, capacity: 1)
        self.plan = plan
        self.body = job.threadFunction
        self.progress = job.progress
        self.cancel = job.cancellation
        self.extraCancel = extraCancel
        guidedDivisor = 2 * max(plan.threads, 1)
        if spanPlan.isEmpty {
            // Span i ends `left * (i + 1) / n` chunks after the solo ones,
            // computed without overflow for any chunk count.
            let first = solo.chunks, left = plan.chunkCount - solo.chunks
            let (q, r) = left.quotientAndRemainder(dividingBy: n)
            func end(_ i: Int) -> Int { first + q * i + r * i / n }
            for i in 0 ..< n {
                (spans + i).initialize(to: SpanSlot(lo: i == 0 ? 0 : end(i), hi: end(i + 1), node: -1))
            }
            if solo.chunks > 0 {
                spans[0].cursor.store(solo.chunks, ordering: .relaxed)
                unitsDone.store(solo.units, ordering: .relaxed)
                rare.pointee.progressReported = solo.units  // not shared yet
            }
        } else {
            for (i, s) in spanPlan.enumerated() {
                (spans + i).initialize(to: SpanSlot(lo: s.chunks.lowerBound, hi: s.chunks.upperBound, node: s.node))
            }
        }
    }

    deinit {
        spans.deinitialize(count: spanCount)
        helperSlots.deinitialize(count: helperSlotCount)
        rare.deinitialize(count: 1)
        pthread_mutex_destroy(rareLock)
        block.deallocate()
    }

    /// The records of the helpers that ran or skipped chunks, in slot
    /// order; read by the caller after its wait.
    func helperRecords() -> [MTJobReport.Participant] {
        var out: [MTJobReport.Participant] = []
        for i in 0 ..< helperSlotCount where helperSlots[i].done.load(ordering: .relaxed) > 0 {
            out.append(helperSlots[i].participant())
        }
        return out
    }

    /// Chunks the helpers ran or skipped so far. Sequentially consistent:
    /// the caller's re-read after it stored `waiter` needs it (see
    /// "Waiting"), and it orders the records' reads after the loads like an
    /// acquiring load would (on x86 both are plain loads).
    @inline(__always)
    func helpersDone() -> Int {
        var n = 0
        for i in 0 ..< helperSlotCount { n &+= helperSlots[i].done.load(ordering: .sequentiallyConsistent) }
        return n
    }

    // MARK: claiming

    /// At most this many thread spans (see "Thread spans").
    static let maxThreadSpans = 64

    /// The thread span helper `slot` claims from first.
    func threadSpanHome(slot: Int) -> Int { (slot + 1) % spanCount }

    /// Claims the next chunks of span `s` (a guided batch), or nil when it
    /// is exhausted or stopped.
    @inline(__always)
    func claim(span s: Int) -> Range<Int>? {
        var v = spans[s].cursor.load(ordering: .relaxed)
        let hi = spans[s].hi
        while true {
            if v >= hi || v & JobRun.stopBit != 0 { return nil }
            let n = max(1, (hi - v) / guidedDivisor)
            let (ok, seen) = spans[s].cursor.compareExchange(
                expected: v, desired: v + n, successOrdering: .relaxed, failureOrdering: .relaxed)
            if ok { return v ..< v + n }
            v = seen
        }
    }

    /// Claims from span `home` first, then from the span with the most
    /// chunks left.
    @inline(__always)
    func claim(home: Int) -> Range<Int>? {
        if let c = claim(span: home) { return c }
        if spanCount == 1 { return nil }
        while true {
            var best = -1, bestLeft = 0
            for s in 0 ..< spanCount {
                let v = spans[s].cursor.load(ordering: .relaxed)
                if v & JobRun.stopBit != 0 { continue }
                let left = spans[s].hi - v
                if left > bestLeft { best = s; bestLeft = left }
            }
            if best < 0 { return nil }
            if let c = claim(span: best) { return c }
        }
    }

    /// Stops every span; the first reason wins.
    func stop(_ why: Stop) {
        _ = stopReason.compareExchange(expected: 0, desired: why.rawValue, ordering: .relaxed)
        stopped.store(true, ordering: .relaxed)
        for s in 0 ..< spanCount { spans[s].cursor.bitwiseOr(JobRun.stopBit, ordering: .relaxed) }
    }

    func record(_ error: any Error) {
        let first = withRare { r -> Bool in
            if r.firstError == nil { r.firstError = error; return true }
            return false
        }
        if first { stop(.error) }
    }

    /// Chunks claimed in all; final once every span is exhausted or stopped.
    func claimedCount() -> Int {
        var n = 0
        for s in 0 ..< spanCount {
            let v = spans[s].cursor.load(ordering: .relaxed) & ~JobRun.stopBit
            n += min(v, spans[s].hi) - spans[s].lo
        }
        return n
    }

    /// Unit ranges of the chunks done: the claimed prefix of each span
    /// minus the skipped chunks, in order, adjacent ranges merged.
    func completedRanges() -> [Range<Int>] {
        var done: [Range<Int>] = []
        for s in 0 ..< spanCount {
            let v = min(spans[s].cursor.load(ordering: .relaxed) & ~JobRun.stopBit, spans[s].hi)
            if v > spans[s].lo { done.append(spans[s].lo ..< v) }
        }
        for cut in withRare({ $0.skipped }) {
            done = done.flatMap { r -> [Range<Int>] in
                guard r.overlaps(cut) else { return [r] }
                return [r.lowerBound ..< max(r.lowerBound, cut.lowerBound), min(r.upperBound, cut.upperBound) ..< r.upperBound]
                    .filter { !$0.isEmpty }
            }
        }
        var out: [Range<Int>] = []
        for r in done.sorted(by: { $0.lowerBound < $1.lowerBound }).map({ plan.units(chunks: $0) }) {
            if let last = out.last, last.upperBound == r.lowerBound {
                out[out.count - 1] = last.lowerBound ..< r.upperBound
            } else {
                out.append(r)
            }
        }
        return out
    }

    // MARK: participating

    /// The claim loop, the same for the caller and every helper (the
    /// kernel's `padata_mt_helper`). `pollsTask`: whether to poll the
    /// current Task's cancellation (the synchronous caller; see
    /// `taskPollNanos`). `slot`: a helper's slot (see `HelperSlot`), where
    /// it writes its record if it ran or skipped a chunk; nil for the
    /// caller. `prior`: chunks the caller ran alone before the run's shared
    /// state existed (see "Helpers on evidence"), merged into its record.
    /// Returns the caller's record and the chunks it ran or skipped, prior
    /// ones included (a helper gets nil and 0).
    @discardableResult
    func participate(home: Int, slot: Int?, pollsTask: Bool,
                     prior: SoloShare = SoloShare()) -> (record: MTJobReport.Participant?, chunks: Int) {
        var chunks = 0, units = 0, skippedChunks = 0
        var t0 = prior.start, t1 = prior.end
        let handles = cancel != nil || extraCancel != nil
        // The Task is polled when `chunks` reaches `nextPoll` (see
        // `taskPollNanos`), the first time after one chunk: `run` polled
        // it before the first.
        let clock = TSCClock()
        var nextPoll = pollsTask ? 1 : Int.max, polledAt = 0, polledChunks = 0
        claiming: while let batch = claim(home: home) {
            if chunks == 0 {
                polledAt = clock.now()
                if prior.chunks == 0 { t0 = polledAt }
            }
            for k in batch {
                if chunks >= nextPoll {
                    if Task.isCancelled { stop(.cancelled) }
                    let now = clock.now()
                    let mean = (now &- polledAt) / (chunks &- polledChunks)
                    nextPoll = chunks &+ JobRun.taskPollGap(meanChunk: mean)
                    polledAt = now
                    polledChunks = chunks
                }
                if handles && (cancel?.isCancelled == true || extraCancel?.isCancelled == true) {
                    stop(.cancelled)
                }
                if stopped.load(ordering: .relaxed) {
                    let rest = k ..< batch.upperBound
                    skippedChunks += rest.count
                    withRare { $0.skipped.append(rest) }
                    break claiming
                }
                let r = plan.range(ofChunk: k)
                chunks += 1
                do {
                    try body(r)
                    units += r.count
                    if let progress {
                        let total = unitsDone.wrappingAdd(r.count, ordering: .relaxed).newValue
                        withRare { rare in
                            if total > rare.progressReported { rare.progressReported = total; progress(total) }
                        }
                    }
                } catch {
                    record(error)
                }
            }
        }
        if chunks > 0 { t1 = clock.now() }
        let info = WorkerPool.current
        let cpu = info?.cpu ?? currentCPU()
        guard let slot else {
            let p = MTJobReport.Participant(
                role: .caller, worker: info, cpu: cpu, numaNode: info?.numaNode,
                chunks: prior.chunks + chunks, units: prior.units + units, busy: .nanoseconds(t1 - t0))
            return (p, prior.chunks + chunks + skippedChunks)
        }
        guard chunks + skippedChunks > 0 else { return (nil, 0) }
        precondition(slot >= 0 && slot < helperSlotCount, "JobRun: helper slot out of range")
        let h = helperSlots + slot
        h.pointee.chunks = chunks
        h.pointee.units = units
        h.pointee.busyNanos = t1 - t0
        if let info {
            h.pointee.hasWorker = true
            h.pointee.poolID = info.poolID
            h.pointee.index = Int32(truncatingIfNeeded: info.index)
            h.pointee.node = Int32(truncatingIfNeeded: info.numaNode ?? -1)
        }
        h.pointee.cpu = Int32(truncatingIfNeeded: cpu ?? -1)
        h.pointee.done.store(chunks + skippedChunks, ordering: .sequentiallyConsistent)
        if waiter.load(ordering: .sequentiallyConsistent) == 1 {
            semaphore?.signal()
        }
        return (nil, 0)
    }

    // MARK: offering a helper

    /// Offers one helper to a worker of `pool` that polls for work (see
    /// `WorkerPool.Offer`): one word swapped each way, where a submission
    /// costs both sides the queue's lock, storage and count. The offer
    /// holds a reference to the run. Returns false, having changed nothing,
    /// when the pool already holds another offer.
    func offerHelper(to pool: WorkerPool) -> Bool {
        let ref = Unmanaged.passRetained(self)
        offerCell.initialize(to: WorkerPool.Offer(run: { raw in
            let run = Unmanaged<JobRun>.fromOpaque(raw).takeRetainedValue()
            run.participate(home: run.threadSpanHome(slot: 0), slot: 0, pollsTask: false)
        }, argument: ref.toOpaque()))
        if pool.post(offerCell) { return true }
        ref.release()
        return false
    }

    /// Takes the offer back unless a worker took it, with the reference it
    /// held. Called by the caller once its claim loop ended: every chunk is
    /// claimed then, so a helper that never came loses nothing.
    func retractHelper(from pool: WorkerPool) {
        if pool.retract(offerCell) { Unmanaged.passUnretained(self).release() }
    }

    /// Do not rename: shows in profiles as the caller waiting for helpers.
    /// Spins (with `pause`, yielding the CPU now and then) for up to
    /// `waitSpinNanos`, then parks on a semaphore.
    func waitForClaimedChunks(_ target: Int) {
        if helpersDone() == target { return }
        let deadline = TSCClock.now() + JobRun.waitSpinNanos
        var polls = 0
        while true {
            if helpersDone() == target { return }
            mtj_cpu_relax()
            polls &+= 1
            if polls & 63 == 0 {
                if TSCClock.now() >= deadline { break }
                // A helper preempted on this CPU gets it back at once.
                sched_yield()
            }
        }
        let sem = DispatchSemaphore(value: 0)
        semaphore = sem
        waiter.store(1, ordering: .sequentiallyConsistent)
        while helpersDone() != target { sem.wait() }
    }

    /// How much work the synchronous caller does between two polls of its
    /// Task's cancellation. A poll (`Task.isCancelled`) costs ~10 ns
    /// outside a Task and 35–40 ns in one, where it looks the task up,
    /// retains and releases it (`UnsafeCurrentTask.isCancelled` on a
    /// task looked up once measured 55–95 ns: no cheaper). Before every
    /// chunk that was 3–7% of a microsecond chunk. So after each poll the
    /// caller reads the clock and sets the gap to the next one to this
    /// time over its mean chunk time since the last poll: every chunk
    /// when chunks are long, every 64th when they take 300 ns or less.
    /// A cancellation is seen within ~20 µs of work (or one chunk).
    static let taskPollNanos = 20_000

    /// Chunks between two Task polls for chunks of `mean` ns: 1 to 64
    /// (no division in the common cases: tiny or long chunks).
    @inline(__always)
    static func taskPollGap(meanChunk mean: Int) -> Int {
        if mean <= taskPollNanos / 64 { return 64 }
        if mean >= taskPollNanos { return 1 }
        return taskPollNanos / mean
    }

    /// How long the caller polls for the helpers' last chunks before it
    /// parks. A helper that claimed chunks is running them, usually on
    /// another CPU, so the wait is short; parking would add a futex wake
    /// (2–100 µs depending on the machine) to every job whose helpers
    /// finish last. The poll yields the CPU every few microseconds, so a
    /// helper sharing the caller's CPU is not held up.
    static let waitSpinNanos = 50_000
}

// `plan`, `body`, `progress`, the handles and the span table are immutable;
// cursors, the slots' `done`, `waiter`, `stopped`, `stopReason`, `unitsDone` are atomics;
// `rare` is guarded by `rareLock`; `semaphore`
// is published through `waiter` (see "Waiting").
extension JobRun: @unchecked Sendable {}

/// The CPU the calling thread runs on, if the system says: glibc's
/// `sched_getcpu` through the shim, which declares it (Swift's Glibc module
/// needs `_GNU_SOURCE` for it). A direct call, where a function pointer
/// looked up with `dlsym` into a lazy global cost a runtime call per use.
func currentCPU() -> Int? {
    let c = mtj_current_cpu()
    return c >= 0 ? Int(c) : nil
}
