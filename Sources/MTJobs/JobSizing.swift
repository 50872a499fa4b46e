import Topology

/// The library's choice of `minChunk` and `maxThreads` when a job leaves
/// them `nil`.
///
/// **maxThreads** = ``Topology/availableParallelism``: the CPUs the process
/// may run on (affinity mask, cgroup cpuset), capped by the cgroup CPU
/// quota rounded up. More threads than that only time-slice against each
/// other. The caller counts as one of them.
///
/// **minChunk**:
/// - with ``MTJob/bytesPerUnit`` = b: `ceil(L / b)` units, where L is the
///   size of the L2 cache (else L1d, else 256 KiB) of the first allowed
///   CPU. A chunk then touches at least one L2 worth of memory: at memory
///   bandwidth that is tens of microseconds, so one claim (an atomic
///   operation) and a helper's wake-up are below 1% of a chunk, and a
///   chunk that is read again right after it was written still fits in
///   the cache of the core that wrote it.
/// - without it: 1 (the job's cost per unit is unknown; the padata rule
///   `size / (threads × 4)` already makes chunks as large as balancing
///   allows).
public enum JobSizing {
    /// The fallback cache size when the topology reports none.
    public static let fallbackCacheBytes = 256 << 10

    /// `minChunk` and `maxThreads` for `job` on `topology`.
    public static func resolve(_ job: MTJob, topology: Topology) -> (minChunk: Int, maxThreads: Int) {
        let threads = job.maxThreads ?? max(1, topology.availableParallelism)
        if let m = job.minChunk { return (m, threads) }
        guard let b = job.bytesPerUnit, b > 0 else { return (1, threads) }
        let bytes = chunkBytes(topology)
        return (max(1, (bytes + b - 1) / b), threads)
    }

    /// The byte budget of one chunk: the L2 (else L1d) size of the first
    /// allowed CPU.
    public static func chunkBytes(_ topology: Topology) -> Int {
        guard let cpu = topology.allowedCPUs.first else { return fallbackCacheBytes }
        if let c = topology.cache(level: 2, coveringCPU: cpu) ?? topology.cache(level: 1, coveringCPU: cpu),
           c.sizeBytes > 0 {
            return Int(clamping: c.sizeBytes)
        }
        return fallbackCacheBytes
    }
}
