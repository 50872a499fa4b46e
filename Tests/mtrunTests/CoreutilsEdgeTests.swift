import Testing

/// Corners of `sha256sum`'s behaviour, compared byte for byte (stdout,
/// stderr with the program name swapped, exit status).
@Suite("mtrun hash matches sha256sum in its corners")
struct CoreutilsEdgeTests {
    @Test("closed or full standard output and closed standard input: messages and status",
          arguments: [
              "SUM \"$F\" >/dev/full", "SUM \"$F\" \"$F\" >&-", "SUM <&-", "SUM - <&-", "SUM \"$F\" - <&- >&-",
              "SUM -c - <&-", "SUM -c <&-", "SUM -c /dev/null >&-", "SUM missing >&-",
          ])
    func closedStreams(_ command: String) {
        let script = "F=$(mktemp) && printf abc > \"$F\" && trap 'rm -f \"$F\"' EXIT && \(command)"
        let theirs = ShellScript.coreutils(script)
        #expect(theirs.status == 1)
        #expect(ShellScript.mtrun(script) == theirs)
    }

    @Test("--help and --version into a full disk or a closed descriptor: write error, status 1",
          arguments: ["--help >/dev/full", "--version >/dev/full", "--help >&-", "--version >&-"])
    func helpIntoFailingOutput(_ command: String) {
        let theirs = ShellScript.coreutils("SUM " + command)
        let ours = ShellScript.mtrun("SUM " + command)
        #expect(theirs.status == 1 && ours.status == 1)
        #expect(ours.err == theirs.err)
    }

    @Test("ambiguous abbreviations list their possibilities in getopt's order; bad option bytes stay raw",
          arguments: ["SUM --s", "SUM --st", "SUM --t", "SUM --ta x", "SUM -$'\\xff'", "SUM $'--\\xff'",
                      "SUM $'--s\\xff'", "SUM --bogus --help", "SUM --help=x", "SUM --check=1", "SUM -c --tag"])
    func options(_ command: String) {
        let theirs = ShellScript.coreutils(command)
        #expect(theirs.status == 1)
        #expect(ShellScript.mtrun(command) == theirs)
    }

    @Test("--help acts at once: later bad options are not looked at")
    func helpFirst() {
        for command in ["SUM --help --bogus", "SUM --help -c --tag", "SUM --version --bogus"] {
            let theirs = ShellScript.coreutils(command)
            let ours = ShellScript.mtrun(command)
            #expect(theirs.status == 0 && ours.status == 0, "\(command)")
            #expect(ours.err.isEmpty && theirs.err.isEmpty, "\(command)")
            #expect(!ours.out.isEmpty, "\(command)")
        }
    }

    @Test("a NUL inside an escaped name in a checksum file is an improperly formatted line")
    func nulInEscapedName() {
        let script = """
            d=$(mktemp -d) && cd "$d" && printf abc > a || exit 99
            h=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
            printf '\\\\%s  a\\0b\\n%s  a\\0b\\n\\\\SHA256 (a\\0b) = %s\\n' $h $h $h > sums
            SUM -c -w sums; rc=$?
            SUM -c --strict sums; rc2=$?
            cd / && rm -rf "$d"; exit $((rc * 10 + rc2))
            """
        let theirs = ShellScript.coreutils(script)
        #expect(theirs.err.contains("sums: 1: improperly formatted"))
        #expect(ShellScript.mtrun(script) == theirs)
    }
}
