import ArgumentParser

/// `mtrun`: parallel jobs from the command line.
///
/// Each subcommand lives in its own file (`HashCommand.swift`,
/// `InitCommand.swift`, `TopoCommand.swift`); this file only lists them.
@main
struct MTRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtrun",
        abstract: "Parallel, ordered and topology-aware jobs (padata for user space).",
        subcommands: [HashCommand.self, InitCommand.self, TopoCommand.self]
    )
}
