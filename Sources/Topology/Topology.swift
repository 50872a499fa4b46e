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

// MARK: - hwloc bridge

/// An owned hwloc bitmap, freed on deinit. Never leaves the module.
final class Bitmap {
    let raw: OpaquePointer
    init() { raw = hwloc_bitmap_alloc() }
    /// A bitmap of the same bits (a word at a time: `unsigned long` is 64
    /// bits on the 64-bit Linux targets this package builds for).
    init(_ set: CPUSet) {
        raw = hwloc_bitmap_alloc()
        let words = set.rawWords.map { UInt($0) }
        if !words.isEmpty { _ = hwloc_bitmap_from_ulongs(raw, UInt32(words.count), words) }
    }
    deinit { hwloc_bitmap_free(raw) }
}

extension CPUSet {
    /// Copies an hwloc bitmap a word at a time (NULL or infinite → empty).
    init(hwlocBitmap b: OpaquePointer?) {
        guard let b, hwloc_bitmap_weight(b) > 0 else {
            self.init()
            return
        }
        let n = Int(hwloc_bitmap_nr_ulongs(b))
        var words = [UInt](repeating: 0, count: Swift.max(n, 0))
        guard n > 0, hwloc_bitmap_to_ulongs(b, UInt32(n), &words) == 0 else {
            self.init()
            return
        }
        self.init(rawWords: words.map { UInt64($0) })
    }
}

