import Synchronization
import Testing
@testable import MTJobs

@Suite("MTJob.forEachChunk: each chunk updates its own elements")
struct MutableChunkTests {
    @Test("an array is filled in parallel, every element once, through its chunk")
    func fillsArray() throws {
        for count in [0, 1, 7, 1000, 1 << 20] {
            var a = [Int](repeating: -1, count: count)
            let calls = Atomic<Int>(0)
            let report = try MTJob.forEachChunk(of: &a, minChunk: 64, maxThreads: 2) { chunk in
                calls.add(1, ordering: .relaxed)
                for i in chunk.indices { chunk[i] = i &* i }
            }
            #expect(a == (0 ..< count).map { $0 &* $0 }, "count \(count)")
            #expect(report.unitsCompleted == count)
            #expect(calls.load(ordering: .relaxed) == report.chunksRun)
        }
    }

    @Test("chunks see the old values of their own elements and cover the buffer in the plan's chunks")
    func updatesInPlace() throws {
        var a = Array(0 ..< 100_000)
        let seen = Mutex<[Range<Int>]>([])
        let report = try MTJob.forEachChunk(of: &a, align: 8, minChunk: 8, maxThreads: 4) { chunk in
            seen.withLock { $0.append(chunk.indices) }
            chunk.withUnsafeMutableBufferPointer { b in
                for k in b.indices { b[k] += 1 }
            }
        }
        #expect(a == Array(1 ... 100_000))
        #expect(seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound } == report.plan.chunks)
    }

    @Test("an error from one chunk is rethrown and the chunks that did not run keep their values")
    func errorStops() throws {
        struct Stop: Error, Equatable {}
        var a = [Int](repeating: 0, count: 10_000)
        let job = MTJob(size: 10_000, minChunk: 10, maxThreads: 2) { _ in }
        let failing = try #require(try job.plan().chunk(containing: 5_000).map { try job.plan().range(ofChunk: $0) })
        #expect(throws: Stop()) {
            try MTJob.forEachChunk(of: &a, minChunk: 10, maxThreads: 2) { chunk in
                if chunk.indices.contains(5_000) { throw Stop() }
                for i in chunk.indices { chunk[i] = 1 }
            }
        }
        // Each element was written by its own chunk or not at all; the
        // failing chunk wrote nothing.
        #expect(a.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(failing.allSatisfy { a[$0] == 0 })
    }

    @Test("a buffer the caller owns is updated the same way")
    func unsafeBuffer() throws {
        let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { b.deallocate() }
        b.initialize(repeating: 0)
        try MTJob.forEachChunk(of: b, maxThreads: 2) { chunk in
            for i in chunk.indices { chunk[i] = UInt8(truncatingIfNeeded: i) }
        }
        #expect(b.indices.allSatisfy { b[$0] == UInt8(truncatingIfNeeded: $0) })
    }
}
