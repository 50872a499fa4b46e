import Testing
@testable import Topology

/// The table of shared/topologies/README.md: packages, NUMA nodes, L3, L2,
/// cores, PUs, CPU kinds, and whether a NUMA distance matrix is present.
struct ExpectedCounts: Sendable, CustomTestStringConvertible {
    let fixture: Fixture
    let packages, numa, l3, l2, cores, pus, kinds: Int
    let distances: Bool

    var testDescription: String { fixture.rawValue }

    var counts: TopologyCounts {
        TopologyCounts(packages: packages, numaNodes: numa, l3: l3, l2: l2, cores: cores, pus: pus, cpuKinds: kinds)
    }

    static let table: [ExpectedCounts] = [
        .init(fixture: .genoa, packages: 2, numa: 1, l3: 24, l2: 192, cores: 192, pus: 384, kinds: 0, distances: false),
        .init(fixture: .snc2, packages: 2, numa: 4, l3: 2, l2: 40, cores: 40, pus: 80, kinds: 0, distances: true),
        .init(fixture: .knl, packages: 1, numa: 1, l3: 0, l2: 32, cores: 64, pus: 256, kinds: 0, distances: false),
        .init(fixture: .raptorLake, packages: 1, numa: 1, l3: 1, l2: 8, cores: 14, pus: 20, kinds: 2, distances: false),
        .init(fixture: .kunpeng, packages: 2, numa: 4, l3: 4, l2: 128, cores: 128, pus: 128, kinds: 1, distances: true),
        .init(fixture: .gb10, packages: 1, numa: 1, l3: 2, l2: 20, cores: 20, pus: 20, kinds: 5, distances: false),
        .init(fixture: .power7, packages: 64, numa: 8, l3: 64, l2: 64, cores: 64, pus: 256, kinds: 0, distances: true),
        .init(fixture: .haswellOffline, packages: 2, numa: 1, l3: 2, l2: 17, cores: 17, pus: 17, kinds: 0, distances: false),
        .init(fixture: .ciVM, packages: 1, numa: 1, l3: 1, l2: 2, cores: 2, pus: 2, kinds: 1, distances: false),
    ]
}

@Suite("Topology counts on every shared fixture")
struct TopologyCountsTests {
    @Test("every fixture file has a row in the table")
    func tableCoversEveryFixture() throws {
        let files = try FileManagerListing.xmlNames(in: Fixture.directory.path)
        #expect(Set(files) == Set(Fixture.allCases.map(\.rawValue)))
        #expect(Set(ExpectedCounts.table.map(\.fixture)) == Set(Fixture.allCases))
    }

    @Test("counts equal the topologies README table", arguments: ExpectedCounts.table)
    func countsMatchTable(_ e: ExpectedCounts) throws {
        let t = try e.fixture.load()
        #expect(t.counts == e.counts)
        #expect(t.packages.count == e.packages)
        #expect(t.numaNodes.count == e.numa)
        #expect(t.cores.count == e.cores)
        #expect(t.pus.count == e.pus)
        #expect(t.cpuKinds.count == e.kinds)
        #expect((t.numaDistances != nil) == e.distances)
        #expect(!t.isThisSystem)
        // Every PU is allowed in an XML topology, and logical indexes are dense.
        #expect(t.allowedCPUs == CPUSet(t.pus.map(\.osIndex)))
        #expect(t.pus.map(\.logicalIndex) == Array(0..<t.pus.count))
        #expect(t.cores.map(\.logicalIndex) == Array(0..<t.cores.count))
        // Each PU belongs to exactly one core, which lists it.
        for pu in t.pus { #expect(t.cores[pu.core].cpus.contains(pu.osIndex)) }
        #expect(t.cores.reduce(0) { $0 + $1.cpus.count } == t.pus.count)
    }

    @Test("counts agree with hwloc-calc --number-of (when hwloc-nox is installed)", arguments: ExpectedCounts.table)
    func countsAgreeWithHwlocCalc(_ e: ExpectedCounts) throws {
        let t = try e.fixture.load()
        let types: [(String, Int)] = [
            ("package", t.counts.packages), ("numanode", t.counts.numaNodes), ("l3cache", t.counts.l3),
            ("l2cache", t.counts.l2), ("core", t.counts.cores), ("pu", t.counts.pus),
        ]
        for (type, ours) in types {
            guard let out = runTool("hwloc-calc", ["-i", e.fixture.path, "--number-of", type, "all"]) else { return }
            // hwloc-calc prints nothing on stdout for a type the machine lacks (KNL has no L3).
            let theirs = Int(out.trimmingASCIIWhitespace()) ?? 0
            #expect(ours == theirs, "\(type): ours \(ours), hwloc-calc \(theirs)")
        }
    }

    @Test("NUMA distance matrices hold the README's values")
    func distanceValues() throws {
        let snc2 = try #require(try Fixture.snc2.load().numaDistances)
        #expect(Set(snc2.values.joined()) == [10, 11, 21])
        let kunpeng = try #require(try Fixture.kunpeng.load().numaDistances)
        // The README lists the first row (10/16/32/33); nodes 1 and 2 are 25 apart.
        #expect(Set(kunpeng.values.joined()) == [10, 16, 25, 32, 33])
        #expect(kunpeng.values[0] == [10, 16, 32, 33])
        let power7 = try #require(try Fixture.power7.load().numaDistances)
        #expect(Set(power7.values.joined()) == [10, 20, 40])
        #expect(power7.nodes.sorted() == [0, 1, 4, 5, 8, 9, 12, 13])
        for d in [snc2, kunpeng, power7] {
            for (i, n) in d.nodes.enumerated() {
                #expect(d.values[i][i] == 10)
                #expect(d.distance(from: n, to: n) == 10)
                for (j, m) in d.nodes.enumerated() {
                    #expect(d.values[i][j] == d.values[j][i])
                    #expect(d.distance(from: n, to: m) == d.values[i][j])
                }
            }
        }
        #expect(power7.distance(from: 2, to: 0) == nil)   // no node 2
    }
}

enum FileManagerListing {
    static func xmlNames(in dir: String) throws -> [String] {
        try Foundation.FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".xml") }
            .map { String($0.dropLast(4)) }
    }
}

import Foundation
