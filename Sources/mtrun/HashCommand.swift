import ArgumentParser

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hash", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(2) }
}
