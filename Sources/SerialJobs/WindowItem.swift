import Synchronization

/// Inline room for one item's `Result`, so that a result of up to 48 bytes
/// needs no allocation and, more importantly, no generic field in the item:
/// destroying a generic field costs a runtime metadata lookup per item.
@usableFromInline
struct ResultStorage {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    @inlinable init() {}
}

/// Holds a result too large for ``ResultStorage``.
@usableFromInline
final class ResultBox<T> {
    @usableFromInline var value: T
    @inlinable init(_ value: T) { self.value = value }
}

/// One submitted item as the reorder window holds it.
///
/// Life of an item (see the protocol in `ReorderWindow.swift`):
/// 1. the producer that reserved the ticket installs the item in its slot,
///    fills `ticket` and `sequence` and publishes it;
/// 2. a parallel runner calls ``runParallel(_:)`` exactly once;
/// 3. the item is completed exactly once (synchronously by the runner, or
///    later through a ``Completion``): the result is stored, then the slot's
///    ready tag;
/// 4. the drain-token holder calls ``runSerial(_:)`` exactly once, in ticket
///    order. The spent object stays in its slot with its closures.
/// 5. the producer of ticket `ticket + capacity` (same slot) reuses the
///    object when it is of the same result type and nothing else refers to
///    it (a ``Completion`` kept after `doSerial` does), else replaces it.
///    Either way the spent closures are released there, on the producer's
///    thread; ``Shell/stop()`` and ``Shell/shutdown(timeout:)`` release
///    the spent items of an idle shell.
///
/// Why: memory allocated by the producer (the item, the closures' contexts)
/// and freed by a worker goes back through glibc's arena lock, and that
/// lock was the main cost of a tiny item. Released by the producer, the
/// closures' memory goes straight back to its thread cache and is reused
/// for the next item's closures, in the same slot's cache lines.
///
/// Exclusivity: the mutable fields are `@exclusivity(unchecked)`. The
/// hand-over protocol (producer → runner → completer → drainer → producer,
/// each step through an atomic: `submitted`, the claim, the ready tag,
/// `drained`) already gives one thread at a time access to them, and the
/// run-time exclusivity checks cost about a tenth of a tiny item's time.
/// ThreadSanitizer still checks that protocol.
///
/// Speed: the runner and the drainer call the item through two function
/// values set by ``TypedItem``'s `@inlinable` initializer, so they run code
/// specialized for the result type in the submitting module, not generic
/// code that looks type metadata up at run time for every item.
@usableFromInline
class WindowItem {
    /// Position in the shell's stream, counted from 0; never wraps.
    /// Written by the producer before publication, read-only afterwards.
    @usableFromInline @exclusivity(unchecked) var ticket: UInt64 = 0
    /// The caller-visible sequence number: `startSequence &+ ticket`.
    @usableFromInline @exclusivity(unchecked) var sequence: UInt64 = 0
    /// The serial lane (callback CPU) chosen at submission.
    @usableFromInline @exclusivity(unchecked) var lane: Int
    /// Unowned: a strong reference costs two atomic updates of the shell's
    /// reference count per item, on its slow path too, because the shell
    /// has a side table (its instance holds it weakly). The shell outlives
    /// every use of this field: runners, hand-offs and drains run in pool
    /// work items that retain the shell, and a deferred item's completion
    /// goes through its ``CompletionGuard``, which retains the shell.
    @usableFromInline unowned(unsafe) let shell: Shell
    /// Set by the first completion of a deferred item (through its
    /// ``Completion``); a second one traps. Exchanged with
    /// acquiring-and-releasing so that the winner's later writes are ordered
    /// after any other completer's view.
    @usableFromInline let completedFlag = Atomic<Bool>(false)
    /// Runs the parallel function; true when the item completed
    /// synchronously (its result is stored; the runner marks it ready).
    /// (The second argument is the ticket being run: a ``RunItem`` holds a
    /// whole run of tickets.)
    @usableFromInline let parallelEntry: (WindowItem, UInt64) -> Bool
    /// Runs the serial function with the stored result (of the ticket given).
    @usableFromInline let serialEntry: (WindowItem, UInt64) -> Void
    /// The result, written by the completer before the ready tag
    /// (sequentially consistent store) and moved out by the drainer after
    /// it loaded that tag (acquiring).
    @usableFromInline @exclusivity(unchecked) var storage = ResultStorage()
    @usableFromInline @exclusivity(unchecked) var box: AnyObject?

    @inlinable
    init(lane: Int, shell: Shell, parallelEntry: @escaping (WindowItem, UInt64) -> Bool, serialEntry: @escaping (WindowItem, UInt64) -> Void) {
        self.lane = lane
        self.shell = shell
        self.parallelEntry = parallelEntry
        self.serialEntry = serialEntry
    }

    /// Runs the parallel function (on a pool worker of the parallel set).
    /// Returns true when the item completed synchronously and its result is
    /// stored: the caller (a runner) then marks it ready itself, so a batch
    /// of items is marked with one token check. Returns false for deferred
    /// items, which mark themselves ready when their ``Completion`` is
    /// called.
    @inline(__always) func runParallel(_ ticket: UInt64) -> Bool { parallelEntry(self, ticket) }

    /// Runs the serial function with the stored result; only the drain-token
    /// holder calls it.
    @inline(__always) func runSerial(_ ticket: UInt64) { serialEntry(self, ticket) }

}

