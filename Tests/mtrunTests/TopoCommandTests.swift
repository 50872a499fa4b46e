import Foundation
import Testing

/// `mtrun topo` runs of the built binary (through the hash tests' ``MTRunBinary``).
enum Topo {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TopologyTests/Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name + ".xml").path }

    /// Runs `mtrun ARGS`, optionally under `prefix` (e.g. `taskset -c 0`).
    static func run(_ arguments: [String], prefix: [String] = []) -> Result {
        let o = prefix.isEmpty
            ? MTRunBinary.mtrun(bytesArgs(arguments))
            : MTRunBinary.run(bytesArgs(prefix) + [MTRunBinary.path] + bytesArgs(arguments))
        return Result(status: o.status, stdout: o.out, stderr: o.err)
    }

    /// Runs `mtrun topo --json …` and decodes the object.
    static func json(_ arguments: [String], prefix: [String] = []) throws -> [String: Any] {
        let r = run(["topo", "--json"] + arguments, prefix: prefix)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try #require(object as? [String: Any])
    }
}

@Suite("mtrun topo")
struct TopoCommandTests {
    static let expected: [String: [String: Int]] = [
        "amd-epyc9654-genoa-2s-384pu":
            ["packages": 2, "numa_nodes": 1, "l3": 24, "l2": 192, "cores": 192, "pus": 384, "cpukinds": 0],
        "arm-kunpeng920-2s-128c-4numa":
            ["packages": 2, "numa_nodes": 4, "l3": 4, "l2": 128, "cores": 128, "pus": 128, "cpukinds": 1],
        "intel-i7-1370p-raptorlake-hybrid":
            ["packages": 1, "numa_nodes": 1, "l3": 1, "l2": 8, "cores": 14, "pus": 20, "cpukinds": 2],
    ]

