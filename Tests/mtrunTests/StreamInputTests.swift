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

/// `-r` within a low descriptor limit: the walk adapts to RLIMIT_NOFILE.
@Suite("mtrun hash -r within a descriptor limit")
struct DescriptorLimitTests {
    @Test("a tree 300 levels deep hashes completely under 'ulimit -n 40'")
    func deepTreeLowLimit() {
        let script = """
            d=$(mktemp -d) && cd "$d" || exit 99
            p=.; for i in $(seq 1 300); do p=$p/d$i; done
            python3 -c 'import os,sys
            fd=os.open(".",os.O_RDONLY)
            for i in range(1,301):
                os.mkdir("d%d"%i,dir_fd=fd); n=os.open("d%d"%i,os.O_RDONLY,dir_fd=fd); os.close(fd); fd=n
                f=os.open("f",os.O_WRONLY|os.O_CREAT,0o644,dir_fd=fd); os.write(f,b"x"); os.close(f)' || exit 98
            (ulimit -n 40; SUM -r d1 > out 2> err); rc=$?
            echo "$rc $(wc -l < out) $(sort -u out | cut -c1-64 | sort -u | wc -l) $(wc -c < err)"
            cd / && rm -rf "$d"
            """
        let ours = ShellScript.mtrun(script)
        #expect(ours.out == "0 300 1 0\n", "\(ours)")
    }
}
