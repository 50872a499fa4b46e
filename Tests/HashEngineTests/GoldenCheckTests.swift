import HashEngine
import Testing

/// `--check` compared byte for byte with `sha256sum -c` (and md5sum etc.)
/// on checksum files full of edge cases.
@Suite("check mode matches coreutils")
struct GoldenCheckTests {
    struct Fixture {
        let dir: TempDir
        let checkFiles: [[UInt8]]
    }

    static func hex(_ a: HashAlgorithm, _ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(a.digest(of: bytes).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Files and checksum files; names in the checksum files are absolute.
    static func make(_ a: HashAlgorithm) -> Fixture {
        let dir = TempDir()
        let p = String(decoding: dir.path, as: UTF8.self) + "/"
        let contents: [(String, String)] = [("a", "abc"), ("b", "xyz"), ("b\\c", "q"), ("n\nl", "r"), ("cr\rx", "s"), ("c\\r\rx", "z"), ("x\\y\nz\rw", "w")]
        for (n, c) in contents { dir.write(n, c) }
        dir.mkdir("d")
        let h = { (c: String) in hex(a, Array(c.utf8)) }
        let T = a.tagName
        func escaped(_ n: String) -> String {
            n.replacingAll("\\", "\\\\").replacingAll("\n", "\\n").replacingAll("\r", "\\r")
        }
        func std(_ n: String, _ c: String, _ sep: String = "  ") -> String {
            let full = p + n
            let esc = full.contains("\\") || full.contains("\n") || full.contains("\r")
            return (esc ? "\\" : "") + h(c) + sep + (esc ? escaped(full) : full) + "\n"
        }
        let ha = h("abc"), hb = h("xyz")
        var files: [(String, String)] = []
        files.append(("good.sum", contents.map { std($0.0, $0.1) }.joined()))
        files.append(("bad.sum", std("a", "abc") + std("b", "not xyz") + std("b\\c", "q") + std("n\nl", "nope")))
        files.append(("mixed.sum", "garbage\n" + std("a", "abc") + "\n# comment\n" + std("missing", "abc") + std("d", "abc") + "  # indented\n"))
        files.append(("bsd.sum", "\(T) (\(p)a) = \(ha)\n\(T)(\(p)b)= \(hb)\n\(T) (\(p)a) =\(ha)\nMD4 (\(p)a) = \(ha)\n\(T) (\(p)a) = \(ha.prefix(10))\n\(T) (\(p)a) = \(ha)ff\n\\\(T) (\(p)b\\\\c) = \(h("q"))\n\(T) (\(p)a) = \(ha) \n\(T) (\(p)a)\n\(T)x(\(p)a) = \(ha)\n"))
        files.append(("len.sum", "\(ha.dropFirst())  \(p)a\n\(hb)  \(p)b\n\(ha)a  \(p)a\n\(hb) *\(p)b\n\\\(hb)  \(p)b\\x\n\(ha)  \n\(ha)\n\(ha.uppercased())  \(p)a\n\t \(ha)  \(p)a\n\(ha)\t\(p)a\n"))
        files.append(("crnul.sum", "\(ha)  \(p)a\r\r\n\r\n\(ha)  \(p)a\u{0}junk\n\(ha)  \(p)a"))
        files.append(("empty.sum", "\n"))
        files.append(("miss.sum", std("missing", "abc")))
        files.append(("dupes.sum", std("a", "abc") + std("a", "abc") + std("b", "nope") + std("b", "nope") + std("m1", "x") + std("m2", "x")))
        var paths: [[UInt8]] = []
        for (name, text) in files { paths.append(dir.write(name, text)) }
        return Fixture(dir: dir, checkFiles: paths)
    }

    static let flagSets: [[String]] = [[], ["-w"], ["--quiet"], ["--status"], ["--strict"], ["--ignore-missing"], ["-w", "--strict", "--ignore-missing"]]

    @Test("each checksum file alone, under every reporting option, matches coreutils", arguments: [HashAlgorithm.sha256, .md5])
    func eachFileAlone(_ a: HashAlgorithm) {
        let f = Self.make(a)
        defer { f.dir.remove() }
        for file in f.checkFiles {
            for flags in Self.flagSets {
                let theirs = asMtrun(Spawn.run([a.coreutilsProgram, "-c"] + flags, [file]), program: a.coreutilsProgram)
                let ours = runEngine(args(["-a", a.rawValue, "-c"] + flags) + [file])
                #expect(ours == theirs, "\(String(decoding: file, as: UTF8.self)) \(flags)")
            }
        }
    }

    @Test("several checksum files in one run (summaries per file, the reversed-form choice kept across files), missing and directory checksum files")
    func severalFiles() {
        let f = Self.make(.sha256)
        defer { f.dir.remove() }
        let all = f.checkFiles + [f.dir.sub("no-such.sum"), f.dir.sub("d")] + f.checkFiles.reversed()
        for flags in Self.flagSets {
            let theirs = asMtrun(Spawn.run(["sha256sum", "-c"] + flags, all), program: "sha256sum")
            let ours = runEngine(args(["-c"] + flags) + all)
            #expect(ours == theirs, "\(flags)")
        }
    }

    @Test("line parser: forms coreutils accepts and refuses")
    func parserTable() {
        let h = String(repeating: "ab", count: 32)
        var p = ChecksumLineParser(algorithm: .sha256)
        #expect(p.parse(Array("#x".utf8)) == .skip)
        #expect(p.parse(Array("\r".utf8)) == .skip)
        #expect(p.parse(Array("\(h)  f".utf8)) == .entry(ChecksumEntry(name: Array("f".utf8), hexDigest: Array(h.utf8))))
        #expect(p.parse(Array("\\\(h)  a\\nb\\\\".utf8)) == .entry(ChecksumEntry(name: Array("a\nb\\".utf8), hexDigest: Array(h.utf8))))
        #expect(p.parse(Array("\\\(h)  a\\q".utf8)) == .invalid)
        #expect(p.parse(Array("SHA256 (x) y) = \(h)".utf8)) == .entry(ChecksumEntry(name: Array("x) y".utf8), hexDigest: Array(h.utf8))))
        #expect(p.parse(Array("\(h) single".utf8)) == .invalid, "the two-character form was chosen first")
        var q = ChecksumLineParser(algorithm: .sha256)
        #expect(q.parse(Array("\(h) single".utf8)) == .entry(ChecksumEntry(name: Array("single".utf8), hexDigest: Array(h.utf8))))
        #expect(q.parse(Array("\(h)  two".utf8)) == .entry(ChecksumEntry(name: Array(" two".utf8), hexDigest: Array(h.utf8))))
    }
}

extension String {
    func replacingAll(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
