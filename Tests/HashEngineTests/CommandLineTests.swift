import HashEngine
import Testing

@Suite("option parsing matches GNU getopt and coreutils' checks")
struct CommandLineTests {
    /// Command lines sha256sum refuses; ours must print the same messages.
    static let refused: [[String]] = [
        ["--bogus"], ["-x"], ["-bq"], ["--s", "a"], ["--s=x", "a"], ["--bog=x"], ["--tag=x", "a"], ["--ta=x", "a"],
        ["-c", "--tag", "x"], ["-c", "-b", "x"], ["-c", "-t", "x"], ["--tag", "-t", "a"], ["-c", "-z", "x"],
        ["--status", "a"], ["--warn", "a"], ["--quiet", "a"], ["--strict", "a"], ["--ignore-missing", "a"],
        ["--quiet", "--status", "a"], ["--ignore-missing", "--status", "--warn", "--quiet", "--strict", "a"],
        ["--strict", "--quiet", "--warn", "a"], ["--tag", "-z", "-c", "a"], ["--tag", "-t", "-z", "-c", "a"],
        ["-w", "a"], ["--wa", "a"],
    ]

    @Test("refused command lines give coreutils' message, the Try line and status 1")
    func refusedLikeCoreutils() {
        for line in Self.refused {
            let theirs = asMtrun(Spawn.run(["sha256sum"] + line), program: "sha256sum")
            let ours = runEngine(line.map { Array($0.utf8) })
            #expect(ours == theirs, "\(line)")
        }
    }

    @Test("options mix with operands, cluster, abbreviate, and -- ends them")
    func gnuParsing() throws {
        guard case .success(.run(let o)) = HashCommandLine.parse(args("a", "-bz", "--alg=md5", "--", "-t"), posixlyCorrect: false) else {
            Issue.record("refused"); return
        }
        #expect(o.binary == true && o.zero && o.algorithm == .md5)
        #expect(o.operands == args("a", "-t"))
        guard case .success(.run(let p)) = HashCommandLine.parse(args("a", "-b"), posixlyCorrect: true) else {
            Issue.record("refused"); return
        }
        #expect(p.operands == args("a", "-b"))
        guard case .success(.run(let q)) = HashCommandLine.parse(args("-asha512", "-j", "3", "-rL", "x"), posixlyCorrect: false) else {
            Issue.record("refused"); return
        }
        #expect(q.algorithm == .sha512 && q.jobs == 3 && q.recursive && q.dereference)
        #expect(HashCommandLine.parse(args("-j", "0"), posixlyCorrect: false) != .success(.help))
        if case .success = HashCommandLine.parse(args("-j", "0"), posixlyCorrect: false) { Issue.record("-j 0 accepted") }
        if case .success = HashCommandLine.parse(args("-a", "sha3"), posixlyCorrect: false) { Issue.record("sha3 accepted") }
        if case .success = HashCommandLine.parse(args("-a"), posixlyCorrect: false) { Issue.record("-a without value accepted") }
        #expect(HashCommandLine.parse(args("--he"), posixlyCorrect: false) == .success(.help))
    }
}
