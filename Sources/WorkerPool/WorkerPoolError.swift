import Topology

/// Why a submission or reconfiguration was refused.
public enum WorkerPoolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// ``WorkerPool/shutdown()`` was called; nothing new is accepted.
    case shutDown
    /// No worker at this position of ``WorkerPool/placement``.
    case noSuchWorker(Int)
    /// No worker of the pool runs on this NUMA node (OS index).
    case noWorkerOnNode(Int)
    /// No worker of the pool runs on any CPU of this set.
    case noWorkerInSet(CPUSet)
    /// The pool was asked to run on no CPU at all.
    case emptyCPUSet
    /// CPUs that the topology does not have (or the process may not use).
    case cpusNotAvailable(CPUSet)
    /// The worker thread that would run the item could not be created
    /// (`pthread_create` failed with this error number, e.g. `EAGAIN` at a
    /// thread limit). Nothing was enqueued.
    case threadStartFailed(errno: Int32)

    public var description: String {
        switch self {
        case .shutDown: return "the worker pool is shut down"
        case .noSuchWorker(let i): return "the worker pool has no worker \(i)"
        case .noWorkerOnNode(let n): return "the worker pool has no worker on NUMA node \(n)"
        case .noWorkerInSet(let s): return "the worker pool has no worker on CPUs \(s)"
        case .emptyCPUSet: return "a worker pool needs at least one CPU"
        case .cpusNotAvailable(let s): return "CPUs \(s) are not available to this process"
        case .threadStartFailed(let e): return "the worker pool could not start a thread (error \(e))"
        }
    }
}
