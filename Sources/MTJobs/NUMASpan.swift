import Topology
import WorkerPool

/// One NUMA node's share of a ``MTJob/numaAware`` job: a contiguous run of
/// chunks that the node's helpers claim first.
public struct NUMASpan: Sendable, Hashable {
    /// The node (OS index).
    public let node: Int
    /// Chunk indexes of the span (see ``ChunkPlan/range(ofChunk:)``).
    public let chunks: Range<Int>
    /// Threads homed on this node, caller included if it runs here.
    public let threads: Int

    public init(node: Int, chunks: Range<Int>, threads: Int) {
        self.node = node
        self.chunks = chunks
        self.threads = threads
    }
}

/// Planning of NUMA spans: pure functions, testable on any topology.
///
/// The rule:
/// 1. The job's threads (caller included) are shared among the nodes in
///    proportion to the pool's workers on each node (largest remainder,
///    ties to the lower node). Nodes that get no thread get no span.
/// 2. The chunks are cut into one contiguous span per remaining node, in
///    node order, sized in proportion to that node's workers (largest
///    remainder again). A node's helpers run on that node and claim from
///    its span first; when it is empty they steal from the front of the
///    span with the most chunks left, so the job still ends together.
///
/// Stealing from the front keeps each span's done chunks one prefix, so a
/// cancelled job reports one completed range per span.
public enum NUMASpanPlan {
    /// Workers per NUMA node for a pool on `cpus` (OS indexes), nodes in
    /// increasing OS index; nodes without a worker are left out.
    public static func nodeWorkers(topology: Topology, cpus: [Int]) -> [(node: Int, workers: Int)] {
        var count: [Int: Int] = [:]
        for cpu in cpus {
            if let n = topology.numaNode(ofCPU: cpu) { count[n, default: 0] += 1 }
        }
        return count.keys.sorted().map { ($0, count[$0]!) }
    }

    /// Splits `total` in proportion to `weights` (largest remainder; ties
    /// to the lower index). Weights must be `>= 0` with a positive sum.
    public static func apportion(_ total: Int, weights: [Int]) -> [Int] {
        let sum = weights.reduce(0, +)
        guard sum > 0, total > 0 else { return weights.map { _ in 0 } }
        var shares = weights.map { $0.multipliedFullWidth(by: total) }.map { p -> (Int, Int) in
            let (q, r) = sum.dividingFullWidth(p)
            return (q, r)
        }
        var left = total - shares.reduce(0) { $0 + $1.0 }
        let order = shares.indices.sorted { shares[$0].1 != shares[$1].1 ? shares[$0].1 > shares[$1].1 : $0 < $1 }
        var i = 0
        while left > 0 {
            shares[order[i % order.count]].0 += 1
            left -= 1
            i += 1
        }
        return shares.map(\.0)
    }

    /// The spans of a job of `chunkCount` chunks run by `threads` threads
    /// over nodes with `nodeWorkers` workers.
    public static func spans(chunkCount: Int, threads: Int, nodeWorkers: [(node: Int, workers: Int)]) -> [NUMASpan] {
        let nodes = nodeWorkers.filter { $0.workers > 0 }
        guard chunkCount > 0, threads > 0, !nodes.isEmpty else { return [] }
        let perNode = apportion(threads, weights: nodes.map(\.workers))
        let homed = nodes.indices.filter { perNode[$0] > 0 }
        let sizes = apportion(chunkCount, weights: homed.map { nodes[$0].workers })
        var out: [NUMASpan] = []
        var lo = 0
        for (j, i) in homed.enumerated() where sizes[j] > 0 {
            out.append(NUMASpan(node: nodes[i].node, chunks: lo ..< lo + sizes[j], threads: perNode[i]))
            lo += sizes[j]
        }
        return out
    }

    /// The nodes to send the helpers to (one entry per helper): each
    /// span's threads, less one for the caller's own span (`callerSpan`).
    public static func helperNodes(spans: [NUMASpan], callerSpan: Int) -> [Int] {
        var out: [Int] = []
        var callerCounted = false
        for (i, s) in spans.enumerated() {
            var n = s.threads
            if i == callerSpan && n > 0 { n -= 1; callerCounted = true }
            out.append(contentsOf: repeatElement(s.node, count: n))
        }
        // The caller's node had no thread of its own: it replaces one
        // helper of the busiest node.
        if !callerCounted, let j = spans.indices.max(by: { spans[$0].threads < spans[$1].threads }),
           let k = out.firstIndex(of: spans[j].node) {
            out.remove(at: k)
        }
        return out
    }
}
