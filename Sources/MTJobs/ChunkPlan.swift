/// How a job's range is cut into chunks: the padata policy, as one pure
/// function of the job's shape.
///
/// The plan depends only on `start`, `size`, `align`, `minChunk`,
/// `maxThreads` and the load-balance factor, never on timing, so the same
/// job always gets the same chunks (and the chunks the kernel's
/// `padata_do_multithreaded` would give it).
///
/// ```
/// nworks = min(max(size / max(minChunk, align), 1), maxThreads)
/// if nworks == 1: one chunk [start, start + size), run inline
/// chunk  = roundup(max(size / (nworks × loadBalanceFactor), minChunk, 1), align)
/// chunk k ends on an absolute multiple of `chunk`:
///   chunk 0 = [start, roundup(start + 1, chunk))        (may be short)
///   chunk k = [previous end, previous end + chunk)      (exactly `chunk`)
///   last    = truncated at start + size
/// ```
///
/// | job | nworks | chunkSize | chunks |
/// |---|---|---|---|
/// | start 0, size 10⁶, align 1, minChunk 1, maxThreads 16 | 16 | 15625 | 64 × 15625 |
/// | start 3, size 100, align 8, minChunk 8, maxThreads 4 | 4 | 8 | `[3,8)`, 11 × 8, `[96,103)` |
/// | size 10, minChunk 100 | 1 | 10 | one inline call |
/// | size 4, minChunk 1, align 1, maxThreads 4 | 4 | 1 | 4 × 1 |
public struct ChunkPlan: Sendable, Hashable {
    /// Chunks per thread the policy aims for: 4, as in the kernel ("in case
    /// threads finish at different times"). With one big chunk per thread a
    /// thread that starts late or runs slower makes everyone wait for it;
    /// with four, the others pick up its share. More chunks cost more claims
    /// (one atomic operation each), so jobs with very uneven per-unit cost
    /// may ask for a larger factor (``MTJob/loadBalanceFactor``).
    public static let loadBalanceFactor = 4

    /// First unit of the job.
    public let start: Int
    /// Number of units.
    public let size: Int
    /// Threads the plan is made for, caller included (the kernel's `nworks`).
    public let nworks: Int
    /// Chunk size: every chunk but the first and the last has exactly this
    /// many units. For a one-work plan, `size`.
    public let chunkSize: Int
    /// Number of chunks (at least 1 when `size > 0`, 0 when `size == 0`).
    public let chunkCount: Int
    /// End of chunk 0: `roundup(start + 1, chunkSize)`, capped at the job's end.
    let firstEnd: Int

    /// Plans a job, checking its shape first.
    ///
    /// - Throws: ``MTJobError/invalidField(_:value:reason:)`` naming the
    ///   first bad input: `size < 0`, `start + size` not representable,
    ///   `align < 1`, `minChunk < 0`, `maxThreads < 1` or
    ///   `loadBalanceFactor < 1` (the checks ``MTJob/validate()`` makes).
    public init(start: Int, size: Int, align: Int, minChunk: Int, maxThreads: Int,
                loadBalanceFactor: Int = ChunkPlan.loadBalanceFactor) throws(MTJobError) {
        try ChunkPlan.check(start: start, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads,
                            loadBalanceFactor: loadBalanceFactor)
        self.init(validatedStart: start, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads,
                  loadBalanceFactor: loadBalanceFactor)
    }

    /// The shape checks of ``init(start:size:align:minChunk:maxThreads:loadBalanceFactor:)``
    /// (nil: a field the library chooses).
    static func check(start: Int, size: Int, align: Int, minChunk: Int?, maxThreads: Int?,
                      loadBalanceFactor: Int) throws(MTJobError) {
        guard size >= 0 else { throw .invalidField(.size, value: size, reason: "must not be negative") }
        guard !start.addingReportingOverflow(size).overflow else {
            throw .invalidField(.size, value: size, reason: "start (\(start)) + size overflows Int")
        }
        guard align >= 1 else { throw .invalidField(.align, value: align, reason: "must be at least 1") }
        if let minChunk, minChunk < 0 { throw .invalidField(.minChunk, value: minChunk, reason: "must not be negative") }
        if let maxThreads, maxThreads < 1 {
            throw .invalidField(.maxThreads, value: maxThreads, reason: "must be at least 1 (it counts the caller)")
        }
        guard loadBalanceFactor >= 1 else {
            throw .invalidField(.loadBalanceFactor, value: loadBalanceFactor, reason: "must be at least 1")
        }
    }

