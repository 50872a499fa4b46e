import Synchronization
import Topology
import WorkerPool
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// Why a ``ParallelBuffer`` could not be made.
public enum ParallelBufferError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The size is not a positive number of bytes.
    case invalidSize(Int)
    /// `mmap` refused the mapping.
    case mapFailed(bytes: Int, errno: Int32)

    public var description: String {
        switch self {
        case .invalidSize(let n): return "invalid buffer size \(n): must be at least 1 byte"
        case let .mapFailed(n, e): return "cannot map \(n) bytes: \(String(cString: strerror(e)))"
        }
    }
}

/// A large, page-aligned buffer of fresh memory, initialised in parallel
/// through an ``MTJob`` (the first user of MTJobs, as deferred struct-page
/// init is padata's).
///
/// ```swift
/// let buffer = try ParallelBuffer(bytes: 4 << 30)          // mapped, not touched
/// let report = try buffer.fill(0x5A)                        // all threads, page-aligned chunks
/// try buffer.initialize { chunk, offset in ... }            // or a per-chunk initialiser
/// ```
///
/// What it does for speed:
/// - The memory comes straight from `mmap` (no allocator in between) and is
///   aligned to the transparent-huge-page size; with `hugePages` (default)
///   it is marked `MADV_HUGEPAGE`, so where THP is `madvise` (the common
///   default) a first touch faults in 2 MiB at once instead of 4 KiB: 512×
///   fewer page faults, the dominant cost of initialising fresh memory.
/// - Chunks are aligned to that page size, so no page is shared by two
///   threads, and each page is first touched by the thread that fills it.
/// - Filling fresh memory with zero asks the kernel to populate the pages
///   (`MADV_POPULATE_WRITE`, Linux 5.14+): they arrive zeroed, no second
///   write is needed.
/// - With `numaAware`, the chunks are split into one span per NUMA node and
///   each node's helpers (bound to that node's CPUs) touch their span first,
///   so its pages land on that node (see ``pagesPerNode(topology:)``).
///
/// The buffer is unmapped when the object goes away.
///
/// ## Concurrency
///
/// A buffer may be shared between threads and tasks (it is `Sendable`),
/// and each method may be called from any of them. What may overlap:
/// - ``firstMismatch(_:threads:on:)`` and ``pagesPerNode(topology:)`` only
///   read: any number may run at once.
/// - ``fill(_:threads:numaAware:on:)`` and
///   ``initialize(threads:numaAware:on:_:)`` write every byte: while one
///   runs, nothing else may read or write the buffer's bytes (the same rule
///   as for any memory: two writers, or a writer and a reader, race). The
///   object's own state stays consistent even then (it is one atomic flag).
/// - Inside one call, the chunks are disjoint and page-aligned: each byte
///   has one writer, and the call returns after every chunk is done.
public final class ParallelBuffer {
    /// The memory. Valid while the buffer lives.
    public let memory: UnsafeMutableRawBufferPointer
    /// Whether `MADV_HUGEPAGE` was applied.
    public let hugePages: Bool
    /// Chunk alignment used for initialisation: the huge-page size with
    /// `hugePages`, else the base page size.
    public let pageAlign: Int
    /// The whole mapping (base and length), for `munmap`.
    private let mapping: UnsafeMutableRawBufferPointer

    /// The base page size.
    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// The transparent huge page size (from sysfs; 2 MiB if unknown).
    public static let hugePageSize: Int = {
        let v = readNumber("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") ?? 0
        return v > 0 && v & (v - 1) == 0 ? v : 2 << 20
    }()

