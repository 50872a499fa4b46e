import Synchronization
import Topology
import WorkerPool
import MTSupport

/// Starting a run: validation, the fast paths, helper submission, the
/// caller's share and the report (the body of `padata_do_multithreaded`).
extension JobRun {
    /// `pollsTask`: whether the caller polls the current Task's
    /// cancellation between chunks (the synchronous `run`; not the caller's
    /// share of `runAsync`, which runs on a pool worker and is stopped
    /// through `extraCancel`).
    ///
    /// The caller does not first ask whether it runs in a Task: that query
    /// (`withUnsafeCurrentTask`, a generic runtime call) costs ~70 ns, and
    /// 10 µs after the thread has been idle a while (its code and metadata
    /// are then out of every cache), which is most of what an empty job
    /// costs. `Task.isCancelled` is one non-generic call, ~10 ns outside a
    /// Task (35–40 ns in one: it looks the task up, retains and releases
    /// it), so it is simply polled, every ~20 µs of work (see
    /// `JobRun.taskPollNanos`).
    static func run(_ job: MTJob, pool: WorkerPool, extraCancel: MTJobCancelHandle?,
                    pollsTask: Bool = true) throws -> MTJobReport {
        try job.validate()
        // One look-up of the clock's scale for the run (a lazy global: each
        // look-up is a runtime call).
        let clock = TSCClock()
        let t0 = clock.now()
        // Both given: no need to read (copy) the pool's topology.
        let sizing = if let m = job.minChunk, let t = job.maxThreads { (minChunk: m, maxThreads: t) }
            else { JobSizing.resolve(job, topology: pool.topology) }
        let plan = ChunkPlan(validatedStart: job.start, size: job.size, align: job.align, minChunk: sizing.minChunk,
                             maxThreads: sizing.maxThreads, loadBalanceFactor: job.loadBalanceFactor)
        // Size 0: nothing to do, nothing called.
        if plan.chunkCount == 0 { return emptyReport(plan, t0) }
        if job.cancellation?.isCancelled == true || extraCancel?.isCancelled == true || (pollsTask && Task.isCancelled) {
            throw MTJobCancelled(report: emptyReport(plan, t0))
        }
        // One work: "cut to the chase" — run inline, touch no thread, no
        // shared state (the kernel's fast path).
        if plan.isInline {
            let r = job.start ..< job.start + job.size
            let b = clock.now()
            try job.threadFunction(r)
            let e = clock.now()
            job.progress?(job.size)
            let me = MTJobReport.Participant(
                role: .caller, worker: WorkerPool.current, cpu: currentCPU(), numaNode: WorkerPool.current?.numaNode,
                chunks: 1, units: job.size, busy: .nanoseconds(e - b))
            return MTJobReport(plan: plan, threadsStarted: 1, caller: me, helpers: [], spans: [],
                               unitsCompleted: job.size, completedRanges: nil, elapsed: .nanoseconds(e - t0))
        }

        // NUMA spans, when asked for and there is more than one node.
        var spans: [NUMASpan] = []
        var home = 0
        var helperNodes: [Int] = []
        if job.numaAware && pool.topology.numaNodes.count > 1 {
            let weights = NUMASpanPlan.nodeWorkers(topology: pool.topology, cpus: pool.placement)
            spans = NUMASpanPlan.spans(chunkCount: plan.chunkCount, threads: plan.threads, nodeWorkers: weights)
            let myNode = WorkerPool.current?.numaNode ?? currentCPU().flatMap { pool.topology.numaNode(ofCPU: $0) }
            home = spans.firstIndex { $0.node == myNode }
                ?? spans.indices.max { spans[$0].chunks.count < spans[$1].chunks.count } ?? 0
            helperNodes = NUMASpanPlan.helperNodes(spans: spans, callerSpan: home)
        } else if plan.chunkCount >= JobRun.evidenceChunksPerThread * plan.threads {
            // Unless the runs before this one are the evidence (helpers ran
            // chunks moments ago and a worker still polls for work, so a
            // hand-off costs an offer and no wake-up), the caller starts
            // alone (see "Helpers on evidence"); else it shares at once.
            let recentHelp = job.evidenceBudgetNanos == nil
                && t0 &- JobRun.lastHelped.load(ordering: .relaxed) < JobRun.recentHelpNanos
                && pool.spinningWorkers > 0
            if !recentHelp {
                return try runOnEvidence(job, plan: plan, pool: pool, extraCancel: extraCancel, pollsTask: pollsTask,
                                         clock: clock, t0: t0)
            }
        }
        return try runShared(job, plan: plan, pool: pool, extraCancel: extraCancel,
                             pollsTask: pollsTask, clock: clock, t0: t0,
                             spans: spans, home: home, helperNodes: helperNodes, solo: SoloShare())
    }

