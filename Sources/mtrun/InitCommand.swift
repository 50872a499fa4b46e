import ArgumentParser

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "(not yet implemented)")
    func run() throws { throw ExitCode(2) }
}
