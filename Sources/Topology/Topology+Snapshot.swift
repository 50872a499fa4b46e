import CHwloc
#if canImport(Glibc)
import Glibc
#endif

// The hwloc bridge: the only code that walks hwloc objects and bitmaps.
// Everything is copied out into value types while the handle is loaded.

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
struct Snapshot {
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
