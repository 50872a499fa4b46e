import Synchronization

/// One submitted item as the reorder window holds it: type-erased so one ring
/// holds items of any result type.
///
/// Life of an item (see the protocol in `ReorderWindow.swift`):
/// 1. the producer fills `ticket`, `sequence` under the shell's producer lock
///    and publishes the item in its slot;
/// 2. a parallel runner calls ``runParallel()`` exactly once;
/// 3. the item is completed exactly once (synchronously by the runner, or
///    later through a ``Completion``): `result` is written, then the slot's
///    ready tag is stored;
/// 4. the drain-token holder calls ``runSerial()`` exactly once, in ticket
///    order, and drops the item.
class WindowItem {
    /// Position in the shell's stream, counted from 0; never wraps.
    /// Written by the producer before publication, read-only afterwards.
    var ticket: UInt64 = 0
    /// The caller-visible sequence number: `startSequence &+ ticket`.
    var sequence: UInt64 = 0
    /// The serial lane (callback CPU) chosen at submission.
    let lane: Int
    let shell: Shell
    /// Set by the first completion; a second one traps. Exchanged with
    /// acquiring-and-releasing so that the winner's later writes are ordered
    /// after any other completer's view.
    let completedFlag = Atomic<Bool>(false)

    init(lane: Int, shell: Shell) {
        self.lane = lane
        self.shell = shell
    }

    /// Runs the parallel function (on a pool worker of the parallel set).
    /// Returns true when the item completed synchronously and its result is
    /// stored: the caller (a runner) then marks it ready itself, so a batch
    /// of items is marked with one token check (ReorderWindow.markReady(_:)
    /// for ranges). Returns false for deferred items, which mark themselves
    /// ready when their ``Completion`` is called.
    func runParallel() -> Bool { fatalError("WindowItem.runParallel is abstract") }
    /// Runs the serial function with the stored result; only the drain-token
    /// holder calls it.
    func runSerial() { fatalError("WindowItem.runSerial is abstract") }

    /// Whether the parallel stage has finished (for reports).
    var isCompleted: Bool { completedFlag.load(ordering: .relaxed) }
}

/// A ``WindowItem`` for one result type.
final class TypedItem<T: Sendable>: WindowItem {
    enum Body {
        /// The parallel function returns (or throws) its result.
        case sync(@Sendable () throws -> T)
        /// The parallel function hands its result to a ``Completion``,
        /// possibly later and from any thread.
        case deferred(@Sendable (Completion<T>) -> Void)
    }

    let body: Body
    let serial: @Sendable (Result<T, any Error>) -> Void
    /// Written once by the completer before it stores the slot's ready tag
    /// (sequentially consistent store); read by the drainer after it loaded
    /// that tag (acquiring). Cleared by the drainer.
    var result: Result<T, any Error>?

    init(body: Body, serial: @escaping @Sendable (Result<T, any Error>) -> Void, lane: Int, shell: Shell) {
        self.body = body
        self.serial = serial
        super.init(lane: lane, shell: shell)
    }

    override func runParallel() -> Bool {
        switch body {
        case .sync(let f):
            // Nobody else can complete a synchronous item: no exchange
            // needed. The flag only feeds reports (relaxed).
            result = Result { try f() }
            completedFlag.store(true, ordering: .relaxed)
            return true
        case .deferred(let f):
            f(Completion(CompletionGuard(self)))
            return false
        }
    }

    /// Stores the result and marks the item ready; traps when called twice.
    func complete(_ r: Result<T, any Error>) {
        let already = completedFlag.exchange(true, ordering: .acquiringAndReleasing)
        precondition(
            !already,
            "SerialJobs: doSerial called twice for item \(sequence) of a shell (each item must be completed exactly once)"
        )
        result = r
        shell.itemCompleted(self)
    }

    override func runSerial() {
        let r = result.unsafelyUnwrapped
        result = nil
        serial(r)
    }
}

// `ticket`/`sequence` are written before publication (under the producer
// lock, published by the window's `submitted` store) and read-only after;
// `result` is handed over by the slot's ready tag (see TypedItem.result);
// `completedFlag` is atomic; the rest is immutable.
extension WindowItem: @unchecked Sendable {}

// Same hand-over rules as WindowItem; `body` and `serial` are immutable.
extension TypedItem: @unchecked Sendable {}
