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
        // Every subcommand's usage errors exit with 1, as `mtrun hash` and
        // coreutils do (ArgumentParser's default is 64).
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { writeAll(1, message + "\n") }
                exitProcess(ExitStatus.success)
            }
            if !message.isEmpty { writeAll(2, message + "\n") }
            exitProcess(ExitStatus.failure)
        }
        exitProcess(ExitStatus.success)
    }

    /// Writes `text` to `fd`; on a failed write to standard output prints
    /// `mtrun: write error: …` and exits with 1.
    static func writeAll(_ fd: Int32, _ text: String) {
        var s = text
        let ok = s.withUTF8 { p -> Bool in
            var done = 0
            while done < p.count {
                let n = write(fd, p.baseAddress! + done, p.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        if !ok && fd == 1 {
            let e = String(cString: strerror(errno))
            writeAll(2, "mtrun: write error: \(e)\n")
            exitProcess(ExitStatus.failure)
        }
    }

    static func exitProcess(_ status: Int32) -> Never {
        fflush(nil)
#if canImport(Glibc)
        Glibc.exit(status)
#elseif canImport(Musl)
        Musl.exit(status)
#endif
    }
}

/// The version every subcommand prints.
enum MTRunVersion {
    static let text = "0.1"
}
