import WorkerPool

/// One chunk's own part of a buffer that a job updates in parallel: the
/// elements at ``indices`` and no others.
///
/// ``MTJob/forEachChunk(of:align:minChunk:maxThreads:numaAware:on:_:)``
/// hands one to each call of the thread function. Chunks never overlap
/// (``ChunkPlan``), so every element has exactly one writer, and the run
/// returns only after every chunk has finished, so the caller then sees
/// every write. The value cannot be copied or sent elsewhere (it is
/// neither `Copyable` nor `Sendable`): it is valid only during its call.
public struct MutableChunk<Element>: ~Copyable {
    /// The chunk's indices, as indices of the whole buffer.
    public let indices: Range<Int>
    /// The buffer's element 0.
    @usableFromInline let base: UnsafeMutablePointer<Element>

    @inlinable init(base: UnsafeMutablePointer<Element>, indices: Range<Int>) {
        self.base = base
        self.indices = indices
    }

    /// Number of elements in the chunk.
    @inlinable public var count: Int { indices.count }

    /// The element at `index` (an index of the whole buffer, within
    /// ``indices``). An index outside the chunk traps with a message, as an
    /// out-of-range array index does.
    @inlinable public subscript(index: Int) -> Element {
        get {
            check(index)
            return base[index]
        }
        set {
            check(index)
            base[index] = newValue
        }
    }

    @inlinable func check(_ index: Int) {
        if !indices.contains(index) {
            fatalError("MutableChunk: index \(index) is outside this chunk's indices \(indices)")
        }
    }

    /// Calls `body` with the chunk's elements as a buffer (index 0 is
    /// element ``indices``.lowerBound), for loops that want no per-element
    /// check. The buffer must not escape `body`.
    @inlinable public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (UnsafeMutableBufferPointer<Element>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeMutableBufferPointer(start: base + indices.lowerBound, count: indices.count))
    }
}

/// The base address of a buffer a job updates, carried into its thread
/// function.
///
/// Safe to send because of how it is used: each chunk reads and writes
/// only its own indices (chunks are disjoint), and the job's run returns
/// only after every chunk has finished (the run's completion orders every
/// write before the caller's next access).
struct ChunkedBufferBase<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
}

extension MTJob {
    /// Runs a job over the indices of `array` (`start` 0, `size`
    /// `array.count`), handing each chunk a ``MutableChunk`` through which
    /// it reads and writes its own elements only: the way to fill or update
    /// an array in parallel without unsafe code.
    ///
    /// ```swift
    /// var squares = [Int](repeating: 0, count: 1_000_000)
    /// try MTJob.forEachChunk(of: &squares) { chunk in
    ///     for i in chunk.indices { chunk[i] = i * i }
    /// }
    /// ```
    ///
    /// The other parameters are those of ``MTJob``; `bytesPerUnit` is the
    /// element's stride. Errors and cancellation as in ``MTJob/run(on:)``:
    /// after an error, the elements of chunks that did not run keep their
    /// old values.
    @discardableResult
    public static func forEachChunk<Element: Sendable>(
        of array: inout [Element],
        align: Int = 1,
        minChunk: Int? = nil,
        maxThreads: Int? = nil,
        numaAware: Bool = false,
        on pool: WorkerPool = .shared,
        _ body: @escaping @Sendable (inout MutableChunk<Element>) throws -> Void
    ) throws -> MTJobReport {
        try array.withUnsafeMutableBufferPointer { buffer in
            try forEachChunk(of: buffer, align: align, minChunk: minChunk, maxThreads: maxThreads,
                             numaAware: numaAware, on: pool, body)
        }
    }

    /// ``forEachChunk(of:align:minChunk:maxThreads:numaAware:on:_:)`` over
    /// an initialized buffer the caller owns for the whole call.
    @discardableResult
    public static func forEachChunk<Element: Sendable>(
        of buffer: UnsafeMutableBufferPointer<Element>,
        align: Int = 1,
        minChunk: Int? = nil,
        maxThreads: Int? = nil,
        numaAware: Bool = false,
        on pool: WorkerPool = .shared,
        _ body: @escaping @Sendable (inout MutableChunk<Element>) throws -> Void
    ) throws -> MTJobReport {
        guard let start = buffer.baseAddress, !buffer.isEmpty else {
            return try MTJob(size: 0) { _ in }.run(on: pool)
        }
        let base = ChunkedBufferBase(pointer: start)
        let job = MTJob(size: buffer.count, align: align, minChunk: minChunk, maxThreads: maxThreads,
                        numaAware: numaAware, bytesPerUnit: max(1, MemoryLayout<Element>.stride)) { range in
            var chunk = MutableChunk(base: base.pointer, indices: range)
            try body(&chunk)
        }
        return try job.run(on: pool)
    }
}
