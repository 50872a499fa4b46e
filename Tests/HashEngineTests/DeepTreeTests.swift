#if canImport(Glibc)
import Glibc
#endif
import HashEngine
import Testing

/// `-r` on trees deeper than PATH_MAX: every directory is opened relative to
/// its parent and the walker's descriptors stay bounded.
@Suite("-r walks trees deeper than PATH_MAX")
struct DeepTreeTests {
    static let depth = 300
    /// Level i's directory name (20 bytes: 300 levels make paths of about 6 KB).
    static func name(_ i: Int) -> [UInt8] {
        let digits = String(i)
        return Array(("d" + String(repeating: "0", count: 19 - digits.count) + digits).utf8)
    }

    /// root/d…0/d…1/…, a file "f" holding "level i\n" in each level, made
    /// with mkdirat/openat (no path is longer than one name).
    static func makeTree() -> TempDir {
        let t = TempDir()
        var fd = cString(t.path) { open($0, O_RDONLY | O_DIRECTORY) }
        precondition(fd >= 0)
        for i in 0..<depth {
            let child = cString(name(i)) { n -> Int32 in
                precondition(mkdirat(fd, n, 0o755) == 0, "mkdirat failed")
                return openat(fd, n, O_RDONLY | O_DIRECTORY)
            }
            close(fd)
            precondition(child >= 0)
            fd = child
            let f = openat(fd, "f", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            precondition(f >= 0)
            let text = Array("level \(i)\n".utf8)
            _ = text.withUnsafeBytes { Glibc.write(f, $0.baseAddress, $0.count) }
            close(f)
        }
        close(fd)
        return t
    }

    /// The lines sha256sum would print: level i's file is at root/d0/…/di/f,
    /// and each directory's "d…" entry sorts before its "f", so the deepest
    /// file comes first. Digests come from sha256sum on a shallow copy.
    static func expected(_ t: TempDir) -> [UInt8] {
        let scratch = TempDir()
        defer { scratch.remove() }
        var out: [UInt8] = []
        var paths: [[UInt8]] = []
        var path = t.path
        for i in 0..<depth {
            path += [UInt8(ascii: "/")] + name(i)
            paths.append(path + Array("/f".utf8))
        }
        for i in (0..<depth).reversed() {
            let copy = scratch.write("f", "level \(i)\n")
            let line = Spawn.run([Array("sha256sum".utf8), copy]).stdout
            out += Array(line[0..<64]) + Array("  ".utf8) + paths[i] + [0x0A]
        }
        return out
    }

    @Test("a tree 300 levels deep (paths of 6 KB) hashes every file, named by its full path, as sha256sum would")
    func deepTree() {
        let t = Self.makeTree()
        defer { t.remove() }
        let r = runEngine([Array("-r".utf8), t.path])
        #expect(r.err == "")
        #expect(r.status == 0)
        #expect(r.stdout == Self.expected(t))
        #expect(r.stdout.count > Int(PATH_MAX) * 2)
    }

    @Test("the walker re-opens directories it closed: 3 descriptors for 300 levels give the same walk")
    func fewDescriptors() {
        let t = Self.makeTree()
        defer { t.remove() }
        func walk(_ limit: Int) -> [String] {
            var seen: [String] = []
            TreeWalker(followLinks: false, maxOpenDirectories: limit).walk(root: t.path) { (e: WalkEntry) in
                switch e {
                case .file(let p, _, let dir):
                    // Opening by name in the handed directory must work however deep.
                    let fd = cString(Array("f".utf8)) { openat(dir!.fd, $0, O_RDONLY) }
                    seen.append("\(p.count) \(fd >= 0)")
                    if fd >= 0 { close(fd) }
                default: seen.append("\(e)")
                }
            }
            return seen
        }
        let few = walk(3)
        #expect(few.count == Self.depth)
        #expect(few.allSatisfy { $0.hasSuffix(" true") })
        #expect(few == walk(64))
    }

    @Test("a directory renamed away while the walk is below it is reported, not confused with another")
    func renamedAncestor() {
        let t = Self.makeTree()
        defer { t.remove() }
        var messages: [String] = []
        var files = 0
        var renamed = false
        TreeWalker(followLinks: false, maxOpenDirectories: 2).walk(root: t.path) { (e: WalkEntry) in
            switch e {
            case .file(let p, _, _):
                files += 1
                // Deep in the tree: replace level 0 by an empty directory of the same name.
                if !renamed && p.count > 5000 {
                    renamed = true
                    let a = t.sub(DeepTreeTests.name(0)), b = t.sub("moved")
                    _ = cString(a) { x in cString(b) { rename(x, $0) } }
                    _ = cString(a) { mkdir($0, 0o755) }
                }
            case .failure(_, let err): messages.append(err.message)
            default: messages.append("\(e)")
            }
        }
        #expect(renamed)
        #expect(files < Self.depth)
        #expect(!messages.isEmpty)
        #expect(messages.allSatisfy { $0 == SystemError(ESTALE).message })
    }
}
