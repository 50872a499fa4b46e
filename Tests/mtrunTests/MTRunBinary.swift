#if canImport(Glibc)
import Glibc
#endif

/// The built `mtrun` executable and a way to run it with byte arguments.
///
/// On Linux the test bundle is an executable in the build directory
/// (`.build/<triple>/debug/mtjobsPackageTests.xctest`) and `mtrun` is built
/// beside it (this target depends on it).
enum MTRunBinary {
    /// Absolute path of the `mtrun` binary next to the test bundle.
    static let path: [UInt8] = {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        precondition(n > 0, "cannot read /proc/self/exe")
        var dir = Array(buf[0..<n].map { UInt8(bitPattern: $0) })
        while let last = dir.last, last != UInt8(ascii: "/") { dir.removeLast() }
        return dir + Array("mtrun".utf8)
    }()

    /// What a run printed and returned.
    struct Output: Equatable, CustomStringConvertible {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var out: String { String(decoding: stdout, as: UTF8.self) }
        var err: String { String(decoding: stderr, as: UTF8.self) }
        var description: String { "status \(status)\n--- stdout\n\(out)--- stderr\n\(err)" }
    }

    /// Runs `argv` (argv[0] looked up in PATH unless it holds a slash) in
    /// `cwd` with `stdin` as standard input; output is captured in files.
    static func run(_ argv: [[UInt8]], cwd: [UInt8]? = nil, stdin: [UInt8]? = nil) -> Output {
        let id = counter.next()
        let base = Array("/tmp/mtrun-e2e-\(getpid())-\(id)".utf8)
        let outPath = base + Array(".out".utf8)
        let errPath = base + Array(".err".utf8)
        let inPath = base + Array(".in".utf8)
        write(inPath, stdin ?? [])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        _ = c(inPath) { posix_spawn_file_actions_addopen(&actions, 0, $0, O_RDONLY, 0) }
        _ = c(outPath) { posix_spawn_file_actions_addopen(&actions, 1, $0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        _ = c(errPath) { posix_spawn_file_actions_addopen(&actions, 2, $0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        let full = cwd.map { [Array("env".utf8), Array("-C".utf8), $0] + argv } ?? argv
        var cargs: [UnsafeMutablePointer<CChar>?] = full.map { a in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: a.count + 1)
            for (i, b) in a.enumerated() { p[i] = CChar(bitPattern: b) }
            p[a.count] = 0
            return p
        }
        cargs.append(nil)
        let environment: [String] = ["PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8"]
        var cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        cenv.append(nil)
        defer {
            for p in cargs { p?.deallocate() }
            for p in cenv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, cargs[0]!, &actions, nil, cargs, cenv)
        precondition(rc == 0, "posix_spawnp failed: \(rc)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let o = Output(status: code, stdout: read(outPath), stderr: read(errPath))
        for p in [outPath, errPath, inPath] { _ = c(p) { unlink($0) } }
        return o
    }

    /// Runs `mtrun` with `args`.
    static func mtrun(_ args: [[UInt8]], cwd: [UInt8]? = nil, stdin: [UInt8]? = nil) -> Output {
        run([path] + args, cwd: cwd, stdin: stdin)
    }

    static func c<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        var s = bytes
        s.append(0)
        return s.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
    }

    static func read(_ path: [UInt8]) -> [UInt8] {
        let fd = c(path) { open($0, O_RDONLY) }
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func write(_ path: [UInt8], _ bytes: [UInt8]) {
        let fd = c(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private static let counter = HashTestCounter()
}

import Synchronization

final class HashTestCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// `[String]` → byte arguments.
func bytesArgs(_ s: [String]) -> [[UInt8]] { s.map { Array($0.utf8) } }

/// coreutils' output with its program name replaced by `mtrun`.
func asMtrun(_ o: MTRunBinary.Output, program: String) -> MTRunBinary.Output {
    func replace(_ s: [UInt8], _ a: String, _ b: String) -> [UInt8] {
        let a = Array(a.utf8), b = Array(b.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            if i + a.count <= s.count && s[i..<(i + a.count)].elementsEqual(a) { out += b; i += a.count } else { out.append(s[i]); i += 1 }
        }
        return out
    }
    var r = o
    r.stderr = replace(replace(o.stderr, "\(program):", "mtrun:"), "Try '\(program) --help'", "Try 'mtrun hash --help'")
    return r
}
