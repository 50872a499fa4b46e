import Testing
@testable import MTJobs

@Suite("ChunkPlan: padata's chunking policy")
struct ChunkPlanTests {
    @Test("reproduces the kernel's chunking on worked examples exactly")
    func workedExamples() throws {
        // start=0, size=10⁶, align=1, min_chunk=1, max_threads=16 → 16 works, 64 × 15625
        let a = try ChunkPlan(start: 0, size: 1_000_000, align: 1, minChunk: 1, maxThreads: 16)
        #expect(a.nworks == 16)
        #expect(a.chunkSize == 15625)
        #expect(a.chunkCount == 64)
        #expect(a.chunks.allSatisfy { $0.count == 15625 })

        // start=3, size=100, align=8, min_chunk=8, max_threads=4 → [3,8), 11 × 8, [96,103)
        let b = try ChunkPlan(start: 3, size: 100, align: 8, minChunk: 8, maxThreads: 4)
        #expect(b.nworks == 4)
        #expect(b.chunkSize == 8)
        #expect(b.chunkCount == 13)
        var expected: [Range<Int>] = [3 ..< 8]
        for k in 1 ... 11 { expected.append(k * 8 ..< k * 8 + 8) }
        expected.append(96 ..< 103)
        #expect(b.chunks == expected)

        // size=10, min_chunk=100 → one work, inline, one call
        let c = try ChunkPlan(start: 5, size: 10, align: 1, minChunk: 100, maxThreads: 8)
        #expect(c.nworks == 1)
        #expect(c.isInline)
        #expect(c.chunks == [5 ..< 15])

        // hugetlb gather: size=4, min_chunk=1, align=1, max_threads=4 → 4 × 1
        let d = try ChunkPlan(start: 0, size: 4, align: 1, minChunk: 1, maxThreads: 4)
        #expect(d.nworks == 4)
        #expect(d.chunkSize == 1)
        #expect(d.chunks == [0 ..< 1, 1 ..< 2, 2 ..< 3, 3 ..< 4])

        // pre-2024 bug: size=3, min_chunk=0 → chunk 0 must become 1, not divide by zero
        let e = try ChunkPlan(start: 0, size: 3, align: 1, minChunk: 0, maxThreads: 8)
        #expect(e.nworks == 3)
        #expect(e.chunkSize == 1)
        #expect(e.chunkCount == 3)
    }

