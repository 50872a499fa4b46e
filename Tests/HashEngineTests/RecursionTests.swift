#if canImport(Glibc)
import Glibc
#endif
import HashEngine
import Testing

@Suite("-r walks trees deterministically and reports what it skips")
struct RecursionTests {
    /// root/{a-c, a/{z, b/{x}}, a0, B, é, [0xff], link-to-a, link-to-b, dangling, fifo}
    static func makeTree() -> TempDir {
        let t = TempDir()
        t.mkdir("a"); t.mkdir("a/b")
        t.write("a-c", "1"); t.write("a/z", "2"); t.write("a/b/x", "3"); t.write("a0", "4"); t.write("B", "5"); t.write("é", "6")
        t.write([0xFF], [0x37])
        t.symlink("a", "link-to-a"); t.symlink("a0", "link-to-file"); t.symlink("nowhere", "dangling")
        _ = cString(t.sub("fifo")) { mkfifo($0, 0o644) }
        return t
    }

    @Test("entries in byte order of names, depth-first, links and FIFOs skipped with warnings, exit 0")
    func orderAndSkips() {
        let t = Self.makeTree()
        defer { t.remove() }
        let r = runEngine([Array("-r".utf8), t.path])
        let p = String(decoding: t.path, as: UTF8.self)
        let names = r.stdout.split(separator: 0x0A).map { String(decoding: $0.dropFirst(66), as: UTF8.self) }
        // "a" < "a-c" < "a0" since a shorter prefix sorts first; a's contents come right after "a".
        #expect(names == ["B", "a/b/x", "a/z", "a-c", "a0", "é", "\u{FFFD}"].map { p + "/" + $0 })
        #expect(r.status == 0)
        let quoted = NameQuoting(charset: .utf8)
        let q = { (n: String) in String(decoding: quoted.quote(Array((p + "/" + n).utf8)), as: UTF8.self) }
        #expect(r.err == """
            mtrun: \(q("dangling")): skipped: symbolic link (use -L to follow)
            mtrun: \(q("fifo")): skipped: fifo
            mtrun: \(q("link-to-a")): skipped: symbolic link (use -L to follow)
            mtrun: \(q("link-to-file")): skipped: symbolic link (use -L to follow)

            """)
    }

    @Test("-L follows links to files and directories, reports dangling links and loops, exit 1")
    func followLinks() {
        let t = Self.makeTree()
        defer { t.remove() }
        t.symlink("..", "a/b/up")
        let r = runEngine([Array("-rL".utf8), t.path])
        let p = String(decoding: t.path, as: UTF8.self)
        let names = r.stdout.split(separator: 0x0A).map { String(decoding: $0.dropFirst(66), as: UTF8.self) }
        #expect(names == ["B", "a/b/x", "a/z", "a-c", "a0", "link-to-a/b/x", "link-to-a/z", "link-to-file", "é", "\u{FFFD}"].map { p + "/" + $0 })
        #expect(r.status == 1)
        #expect(r.err.contains("a/b/up: File system loop detected; not entered\n"))
        #expect(r.err.contains("link-to-a/b/up: File system loop detected; not entered\n"))
        #expect(r.err.contains("dangling: No such file or directory\n"))
    }

    @Test("output is identical with --jobs 1 to 8 (and the non-UTF-8 name keeps its bytes)")
    func jobsDoNotChangeOutput() {
        let t = TempDir()
        defer { t.remove() }
        var rng = SplitMix(seed: 7)
        for d in 0..<6 {
            t.mkdir("d\(d)")
            for f in 0..<40 {
                let size = Int(rng.next() % 70_000)
                t.write(Array("d\(d)/f\(f)".utf8), (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ f) })
            }
        }
        t.write([0x64, 0x30, 0x2F, 0xC3, 0x28], [1, 2, 3])
        let reference = runEngine([Array("-r".utf8), t.path], jobs: 1)
        #expect(reference.status == 0)
        #expect(reference.stdout.split(separator: 0x0A).count == 241)
        #expect(reference.stdout.contains([0x2F, 0xC3, 0x28, 0x0A]))
        for jobs in 2...8 {
            #expect(runEngine([Array("-r".utf8), t.path], jobs: jobs) == reference, "--jobs \(jobs)")
        }
        // Same bytes as sha256sum on the same files in the same order.
        let files = reference.stdout.split(separator: 0x0A).map { Array($0.dropFirst(66)) }
        #expect(Spawn.run([Array("sha256sum".utf8)] + files).stdout == reference.stdout)
    }

    @Test("a directory operand without -r is an error like coreutils; with -r an empty directory prints nothing")
    func directories() {
        let t = TempDir()
        defer { t.remove() }
        t.mkdir("empty")
        let noR = runEngine([t.sub("empty")])
        #expect(noR.status == 1 && noR.err.hasSuffix("/empty: Is a directory\n") && noR.stdout.isEmpty)
        let withR = runEngine([Array("-r".utf8), t.sub("empty")])
        #expect(withR.status == 0 && withR.stdout.isEmpty && withR.stderr.isEmpty)
    }
}
