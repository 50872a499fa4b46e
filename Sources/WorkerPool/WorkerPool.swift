import Synchronization
import Topology
#if canImport(Glibc)
import Glibc
#endif

/// A unit of work for the pool. It runs exactly once, on a worker thread.
public typealias WorkItem = @Sendable () -> Void

/// The project's "workqueue": worker threads placed on chosen PUs, created
/// on demand, parked when idle, shared by MTJobs and SerialJobs.
///
/// Workers are created lazily, at most one per PU of ``placement``, which
/// lists the PUs in the order of ``Topology/placementOrder(within:)`` (one
/// per core before SMT siblings, spread across packages and NUMA nodes).
/// Each worker is bound to its PU when the topology is this system, and
/// named `<name>-w<index>` (`mtj-w3`) for profilers and `top -H`.
///
/// Work can go to any worker (``submit(_:)``), to a given worker
/// (``submit(toWorker:_:)``), to a worker of a NUMA node
/// (``submit(toNode:_:)``) or of a CPU set (``submit(to:_:)``). Each worker
/// runs its own queue in submission order, then the shared queue.
///
/// The CPU set can change at run time (``reconfigure(cpus:)``): queued work
/// of workers whose PU leaves moves to the others, never lost and never run
/// twice. ``shutdown()`` (or dropping the last reference) runs everything
/// already queued and joins the threads.
///
/// An idle worker polls its queues for ``spinDuration`` (so back-to-back
/// submissions cost no system call), then sleeps on a futex and uses no CPU.
/// Waking it costs the submitter one `FUTEX_WAKE`. The protocol, and why no
/// wake-up can be lost, is written up in <doc:Parking> (`Sources/WorkerPool/WorkerPool.docc/Parking.md`).
public final class WorkerPool {
    /// The process-wide pool over every CPU this process may use.
    public static let shared = WorkerPool(name: "mtj")

    /// The machine the pool places its workers on.
    public let topology: Topology
    /// The thread name prefix (at most 8 bytes).
    public let name: String
    /// Whether workers bind to their PU (only possible on this system).
    public let bindsThreads: Bool
    /// How long an idle worker polls for work before it sleeps.
    public let spinDuration: Duration
    let id: Int

    /// The queues, slots and threads (see ``PoolCore``).
    let core: PoolCore

    static let nextID = Atomic<Int>(0)

    /// The default ``spinDuration``: 50 µs. Longer than the gap between the
    /// jobs of a fork-join loop or the items of a pipeline, short enough
    /// that a pool going idle burns a negligible amount of CPU.
    public static let defaultSpinDuration: Duration = .microseconds(50)

    /// Creates a pool on `cpus` (default: every CPU the process may use;
    /// CPUs the topology lacks are ignored, and an empty result falls back
    /// to the default).
    public convenience init(
        name: String = "mtj",
        topology: Topology = .shared,
        cpus: CPUSet? = nil,
        bindThreads: Bool = true
    ) {
        self.init(name: name, topology: topology, cpus: cpus, bindThreads: bindThreads,
                  spinDuration: WorkerPool.defaultSpinDuration)
    }

    /// Creates a pool on `cpus` whose idle workers poll for `spinDuration`
    /// before they sleep (zero: sleep at once).
    public init(
        name: String = "mtj",
        topology: Topology = .shared,
        cpus: CPUSet? = nil,
        bindThreads: Bool = true,
        spinDuration: Duration
    ) {
        self.topology = topology
        self.name = String(decoding: name.utf8.prefix(8), as: UTF8.self)
        self.bindsThreads = bindThreads && topology.isThisSystem
        self.spinDuration = max(spinDuration, .zero)
        self.id = WorkerPool.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var set = cpus ?? topology.allowedCPUs
        set.formIntersection(CPUSet(topology.pus.map(\.osIndex)))
        if set.isEmpty { set = topology.allowedCPUs }
        let (seconds, attoseconds) = self.spinDuration.components
        let nanos = UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
        self.core = PoolCore(
            id: id, name: self.name, topology: topology, bind: self.bindsThreads,
            placement: topology.placementOrder(within: set), spinNanoseconds: nanos)
    }

