import WorkerPool

/// What a run did: the plan, who ran what and where, how long it took.
public struct MTJobReport: Sendable, Hashable {
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

        public init(role: Role, worker: WorkerInfo?, cpu: Int?, numaNode: Int?, chunks: Int, units: Int, busy: Duration) {
            self.role = role
            self.worker = worker
            self.cpu = cpu
            self.numaNode = numaNode
            self.chunks = chunks
            self.units = units
            self.busy = busy
        }
    }

    /// The chunk plan (``ChunkPlan/chunkSize``, ``ChunkPlan/chunkCount``,
    /// ``ChunkPlan/nworks``).
    public let plan: ChunkPlan
    /// Threads asked for: the caller plus the helpers submitted to the pool.
    public let threadsStarted: Int
    /// Threads that ran at least one chunk, caller included (the caller
    /// first). Built when read: a run stores its caller's record apart, so
    /// a run on the caller alone allocates no array for its report.
    public var participants: [Participant] {
        guard let caller else { return helpers }
        return [caller] + helpers
    }
    /// The NUMA spans of a ``MTJob/numaAware`` job (empty otherwise).
    public let spans: [NUMASpan]
    /// Units whose chunks ran to completion.
    public let unitsCompleted: Int
    /// Exactly the units done, as ranges in increasing order: the whole job
    /// when nothing stopped it. After a cancellation, at most one prefix of
    /// each share the run cut the job into (one share per thread, or per
    /// NUMA node for a ``MTJob/numaAware`` job), adjacent ranges merged.
    public var completedRanges: [Range<Int>] {
        if let partial { return partial }
        return plan.size > 0 ? [plan.start ..< plan.start + plan.size] : []
    }
    /// Wall time of the run on the caller.
    public let elapsed: Duration

    /// The caller's record (nil only for a job that ran nothing).
    let caller: Participant?
    /// The helpers that ran chunks.
    let helpers: [Participant]
    /// `completedRanges` when not the whole job; nil when it is.
    let partial: [Range<Int>]?

    init(plan: ChunkPlan, threadsStarted: Int, caller: Participant?, helpers: [Participant], spans: [NUMASpan],
         unitsCompleted: Int, completedRanges: [Range<Int>]?, elapsed: Duration) {
        self.plan = plan
        self.threadsStarted = threadsStarted
        self.caller = caller
        self.helpers = helpers
        self.spans = spans
        self.unitsCompleted = unitsCompleted
        partial = completedRanges
        self.elapsed = elapsed
    }

    /// A report as a run makes it (for tests of code that consumes
    /// reports). `participants` lists the threads that ran chunks, the
    /// caller (``Participant/Role/caller``) first if it ran any;
    /// `completedRanges` nil means the whole job.
    public init(plan: ChunkPlan, threadsStarted: Int, participants: [Participant], spans: [NUMASpan] = [],
                unitsCompleted: Int, completedRanges: [Range<Int>]? = nil, elapsed: Duration) {
        let caller = participants.first { $0.role == .caller }
        self.init(plan: plan, threadsStarted: threadsStarted, caller: caller,
                  helpers: participants.filter { $0.role != .caller }, spans: spans, unitsCompleted: unitsCompleted,
                  completedRanges: completedRanges, elapsed: elapsed)
    }

    /// Threads that ran at least one chunk, caller included.
    public var threadsUsed: Int { (caller == nil ? 0 : 1) + helpers.count }
    /// The chunk size (see ``ChunkPlan/chunkSize``).
    public var chunkSize: Int { plan.chunkSize }
    /// Whether the one-work fast path ran the job inline.
    public var ranInline: Bool { plan.isInline }
    /// Chunks run, summed over every participant.
    public var chunksRun: Int { helpers.reduce(caller?.chunks ?? 0) { $0 + $1.chunks } }
}
