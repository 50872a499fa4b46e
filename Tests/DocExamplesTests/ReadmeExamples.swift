// The Swift examples of README.md, verbatim (see ExamplesAreVerbatimTests).
// Each example's body is kept at column 0 inside its function so that the
// text matches the README character for character; lines after a body only
// hand its results to the tests.
import MTJobs
import SerialJobs
import Synchronization
import Testing
import Topology

/// A stand-in for a real digest: deterministic, cheap, and it can fail.
func digest(of path: String) throws -> String {
    guard !path.isEmpty else { throw ExampleError.emptyPath }
    return "\(path.utf8.count):\(path.utf8.reduce(UInt8(0)) { $0 &+ $1 })"
}

enum ExampleError: Error { case emptyPath }

/// README "MTJobs".
func readmeMTJobs() throws -> (squares: [Int], sum: Int, report: MTJobReport) {
var squares = [Int](repeating: 0, count: 1_000_000)
let report = try MTJob.forEachChunk(of: &squares, align: 64) { chunk in
    for i in chunk.indices { chunk[i] = i * i }     // this chunk's elements, no others
}
print(squares[999_999], report.threadsUsed, report.chunkSize, report.elapsed)

let total = Atomic<Int>(0)                          // a job over a range: sum the squares
try MTJob(size: 1_000_000) { range in
    var sum = 0
    for i in range { sum &+= i * i }
    total.add(sum, ordering: .relaxed)
}.run()
    return (squares, total.load(ordering: .relaxed), report)
}

/// README "SerialJobs".
func readmeSerialJobs(paths: [String]) throws -> [String] {
let instance = try Instance()                    // parallel and serial sets: every allowed CPU
let shell = try instance.makeShell(window: 256)  // one ordered stream, ≤ 256 items in flight
for path in paths {
    try shell.submit(parallel: { try digest(of: path) },       // any worker of the parallel set
                     serial: { result in print(path, result) }) // input order, one at a time
}
shell.stop()                                     // refuses new items, waits for the last one

let digests = try instance.orderedMap(paths, window: 64) { try digest(of: $0) }  // in input order
    return digests
}

/// README "Topology".
func readmeTopology() throws -> (l3: CPUSet?, set: CPUSet) {
let machine = Topology.shared                  // this system, as this process may use it
print(machine.allowedCPUs, machine.availableParallelism)  // affinity ∩ cpuset; cpu.max quota
print(machine.placementOrder())                // PU OS indexes in the order workers go

let other = try Topology(.synthetic("pack:2 [numa] l3:2 core:4 pu:2"))  // or .xmlFile(path)
let l3 = other.cache(level: 3, coveringCPU: 0)?.cpus   // the PUs sharing CPU 0's L3
let set = try CPUSet(parsing: "0-3,8,10-11")   // the kernel's list format; also CPUSet(hexMask:)
print(l3 ?? [], set.count)
    return (l3, set)
}

@Suite("README examples run")
struct ReadmeExampleRuns {
    @Test("the MTJobs example sums the squares of 0..<1,000,000 exactly")
    func mtJobsSum() throws {
        let (squares, sum, report) = try readmeMTJobs()
        let n = 1_000_000
        #expect(squares == (0 ..< n).map { $0 * $0 })
        #expect(sum == (n - 1) * n * (2 * n - 1) / 6)
        #expect(report.unitsCompleted == n)
        #expect(report.chunkSize % 64 == 0)
    }

    @Test("the SerialJobs example serializes every path and orderedMap returns digests in input order")
    func serialJobsOrder() throws {
        let paths = (0 ..< 300).map { "dir/file-\($0).txt" }
        let digests = try readmeSerialJobs(paths: paths)
        #expect(digests == (try paths.map { try digest(of: $0) }))
    }

    @Test("the SerialJobs example's orderedMap rethrows a parallel function's error")
    func serialJobsError() {
        #expect(throws: ExampleError.self) { try readmeSerialJobs(paths: ["a", "", "b"]) }
    }

    @Test("the Topology example finds CPU 0's L3 on the synthetic machine and parses the CPU list")
    func topologyValues() throws {
        let (l3, set) = try readmeTopology()
        #expect(l3 == CPUSet(0 ... 7))
        #expect(set == CPUSet([0, 1, 2, 3, 8, 10, 11]))
    }
}
