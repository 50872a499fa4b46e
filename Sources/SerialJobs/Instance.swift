import Synchronization
import Topology
import WorkerPool
import MTSupport

/// The two CPU sets of an ``Instance``.
public struct CPUSets: Sendable, Hashable, CustomStringConvertible {
    /// CPUs whose pool workers run parallel functions.
    public var parallel: CPUSet
    /// The callback CPUs: where serial functions run.
    public var serial: CPUSet

    /// Both sets.
    public init(parallel: CPUSet, serial: CPUSet) {
        self.parallel = parallel
        self.serial = serial
    }

    public var description: String { "parallel \(parallel), serial \(serial)" }
}

/// Which of an instance's CPU sets a call changes (the kernel's
/// `PADATA_CPU_PARALLEL` / `PADATA_CPU_SERIAL` flags).
public struct CPUSetKind: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The parallel set.
    public static let parallel = CPUSetKind(rawValue: 1)
    /// The serial (callback) set.
    public static let serial = CPUSetKind(rawValue: 2)
    /// Both sets.
    public static let both: CPUSetKind = [.parallel, .serial]
}

/// Where a shell runs serial functions.
public enum SerialPlacement: Sendable, Hashable {
    /// On a pool worker of the item's callback CPU (its serial lane), as the
    /// kernel does. The thread holding the drain token runs a serial
    /// function inline when it already is that worker; otherwise it hands
    /// the token to the lane (a worker of that CPU picks it up between
    /// parallel items, or through a pool submission).
    case callbackCPU
    /// Inline on whichever pool worker holds the drain token (fewest hops,
    /// best for tiny items). Completions from threads outside the pool still
    /// hand the token to the item's lane, so user threads never run serial
    /// functions.
    case anyWorker
}

/// A padata instance: a parallel CPU set and a serial CPU set over a
/// ``WorkerPool``, shared by any number of ``Shell``s (ordered streams).
///
/// The sets default to every CPU of the pool (for ``WorkerPool/shared``:
/// every CPU the process may use). They can change while items are in
/// flight (``setCPUs(parallel:serial:)``, ``addCPU(_:to:)``,
/// ``removeCPU(_:from:)``): order is kept and nothing is lost or repeated,
/// because a shell's sequence and reorder window do not depend on the sets.
/// Observers learn the new effective sets (``onCPUSetsChange(_:)``,
/// ``cpuSetUpdates()``).
///
/// The kernel's `struct padata_instance` (`padata_alloc`), without its
/// generations: see the "Coming from padata" article.
public final class Instance {
    /// The pool that runs parallel functions, serial lanes and hand-offs.
    public let pool: WorkerPool

    struct State {
        /// What the user asked for.
        var requested: CPUSets
        /// `requested` ∩ the pool's CPUs.
        var effective: CPUSets
        var observers: [Int: @Sendable (CPUSets) -> Void] = [:]
        var streams: [Int: AsyncStream<CPUSets>.Continuation] = [:]
        var nextObserverID = 0
        var shells: [WeakShell] = []
        var nextShellIndex = 0
    }

    // protected by itself
    let state: Locked<State>

    /// Whether new items are accepted (``start()`` / ``stop()``). Relaxed:
    /// a submission racing with `stop` may go either way, and `stop` waits
    /// for whatever was accepted.
    let accepting = Atomic<Bool>(true)
    /// Bumped on every CPU-set change (relaxed; runners poll it to move to
    /// the new parallel set).
    let generation = Atomic<Int>(0)
    /// Number of CPUs in the effective parallel set: the most runners a
    /// shell starts (relaxed; a stale value only changes parallelism).
    let parallelWidth = Atomic<Int>(1)
    /// The effective serial set as a bit mask when every CPU in it is < 64,
    /// else 0 (relaxed: a lane chosen from the previous set is still a valid
    /// choice, and drains re-map lanes that left the set).
    let serialMask = Atomic<UInt64>(0)

