import Topology
import WorkerPool

/// Starting a run: validation, the fast paths, helper submission, the
/// caller's share and the report (the body of `padata_do_multithreaded`).
extension JobRun {
    static func run(_ job: MTJob, pool: WorkerPool, extraCancel: MTJobCancelHandle?) throws -> MTJobReport {
        try job.validate()
        let t0 = monotonicNanos()
        let sizing = JobSizing.resolve(job, topology: pool.topology)
        let plan = ChunkPlan(start: job.start, size: job.size, align: job.align, minChunk: sizing.minChunk,
                             maxThreads: sizing.maxThreads, loadBalanceFactor: job.loadBalanceFactor)
        // Size 0: nothing to do, nothing called.
        if plan.chunkCount == 0 { return emptyReport(plan, t0) }
        if job.cancellation?.isCancelled == true || extraCancel?.isCancelled == true || Task.isCancelled {
            throw MTJobCancelled(report: emptyReport(plan, t0))
        }
        // One work: "cut to the chase" — run inline, touch no thread, no
        // shared state (the kernel's fast path).
        if plan.isInline {
            let r = job.start ..< job.start + job.size
            let b = monotonicNanos()
            try job.threadFunction(r)
            let e = monotonicNanos()
            job.progress?(job.size)
            let me = MTJobReport.Participant(
                role: .caller, worker: WorkerPool.current, cpu: currentCPU(), numaNode: WorkerPool.current?.numaNode,
                chunks: 1, units: job.size, busy: .nanoseconds(e - b))
            return MTJobReport(plan: plan, threadsStarted: 1, participants: [me], spans: [],
                               unitsCompleted: job.size, completedRanges: [r], elapsed: .nanoseconds(e - t0))
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
        }
        let state = JobRun(plan: plan, job: job, extraCancel: extraCancel, spans: spans)

        // Helpers: queued, never waited for unless they claim a chunk. A
        // refused submission (pool shut down) just means fewer helpers, as
        // an exhausted work pool does in the kernel.
        var started = 1
        if spans.isEmpty {
            for _ in 1 ..< plan.threads {
                do {
                    try pool.submit { state.participate(home: 0, role: .helper, checkTask: false) }
                    started += 1
                } catch { break }
            }
        } else {
            for node in helperNodes {
                let s = spans.firstIndex { $0.node == node } ?? 0
                let work: WorkItem = { state.participate(home: s, role: .helper, checkTask: false) }
                do {
                    do { try pool.submit(toNode: node, work) } catch { try pool.submit(work) }
                    started += 1
                } catch { break }
            }
        }

        // "Use the current thread, which saves starting a worker."
        state.participate(home: home, role: .caller, checkTask: true)
        state.waitForClaimedChunks(state.claimedCount())

        let elapsed = Duration.nanoseconds(monotonicNanos() - t0)
        if let e = state.firstError.withLock({ $0 }) { throw e }
        let participants = state.participants.withLock { $0 }
        let units = participants.reduce(0) { $0 + $1.units }
        let report = MTJobReport(
            plan: plan, threadsStarted: started,
            participants: participants,
            spans: spans, unitsCompleted: units,
            completedRanges: units == plan.size ? [job.start ..< job.start + job.size] : state.completedRanges(),
            elapsed: elapsed)
        if units != plan.size { throw MTJobCancelled(report: report) }
        return report
    }

    static func emptyReport(_ plan: ChunkPlan, _ t0: Int) -> MTJobReport {
        MTJobReport(plan: plan, threadsStarted: 0, participants: [], spans: [], unitsCompleted: 0,
                    completedRanges: [], elapsed: .nanoseconds(monotonicNanos() - t0))
    }

    static func runAsync(_ job: MTJob, pool: WorkerPool) async throws -> MTJobReport {
        try job.validate()
        if job.size == 0 { return try run(job, pool: pool, extraCancel: nil) }
        let handle = MTJobCancelHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<MTJobReport, any Error>) in
                // The caller's share runs off the cooperative pool.
                let work: WorkItem = {
                    cont.resume(with: Result { try run(job, pool: pool, extraCancel: handle) })
                }
                do { try pool.submit(work) } catch { DetachedThread.start(work) }
            }
        } onCancel: {
            handle.cancel()
        }
    }
}
