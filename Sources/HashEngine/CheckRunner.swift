#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SerialJobs
import Synchronization
import MTSupport

/// The tallies of one checksum file, kept by the serial stage.
final class CheckTally: Sendable {
    struct Counts {
        var properlyFormatted = false
        var misformatted = 0
        var openOrReadFailures = 0
        var mismatched = 0
        var matched = false
    }

    /// Protected by its mutex (written by serial callbacks and, for
    /// `properlyFormatted`, by the submitting thread).
    let counts = Locked(Counts())
}

/// `--check`: verify the files listed in checksum files, in parallel,
/// reporting in the order of the lines, with `sha256sum -c`'s messages,
/// summary warnings and exit status.
///
/// Each line becomes one item: improperly formatted lines (with `--warn`)
/// and the end-of-file summary are items too, so every message keeps its
/// place. Files named `-` in a checksum file are standard input, read on
/// the submitting thread.
extension HashRunner {
    func runCheck() -> Int32 {
        let shell: Shell
        do {
            shell = try instance.makeShell(window: window, placement: .anyWorker)
        } catch {
            console.error("cannot start: \(error)")
            return 1
        }
        var parser = ChecksumLineParser(algorithm: options.algorithm)
        let operands = options.operands.isEmpty ? [[UInt8(ascii: "-")]] : options.operands
        do {
            for operand in operands {
                try checkFile(operand, &parser, shell)
            }
        } catch {
            console.error("internal error: \(error)")
            failed.store(true, ordering: .relaxed)
        }
        shell.stop()
        return failed.load(ordering: .relaxed) ? 1 : 0
    }

    /// Submits a serial-only item.
    private func serially(_ shell: Shell, _ body: @escaping @Sendable () -> Void) throws(SerialJobsError) {
        try shell.submit(parallel: { ItemOutcome.none }, serial: { (_: Result<ItemOutcome, any Error>) in body() })
    }

    private func checkFile(_ operand: [UInt8], _ parser: inout ChecksumLineParser, _ shell: Shell) throws(SerialJobsError) {
        let isStdin = operand == [UInt8(ascii: "-")]
        let displayName = quoting.quote(isStdin ? Array("standard input".utf8) : operand)
        let fd: Int32
        if isStdin {
            readStandardInput.store(true, ordering: .relaxed)
            fd = 0
        } else {
            fd = withCString(operand) { open($0, O_RDONLY | O_CLOEXEC) }
            if fd < 0 {
                let e = SystemError.current
                try serially(shell) { [self] in
                    failed.store(true, ordering: .relaxed)
                    console.error(displayName + Array(": \(e.message)".utf8))
                }
                return
            }
        }
        defer { if !isStdin { close(fd) } }

        let tally = CheckTally()
        var lineNumber = 0
        var reader = LineReader(fd: fd)
        while true {
            let next: [UInt8]?
            do throws(SystemError) {
                next = try reader.nextLine()
            } catch {
                try serially(shell) { [self] in
                    failed.store(true, ordering: .relaxed)
                    console.error(displayName + Array(": read error".utf8))
                }
                return
            }
            guard let line = next else { break }
            lineNumber += 1
            switch parser.parse(line) {
            case .skip:
                continue
            case .entry(let e) where !(isStdin && e.name == [UInt8(ascii: "-")]):
                tally.counts.withLock { $0.properlyFormatted = true }
                try submitVerify(e, tally, shell)
            default:
                let n = lineNumber
                let warn = options.warn
                let tagName = options.algorithm.tagName
                try serially(shell) { [self] in
                    tally.counts.withLock { $0.misformatted += 1 }
                    if warn {
                        console.error(displayName + Array(": \(n): improperly formatted \(tagName) checksum line".utf8))
                    }
                }
            }
        }
        try serially(shell) { [self] in
            if !summarize(tally, displayName) { failed.store(true, ordering: .relaxed) }
        }
    }

