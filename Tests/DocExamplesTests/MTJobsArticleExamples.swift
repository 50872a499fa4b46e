// The Swift examples of Sources/MTJobs/MTJobs.docc, verbatim (see
// ExamplesAreVerbatimTests); bodies at column 0 so the text matches.
import MTJobs
import Synchronization
import Testing

/// MTJobs.md, "Overview".
func mtJobsArticleOverview() throws -> (squares: [Int], sum: Int, buffer: ParallelBuffer, report: MTJobReport) {
// Fill an array in parallel: each chunk writes its own elements.
var squares = [Int](repeating: 0, count: 1_000_000)
try MTJob.forEachChunk(of: &squares) { chunk in
    for i in chunk.indices { chunk[i] = i * i }
}

// Sum the squares of a million numbers on every CPU the process may use.
let total = Atomic<Int>(0)
try MTJob(size: 1_000_000, align: 64) { range in
    var sum = 0
    for i in range { sum &+= i * i }
    total.add(sum, ordering: .relaxed)
}.run()
print(total.load(ordering: .relaxed), squares[999_999])

// Allocate and initialise 64 MiB in parallel, huge pages, page-aligned chunks.
let buffer = try ParallelBuffer(bytes: 64 << 20)
let report = try buffer.fill(0x5A)
print(report.threadsUsed, report.chunkSize, report.elapsed)
    return (squares, total.load(ordering: .relaxed), buffer, report)
}

@Suite("MTJobs article examples run")
struct MTJobsArticleExampleRuns {
    @Test("the overview sums the squares exactly and fills every byte of the buffer with 0x5A")
    func overview() throws {
        let (squares, sum, buffer, report) = try mtJobsArticleOverview()
        let n = 1_000_000
        #expect(squares == (0 ..< n).map { $0 * $0 })
        #expect(sum == (n - 1) * n * (2 * n - 1) / 6)
        #expect(report.unitsCompleted == 64 << 20)
        #expect(try buffer.firstMismatch(0x5A) == nil)
    }
}
