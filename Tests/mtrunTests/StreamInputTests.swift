import Testing

/// Inputs that cannot be read by offset (FIFOs, pipes, process
/// substitution) hash as in coreutils: streamed with read(2).
///
/// A FIFO's writer runs in the background of the script; after the hasher
/// exits the script opens the FIFO read-write itself, which never blocks
/// and releases a writer still waiting for a reader, so a hasher that never
/// opened the FIFO fails the test instead of hanging it.
@Suite("non-seekable inputs hash like sha256sum")
struct StreamInputTests {
    /// Runs `body` in a fresh directory holding FIFO `f` with "abc" written into it.
    static func withFIFO(_ body: String) -> String {
        """
        d=$(mktemp -d) && cd "$d" && mkfifo f || exit 99
        (printf abc > f) &
        \(body)
        rc=$?
        exec 3<>f
        wait
        cd / && rm -rf "$d"
        exit $rc
        """
    }

    @Test("a FIFO operand is hashed, not refused with 'Illegal seek'")
    func fifoOperand() {
        let script = Self.withFIFO("SUM f")
        let theirs = ShellScript.coreutils(script)
        let ours = ShellScript.mtrun(script)
        #expect(theirs.out == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\n")
        #expect(ours == theirs)
    }

    @Test("a FIFO listed in a checksum file is verified (-c)")
    func fifoInCheckFile() {
        let script = Self.withFIFO("""
            printf 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\\n' > sums
            SUM -c sums
            """)
        let theirs = ShellScript.coreutils(script)
        #expect(theirs.out == "f: OK\n")
        #expect(ShellScript.mtrun(script) == theirs)
    }

    @Test("/dev/stdin on a pipe, process substitution and '-' on a pipe, with --tag and -b")
    func pipes() {
        for script in [
            "printf abc | SUM /dev/stdin",
            "SUM <(printf abc) <(printf '')",
            "printf 'some text' | SUM --tag /dev/stdin -",
            "printf 'some text' | SUM - /dev/stdin",
            "{ printf 'some text'; } | SUM -c <(printf '%s  /dev/stdin\\n' \"$(printf 'some text' | sha256sum | cut -c1-64)\")",
            "head -c 1000000 /dev/zero | SUM -b /dev/stdin",
        ] {
            let theirs = ShellScript.coreutils(script)
            #expect(theirs.status == 0, "\(script)")
            #expect(ShellScript.mtrun(script) == theirs, "\(script)")
        }
    }
}
