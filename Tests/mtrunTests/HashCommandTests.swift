#if canImport(Glibc)
import Glibc
#endif
import Testing

/// End-to-end: the built `mtrun` binary against the system's coreutils.
@Suite("mtrun hash (binary) behaves like coreutils")
struct HashCommandTests {
    /// A scratch directory with odd names, relative operands used from inside it.
    static func makeTree() -> [UInt8] {
        var template = Array("/tmp/mtrun-e2e-tree-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
        let dir = Array(String(cString: p).utf8)
        let names: [[UInt8]] = [Array("a".utf8), Array("-dash".utf8), Array("sp ace".utf8), Array("b\\s".utf8),
                                Array("n\nl".utf8), [0x78, 0xFF, 0x79], Array("ü".utf8), Array("empty".utf8)]
        for (i, n) in names.enumerated() {
            MTRunBinary.write(dir + [UInt8(ascii: "/")] + n, n == Array("empty".utf8) ? [] : Array("content \(i)\n".utf8))
        }
        _ = MTRunBinary.c(dir + Array("/sub".utf8)) { mkdir($0, 0o755) }
        return dir
    }

    static let operands: [[UInt8]] = bytesArgs(["a", "sp ace", "b\\s", "n\nl", "ü", "empty", "missing", "sub", "--", "-dash"]) + [[0x78, 0xFF, 0x79]]

    @Test("odd file names, missing files and directories: output, messages and status equal sha256sum's")
    func oddNamesGolden() {
        let dir = Self.makeTree()
        defer { _ = MTRunBinary.run(bytesArgs(["rm", "-rf"]) + [dir]) }
        for flags in [[], ["--tag"], ["-z"], ["-b"]] {
            let theirs = asMtrun(MTRunBinary.run(bytesArgs(["sha256sum"] + flags) + Self.operands, cwd: dir), program: "sha256sum")
            let ours = MTRunBinary.mtrun(bytesArgs(["hash"] + flags) + Self.operands, cwd: dir)
            #expect(ours == theirs, "flags \(flags)")
        }
    }

    @Test("standard input: no operand, '-', and '-' twice read stdin once like sha256sum")
    func standardInput() {
        let input = Array("hello, stdin\n".utf8)
        for a in [[], ["-"], ["-", "-"], ["--tag", "-"]] {
            let theirs = asMtrun(MTRunBinary.run(bytesArgs(["sha256sum"] + a), stdin: input), program: "sha256sum")
            let ours = MTRunBinary.mtrun(bytesArgs(["hash"] + a), stdin: input)
            #expect(ours == theirs, "args \(a)")
        }
    }

    @Test("usage errors exit 1 with coreutils' Try line; --help exits 0")
    func usage() {
        let bad = MTRunBinary.mtrun(bytesArgs(["hash", "--bogus"]))
        #expect(bad.status == 1)
        #expect(bad.err == "mtrun: unrecognized option '--bogus'\nTry 'mtrun hash --help' for more information.\n")
        let help = MTRunBinary.mtrun(bytesArgs(["hash", "--help"]))
        #expect(help.status == 0 && help.out.hasPrefix("Usage: mtrun hash"))
    }

    @Test("README quick start: mtrun hash -r Sources hashes every file, one line each, exit 0")
    func quickStart() {
        let ours = MTRunBinary.mtrun(bytesArgs(["hash", "-r", "Sources"]))
        #expect(ours.status == 0)
        let find = MTRunBinary.run(bytesArgs(["find", "Sources", "-type", "f"]))
        let lines = ours.out.split(separator: "\n")
        #expect(lines.count == find.out.split(separator: "\n").count)
        #expect(lines.allSatisfy { $0.count > 66 && $0.dropFirst(64).hasPrefix("  Sources/") })
    }

    @Test("check mode with standard input: '-c -', '-c' alone, and a '-' entry in a checksum file")
    func checkStandardInput() {
        let dir = Self.makeTree()
        defer { _ = MTRunBinary.run(bytesArgs(["rm", "-rf"]) + [dir]) }
        let sums = MTRunBinary.run(bytesArgs(["sha256sum", "a", "sp ace", "empty"]), cwd: dir).stdout
        let dashSum = MTRunBinary.run(bytesArgs(["sha256sum", "-"]), stdin: Array("abc".utf8)).stdout
        MTRunBinary.write(dir + Array("/dash.sum".utf8), dashSum + sums)
        let cases: [([String], [UInt8])] = [
            (["-c", "-"], sums), (["-c"], sums), (["-c", "-w", "-"], dashSum + sums + Array("junk\n".utf8)),
            (["-c", "dash.sum"], Array("abc".utf8)), (["-c", "--quiet", "dash.sum", "-"], sums),
        ]
        for (a, input) in cases {
            let theirs = asMtrun(MTRunBinary.run(bytesArgs(["sha256sum"] + a), cwd: dir, stdin: input), program: "sha256sum")
            let ours = MTRunBinary.mtrun(bytesArgs(["hash"] + a), cwd: dir, stdin: input)
            #expect(ours == theirs, "args \(a)")
        }
    }

    @Test("a failed write to standard output ends with coreutils' 'write error' and status 1")
    func writeError() {
        let theirs = asMtrun(MTRunBinary.run(bytesArgs(["sh", "-c", "sha256sum Package.swift Package.swift > /dev/full"])), program: "sha256sum")
        let ours = MTRunBinary.run(bytesArgs(["sh", "-c", "\"$0\" hash Package.swift Package.swift > /dev/full"]) + [MTRunBinary.path])
        #expect(ours == theirs)
        #expect(ours.status == 1 && ours.err == "mtrun: write error\n")
    }
}
