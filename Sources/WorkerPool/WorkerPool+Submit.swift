import Topology

extension WorkerPool {
    /// Runs `work` on any worker of the pool: a spinning one picks it up at
    /// once, else a sleeping one is woken (or a thread started).
    /// - Throws: ``WorkerPoolError/shutDown`` after ``shutdown()``;
    ///   ``WorkerPoolError/threadStartFailed(errno:)`` if the pool has no
    ///   thread yet and none can be created.
    @inline(__always)
    public func submit(_ work: @escaping WorkItem) throws(WorkerPoolError) {
        try core.submitShared(work)
    }

    /// Runs `work` on the worker at position `index` of ``placement``,
    /// after the items submitted to that worker before it.
    /// - Throws: ``WorkerPoolError/noSuchWorker(_:)`` when `index` is not a
    ///   position of ``placement``; ``WorkerPoolError/shutDown``.
    @inline(__always)
    public func submit(toWorker index: Int, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        try core.submit(toPosition: index, work)
    }

    /// Runs `work` on a worker whose PU is local to NUMA node `node` (OS
    /// index): an idle one when there is one, else the least loaded.
    /// - Throws: ``WorkerPoolError/noWorkerOnNode(_:)``; ``WorkerPoolError/shutDown``.
    public func submit(toNode node: Int, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        try core.submit(choosing: { $0.node == node }, orElse: .noWorkerOnNode(node), work)
    }

    /// Runs `work` on a worker placed on one of `cpus`: an idle one when
    /// there is one, else the least loaded.
    /// - Throws: ``WorkerPoolError/noWorkerInSet(_:)`` (also for an empty
    ///   set); ``WorkerPoolError/shutDown``.
    public func submit(to cpus: CPUSet, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        // One CPU (a serial lane, a pinned item): straight to its slot.
        if let only = cpus.first, only == cpus.last {
            try core.submit(toCPU: only, orElse: .noWorkerInSet(cpus), work)
            return
        }
        try core.submit(choosing: { cpus.contains($0.cpu) }, orElse: .noWorkerInSet(cpus), work)
    }

    /// Moves the pool onto `cpus`: workers on CPUs that leave finish their
    /// current item and exit, their queued work moves to the shared queue
    /// (run by the remaining workers); CPUs that join get workers on demand.
    /// (A worker takes its whole queue at once: items it took together with
    /// its current one move when that item ends, unless the pool is shutting
    /// down, when it runs them itself.)
    /// Nothing queued is lost or run twice. Positions in ``placement``
    /// follow the new set's placement order.
    /// - Throws: ``WorkerPoolError/emptyCPUSet``,
    ///   ``WorkerPoolError/cpusNotAvailable(_:)``, ``WorkerPoolError/shutDown``.
    public func reconfigure(cpus: CPUSet) throws(WorkerPoolError) {
        guard !cpus.isEmpty else { throw .emptyCPUSet }
        let missing = cpus.subtracting(topology.allowedCPUs)
        guard missing.isEmpty else { throw .cpusNotAvailable(missing) }
        try core.reconfigure(placement: topology.placementOrder(within: cpus))
    }

    /// Refuses new work, lets the workers run everything already queued,
    /// and waits for them to exit. Called from a worker of this pool, it
    /// cannot wait for that worker: the calling worker runs the rest of its
    /// own queue after its current item and exits then. Idempotent.
    public func shutdown() {
        core.shutdown()
    }

    /// Whether ``shutdown()`` was called.
    public var isShutDown: Bool { core.closing.load(ordering: .relaxed) }
}
