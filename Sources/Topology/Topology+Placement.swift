/// Where the worker pool puts its threads, in order.
///
/// The rule, applied to the PUs of `cpus` (default: ``Topology/allowedCPUs``):
///
/// 1. **Cores before SMT siblings.** Every core's first hardware thread comes
///    before any core's second one: a sibling shares its core's pipelines
///    and caches and adds far less than a core of its own.
/// 2. **Faster kinds first** on hybrid machines: kinds are ranked by hwloc's
///    efficiency and the most performant kind is placed first, so a
///    2-thread job lands on P-cores, not E-cores. An E-core still comes
///    before any SMT sibling (rule 1 is applied first).
/// 3. **Spread across the tree.** Within one round, cores are interleaved
///    round-robin at every level of the hwloc tree (packages, groups, NUMA
///    nodes, L3, L2), so consecutive workers land on different packages,
///    then different NUMA nodes, then different caches: memory bandwidth
///    and cache capacity grow with every worker added.
///
/// The result depends only on the topology and `cpus`, never on timing.
extension Topology {
    /// OS indexes of the PUs in `cpus`, in the order the pool gives them workers.
    public func placementOrder(within cpus: CPUSet? = nil) -> [Int] {
        let set = cpus ?? allowedCPUs
        let spread = Self.interleavedPUs(root)
        var position: [Int: Int] = [:]
        for (i, os) in spread.enumerated() { position[os] = i }
        let maxKind = cpuKinds.count - 1
        return pus
            .filter { set.contains($0.osIndex) }
            .sorted { a, b in
                if a.smtIndex != b.smtIndex { return a.smtIndex < b.smtIndex }
                let ka = maxKind - (a.kind ?? maxKind), kb = maxKind - (b.kind ?? maxKind)
                if ka != kb { return ka < kb }
                return (position[a.osIndex] ?? Int.max, a.osIndex) < (position[b.osIndex] ?? Int.max, b.osIndex)
            }
            .map(\.osIndex)
    }

    /// PUs of the subtree in round-robin order over each object's children.
    static func interleavedPUs(_ node: TopologyNode) -> [Int] {
        if node.type == "PU" { return node.osIndex.map { [$0] } ?? [] }
        let lists = node.children.map(interleavedPUs).filter { !$0.isEmpty }
        if lists.count <= 1 { return lists.first ?? [] }
        let total = lists.reduce(0) { $0 + $1.count }
        var out: [Int] = []
        out.reserveCapacity(total)
        var round = 0
        while out.count < total {
            for l in lists where round < l.count { out.append(l[round]) }
            round += 1
        }
        return out
    }
}
