import Topology

extension WorkerPool {
    /// Runs `work` on any worker of the pool.
    public func submit(_ work: @escaping WorkItem) throws(WorkerPoolError) {
        try core.enqueue(.any, work)
    }

    /// Runs `work` on the worker at position `index` of ``placement``.
    public func submit(toWorker index: Int, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        let slot: Int? = core.state.withLock { s in
            let active = s.activeIndexes
            return index >= 0 && index < active.count ? active[index] : nil
        }
        guard let slot else { throw .noSuchWorker(index) }
        try core.enqueue(.slot(slot), work)
    }

    /// Runs `work` on a worker whose PU is local to NUMA node `node` (OS
    /// index): an idle one when there is one, else the least loaded.
    public func submit(toNode node: Int, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        let c = core.state.withLock { s in s.activeIndexes.filter { s.slots[$0].node == node } }
        guard !c.isEmpty else { throw .noWorkerOnNode(node) }
        try core.enqueue(.choose(c), work)
    }

    /// Runs `work` on a worker placed on one of `cpus`: an idle one when
    /// there is one, else the least loaded.
    public func submit(to cpus: CPUSet, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        let c = core.state.withLock { s in s.activeIndexes.filter { cpus.contains(s.slots[$0].cpu) } }
        guard !c.isEmpty else { throw .noWorkerInSet(cpus) }
        try core.enqueue(.choose(c), work)
    }

    /// Moves the pool onto `cpus`: workers on CPUs that leave finish their
    /// current item and exit, their queued work moves to the remaining
    /// workers; CPUs that join get workers on demand. Nothing queued is lost
    /// or run twice.
    public func reconfigure(cpus: CPUSet) throws(WorkerPoolError) {
        guard !cpus.isEmpty else { throw .emptyCPUSet }
        let missing = cpus.subtracting(topology.allowedCPUs)
        guard missing.isEmpty else { throw .cpusNotAvailable(missing) }
        try core.reconfigure(placement: topology.placementOrder(within: cpus))
    }

    /// Refuses new work, lets the workers run everything already queued,
    /// and waits for them to exit (unless called from a worker of this pool,
    /// which cannot wait for itself). Idempotent.
    public func shutdown() {
        core.shutdown(join: true)
    }

    /// Whether ``shutdown()`` was called.
    public var isShutDown: Bool { core.state.withLock { $0.shuttingDown } }
}
