import Synchronization
import Foundation
import Testing
import Topology
import WorkerPool
@testable import MTJobs

/// The shared XML topologies of the TopologyTests target.
func fixtureTopology(_ name: String) throws -> Topology {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TopologyTests/Fixtures")
    return try Topology(.xmlFile(dir.appendingPathComponent(name).path))
}

@Suite("NUMA spans: planning without binding")
struct NUMASpanTests {
    func checkSpans(_ spans: [NUMASpan], chunkCount: Int, threads: Int, weights: [(node: Int, workers: Int)]) {
        // Contiguous, in order, covering every chunk once.
        var next = 0
        for s in spans {
            #expect(s.chunks.lowerBound == next && !s.chunks.isEmpty)
            next = s.chunks.upperBound
        }
        #expect(next == chunkCount)
        #expect(spans.reduce(0) { $0 + $1.threads } <= threads)
        #expect(Set(spans.map(\.node)).count == spans.count)
        // Proportional to workers: within one chunk of the exact share among homed nodes.
        let homed = spans.map { s in weights.first { $0.node == s.node }!.workers }
        let total = homed.reduce(0, +)
        for (s, w) in zip(spans, homed) {
            let exact = Double(chunkCount) * Double(w) / Double(total)
            #expect(abs(Double(s.chunks.count) - exact) < 1.0 + 1e-9, "span \(s) vs \(exact)")
        }
    }

