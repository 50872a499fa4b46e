import Synchronization
import Topology
import WorkerPool
import MTSupport

/// One ordered stream of items on an ``Instance`` (the kernel's
/// `padata_shell`).
///
/// Each item has a parallel function, run on a pool worker of the parallel
/// set, and a serial function, run with the parallel result once every
/// earlier item of the shell has been serialized. Serial functions of one
/// shell run one at a time, in submission order, on their callback CPU
/// (see ``SerialPlacement``). (Inside the package, an item's callback CPU
/// is its *lane*.)
///
/// At most ``window`` items are in flight (submitted, not yet serialized):
/// ``submit(callbackCPU:parallel:serial:)`` blocks (its `async` overload
/// suspends) and ``trySubmit(callbackCPU:parallel:serial:)`` returns
/// ``TrySubmitResult/busy`` while the window is full, so memory stays
/// bounded whatever the input length.
///
/// ``submit(contentsOf:callbackCPU:parallel:serial:)`` submits a whole
/// collection, each input its own item, for a fraction of the per-item cost.
///
/// Ordering uses a ring of ``window`` slots and a drain token; the protocol
/// is written up in `ReorderWindow.swift` and in the "Reorder window"
/// article.
public final class Shell {
    /// The instance this shell belongs to.
    public let instance: Instance
    /// Items in flight at most.
    public let window: Int
    /// This shell's number in its instance (also its default callback-CPU
    /// hint, so shells spread over the serial lanes as pcrypt's transforms do).
    public let index: Int
    /// Where serial functions run.
    public let placement: SerialPlacement

    let ring: ReorderWindow
    let pool: WorkerPool

    /// Serializes `start`, `stop`'s release of spent items and `shutdown`
    /// (producers do not take it; see "Producers" in ReorderWindow.swift).
    /// // protected by itself
    let lifecycle = Locked(())
    /// Runners (pool work items claiming this shell's items) started and
    /// not yet finished. Changed with seq_cst: pairs with the producers'
    /// `submitted` store (see `startRunnersIfNeeded`).
    let runners = Atomic<Int>(0)
    /// Whether the last batch a runner timed took more than
    /// ``Shell/heavyItemNanoseconds`` per item (relaxed: a hint that only
    /// decides whether a second runner is worth starting).
    let itemsAreHeavy = Atomic<Bool>(false)
    /// Producers and `stop` waiting for `drained` to advance.
    let waiters = WaitList()
    /// A pending hand-off of the drain token to a lane, or 0; see
    /// SerialLane.swift.
    let handoff = Atomic<UInt64>(0)
    /// The ticket to continue draining from; written before `handoff`
    /// (which publishes it with a releasing store).
    let handoffTicket = Atomic<UInt64>(0)
    /// Distinguishes successive hand-offs (relaxed counter).
    let handoffEpoch = Atomic<UInt64>(0)

    init(instance: Instance, index: Int, window: Int, startingSequence: UInt64, placement: SerialPlacement) {
        self.instance = instance
        self.index = index
        self.window = window
        self.placement = placement
        self.pool = instance.pool
        self.ring = ReorderWindow(capacity: window, startSequence: startingSequence)
    }

    // MARK: Submitting