    /// Like `init`, but refuses a bad CPU set instead of falling back.
    public convenience init(name: String = "mtj", topology: Topology = .shared, exactly cpus: CPUSet) throws(WorkerPoolError) {
        guard !cpus.isEmpty else { throw .emptyCPUSet }
        let missing = cpus.subtracting(topology.allowedCPUs)
        guard missing.isEmpty else { throw .cpusNotAvailable(missing) }
        self.init(name: name, topology: topology, cpus: cpus)
    }

    deinit {
        core.shutdown()
    }

    // MARK: Introspection

    /// OS indexes of the PUs of the workers, in placement order.
    public var placement: [Int] { core.config.withLock { c in c.order.map { core.slots[$0].cpu } } }

    /// Number of worker positions (threads are created on demand).
    public var workerCount: Int { core.activeCount.load(ordering: .relaxed) }

    /// Number of worker threads started and still running.
    public var startedThreads: Int { core.liveThreads.load(ordering: .relaxed) }

    /// Workers polling for work at this moment (a snapshot): while it is
    /// above 0, a submission reaches a worker without a wake-up.
    public var spinningWorkers: Int { core.spinners.load(ordering: .relaxed) }

    // MARK: Offers

    /// Work for whichever worker is polling for work, handed over without
    /// the queues: a C function and its argument.
    ///
    /// A submission takes the shared queue's lock and writes its storage
    /// and pending count, and the worker that picks the item up reads all
    /// three: a few tenths of a microsecond on each side, for cache lines
    /// the other thread wrote last. An offer is one
    /// word: the poster swaps it in, a polling worker swaps it out and
    /// runs it. It may also never run: no worker may be polling, or the
    /// poster may take it back first (`retract(_:)`). So it suits work
    /// that is optional, like a helper of a multithreaded job, whose
    /// caller does every chunk nobody else claimed.
    package struct Offer {
        /// Called on the worker that takes the offer, with `argument`.
        package var run: @convention(c) (UnsafeMutableRawPointer) -> Void
        package var argument: UnsafeMutableRawPointer

        package init(run: @convention(c) (UnsafeMutableRawPointer) -> Void, argument: UnsafeMutableRawPointer) {
            self.run = run
            self.argument = argument
        }
    }

    /// Posts `offer` for a worker that is polling for work (or looks for
    /// work between two items); only one offer is posted at a time.
    /// Returns false, and changes nothing, when another offer is posted.
    /// The offer must stay at its address, valid, until it runs or
    /// `retract(_:)` returns true; a worker reads it once, right after
    /// taking it, before calling `run`. A sleeping worker does not see it.
    package func post(_ offer: UnsafePointer<Offer>) -> Bool {
        core.offered.compareExchange(expected: 0, desired: Int(bitPattern: offer),
                                     ordering: .acquiringAndReleasing).exchanged
    }

    /// Takes a posted `offer` back. Returns true when no worker took it:
    /// it will not run. False when a worker took it (it runs, or ran).
    package func retract(_ offer: UnsafePointer<Offer>) -> Bool {
        core.offered.compareExchange(expected: Int(bitPattern: offer), desired: 0,
                                     ordering: .acquiringAndReleasing).exchanged
    }

    /// The current CPU set of the pool.
    public var cpus: CPUSet { CPUSet(placement) }

    /// Positions in ``placement`` (usable with ``submit(toWorker:_:)``) of
    /// the workers whose PU is local to NUMA node `node` (OS index).
    public func workers(onNode node: Int) -> [Int] {
        core.config.withLock { c in c.order.indices.filter { core.slots[c.order[$0]].node == node } }
    }

    /// The worker running the current thread, if it belongs to any pool.
    public static var current: WorkerInfo? {
        guard let context = WorkerThread.current else { return nil }
        let slot = context.thread.slot
        return WorkerInfo(
            poolID: context.core.id, index: slot.position.load(ordering: .relaxed),
            cpu: slot.cpu, numaNode: slot.node)
    }

    /// Whether the calling thread is a worker of this pool.
    public var isCurrentThreadWorker: Bool { WorkerThread.current?.core === core }
}

// Every stored property is immutable after init; the mutable state is in
// `core` (locks and atomics) and the static `nextID` (atomic).
extension WorkerPool: @unchecked Sendable {}
