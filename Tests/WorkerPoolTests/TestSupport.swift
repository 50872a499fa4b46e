import Foundation
import Synchronization
import Topology
@testable import WorkerPool

/// Long runs when `MTJ_STRESS=1`.
let stress = ProcessInfo.processInfo.environment["MTJ_STRESS"] == "1"

/// A topology loaded from the TopologyTests fixtures (no binding possible).
func fixtureTopology(_ file: String) throws -> Topology {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return try Topology(.xmlFile(dir.appendingPathComponent("TopologyTests/Fixtures/\(file)").path))
}

/// Polls `condition` every 200 µs for up to `seconds`; returns its last value.
func waitUntil(_ seconds: Double = 120, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(200)
    }
    return condition()
}

/// A counter shared with work items.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
    func add(_ n: Int = 1) { value.wrappingAdd(n, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// One run counter per item: proves "exactly once".
final class RunCounts: @unchecked Sendable {
    // Atomics in memory owned by this object (freed in deinit).
    let counts: UnsafeMutablePointer<Atomic<Int>>
    let n: Int
    init(_ n: Int) {
        self.n = n
        counts = .allocate(capacity: n)
        for i in 0..<n { (counts + i).initialize(to: Atomic<Int>(0)) }
    }
    deinit {
        counts.deinitialize(count: n)
        counts.deallocate()
    }
    func ran(_ i: Int) { (counts + i).pointee.wrappingAdd(1, ordering: .relaxed) }
    func count(_ i: Int) -> Int { (counts + i).pointee.load(ordering: .relaxed) }
    var total: Int { (0..<n).reduce(0) { $0 + count($1) } }
    /// Items that did not run exactly once.
    var wrong: [Int] { (0..<n).filter { count($0) != 1 } }
}

/// A value written once by a work item and read by the test.
final class Cell: Sendable {
    let value = Atomic<Int>(Int.min)
    func set(_ v: Int) { value.store(v, ordering: .releasing) }
    var get: Int? {
        let v = value.load(ordering: .acquiring)
        return v == Int.min ? nil : v
    }
    func wait(_ seconds: Double = 120) -> Int? {
        _ = waitUntil(seconds) { get != nil }
        return get
    }
}

/// Kernel thread ids of this process's threads whose name starts with `prefix`.
func threads(named prefix: String) -> [String: String] {
    var out: [String: String] = [:]
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    for t in tasks {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8) else { continue }
        let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.hasPrefix(prefix) { out[t] = name }
    }
    return out
}

/// The calling thread's name.
func currentThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

/// CPU time (user + system) a thread of this process used so far, in
/// seconds; nil if it is gone.
func cpuSeconds(ofThread tid: String) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after "comm)": state is field 3; utime, stime are 14, 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The scheduler state letter of a thread (`S` sleeping, `R` running).
func schedulerState(ofThread tid: String) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ").first?.first
}

/// The calling thread's kernel id, as named in /proc/self/task.
func currentTID() -> String {
    let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
    return String(link.split(separator: "/").last ?? "")
}
