import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs the TrapProbe executable built beside the test bundle (this target
/// depends on it) and captures its standard error and how it ended.
func runProbe(_ name: String) -> (signaled: Bool, stderr: String) {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { return (false, "cannot read /proc/self/exe") }
    var dir = String(decoding: buf[0 ..< n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    while let last = dir.last, last != "/" { dir.removeLast() }
    let exe = dir + "TrapProbe"
    let errPath = "/tmp/trapprobe-\(getpid())-\(name).err"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(exe), strdup(name), nil]
    defer { for p in argv { free(p) } }
    guard posix_spawn(&pid, exe, &actions, nil, argv, environ) == 0 else { return (false, "cannot spawn \(exe)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    defer { unlink(errPath) }
    var text: [UInt8] = []
    if let f = fopen(errPath, "r") {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let k = fread(&chunk, 1, chunk.count, f)
            if k == 0 { break }
            text += chunk[0 ..< k]
        }
        fclose(f)
    }
    // WIFSIGNALED: the low 7 bits hold the signal, and are neither 0 nor 0x7f.
    let sig = status & 0x7f
    return (sig != 0 && sig != 0x7f, String(decoding: text, as: UTF8.self))
}

@Suite("Documented traps print their message, in debug and release builds")
struct TrapMessageTests {
    @Test("Completion.doSerial called twice traps naming the item")
    func doSerialTwice() {
        let r = runProbe("doSerial-twice")
        #expect(r.signaled, "the probe did not trap: \(r.stderr)")
        #expect(r.stderr.contains("doSerial called twice for item 0"), "stderr: \(r.stderr)")
    }

    @Test("inserting a negative CPU index into a CPUSet traps naming the index")
    func negativeCPU() {
        let r = runProbe("cpuset-negative")
        #expect(r.signaled, "the probe did not trap: \(r.stderr)")
        #expect(r.stderr.contains("CPUSet: negative CPU index -98"), "stderr: \(r.stderr)")
    }

    @Test("writing outside its chunk through a MutableChunk traps naming the index and the chunk")
    func chunkOutside() {
        let r = runProbe("chunk-outside")
        #expect(r.signaled, "the probe did not trap: \(r.stderr)")
        #expect(r.stderr.contains("MutableChunk: index 100 is outside this chunk's indices 0..<100"), "stderr: \(r.stderr)")
    }
}
