import ArgumentParser

struct TopoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topo", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(2) }
}
