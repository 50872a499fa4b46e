import Testing
@testable import Topology

/// The edge cases listed in shared/topologies/README.md: what a
/// topology-aware pool must not assume.
@Suite("Topology edge cases of the real-machine fixtures")
struct TopologyEdgeCaseTests {
    @Test("POWER7: NUMA OS indexes are sparse and kept as the kernel numbers them")
    func power7SparseNUMA() throws {
        let t = try Fixture.power7.load()
        #expect(t.numaNodes.map(\.osIndex).sorted() == [0, 1, 4, 5, 8, 9, 12, 13])
        #expect(t.numaNodes.map(\.logicalIndex) == Array(0..<8))
        // Every node holds 32 PUs, every PU has exactly one local node.
        for n in t.numaNodes { #expect(n.cpus.count == 32) }
        for pu in t.pus {
            #expect(pu.numaNodes.count == 1)
            #expect(t.numaNode(ofCPU: pu.osIndex) == pu.numaNodes.first)
        }
        // Groups at two depths do not confuse the walk: 64 single-core packages × SMT4.
        for core in t.cores { #expect(core.cpus.count == 4) }
        #expect(t.pus.map(\.smtIndex).filter { $0 == 3 }.count == 64)
    }

    @Test("Kunpeng 920: package OS indexes 36 and 8442, a NUMA node per L3")
    func kunpengPackageIndexes() throws {
        let t = try Fixture.kunpeng.load()
        #expect(t.packages.map(\.osIndex) == [36, 8442])
        #expect(t.packages.map(\.logicalIndex) == [0, 1])
        for pu in t.pus { #expect(pu.package == (pu.osIndex < 64 ? 0 : 1)) }
        let l3s = t.caches.filter { $0.level == 3 }
        #expect(l3s.count == 4)
        for (l3, node) in zip(l3s, t.numaNodes) {
            #expect(l3.cpus == node.cpus)
            #expect(l3.cores.count == 32)
            #expect(l3.sizeBytes == 32 << 20)
        }
        #expect(t.numaNodes.allSatisfy { $0.memoryBytes > 100 << 30 })
        #expect(t.cpuKinds.count == 1 && t.cpuKinds[0].cpus.count == 128)
    }

    @Test("Haswell with offline CPUs: socket 0's PUs have no local NUMA node")
    func haswellPUsWithoutNode() throws {
        let t = try Fixture.haswellOffline.load()
        #expect(t.pus.map(\.osIndex).sorted() == Array(4...20))
        #expect(t.numaNodes.map(\.osIndex) == [1])
        let socket0 = try CPUSet(parsing: "4-20:2")
        #expect(t.packages[0].cpus == socket0)
        #expect(t.packages[1].cpus == (try CPUSet(parsing: "5-19:2")))
        for pu in t.pus {
            if socket0.contains(pu.osIndex) {
                #expect(pu.numaNodes.isEmpty)
                #expect(t.numaNode(ofCPU: pu.osIndex) == nil)
            } else {
                #expect(pu.numaNodes == [1])
            }
        }
        #expect(t.numaNode(ofCPU: 0) == nil)   // offline CPU: not a PU at all
        #expect(t.pu(osIndex: 3) == nil)
        #expect(t.placementOrder().count == 17)
    }

    @Test("Genoa: SMT siblings are 192 apart and logical ≠ OS index")
    func genoaSiblingsFarApart() throws {
        let t = try Fixture.genoa.load()
        for core in t.cores {
            let cpus = core.cpus.indexes
            #expect(cpus.count == 2)
            #expect(cpus[1] == cpus[0] + 192)
        }
        #expect(t.pus[1].osIndex == 192)
        #expect(t.pus[1].smtIndex == 1 && t.pus[0].smtIndex == 0)
        #expect(t.pu(osIndex: 192)?.core == t.pu(osIndex: 0)?.core)
        #expect(t.packages[1].cpus == (try CPUSet(parsing: "96-191,288-383")))
        // A CPUID-only dump: one NUMA node with no memory size.
        #expect(t.numaNodes.count == 1 && t.numaNodes[0].memoryBytes == 0)
        #expect(t.cpuModel == "AMD EPYC 9654 96-Core Processor")
    }

    @Test("cache sharing: which PUs and cores share an L2 or an L3")
    func cacheSharing() throws {
        let genoa = try Fixture.genoa.load()
        let l3 = try #require(genoa.cache(level: 3, coveringCPU: 0))
        #expect(l3.cpus == (try CPUSet(parsing: "0-7,192-199")))
        #expect(l3.cores == Array(0..<8))
        #expect(l3.sizeBytes == 32 << 20)
        #expect(genoa.cache(level: 3, coveringCPU: 199) == l3)
        #expect(genoa.cache(level: 3, coveringCPU: 8) != l3)
        let l2 = try #require(genoa.cache(level: 2, coveringCPU: 5))
        #expect(l2.cpus == [5, 197] && l2.cores.count == 1 && l2.sizeBytes == 1 << 20)
        let l1 = try #require(genoa.cache(level: 1, coveringCPU: 5))
        #expect(l1.kind == .data)
        #expect(genoa.caches.contains { $0.level == 1 && $0.kind == .instruction })

        let rpl = try Fixture.raptorLake.load()
        #expect(rpl.cache(level: 2, coveringCPU: 0)?.cpus == [0, 1])       // P-core: private L2, 2 threads
        #expect(rpl.cache(level: 2, coveringCPU: 13)?.cpus == (try CPUSet(parsing: "12-15")))   // E cluster
        #expect(rpl.cache(level: 2, coveringCPU: 13)?.cores.count == 4)
        #expect(rpl.cache(level: 3, coveringCPU: 19)?.cpus == CPUSet(first: 20))

        let gb10 = try Fixture.gb10.load()
        #expect(gb10.cache(level: 3, coveringCPU: 3)?.cpus == CPUSet(0..<10))
        #expect(gb10.cache(level: 3, coveringCPU: 10)?.cpus == CPUSet(10..<20))
        #expect(gb10.cache(level: 3, coveringCPU: 20) == nil)
    }

    @Test("KNL: no L3 at all, L2 shared by a 2-core tile, SMT4 siblings 64 apart")
    func knlNoL3() throws {
        let t = try Fixture.knl.load()
        #expect(!t.caches.contains { $0.level == 3 })
        #expect(t.cache(level: 3, coveringCPU: 0) == nil)
        let l2 = try #require(t.cache(level: 2, coveringCPU: 0))
        #expect(l2.cpus == [0, 1, 64, 65, 128, 129, 192, 193])
        #expect(l2.cores == [0, 1])
        #expect(t.cores[0].cpus == [0, 64, 128, 192])
        #expect(t.pu(osIndex: 192)?.smtIndex == 3)
    }

    @Test("Raptor Lake: 2 kinds ranked E (efficient) then P (performant)")
    func raptorLakeKinds() throws {
        let t = try Fixture.raptorLake.load()
        #expect(t.cpuKinds.map(\.rank) == [0, 1])
        #expect(t.cpuKinds[0].cpus == (try CPUSet(parsing: "12-19")))
        #expect(t.cpuKinds[1].cpus == (try CPUSet(parsing: "0-11")))
        #expect(t.cpuKinds[0].efficiency < t.cpuKinds[1].efficiency)
        #expect(t.cpuKinds[1].infos["FrequencyMaxMHz"] == "5000")
        for pu in t.pus { #expect(pu.kind == (pu.osIndex < 12 ? 1 : 0)) }
    }

    @Test("GB10: 5 kinds (hwloc 2.9 has no MIDR support), ranked by efficiency")
    func gb10FiveKinds() throws {
        let t = try Fixture.gb10.load()
        #expect(t.cpuKinds.count == 5)
        #expect(t.cpuKinds.map(\.efficiency) == [0, 1, 2, 3, 4])
        #expect(t.cpuKinds.map(\.cpus) == [
            try CPUSet(parsing: "0-4"), try CPUSet(parsing: "10-14"), try CPUSet(parsing: "5-9"),
            try CPUSet(parsing: "15-18"), [19],
        ])
        // The kinds partition the PUs.
        #expect(t.cpuKinds.reduce(CPUSet()) { $0.union($1.cpus) } == t.allowedCPUs)
        #expect(t.cpuKinds.reduce(0) { $0 + $1.cpus.count } == 20)
        #expect(t.pu(osIndex: 19)?.kind == 4)
    }

    @Test("SNC2: PUs interleaved across 4 NUMA nodes behind memory-side caches")
    func snc2Interleaving() throws {
        let t = try Fixture.snc2.load()
        #expect(t.numaNodes.map(\.osIndex) == [0, 2, 1, 3])
        #expect(t.numaNodes[0].cpus == (try CPUSet(parsing: "0-79:4")))
        #expect(t.pus[1].osIndex == 40)
        for pu in t.pus { #expect(pu.numaNodes == [[0, 1, 2, 3][pu.osIndex % 4]]) }
        #expect(t.packages[0].cpus == (try CPUSet(parsing: "0-78:2")))
        // Memory-side caches are not CPU caches, but the tree shows them.
        #expect(t.caches.allSatisfy { $0.level <= 3 })
        #expect(Self.types(in: t.root).contains("MemCache"))
    }

    @Test("the tree holds every PU once, NUMA nodes as memory children")
    func treeIsComplete() throws {
        for f in Fixture.allCases {
            let t = try f.load()
            var pus: [Int] = []
            var nodes: [Int] = []
            func walk(_ n: TopologyNode) {
                if n.type == "PU", let os = n.osIndex { pus.append(os) }
                if n.type == "NUMANode", let os = n.osIndex { nodes.append(os) }
                n.memory.forEach(walk)
                n.children.forEach(walk)
            }
            walk(t.root)
            #expect(pus.sorted() == t.pus.map(\.osIndex).sorted(), "\(f)")
            #expect(nodes.sorted() == t.numaNodes.map(\.osIndex).sorted(), "\(f)")
            #expect(t.root.type == "Machine")
        }
    }

    static func types(in node: TopologyNode) -> Set<String> {
        var s: Set<String> = [node.type]
        for c in node.children + node.memory { s.formUnion(types(in: c)) }
        return s
    }
}
