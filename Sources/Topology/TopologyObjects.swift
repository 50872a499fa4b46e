/// A processing unit (hardware thread): what a worker is bound to.
public struct PU: Sendable, Hashable, Codable {
    /// hwloc's logical index: dense, in topology order.
    public let logicalIndex: Int
    /// The operating system's CPU number (`/sys/devices/system/cpu/cpuN`),
    /// the number a ``CPUSet`` holds. Not the logical index: on the Genoa
    /// fixture PU L#1 is P#192.
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
    /// This PU's position among its core's PUs in logical order: 0 for the
    /// first hardware thread, 1 for its first SMT sibling, …
    public let smtIndex: Int
}

/// A physical core.
public struct Core: Sendable, Hashable, Codable {
    /// hwloc's logical index (position in ``Topology/cores``).
    public let logicalIndex: Int
    /// hwloc's core OS index when known (not unique across packages).
    public let osIndex: Int?
    /// Logical index of the package holding this core, if any.
    public let package: Int?
    /// The core's PUs, by OS index.
    public let cpus: CPUSet
    /// True when the source has no core level (a synthetic description
    /// such as `"pack:2 pu:4"`) and this core stands for a single PU.
    /// ``Topology/counts`` does not count these, as `hwloc-calc` does not.
    public let isInferred: Bool
}

/// A processor package (socket).
public struct Package: Sendable, Hashable, Codable {
    /// hwloc's logical index (position in ``Topology/packages``).
    public let logicalIndex: Int
    /// May be large and sparse (Kunpeng 920: 36 and 8442).
    public let osIndex: Int?
    /// The package's PUs, by OS index.
    public let cpus: CPUSet
}

/// A NUMA node: a memory bank and the PUs local to it.
public struct NUMANode: Sendable, Hashable, Codable {
    /// hwloc's logical index (position in ``Topology/numaNodes``).
    public let logicalIndex: Int
    /// The kernel's node number; may be sparse (POWER7: 0,1,4,5,8,9,12,13).
    public let osIndex: Int
    /// Local memory in bytes (0 when the source does not say, as in CPUID
    /// dumps).
    public let memoryBytes: UInt64
    /// The PUs local to this node.
    public let cpus: CPUSet
}

/// A CPU cache (memory-side caches are not listed here).
public struct Cache: Sendable, Hashable, Codable {
    /// What a cache holds.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Data and instructions (most L2 and L3).
        case unified
        /// Data only (L1d).
        case data
        /// Instructions only (L1i). Not counted by ``Topology/counts``.
        case instruction
    }
    /// 1 for L1, 2 for L2, …
    public let level: Int
    /// Data, instruction or unified.
    public let kind: Kind
    /// hwloc's logical index among the caches of the same level and kind.
    public let logicalIndex: Int
    /// Capacity in bytes.
    public let sizeBytes: UInt64
    /// Cache line size in bytes (0 when unknown).
    public let lineSize: Int
    /// The PUs sharing this cache.
    public let cpus: CPUSet
    /// Logical indexes of the cores sharing this cache, increasing: one
    /// core for a private L2, 4 for a Raptor Lake E-core cluster's L2,
    /// 8 for a Genoa CCD's L3.
    public let cores: [Int]
}

/// A kind of CPU core on hybrid machines (P-cores and E-cores).
public struct CPUKind: Sendable, Hashable, Codable {
    /// Position in ``Topology/cpuKinds``: 0 = most power-efficient, the
    /// highest rank = most performant, as hwloc orders them.
    public let rank: Int
    /// hwloc's efficiency value (higher = more performant); -1 when hwloc
    /// could not rank the kinds.
    public let efficiency: Int
    /// The PUs of this kind.
    public let cpus: CPUSet
    /// hwloc's info attributes (`CoreType`, `FrequencyMaxMHz`, `LinuxCapacity`, …).
    public let infos: [String: String]
}

/// Relative NUMA distances (latency-like, 10 = local) when the machine
/// reports them.
public struct NUMADistances: Sendable, Hashable, Codable {
    /// NUMA node OS indexes, in matrix order.
    public let nodes: [Int]
    /// `values[i][j]`: distance from `nodes[i]` to `nodes[j]`.
    public let values: [[UInt64]]

    /// The distance from node `a` to node `b` (OS indexes), or `nil` when
    /// either is not in the matrix.
    public func distance(from a: Int, to b: Int) -> UInt64? {
        guard let i = nodes.firstIndex(of: a), let j = nodes.firstIndex(of: b) else { return nil }
        return values[i][j]
    }
}

/// One object of the topology tree, for printing (`mtrun topo`) and for
/// placement. Memory children (NUMA nodes, memory-side caches) are listed
/// in `memory`, CPU-side children in `children`.
public struct TopologyNode: Sendable, Hashable, Codable {
    /// hwloc's type name: `Machine`, `Package`, `Group`, `L3`, `L2`, `L1d`,
    /// `L1i`, `Core`, `PU`, `NUMANode`, `MemCache`, `Die`, …
    public let type: String
    /// hwloc's subtype when it has one (`Cluster` for a Group on ARM).
    public let subtype: String?
    /// hwloc's logical index among objects of the same type.
    public let logicalIndex: Int
    /// The OS index, when the object has one (PUs, NUMA nodes, packages).
    public let osIndex: Int?
    /// The PUs below this object.
    public let cpus: CPUSet
    /// Cache size or NUMA node memory, in bytes; `nil` for other objects.
    public let bytes: UInt64?
    /// Memory children (NUMA nodes, memory-side caches).
    public let memory: [TopologyNode]
    /// CPU-side children, in logical order.
    public let children: [TopologyNode]
}

/// Counts of the main object types, as `hwloc-calc --number-of TYPE all`
/// and `lstopo --cpukinds` report them.
public struct TopologyCounts: Sendable, Hashable, Codable {
    /// Packages (sockets).
    public let packages: Int
    /// NUMA nodes.
    public let numaNodes: Int
    /// L3 caches (data or unified).
    public let l3: Int
    /// L2 caches (data or unified; instruction-only L2s are not counted).
    public let l2: Int
    /// Cores (cores inferred for a core-less synthetic topology are not
    /// counted).
    public let cores: Int
    /// PUs.
    public let pus: Int
    /// CPU kinds.
    public let cpuKinds: Int

    enum CodingKeys: String, CodingKey {
        case packages, numaNodes = "numa_nodes", l3, l2, cores, pus, cpuKinds = "cpukinds"
    }
}