    /// Creates an instance over `pool` (default: the shared pool).
    ///
    /// - Parameters:
    ///   - parallelCPUs: CPUs for parallel functions (default: the pool's).
    ///   - serialCPUs: the callback CPUs (default: the pool's).
    /// - Throws: ``SerialJobsError/emptyCPUSet(_:)`` for an empty set or one
    ///   that has no CPU in common with the pool,
    ///   ``SerialJobsError/cpusNotInPool(_:)`` for CPUs the pool lacks.
    public init(pool: WorkerPool = .shared, parallelCPUs: CPUSet? = nil, serialCPUs: CPUSet? = nil) throws(SerialJobsError) {
        self.pool = pool
        let poolCPUs = pool.cpus
        let requested = CPUSets(parallel: parallelCPUs ?? poolCPUs, serial: serialCPUs ?? poolCPUs)
        let effective = try Instance.validate(requested, poolCPUs: poolCPUs)
        state = Locked(State(requested: requested, effective: effective))
        publish(effective)
    }

    static func validate(_ r: CPUSets, poolCPUs: CPUSet) throws(SerialJobsError) -> CPUSets {
        guard !r.parallel.isEmpty else { throw .emptyCPUSet(.parallel) }
        guard !r.serial.isEmpty else { throw .emptyCPUSet(.serial) }
        let missing = r.parallel.union(r.serial).subtracting(poolCPUs)
        guard missing.isEmpty else { throw .cpusNotInPool(missing) }
        return r
    }

    /// Stores the fast-path copies of `e` (under `state`'s lock or in init).
    private func publish(_ e: CPUSets) {
        parallelWidth.store(e.parallel.count, ordering: .relaxed)
        var mask: UInt64 = 0
        for c in e.serial {
            guard c < 64 else { mask = 0; break }
            mask |= 1 << UInt64(c)
        }
        serialMask.store(mask, ordering: .relaxed)
        generation.wrappingAdd(1, ordering: .relaxed)
    }

    // MARK: CPU sets

    /// The sets as the user gave them.
    public var requestedCPUs: CPUSets { state.withLock { $0.requested } }

    /// The sets in use.
    public var cpus: CPUSets { state.withLock { $0.effective } }

    /// Replaces one or both sets; `nil` keeps a set. Items in flight keep
    /// their order; an item whose lane left the serial set is serialized on
    /// `serial.nth(lane % serial.count)` of the new set. Observers are told.
    ///
    /// The kernel's `padata_set_cpumasks` / `padata_set_cpumask`.
    public func setCPUs(parallel: CPUSet? = nil, serial: CPUSet? = nil) throws(SerialJobsError) {
        let poolCPUs = pool.cpus
        let (e, observers, streams) = try state.withLock { s throws(SerialJobsError) in
            let r = CPUSets(parallel: parallel ?? s.requested.parallel, serial: serial ?? s.requested.serial)
            let e = try Instance.validate(r, poolCPUs: poolCPUs)
            s.requested = r
            s.effective = e
            publish(e)
            return (e, Array(s.observers.values), Array(s.streams.values))
        }
        for o in observers { o(e) }
        for c in streams { c.yield(e) }
    }

    /// Adds `cpu` to the chosen sets (`padata_add_cpu`).
    public func addCPU(_ cpu: Int, to kinds: CPUSetKind = .both) throws(SerialJobsError) {
        guard cpu >= 0 else { throw .invalidCallbackCPU(cpu) }
        let r = requestedCPUs
        var p = r.parallel, s = r.serial
        if kinds.contains(.parallel) { _ = p.insert(cpu) }
        if kinds.contains(.serial) { _ = s.insert(cpu) }
        try setCPUs(parallel: p, serial: s)
    }

    /// Removes `cpu` from the chosen sets (`padata_remove_cpu`); refuses to
    /// empty a set.
    public func removeCPU(_ cpu: Int, from kinds: CPUSetKind = .both) throws(SerialJobsError) {
        let r = requestedCPUs
        var p = r.parallel, s = r.serial
        if kinds.contains(.parallel) { _ = p.remove(cpu) }
        if kinds.contains(.serial) { _ = s.remove(cpu) }
        try setCPUs(parallel: p, serial: s)
    }

    // MARK: Observers (the cpumask-change notifier)

    /// A registration made by ``onCPUSetsChange(_:)``; ``cancel()`` ends it.
    public struct Observation: Sendable {
        let instance: Instance
        let id: Int
        /// Stops the notifications.
        public func cancel() { _ = instance.state.withLock { $0.observers.removeValue(forKey: id) } }
    }

