import Testing
@testable import Topology

/// A synthetic description and the counts hwloc-calc reports for it.
struct SyntheticShape: Sendable, CustomTestStringConvertible {
    let description: String
    let counts: TopologyCounts
    var testDescription: String { description }

    init(_ d: String, packages: Int, numa: Int, l3: Int, l2: Int, cores: Int, pus: Int) {
        description = d
        counts = TopologyCounts(packages: packages, numaNodes: numa, l3: l3, l2: l2, cores: cores, pus: pus, cpuKinds: 0)
    }

    static let shapes: [SyntheticShape] = [
        // hwloc-swift.md gotcha 9: numa as a level adds a Group per node.
        .init("pack:2 numa:4 l3:2 core:8 pu:2", packages: 2, numa: 8, l3: 16, l2: 0, cores: 128, pus: 256),
        .init("pack:2 [numa(memory=64GiB)] l3:4(size=32MiB) core:4 pu:2",
              packages: 2, numa: 2, l3: 8, l2: 0, cores: 32, pus: 64),
        // NPS4-like (Zen 4 with 4 nodes per socket).
        .init("pack:2 group:4 [numa(memory=64GiB)] l3:2(size=32MiB) l2:8(size=512KiB) core:1 pu:2",
              packages: 2, numa: 8, l3: 16, l2: 128, cores: 128, pus: 256),
        // SPR SNC4-like.
        .init("pack:2 [numa] group:4 [numa] l3:1 l2:14 core:1 pu:2", packages: 2, numa: 10, l3: 8, l2: 112, cores: 112, pus: 224),
        // Genoa-like, with the real sibling numbering.
        .init("[numa] pack:2 l3:4 core:2 pu:2(indexes=2*16:1*2)", packages: 2, numa: 1, l3: 8, l2: 0, cores: 16, pus: 32),
        .init("pack:2 numa:2 core:4 pu:1", packages: 2, numa: 4, l3: 0, l2: 0, cores: 16, pus: 16),
        // No cache level, no core level, no package level.
        .init("pack:2 core:4 pu:2", packages: 2, numa: 1, l3: 0, l2: 0, cores: 8, pus: 16),
        .init("pack:2 pu:4", packages: 2, numa: 1, l3: 0, l2: 0, cores: 0, pus: 8),
        .init("pu:3", packages: 0, numa: 1, l3: 0, l2: 0, cores: 0, pus: 3),
        .init("4 2", packages: 0, numa: 4, l3: 0, l2: 0, cores: 0, pus: 8),
        .init("core:1 pu:1", packages: 0, numa: 1, l3: 0, l2: 0, cores: 1, pus: 1),
    ]
}

@Suite("Synthetic topologies")
struct SyntheticTopologyTests {
    @Test("counts of synthetic shapes", arguments: SyntheticShape.shapes)
    func counts(_ shape: SyntheticShape) throws {
        let t = try Topology(.synthetic(shape.description))
        #expect(t.counts == shape.counts)
        #expect(!t.isThisSystem)
        #expect(t.allowedCPUs.count == shape.counts.pus)
        // Without a core level each PU stands for a core of its own.
        #expect(t.cores.count == (shape.counts.cores == 0 ? shape.counts.pus : shape.counts.cores))
        #expect(Set(t.pus.map(\.core)).count == t.cores.count)
        #expect(t.placementOrder().sorted() == t.allowedCPUs.indexes)
        #expect(t.numaDistances == nil)
    }

    @Test("counts agree with hwloc-calc (when installed)", arguments: SyntheticShape.shapes)
    func agreeWithHwlocCalc(_ shape: SyntheticShape) throws {
        let t = try Topology(.synthetic(shape.description))
        for (type, ours) in [("package", t.counts.packages), ("numanode", t.counts.numaNodes),
                             ("l3cache", t.counts.l3), ("l2cache", t.counts.l2), ("core", t.counts.cores),
                             ("pu", t.counts.pus)] {
            guard let out = runTool("hwloc-calc", ["-i", shape.description, "--number-of", type, "all"]) else { return }
            #expect(ours == (Int(out.trimmingASCIIWhitespace()) ?? 0), "\(type)")
        }
    }