    @Test("apportion splits by largest remainder and sums exactly")
    func apportion() {
        #expect(NUMASpanPlan.apportion(10, weights: [1, 1, 1]) == [4, 3, 3])
        #expect(NUMASpanPlan.apportion(7, weights: [2, 1]) == [5, 2])
        #expect(NUMASpanPlan.apportion(0, weights: [2, 1]) == [0, 0])
        for total in 0 ... 50 {
            for w in [[1], [3, 1], [5, 0, 5], [1, 2, 3, 4], [64, 64, 64, 64, 64, 64, 64, 64]] {
                let a = NUMASpanPlan.apportion(total, weights: w)
                #expect(a.reduce(0, +) == (w.reduce(0, +) > 0 ? total : 0))
                for (x, wi) in zip(a, w) where wi == 0 { #expect(x == 0) }
            }
        }
    }

    @Test("synthetic: 4 nodes of unequal size get proportional contiguous spans; helpers go to their node")
    func synthetic() {
        let weights: [(node: Int, workers: Int)] = [(0, 8), (1, 8), (2, 4), (3, 12)]
        for chunks in [4, 7, 32, 100, 129] {
            for threads in [2, 4, 8, 32] {
                let spans = NUMASpanPlan.spans(chunkCount: chunks, threads: threads, nodeWorkers: weights)
                checkSpans(spans, chunkCount: chunks, threads: threads, weights: weights)
                let helpers = NUMASpanPlan.helperNodes(spans: spans, callerSpan: 0)
                #expect(helpers.count == spans.reduce(0) { $0 + $1.threads } - 1)
            }
        }
        let s = NUMASpanPlan.spans(chunkCount: 32, threads: 32, nodeWorkers: weights)
        #expect(s.map(\.chunks) == [0 ..< 8, 8 ..< 16, 16 ..< 20, 20 ..< 32])
        #expect(s.map(\.threads) == [8, 8, 4, 12])
    }

    @Test("shared XML topologies: spans per NUMA node weighted by the node's PUs", arguments: [
        "amd-epyc9654-genoa-2s-384pu.xml", "intel-xeonphi7210-knl-256pu.xml", "intel-xeon6230-cascadelake-2s-snc2.xml",
        "arm-kunpeng920-2s-128c-4numa.xml", "ibm-power7-256pu-8numa.xml", "ci-vm-amd-epyc-2vcpu.xml",
    ])
    func xml(name: String) throws {
        let t = try fixtureTopology(name)
        let weights = NUMASpanPlan.nodeWorkers(topology: t, cpus: t.placementOrder())
        #expect(weights.reduce(0) { $0 + $1.workers } == t.allowedCPUs.count)
        let nodesWithCPUs = Set(t.numaNodes.filter { !$0.cpus.isEmpty }.map(\.osIndex))
        #expect(Set(weights.map(\.node)) == nodesWithCPUs)
        let threads = t.allowedCPUs.count
        let chunks = threads * ChunkPlan.loadBalanceFactor
        let spans = NUMASpanPlan.spans(chunkCount: chunks, threads: threads, nodeWorkers: weights)
        checkSpans(spans, chunkCount: chunks, threads: threads, weights: weights)
        #expect(spans.count == weights.count)
        // The pool's placement spreads over nodes: the first `nodes` workers cover every node.
        let first = t.placementOrder().prefix(weights.count).compactMap { t.numaNode(ofCPU: $0) }
        #expect(Set(first) == nodesWithCPUs)
    }

    @Test("a NUMA-aware run on this machine covers every chunk once")
    func runHere() throws {
        let log = RangeLog()
        let r = try MTJob(size: 10_000, minChunk: 10, maxThreads: 2, numaAware: true) { log.add($0) }.run()
        #expect(log.sorted == r.plan.chunks)
        if Topology.shared.numaNodes.count > 1 { #expect(!r.spans.isEmpty) }
    }

    @Test("numaSpans(on:) previews the spans a NUMA-aware run uses, per node, without running anything")
    func preview() throws {
        let t = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        let pool = WorkerPool(topology: t)
        let ran = Atomic<Int>(0)
        let job = MTJob(size: 1 << 20, minChunk: 64, maxThreads: 16, numaAware: true) { _ in ran.add(1, ordering: .relaxed) }
        let plan = try job.plan(on: pool)
        let spans = try job.numaSpans(on: pool)
        #expect(spans.count == 4, "one span per node of the 4-node topology: \(spans)")
        checkSpans(spans, chunkCount: plan.chunkCount, threads: plan.threads,
                   weights: NUMASpanPlan.nodeWorkers(topology: t, cpus: pool.placement))
        #expect(spans.reduce(0) { $0 + $1.threads } == plan.threads)
        #expect(try job.numaSpans(on: pool) == spans)
        // Not NUMA-aware, or small enough to run inline: no spans.
        var plain = job
        plain.numaAware = false
        #expect(try plain.numaSpans(on: pool).isEmpty)
        #expect(try MTJob(size: 10, minChunk: 100, numaAware: true) { _ in }.numaSpans(on: pool).isEmpty)
        #expect(throws: MTJobError.self) { try MTJob(size: -1, numaAware: true) { _ in }.numaSpans(on: pool) }
        #expect(ran.load(ordering: .relaxed) == 0)
    }

    @Test("reports and spans are constructible and compare by value")
    func reportsAreValues() throws {
        let plan = try ChunkPlan(start: 0, size: 8, align: 1, minChunk: 1, maxThreads: 2)
        let caller = MTJobReport.Participant(role: .caller, worker: nil, cpu: 0, numaNode: 0, chunks: 4, units: 4, busy: .zero)
        let helper = MTJobReport.Participant(role: .helper, worker: WorkerInfo(poolID: 1, index: 0, cpu: 1, numaNode: 0),
                                             cpu: 1, numaNode: 0, chunks: 4, units: 4, busy: .zero)
        let a = MTJobReport(plan: plan, threadsStarted: 2, participants: [caller, helper], unitsCompleted: 8, elapsed: .zero)
        #expect(a.participants == [caller, helper] && a.threadsUsed == 2 && a.chunksRun == 8)
        #expect(a.completedRanges == [0 ..< 8])
        #expect(a == MTJobReport(plan: plan, threadsStarted: 2, participants: [caller, helper], unitsCompleted: 8, elapsed: .zero))
        let partial = MTJobReport(plan: plan, threadsStarted: 2, participants: [helper], unitsCompleted: 4,
                                  completedRanges: [4 ..< 8], elapsed: .zero)
        #expect(partial != a && partial.threadsUsed == 1 && partial.completedRanges == [4 ..< 8])
        #expect(MTJobCancelled(report: partial) == MTJobCancelled(report: partial))
        #expect(NUMASpan(node: 1, chunks: 0 ..< 4, threads: 2) == NUMASpan(node: 1, chunks: 0 ..< 4, threads: 2))
    }
}