    /// The caller and its helpers share the chunks through a `JobRun`.
    static func runShared(_ job: MTJob, plan: ChunkPlan, pool: WorkerPool, extraCancel: MTJobCancelHandle?,
                          pollsTask: Bool, clock: TSCClock, t0: Int,
                          spans: [NUMASpan], home: Int, helperNodes: [Int], solo: SoloShare) throws -> MTJobReport {
        let state = JobRun(plan: plan, job: job, extraCancel: extraCancel, spans: spans,
                           helpers: spans.isEmpty ? plan.threads - 1 : helperNodes.count, solo: solo)

        // Helpers: queued, never waited for unless they claim a chunk. A
        // refused submission (pool shut down) just means fewer helpers, as
        // an exhausted work pool does in the kernel.
        var started = 1
        var offered = false
        if spans.isEmpty {
            // A worker polling for work gets one helper as an offer (see
            // `offerHelper`), the others go through the queue.
            if plan.threads > 1 && pool.spinningWorkers > 0 && state.offerHelper(to: pool) {
                offered = true
                started += 1
            }
            for slot in started - 1 ..< plan.threads - 1 {
                do {
                    try pool.submit { state.participate(home: state.threadSpanHome(slot: slot), slot: slot, pollsTask: false) }
                    started += 1
                } catch { break }
            }
        } else {
            for (slot, node) in helperNodes.enumerated() {
                let s = spans.firstIndex { $0.node == node } ?? 0
                let work: WorkItem = { state.participate(home: s, slot: slot, pollsTask: false) }
                do {
                    do { try pool.submit(toNode: node, work) } catch { try pool.submit(work) }
                    started += 1
                } catch { break }
            }
        }

        // "Use the current thread, which saves starting a worker."
        let (me, mine) = state.participate(home: home, slot: nil, pollsTask: pollsTask, prior: solo)
        if offered { state.retractHelper(from: pool) }
        state.waitForClaimedChunks(state.claimedCount() - mine)

        let end = clock.now()
        let elapsed = Duration.nanoseconds(end - t0)
        // An error stops the run first, so a run that never stopped has
        // none (and its caller takes no lock).
        if state.stopped.load(ordering: .relaxed), let firstError = state.withRare({ $0.firstError }) {
            throw firstError
        }
        let helpers = state.helperRecords()
        // Evidence for the next runs (see "Helpers on evidence"): only a run
        // long enough to be worth a helper on its own merits. A tiny run
        // whose early helper caught a chunk must not renew it, or a loop
        // of tiny jobs would keep paying hand-offs.
        if !helpers.isEmpty && end &- t0 >= JobRun.engageSpinningNanos {
            JobRun.lastHelped.store(end, ordering: .relaxed)
        }
        let units = helpers.reduce(me?.units ?? 0) { $0 + $1.units }
        let report = MTJobReport(
            plan: plan, threadsStarted: started, caller: me, helpers: helpers,
            spans: spans, unitsCompleted: units,
            completedRanges: units == plan.size ? nil : state.completedRanges(),
            elapsed: elapsed)
        if units != plan.size { throw MTJobCancelled(report: report) }
        return report
    }

    // MARK: Helpers on evidence
    //
    // Waking a parked worker costs the caller a futex wake, and the worker
    // arrives a while later: microseconds on bare metal; on a virtual
    // machine whose other vCPU is halted, tens of microseconds of the
    // caller's time and a hundred or more until the worker runs. A job whose chunks are all done before a helper
    // could arrive pays that for nothing: 64 no-op chunks take the caller
    // well under a microsecond. So when a job has many chunks per thread,
    // the caller starts alone, on its own stack: no shared state, no
    // atomic operation per chunk. After its 1st, 2nd, 8th, 32nd... chunk
    // it estimates the time the chunks left need: their count × its mean
    // chunk time, where the first chunk (cold caches: after idle even an
    // empty one can take a microsecond) counts alone only when it is
    // clearly heavy (8× the budget), and later checks use the mean of the
    // chunks after it. Once the estimate exceeds a budget
    // (`engageSleepingNanos`, or the smaller `engageSpinningNanos` when a
    // worker is polling for work and needs no wake-up), the caller creates
    // the shared state with the chunks it ran counted as claimed and done,
    // submits the helpers, and goes on as in any run. If the job ends
    // first, no thread was disturbed and nothing was allocated but the
    // report.
    //
    // The price is at most two chunks of delay before helpers start (one
    // when the first chunk is heavy, two when chunks take about a
    // microsecond). With `evidenceChunksPerThread` (8) or
    // more chunks per thread that is a small part of a thread's share.
    // Jobs with fewer chunks per thread (the padata default of 4 per
    // thread, big buffer fills) and NUMA-aware jobs (whose helpers must
    // first-touch their own node's memory) submit their helpers at once,
    // as the kernel does.

