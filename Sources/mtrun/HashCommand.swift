import ArgumentParser
import HashEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `mtrun hash`: parallel, ordered, coreutils-compatible file hashing.
///
/// Options are parsed by ``HashCommandLine`` from the raw `argv` bytes (GNU
/// `getopt_long` behaviour, non-UTF-8 file names kept), not by
/// ArgumentParser, so every `sha256sum` command line means the same here and
/// usage errors exit with 1 as in coreutils.
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Hash files in parallel, printing sha256sum-compatible lines in input order.",
        discussion: "Run 'mtrun hash --help' for the options.",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and files (see 'mtrun hash --help').")
    var arguments: [String] = []

    func run() throws {
        throw ExitCode(HashCommand.main(arguments: HashCommand.rawArguments(count: arguments.count)))
    }

    /// The last `count` arguments of the process as bytes (Swift's
    /// `CommandLine.arguments` repairs invalid UTF-8, which would change
    /// file names).
    static func rawArguments(count: Int) -> [[UInt8]] {
        let argc = Int(CommandLine.argc)
        var all: [[UInt8]] = []
        for i in 0..<argc {
            guard let p = CommandLine.unsafeArgv[i] else { continue }
            all.append(Array(UnsafeRawBufferPointer(start: p, count: strlen(p))))
        }
        // Everything after the first "hash" word.
        if let at = all.dropFirst().firstIndex(of: Array("hash".utf8)) {
            return Array(all[(at + 1)...])
        }
        return Array(all.suffix(count))
    }

    /// Runs `mtrun hash` with `arguments` and returns the exit status.
    static func main(arguments: [[UInt8]]) -> Int32 {
        let closed = ClosedStandardStreams.reserve()
        let charset = Charset.fromEnvironment()
        let console = Console(
            programName: "mtrun",
            stdout: FileDescriptorSink(fd: 1),
            stderr: FileDescriptorSink(fd: 2)
        )
        switch HashCommandLine.parse(arguments) {
        case .failure(let e):
            console.error(e.bytes)
            console.raw(stderr: Array("Try 'mtrun hash --help' for more information.\n".utf8))
            _ = console.finish(stdoutWasClosed: closed.stdout)
            return 1
        case .success(.help):
            console.out(Array(HashCommandLine.helpText.utf8))
            return console.finish(stdoutWasClosed: closed.stdout) ? 0 : 1
        case .success(.version):
            console.out(Array("mtrun hash (mtjobs) \(MTRunVersion.text)\n".utf8))
            return console.finish(stdoutWasClosed: closed.stdout) ? 0 : 1
        case .success(.run(let options)):
            do {
                let runner = try HashRunner(options: options, console: console, charset: charset)
                return runner.run(closed: closed)
            } catch {
                console.error("cannot start: \(error)")
                return 1
            }
        }
    }
}
