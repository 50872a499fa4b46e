import Foundation
import Testing
@testable import Topology

/// The real-machine hwloc XMLs in `Fixtures/` (copied from shared/topologies,
/// see its README for where each comes from).
enum Fixture: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case genoa = "amd-epyc9654-genoa-2s-384pu"
    case snc2 = "intel-xeon6230-cascadelake-2s-snc2"
    case knl = "intel-xeonphi7210-knl-256pu"
    case raptorLake = "intel-i7-1370p-raptorlake-hybrid"
    case kunpeng = "arm-kunpeng920-2s-128c-4numa"
    case gb10 = "arm-nvidia-gb10-hybrid-20c"
    case power7 = "ibm-power7-256pu-8numa"
    case haswellOffline = "intel-haswell-2s-offline-cpus"
    case ciVM = "ci-vm-amd-epyc-2vcpu"

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    var path: String { Fixture.directory.appendingPathComponent(rawValue + ".xml").path }

    var testDescription: String { rawValue }

    /// Loads the fixture (each test loads its own: a few ms at most).
    func load() throws -> Topology { try Topology(.xmlFile(path)) }
}

/// Runs a tool and returns its standard output, or nil when it is missing.
func runTool(_ tool: String, _ arguments: [String]) -> String? {
    let candidates = ["/usr/bin/\(tool)", "/usr/local/bin/\(tool)", "/bin/\(tool)"]
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
