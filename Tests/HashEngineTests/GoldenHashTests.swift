import HashEngine
import Testing

/// Output of `mtrun hash` compared byte for byte with coreutils on the same
/// arguments (absolute paths to a generated tree; program name swapped).
@Suite("hash mode matches coreutils")
struct GoldenHashTests {
    static let oddNames: [[UInt8]] = [
        Array("plain.txt".utf8),
        Array("with space".utf8),
        Array("back\\slash".utf8),
        Array("new\nline".utf8),
        Array("carriage\rreturn".utf8),
        Array("-leading-dash".utf8),
        Array("ünïcödé-名前".utf8),
        [0x6E, 0x6F, 0x6E, 0xFF, 0xFE, 0x75, 0x74, 0x66],
        Array("tab\tname".utf8),
        Array("it's".utf8),
        Array("co:lon".utf8),
        Array("both\\and\n".utf8),
        Array("empty".utf8),
        Array("big".utf8),
    ]

    /// A tree with every odd name; "empty" is empty and "big" spans several reads.
    static func makeTree() -> TempDir {
        let dir = TempDir()
        for (i, name) in oddNames.enumerated() {
            var contents: [UInt8]
            switch name {
            case Array("empty".utf8): contents = []
            case Array("big".utf8): contents = (0..<(1_300_000)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
            default: contents = Array("file \(i) contents\n".utf8)
            }
            dir.write(name, contents)
        }
        dir.mkdir("adir")
        return dir
    }

    @Test("every algorithm and line format is byte-identical to coreutils, errors included",
          arguments: HashAlgorithm.allCases)
    func goldenAgainstCoreutils(_ algorithm: HashAlgorithm) {
        let dir = Self.makeTree()
        defer { dir.remove() }
        let files = Self.oddNames.map { dir.sub($0) } + [dir.sub("missing"), dir.sub("adir")]
        for flags in [[], ["--tag"], ["-z"], ["-b"], ["--tag", "-z"], ["-t"]] {
            let theirs = asMtrun(Spawn.run([algorithm.coreutilsProgram] + flags, files), program: algorithm.coreutilsProgram)
            let ours = runEngine(args(["-a", algorithm.rawValue] + flags) + files)
            #expect(ours == theirs, "flags \(flags)")
        }
    }

    @Test("standard input: '-' and no operand, read once, later '-' see EOF like coreutils")
    func standardInput() {
        let input = Array("some input\n".utf8)
        let theirs = asMtrun(Spawn.run(["sha256sum", "-", "-"], stdin: input), program: "sha256sum")
        #expect(theirs.out.contains("  -\n"))
        // The engine reads fd 0 in-process, so run the real binary for this; see mtrunTests.
        let none = Spawn.run(["sha256sum"], stdin: input)
        #expect(none.out.hasSuffix("  -\n"))
    }

    @Test("file names in messages are quoted like coreutils' quotef, in a UTF-8 and in the C locale")
    func quotingMatchesCoreutils() {
        var rng = SplitMix(seed: 42)
        let alphabet: [UInt8] = Array("aZ09 '\"\\$!?*:;#~{}[]()=^`|&<>%+,-._@".utf8) + [0x0A, 0x0D, 0x09, 0x07, 0x1B, 0x7F, 0xC3, 0xA9, 0xE2, 0x80, 0x8B, 0xFF, 0xE6, 0x97]
        var names: [[UInt8]] = [Array("{".utf8), Array("}".utf8), Array("#x".utf8), Array("x#".utf8), Array("~".utf8),
                                Array("it's\n".utf8), Array("it's:x".utf8), Array("it's#".utf8), Array("é'".utf8),
                                [0xC3], [0xE2, 0x80], Array("\u{200B}".utf8), Array("\u{2028}".utf8)]
        for _ in 0..<400 {
            let len = 1 + Int(rng.next() % 6)
            names.append((0..<len).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        let prefix = Array("no-such-dir/".utf8)
        for (locale, charset) in [("C.UTF-8", Charset.utf8), ("C", Charset.unibyte)] {
            let paths = names.map { prefix + $0 }
            let theirs = Spawn.run([Array("env".utf8), Array("LC_ALL=\(locale)".utf8), Array("sha256sum".utf8), Array("--".utf8)] + paths)
            let quoting = NameQuoting(charset: charset)
            var expected: [UInt8] = []
            for p in paths {
                expected += Array("sha256sum: ".utf8) + quoting.quote(p) + Array(": No such file or directory\n".utf8)
            }
            let same = theirs.stderr == expected
            #expect(same, "locale \(locale)")
            if !same {
                let a = theirs.err.split(separator: "\n", omittingEmptySubsequences: false)
                let b = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                for (x, y) in zip(a, b) where x != y { Issue.record("coreutils: \(x)\n   ours: \(y)"); break }
            }
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
