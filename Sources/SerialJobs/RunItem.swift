/// A run of consecutive tickets published by one batched submit
/// (``Shell/submit(contentsOf:callbackCPU:parallel:serial:)``): one object
/// for the whole run, installed in each of the run's slots.
///
/// Every input is still its own item: its own ticket and sequence number,
/// its own parallel call (``WindowItem/runParallel(_:)`` with its ticket)
/// and its own serial call in ticket order. What the run shares is what a
/// one-item submit pays per item:
/// - the two closures, captured once per submit call and stored once per
///   run (the caller's closure contexts are retained once per run, by the
///   producer, and released once per run when the object is freed);
/// - the object itself: one allocation per run instead of one per item
///   (a spent ``TypedItem`` is reused, but reusing it touches its cache
///   lines, which the runner and drainer wrote last, for every item);
/// - its storage: the inputs and the results lie in two contiguous arrays,
///   so the producer's stores of eight 8-byte inputs share one cache line
///   on their way to the runner, and the runner's results share lines on
///   their way to the drainer, instead of one object's lines per item.
///
/// Life (see "Batched producers" in ReorderWindow.swift):
/// 1. the producer reserves tickets `first ..< first + count` with one CAS,
///    creates the run, copies the inputs in, stores the run in each slot
///    (one retain per slot, all on the producer's thread) and publishes the
///    tickets in chunks;
/// 2. a runner calls the parallel function for one ticket: it reads input
///    `t - first` and initializes result `t - first`, then marks `t` ready;
/// 3. the drainer moves input and result `t - first` out and passes both
///    to the serial function;
/// 4. each slot keeps the spent run until a later producer reuses the slot
///    (releasing it there, on the producer's thread) or ``Shell/stop()``
///    drops spent items. The last release frees the run, its arrays and its
///    references to the closures; by then every ticket of the run was
///    serialized (a slot is reused only after its ticket was serialized,
///    and all of the run's slots are), so no runner or drainer can still
///    use it.
///
/// Every input and result is moved out by its serial call, so freeing the
/// arrays destroys nothing. (A shell destroyed with items of a run never
/// serialized, after a ``Shell/shutdown(timeout:)`` that timed out on a
/// parallel function that never returned, leaks their inputs and results.)
@usableFromInline
final class RunItem<E: Sendable, T: Sendable>: WindowItem {
    @usableFromInline typealias R = Result<T, any Error>
    /// The ticket of `inputs[0]`.
    @usableFromInline let first: UInt64
    /// Tickets in the run.
    @usableFromInline let count: Int
    /// Input `i` (ticket `first + i`): written by the producer before the
    /// ticket is published, moved out by the drainer.
    @usableFromInline let inputs: UnsafeMutablePointer<E>
    /// Result `i`: initialized by the runner before the ticket's ready tag,
    /// moved out by the drainer after it.
    @usableFromInline let results: UnsafeMutablePointer<R>
    @usableFromInline let parallel: @Sendable (E) throws -> T
    @usableFromInline let serial: @Sendable (E, R) -> Void

    @inlinable
    init(
        first: UInt64,
        count: Int,
        parallel: @escaping @Sendable (E) throws -> T,
        serial: @escaping @Sendable (E, R) -> Void,
        sequence: UInt64,
        lane: Int,
        shell: Shell
    ) {
        self.first = first
        self.count = count
        inputs = .allocate(capacity: count)
        results = .allocate(capacity: count)
        self.parallel = parallel
        self.serial = serial
        super.init(
            lane: lane, shell: shell,
            parallelEntry: { item, t in RunItem<E, T>.runParallel(unsafeDowncast(item, to: RunItem<E, T>.self), t) },
            serialEntry: { item, t in RunItem<E, T>.runSerial(unsafeDowncast(item, to: RunItem<E, T>.self), t) }
        )
        ticket = first
        self.sequence = sequence
    }

    @inlinable deinit {
        // Every input and result was moved out by its serial call.
        inputs.deallocate()
        results.deallocate()
    }

    /// Runs ticket `t`'s parallel function; always synchronous.
    @inlinable static func runParallel(_ item: RunItem, _ t: UInt64) -> Bool {
        let i = Int(truncatingIfNeeded: t &- item.first)
        (item.results + i).initialize(to: Result { try item.parallel(item.inputs[i]) })
        return true
    }

    /// Runs ticket `t`'s serial function with its input and result.
    @inlinable static func runSerial(_ item: RunItem, _ t: UInt64) {
        let i = Int(truncatingIfNeeded: t &- item.first)
        item.serial((item.inputs + i).move(), (item.results + i).move())
    }
}

// Same hand-over rules as WindowItem, per ticket of the run: input `i` is
// written before ticket `first + i` is published (the `submitted` store),
// result `i` before its ready tag, and both are moved out by the drainer
// after it loaded that tag; the other fields are immutable.
extension RunItem: @unchecked Sendable {}