    @Test("edge cases: size 0, align > size, size < minChunk, one thread, huge and negative starts")
    func edgeCases() throws {
        let zero = try ChunkPlan(start: 7, size: 0, align: 1, minChunk: 0, maxThreads: 4)
        #expect(zero.chunkCount == 0 && zero.nworks == 0 && zero.chunks.isEmpty)

        let bigAlign = try ChunkPlan(start: 0, size: 10, align: 64, minChunk: 0, maxThreads: 4)
        #expect(bigAlign.isInline && bigAlign.chunks == [0 ..< 10])

        let small = try ChunkPlan(start: 0, size: 10, align: 1, minChunk: 11, maxThreads: 4)
        #expect(small.isInline)

        let one = try ChunkPlan(start: 0, size: 1000, align: 1, minChunk: 0, maxThreads: 1)
        #expect(one.isInline && one.chunks == [0 ..< 1000])

        let top = try ChunkPlan(start: Int.max - 100, size: 100, align: 8, minChunk: 0, maxThreads: 4)
        #expect(top.chunks.first?.lowerBound == Int.max - 100)
        #expect(top.chunks.last?.upperBound == Int.max)
        #expect(top.chunks.reduce(0) { $0 + $1.count } == 100)

        let neg = try ChunkPlan(start: -13, size: 40, align: 4, minChunk: 4, maxThreads: 2)
        // chunk = roundup(max(40/8, 4, 1), 4) = 8; ends on multiples of 8: -8, 0, 8, 16, 24, 27
        #expect(neg.chunkSize == 8)
        #expect(neg.chunks == [-13 ..< -8, -8 ..< 0, 0 ..< 8, 8 ..< 16, 16 ..< 24, 24 ..< 27])
        for u in -13 ..< 27 { #expect(neg.chunk(containing: u).map { neg.range(ofChunk: $0).contains(u) } == true) }
        #expect(neg.chunk(containing: -14) == nil && neg.chunk(containing: 27) == nil)
    }

    @Test("raising loadBalanceFactor makes more, smaller chunks")
    func factor() throws {
        let p = try ChunkPlan(start: 0, size: 2048, align: 1, minChunk: 1, maxThreads: 2, loadBalanceFactor: 64)
        #expect(p.chunkSize == 16 && p.chunkCount == 128)
        let k = try ChunkPlan(start: 0, size: 2048, align: 1, minChunk: 1, maxThreads: 2)
        #expect(k.chunkSize == 256 && k.chunkCount == 8)
    }

    @Test("sweep size 0…64 × align 1…9 × minChunk 0…9 × maxThreads 1…5 × several starts: chunks exactly as padata computes them")
    func exhaustiveSweep() throws {
        var shapes = 0
        for start in [0, 1, 3, 17, 1_000_003, -7] {
            for size in 0 ... 64 {
                for align in 1 ... 9 {
                    for minChunk in 0 ... 9 {
                        for maxThreads in 1 ... 5 {
                            shapes += 1
                            let p = try ChunkPlan(start: start, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads)
                            let chunks = p.chunks
                            guard let ref = KernelReference.plan(start: start, size: size, align: align,
                                                                 minChunk: minChunk, maxThreads: maxThreads) else {
                                #expect(p.chunkCount == 0 && chunks.isEmpty)
                                continue
                            }
                            // The kernel's roundup assumes non-negative numbers; compare
                            // negative starts through a shift by a multiple of the chunk.
                            if start >= 0 {
                                if chunks != ref.calls || p.nworks != ref.nworks || p.chunkSize != ref.chunkSize {
                                    Issue.record("start \(start) size \(size) align \(align) min \(minChunk) max \(maxThreads): \(p) vs \(ref)")
                                    return
                                }
                            }
                            // Every unit exactly once, in order, contiguous.
                            var next = start
                            for r in chunks {
                                if r.lowerBound != next || r.isEmpty { Issue.record("gap/overlap in \(p)"); return }
                                next = r.upperBound
                            }
                            if next != start + size { Issue.record("coverage \(p)"); return }
                            // Interior boundaries on absolute multiples of chunkSize (and so of align).
                            if !p.isInline {
                                for r in chunks.dropLast() where r.upperBound % p.chunkSize != 0 || r.upperBound % align != 0 {
                                    Issue.record("unaligned boundary \(r) in \(p)"); return
                                }
                            }
                            if p.threads > maxThreads || p.threads > p.chunkCount || p.threads < 1 {
                                Issue.record("threads \(p.threads) in \(p)"); return
                            }
                            for (k, r) in chunks.enumerated() where p.chunk(containing: r.lowerBound) != k || p.chunk(containing: r.upperBound - 1) != k {
                                Issue.record("chunk(containing:) in \(p)"); return
                            }
                        }
                    }
                }
            }
        }
        #expect(shapes == 6 * 65 * 9 * 10 * 5)
    }

    @Test("starts at and near Int.min are planned by the same rule as any other start (shifted by a multiple of the chunk)")
    func extremeStarts() throws {
        for start in [Int.min, Int.min + 1, Int.min + 7, Int.max - 1000] {
            for (size, align, minChunk, maxThreads) in [(1000, 1, 1, 4), (1000, 8, 8, 4), (64, 1, 1, 16), (999, 4, 0, 3)] {
                let p = try ChunkPlan(start: start, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads)
                // The same job at a small start with the same residue
                // modulo the chunk size gets the same chunks, as offsets
                // from the start.
                let c = p.chunkSize
                let shifted = ((start % c) + c) % c + 4 * c
                let q = try ChunkPlan(start: shifted, size: size, align: align, minChunk: minChunk, maxThreads: maxThreads)
                #expect(c == q.chunkSize && p.nworks == q.nworks)
                #expect(p.chunks.map { ($0.lowerBound - start) ..< ($0.upperBound - start) }
                        == q.chunks.map { ($0.lowerBound - shifted) ..< ($0.upperBound - shifted) },
                        "start \(start) size \(size) align \(align): \(p)")
                #expect(p.chunkCount > 1, "start \(start) size \(size): planned as one chunk")
            }
        }
        let bottom = try ChunkPlan(start: Int.min, size: 100, align: 1, minChunk: 1, maxThreads: 4)
        // chunk 100 / 16 = 6; -2^63 mod 6 = 4, so chunk 0 is 2 units long.
        #expect(bottom.chunkSize == 6 && bottom.chunks.first == Int.min ..< Int.min + 2)
        #expect(bottom.chunks.reduce(0) { $0 + $1.count } == 100)
    }

    @Test("bad shapes are refused with an error naming the field, never a trap")
    func badShapesThrow() {
        func field(_ make: () throws(MTJobError) -> ChunkPlan) -> MTJob.Field? {
            do { _ = try make(); return nil } catch { return error.field }
        }
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: 0, size: -1, align: 1, minChunk: 1, maxThreads: 1) } == .size)
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: Int.max, size: 1, align: 1, minChunk: 1, maxThreads: 1) } == .size)
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: 0, size: 1, align: 0, minChunk: 1, maxThreads: 1) } == .align)
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: 0, size: 1, align: 1, minChunk: -1, maxThreads: 1) } == .minChunk)
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: 0, size: 1, align: 1, minChunk: 1, maxThreads: 0) } == .maxThreads)
        #expect(field { () throws(MTJobError) in
            try ChunkPlan(start: 0, size: 1, align: 1, minChunk: 1, maxThreads: 1, loadBalanceFactor: 0) } == .loadBalanceFactor)
        #expect(field { () throws(MTJobError) in try ChunkPlan(start: Int.max - 1, size: 1, align: 1, minChunk: 1, maxThreads: 1) } == nil)
    }
}
