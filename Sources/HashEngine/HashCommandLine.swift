#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `mtrun hash`'s option parser: GNU `getopt_long` behaviour, so every
/// command line `sha256sum` accepts means the same here.
///
/// - Options and operands may be mixed (`mtrun hash a -b`), unless
///   `POSIXLY_CORRECT` is set; `--` ends the options; `-` is an operand.
/// - Short options cluster (`-bz`), `-a` takes `-asha512` or `-a sha512`.
/// - Long options may be abbreviated to any unambiguous prefix (`--stat`);
///   arguments go as `--algorithm=md5` or `--algorithm md5`.
/// - Operands stay bytes: file names need not be UTF-8.
package enum HashCommandLine {
    /// What the command line asks for.
    package enum Action: Sendable, Hashable {
        /// Hash or check with these options.
        case run(HashOptions)
        /// Print the help text.
        case help
        /// Print the version.
        case version
    }

    /// A command line `mtrun hash` refuses. coreutils prints the message,
    /// then `Try '… --help' for more information.`, and exits with 1.
    package struct UsageError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The message, without the program name, as bytes: an option typed
        /// with bytes that are not UTF-8 is quoted as typed, as getopt does.
        package let bytes: [UInt8]
        /// The message (invalid UTF-8 shown as U+FFFD).
        package var message: String { String(decoding: bytes, as: UTF8.self) }
        package var description: String { message }

        init(message: String) { bytes = Array(message.utf8) }
        init(bytes: [UInt8]) { self.bytes = bytes }
    }

    private enum Opt: CaseIterable {
        case algorithm, binary, check, ignoreMissing, quiet, status, strict, tag, text, warn, zero
        case recursive, dereference, jobs, progress, noProgress, json, help, version
    }

    /// Long names in table order (the order ambiguity messages list them in;
    /// `sha256sum` lists `--status` before `--strict` and `--tag` before
    /// `--text`).
    private static let longOptions: [(name: String, opt: Opt, takesArgument: Bool)] = [
        ("algorithm", .algorithm, true),
        ("binary", .binary, false),
        ("check", .check, false),
        ("quiet", .quiet, false),
        ("status", .status, false),
        ("strict", .strict, false),
        ("tag", .tag, false),
        ("text", .text, false),
        ("warn", .warn, false),
        ("zero", .zero, false),
        ("ignore-missing", .ignoreMissing, false),
        ("recursive", .recursive, false),
        ("dereference", .dereference, false),
        ("jobs", .jobs, true),
        ("progress", .progress, false),
        ("no-progress", .noProgress, false),
        ("json", .json, false),
        ("help", .help, false),
        ("version", .version, false),
    ]

    private static let shortOptions: [UInt8: (opt: Opt, takesArgument: Bool)] = [
        UInt8(ascii: "a"): (.algorithm, true),
        UInt8(ascii: "b"): (.binary, false),
        UInt8(ascii: "c"): (.check, false),
        UInt8(ascii: "t"): (.text, false),
        UInt8(ascii: "w"): (.warn, false),
        UInt8(ascii: "z"): (.zero, false),
        UInt8(ascii: "r"): (.recursive, false),
        UInt8(ascii: "L"): (.dereference, false),
        UInt8(ascii: "j"): (.jobs, true),
    ]

    /// Parses the arguments after `hash`.
    package static func parse(_ args: [[UInt8]], posixlyCorrect: Bool = getenv("POSIXLY_CORRECT") != nil) -> Result<Action, UsageError> {
        var o = HashOptions()
        var help = false
        var version = false
        var i = 0
        func fail(_ m: String) -> Result<Action, UsageError> { .failure(UsageError(message: m)) }
        /// `head`, the option's bytes as typed, then `tail`.
        func fail(_ head: String, _ typed: some Sequence<UInt8>, _ tail: String) -> Result<Action, UsageError> {
            .failure(UsageError(bytes: Array(head.utf8) + Array(typed) + Array(tail.utf8)))
        }

        func apply(_ opt: Opt, _ value: [UInt8]?) -> UsageError? {
            switch opt {
            case .algorithm:
                let name = String(decoding: value ?? [], as: UTF8.self)
                guard let a = HashAlgorithm(name: name) else {
                    return UsageError(message: "invalid algorithm '\(name)' (valid: sha256, sha512, sha1, md5)")
                }
                o.algorithm = a
            case .binary: o.binary = true
            case .check: o.check = true
            case .ignoreMissing: o.ignoreMissing = true
            case .quiet: o.quiet = true; o.status = false; o.warn = false
            case .status: o.status = true; o.warn = false; o.quiet = false
            case .strict: o.strict = true
            case .tag: o.tag = true; o.binary = true
            case .text: o.binary = false
            case .warn: o.warn = true; o.status = false; o.quiet = false
            case .zero: o.zero = true
            case .recursive: o.recursive = true
            case .dereference: o.dereference = true
            case .jobs:
                let text = String(decoding: value ?? [], as: UTF8.self)
                guard let n = Int(text), n >= 1, n <= 4096 else {
                    return UsageError(message: "invalid number of jobs '\(text)' (1 to 4096)")
                }
                o.jobs = n
            case .progress: o.progress = true
            case .noProgress: o.progress = false
            case .json: o.json = true
            case .help: help = true
            case .version: version = true
            }
            return nil
        }

        var onlyOperands = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyOperands || a.count < 2 || a[0] != UInt8(ascii: "-") {
                o.operands.append(a)
                if posixlyCorrect { onlyOperands = true }
                continue
            }
            if a == Array("--".utf8) { onlyOperands = true; continue }
            if a[1] == UInt8(ascii: "-") {
                // Long option.
                let body = a[2...]
                let eq = body.firstIndex(of: UInt8(ascii: "="))
                let name = Array(body[..<(eq ?? body.endIndex)])
                var match = longOptions.first { Array($0.name.utf8) == name }
                if match == nil {
                    let candidates = longOptions.filter { $0.name.utf8.starts(with: name) }
                    if candidates.count > 1 {
                        let list = candidates.map { " '--\($0.name)'" }.joined()
                        return fail("option '--", body, "' is ambiguous; possibilities:\(list)")
                    }
                    match = candidates.first
                }
                guard let m = match else { return fail("unrecognized option '--", body, "'") }
                var value: [UInt8]? = nil
                if let eq {
                    guard m.takesArgument else { return fail("option '--\(m.name)' doesn't allow an argument") }
                    value = Array(body[body.index(after: eq)...])
                } else if m.takesArgument {
                    guard i < args.count else { return fail("option '--\(m.name)' requires an argument") }
                    value = args[i]
                    i += 1
                }
                if let e = apply(m.opt, value) { return .failure(e) }
                // getopt's caller acts on --help and --version as soon as it
                // meets them: later arguments are not looked at.
                if help { return .success(.help) }
                if version { return .success(.version) }
                continue
            }
            // Cluster of short options.
            var j = 1
            while j < a.count {
                let c = a[j]
                j += 1
                guard let s = shortOptions[c] else { return fail("invalid option -- '", [c], "'") }
                var value: [UInt8]? = nil
                if s.takesArgument {
                    if j < a.count {
                        value = Array(a[j...])
                        j = a.count
                    } else if i < args.count {
                        value = args[i]
                        i += 1
                    } else {
                        return fail("option requires an argument -- '", [c], "'")
                    }
                }
                if let e = apply(s.opt, value) { return .failure(e) }
            }
        }
        if let e = validate(o) { return .failure(e) }
        return .success(.run(o))
    }

    /// coreutils 9.1's checks, in its order, then ours.
    static func validate(_ o: HashOptions) -> UsageError? {
        func e(_ m: String) -> UsageError { UsageError(message: m) }
        if o.tag && o.binary == false { return e("--tag does not support --text mode") }
        if o.zero && o.check { return e("the --zero option is not supported when verifying checksums") }
        if o.tag && o.check { return e("the --tag option is meaningless when verifying checksums") }
        if o.binary != nil && o.check {
            return e("the --binary and --text options are meaningless when verifying checksums")
        }
        if o.ignoreMissing && !o.check {
            return e("the --ignore-missing option is meaningful only when verifying checksums")
        }
        if o.status && !o.check { return e("the --status option is meaningful only when verifying checksums") }
        if o.warn && !o.check { return e("the --warn option is meaningful only when verifying checksums") }
        if o.quiet && !o.check { return e("the --quiet option is meaningful only when verifying checksums") }
        if o.strict && !o.check { return e("the --strict option is meaningful only when verifying checksums") }
        if o.json && o.check { return e("the --json option is not supported when verifying checksums") }
        if o.json && (o.tag || o.zero) { return e("the --json option cannot be combined with --tag or --zero") }
        if o.recursive && o.check { return e("the --recursive option is meaningless when verifying checksums") }
        return nil
    }

    /// The help text (`mtrun hash --help`).
    package static let helpText = """
        Usage: mtrun hash [OPTION]... [FILE|DIR]...
        Print or check SHA256 (default), SHA512, SHA1 or MD5 checksums, hashing files
        in parallel and printing them in input order, in coreutils' format.

        With no FILE, or when FILE is -, read standard input.
          -a, --algorithm=NAME  sha256 (default), sha512, sha1 or md5
          -b, --binary          read in binary mode (a '*' before the name)
          -c, --check           read checksums from the FILEs and check them
              --tag             create a BSD-style checksum
          -t, --text            read in text mode (default)
          -z, --zero            end each output line with NUL, not newline,
                                  and disable file name escaping

        The following five options are useful only when verifying checksums:
              --ignore-missing  don't fail or report status for missing files
              --quiet           don't print OK for each successfully verified file
              --status          don't output anything, status code shows success
              --strict          exit non-zero for improperly formatted checksum lines
          -w, --warn            warn about improperly formatted checksum lines

        Beyond coreutils:
          -r, --recursive       hash every file under DIR operands, depth-first, the
                                  entries of each directory in byte order of names;
                                  FIFOs, sockets and devices are skipped with a warning
          -L, --dereference     follow symbolic links met while recursing (loops are
                                  detected); without -L they are skipped with a warning
          -j, --jobs=N          hash on N CPUs (default: all this process may use)
              --progress        show files, bytes, rate and ETA on standard error
                                  (default when standard error is a terminal)
              --no-progress     never show progress
              --json            one JSON object per file: path, algorithm, digest,
                                  bytes, error

              --help            display this help and exit
              --version         output version information and exit

        Exit status: 0 if every file was hashed (or verified); 1 on a usage error,
        a failed write, or when any file could not be hashed (or verified).

        """
}