    /// Plans a job whose shape was already checked (by ``MTJob/validate()``
    /// on the run path, which plans on every run).
    init(validatedStart start: Int, size: Int, align: Int, minChunk: Int, maxThreads: Int, loadBalanceFactor: Int) {
        self.start = start
        self.size = size
        let end = start &+ size
        guard size > 0 else {
            nworks = 0; chunkSize = 0; chunkCount = 0; firstEnd = start
            return
        }
        // "Ensure at least one thread when size < min_chunk."
        let works = min(max(size / max(minChunk, align), 1), maxThreads)
        nworks = works
        guard works > 1 else {
            // One work: the whole range in one call, on the caller.
            chunkSize = size; chunkCount = 1; firstEnd = end
            return
        }
        // The factor multiplies a thread count that is at most `size`, so
        // only a huge factor can overflow; saturate instead.
        let (perThread, over) = works.multipliedReportingOverflow(by: loadBalanceFactor)
        var c = over ? 0 : size / perThread
        c = max(c, minChunk)
        c = max(c, 1)                              // the kernel's divide-by-zero guard
        c = ChunkPlan.roundUp(c, align) ?? c        // cannot overflow: c <= size here
        chunkSize = c
        // Chunk 0 ends on the first absolute multiple of c above start:
        // `start` plus its distance to that multiple, 1 ... c. The distance
        // comes from the non-negative remainder, so nothing is computed
        // outside [start, end] (a multiple below start, for a start near
        // Int.min, is not representable).
        let distance = c - ChunkPlan.nonNegativeRemainder(start, c)
        let fe = distance >= size ? end : start + distance
        firstEnd = fe
        let rest = end - fe                         // <= size: no overflow
        chunkCount = 1 + rest / c + (rest % c == 0 ? 0 : 1)
    }

    /// Threads that can actually work: `min(nworks, chunkCount)`. A
    /// kernel plan may name more works than there are chunks (a large
    /// `minChunk` with an unaligned start); those extra works would find
    /// nothing to claim, so they are never started.
    public var threads: Int { min(nworks, chunkCount) }

    /// Whether the plan takes the one-work fast path (run inline on the
    /// caller, no thread touched).
    public var isInline: Bool { nworks == 1 }

    /// The half-open range of units of chunk `k` (`0 ..< chunkCount`).
    @inline(__always)
    public func range(ofChunk k: Int) -> Range<Int> {
        let end = start + size
        if k == 0 { return start ..< firstEnd }
        let lo = firstEnd + (k - 1) * chunkSize     // <= end: no overflow
        let hi = end - lo <= chunkSize ? end : lo + chunkSize
        return lo ..< hi
    }

    /// The chunk that holds `unit`, or nil when `unit` lies outside the job.
    public func chunk(containing unit: Int) -> Int? {
        guard unit >= start, unit &- start < size, unit &- start >= 0 else { return nil }
        if unit < firstEnd { return 0 }
        return 1 + (unit - firstEnd) / chunkSize
    }

    /// Every chunk's range, in order (for tests and reports).
    public var chunks: [Range<Int>] { (0 ..< chunkCount).map(range(ofChunk:)) }

    /// The units from the start of chunk `a` to the end of chunk `b - 1`.
    func units(chunks r: Range<Int>) -> Range<Int> {
        guard !r.isEmpty else {
            let at = r.lowerBound < chunkCount ? range(ofChunk: r.lowerBound).lowerBound : start + size
            return at ..< at
        }
        return range(ofChunk: r.lowerBound).lowerBound ..< range(ofChunk: r.upperBound - 1).upperBound
    }

    /// `roundup(x, a)`: the smallest multiple of `a` that is `>= x`, or
    /// nil on overflow. `x >= 0`, `a >= 1`.
    /// (Most jobs have `a == 1`: no division then. A plan is made on every
    /// run, and a 64-bit division costs tens of cycles.)
    static func roundUp(_ x: Int, _ a: Int) -> Int? {
        if a == 1 { return x }
        let r = x % a
        if r == 0 { return x }
        let (v, o) = (x - r).addingReportingOverflow(a)
        return o ? nil : v
    }

    /// `x mod a` in `0 ..< a` (`a >= 1`), also for negative `x`.
    static func nonNegativeRemainder(_ x: Int, _ a: Int) -> Int {
        if a == 1 { return 0 }
        let r = x % a
        return r < 0 ? r + a : r
    }
}

extension ChunkPlan: CustomStringConvertible {
    public var description: String {
        "ChunkPlan(start: \(start), size: \(size), nworks: \(nworks), chunkSize: \(chunkSize), chunks: \(chunkCount))"
    }
}
