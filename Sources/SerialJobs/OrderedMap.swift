import Synchronization
import WorkerPool
import MTSupport

// MARK: - orderedMap: SerialJobs for Swift sequences
//
// Each input element (or chunk of `batch` elements) becomes one item of a
// private shell: the transform is its parallel function, appending to the
// output is its serial function. Single elements are submitted in runs
// (`submit(contentsOf:)`), so no closure is allocated per element. Results therefore come out in input order
// with at most `window` items in flight; the input is consumed lazily.

/// Collects serial-stage output. Only serial functions of one shell append
/// (one at a time, ordered by the drain token), and the caller reads after
/// ``Shell/stop()`` returned, which happens after the last append.
@usableFromInline
final class OrderedOutput<R>: @unchecked Sendable {
    @usableFromInline var values: [R] = []
    @usableFromInline var error: (any Error)?
    @inlinable init() {}
}

extension Instance {
    /// Elements that `orderedMap` with `batch: 1` collects before one
    /// batched submit (``Shell/submit(contentsOf:callbackCPU:parallel:serial:)``):
    /// each element is still its own item, but the closures are captured
    /// once per run and the run's slots reserved at once. Small enough that
    /// the input is read lazily (at most this many elements ahead of the
    /// window) and that the runners start before the run is complete.
    @inlinable static func orderedMapRun(window: Int) -> Int { max(1, min(window, 256)) }

    /// Maps `input` in parallel and returns the results in input order; the
    /// first error (the earliest in input order) stops the map and is thrown
    /// once the items in flight have finished.
    ///
    /// - Parameters:
    ///   - window: items in flight at most (each item is `batch` elements).
    ///   - batch: elements per item; raise it for tiny transforms so the
    ///     per-item overhead is shared.
    ///
    /// `@inlinable` so the map is specialized for the element and result
    /// types in the caller's module (generic code costs a metadata lookup
    /// per element).
    @inlinable
    public func orderedMap<S: Sequence, R: Sendable>(
        _ input: S,
        window: Int = 256,
        batch: Int = 1,
        _ transform: @escaping @Sendable (S.Element) throws -> R
    ) throws -> [R] where S.Element: Sendable {
        guard batch >= 1 else { throw SerialJobsError.invalidWindow(batch) }
        let shell = try makeShell(window: window, placement: .anyWorker)
        let out = OrderedOutput<R>()
        let failed = Atomic<Bool>(false)
        var iterator = input.makeIterator()
        if batch == 1 {
            // One element per item, submitted a run at a time (see
            // `orderedMapRun`): same items, without a closure per element.
            let run = Instance.orderedMapRun(window: window)
            var elements: [S.Element] = []
            elements.reserveCapacity(run)
            let parallel: @Sendable (S.Element) throws -> R = { e in
                // After a failure later items are skipped, not computed.
                if failed.load(ordering: .relaxed) { throw CancellationError() }
                return try transform(e)
            }
            let serial: @Sendable (S.Element, Result<R, any Error>) -> Void = { _, r in
                guard out.error == nil else { return }
                switch r {
                case .success(let v): out.values.append(v)
                case .failure(let e):
                    out.error = e
                    failed.store(true, ordering: .relaxed)
                }
            }
            while !failed.load(ordering: .relaxed), let e = iterator.next() {
                elements.append(e)
                if elements.count == run {
                    try shell.submit(contentsOf: elements, parallel: parallel, serial: serial)
                    elements.removeAll(keepingCapacity: true)
                }
            }
            if !elements.isEmpty && !failed.load(ordering: .relaxed) {
                try shell.submit(contentsOf: elements, parallel: parallel, serial: serial)
            }
            shell.stop()
            if let e = out.error { throw e }
            return out.values
        }
        var chunk: [S.Element] = []
        chunk.reserveCapacity(batch)
        func flush() throws {
            let elements = chunk
            chunk.removeAll(keepingCapacity: true)
            try shell.submit(parallel: { () throws -> [R] in
                // After a failure later items are skipped, not computed.
                if failed.load(ordering: .relaxed) { throw CancellationError() }
                return try elements.map(transform)
            }, serial: { r in
                guard out.error == nil else { return }
                switch r {
                case .success(let vs): out.values.append(contentsOf: vs)
                case .failure(let e):
                    out.error = e
                    failed.store(true, ordering: .relaxed)
                }
            })
        }
        while !failed.load(ordering: .relaxed), let e = iterator.next() {
            chunk.append(e)
            if chunk.count == batch { try flush() }
        }
        if !chunk.isEmpty && !failed.load(ordering: .relaxed) { try flush() }
        shell.stop()
        if let e = out.error { throw e }
        return out.values
    }