    private func submitVerify(_ entry: ChecksumEntry, _ tally: CheckTally, _ shell: Shell) throws(SerialJobsError) {
        let serial: @Sendable (Result<ItemOutcome, any Error>) -> Void = { [self] r in
            let outcome: ItemOutcome
            switch r {
            case .success(let o): outcome = o
            case .failure(let e): outcome = .failure(e as? SystemError ?? SystemError(EIO))
            }
            verified(entry, outcome, tally)
        }
        if entry.name == [UInt8(ascii: "-")] {
            readStandardInput.store(true, ordering: .relaxed)
            let r: ItemOutcome
            do throws(SystemError) { r = .digest(try digester.digest(fd: 0)) } catch { r = .failure(error) }
            try shell.submit(parallel: { r }, serial: serial)
        } else if Self.isStream(entry.name) {
            let r: ItemOutcome
            do throws(SystemError) { r = .digest(try digester.digest(path: entry.name)) } catch { r = .failure(error) }
            try shell.submit(parallel: { r }, serial: serial)
        } else {
            let digester = self.digester
            let path = entry.name
            try shell.submit(parallel: { () -> ItemOutcome in
                do throws(SystemError) { return .digest(try digester.digest(path: path)) } catch { return .failure(error) }
            }, serial: serial)
        }
    }

    /// Serial stage of one checksum line.
    private func verified(_ entry: ChecksumEntry, _ outcome: ItemOutcome, _ tally: CheckTally) {
        let status = options.status
        // coreutils escapes names here only when they hold a newline.
        let escape = !status && entry.name.contains(0x0A)
        func say(_ word: String) {
            var line: [UInt8] = escape ? [0x5C] : []
            ChecksumFormat.appendName(entry.name, escape: escape, to: &line)
            line.append(contentsOf: ": \(word)\n".utf8)
            console.out(line)
        }
        switch outcome {
        case .failure(let e):
            if options.ignoreMissing && e.code == ENOENT { return }
            tally.counts.withLock { $0.openOrReadFailures += 1 }
            console.error(quoting.quote(entry.name) + Array(": \(e.message)".utf8))
            if !status { say("FAILED open or read") }
        case .digest(let d):
            let expected = entry.hexDigest.map { $0 >= 0x41 && $0 <= 0x46 ? $0 + 0x20 : $0 }
            if Hex.encode(d.digest) == expected {
                tally.counts.withLock { $0.matched = true }
                if !status && !options.quiet { say("OK") }
            } else {
                tally.counts.withLock { $0.mismatched += 1 }
                if !status { say("FAILED") }
            }
        case .none:
            break
        }
    }

    /// The end-of-file messages; returns whether the file verified.
    private func summarize(_ tally: CheckTally, _ displayName: [UInt8]) -> Bool {
        let c = tally.counts.withLock { $0 }
        func plural(_ n: Int, _ one: String, _ many: String) -> String { "WARNING: \(n) " + (n == 1 ? one : many) }
        if !c.properlyFormatted {
            console.error(displayName + Array(": no properly formatted checksum lines found".utf8))
        } else if !options.status {
            if c.misformatted > 0 {
                console.error(plural(c.misformatted, "line is improperly formatted", "lines are improperly formatted"))
            }
            if c.openOrReadFailures > 0 {
                console.error(plural(c.openOrReadFailures, "listed file could not be read", "listed files could not be read"))
            }
            if c.mismatched > 0 {
                console.error(plural(c.mismatched, "computed checksum did NOT match", "computed checksums did NOT match"))
            }
            if options.ignoreMissing && !c.matched {
                console.error(displayName + Array(": no file was verified".utf8))
            }
        }
        return c.properlyFormatted
            && c.mismatched == 0
            && c.openOrReadFailures == 0
            && (!options.strict || c.misformatted == 0)
            && (!options.ignoreMissing || c.matched)
    }
}

/// Reads `\n`-terminated lines from a descriptor in 64 KiB chunks; the last
/// line may lack its newline. Memory: one chunk plus the longest line.
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false

    init(fd: Int32) { self.fd = fd }

    /// The next line without its `\n`, or nil at the end.
    mutating func nextLine() throws(SystemError) -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError.current
            }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}