    /// Maps `bytes` of fresh, untouched memory.
    public init(bytes: Int, hugePages: Bool = true) throws(ParallelBufferError) {
        guard bytes > 0 else { throw .invalidSize(bytes) }
        let align = hugePages ? ParallelBuffer.hugePageSize : ParallelBuffer.pageSize
        let (len, o) = bytes.addingReportingOverflow(align)
        guard !o else { throw .invalidSize(bytes) }
        guard let raw = mmap(nil, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              raw != MAP_FAILED else {
            throw .mapFailed(bytes: bytes, errno: errno)
        }
        // Trim the mapping to an `align`-aligned start so whole huge pages fit.
        let base = Int(bitPattern: raw)
        let start = (base + align - 1) & ~(align - 1)
        let head = start - base
        if head > 0 { munmap(raw, head) }
        let mappedLen = (bytes + ParallelBuffer.pageSize - 1) & ~(ParallelBuffer.pageSize - 1)
        let tail = len - head - mappedLen
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + mappedLen), tail) }
        let p = UnsafeMutableRawPointer(bitPattern: start)!
        mapping = UnsafeMutableRawBufferPointer(start: p, count: mappedLen)
        memory = UnsafeMutableRawBufferPointer(start: p, count: bytes)
        self.hugePages = hugePages && madvise(p, mappedLen, 14 /* MADV_HUGEPAGE */) == 0
        pageAlign = align
    }

    deinit { munmap(mapping.baseAddress, mapping.count) }

    /// Fresh memory: nothing written yet through this object (exchanged by
    /// the writing calls, so only the first write may take the populate
    /// shortcut).
    private let untouched = Atomic<Bool>(true)

    /// The initialisation job over the buffer's bytes: chunks aligned to
    /// ``pageAlign`` and at least one huge page (or `minChunk`) long.
    public func job(threads: Int? = nil, numaAware: Bool = false, minChunk: Int? = nil,
                    _ body: @escaping @Sendable (UnsafeMutableRawBufferPointer, Int) throws -> Void) -> MTJob {
        // Whoever runs the job writes the bytes: a later fill(0) must not
        // take the populate shortcut (it would leave those bytes).
        untouched.store(false, ordering: .relaxed)
        let base = Int(bitPattern: memory.baseAddress!)
        return MTJob(start: 0, size: memory.count, align: pageAlign, minChunk: minChunk ?? pageAlign,
                     maxThreads: threads, numaAware: numaAware) { r in
            try body(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: base + r.lowerBound), count: r.count),
                     r.lowerBound)
        }
    }

    /// Sets every byte to `pattern`, in parallel (`threads`: see
    /// ``MTJob/maxThreads``; nil lets the library choose).
    @discardableResult
    public func fill(_ pattern: UInt8, threads: Int? = nil, numaAware: Bool = false,
                     on pool: WorkerPool = .shared) throws -> MTJobReport {
        let populate = untouched.exchange(false, ordering: .relaxed) && pattern == 0
        let report = try job(threads: threads, numaAware: numaAware) { chunk, _ in
            if populate && madvise(chunk.baseAddress, chunk.count, 23 /* MADV_POPULATE_WRITE */) == 0 { return }
            memset(chunk.baseAddress!, Int32(pattern), chunk.count)
        }.run(on: pool)
        return report
    }

    /// Runs `body` on every chunk in parallel: it gets the chunk's memory
    /// and its byte offset in the buffer, and must initialise all of it.
    @discardableResult
    public func initialize(threads: Int? = nil, numaAware: Bool = false, on pool: WorkerPool = .shared,
                           _ body: @escaping @Sendable (UnsafeMutableRawBufferPointer, Int) throws -> Void) throws -> MTJobReport {
        try job(threads: threads, numaAware: numaAware, body).run(on: pool)
    }

    /// Checks every byte against `pattern`, in parallel. Returns the offset
    /// of the first byte that differs, or nil when all match.
    public func firstMismatch(_ pattern: UInt8, threads: Int? = nil, on pool: WorkerPool = .shared) throws -> Int? {
        let found = FirstMismatch()
        let base = Int(bitPattern: memory.baseAddress!)
        try MTJob(start: 0, size: memory.count, align: pageAlign, minChunk: pageAlign, maxThreads: threads) { r in
            if let bad = ParallelBuffer.mismatch(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base + r.lowerBound), count: r.count), pattern) {
                found.offer(r.lowerBound + bad)
            }
        }.run(on: pool)
        return found.value
    }

    /// Pages of the buffer per NUMA node (OS index; -1 for pages not yet
    /// touched), as the kernel reports them.
    public func pagesPerNode(topology: Topology = .shared) throws -> [Int: Int] {
        try topology.pagesPerNode(of: UnsafeRawBufferPointer(memory))
    }

    /// First offset in `b` whose byte is not `pattern`, 8 bytes at a time.
    static func mismatch(_ b: UnsafeRawBufferPointer, _ pattern: UInt8) -> Int? {
        let word = UInt64(pattern) &* 0x0101_0101_0101_0101
        let n = b.count
        let base = b.baseAddress!
        var i = 0
        // Head up to 8-byte alignment (chunks are page aligned, so usually none).
        while i < n && (Int(bitPattern: base) + i) & 7 != 0 {
            if b[i] != pattern { return i }
            i += 1
        }
        while i + 64 <= n {
            let p = (base + i).assumingMemoryBound(to: UInt64.self)
            var acc: UInt64 = 0
            for k in 0 ..< 8 { acc |= p[k] ^ word }
            if acc != 0 { break }
            i += 64
        }
        while i < n {
            if b[i] != pattern { return i }
            i += 1
        }
        return nil
    }
}

/// The smallest mismatch offset offered by any chunk.
final class FirstMismatch: Sendable {
    private let best = Locked<Int?>(nil)
    func offer(_ o: Int) { best.withLock { if $0 == nil || o < $0! { $0 = o } } }
    var value: Int? { best.withLock { $0 } }
}

/// Reads a decimal number from a small file (sysfs).
private func readNumber(_ path: String) -> Int? {
    SmallFile.text(path, maxBytes: 64).flatMap { Int($0.filter { $0.isNumber }) }
}

// `memory`, `mapping`, `hugePages`, `pageAlign` are immutable and
// `untouched` is atomic; the bytes are the caller's to coordinate, as the
// type's "Concurrency" section says (within a call, chunks are disjoint).
extension ParallelBuffer: @unchecked Sendable {}