/// Reads every value the rest of the code needs, once, at load time. The
/// only code that walks hwloc objects; nothing here outlives the handle.
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
        func packageIndex(_ o: hwloc_obj_t) -> Int? {
            hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, o).map { Int($0.pointee.logical_index) }
        }

        let pkgObjs = objs(HWLOC_OBJ_PACKAGE)
        packages = pkgObjs.map {
            Package(logicalIndex: Int($0.pointee.logical_index), osIndex: osIndex($0),
                    cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset))
        }
        // NUMA nodes are memory children, outside the CPU tree: a PU's local
        // nodes are the nodes whose cpuset holds it (none on a machine with
        // an offline node, see the Haswell fixture).
        numaNodes = objs(HWLOC_OBJ_NUMANODE).map {
            NUMANode(logicalIndex: Int($0.pointee.logical_index), osIndex: Int($0.pointee.os_index),
                     memoryBytes: $0.pointee.attr?.pointee.numanode.local_memory ?? 0,
                     cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset))
        }

        // Kinds: hwloc orders them from most power-efficient (index 0) to
        // most performant; `efficiency` is -1 when hwloc cannot rank them.
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

        cores = objs(HWLOC_OBJ_CORE).map {
            Core(logicalIndex: Int($0.pointee.logical_index), osIndex: osIndex($0),
                 package: packageIndex($0), cpus: CPUSet(hwlocBitmap: $0.pointee.cpuset), isInferred: false)
        }
        var kindOfCPU: [Int: Int] = [:]
        for k in kinds { for cpu in k.cpus { kindOfCPU[cpu] = k.rank } }
        var nodesOfCPU: [Int: [Int]] = [:]
        for n in numaNodes { for cpu in n.cpus { nodesOfCPU[cpu, default: []].append(n.osIndex) } }

        // PUs in logical order; a PU's SMT index is its rank among its core's
        // PUs in that order (0 = the first hardware thread).
        var inferredCores: [Core] = []
        var threadsSeen: [Int: Int] = [:]
        for o in objs(HWLOC_OBJ_PU) {
            let os = Int(o.pointee.os_index)
            let coreIndex: Int
            if let coreObj = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, o) {
                coreIndex = Int(coreObj.pointee.logical_index)
            } else {
                // No core level (some synthetic topologies): each PU stands
                // for its own core.
                coreIndex = cores.count + inferredCores.count
                inferredCores.append(Core(logicalIndex: coreIndex, osIndex: nil, package: packageIndex(o),
                                          cpus: [os], isInferred: true))
            }
            let smt = threadsSeen[coreIndex, default: 0]
            threadsSeen[coreIndex] = smt + 1
            pus.append(PU(logicalIndex: Int(o.pointee.logical_index), osIndex: os, core: coreIndex,
                          package: packageIndex(o), numaNodes: nodesOfCPU[os] ?? [],
                          kind: kindOfCPU[os], smtIndex: smt))
        }
        cores += inferredCores

        // CPU caches (memory-side caches are not CPU caches and only show in
        // the tree), with the cores that share each one.
        var coreOfCPU: [Int: Int] = [:]
        for p in pus { coreOfCPU[p.osIndex] = p.core }
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
                let cpus = CPUSet(hwlocBitmap: o.pointee.cpuset)
                let sharing = Set(cpus.compactMap { coreOfCPU[$0] }).sorted()
                caches.append(Cache(level: level, kind: kind, logicalIndex: Int(o.pointee.logical_index),
                                    sizeBytes: a.size, lineSize: Int(a.linesize), cpus: cpus, cores: sharing))
            }
        }

        distances = Snapshot.numaLatencies(t)

        let rootObj = hwloc_get_root_obj(t)!
        if let m = hwloc_obj_get_info_by_name(rootObj, "CPUModel") { cpuModel = String(cString: m) }
        if cpuModel == nil, let p = pkgObjs.first, let m = hwloc_obj_get_info_by_name(p, "CPUModel") {
            cpuModel = String(cString: m)
        }
        // CPUID pads the brand string with spaces.
        cpuModel = cpuModel?.trimmingASCIIWhitespace()
        if cpuModel?.isEmpty == true { cpuModel = nil }
        root = Snapshot.node(rootObj)
    }

    /// The first latency-like NUMA distance matrix, when the source has one.
    static func numaLatencies(_ t: OpaquePointer) -> NUMADistances? {
        let kindFlags = UInt(HWLOC_DISTANCES_KIND_MEANS_LATENCY.rawValue)
        var nr: UInt32 = 0
        guard hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &nr, nil, kindFlags, 0) == 0, nr > 0 else {
            return nil
        }
        var arr = [UnsafeMutablePointer<hwloc_distances_s>?](repeating: nil, count: Int(nr))
        var got = nr
        guard hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &got, &arr, kindFlags, 0) == 0 else { return nil }
        // On return `got` may exceed the array (matrices added meanwhile);
        // only the first `arr.count` were filled in.
        let filled = arr.prefix(Int(min(got, nr)))
        defer { for case let d? in filled { hwloc_distances_release(t, d) } }
        guard let first = filled.first, let d = first else { return nil }
        let n = Int(d.pointee.nbobjs)
        var nodes: [Int] = []
        for i in 0..<n {
            guard let o = d.pointee.objs[i] else { return nil }
            nodes.append(Int(o.pointee.os_index))
        }
        let values = (0..<n).map { i in (0..<n).map { j in d.pointee.values[i * n + j] } }
        return NUMADistances(nodes: nodes, values: values)
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
        let isCPUCache = hwloc_obj_type_is_cache(type) != 0
        var bytes: UInt64?
        var name = String(cString: hwloc_obj_type_string(type))
        if isCPUCache || type == HWLOC_OBJ_MEMCACHE, let attr = o.pointee.attr {
            bytes = attr.pointee.cache.size
        }
        if isCPUCache, let attr = o.pointee.attr {
            let a = attr.pointee.cache
            let suffix = a.type == HWLOC_OBJ_CACHE_DATA ? "d" : a.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "i" : ""
            name = "L\(a.depth)" + suffix
        }
        if type == HWLOC_OBJ_NUMANODE { bytes = o.pointee.attr?.pointee.numanode.local_memory ?? 0 }
        return TopologyNode(
            type: name,
            subtype: o.pointee.subtype.map { String(cString: $0) },
            logicalIndex: Int(o.pointee.logical_index),
            osIndex: o.pointee.os_index == UInt32.max ? nil : Int(o.pointee.os_index),
            cpus: CPUSet(hwlocBitmap: o.pointee.cpuset),
            bytes: bytes,
            memory: memory,
            children: children
        )
    }
}