    // The other evidence is the runs before this one. A loop of jobs like
    // 64 chunks of a microsecond engages a helper in every run, after its
    // first chunk; the helper then polls for work until the next run. When
    // a run's helpers ran chunks less than `recentHelpNanos` ago and a
    // worker is polling, a run submits its helpers before its first chunk:
    // an offer (see `offerHelper`), no wake-up, and the helper starts a
    // chunk earlier. If the job turns out tiny, it paid the offer and the
    // shared state (~0.3 µs); a run shorter than `engageSpinningNanos`
    // does not renew the evidence, even when its helper caught a chunk,
    // so a loop of tiny jobs after heavy ones goes back to starting alone
    // within `recentHelpNanos`. The time is read before the pool is: after
    // idle the pool's counters are out of every cache, and the time says
    // whether reading them could pay.

    /// When the helpers of a shared run last ran chunks (`monotonicNanos`),
    /// on any pool. Relaxed: a hint, read and written without ordering.
    static let lastHelped = Atomic<Int>(Int.min / 2)
    /// How recent that must be to submit helpers before any chunk: about
    /// the time a worker polls for work before it sleeps.
    static let recentHelpNanos = 50_000

    /// Chunks per thread from which the caller starts alone.
    static let evidenceChunksPerThread = 8
    /// Work left (estimated) that justifies waking a parked worker: it
    /// costs the caller a futex wake and the helper arrives late (see
    /// above), so only work well beyond that is worth sharing.
    static let engageSleepingNanos = 20_000
    /// Work left (estimated) that justifies handing chunks to a worker that
    /// is polling for work: an offer, and it arrives within a
    /// microsecond or two, so a few times that. Not lower: a caller slowed
    /// a little (a timer interrupt between two clock reads, a debug build)
    /// would then engage a helper for a tiny job; the helper polls again
    /// after the job, which keeps the budget low, so back-to-back tiny jobs
    /// would keep paying a hand-off. (An empty chunk estimates at ~10 ns ×
    /// chunks left in a release build, far below this.)
    static let engageSpinningNanos = 10_000

