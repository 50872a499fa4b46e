import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Topology
@testable import MTJobs

@Suite("ParallelBuffer: parallel initialisation of fresh memory")
struct ParallelBufferTests {
    @Test("fill sets every byte, in chunks aligned to the (huge) page size, and verify finds a planted byte")
    func fillAndVerify() throws {
        let bytes = 16 << 20 + 12345
        let b = try ParallelBuffer(bytes: bytes)
        #expect(Int(bitPattern: b.memory.baseAddress!) % b.pageAlign == 0)
        let r = try b.fill(0x5A, threads: 2)
        #expect(r.unitsCompleted == bytes)
        for c in r.plan.chunks.dropLast() { #expect(c.upperBound % b.pageAlign == 0) }
        #expect(try b.firstMismatch(0x5A) == nil)
        b.memory[bytes - 1] = 0
        b.memory[9_000_001] = 1
        #expect(try b.firstMismatch(0x5A) == 9_000_001)
        #expect(try b.firstMismatch(0xA5) == 0)
    }

    @Test("filling fresh memory with zero populates it (every page resident, every byte zero)")
    func zeroFill() throws {
        let b = try ParallelBuffer(bytes: 8 << 20)
        try b.fill(0, threads: 2)
        #expect(try b.firstMismatch(0) == nil)
        if Topology.shared.isThisSystem, let pages = try? b.pagesPerNode() {
            #expect(pages[-1] == nil, "untouched pages left: \(pages)")
            #expect(pages.values.reduce(0, +) == (8 << 20) / ParallelBuffer.pageSize)
        }
    }

    @Test("a per-chunk initialiser gets each chunk once with its offset; pages land on a node")
    func initializer() throws {
        let b = try ParallelBuffer(bytes: 12 << 20, hugePages: false)
        #expect(b.pageAlign == ParallelBuffer.pageSize)
        let seen = RangeLog()
        let r = try b.initialize(threads: 2, numaAware: true) { chunk, offset in
            seen.add(offset ..< offset + chunk.count)
            for i in 0 ..< chunk.count { chunk[i] = UInt8(truncatingIfNeeded: (offset + i) &* 7) }
        }
        #expect(seen.sorted == r.plan.chunks)
        for i in stride(from: 0, to: 12 << 20, by: 4093) { #expect(b.memory[i] == UInt8(truncatingIfNeeded: i &* 7)) }
        if Topology.shared.isThisSystem, let pages = try? b.pagesPerNode() {
            let nodes = Set(Topology.shared.numaNodes.map(\.osIndex))
            #expect(pages.keys.allSatisfy { nodes.contains($0) })
            #expect(pages.values.reduce(0, +) == (12 << 20) / ParallelBuffer.pageSize)
        }
    }

    @Test("bad sizes are refused with a typed error")
    func badSize() {
        #expect(throws: ParallelBufferError.invalidSize(0)) { try ParallelBuffer(bytes: 0) }
        #expect(throws: ParallelBufferError.invalidSize(-5)) { try ParallelBuffer(bytes: -5) }
    }

    @Test("fill(0) after bytes were written through job() zeroes them (no populate shortcut on written memory)")
    func zeroAfterJob() throws {
        let b = try ParallelBuffer(bytes: 8 << 20)
        try b.job(threads: 2) { chunk, _ in memset(chunk.baseAddress!, 0xFF, chunk.count) }.run()
        #expect(try b.firstMismatch(0xFF) == nil)
        try b.fill(0)
        #expect(try b.firstMismatch(0) == nil)
    }

    @Test("concurrent read-only scans of one buffer agree")
    func concurrentReads() async throws {
        let b = try ParallelBuffer(bytes: 4 << 20)
        try b.fill(0x11)
        let results = try await withThrowingTaskGroup(of: Int?.self) { g in
            for _ in 0 ..< 4 { g.addTask { try b.firstMismatch(0x11, threads: 2) } }
            var all: [Int?] = []
            for try await r in g { all.append(r) }
            return all
        }
        #expect(results.count == 4 && results.allSatisfy { $0 == nil })
    }
}
