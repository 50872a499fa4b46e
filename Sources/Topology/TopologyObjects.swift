/// A processing unit (hardware thread): what a worker is bound to.
public struct PU: Sendable, Hashable, Codable {
    /// hwloc's logical index: dense, in topology order.
    public let logicalIndex: Int
    /// The operating system's CPU number (`/sys/devices/system/cpu/cpuN`).
    public let osIndex: Int
    /// Logical index of the core holding this PU (in ``Topology/cores``).
    public let core: Int
    /// Logical index of the package holding this PU, or `nil` when the
    /// topology has no package level.
    public let package: Int?
    /// OS indexes of the NUMA nodes local to this PU; empty when the PU has
    /// no local node (a machine with an offline node).
    public let numaNodes: [Int]
    /// Rank of this PU's CPU kind in ``Topology/cpuKinds`` (0 = most
    /// power-efficient), or `nil` when the machine reports no kinds.
    public let kind: Int?
    /// This PU's position among its core's PUs: 0 for the first hardware
    /// thread, 1 for its first SMT sibling, …
    public let smtIndex: Int
}

/// A physical core.
public struct Core: Sendable, Hashable, Codable {
    public let logicalIndex: Int
    /// hwloc's core OS index when known (not unique across packages).
    public let osIndex: Int?
    public let package: Int?
    /// The core's PUs, by OS index.
    public let cpus: CPUSet
}

/// A processor package (socket).
public struct Package: Sendable, Hashable, Codable {
    public let logicalIndex: Int
    /// May be large and sparse (Kunpeng 920: 36 and 8442).
    public let osIndex: Int?
    public let cpus: CPUSet
}

/// A NUMA node: a memory bank and the PUs local to it.
public struct NUMANode: Sendable, Hashable, Codable {
    public let logicalIndex: Int
    /// May be sparse (POWER7: 0,1,4,5,8,9,12,13).
    public let osIndex: Int
    /// Local memory in bytes (0 when the source does not say).
    public let memoryBytes: UInt64
    /// The PUs local to this node.
    public let cpus: CPUSet
}

/// A CPU cache.
public struct Cache: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case unified, data, instruction }
    public let level: Int
    public let kind: Kind
    public let logicalIndex: Int
    public let sizeBytes: UInt64
    public let lineSize: Int
    /// The PUs sharing this cache.
    public let cpus: CPUSet
}

/// A kind of CPU core on hybrid machines (P-cores and E-cores).
public struct CPUKind: Sendable, Hashable, Codable {
    /// 0 = most power-efficient, as ranked by hwloc.
    public let rank: Int
    /// hwloc's efficiency value (higher = more performant); -1 when unknown.
    public let efficiency: Int
    public let cpus: CPUSet
    /// hwloc's info attributes (`CoreType`, `FrequencyMaxMHz`, …).
    public let infos: [String: String]
}

/// Relative NUMA distances (latency-like, 10 = local) when the machine
/// reports them.
public struct NUMADistances: Sendable, Hashable, Codable {
    /// NUMA node OS indexes, in matrix order.
    public let nodes: [Int]
    /// `values[i][j]`: distance from `nodes[i]` to `nodes[j]`.
    public let values: [[UInt64]]

    public func distance(from a: Int, to b: Int) -> UInt64? {
        guard let i = nodes.firstIndex(of: a), let j = nodes.firstIndex(of: b) else { return nil }
        return values[i][j]
    }
}

/// One object of the topology tree, for printing (`mtrun topo`) and for
/// placement. Memory children (NUMA nodes) are listed in `memory`.
public struct TopologyNode: Sendable, Hashable, Codable {
    /// hwloc's type name: `Machine`, `Package`, `Group`, `L3`, `L2`, `L1d`,
    /// `Core`, `PU`, `NUMANode`, …
    public let type: String
    public let logicalIndex: Int
    public let osIndex: Int?
    public let cpus: CPUSet
    /// Cache size or NUMA memory, bytes.
    public let bytes: UInt64?
    public let memory: [TopologyNode]
    public let children: [TopologyNode]
}

/// Counts of the main object types, as `hwloc-calc --number-of` reports them.
public struct TopologyCounts: Sendable, Hashable, Codable {
    public let packages: Int
    public let numaNodes: Int
    public let l3: Int
    public let l2: Int
    public let cores: Int
    public let pus: Int
    public let cpuKinds: Int

    enum CodingKeys: String, CodingKey {
        case packages, numaNodes = "numa_nodes", l3, l2, cores, pus, cpuKinds = "cpukinds"
    }
}
