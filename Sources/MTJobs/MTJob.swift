import Topology
import WorkerPool

/// A multithreaded job: a range of units cut into chunks that run in
/// parallel on the caller's thread and the shared worker pool — the
/// kernel's `struct padata_mt_job` and `padata_do_multithreaded()`.
///
/// ```swift
/// let job = MTJob(size: 1_000_000, align: 64) { range in
///     for i in range { process(i) }
/// }
/// let report = try job.run()           // caller participates, returns when all is done
/// let report2 = try await job.run()    // suspends, blocks no cooperative thread
/// ```
///
/// To fill or update an array, where each chunk writes its own elements,
/// use ``forEachChunk(of:align:minChunk:maxThreads:numaAware:on:_:)``.
///
/// A job is a value: running it never changes it (the kernel consumes
/// `start`/`size` as it goes; here the cursor lives in the run), so the same
/// job can be run again, on another pool, or with a new `start`.
///
/// How the range is cut is ``ChunkPlan`` (padata's rule, exactly). How the
/// threads claim chunks, stop on errors and cancellation, and how the
/// caller waits: see "Claiming, stopping and waiting" in `JobRun.swift`.
public struct MTJob: Sendable {
    /// The fields of a job, for error messages.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case start, size, align, minChunk, maxThreads, bytesPerUnit, loadBalanceFactor
    }

    /// First unit of the job, in the caller's units (an index, a byte
    /// offset, a page number...). May be negative. Default 0.
    public var start: Int

    /// Number of units, `>= 0`. `start + size` must be representable in
    /// `Int`. A job of size 0 returns at once without calling the function.
    public var size: Int

    /// Chunk boundaries fall on multiples of `align` (absolute multiples,
    /// not offsets from `start`), with two exceptions: the first chunk
    /// starts at `start` and the last ends at `start + size`, wherever
    /// those are. Use a page size to give each thread whole pages, a cache
    /// line to avoid false sharing. `>= 1`; default 1.
    public var align: Int

    /// The least amount of work worth one chunk (units): chunks are never
    /// smaller, except the first and the last. It is a floor, not a cap: a
    /// chunk may be larger, so the function must loop over its range.
    /// `>= 0`; `nil` (default) lets the library choose (see ``JobSizing``).
    public var minChunk: Int?

    /// The most threads the job may use, **counting the caller**: 1 runs
    /// everything inline on the caller. Fewer may be used when the job is
    /// small relative to `minChunk`/`align`. `>= 1`; `nil` (default) lets
    /// the library choose (see ``JobSizing``).
    public var maxThreads: Int?

    /// Spread the job over NUMA nodes: the chunks are split into one
    /// contiguous span per node (weighted by the pool's workers there),
    /// helpers run on their node and claim there first, then steal from
    /// the span with most work left. With one node it changes nothing.
    /// Default `false`.
    public var numaAware: Bool

    /// How many bytes one unit touches, if the caller knows: lets the
    /// library size chunks from the cache sizes when `minChunk` is `nil`.
    /// `>= 1` when set.
    public var bytesPerUnit: Int?

    /// Chunks per thread the planner aims for. Default
    /// ``ChunkPlan/loadBalanceFactor`` (4, the kernel's constant). Raise it
    /// for jobs whose units cost very different amounts (more, smaller
    /// chunks balance better). `>= 1`.
    public var loadBalanceFactor: Int

    /// Called after chunks finish with the number of units done so far
    /// (increasing, one call at a time, from whichever thread finished the
    /// chunk; never after the run returns). Keep it short: it is called
    /// under a lock.
    public var progress: (@Sendable (Int) -> Void)?

    /// An explicit cancel handle; see ``MTJobCancelHandle``.
    public var cancellation: MTJobCancelHandle?

    /// Tests only: the work-left budget of "helpers on evidence" (see
    /// `JobRun+Drive.swift`) instead of the library's, so that a test of
    /// the mechanism does not depend on how fast the build runs a chunk.
    var evidenceBudgetNanos: Int?

    /// The thread function, called once per chunk with a half-open range of
    /// units, on the caller or on a pool worker, possibly at the same time
    /// as other chunks. It may throw: the first error stops new chunks and
    /// is rethrown by `run` once every started chunk has finished. It may
    /// itself run another job. Never called after `run` returns.
    public var threadFunction: @Sendable (Range<Int>) throws -> Void

    /// Creates a job; every field is documented on its property.
    public init(
        start: Int = 0,
        size: Int,
        align: Int = 1,
        minChunk: Int? = nil,
        maxThreads: Int? = nil,
        numaAware: Bool = false,
        bytesPerUnit: Int? = nil,
        loadBalanceFactor: Int = ChunkPlan.loadBalanceFactor,
        progress: (@Sendable (Int) -> Void)? = nil,
        cancellation: MTJobCancelHandle? = nil,
        threadFunction: @escaping @Sendable (Range<Int>) throws -> Void
    ) {
        self.start = start
        self.size = size
        self.align = align
        self.minChunk = minChunk
        self.maxThreads = maxThreads
        self.numaAware = numaAware
        self.bytesPerUnit = bytesPerUnit
        self.loadBalanceFactor = loadBalanceFactor
        self.progress = progress
        self.cancellation = cancellation
        self.threadFunction = threadFunction
    }

    /// Checks every field; throws ``MTJobError`` naming the first bad one.
    public func validate() throws(MTJobError) {
        try ChunkPlan.check(start: start, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads,
                            loadBalanceFactor: loadBalanceFactor)
        if let b = bytesPerUnit, b < 1 { throw .invalidField(.bytesPerUnit, value: b, reason: "must be at least 1") }
    }

    /// The chunk plan this job gets on `pool` (library choices resolved).
    public func plan(on pool: WorkerPool = .shared) throws(MTJobError) -> ChunkPlan {
        try validate()
        let s = JobSizing.resolve(self, topology: pool.topology)
        return ChunkPlan(validatedStart: start, size: size, align: align, minChunk: s.minChunk,
                         maxThreads: s.maxThreads, loadBalanceFactor: loadBalanceFactor)
    }

    /// The NUMA spans a run of this job on `pool` uses: for a
    /// ``numaAware`` job on a pool that spans several NUMA nodes, one span
    /// per node that gets threads, in node order, each with its chunks (see
    /// ``plan(on:)`` for their ranges) and its thread count; empty when the
    /// run uses none (not NUMA-aware, one node, or a job that runs inline).
    /// The spans depend only on the job and the pool, never on timing.
    public func numaSpans(on pool: WorkerPool = .shared) throws(MTJobError) -> [NUMASpan] {
        let plan = try plan(on: pool)
        guard numaAware, !plan.isInline, plan.chunkCount > 0, pool.topology.numaNodes.count > 1 else { return [] }
        let weights = NUMASpanPlan.nodeWorkers(topology: pool.topology, cpus: pool.placement)
        return NUMASpanPlan.spans(chunkCount: plan.chunkCount, threads: plan.threads, nodeWorkers: weights)
    }

    /// Runs the job: the calling thread claims chunks alongside up to
    /// `maxThreads - 1` pool workers, and returns when every chunk is done.
    ///
    /// - Returns: what happened (``MTJobReport``).
    /// - Throws: ``MTJobError`` for an invalid job (nothing runs); the first
    ///   error thrown by the thread function; ``MTJobCancelled`` when
    ///   cancelled (through ``cancellation``, or the current Task's
    ///   cancellation, checked by the caller between its chunks).
    @discardableResult
    public func run(on pool: WorkerPool = .shared) throws -> MTJobReport {
        try JobRun.run(self, pool: pool, extraCancel: nil)
    }

    /// Runs the job without blocking a cooperative-pool thread: the
    /// caller's share runs on a pool worker (or, if the pool is shut down,
    /// a thread of its own) and this task suspends until the job is done.
    /// Task cancellation stops new claims (see ``MTJobCancelled``).
    @discardableResult
    public func run(on pool: WorkerPool = .shared) async throws -> MTJobReport {
        try await JobRun.runAsync(self, pool: pool)
    }
}