/// A ``WindowItem`` for one result type. Its stored properties are function
/// values only, whose layout does not depend on `T`.
@usableFromInline
final class TypedItem<T: Sendable>: WindowItem {
    /// The parallel function, when it returns (or throws) its result.
    /// (The three closures are set by the producer before publication and
    /// replaced by the producer that reuses the object; see the life of an
    /// item above.)
    @usableFromInline @exclusivity(unchecked) var syncBody: (@Sendable () throws -> T)?
    /// The parallel function, when it hands its result to a ``Completion``,
    /// possibly later and from any thread.
    @usableFromInline @exclusivity(unchecked) var deferredBody: (@Sendable (Completion<T>) -> Void)?
    @usableFromInline @exclusivity(unchecked) var serial: (@Sendable (Result<T, any Error>) -> Void)?

    @inlinable
    init(
        sync: (@Sendable () throws -> T)?,
        deferred: (@Sendable (Completion<T>) -> Void)?,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void,
        lane: Int,
        shell: Shell
    ) {
        syncBody = sync
        deferredBody = deferred
        self.serial = serial
        super.init(
            lane: lane, shell: shell,
            parallelEntry: { item, _ in TypedItem<T>.runParallel(unsafeDowncast(item, to: TypedItem<T>.self)) },
            serialEntry: { item, _ in TypedItem<T>.runSerial(unsafeDowncast(item, to: TypedItem<T>.self)) }
        )
    }

    @usableFromInline typealias R = Result<T, any Error>

    /// Installs an item in the free slot `p` for the producer: reuses the
    /// object already there when it is a `TypedItem<T>` that nothing else
    /// refers to, else stores a new one. The caller (holding the producer
    /// lock, slot free) sets `ticket` and `sequence` and publishes.
    @inlinable static func install(
        in p: UnsafeMutablePointer<WindowItem?>,
        sync: (@Sendable () throws -> T)?,
        deferred: (@Sendable (Completion<T>) -> Void)?,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void,
        lane: Int,
        shell: Shell
    ) {
        // The spent object was last touched by another core: reach it
        // without retaining it (a retain is an atomic update of a remote
        // cache line, the dearest thing on this path). A non-nil optional
        // reference has the layout of the reference; a native Swift
        // object starts with its class metadata pointer.
        if let raw = UnsafeRawPointer(p).load(as: UnsafeRawPointer?.self),
           raw.load(as: UnsafeRawPointer.self) == unsafeBitCast(TypedItem<T>.self as AnyClass, to: UnsafeRawPointer.self),
           isKnownUniquelyReferenced(&UnsafeMutableRawPointer(p).assumingMemoryBound(to: WindowItem.self).pointee) {
            Unmanaged<TypedItem<T>>.fromOpaque(raw)._withUnsafeGuaranteedRef { item in
                item.syncBody = sync
                item.deferredBody = deferred
                item.serial = serial
                item.lane = lane
                // Only a deferred item sets the flag. Relaxed: published
                // with the item by the `submitted` store. (Checked first:
                // a store would pull the line back from the other core.)
                if item.completedFlag.load(ordering: .relaxed) { item.completedFlag.store(false, ordering: .relaxed) }
            }
            return
        }
        p.pointee = TypedItem(sync: sync, deferred: deferred, serial: serial, lane: lane, shell: shell)
    }

    @inlinable static var fitsInline: Bool {
        MemoryLayout<R>.size <= MemoryLayout<ResultStorage>.size && MemoryLayout<R>.alignment <= 8
    }

    /// Stores the result (once).
    @inlinable func store(_ r: R) {
        if TypedItem.fitsInline {
            withUnsafeMutableBytes(of: &storage) { _ = $0.baseAddress!.initializeMemory(as: R.self, to: r) }
        } else {
            box = ResultBox(r)
        }
    }

    /// Moves the result out (once).
    @inlinable func take() -> R {
        if TypedItem.fitsInline {
            return withUnsafeMutableBytes(of: &storage) { $0.baseAddress!.assumingMemoryBound(to: R.self).move() }
        }
        let r = unsafeDowncast(box.unsafelyUnwrapped, to: ResultBox<R>.self).value
        box = nil
        return r
    }

    @inlinable static func runParallel(_ item: TypedItem<T>) -> Bool {
        if let f = item.syncBody {
            // Nobody else can complete a synchronous item: its flag (which
            // detects a second `doSerial`) stays unset.
            item.store(Result { try f() })
            return true
        }
        item.deferredBody.unsafelyUnwrapped(Completion(CompletionGuard(item)))
        return false
    }

    @inlinable static func runSerial(_ item: TypedItem<T>) {
        item.serial.unsafelyUnwrapped(item.take())
    }

    /// Stores the result and marks the item ready; traps when called twice.
    @inlinable func complete(_ r: R) {
        let already = completedFlag.exchange(true, ordering: .acquiringAndReleasing)
        // fatalError, not precondition: its message is printed in release
        // builds too.
        if already {
            fatalError("SerialJobs: doSerial called twice for item \(sequence) of a shell (each item must be completed exactly once)")
        }
        store(r)
        shell.itemCompleted(self)
    }
}

// `ticket`/`sequence`/`lane` are written before publication (by the
// producer that reserved the slot, published by the window's `submitted`
// store) and read-only
// until the object is reused, which `drained` hands back to the producer;
// the result storage is handed over by the slot's ready tag (see
// `storage`); `completedFlag` is atomic; `shell` and the entries are
// immutable.
extension WindowItem: @unchecked Sendable {}

// Same hand-over rules as WindowItem: the closures are written by the
// producer before publication and read-only until the object is reused.
extension TypedItem: @unchecked Sendable {}