    /// The synthetic equivalents printed by `lstopo-no-graphics -i F --of synthetic`
    /// (shared/topologies/README.md) for the symmetric fixtures.
    static let equivalents: [(Fixture, String)] = [
        (.genoa, "[NUMANode] Package:2 L3Cache:12(size=33554432) L2Cache:8(size=1048576) L1dCache:1(size=32768) "
            + "L1iCache:1(size=32768) Core:1 PU:2(indexes=2*192:1*2)"),
        (.kunpeng, "Package:2 L3Cache:2(size=33554432) [NUMANode(memory=134894530560)] Group:8 L2Cache:4(size=524288) "
            + "L1dCache:1(size=65536) L1iCache:1(size=65536) Core:1 PU:1"),
        // The topologies README prints L1dCache:1 here, a typo: lstopo says 2 (two cores per L2 tile).
        (.knl, "Package:1 [NUMANode] L2Cache:32(size=1048576) L1dCache:2(size=32768) L1iCache:1(size=32768) "
            + "Core:1 PU:4(indexes=4*64:1*4)"),
        (.power7, "Group:4 Group:2 [NUMANode(memory=59861106688 indexes=0,1,4,5,8,9,12,13)] Package:8 "
            + "L3Cache:1(size=4194304) L2Cache:1(size=262144) L1dCache:1(size=32768) L1iCache:1(size=32768) Core:1 PU:4"),
    ]

    @Test("a fixture's synthetic equivalent has its counts, cores, caches and placement order",
          arguments: equivalents.map(\.0))
    func syntheticEquivalent(_ f: Fixture) throws {
        let desc = try #require(Self.equivalents.first { $0.0 == f }?.1)
        let real = try f.load()
        let synth = try Topology(.synthetic(desc))
        let (a, b) = (real.counts, synth.counts)
        #expect(TopologyCounts(packages: a.packages, numaNodes: a.numaNodes, l3: a.l3, l2: a.l2, cores: a.cores,
                               pus: a.pus, cpuKinds: 0) == b)
        #expect(synth.cores.map(\.cpus) == real.cores.map(\.cpus))
        #expect(synth.numaNodes.map(\.osIndex) == real.numaNodes.map(\.osIndex))
        #expect(synth.numaNodes.map(\.cpus) == real.numaNodes.map(\.cpus))
        #expect(synth.caches.filter { $0.level >= 2 }.map(\.cpus) == real.caches.filter { $0.level >= 2 }.map(\.cpus))
        #expect(synth.placementOrder() == real.placementOrder())
    }

    @Test("sizes from attributes: binary suffixes, defaults, NUMA memory")
    func sizes() throws {
        let t = try Topology(.synthetic("pack:2 [numa(memory=64GiB)] l3:4(size=32MiB) l2:2(size=512KiB) core:1 pu:2"))
        #expect(t.numaNodes.map(\.memoryBytes) == [64 << 30, 64 << 30])
        #expect(t.caches.filter { $0.level == 3 }.allSatisfy { $0.sizeBytes == 32 << 20 && $0.cores.count == 2 })
        #expect(t.caches.filter { $0.level == 2 }.allSatisfy { $0.sizeBytes == 512 << 10 && $0.cores.count == 1 })
        // Decimal suffix = powers of 10; no size = hwloc's default (L3 16 MiB).
        let d = try Topology(.synthetic("pack:1 l3:1(size=32MB) l2:2 core:1 pu:1"))
        #expect(d.caches.first { $0.level == 3 }?.sizeBytes == 32_000_000)
        #expect(d.caches.first { $0.level == 2 }?.sizeBytes == 4 << 20)
        // A node from a numa:N level gets 1 GiB, from [numa] without memory= 0.
        #expect(try Topology(.synthetic("numa:2 pu:1")).numaNodes.map(\.memoryBytes) == [1 << 30, 1 << 30])
    }

    @Test("sibling numbering from indexes=: SMT sibling = PU + 16")
    func siblingIndexes() throws {
        let t = try Topology(.synthetic("[numa] pack:2 l3:4 core:2 pu:2(indexes=2*16:1*2)"))
        for core in t.cores { #expect(core.cpus.indexes.count == 2 && core.cpus.indexes[1] == core.cpus.indexes[0] + 16) }
        let order = t.placementOrder()
        #expect(order.prefix(16).allSatisfy { $0 < 16 })
        #expect(order.suffix(16).allSatisfy { $0 >= 16 })
    }

    @Test("no core level: PUs are their own inferred cores")
    func noCoreLevel() throws {
        let t = try Topology(.synthetic("pack:2 pu:4"))
        #expect(t.cores.count == 8 && t.cores.allSatisfy(\.isInferred))
        #expect(t.pus.allSatisfy { $0.smtIndex == 0 })
        #expect(t.pus.map(\.package) == [0, 0, 0, 0, 1, 1, 1, 1])
        #expect(Array(t.placementOrder().prefix(2)) == [0, 4])
        #expect(t.counts.cores == 0)
    }
}
