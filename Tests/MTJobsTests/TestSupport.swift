import Foundation
import Synchronization
@testable import MTJobs
import WorkerPool

/// Long stress runs only with `MTJ_STRESS=1`.
let stress = ProcessInfo.processInfo.environment["MTJ_STRESS"] == "1"

/// Records every range a thread function receives.
final class RangeLog: Sendable {
    let ranges = Locked<[Range<Int>]>([])
    func add(_ r: Range<Int>) { ranges.withLock { $0.append(r) } }
    var sorted: [Range<Int>] { ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound } }
    var count: Int { ranges.withLock { $0.count } }
}

struct TestError: Error, Equatable {
    let tag: String
}

/// Spins for about `micros` microseconds (keeps a chunk on its thread).
func busyWait(micros: Int) {
    let end = TSCClock.now() + micros * 1000
    while TSCClock.now() < end {}
}

/// A pool for tests that must control the worker count.
func makePool(workers: Int, name: String = "mtjt") -> WorkerPool {
    let cpus = Array(Topology.shared.placementOrder().prefix(workers))
    return WorkerPool(name: name, cpus: CPUSet(cpus))
}

import Topology
import MTSupport

/// Sorted ranges with adjacent ones merged.
func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
    var out: [Range<Int>] = []
    for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
        if let last = out.last, last.upperBound == r.lowerBound {
            out[out.count - 1] = last.lowerBound ..< r.upperBound
        } else {
            out.append(r)
        }
    }
    return out
}