    /// Calls `observer` with the new effective sets after every change, on
    /// the thread that made it (`padata_register_cpumask_notifier`).
    @discardableResult
    public func onCPUSetsChange(_ observer: @escaping @Sendable (CPUSets) -> Void) -> Observation {
        let id = state.withLock { s in
            let id = s.nextObserverID
            s.nextObserverID += 1
            s.observers[id] = observer
            return id
        }
        return Observation(instance: self, id: id)
    }

    /// The effective sets now and after every change. Keeps the newest value
    /// only if the consumer is slow; ends when the consumer stops iterating.
    public func cpuSetUpdates() -> AsyncStream<CPUSets> {
        let (stream, continuation) = AsyncStream.makeStream(of: CPUSets.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int = state.withLock { s in
            let id = s.nextObserverID
            s.nextObserverID += 1
            s.streams[id] = continuation
            continuation.yield(s.effective)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: Lanes

    /// Maps a callback-CPU hint into the serial set as the kernel does: the
    /// hint itself if it is in the set, else `set.nth(hint % set.count)`.
    func lane(forHint hint: Int) -> Int {
        let mask = serialMask.load(ordering: .relaxed)
        if mask != 0 {
            if hint < 64 && mask & (1 << UInt64(hint)) != 0 { return hint }
            return Instance.nth(hint % mask.nonzeroBitCount, of: mask)
        }
        let set = state.withLock { $0.effective.serial }
        if set.contains(hint) { return hint }
        return set.nth(hint % set.count) ?? set.first ?? 0
    }

    /// The lane an item with `lane` is serialized on now (its own, unless
    /// the serial set changed since it was submitted).
    @inline(__always) func currentLane(_ lane: Int) -> Int {
        let mask = serialMask.load(ordering: .relaxed)
        if lane < 64 && mask & (1 << UInt64(lane)) != 0 { return lane }
        return self.lane(forHint: lane)
    }

    /// The index of the `n`-th set bit of `mask` (n < popcount).
    static func nth(_ n: Int, of mask: UInt64) -> Int {
        var m = mask
        for _ in 0..<n { m &= m &- 1 }
        return m.trailingZeroBitCount
    }

    // MARK: Shells and lifecycle

    /// Creates an ordered stream (`padata_alloc_shell`).
    ///
    /// - Parameters:
    ///   - window: items in flight at most (submitted, not yet serialized).
    ///   - startingSequence: the first item's sequence number (for tests of
    ///     wrap-around; sequence numbers wrap at 2^64).
    ///   - placement: where serial functions run.
    /// - Throws: ``SerialJobsError/invalidWindow(_:)`` when `window < 1`.
    public func makeShell(
        window: Int = 1024,
        startingSequence: UInt64 = 0,
        placement: SerialPlacement = .callbackCPU
    ) throws(SerialJobsError) -> Shell {
        guard window >= 1 else { throw .invalidWindow(window) }
        let index = state.withLock { s in
            let i = s.nextShellIndex
            s.nextShellIndex += 1
            return i
        }
        let shell = Shell(instance: self, index: index, window: window, startingSequence: startingSequence, placement: placement)
        state.withLock { s in
            s.shells.removeAll { $0.shell == nil }
            s.shells.append(WeakShell(shell: shell))
        }
        return shell
    }

    /// The live shells of this instance.
    public var shells: [Shell] { state.withLock { $0.shells.compactMap(\.shell) } }

    /// Accepts new items again after ``stop()`` (`padata_start`).
    public func start() { accepting.store(true, ordering: .relaxed) }

    /// Refuses new items in every shell and waits until every item in flight
    /// is serialized (`padata_stop`, which only refused).
    public func stop() {
        accepting.store(false, ordering: .relaxed)
        for s in shells {
            s.waitUntilIdle()
            s.releaseSpentItems()
        }
    }

    /// Whether the instance accepts new items.
    public var isAccepting: Bool { accepting.load(ordering: .relaxed) }
}

struct WeakShell {
    weak var shell: Shell?
}

// `pool` is immutable; `state` is a lock; the rest are atomics.
extension Instance: @unchecked Sendable {}
