import CBLAKE3
import MTJobs
import WorkerPool

extension BLAKE3 {
    /// Bytes of one unit of parallel hashing: a complete subtree of 256
    /// chunks, the granule of the ``MTJob``'s chunks.
    public static let parallelUnitByteCount = 256 * 1024

    /// Inputs shorter than this are hashed on the calling thread by the
    /// parallel entry points: below it, waking a helper costs more than it
    /// saves.
    public static let parallelThreshold = 512 * 1024

    /// The hash of `bytes`, spread over up to `maxThreads` threads (the
    /// caller and `pool`'s workers) with an ``MTJob``: every unit of
    /// ``parallelUnitByteCount`` bytes is a complete subtree whose chaining
    /// value a thread computes; the caller then merges them. Inputs below
    /// ``parallelThreshold`` and `maxThreads == 1` run serially.
    ///
    /// - Parameters:
    ///   - maxThreads: counting the caller; `nil` lets ``MTJob`` choose
    ///     (the CPUs the process may use).
    /// - Throws: an ``MTJobError`` for `maxThreads < 1`.
    public static func hashInParallel(
        _ bytes: UnsafeRawBufferPointer, mode: Mode = .hash, maxThreads: Int? = nil,
        pool: WorkerPool = .shared, kernel: Kernel = .current
    ) throws -> OutputReader {
        let kernel = kernel.isAvailable ? kernel : .widest
        if let t = maxThreads, t < 1 {
            throw MTJobError.invalidField(.maxThreads, value: t, reason: "must be at least 1 (it counts the caller)")
        }
        guard let base = bytes.baseAddress, bytes.count >= parallelThreshold, maxThreads != 1 else {
            var h = Hasher(mode: mode, kernel: kernel)
            h.update(bytes)
            return h.finalizeOutput()
        }
        let source = UnitSource(base: base)
        return try hashUnits(size: bytes.count, mode: mode, maxThreads: maxThreads, pool: pool,
                             kernel: kernel) { _ in source }
    }

    /// Runs the unit job over `size` bytes (at least two units) and merges
    /// the unit CVs into the root. `makeSource` is called once per MTJob
    /// chunk, on the thread that runs it, to get the bytes of its units.
    static func hashUnits(
        size: Int, mode: Mode, maxThreads: Int?, pool: WorkerPool, kernel: Kernel,
        makeSource: @escaping @Sendable (Range<Int>) throws -> UnitSource
    ) throws -> OutputReader {
        let unit = parallelUnitByteCount
        let units = (size + unit - 1) / unit
        let cvs = CVArray(count: units)
        defer { cvs.deallocate() }
        let job = MTJob(size: size, align: unit, minChunk: unit, maxThreads: maxThreads) { range in
            let source = try makeSource(range)
            defer { source.release() }
            var offset = range.lowerBound
            while offset < range.upperBound {
                let length = min(unit, size - offset)
                let bytes = try source.bytes(at: offset, count: length)
                cvs[offset / unit] = unitCV(bytes, length: length, unitIndex: offset / unit,
                                            mode: mode, kernel: kernel)
                offset += length
            }
        }
        try job.run(on: pool)
        return OutputReader(root: mergeToRoot(cvs, mode: mode, kernel: kernel))
    }

    /// The CV of unit `unitIndex` (`length` bytes at `p`): a full unit is
    /// one complete subtree for the C side; a short last unit goes through
    /// a ``Hasher`` that starts at the unit's chunk counter.
    static func unitCV(_ p: UnsafeRawPointer, length: Int, unitIndex: Int, mode: Mode,
                       kernel: Kernel) -> SIMD8<UInt32> {
        let chunksPerUnit = parallelUnitByteCount / chunkByteCount
        let counter = UInt64(unitIndex) * UInt64(chunksPerUnit)
        if length == parallelUnitByteCount {
            var cv = SIMD8<UInt32>()
            withUnsafeMutableBytes(of: &cv) { o in
                withUnsafeBytes(of: mode.key) { k in
                    _ = cb3_hash_subtree(kernel.number, p.assumingMemoryBound(to: UInt8.self), chunksPerUnit,
                                         k.baseAddress!.assumingMemoryBound(to: UInt32.self), counter,
                                         mode.flags, 0, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            return cv
        }
        var h = Hasher(mode: mode, kernel: kernel, counterBase: counter)
        h.update(UnsafeRawBufferPointer(start: p, count: length))
        return nodeCV(h.finalNode())
    }

    /// Merges `cvs.count >= 2` unit CVs level by level (pairs, the odd last
    /// one carried up: the same tree as the left-subtree rule) down to the
    /// two children of the root, whose parent is returned uncompressed.
    static func mergeToRoot(_ cvs: CVArray, mode: Mode, kernel: Kernel) -> cb3_node {
        var n = cvs.count
        let p = cvs.base
        withUnsafeBytes(of: mode.key) { k in
            let key = k.baseAddress!.assumingMemoryBound(to: UInt32.self)
            while n > 2 {
                let pairs = n / 2
                cb3_hash_parents(kernel.number, UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), pairs, key,
                                 mode.flags, UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt8.self))
                if n % 2 == 1 { p[pairs] = p[n - 1] }
                n = pairs + n % 2
            }
        }
        return parentNode(p[0], p[1], mode: mode)
    }
}

/// Where a chunk of the unit job finds its bytes: memory it points into
/// (a buffer being hashed) or a per-thread buffer it reads a file into.
final class UnitSource {
    let base: UnsafeRawPointer?
    let fd: Int32
    let fileStart: Int
    let scratch: UnsafeMutableRawPointer?

    /// Units straight from memory.
    init(base: UnsafeRawPointer) {
        self.base = base
        fd = -1
        fileStart = 0
        scratch = nil
    }

    /// Units read with `pread` from `fd` at `fileStart + offset` into one
    /// unit-sized buffer of this source.
    init(fd: Int32, fileStart: Int) {
        base = nil
        self.fd = fd
        self.fileStart = fileStart
        scratch = UnsafeMutableRawPointer.allocate(byteCount: BLAKE3.parallelUnitByteCount, alignment: 64)
    }

    func bytes(at offset: Int, count: Int) throws -> UnsafeRawPointer {
        if let base { return base + offset }
        let got = try preadFully(fd, into: scratch!, count: count, at: fileStart + offset)
        guard got == count else {
            throw BLAKE3Error.fileShrank(expectedSize: fileStart + offset + count, endedAt: fileStart + offset + got)
        }
        return UnsafeRawPointer(scratch!)
    }

    func release() { scratch?.deallocate() }
}

// Each UnitSource is made and used by one MTJob chunk on one thread; the
// memory it points into is only read, and outlives the job.
extension UnitSource: @unchecked Sendable {}

/// The unit CVs of one job, written by the threads at distinct indices and
/// read by the caller after the job returns.
struct CVArray {
    let base: UnsafeMutablePointer<SIMD8<UInt32>>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: SIMD8(), count: count)
    }

    subscript(i: Int) -> SIMD8<UInt32> {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    func deallocate() { base.deallocate() }
}

// Every unit index is written by exactly one thread function call, and the
// caller reads only after `MTJob.run` has returned (which orders all those
// writes before its return).
extension CVArray: @unchecked Sendable {}
