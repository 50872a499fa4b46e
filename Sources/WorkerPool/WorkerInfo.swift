/// What a worker thread knows about itself; see ``WorkerPool/current``.
public struct WorkerInfo: Sendable, Hashable {
    /// Identifies the pool (distinct for every pool in the process).
    public let poolID: Int
    /// The worker's position in ``WorkerPool/placement`` (it changes when
    /// the pool is reconfigured; -1 while the worker's PU is leaving the
    /// pool and it finishes its current item).
    public let index: Int
    /// The PU (OS index) the worker is placed on.
    public let cpu: Int
    /// The NUMA node (OS index) local to that PU, if any.
    public let numaNode: Int?

    /// Builds an info (MTJobs rebuilds its helpers' infos from fields it
    /// stores apart; tests build them to compare reports).
    public init(poolID: Int, index: Int, cpu: Int, numaNode: Int?) {
        self.poolID = poolID
        self.index = index
        self.cpu = cpu
        self.numaNode = numaNode
    }
}
