#if canImport(Glibc)
import Glibc
#endif
import HashEngine

/// A scratch directory under /tmp, removed by `remove()`.
struct TempDir {
    let path: [UInt8]

    init() {
        var template = Array("/tmp/mtrun-hash-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        path = Array(String(cString: p!).utf8)
    }

    /// `path/name`.
    func sub(_ name: [UInt8]) -> [UInt8] { path + [UInt8(ascii: "/")] + name }
    func sub(_ name: String) -> [UInt8] { sub(Array(name.utf8)) }

    @discardableResult
    func write(_ name: [UInt8], _ contents: [UInt8]) -> [UInt8] {
        let full = sub(name)
        let fd = cString(full) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0, "open failed")
        contents.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return full
    }

    @discardableResult
    func write(_ name: String, _ contents: String) -> [UInt8] { write(Array(name.utf8), Array(contents.utf8)) }

    func mkdir(_ name: [UInt8]) { _ = cString(sub(name)) { Glibc.mkdir($0, 0o755) } }
    func mkdir(_ name: String) { mkdir(Array(name.utf8)) }

    func symlink(_ target: String, _ name: String) {
        _ = cString(Array(target.utf8)) { t in cString(sub(name)) { Glibc.symlink(t, $0) } }
    }

    func remove() { _ = Spawn.run([Array("rm".utf8), Array("-rf".utf8), path]) }
}

func cString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var c = bytes
    c.append(0)
    return c.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
}

/// Runs a program with byte arguments (file names need not be UTF-8) and
/// collects its exit status, standard output and standard error.
enum Spawn {
    struct Output: Equatable, CustomStringConvertible {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        var out: String { String(decoding: stdout, as: UTF8.self) }
        var err: String { String(decoding: stderr, as: UTF8.self) }
        var description: String { "status \(status)\n--- stdout\n\(out)--- stderr\n\(err)" }
    }

    static func run(_ argv: [[UInt8]], cwd: [UInt8]? = nil, stdin: [UInt8]? = nil, env: [String]? = nil) -> Output {
        let dir = TempFiles.shared
        let id = dir.next()
        let outPath = dir.base + Array("/o\(id)".utf8)
        let errPath = dir.base + Array("/e\(id)".utf8)
        let inPath = dir.base + Array("/i\(id)".utf8)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            writeFile(inPath, stdin)
            _ = cString(inPath) { posix_spawn_file_actions_addopen(&actions, 0, $0, O_RDONLY, 0) }
        } else {
            _ = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        _ = cString(outPath) { posix_spawn_file_actions_addopen(&actions, 1, $0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        _ = cString(errPath) { posix_spawn_file_actions_addopen(&actions, 2, $0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        // `env -C DIR` runs the program in DIR.
        let argv = cwd.map { [Array("env".utf8), Array("-C".utf8), $0] + argv } ?? argv
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { a in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: a.count + 1)
            for (i, b) in a.enumerated() { p[i] = CChar(bitPattern: b) }
            p[a.count] = 0
            return p
        }
        cargs.append(nil)
        let environment = env ?? ["PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8"]
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
        let o = Output(status: code, stdout: readFile(outPath), stderr: readFile(errPath))
        for p in [outPath, errPath, inPath] { _ = cString(p) { unlink($0) } }
        return o
    }

    static func run(_ argv: [String], cwd: [UInt8]? = nil, stdin: [UInt8]? = nil) -> Output {
        run(argv.map { Array($0.utf8) }, cwd: cwd, stdin: stdin)
    }

    static func run(_ argv: [String], _ more: [[UInt8]], cwd: [UInt8]? = nil, stdin: [UInt8]? = nil) -> Output {
        run(argv.map { Array($0.utf8) } + more, cwd: cwd, stdin: stdin)
    }

    static func readFile(_ path: [UInt8]) -> [UInt8] {
        let fd = cString(path) { open($0, O_RDONLY) }
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func writeFile(_ path: [UInt8], _ bytes: [UInt8]) {
        let fd = cString(path) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// A process-wide scratch directory for captured output.
final class TempFiles: Sendable {
    static let shared = TempFiles()
    let base: [UInt8]
    private let counter = Counter()

    init() {
        var template = Array("/tmp/mtrun-spawn-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        base = Array(String(cString: p!).utf8)
    }

    func next() -> Int { counter.next() }
}

import Synchronization

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Runs the engine in this process on `args` and captures what it prints.
func runEngine(_ args: [[UInt8]], charset: Charset = .utf8, jobs: Int? = nil) -> Spawn.Output {
    let out = MemorySink()
    let err = MemorySink()
    let console = Console(programName: "mtrun", stdout: out, stderr: err)
    switch HashCommandLine.parse(args, posixlyCorrect: false) {
    case .failure(let e):
        console.error(e.message)
        console.raw(stderr: Array("Try 'mtrun hash --help' for more information.\n".utf8))
        return Spawn.Output(status: 1, stdout: out.bytes, stderr: err.bytes)
    case .success(.run(var options)):
        if let jobs { options.jobs = jobs }
        options.progress = false
        let runner = try! HashRunner(options: options, console: console, charset: charset)
        let status = runner.run()
        return Spawn.Output(status: status, stdout: out.bytes, stderr: err.bytes)
    case .success:
        return Spawn.Output(status: 0, stdout: [], stderr: [])
    }
}

func args(_ strings: String...) -> [[UInt8]] { strings.map { Array($0.utf8) } }
func args(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }

/// coreutils' output with its program name replaced by ours.
func asMtrun(_ o: Spawn.Output, program: String) -> Spawn.Output {
    var r = o
    r.stderr = replace(o.stderr, Array("\(program):".utf8), Array("mtrun:".utf8))
    r.stderr = replace(r.stderr, Array("Try '\(program) --help'".utf8), Array("Try 'mtrun hash --help'".utf8))
    return r
}

func replace(_ s: [UInt8], _ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < s.count {
        if i + a.count <= s.count && Array(s[i..<(i + a.count)]) == a {
            out.append(contentsOf: b)
            i += a.count
        } else {
            out.append(s[i])
            i += 1
        }
    }
    return out
}