    @Test("--json counts, tree and placement of XML fixtures", arguments: expected.keys.sorted())
    func jsonCounts(_ name: String) throws {
        let counts = try #require(Self.expected[name])
        let j = try Topo.json(["--xml", Topo.fixture(name)])
        #expect(j["counts"] as? [String: Int] == counts)
        let placement = try #require(j["placement"] as? [Int])
        #expect(placement.sorted() == Array(0..<counts["pus"]!))
        let tree = try #require(j["tree"] as? [String: Any])
        #expect(tree["type"] as? String == "Machine")
        #expect(j["allowed_cpus"] as? String == "0-\(counts["pus"]! - 1)")
        #expect(j["is_this_system"] as? Bool == false)
        #expect((j["cpu_kinds"] as? [Any])?.count == counts["cpukinds"])
        #expect(j.keys.contains("numa_distances") && j.keys.contains("cpu_quota"))
        if name.hasPrefix("amd") { #expect(Array(placement.prefix(4)) == [0, 96, 8, 104]) }
        if name.hasPrefix("intel-i7") { #expect(Set(placement.prefix(6)) == [0, 2, 4, 6, 8, 10]) }
        if name.hasPrefix("arm-kunpeng") { #expect((j["numa_distances"] as? [String: Any])?["nodes"] as? [Int] == [0, 1, 2, 3]) }
    }

    @Test("--json on a synthetic description and with --plan")
    func syntheticJSON() throws {
        let j = try Topo.json(["--synthetic", "pack:2 [numa] l3:2 core:4 pu:2", "--plan", "3"])
        #expect(j["counts"] as? [String: Int]
            == ["packages": 2, "numa_nodes": 2, "l3": 4, "l2": 0, "cores": 16, "pus": 32, "cpukinds": 0])
        let placement = try #require(j["placement"] as? [Int])
        #expect(j["plan"] as? [Int] == Array(placement.prefix(3)))
    }

    @Test("this machine: placement covers exactly the allowed CPUs")
    func thisSystem() throws {
        let j = try Topo.json([])
        #expect(j["is_this_system"] as? Bool == true)
        let allowed = try #require(j["allowed_cpus"] as? String)
        let placement = try #require(j["placement"] as? [Int])
        #expect(placement.count == (j["counts"] as? [String: Int])?["pus"])
        #expect(!allowed.isEmpty && !placement.isEmpty)
    }

    @Test("under taskset -c CPU the topology is restricted to that CPU")
    func taskset() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        // The last CPU this process may use (CPU 0 may not be allowed here).
        let cpu = try #require((try Topo.json([]))["placement"] as? [Int]).max()!
        let j = try Topo.json([], prefix: ["/usr/bin/taskset", "-c", "\(cpu)"])
        #expect(j["allowed_cpus"] as? String == "\(cpu)")
        #expect(j["placement"] as? [Int] == [cpu])
        #expect(j["available_parallelism"] as? Int == 1)
        #expect((j["counts"] as? [String: Int])?["pus"] == 1)
    }

    @Test("HWLOC_XMLFILE in the environment replaces this system: reported, not bound")
    func environmentOverride() throws {
        let path = Topo.fixture("intel-i7-1370p-raptorlake-hybrid")
        let j = try Topo.json([], prefix: ["/usr/bin/env", "HWLOC_XMLFILE=\(path)"])
        #expect(j["is_this_system"] as? Bool == false)
        #expect((j["counts"] as? [String: Int])?["pus"] == 20)
    }

    @Test("text output: tree with sizes and OS indexes, kinds, placement; 384 PUs stay readable")
    func text() throws {
        let genoa = Topo.fixture("amd-epyc9654-genoa-2s-384pu")
        let r = Topo.run(["topo", "--xml", genoa])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Package L#1 P#1"))
        #expect(r.stdout.contains("L3 L#0 (32 MiB)"))
        #expect(r.stdout.contains("Core L#0: PUs P#0,192"))
        #expect(r.stdout.contains("… 11 more like the one above: L3 L#1-11"))
        #expect(r.stdout.contains("Placement order"))
        #expect(r.stdout.split(separator: "\n").count < 60)
        let full = Topo.run(["topo", "--full", "--xml", genoa])
        #expect(full.stdout.contains("Core L#191: PUs P#191,383"))

        let rpl = Topo.run(["topo", "--xml", Topo.fixture("intel-i7-1370p-raptorlake-hybrid")])
        #expect(rpl.stdout.contains("kind 1: efficiency 1, PUs 0-11"))
        #expect(rpl.stdout.contains("Core L#0: PUs P#0,1 [kind 1]"))
        #expect(rpl.stdout.contains("Core L#6: PU P#12 [kind 0]"))
        #expect(rpl.stdout.contains("NUMANode L#0 P#0 (31.0 GiB)"))
        let kp = Topo.run(["topo", "--xml", Topo.fixture("arm-kunpeng920-2s-128c-4numa")])
        #expect(kp.stdout.contains("Package L#1 P#8442"))
        #expect(kp.stdout.contains("NUMA distances"))
    }

    @Test("a bad file or description, or a bad --plan: message on stderr, exit status 1", arguments: [
        (["--xml", "/nonexistent/machine.xml"], "/nonexistent/machine.xml"),
        (["--xml", "/"], "is a directory"),
        (["--synthetic", "pack:2 bogus:4 pu:1"], "unknown object type \"bogus\""),
        (["--synthetic", ""], "empty description"),
        (["--synthetic", "pack:0 pu:1"], "0 objects"),
        (["--xml", "a.xml", "--synthetic", "pu:1"], "not both"),
        (["--plan", "0"], "invalid value '0' for '--plan'"),
        (["--plan", "-1"], "invalid value '-1' for '--plan'"),
        (["--plan", "100000000"], "from 1 to 4096"),
    ])
    func badInput(_ arguments: [String], message: String) throws {
        for json in [false, true] {
            let r = Topo.run(["topo"] + arguments + (json ? ["--json"] : []))
            #expect(r.status == 1)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.hasPrefix("mtrun topo: error: "))
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }
}
