// The Swift examples of Sources/SerialJobs/SerialJobs.docc, verbatim (see
// ExamplesAreVerbatimTests); bodies at column 0 so the text matches.
import SerialJobs
import Synchronization
import Testing

/// A stand-in hash of a file name.
private func sha256(of file: String) throws -> String { try digest(of: file) }

/// One block of a file, as the "Submitting a collection" example uses it.
struct Block: Sendable {
    var offset: Int
    var bytes: [UInt8]
}

/// A stand-in hash of a block: the sum of its bytes.
private func sha256(_ block: Block) -> Int { block.bytes.reduce(0) { $0 + Int($1) } }

/// What the "Submitting a collection" example writes, in call order.
private let written = Mutex<[(offset: Int, digest: Int)]>([])

private func write(_ offset: Int, _ digest: Result<Int, any Error>) {
    if case .success(let d) = digest { written.withLock { $0.append((offset, d)) } }
}

/// SerialJobs.md, "Overview".
func serialJobsArticleOverview(files: [String]) throws {
let instance = try Instance()              // every CPU this process may use
let shell = try instance.makeShell(window: 256)
for file in files {
    try shell.submit(parallel: { try sha256(of: file) },
                     serial: { result in print(result) })   // input order
}
shell.stop()                               // waits for the last line
}

/// SerialJobs.md, "Submitting a collection".
func serialJobsArticleCollection(shell: Shell, blocks: [Block]) throws {
try shell.submit(contentsOf: blocks,
                 parallel: { block in sha256(block) },
                 serial: { block, digest in write(block.offset, digest) })
}

@Suite("SerialJobs article examples run", .serialized)
struct SerialJobsArticleExampleRuns {
    @Test("the overview runs every file through a shell and returns once the last is serialized")
    func overview() throws {
        try serialJobsArticleOverview(files: (0 ..< 100).map { "f\($0)" })
    }

    @Test("submitting a collection writes every block's digest in input order")
    func collection() throws {
        written.withLock { $0.removeAll() }
        let blocks = (0 ..< 500).map { i in Block(offset: i * 4096, bytes: [UInt8(i & 0xFF), 1, 2]) }
        let shell = try Instance().makeShell(window: 64)
        try serialJobsArticleCollection(shell: shell, blocks: blocks)
        shell.stop()
        let out = written.withLock { $0 }
        #expect(out.map(\.offset) == blocks.map(\.offset))
        #expect(out.map(\.digest) == blocks.map { Int($0.bytes[0]) + 3 })
    }
}
