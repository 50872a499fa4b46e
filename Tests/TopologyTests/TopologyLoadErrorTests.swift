import Foundation
import Testing
@testable import Topology

/// Loading errors are typed and name what failed.
@Suite("Topology load errors")
struct TopologyLoadErrorTests {
    /// A fresh temporary directory, removed by the caller.
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("topo-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Loads `.xmlFile(path)` and returns the reason of the expected `badXML`.
    func xmlFailure(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do throws(TopologyError) {
            _ = try Topology(.xmlFile(path))
            Issue.record("loaded \(path)", sourceLocation: sourceLocation)
            return nil
        } catch {
            guard case let .badXML(p, reason) = error else {
                Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
                return nil
            }
            #expect(p == path, sourceLocation: sourceLocation)
            #expect(error.description.contains(path), sourceLocation: sourceLocation)
            return reason
        }
    }

    func syntheticFailure(_ desc: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do throws(TopologyError) {
            _ = try Topology(.synthetic(desc))
            Issue.record("loaded \"\(desc)\"", sourceLocation: sourceLocation)
            return nil
        } catch {
            guard case let .badSynthetic(d, reason) = error else {
                Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
                return nil
            }
            #expect(d == desc, sourceLocation: sourceLocation)
            #expect(error.description.contains("\"\(desc)\""), sourceLocation: sourceLocation)
            return reason
        }
    }

    @Test("missing XML file: badXML naming the path and the system error")
    func missingFile() {
        let reason = xmlFailure("/nonexistent/dir/machine.xml")
        #expect(reason == "No such file or directory")
    }

    @Test("a directory given as XML file: badXML 'is a directory'")
    func directory() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(xmlFailure(dir.path) == "is a directory")
    }

    @Test("empty, binary, non-XML, non-hwloc, XML v3 and truncated files: each reason says which")
    func badContents() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ data: Data) throws -> String {
            let url = dir.appendingPathComponent(name)
            try data.write(to: url)
            return url.path
        }
        let valid = try Data(contentsOf: URL(fileURLWithPath: Fixture.ciVM.path))
        let cases: [(String, Data, String)] = [
            ("empty.xml", Data(), "empty"),
            ("binary.xml", Data([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]), "binary"),
            ("garbage.xml", Data("this is not a topology\n".utf8), "not an XML file"),
            ("other.xml", Data("<?xml version=\"1.0\"?>\n<html><body/></html>\n".utf8), "not an hwloc topology"),
            ("v3.xml", Data("<?xml version=\"1.0\"?>\n<topology version=\"3.0\">\n<object type=\"Machine\"/>\n</topology>\n".utf8),
             "newer"),
            ("truncated.xml", valid.prefix(valid.count / 2), "malformed or truncated"),
        ]
        for (name, data, expected) in cases {
            let path = try file(name, data)
            let reason = xmlFailure(path)
            #expect(reason?.contains(expected) == true, "\(name): \(reason ?? "-")")
        }
        // The untouched file loads.
        #expect(try Topology(.xmlFile(try file("ok.xml", valid))).pus.count == 2)
    }

    @Test("empty and blank synthetic descriptions are refused before hwloc")
    func emptySynthetic() {
        #expect(syntheticFailure("") == "empty description")
        #expect(syntheticFailure("  \n") == "empty description")
    }

    @Test("bad synthetic descriptions name the offending level", arguments: [
        ("garbage", "unknown object type \"garbage\""),
        ("pack:2 bogus:4 pu:2", "unknown object type \"bogus\""),
        ("pack:0 pu:2", "\"pack:0\" has 0 objects"),
        ("pack:x pu:2", "count \"x\""),
        ("pack:2 core:4", "last level must be PUs"),
        ("pack:2 l3:2(size=32MiB pu:2", "unclosed '('"),
        ("pack:2 [numa pu:2", "unclosed '['"),
    ])
    func badSynthetic(_ desc: String, expected: String) {
        let reason = syntheticFailure(desc)
        #expect(reason?.contains(expected) == true, "\(reason ?? "-")")
    }

    @Test("binding, allocation and page queries are refused on XML and synthetic topologies")
    func refusedOffSystem() throws {
        let topologies = [try Fixture.ciVM.load(), try Topology(.synthetic("pack:1 core:2 pu:1"))]
        for t in topologies {
            #expect(!t.isThisSystem)
            func expectRefused(_ body: () throws(TopologyError) -> Void) {
                do throws(TopologyError) {
                    try body()
                    Issue.record("not refused on \(t.source)")
                } catch {
                    guard case let .notThisSystem(_, source) = error else {
                        Issue.record("wrong error \(error)")
                        return
                    }
                    #expect(source == t.source.description)
                }
            }
            expectRefused { () throws(TopologyError) in try t.bindCurrentThread(to: [0]) }
            expectRefused { () throws(TopologyError) in _ = try t.currentCPU() }
            expectRefused { () throws(TopologyError) in _ = try t.currentThreadBinding() }
            expectRefused { () throws(TopologyError) in _ = try t.allocate(bytes: 4096, onNodes: [0]) }
            expectRefused { () throws(TopologyError) in try t.bindCurrentThreadMemory(toNodes: [0]) }
            var local = [UInt8](repeating: 1, count: 4096)
            local.withUnsafeMutableBytes { buf in
                expectRefused { () throws(TopologyError) in _ = try t.pagesPerNode(of: UnsafeRawBufferPointer(buf)) }
            }
            #expect(t.cpuQuota == nil)
        }
    }

    @Test("a source that is not this system names itself in the refusal")
    func refusalNamesSource() throws {
        let t = try Topology(.synthetic("pu:2"))
        do throws(TopologyError) {
            try t.bindCurrentThread(to: [0])
            Issue.record("not refused")
        } catch {
            #expect(error.description
                == "cannot bind a thread: the topology comes from synthetic description \"pu:2\", not from this machine")
        }
    }

    @Test("error descriptions say what failed")
    func descriptions() {
        #expect(TopologyError.notThisSystem(operation: "bind a thread", source: "XML file 'x.xml'").description
            == "cannot bind a thread: the topology comes from XML file 'x.xml', not from this machine")
        #expect(TopologyError.badXML(path: "a.xml", reason: "is a directory").description
            == "cannot load topology XML 'a.xml': is a directory")
        #expect(TopologyError.hwloc(function: "hwloc_set_cpubind", errno: EINVAL, context: "CPUs 3").description
            == "hwloc_set_cpubind failed (CPUs 3): Invalid argument")
        #expect(TopologyError.hwloc(function: "hwloc_topology_load", errno: 0, context: "no PU found").description
            == "hwloc_topology_load failed (no PU found)")
    }
}