    /// Runs chunks on the caller alone until the evidence says helpers pay
    /// (then continues in `runShared`) or the job is done.
    static func runOnEvidence(_ job: MTJob, plan: ChunkPlan, pool: WorkerPool, extraCancel: MTJobCancelHandle?,
                              pollsTask: Bool, clock: TSCClock, t0: Int) throws -> MTJobReport {
        let n = plan.chunkCount
        let body = job.threadFunction, progress = job.progress
        let cancel = job.cancellation
        // Looked at before every chunk; most jobs have none of them.
        let perChunk = cancel != nil || extraCancel != nil || progress != nil
        // The Task is polled before chunk `nextPoll`: not before the first
        // (`run` just did), then every `pollGap` chunks, which each
        // evidence check sets to `taskPollNanos` (~20 µs) of work at the
        // mean chunk time so far, 1 to 64 chunks (see `taskPollNanos`: a
        // poll costs more than an empty chunk). The handles are still
        // looked at before every chunk.
        var pollGap = 1, polled = 0, nextPoll = pollsTask ? 1 : Int.max
        var nextCheck = 1, warm = 0
        var engaged = false, cancelled = false
        // Chunk bounds computed incrementally: chunk 0 ends at `firstEnd`,
        // every later one `chunkSize` further (see ChunkPlan), the last one
        // at the job's end. No overflow: every bound is at most `end`.
        let end = plan.start &+ plan.size, chunkSize = plan.chunkSize
        var lo = plan.start, hi = plan.firstEnd
        var k = 0  // chunks done
        // The first chunk's start is read apart from `t0`: after idle,
        // planning alone can take microseconds (cold caches), which the
        // first evidence check must not count as chunk time.
        var solo = SoloShare()
        solo.start = clock.now()
        solo: while true {
            // The chunks up to the next stop (an evidence check, a Task
            // poll, the end), in a loop that does nothing else when there
            // is nothing to look at per chunk: for empty chunks the loop
            // is most of the run. An error thrown by a chunk is rethrown at
            // once: nothing else started.
            let stop = min(nextCheck, nextPoll, n)
            if perChunk {
                while k < stop {
                    if cancel?.isCancelled == true || extraCancel?.isCancelled == true {
                        cancelled = true
                        break solo
                    }
                    try body(Range(uncheckedBounds: (lo, hi)))
                    k &+= 1
                    lo = hi
                    hi = end &- hi <= chunkSize ? end : hi &+ chunkSize
                    progress?(lo &- plan.start)
                }
            } else {
                while k < stop {
                    try body(Range(uncheckedBounds: (lo, hi)))
                    k &+= 1
                    lo = hi
                    hi = end &- hi <= chunkSize ? end : hi &+ chunkSize
                }
            }
            if k == n { break }
            if k == nextCheck {
                // Checks after chunks 1, 2, 8, 32, 128...: a clock read is
                // worth a few empty chunks. The check after chunk 2 is
                // there for chunks of about a microsecond (whose estimate
                // after one cold chunk is too low to engage): it is
                // skipped when chunk 1 took under 250 ns.
                nextCheck = nextCheck == 1 ? 2 : nextCheck &* 4
                let now = clock.now()
                let left = n &- k
                let mean = k == 1 ? now &- solo.start : (now &- warm) / (k &- 1)
                let estimate = k == 1 ? mean &* left / 8 : mean &* left
                if k == 1 {
                    warm = now
                    if mean < 250 { nextCheck = 8 }
                }
                if pollsTask {
                    pollGap = JobRun.taskPollGap(meanChunk: mean)
                    nextPoll = polled &+ pollGap
                }
                // The pool is asked whether a worker is polling only when
                // the estimate could pass the smaller budget: a tiny job
                // never touches the pool (after idle, reading its counter
                // misses every cache: ~3 µs).
                let engage = if let budget = job.evidenceBudgetNanos { estimate > budget }
                    else { estimate > engageSpinningNanos && (estimate > engageSleepingNanos || pool.spinningWorkers > 0) }
                if engage {
                    engaged = true
                    break solo
                }
            }
            if k >= nextPoll {
                polled = k
                nextPoll = k &+ pollGap
                if Task.isCancelled {
                    cancelled = true
                    break solo
                }
            }
        }
        solo.chunks = k
        solo.units = lo &- plan.start
        if cancelled {
            solo.end = clock.now()
            throw MTJobCancelled(report: soloReport(job, plan, solo, t0: t0))
        }
        solo.end = clock.now()
        if engaged {
            return try runShared(job, plan: plan, pool: pool, extraCancel: extraCancel, pollsTask: pollsTask,
                                 clock: clock, t0: t0,
                                 spans: [], home: 0, helperNodes: [], solo: solo)
        }
        return soloReport(job, plan, solo, t0: t0)
    }

    /// The report of a run the caller did alone (possibly cut short).
    static func soloReport(_ job: MTJob, _ plan: ChunkPlan, _ solo: SoloShare, t0: Int) -> MTJobReport {
        let info = WorkerPool.current
        let me = MTJobReport.Participant(
            role: .caller, worker: info, cpu: info?.cpu ?? currentCPU(), numaNode: info?.numaNode,
            chunks: solo.chunks, units: solo.units, busy: .nanoseconds(solo.chunks > 0 ? solo.end - solo.start : 0))
        let done = job.start ..< job.start + solo.units
        return MTJobReport(plan: plan, threadsStarted: 1, caller: me, helpers: [], spans: [], unitsCompleted: solo.units,
                           completedRanges: solo.units == plan.size ? nil : done.isEmpty ? [] : [done],
                           elapsed: .nanoseconds(solo.end - t0))
    }

    static func emptyReport(_ plan: ChunkPlan, _ t0: Int) -> MTJobReport {
        MTJobReport(plan: plan, threadsStarted: 0, caller: nil, helpers: [], spans: [], unitsCompleted: 0,
                    completedRanges: plan.size == 0 ? nil : [], elapsed: .nanoseconds(TSCClock.now() - t0))
    }

    static func runAsync(_ job: MTJob, pool: WorkerPool) async throws -> MTJobReport {
        try job.validate()
        if job.size == 0 { return try run(job, pool: pool, extraCancel: nil) }
        let handle = MTJobCancelHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<MTJobReport, any Error>) in
                // The caller's share runs off the cooperative pool.
                let work: WorkItem = {
                    cont.resume(with: Result { try run(job, pool: pool, extraCancel: handle, pollsTask: false) })
                }
                do { try pool.submit(work) } catch { DetachedThread.start(work) }
            }
        } onCancel: {
            handle.cancel()
        }
    }
}
