import Synchronization
import Topology
#if canImport(Glibc)
import Glibc
#endif

/// A unit of work for the pool.
public typealias WorkItem = @Sendable () -> Void

/// Why a submission or reconfiguration was refused.
public enum WorkerPoolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// ``WorkerPool/shutdown()`` was called; nothing new is accepted.
    case shutDown
    /// No worker slot with this index.
    case noSuchWorker(Int)
    /// No worker of the pool runs on this NUMA node (OS index).
    case noWorkerOnNode(Int)
    /// No worker of the pool runs on any CPU of this set.
    case noWorkerInSet(CPUSet)
    /// The pool was asked to run on no CPU at all.
    case emptyCPUSet
    /// CPUs that the topology does not have (or the process may not use).
    case cpusNotAvailable(CPUSet)

    public var description: String {
        switch self {
        case .shutDown: return "the worker pool is shut down"
        case .noSuchWorker(let i): return "the worker pool has no worker \(i)"
        case .noWorkerOnNode(let n): return "the worker pool has no worker on NUMA node \(n)"
        case .noWorkerInSet(let s): return "the worker pool has no worker on CPUs \(s)"
        case .emptyCPUSet: return "a worker pool needs at least one CPU"
        case .cpusNotAvailable(let s): return "CPUs \(s) are not available to this process"
        }
    }
}

/// What a worker thread knows about itself; see ``WorkerPool/current``.
public struct WorkerInfo: Sendable, Hashable {
    /// Identifies the pool (distinct for every pool in the process).
    public let poolID: Int
    /// The worker's slot in ``WorkerPool/placement``.
    public let index: Int
    /// The PU (OS index) the worker is placed on.
    public let cpu: Int
    /// The NUMA node (OS index) local to that PU, if any.
    public let numaNode: Int?
}

/// The project's "workqueue": worker threads placed on chosen PUs, created on
/// demand, parked when idle, shared by MTJobs and SerialJobs.
///
/// Workers are created lazily, one per PU in ``placement`` order (one per
/// core before SMT siblings, spread across packages and NUMA nodes; see
/// ``Topology/placementOrder(within:)``). Each is bound to its PU when the
/// topology is this system, and named `<name>-w<index>` for profilers.
///
/// Work can go to any worker, to a given worker, to any worker of a NUMA
/// node, or to any worker of a CPU set. The CPU set can change at run time
/// (``reconfigure(cpus:)``): queued work of retired workers moves to the
/// remaining ones, never lost and never run twice.
///
/// Parking protocol: see `WorkerPool+Parking.md` beside this file.
public final class WorkerPool {
    /// The process-wide pool over every CPU this process may use.
    public static let shared = WorkerPool(name: "mtj")

    public let topology: Topology
    public let name: String
    /// Whether workers bind to their PU (only possible on this system).
    public let bindsThreads: Bool
    let id: Int

    /// The queues, slots and threads; worker threads retain it, not the
    /// pool, so dropping the last reference to the pool shuts it down.
    let core: PoolCore

    static let nextID = Atomic<Int>(0)

    /// Creates a pool on `cpus` (default: every CPU the process may use).
    public init(
        name: String = "mtj",
        topology: Topology = .shared,
        cpus: CPUSet? = nil,
        bindThreads: Bool = true
    ) {
        self.topology = topology
        self.name = String(name.prefix(8))
        self.bindsThreads = bindThreads && topology.isThisSystem
        self.id = WorkerPool.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var set = cpus ?? topology.allowedCPUs
        set.formIntersection(CPUSet(topology.pus.map(\.osIndex)))
        if set.isEmpty { set = topology.allowedCPUs }
        let order = topology.placementOrder(within: set)
        self.core = PoolCore(id: id, name: self.name, topology: topology, bind: self.bindsThreads, placement: order)
    }

    /// Like `init`, but refuses a bad CPU set instead of falling back.
    public convenience init(name: String = "mtj", topology: Topology = .shared, exactly cpus: CPUSet) throws(WorkerPoolError) {
        guard !cpus.isEmpty else { throw .emptyCPUSet }
        let missing = cpus.subtracting(topology.allowedCPUs)
        guard missing.isEmpty else { throw .cpusNotAvailable(missing) }
        self.init(name: name, topology: topology, cpus: cpus)
    }

    deinit {
        core.shutdown(join: true)
    }

    // MARK: Introspection

    /// OS indexes of the PUs of the active worker slots, in slot order.
    public var placement: [Int] { core.state.withLock { $0.slots.filter(\.active).map(\.cpu) } }

    /// Number of active worker slots (threads are created on demand).
    public var workerCount: Int { core.state.withLock { $0.activeCount } }

    /// Number of worker threads started so far and still running.
    public var startedThreads: Int { core.state.withLock { s in s.slots.filter { $0.thread != nil && !$0.exited }.count } }

    /// The current CPU set of the pool.
    public var cpus: CPUSet { core.state.withLock { CPUSet($0.slots.filter(\.active).map(\.cpu)) } }

    /// Active slot indexes whose PU is local to NUMA node `node`.
    public func workers(onNode node: Int) -> [Int] {
        core.state.withLock { s in s.slots.indices.filter { s.slots[$0].active && s.slots[$0].node == node } }
    }

    /// The worker running the current thread, if it belongs to any pool.
    public static var current: WorkerInfo? { WorkerThread.currentInfo }

    /// Whether the calling thread is a worker of this pool.
    public var isCurrentThreadWorker: Bool { WorkerThread.currentInfo?.poolID == id }
}

// All mutable state is in `state` (a Mutex) or atomics; the other stored
// properties are immutable after init.
extension WorkerPool: @unchecked Sendable {}
