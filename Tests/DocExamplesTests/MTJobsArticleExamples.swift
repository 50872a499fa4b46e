// The Swift examples of Sources/MTJobs/MTJobs.docc, verbatim (see
// ExamplesAreVerbatimTests); bodies at column 0 so the text matches.
import MTJobs
import Synchronization
import Testing

/// MTJobs.md, "Overview".
func mtJobsArticleOverview() throws -> (sum: Int, buffer: ParallelBuffer, report: MTJobReport) {
// Sum the squares of a million numbers on every CPU the process may use.
final class Total: Sendable { let value = Atomic<Int>(0) }
let total = Total()
try MTJob(size: 1_000_000, align: 64) { range in
    var sum = 0
    for i in range { sum &+= i * i }
    total.value.add(sum, ordering: .relaxed)
}.run()
print(total.value.load(ordering: .relaxed))

// Allocate and initialise 64 MiB in parallel, huge pages, page-aligned chunks.
let buffer = try ParallelBuffer(bytes: 64 << 20)
let report = try buffer.fill(0x5A)
print(report.threadsUsed, report.chunkSize, report.elapsed)
    return (total.value.load(ordering: .relaxed), buffer, report)
}

@Suite("MTJobs article examples run")
struct MTJobsArticleExampleRuns {
    @Test("the overview sums the squares exactly and fills every byte of the buffer with 0x5A")
    func overview() throws {
        let (sum, buffer, report) = try mtJobsArticleOverview()
        let n = 1_000_000
        #expect(sum == (n - 1) * n * (2 * n - 1) / 6)
        #expect(report.unitsCompleted == 64 << 20)
        #expect(try buffer.firstMismatch(0x5A) == nil)
    }
}
