import WorkerPool

/// What a run did: the plan, who ran what and where, how long it took.
public struct MTJobReport: Sendable {
    /// One thread that ran at least one chunk (the caller is always listed).
    public struct Participant: Sendable, Hashable {
        /// The caller's own thread, or a pool worker helping it.
        public enum Role: Sendable, Hashable { case caller, helper }
        public let role: Role
        /// The pool worker that ran it (`nil` for a caller that is not a
        /// pool worker).
        public let worker: WorkerInfo?
        /// The CPU (OS index) it ran on when it started claiming.
        public let cpu: Int?
        /// The NUMA node (OS index) of that CPU.
        public let numaNode: Int?
        /// Chunks it ran.
        public let chunks: Int
        /// Units in those chunks.
        public let units: Int
        /// From the start of its first chunk to the end of its last.
        public let busy: Duration
    }

    /// The chunk plan (``ChunkPlan/chunkSize``, ``ChunkPlan/chunkCount``,
    /// ``ChunkPlan/nworks``).
    public let plan: ChunkPlan
    /// Threads asked for: the caller plus the helpers submitted to the pool.
    public let threadsStarted: Int
    /// Threads that ran at least one chunk, caller included.
    public let participants: [Participant]
    /// The NUMA spans of a ``MTJob/numaAware`` job (empty otherwise).
    public let spans: [NUMASpan]
    /// Units whose chunks ran to completion.
    public let unitsCompleted: Int
    /// Exactly the units done, as ranges in increasing order (the whole job
    /// when nothing stopped it; after a cancellation one prefix per span).
    public let completedRanges: [Range<Int>]
    /// Wall time of the run on the caller.
    public let elapsed: Duration

    /// Threads that ran at least one chunk, caller included.
    public var threadsUsed: Int { participants.count }
    /// The chunk size (see ``ChunkPlan/chunkSize``).
    public var chunkSize: Int { plan.chunkSize }
    /// Whether the one-work fast path ran the job inline.
    public var ranInline: Bool { plan.isInline }
    /// Chunks run, summed over every participant.
    public var chunksRun: Int { participants.reduce(0) { $0 + $1.chunks } }
}