    /// Maps `input` in parallel and returns every element's result or error
    /// in input order (no early stop).
    @inlinable
    public func orderedMapResults<S: Sequence, R: Sendable>(
        _ input: S,
        window: Int = 256,
        batch: Int = 1,
        _ transform: @escaping @Sendable (S.Element) throws -> R
    ) throws(SerialJobsError) -> [Result<R, any Error>] where S.Element: Sendable {
        guard batch >= 1 else { throw .invalidWindow(batch) }
        let shell = try makeShell(window: window, placement: .anyWorker)
        let out = OrderedOutput<Result<R, any Error>>()
        if batch == 1 {
            // One element per item, a run at a time (see `orderedMapRun`).
            let run = Instance.orderedMapRun(window: window)
            var elements: [S.Element] = []
            elements.reserveCapacity(run)
            let parallel: @Sendable (S.Element) throws -> R = transform
            let serial: @Sendable (S.Element, Result<R, any Error>) -> Void = { _, r in out.values.append(r) }
            for e in input {
                elements.append(e)
                if elements.count == run {
                    try shell.submit(contentsOf: elements, parallel: parallel, serial: serial)
                    elements.removeAll(keepingCapacity: true)
                }
            }
            if !elements.isEmpty { try shell.submit(contentsOf: elements, parallel: parallel, serial: serial) }
            shell.stop()
            return out.values
        }
        var chunk: [S.Element] = []
        chunk.reserveCapacity(batch)
        func flush() throws(SerialJobsError) {
            let elements = chunk
            chunk.removeAll(keepingCapacity: true)
            try shell.submit(parallel: { elements.map { e in Result { try transform(e) } } },
                             serial: { r in out.values.append(contentsOf: try! r.get()) })
        }
        for e in input {
            chunk.append(e)
            if chunk.count == batch { try flush() }
        }
        if !chunk.isEmpty { try flush() }
        shell.stop()
        return out.values
    }

    /// Maps an async sequence in parallel; the returned sequence yields every
    /// element's result or error in input order, with at most `window`
    /// elements in flight or buffered. It throws only if `input` throws.
    public func orderedMapResults<S: AsyncSequence & Sendable, R: Sendable>(
        _ input: S,
        window: Int = 256,
        _ transform: @escaping @Sendable (S.Element) throws -> R
    ) throws(SerialJobsError) -> OrderedMapResults<S, R> where S.Element: Sendable {
        OrderedMapResults(shell: try makeShell(window: window, placement: .anyWorker), base: input, transform: transform)
    }

    /// Maps an async sequence in parallel; the returned sequence yields the
    /// results in input order and throws the first error (earliest in input
    /// order), after which it ends.
    public func orderedMap<S: AsyncSequence & Sendable, R: Sendable>(
        _ input: S,
        window: Int = 256,
        _ transform: @escaping @Sendable (S.Element) throws -> R
    ) throws(SerialJobsError) -> OrderedMap<S, R> where S.Element: Sendable {
        OrderedMap(inner: try orderedMapResults(input, window: window, transform))
    }
}

/// The results of ``Instance/orderedMapResults(_:window:_:)-(AsyncSequence,_,_)``
/// in input order.
public struct OrderedMapResults<Base: AsyncSequence & Sendable, R: Sendable>: AsyncSequence, Sendable
where Base.Element: Sendable {
    public typealias Element = Result<R, any Error>

    let shell: Shell
    let base: Base
    let transform: @Sendable (Base.Element) throws -> R

    /// Starts consuming the input.
    public func makeAsyncIterator() -> Iterator {
        Iterator(shell: shell, base: base.makeAsyncIterator(), transform: transform)
    }

    /// Pulls input only to keep the window full: memory stays bounded by the
    /// window whatever the input length and however slow the consumer.
    public struct Iterator: AsyncIteratorProtocol {
        let shell: Shell
        var base: Base.AsyncIterator
        let transform: @Sendable (Base.Element) throws -> R
        let buffer = ResultQueue<Result<R, any Error>>()
        var pending = 0
        var exhausted = false

        /// The next result in input order, or nil after the last one.
        public mutating func next() async throws -> Result<R, any Error>? {
            while !exhausted && pending < shell.window {
                guard let e = try await base.next() else {
                    exhausted = true
                    break
                }
                let transform = self.transform
                let buffer = self.buffer
                do {
                    try await shell.submit(parallel: { try transform(e) }, serial: { r in buffer.push(r) })
                } catch {
                    // Only `.stopped` is possible, and nothing stops this
                    // private shell; treat it as the end of input.
                    exhausted = true
                    break
                }
                pending += 1
            }
            guard pending > 0 else { return nil }
            pending -= 1
            return await buffer.pop()
        }
    }
}

/// The results of ``Instance/orderedMap(_:window:_:)-(AsyncSequence,_,_)``
/// in input order; the first error ends it.
public struct OrderedMap<Base: AsyncSequence & Sendable, R: Sendable>: AsyncSequence, Sendable
where Base.Element: Sendable {
    public typealias Element = R
    let inner: OrderedMapResults<Base, R>

    /// Starts consuming the input.
    public func makeAsyncIterator() -> Iterator { Iterator(inner: inner.makeAsyncIterator()) }

    /// Yields results in input order; throws the first error, then ends.
    public struct Iterator: AsyncIteratorProtocol {
        var inner: OrderedMapResults<Base, R>.Iterator
        var failed = false

        /// The next result in input order; nil at the end or after an error.
        public mutating func next() async throws -> R? {
            guard !failed, let r = try await inner.next() else { return nil }
            switch r {
            case .success(let v): return v
            case .failure(let e):
                failed = true
                throw e
            }
        }
    }
}

/// A FIFO between a shell's serial stage (push) and one async consumer
/// (pop).
final class ResultQueue<T: Sendable>: Sendable {
    struct State {
        var items: [T] = []
        var head = 0
        var waiter: CheckedContinuation<T, Never>?
    }

    // protected by itself
    private let state = Locked(State())

    func push(_ v: T) {
        let w: CheckedContinuation<T, Never>? = state.withLock { s in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.items.append(v)
            return nil
        }
        w?.resume(returning: v)
    }

    func pop() async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let v: T? = state.withLock { s in
                guard s.head < s.items.count else {
                    s.waiter = c
                    return nil
                }
                let v = s.items[s.head]
                s.head += 1
                if s.head == s.items.count {
                    s.items.removeAll(keepingCapacity: true)
                    s.head = 0
                }
                return v
            }
            if let v { c.resume(returning: v) }
        }
    }
}
