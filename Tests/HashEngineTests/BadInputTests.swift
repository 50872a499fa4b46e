#if canImport(Glibc)
import Glibc
#endif
import HashEngine
import Testing

@Suite("bad input: one line or one message per operand, exit 1 if any failed")
struct BadInputTests {
    @Test("files that shrink, grow or vanish while being hashed: exactly one line or one error each, no crash")
    func changingFiles() async {
        let t = TempDir()
        defer { t.remove() }
        let count = 24
        let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
        for i in 0..<count {
            let p = t.sub("f\(i)")
            let fd = cString(p) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
            for _ in 0..<8 { chunk.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) } }
            close(fd)
        }
        let paths = (0..<count).map { t.sub("f\($0)") }
        let mutator = Task.detached {
            for i in 0..<count {
                switch i % 3 {
                case 0: _ = cString(paths[i]) { truncate($0, off_t(i * 1000)) }
                case 1: _ = cString(paths[i]) { unlink($0) }
                default:
                    let fd = cString(paths[i]) { open($0, O_WRONLY | O_APPEND) }
                    if fd >= 0 { _ = write(fd, "more", 4); close(fd) }
                }
                var ts = timespec(tv_sec: 0, tv_nsec: 200_000)
                nanosleep(&ts, nil)
            }
        }
        let r = runEngine(paths, jobs: 2)
        await mutator.value
        let lines = r.stdout.split(separator: 0x0A).count
        let errors = r.stderr.split(separator: 0x0A).count
        #expect(lines + errors == count)
        #expect(r.err.split(separator: "\n").allSatisfy { $0.hasSuffix(": No such file or directory") })
        #expect(r.status == (errors > 0 ? 1 : 0))
    }

    @Test("empty file, missing file, directory, a file removed before hashing: coreutils' lines and messages")
    func simpleBadInputs() {
        let t = TempDir()
        defer { t.remove() }
        let empty = t.write("empty", "")
        let gone = t.write("gone", "x")
        _ = cString(gone) { unlink($0) }
        t.mkdir("dir")
        let ops = [empty, t.sub("missing"), t.sub("dir"), gone, empty]
        let ours = runEngine(ops)
        let theirs = asMtrun(Spawn.run([Array("sha256sum".utf8)] + ops), program: "sha256sum")
        #expect(ours == theirs)
        #expect(ours.status == 1)
        #expect(ours.stdout.split(separator: 0x0A).count == 2)
        #expect(ours.stderr.split(separator: 0x0A).count == 3)
    }

    @Test("--json: one object per operand, errors as objects, non-UTF-8 bytes as surrogate escapes")
    func json() {
        let t = TempDir()
        defer { t.remove() }
        let a = t.write("a", "abc")
        let odd = t.write([0x71, 0x22, 0xFF, 0x0A], [])
        let r = runEngine([Array("--json".utf8), a, t.sub("missing"), odd])
        let p = String(decoding: t.path, as: UTF8.self)
        #expect(r.out == """
            {"path":"\(p)/a","algorithm":"sha256","digest":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","bytes":3,"error":null}
            {"path":"\(p)/missing","algorithm":"sha256","digest":null,"bytes":null,"error":"No such file or directory"}
            {"path":"\(p)/q\\"\\udcff\\n","algorithm":"sha256","digest":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","bytes":0,"error":null}

            """)
        #expect(r.status == 1 && r.stderr.isEmpty)
        let refused = runEngine(args("--json", "--tag", "x"))
        #expect(refused.status == 1 && refused.err.hasPrefix("mtrun: the --json option cannot be combined"))
    }

    @Test("every algorithm agrees with its coreutils program on a multi-buffer file read through the digester")
    func digesterAcrossBuffers() throws {
        let t = TempDir()
        defer { t.remove() }
        let data = (0..<(3 * 262_144 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let p = t.write(Array("data".utf8), data)
        for a in HashAlgorithm.allCases {
            for size in [4096, 65536, 262_144, 1 << 20] {
                let d = try FileDigester(algorithm: a, bufferSize: size).digest(path: p)
                #expect(d.digest == a.digest(of: data) && d.byteCount == UInt64(data.count), "\(a) \(size)")
            }
        }
        #expect(throws: SystemError(ENOENT)) { try FileDigester(algorithm: .sha256).digest(path: t.sub("nope")) }
        #expect(throws: SystemError(EISDIR)) { try FileDigester(algorithm: .sha256).digest(path: t.path) }
    }
}
