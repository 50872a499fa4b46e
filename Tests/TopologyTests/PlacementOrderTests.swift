import Testing
@testable import Topology

@Suite("Placement order")
struct PlacementOrderTests {
    @Test("every PU exactly once, first threads before SMT siblings, deterministic", arguments: Fixture.allCases)
    func permutation(_ f: Fixture) throws {
        let t = try f.load()
        let order = t.placementOrder()
        #expect(order.count == t.pus.count)
        #expect(CPUSet(order) == t.allowedCPUs)
        let smt = order.map { t.pu(osIndex: $0)!.smtIndex }
        #expect(smt == smt.sorted())
        // All first threads come first: as many as there are cores.
        #expect(smt.filter { $0 == 0 }.count == t.cores.count)
        #expect(Set(order.prefix(t.cores.count).map { t.pu(osIndex: $0)!.core }).count == t.cores.count)
        #expect(t.placementOrder() == order)
        #expect(try f.load().placementOrder() == order)
    }

    @Test("Genoa: the first 2 workers on different packages, the first 192 on distinct cores, then siblings")
    func genoa() throws {
        let t = try Fixture.genoa.load()
        let order = t.placementOrder()
        #expect(order[0] == 0 && order[1] == 96)
        #expect(t.pu(osIndex: order[0])!.package != t.pu(osIndex: order[1])!.package)
        #expect(Set(order.prefix(192).map { t.pu(osIndex: $0)!.core }).count == 192)
        #expect(order.prefix(192).allSatisfy { $0 < 192 })
        #expect(order.suffix(192).allSatisfy { $0 >= 192 })
        // The first 24 workers land on the 24 different L3s (CCDs).
        let l3s = order.prefix(24).map { t.cache(level: 3, coveringCPU: $0)!.logicalIndex }
        #expect(Set(l3s).count == 24)
        // Packages alternate.
        let packages = order.prefix(192).map { t.pu(osIndex: $0)!.package! }
        #expect(zip(packages, packages.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test("Cascade Lake SNC2: the first 4 workers on the 4 NUMA nodes")
    func snc2() throws {
        let t = try Fixture.snc2.load()
        let order = t.placementOrder()
        #expect(Set(order.prefix(4).map { t.numaNode(ofCPU: $0)! }) == [0, 1, 2, 3])
        #expect(Set(order.prefix(2).map { t.pu(osIndex: $0)!.package! }) == [0, 1])
        // Each round of 4 covers the 4 nodes again.
        for round in stride(from: 0, to: 40, by: 4) {
            #expect(Set(order[round..<round + 4].map { t.numaNode(ofCPU: $0)! }).count == 4)
        }
    }

    @Test("Raptor Lake: P-cores' first threads, then E-cores, then P siblings")
    func raptorLake() throws {
        let t = try Fixture.raptorLake.load()
        let order = t.placementOrder()
        #expect(CPUSet(order[0..<6]) == [0, 2, 4, 6, 8, 10])
        #expect(CPUSet(order[6..<14]) == CPUSet(12...19))
        #expect(CPUSet(order[14..<20]) == [1, 3, 5, 7, 9, 11])
        // The E-cores alternate between the two 4-core clusters (L2s).
        let l2 = order[6..<14].map { t.cache(level: 2, coveringCPU: $0)!.logicalIndex }
        #expect(zip(l2, l2.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test("GB10: faster kinds first, over all 5 kinds")
    func gb10() throws {
        let t = try Fixture.gb10.load()
        let kinds = t.placementOrder().map { t.pu(osIndex: $0)!.kind! }
        #expect(kinds == kinds.sorted(by: >))
        #expect(kinds.first == 4)
    }

    @Test("POWER7: the first 8 workers on the 8 NUMA nodes, the first 64 on 64 packages")
    func power7() throws {
        let t = try Fixture.power7.load()
        let order = t.placementOrder()
        #expect(Set(order.prefix(8).map { t.numaNode(ofCPU: $0)! }) == [0, 1, 4, 5, 8, 9, 12, 13])
        #expect(Set(order.prefix(64).map { t.pu(osIndex: $0)!.package! }).count == 64)
        // The 4 top-level groups take the first 4 workers.
        #expect(Set(order.prefix(4).map { t.numaNode(ofCPU: $0)! }).count == 4)
    }

    @Test("Kunpeng: packages, then NUMA nodes, then 4-core clusters")
    func kunpeng() throws {
        let t = try Fixture.kunpeng.load()
        let order = t.placementOrder()
        #expect(Set(order.prefix(2).map { t.pu(osIndex: $0)!.package! }) == [0, 1])
        #expect(Set(order.prefix(4).map { t.numaNode(ofCPU: $0)! }).count == 4)
        // Clusters are 4 consecutive cores; the first 32 workers use all 32 clusters.
        #expect(Set(order.prefix(32).map { t.pu(osIndex: $0)!.core / 4 }).count == 32)
    }

    @Test("KNL: one worker per 2-core tile first, all 64 cores before any sibling")
    func knl() throws {
        let t = try Fixture.knl.load()
        let order = t.placementOrder()
        #expect(Set(order.prefix(32).map { t.cache(level: 2, coveringCPU: $0)!.logicalIndex }).count == 32)
        #expect(order.prefix(64).allSatisfy { $0 < 64 })
    }

    @Test("Haswell with offline CPUs: the first 2 workers on the 2 packages")
    func haswell() throws {
        let t = try Fixture.haswellOffline.load()
        let order = t.placementOrder()
        #expect(Set(order.prefix(2).map { t.pu(osIndex: $0)!.package! }) == [0, 1])
    }

    @Test("restricted sets: only their PUs, spread over their own subtrees")
    func restricted() throws {
        let genoa = try Fixture.genoa.load()
        let pkg1 = genoa.packages[1].cpus
        let order = genoa.placementOrder(within: pkg1)
        #expect(CPUSet(order) == pkg1 && order.count == 192)
        #expect(Set(order.prefix(12).map { genoa.cache(level: 3, coveringCPU: $0)!.logicalIndex }).count == 12)
        #expect(Set(order.prefix(96).map { genoa.pu(osIndex: $0)!.core }).count == 96)
        #expect(genoa.placementOrder(within: [0, 192]) == [0, 192])
        #expect(genoa.placementOrder(within: [192, 0]) == [0, 192])
        #expect(genoa.placementOrder(within: [192]) == [192])
        #expect(genoa.placementOrder(within: CPUSet()) == [])
        // CPUs that are not PUs of the topology are ignored.
        #expect(genoa.placementOrder(within: [5, 5000]) == [5])

        let snc2 = try Fixture.snc2.load()
        let order2 = snc2.placementOrder(within: snc2.packages[0].cpus)
        #expect(Set(order2.prefix(2).map { snc2.numaNode(ofCPU: $0)! }).count == 2)
        // Two NUMA nodes on different packages: alternate between them.
        let two = snc2.numaNodes[0].cpus.union(snc2.numaNodes[3].cpus)
        let nodes = snc2.placementOrder(within: two).prefix(20).map { snc2.numaNode(ofCPU: $0)! }
        #expect(zip(nodes, nodes.dropFirst()).allSatisfy { $0 != $1 })

        let rpl = try Fixture.raptorLake.load()
        // SMT rounds count within the set: a P-core's second thread whose
        // first is outside the set has the core to itself.
        #expect(rpl.placementOrder(within: [1, 12, 13]) == [1, 12, 13])
        #expect(rpl.placementOrder(within: [0, 1, 12]) == [0, 12, 1])
        #expect(rpl.placementOrder(within: [3, 1]) == [1, 3])
    }

    @Test("every restriction of a small machine to a subset gives that subset once, exhaustively")
    func restrictedExhaustive() throws {
        let t = try Topology(.synthetic("pack:2 l3:2 core:2 pu:2"))   // 16 PUs
        let all = t.pus.map(\.osIndex)
        for bits in stride(from: 0, to: 1 << 16, by: 37) {
            let set = CPUSet(all.enumerated().filter { bits & (1 << $0.offset) != 0 }.map(\.element))
            let order = t.placementOrder(within: set)
            #expect(order.count == set.count && CPUSet(order) == set)
        }
    }
}