    /// Submits one item and blocks while ``window`` items are in flight.
    ///
    /// - Parameters:
    ///   - callbackCPU: the callback-CPU hint (default: ``index``), mapped
    ///     into the serial set as the kernel does; the choice is returned.
    ///   - parallel: runs on a pool worker of the parallel set.
    ///   - serial: gets the parallel function's result (or error), in
    ///     submission order, one call at a time.
    /// - Returns: the item's sequence number and callback CPU.
    /// - Throws: ``SerialJobsError/stopped``,
    ///   ``SerialJobsError/invalidCallbackCPU(_:)``.
    ///
    /// A pool worker that must wait (a parallel function submitting to a
    /// full shell) runs this shell's pending work meanwhile instead of
    /// sleeping, so nested submission cannot starve the pool. Waits that
    /// could never end are refused with
    /// ``SerialJobsError/reentrantSubmitWouldDeadlock`` instead: from a
    /// serial function of this shell, and from a parallel function of this
    /// shell for an item more than `window - 1` tickets after its own.
    /// (`trySubmit` never waits; an `async` submit suspends without holding
    /// a pool worker.)
    @inlinable @discardableResult
    public func submit<T: Sendable>(
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable () throws -> T,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> Submission {
        let lane = try lane(callbackCPU)
        return try enqueue(lane: lane, blocking: true) { p in
            TypedItem.install(in: p, sync: parallel, deferred: nil, serial: serial, lane: lane, shell: self)
        }.unsafelyUnwrapped
    }

    /// Submits one item whose parallel function finishes through a
    /// ``Completion`` (`padata_do_serial`), possibly later and from any
    /// thread; blocks while ``window`` items are in flight.
    @inlinable @discardableResult
    public func submit<T: Sendable>(
        callbackCPU: Int? = nil,
        completing parallel: @escaping @Sendable (Completion<T>) -> Void,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> Submission {
        let lane = try lane(callbackCPU)
        return try enqueue(lane: lane, blocking: true) { p in
            TypedItem.install(in: p, sync: nil, deferred: parallel, serial: serial, lane: lane, shell: self)
        }.unsafelyUnwrapped
    }

    /// Submits one item unless the window is full.
    @inlinable
    public func trySubmit<T: Sendable>(
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable () throws -> T,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> TrySubmitResult {
        let lane = try lane(callbackCPU)
        return try enqueue(lane: lane, blocking: false) { p in
            TypedItem.install(in: p, sync: parallel, deferred: nil, serial: serial, lane: lane, shell: self)
        }.map(TrySubmitResult.submitted) ?? .busy
    }

    /// Submits one item finished through a ``Completion`` unless the window
    /// is full.
    @inlinable
    public func trySubmit<T: Sendable>(
        callbackCPU: Int? = nil,
        completing parallel: @escaping @Sendable (Completion<T>) -> Void,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> TrySubmitResult {
        let lane = try lane(callbackCPU)
        return try enqueue(lane: lane, blocking: false) { p in
            TypedItem.install(in: p, sync: nil, deferred: parallel, serial: serial, lane: lane, shell: self)
        }.map(TrySubmitResult.submitted) ?? .busy
    }

    /// Submits one item, suspending (not blocking) while the window is full.
    ///
    /// - Throws: as the blocking form, and ``SerialJobsError/cancelled``
    ///   when the task is cancelled before the item is submitted (also
    ///   while it waits for room): then nothing is submitted.
    @inlinable @discardableResult
    public func submit<T: Sendable>(
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable () throws -> T,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) async throws(SerialJobsError) -> Submission {
        let lane = try lane(callbackCPU)
        return try await enqueueAsync(lane: lane) { p in
            TypedItem.install(in: p, sync: parallel, deferred: nil, serial: serial, lane: lane, shell: self)
        }
    }

    /// Submits one item finished through a ``Completion``, suspending while
    /// the window is full; cancelled as the other `async` submit is.
    @inlinable @discardableResult
    public func submit<T: Sendable>(
        callbackCPU: Int? = nil,
        completing parallel: @escaping @Sendable (Completion<T>) -> Void,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) async throws(SerialJobsError) -> Submission {
        let lane = try lane(callbackCPU)
        return try await enqueueAsync(lane: lane) { p in
            TypedItem.install(in: p, sync: nil, deferred: parallel, serial: serial, lane: lane, shell: self)
        }
    }

    /// The serial lane for a hint.
    @usableFromInline func lane(_ hint: Int?) throws(SerialJobsError) -> Int {
        let h = hint ?? index
        guard h >= 0 else { throw .invalidCallbackCPU(h) }
        return instance.lane(forHint: h)
    }

    enum Step {
        case ok(UInt64)
        case full(UInt64)
        case stopped
    }

    /// The producer's step that puts an item in a free slot (see
    /// ``TypedItem/install(in:sync:deferred:serial:lane:shell:)``).
    @usableFromInline typealias Install = (UnsafeMutablePointer<WindowItem?>) -> Void

    /// One attempt to publish an item: `install` fills the free slot. The
    /// protocol ("Producers") is written up in ReorderWindow.swift.
    @inline(__always) func tryPublish(_ install: Install) -> Step {
        // P1: reserve ticket t (a run of one; see `reserveRun`).
        let (t, k) = reserveRun(max: 1)
        if k == 0 { return t == Shell.stoppedTicket ? .stopped : .full(t) }
        // P2: fill slot t (this producer's alone until it publishes).
        let p = ring.slotPointer(t)
        install(p)
        Unmanaged.passUnretained(p.pointee.unsafelyUnwrapped)._withUnsafeGuaranteedRef { item in
            item.ticket = t
            item.sequence = ring.startSequence &+ t
        }
        // P3: publish in ticket order.
        ring.publish(ticket: t)
        startRunnersIfNeeded()
        return .ok(t)
    }

    // MARK: Batched producers (B1-B3 in ReorderWindow.swift)

    /// Tickets one batched reservation takes at most: bounds how long the
    /// producers of later tickets wait in P3 for this run to be published.
    @usableFromInline static let maxRun = 256
    /// Tickets published per `submitted` store while a run is filled: the
    /// runners start on a run before the producer has filled all of it.
    @usableFromInline static let runPublishChunk = 32
    /// What ``reserveRun(max:)`` returns as the ticket when the shell is
    /// stopped (no ticket comes near it: tickets never wrap).
    @usableFromInline static let stoppedTicket = UInt64.max

    /// B1: reserves up to `max` consecutive tickets (and at most
    /// ``maxRun``) with one CAS. Returns the first ticket and how many were
    /// reserved; `(t, 0)` when the window is full at ticket `t`;
    /// `(stoppedTicket, 0)` when the shell or instance is stopped.
    @usableFromInline func reserveRun(max wanted: Int) -> (UInt64, Int) {
        let want = UInt64(min(wanted, Shell.maxRun))
        var r = ring.reserved.load(ordering: .relaxed)
        while true {
            guard r & 1 == 0, instance.accepting.load(ordering: .relaxed) else { return (Shell.stoppedTicket, 0) }
            let t = r >> 1
            // Acquiring: the cached limit passes on a `drained` acquisition
            // (the slots below it are free).
            var limit = ring.roomLimit.load(ordering: .acquiring)
            if t &+ want > limit {
                // Not all of the run fits below the cached limit: refresh it
                // (acquiring: pairs with the drainer's `drained` store; the
                // releasing store passes that on to producers that only read
                // `roomLimit`).
                limit = ring.drained.load(ordering: .acquiring) &+ UInt64(window)
                ring.roomLimit.store(limit, ordering: .releasing)
                guard t < limit else { return (t, 0) }
            }
            let k = min(want, limit &- t)
            let (won, now) = ring.reserved.compareExchange(expected: r, desired: r &+ 2 &* k, ordering: .relaxed)
            if won { return (t, Int(k)) }
            r = now
        }
    }

    /// The sequence number of ticket `t`.
    @usableFromInline func sequenceNumber(ticket t: UInt64) -> UInt64 { ring.startSequence &+ t }

    /// B2-B3: stores `run` in the slots of tickets `start ..< end` (reserved
    /// by this producer, inputs filled) and publishes them in ticket order.
    /// `runStart`: the first chunk of a run, which may have to wait for
    /// earlier producers (P3); later chunks follow this producer's own.
    @usableFromInline func installAndPublish(_ run: WindowItem, from start: UInt64, to end: UInt64, runStart: Bool) {
        var t = start
        while t < end {
            // Releases the spent object there (on this thread, see
            // WindowItem), retains the run.
            ring.slotPointer(t).pointee = run
            t &+= 1
        }
        ring.publish(from: start, to: end)
        startRunnersIfNeeded()
    }

    /// Whether the current thread runs a serial function of this shell.
    @usableFromInline var isDraining: Bool { DrainContext.current === self }

    /// Blocks until the window has room for `wanted` more items (at most
    /// ``refill``) after a reservation found it full at ticket `t`.
    /// Returns false, without waiting, when the calling thread runs a
    /// parallel function of this shell that must finish first (see
    /// ParallelFrame.swift).
    @usableFromInline func waitForRoom(full t: UInt64, wanted: Int) -> Bool {
        guard let target = waitTarget(full: t, wanted: min(refill, UInt64(max(wanted, 1)))) else { return false }
        if !spinForDrained(target) { waitForDrained(target) }
        return true
    }

    /// Suspends until the window has room, like ``waitForRoom(full:wanted:)``.
    @usableFromInline func waitForRoomAsync(full t: UInt64, wanted: Int) async {
        await waitForDrainedAsync(t &- UInt64(window) &+ min(refill, UInt64(max(wanted, 1))))
    }

    /// Publishes an item; returns nil when not blocking and the window is full.
    @usableFromInline func enqueue(lane: Int, blocking: Bool, _ install: Install) throws(SerialJobsError) -> Submission? {
        while true {
            switch tryPublish(install) {
            case .ok(let t):
                return Submission(sequence: ring.startSequence &+ t, callbackCPU: lane)
            case .stopped:
                throw .stopped
            case .full(let t):
                guard blocking else { return nil }
                // A serial function of this shell cannot wait for its own
                // shell to drain (the kernel's nested-pcrypt deadlock); a
                // parallel function of it only for room below its own
                // item (ParallelFrame.swift).
                if isDraining { throw .reentrantSubmitWouldDeadlock }
                guard let target = waitTarget(full: t, wanted: refill) else { throw .reentrantSubmitWouldDeadlock }
                if !spinForDrained(target) { waitForDrained(target) }
            }
        }
    }

    @usableFromInline func enqueueAsync(lane: Int, _ install: Install) async throws(SerialJobsError) -> Submission {
        while true {
            // Checked before every attempt: a cancelled task submits nothing.
            if Task.isCancelled { throw .cancelled }
            switch tryPublish(install) {
            case .ok(let t):
                return Submission(sequence: ring.startSequence &+ t, callbackCPU: lane)
            case .stopped:
                throw .stopped
            case .full(let t):
                await waitForDrainedAsync(t &- UInt64(window) &+ refill)
            }
        }
    }

    // MARK: Lifecycle

    /// Refuses new items (they throw ``SerialJobsError/stopped``) and waits
    /// until every item in flight is serialized; then what the items'
    /// closures captured is released. Called from a serial or parallel
    /// function of this shell it only refuses (it cannot wait for itself).
    public func stop() {
        _ = ring.reserved.bitwiseOr(1, ordering: .sequentiallyConsistent)
        waitUntilIdle()
        releaseSpentItems()
    }

    /// Releases the spent items kept for reuse (and what their closures
    /// captured) when the shell is stopped and nothing is in flight: then no
    /// producer can reserve a ticket (``start()`` waits for `lifecycle`)
    /// and no runner or drainer touches an item.
    func releaseSpentItems() {
        if isDraining { return }
        lifecycle.withLock { _ in
            // Seq_cst: pairs with the drainer's `drained` store, so every
            // serial function has returned.
            let r = ring.reserved.load(ordering: .sequentiallyConsistent)
            if r & 1 == 1, ring.drained.load(ordering: .sequentiallyConsistent) == r >> 1 {
                ring.dropSpentItems()
            }
        }
    }

    /// Accepts new items again after ``stop()``.
    public func start() {
        lifecycle.withLock { _ in
            _ = ring.reserved.bitwiseAnd(~1, ordering: .sequentiallyConsistent)
        }
    }

    /// Whether the shell accepts new items (its instance too).
    public var isAccepting: Bool {
        ring.reserved.load(ordering: .relaxed) & 1 == 0 && instance.accepting.load(ordering: .relaxed)
    }

    /// Waits until everything submitted so far is serialized.
    func waitUntilIdle() {
        // Every reserved ticket is published before `drained` can pass it.
        let t = ring.reserved.load(ordering: .sequentiallyConsistent) >> 1
        // Nor can a serial or parallel function of this shell wait for
        // everything (its own item included).
        if isDraining || isRunningParallel { return }
        waitForDrained(t)
    }

    /// Items submitted and not yet serialized.
    public var inFlight: Int {
        let d = ring.drained.load(ordering: .sequentiallyConsistent)
        return Int(ring.submitted.load(ordering: .sequentiallyConsistent) &- d)
    }

    /// The sequence number the next submitted item gets.
    public var nextSequence: UInt64 {
        ring.startSequence &+ (ring.reserved.load(ordering: .relaxed) >> 1)
    }

    /// `a - b` for wrapping sequence numbers: positive when `a` comes after
    /// `b` (valid while they are less than 2^63 apart).
    public static func sequenceDistance(_ a: UInt64, _ b: UInt64) -> Int64 {
        Int64(bitPattern: a &- b)
    }
}

// `instance`, `window`, `index`, `placement`, `ring`, `pool` are immutable;
// `lifecycle` is a lock; `runners`, `handoff*` are atomics; `waiters`
// synchronizes itself.
extension Shell: @unchecked Sendable {}
