import CHwloc
import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// Thread binding and NUMA memory placement. Every call checks that the
/// topology describes this machine first: on XML or synthetic topologies
/// hwloc installs do-nothing hooks that report success.
extension Topology {
    /// Binds the calling thread to `cpus` (it may then run on any of them;
    /// pass one CPU to pin it).
    ///
    /// - Throws: ``TopologyError/notThisSystem(operation:source:)`` on an XML
    ///   or synthetic topology; ``TopologyError/emptySet(_:)`` for an empty
    ///   set; ``TopologyError/noSuchObject(_:)`` when `cpus` names a CPU
    ///   that is not a PU of this topology; ``TopologyError/hwloc(function:errno:context:)``
    ///   when the kernel refuses (e.g. a CPU outside the cgroup cpuset).
    ///
    /// The corresponding hwloc function is `hwloc_set_cpubind`.
    public func bindCurrentThread(to cpus: CPUSet) throws(TopologyError) {
        try requireThisSystem("bind a thread")
        guard !cpus.isEmpty else { throw .emptySet("CPU set to bind to") }
        let outside = cpus.filter { puIndexByOS[$0] == nil }
        guard outside.isEmpty else { throw .noSuchObject("CPUs \(CPUSet(outside)) are not in this topology") }
        try requireSupport("binding the current thread") { $0.cpubind.pointee.set_thisthread_cpubind }
        let b = Bitmap(cpus)
        if hwloc_set_cpubind(handle, b.raw, Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue)) != 0 {
            throw .hwloc(function: "hwloc_set_cpubind", errno: errno, context: "CPUs \(cpus)")
        }
    }

    /// The CPUs the calling thread is bound to.
    /// The corresponding hwloc function is `hwloc_get_cpubind`.
    public func currentThreadBinding() throws(TopologyError) -> CPUSet {
        try requireThisSystem("read a thread's binding")
        let b = Bitmap()
        if hwloc_get_cpubind(handle, b.raw, Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue)) != 0 {
            throw .hwloc(function: "hwloc_get_cpubind", errno: errno, context: "")
        }
        return CPUSet(hwlocBitmap: b.raw)
    }

    /// The CPU (OS index) the calling thread last ran on; with a thread
    /// bound to one set, always a member of it.
    /// The corresponding hwloc function is `hwloc_get_last_cpu_location`.
    public func currentCPU() throws(TopologyError) -> Int {
        try requireThisSystem("read the current CPU")
        try requireSupport("reading the current CPU") { $0.cpubind.pointee.get_thisthread_last_cpu_location }
        let b = Bitmap()
        if hwloc_get_last_cpu_location(handle, b.raw, Int32(bitPattern: HWLOC_CPUBIND_THREAD.rawValue)) != 0 {
            throw .hwloc(function: "hwloc_get_last_cpu_location", errno: errno, context: "")
        }
        guard let cpu = CPUSet(hwlocBitmap: b.raw).first else {
            throw .hwloc(function: "hwloc_get_last_cpu_location", errno: 0, context: "empty result")
        }
        return cpu
    }

    /// Allocates `bytes` of memory bound to the NUMA nodes `nodes` (OS
    /// indexes). Pages are not touched: they land on those nodes when first
    /// written (check with ``pagesPerNode(of:)``). Release with ``free(_:)``,
    /// never with the C `free`.
    ///
    /// - Throws: ``TopologyError/notThisSystem(operation:source:)`` on an XML
    ///   or synthetic topology; ``TopologyError/emptySet(_:)`` for no bytes
    ///   or no nodes; ``TopologyError/noSuchObject(_:)`` for an unknown node.
    ///
    /// The corresponding hwloc function is `hwloc_alloc_membind`.
    public func allocate(bytes: Int, onNodes nodes: [Int]) throws(TopologyError) -> UnsafeMutableRawBufferPointer {
        try requireThisSystem("place memory on NUMA nodes")
        guard bytes > 0 else { throw .emptySet("allocation of \(bytes) bytes") }
        let ns = try nodeBitmap(nodes)
        try requireSupport("allocating memory on NUMA nodes") { $0.membind.pointee.alloc_membind }
        let flags = Int32(bitPattern: HWLOC_MEMBIND_BYNODESET.rawValue)
        guard let p = hwloc_alloc_membind(handle, bytes, ns.raw, HWLOC_MEMBIND_BIND, flags) else {
            throw .hwloc(function: "hwloc_alloc_membind", errno: errno, context: "\(bytes) bytes on nodes \(nodes)")
        }
        return UnsafeMutableRawBufferPointer(start: p, count: bytes)
    }

    /// Releases memory from ``allocate(bytes:onNodes:)``.
    /// The corresponding hwloc function is `hwloc_free`.
    public func free(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let p = buffer.baseAddress else { return }
        _ = hwloc_free(handle, p, buffer.count)
    }

    /// Binds the calling thread's future allocations (first touch) to
    /// `nodes` (OS indexes).
    ///
    /// - Throws: as ``allocate(bytes:onNodes:)``.
    ///
    /// The corresponding hwloc function is `hwloc_set_membind`.
    public func bindCurrentThreadMemory(toNodes nodes: [Int]) throws(TopologyError) {
        try requireThisSystem("bind a thread's memory")
        let ns = try nodeBitmap(nodes)
        try requireSupport("binding a thread's memory") { $0.membind.pointee.set_thisthread_membind }
        let flags = Int32(bitPattern: HWLOC_MEMBIND_THREAD.rawValue | HWLOC_MEMBIND_BYNODESET.rawValue)
        if hwloc_set_membind(handle, ns.raw, HWLOC_MEMBIND_BIND, flags) != 0 {
            throw .hwloc(function: "hwloc_set_membind", errno: errno, context: "nodes \(nodes)")
        }
    }

    /// How many of the pages of `buffer` are resident on each NUMA node (OS
    /// index). Pages never touched are counted under `-1`. Asks the kernel
    /// (`move_pages(2)` in query mode) page by page, in batches.
    public func pagesPerNode(of buffer: UnsafeRawBufferPointer) throws(TopologyError) -> [Int: Int] {
        try requireThisSystem("locate memory pages")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [:] }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = Int(bitPattern: base) & ~(page - 1)
        let end = Int(bitPattern: base) + buffer.count
        let total = (end - first + page - 1) / page
        var counts: [Int: Int] = [:]
        let batch = 4096
        var pages = [UnsafeMutableRawPointer?](repeating: nil, count: batch)
        var status = [Int32](repeating: 0, count: batch)
        var done = 0
        while done < total {
            let n = min(batch, total - done)
            for i in 0..<n { pages[i] = UnsafeMutableRawPointer(bitPattern: first + (done + i) * page) }
            let rc = pages.withUnsafeMutableBufferPointer { p in
                status.withUnsafeMutableBufferPointer { s in mtj_query_page_nodes(UInt(n), p.baseAddress, s.baseAddress) }
            }
            if rc != 0 { throw .hwloc(function: "move_pages", errno: errno, context: "query \(n) pages") }
            for i in 0..<n { counts[status[i] >= 0 ? Int(status[i]) : -1, default: 0] += 1 }
            done += n
        }
        return counts
    }

    func requireThisSystem(_ op: String) throws(TopologyError) {
        guard isThisSystem else {
            // `.thisSystem` yet not this system: an environment variable
            // made hwloc load something else (hwloc-swift.md gotcha 3).
            let from = source == .thisSystem
                ? "hwloc's environment (HWLOC_XMLFILE, HWLOC_SYNTHETIC or HWLOC_FSROOT is set)"
                : source.description
            throw .notThisSystem(operation: op, source: from)
        }
    }

    /// Checks one of hwloc's support bits.
    func requireSupport(
        _ op: String, _ bit: (hwloc_topology_support) -> UInt8
    ) throws(TopologyError) {
        guard let s = hwloc_topology_get_support(handle), bit(s.pointee) != 0 else {
            throw .unsupported(operation: op)
        }
    }

    /// A nodeset of known NUMA node OS indexes.
    func nodeBitmap(_ nodes: [Int]) throws(TopologyError) -> Bitmap {
        guard !nodes.isEmpty else { throw .emptySet("NUMA node list") }
        let known = Set(numaNodes.map(\.osIndex))
        for n in nodes where !known.contains(n) { throw .noSuchObject("NUMA node \(n)") }
        return Bitmap(CPUSet(nodes))
    }
}
