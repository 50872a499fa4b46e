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

        public var description: String {
            switch self {
            case .thisSystem: return "this system"
            case .xmlFile(let p): return "XML file '\(p)'"
            case .synthetic(let d): return "synthetic description \"\(d)\""
            }
        }
    }

    public let source: Source
    /// Whether binding and memory placement act on this machine.
    public let isThisSystem: Bool
    public let packages: [Package]
    public let numaNodes: [NUMANode]
    /// All CPU caches, every level, in hwloc's logical order per level.
    public let caches: [Cache]
    public let cores: [Core]
    /// Every PU, in logical order.
    public let pus: [PU]
    /// CPU kinds ranked from most power-efficient (rank 0) upwards.
    public let cpuKinds: [CPUKind]
    public let numaDistances: NUMADistances?
    /// The PUs this process may use. For XML and synthetic sources, every PU.
    public let allowedCPUs: CPUSet
    /// The cgroup CPU bandwidth quota in CPUs (`cpu.max` = "200000 100000"
    /// → 2.0), or `nil` when unlimited or not this system.
    public let cpuQuota: Double?
    /// The object tree (for printing and placement).
    public let root: TopologyNode
    /// The machine's model string when hwloc knows it (`CPUModel`).
    public let cpuModel: String?

    /// Immutable after `init`; hwloc is reentrant for read-only use
    /// (binding calls do not modify the topology). Destroyed in `deinit`.
    let handle: OpaquePointer

    /// Loads a topology.
    public init(_ source: Source = .thisSystem) throws(TopologyError) {
        var t: OpaquePointer?
        guard hwloc_topology_init(&t) == 0, let t else {
            throw .hwloc(function: "hwloc_topology_init", errno: errno, context: "")
        }
        var ok = false
        defer { if !ok { hwloc_topology_destroy(t) } }

        switch source {
        case .thisSystem:
            // Restrict to the process's CPU binding (taskset, sched_setaffinity);
            // hwloc alone only honours the cgroup cpuset.
            let flags = HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM.rawValue
                | HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING.rawValue
            _ = hwloc_topology_set_flags(t, UInt(flags))
        case .xmlFile(let path):
            var st = stat()
            if stat(path, &st) != 0 {
                throw .badXML(path: path, reason: String(cString: strerror(errno)))
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { throw .badXML(path: path, reason: "is a directory") }
            if hwloc_topology_set_xml(t, path) != 0 {
                throw .badXML(path: path, reason: "hwloc rejected it (\(String(cString: strerror(errno))))")
            }
        case .synthetic(let desc):
            if desc.trimmingASCIIWhitespace().isEmpty {
                throw .badSynthetic(description: desc, reason: "empty description")
            }
            if hwloc_topology_set_synthetic(t, desc) != 0 {
                throw .badSynthetic(description: desc, reason: "hwloc could not parse it")
            }
        }
        if hwloc_topology_load(t) != 0 {
            switch source {
            case .xmlFile(let p): throw .badXML(path: p, reason: "not a valid hwloc XML topology")
            case .synthetic(let d): throw .badSynthetic(description: d, reason: "hwloc could not build it")
            case .thisSystem: throw .hwloc(function: "hwloc_topology_load", errno: errno, context: "this system")
            }
        }
        guard hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU) > 0 else {
            throw source == .thisSystem
                ? .hwloc(function: "hwloc_topology_load", errno: 0, context: "no PU found")
                : .badXML(path: "\(source)", reason: "the topology has no PU")
        }

        self.source = source
        self.handle = t
        let thisSystem = hwloc_topology_is_thissystem(t) != 0 && source == .thisSystem
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
        var allowed = CPUSet(hwlocBitmap: hwloc_topology_get_allowed_cpuset(t))
        if thisSystem {
            let bound = Bitmap()
            if hwloc_get_cpubind(t, bound.raw, Int32(bitPattern: HWLOC_CPUBIND_PROCESS.rawValue)) == 0 {
                let b = CPUSet(hwlocBitmap: bound.raw)
                if !b.intersection(allowed).isEmpty { allowed = b.intersection(allowed) }
            }
            self.cpuQuota = CgroupLimits.cpuQuota()
        } else {
            self.cpuQuota = nil
        }
        self.allowedCPUs = allowed.isEmpty ? CPUSet(snap.pus.map(\.osIndex)) : allowed
        ok = true
    }

    deinit { hwloc_topology_destroy(handle) }

    /// The process-wide topology of this system, loaded on first use. When
    /// hwloc cannot read this machine, a flat synthetic stand-in with one
    /// core per online CPU is used (binding is then refused).
    public static let shared: Topology = {
        if let t = try? Topology(.thisSystem) { return t }
        let n = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        // A synthetic description of n cores always loads.
        return try! Topology(.synthetic("pack:1 core:\(n) pu:1"))
    }()

    /// Counts as `hwloc-calc --number-of TYPE all` reports them.
    public var counts: TopologyCounts {
        TopologyCounts(
            packages: packages.count,
            numaNodes: numaNodes.count,
            l3: caches.filter { $0.level == 3 && $0.kind != .instruction }.count,
            l2: caches.filter { $0.level == 2 && $0.kind != .instruction }.count,
            cores: cores.count,
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

    /// The PU with OS index `os`.
    public func pu(osIndex os: Int) -> PU? { pus.first { $0.osIndex == os } }

    /// The NUMA node (OS index) local to `cpu`, or `nil` when none is.
    public func numaNode(ofCPU cpu: Int) -> Int? { pu(osIndex: cpu)?.numaNodes.first }

    /// Caches of `level` (data or unified) covering `cpu`.
    public func cache(level: Int, coveringCPU cpu: Int) -> Cache? {
        caches.first { $0.level == level && $0.kind != .instruction && $0.cpus.contains(cpu) }
    }
}

// hwloc is "reentrant, not thread-safe": concurrent read-only traversal and
// binding calls are fine. All stored properties are `let` and the hwloc
// handle is never modified after `hwloc_topology_load`, so sharing is safe.
extension Topology: @unchecked Sendable {}

// MARK: - hwloc bridge

/// An owned hwloc bitmap, freed on deinit. Never leaves the module.
final class Bitmap {
    let raw: OpaquePointer
    init() { raw = hwloc_bitmap_alloc() }
    init(_ set: CPUSet) {
        raw = hwloc_bitmap_alloc()
        for cpu in set { hwloc_bitmap_set(raw, UInt32(cpu)) }
    }
    deinit { hwloc_bitmap_free(raw) }
}

extension CPUSet {
    /// Copies an hwloc bitmap (NULL or infinite → empty).
    init(hwlocBitmap b: OpaquePointer?) {
        self.init()
        guard let b, hwloc_bitmap_weight(b) >= 0 else { return }
        var i = hwloc_bitmap_first(b)
        while i >= 0 {
            insert(Int(i))
            i = hwloc_bitmap_next(b, i)
        }
    }
}

/// Reads every value the rest of the code needs, once, at load time.
private struct Snapshot {
    var packages: [Package] = []
    var numaNodes: [NUMANode] = []
    var caches: [Cache] = []
    var cores: [Core] = []
    var pus: [PU] = []
    var kinds: [CPUKind] = []
    var distances: NUMADistances?
    var root: TopologyNode
    var cpuModel: String?

    init(_ t: OpaquePointer) {
        func objs(_ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
            var out: [hwloc_obj_t] = []
            var o = hwloc_get_next_obj_by_type(t, type, nil)
            while let cur = o {
                out.append(cur)
                o = hwloc_get_next_obj_by_type(t, type, cur)
            }
            return out
        }
        func osIndex(_ o: hwloc_obj_t) -> Int? {
            o.pointee.os_index == UInt32.max ? nil : Int(o.pointee.os_index)
        }

        let pkgObjs = objs(HWLOC_OBJ_PACKAGE)
        packages = pkgObjs.map {
            Package(logicalIndex: Int($0.pointee.logical_index), osIndex: osIndex($0),
                    cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset))
        }
        numaNodes = objs(HWLOC_OBJ_NUMANODE).map {
            NUMANode(logicalIndex: Int($0.pointee.logical_index), osIndex: Int($0.pointee.os_index),
                     memoryBytes: $0.pointee.attr?.pointee.numanode.local_memory ?? 0,
                     cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset))
        }
        let cacheTypes: [(hwloc_obj_type_t, Int, Cache.Kind)] = [
            (HWLOC_OBJ_L1CACHE, 1, .unified), (HWLOC_OBJ_L2CACHE, 2, .unified),
            (HWLOC_OBJ_L3CACHE, 3, .unified), (HWLOC_OBJ_L4CACHE, 4, .unified),
            (HWLOC_OBJ_L5CACHE, 5, .unified), (HWLOC_OBJ_L1ICACHE, 1, .instruction),
            (HWLOC_OBJ_L2ICACHE, 2, .instruction), (HWLOC_OBJ_L3ICACHE, 3, .instruction),
        ]
        for (type, level, defaultKind) in cacheTypes {
            for o in objs(type) {
                let a = o.pointee.attr.pointee.cache
                var kind = defaultKind
                if a.type == HWLOC_OBJ_CACHE_DATA { kind = .data }
                if a.type == HWLOC_OBJ_CACHE_INSTRUCTION { kind = .instruction }
                caches.append(Cache(level: level, kind: kind, logicalIndex: Int(o.pointee.logical_index),
                                    sizeBytes: a.size, lineSize: Int(a.linesize),
                                    cpus: CPUSet(hwlocBitmap: o.pointee.cpuset)))
            }
        }

        // Kinds: hwloc ranks them from most power-efficient (index 0) up.
        let nKinds = max(Int(hwloc_cpukinds_get_nr(t, 0)), 0)
        for k in 0..<nKinds {
            let set = Bitmap()
            var eff: Int32 = -1
            var nInfos: UInt32 = 0
            var infos: UnsafeMutablePointer<hwloc_info_s>?
            guard hwloc_cpukinds_get_info(t, UInt32(k), set.raw, &eff, &nInfos, &infos, 0) == 0 else { continue }
            var dict: [String: String] = [:]
            if let infos {
                for i in 0..<Int(nInfos) {
                    if let n = infos[i].name, let v = infos[i].value { dict[String(cString: n)] = String(cString: v) }
                }
            }
            kinds.append(CPUKind(rank: kinds.count, efficiency: Int(eff),
                                 cpus: CPUSet(hwlocBitmap: set.raw), infos: dict))
        }

        let coreObjs = objs(HWLOC_OBJ_CORE)
        func packageIndex(_ o: hwloc_obj_t) -> Int? {
            hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, o).map { Int($0.pointee.logical_index) }
        }
        cores = coreObjs.map {
            Core(logicalIndex: Int($0.pointee.logical_index), osIndex: osIndex($0),
                 package: packageIndex($0), cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset))
        }
        let puObjs = objs(HWLOC_OBJ_PU)
        var syntheticCores: [Core] = []
        for o in puObjs {
            let os = Int(o.pointee.os_index)
            let coreObj = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, o)
            var coreIndex: Int
            var smt = 0
            if let coreObj {
                coreIndex = Int(coreObj.pointee.logical_index)
                smt = Int(o.pointee.sibling_rank)
            } else {
                // No core level (some synthetic topologies): each PU is its own core.
                coreIndex = cores.count + syntheticCores.count
                syntheticCores.append(Core(logicalIndex: coreIndex, osIndex: nil, package: packageIndex(o),
                                           cpus: [os]))
            }
            let nodes = numaNodes.filter { $0.cpus.contains(os) }.map(\.osIndex)
            let kind = kinds.first { $0.cpus.contains(os) }?.rank
            pus.append(PU(logicalIndex: Int(o.pointee.logical_index), osIndex: os, core: coreIndex,
                          package: packageIndex(o), numaNodes: nodes, kind: kind, smtIndex: smt))
        }
        cores += syntheticCores

        // NUMA distances (latency-like), when the source has them.
        var nr: UInt32 = 0
        let kindFlags = HWLOC_DISTANCES_KIND_MEANS_LATENCY.rawValue
        if hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &nr, nil, UInt(kindFlags), 0) == 0, nr > 0 {
            var arr = [UnsafeMutablePointer<hwloc_distances_s>?](repeating: nil, count: Int(nr))
            var got = nr
            if hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &got, &arr, UInt(kindFlags), 0) == 0,
               got > 0, let d = arr[0] {
                let n = Int(d.pointee.nbobjs)
                let nodes = (0..<n).map { Int(d.pointee.objs[$0]!.pointee.os_index) }
                let values = (0..<n).map { i in (0..<n).map { j in d.pointee.values[i * n + j] } }
                distances = NUMADistances(nodes: nodes, values: values)
            }
            for case let d? in arr.prefix(Int(got)) { hwloc_distances_release(t, d) }
        }

        let rootObj = hwloc_get_root_obj(t)!
        if let m = hwloc_obj_get_info_by_name(rootObj, "CPUModel") { cpuModel = String(cString: m) }
        if cpuModel == nil, let p = pkgObjs.first, let m = hwloc_obj_get_info_by_name(p, "CPUModel") {
            cpuModel = String(cString: m)
        }
        root = Snapshot.node(rootObj)
    }

    static func node(_ o: hwloc_obj_t) -> TopologyNode {
        var children: [TopologyNode] = []
        var c = o.pointee.first_child
        while let cur = c {
            children.append(node(cur))
            c = cur.pointee.next_sibling
        }
        var memory: [TopologyNode] = []
        var m = o.pointee.memory_first_child
        while let cur = m {
            memory.append(node(cur))
            m = cur.pointee.next_sibling
        }
        let type = o.pointee.type
        var bytes: UInt64?
        if hwloc_obj_type_is_cache(type) != 0 { bytes = o.pointee.attr.pointee.cache.size }
        if type == HWLOC_OBJ_NUMANODE { bytes = o.pointee.attr?.pointee.numanode.local_memory ?? 0 }
        var name = String(cString: hwloc_obj_type_string(type))
        if hwloc_obj_type_is_cache(type) != 0 {
            let a = o.pointee.attr.pointee.cache
            name = "L\(a.depth)" + (a.type == HWLOC_OBJ_CACHE_DATA ? "d" : a.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "i" : "")
        }
        return TopologyNode(
            type: name,
            logicalIndex: Int(o.pointee.logical_index),
            osIndex: o.pointee.os_index == UInt32.max ? nil : Int(o.pointee.os_index),
            cpus: CPUSet(hwlocBitmap: o.pointee.cpuset),
            bytes: bytes,
            memory: memory,
            children: children
        )
    }
}
