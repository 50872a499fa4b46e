@testable import MTJobs

/// A line-by-line transliteration of the kernel's `padata_do_multithreaded`
/// planning and `padata_mt_helper` cursor loop (kernel/padata.c), with the
/// pool never running out of works. Used as the oracle for ChunkPlan.
enum KernelReference {
    struct Result: Equatable {
        var nworks: Int
        var chunkSize: Int
        var calls: [Range<Int>]
    }

    static func roundup(_ x: Int, _ y: Int) -> Int { ((x + y - 1) / y) * y }

    static func plan(start: Int, size: Int, align: Int, minChunk: Int, maxThreads: Int) -> Result? {
        if size == 0 { return nil }
        var nworks = max(size / max(minChunk, align), 1)
        nworks = min(nworks, maxThreads)
        if nworks == 1 { return Result(nworks: 1, chunkSize: size, calls: [start ..< start + size]) }
        let loadBalanceFactor = 4
        var chunk = size / (nworks * loadBalanceFactor)
        chunk = max(chunk, minChunk)
        chunk = max(chunk, 1)
        chunk = roundup(chunk, align)
        var s = start, left = size
        var calls: [Range<Int>] = []
        while left > 0 {
            var n = roundup(s + 1, chunk) - s
            n = min(n, left)
            calls.append(s ..< s + n)
            s += n
            left -= n
        }
        return Result(nworks: nworks, chunkSize: chunk, calls: calls)
    }
}
