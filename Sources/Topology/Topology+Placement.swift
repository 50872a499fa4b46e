/// Where the worker pool puts its threads, in order.
///
/// The rule, applied to the PUs of `cpus` (default: ``Topology/allowedCPUs``):
///
/// 1. **Cores before SMT siblings.** Every core's first hardware thread
///    comes before any core's second one: a sibling shares its core's
///    pipelines and caches and adds far less than a core of its own.
///    "First" counts only PUs inside `cpus`: a second hardware thread whose
///    first one is excluded has the core to itself.
/// 2. **Faster kinds first** on hybrid machines: hwloc ranks kinds by
///    efficiency and the most performant kind is placed first, so a
///    2-thread job lands on P-cores, not E-cores. An E-core still comes
///    before any SMT sibling (rule 1 is applied first).
/// 3. **Spread across the tree.** Within one SMT round and kind, cores are
///    interleaved round-robin at every level of the hwloc tree (packages,
///    groups, L3, L2 — NUMA nodes hang off one of these levels), so
///    consecutive workers land on different packages, then different NUMA
///    nodes and L3s, then different L2s: memory bandwidth and cache
///    capacity grow with every worker added.
///
/// The tree is first pruned to `cpus`, so a restricted set is spread over
/// its own subtrees. The result depends only on the topology and `cpus`,
/// never on timing.
///
/// | machine (fixture) | first workers |
/// |---|---|
/// | 2× Genoa, SMT2 | PU 0 (pkg 0), PU 96 (pkg 1), then one per CCD, all 192 cores before a sibling |
/// | 2× Cascade Lake SNC2 | one PU on each of the 4 NUMA nodes first |
/// | Raptor Lake 6P+8E | P-cores' first threads, then E-cores, then P siblings |
extension Topology {
    /// OS indexes of the PUs in `cpus` (default: ``allowedCPUs``), each
    /// exactly once, in the order the pool gives them workers. CPUs of
    /// `cpus` that are not PUs of this topology are ignored.
    public func placementOrder(within cpus: CPUSet? = nil) -> [Int] {
        let set = cpus ?? allowedCPUs
        // Position of each core in the spread order of the pruned tree.
        var position: [Int: Int] = [:]
        for (i, core) in Self.interleavedCores(root, within: set, topology: self).enumerated() {
            position[core] = i
        }
        // The SMT round of a PU counts only its core's PUs inside `set`: a
        // second hardware thread whose first one is excluded has the core
        // to itself.
        let chosen = pus.filter { set.contains($0.osIndex) }
        var round: [Int: Int] = [:]       // PU logical index → SMT round
        var seen: [Int: Int] = [:]        // core → PUs of `set` seen so far
        for pu in chosen {
            round[pu.logicalIndex] = seen[pu.core, default: 0]
            seen[pu.core, default: 0] += 1
        }
        // Rank 0 is the most efficient kind; faster kinds go first.
        let topKind = cpuKinds.count - 1
        return chosen
            .sorted { a, b in
                let ra = round[a.logicalIndex]!, rb = round[b.logicalIndex]!
                if ra != rb { return ra < rb }
                let ka = topKind - (a.kind ?? topKind), kb = topKind - (b.kind ?? topKind)
                if ka != kb { return ka < kb }
                let pa = position[a.core] ?? Int.max, pb = position[b.core] ?? Int.max
                if pa != pb { return pa < pb }
                return a.logicalIndex < b.logicalIndex
            }
            .map(\.osIndex)
    }

    /// Logical indexes of the cores of `node`'s subtree that have a PU in
    /// `set`, in round-robin order over each object's children. A PU with
    /// no core above it (a core-less synthetic topology) is its own core.
    static func interleavedCores(_ node: TopologyNode, within set: CPUSet, topology: Topology) -> [Int] {
        if node.cpus.isDisjoint(with: set) { return [] }
        if node.type == "Core" || node.type == "PU" {
            // The first PU of the subtree inside `set` names the core.
            guard let os = node.cpus.intersection(set).first, let pu = topology.pu(osIndex: os) else { return [] }
            return [pu.core]
        }
        let lists = node.children.map { interleavedCores($0, within: set, topology: topology) }.filter { !$0.isEmpty }
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
