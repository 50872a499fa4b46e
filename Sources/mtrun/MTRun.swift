import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `mtrun`: parallel jobs from the command line.
///
/// Each subcommand lives in its own file (`HashCommand.swift`,
/// `InitCommand.swift`, `TopoCommand.swift`); this file only lists them.
@main
struct MTRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtrun",
        abstract: "Parallel, ordered and topology-aware jobs (padata for user space).",
        discussion: ExitStatus.discussion,
        version: "mtrun (mtjobs) \(MTRunVersion.text)",
        subcommands: [HashCommand.self, InitCommand.self, TopoCommand.self]
    )

    /// `mtrun hash …` goes straight to ``HashCommand`` (which parses its own
    /// options from the raw bytes anyway): ArgumentParser's reflection costs
    /// 2-5 ms at every start, about 1% of hashing 20,000 small files.
    static func main() {
        if CommandLine.argc >= 2, let word = CommandLine.unsafeArgv[1], String(cString: word) == "hash" {
            let status = HashCommand.main(arguments: HashCommand.rawArguments(count: Int(CommandLine.argc) - 2))
#if canImport(Glibc)
            Glibc.exit(status)
#elseif canImport(Musl)
            Musl.exit(status)
#endif
        }
        main(nil)
    }
}

/// The version every subcommand prints.
enum MTRunVersion {
    static let text = "0.1"
}
