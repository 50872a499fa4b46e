import CHwloc
#if canImport(Glibc)
import Glibc
#endif

/// The machine as Swift values, read once through hwloc.
///
/// A `Topology` is loaded from one of three sources (``Source``): this
/// system (restricted to the CPUs the process may use: affinity mask and
/// cgroup cpuset), an hwloc XML export of another machine, or a synthetic
/// description such as `"pack:2 [numa] l3:2 core:4 pu:2"`. Everything the
/// rest of the project needs is copied into value types at load time, so no
/// hwloc pointer ever leaves this module.
///
/// Binding threads and placing memory (``bindCurrentThread(to:)``,
/// ``allocate(bytes:onNodes:)``) work only on a topology of this system; on
/// an XML or synthetic topology they throw ``TopologyError/notThisSystem(operation:source:)``
/// where hwloc would silently do nothing.
public final class Topology {
    /// Where a topology comes from.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        /// This machine, restricted to the CPUs this process may run on.
        case thisSystem
        /// An hwloc XML export (hwloc 1.x or 2.x format).
        case xmlFile(String)
        /// An hwloc synthetic description.
        case synthetic(String)

        /// A phrase for messages: `XML file 'genoa.xml'`.
        public var description: String {
            switch self {
            case .thisSystem: return "this system"
            case .xmlFile(let p): return "XML file '\(p)'"
            case .synthetic(let d): return "synthetic description \"\(d)\""
            }
        }
    }

    /// Where this topology was loaded from.
    public let source: Source
    /// Whether binding and memory placement act on this machine: true only
    /// for `.thisSystem` (and only when hwloc agrees; an `HWLOC_XMLFILE` or
    /// `HWLOC_SYNTHETIC` environment variable makes it false).
    public let isThisSystem: Bool
    /// Processor packages (sockets), in logical order. Empty when the source
    /// has no package level (some synthetic descriptions).
    public let packages: [Package]
    /// NUMA nodes, in logical order. Every topology has at least one.
    public let numaNodes: [NUMANode]
    /// All CPU caches, every level, in hwloc's logical order per level
    /// (L1d/L1 unified, L2, L3, L4, L5, then instruction caches).
    public let caches: [Cache]
    /// Physical cores, in logical order. When the source has no core level,
    /// each PU stands for its own core (``Core/isInferred`` is true).
    public let cores: [Core]
    /// Every PU, in logical order.
    public let pus: [PU]
    /// CPU kinds ranked from most power-efficient (rank 0) upwards; empty
    /// when the machine reports none, one entry on homogeneous machines.
    public let cpuKinds: [CPUKind]
    /// The NUMA latency matrix, when the source has one.
    public let numaDistances: NUMADistances?
    /// The PUs this process may use. For XML and synthetic sources, every PU.
    public let allowedCPUs: CPUSet
    /// The cgroup CPU bandwidth quota in CPUs (`cpu.max` = "200000 100000"
    /// → 2.0), or `nil` when unlimited or not this system.
    public let cpuQuota: Double?
    /// The object tree, from the Machine object down to the PUs (for
    /// printing and placement); NUMA nodes are memory children.
    public let root: TopologyNode
    /// The CPU model string when hwloc knows it (`CPUModel` of the machine
    /// or the first package), e.g. "AMD EPYC 9654 96-Core Processor".
    public let cpuModel: String?

    /// Index into ``pus`` by OS index.
    let puIndexByOS: [Int: Int]

    /// Immutable after `init`; hwloc is reentrant for read-only use
    /// (binding calls do not modify the topology). Destroyed in `deinit`.
    let handle: OpaquePointer

    /// Loads a topology.
    ///
    /// - `.thisSystem`: hwloc's view of this machine restricted to the CPUs
    ///   this process may run on (its affinity mask, e.g. `taskset`, and the
    ///   cgroup cpuset); ``cpuQuota`` reports a cgroup bandwidth limit.
    /// - `.xmlFile(path)`: an export of another machine (hwloc 1.x or 2.x XML).
    /// - `.synthetic(desc)`: an hwloc synthetic description.
    ///
    /// - Throws: ``TopologyError/badXML(path:reason:)`` or
    ///   ``TopologyError/badSynthetic(description:reason:)`` naming what is
    ///   wrong with the input; ``TopologyError/hwloc(function:errno:context:)``
    ///   when hwloc cannot read this machine.
    public init(_ source: Source = .thisSystem) throws(TopologyError) {
        let t = try Self.openHandle(source)
        var ok = false
        defer { if !ok { hwloc_topology_destroy(t) } }

        self.source = source
        self.handle = t
        let thisSystem = source == .thisSystem && hwloc_topology_is_thissystem(t) != 0
        self.isThisSystem = thisSystem
        let snap = Snapshot(t)
        self.packages = snap.packages
        self.numaNodes = snap.numaNodes
        self.caches = snap.caches
        self.cores = snap.cores
        self.pus = snap.pus
        self.cpuKinds = snap.kinds
        self.numaDistances = snap.distances
        self.root = snap.root
        self.cpuModel = snap.cpuModel
        var puIndex: [Int: Int] = [:]
        for (i, pu) in snap.pus.enumerated() { puIndex[pu.osIndex] = i }
        self.puIndexByOS = puIndex

        let allPUs = CPUSet(snap.pus.map(\.osIndex))
        var allowed = CPUSet(hwlocBitmap: hwloc_topology_get_allowed_cpuset(t)).intersection(allPUs)
        if thisSystem {
            // Belt and braces: the load was already restricted to the
            // process binding, but intersect again in case hwloc ignored it.
            let bound = Bitmap()
            if hwloc_get_cpubind(t, bound.raw, Int32(bitPattern: HWLOC_CPUBIND_PROCESS.rawValue)) == 0 {
                let b = CPUSet(hwlocBitmap: bound.raw).intersection(allowed)
                if !b.isEmpty { allowed = b }
            }
            self.cpuQuota = CgroupLimits.cpuQuota()
        } else {
            self.cpuQuota = nil
        }
        self.allowedCPUs = allowed.isEmpty ? allPUs : allowed
        ok = true
    }

    /// Creates and loads the hwloc handle: the one place where load failures
    /// become typed errors.
    private static func openHandle(_ source: Source) throws(TopologyError) -> OpaquePointer {
        switch source {
        case .thisSystem:
            // Restrict to the process's CPU binding (taskset,
            // sched_setaffinity): hwloc alone only honours the cgroup cpuset.
            // IS_THISSYSTEM must accompany RESTRICT_TO_CPUBINDING (alone it
            // fails with EINVAL); if the restricted load fails anyway (an odd
            // container), fall back to a plain load, whose allowed set is
            // intersected with the binding in `init`.
            let flags = HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM.rawValue
                | HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING.rawValue
            if let t = try? load(source, flags: UInt(flags)) { return t }
            return try load(source, flags: 0)
        case .xmlFile(let path):
            var st = stat()
            if stat(path, &st) != 0 {
                throw .badXML(path: path, reason: String(cString: strerror(errno)))
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { throw .badXML(path: path, reason: "is a directory") }
            if (st.st_mode & S_IFMT) != S_IFREG { throw .badXML(path: path, reason: "not a regular file") }
            if st.st_size == 0 { throw .badXML(path: path, reason: "the file is empty") }
            if access(path, R_OK) != 0 {
                throw .badXML(path: path, reason: String(cString: strerror(errno)))
            }
            return try load(source, flags: 0)
        case .synthetic(let desc):
            if desc.trimmingASCIIWhitespace().isEmpty {
                throw .badSynthetic(description: desc, reason: "empty description")
            }
            return try load(source, flags: 0)
        }
    }

    private static func load(_ source: Source, flags: UInt) throws(TopologyError) -> OpaquePointer {
        var handle: OpaquePointer?
        guard hwloc_topology_init(&handle) == 0, let t = handle else {
            throw .hwloc(function: "hwloc_topology_init", errno: errno, context: "")
        }
        var ok = false
        defer { if !ok { hwloc_topology_destroy(t) } }
        if flags != 0, hwloc_topology_set_flags(t, flags) != 0 {
            throw .hwloc(function: "hwloc_topology_set_flags", errno: errno, context: "flags \(flags)")
        }
        // hwloc 2 drops instruction caches and memory-side caches by default;
        // keep them so the tree shows the whole machine (they change no count
        // and no placement). I/O objects stay off (they cost 8-10 ms a load).
        _ = hwloc_topology_set_icache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL)
        _ = hwloc_topology_set_type_filter(t, HWLOC_OBJ_MEMCACHE, HWLOC_TYPE_FILTER_KEEP_ALL)
        switch source {
        case .thisSystem:
            break
        case .xmlFile(let path):
            // hwloc parses the file here (and again checks it in load).
            if hwloc_topology_set_xml(t, path) != 0 {
                throw .badXML(path: path, reason: XMLDiagnosis.reason(path: path))
            }
        case .synthetic(let desc):
            if hwloc_topology_set_synthetic(t, desc) != 0 {
                throw .badSynthetic(description: desc, reason: SyntheticDiagnosis.reason(desc))
            }
        }
        if hwloc_topology_load(t) != 0 {
            let err = errno
            switch source {
            case .xmlFile(let p): throw .badXML(path: p, reason: XMLDiagnosis.reason(path: p))
            case .synthetic(let d): throw .badSynthetic(description: d, reason: SyntheticDiagnosis.reason(d))
            case .thisSystem: throw .hwloc(function: "hwloc_topology_load", errno: err, context: "this system")
            }
        }
        guard hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU) > 0 else {
            switch source {
            case .xmlFile(let p): throw .badXML(path: p, reason: "the topology has no PU")
            case .synthetic(let d): throw .badSynthetic(description: d, reason: "the topology has no PU")
            case .thisSystem: throw .hwloc(function: "hwloc_topology_load", errno: 0, context: "no PU found on this system")
            }
        }
        ok = true
        return t
    }

    deinit { hwloc_topology_destroy(handle) }

    /// The process-wide topology of this system, loaded on first use (a few
    /// milliseconds) and shared by every pool. When hwloc cannot read this
    /// machine, a flat synthetic stand-in with one core per online CPU is
    /// used instead, so a pool still runs (unbound: binding is refused).
    public static let shared: Topology = {
        if let t = try? Topology(.thisSystem) { return t }
        let n = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        // A synthetic description of n cores always loads.
        return try! Topology(.synthetic("pack:1 core:\(n) pu:1"))
    }()

    /// Counts as `hwloc-calc --number-of TYPE all` reports them (L2 and
    /// L3 count data and unified caches, not instruction caches).
    public var counts: TopologyCounts {
        TopologyCounts(
            packages: packages.count,
            numaNodes: numaNodes.count,
            l3: caches.filter { $0.level == 3 && $0.kind != .instruction }.count,
            l2: caches.filter { $0.level == 2 && $0.kind != .instruction }.count,
            cores: cores.filter { !$0.isInferred }.count,
            pus: pus.count,
            cpuKinds: cpuKinds.count
        )
    }

    /// CPUs usable for work: ``allowedCPUs``.
    public var usableCPUCount: Int { allowedCPUs.count }

    /// How many threads can run at once for this process: the allowed CPUs,
    /// capped by the cgroup quota (rounded up, at least 1).
    public var availableParallelism: Int {
        let n = allowedCPUs.count
        guard let q = cpuQuota else { return max(n, 1) }
        return max(1, min(n, Int(q.rounded(.up))))
    }

    /// The PU with OS index `os`, or `nil` when it is not in this topology.
    public func pu(osIndex os: Int) -> PU? { puIndexByOS[os].map { pus[$0] } }

    /// The OS index of the first NUMA node local to `cpu`, or `nil` when the
    /// CPU has no local node (an offline node) or is not in this topology.
    public func numaNode(ofCPU cpu: Int) -> Int? { pu(osIndex: cpu)?.numaNodes.first }

    /// The data or unified cache of `level` that `cpu` (an OS index) uses,
    /// or `nil` when there is none (KNL has no L3).
    public func cache(level: Int, coveringCPU cpu: Int) -> Cache? {
        caches.first { $0.level == level && $0.kind != .instruction && $0.cpus.contains(cpu) }
    }
}

// hwloc is "reentrant, not thread-safe": concurrent read-only traversal and
// binding calls are fine. All stored properties are `let` and the hwloc
// handle is never modified after `hwloc_topology_load`, so sharing is safe.
extension Topology: @unchecked Sendable {}
