#if canImport(Glibc)
import Glibc
#endif
@testable import HashEngine
import Testing

/// Small files go to the workers in groups (``HashRunner/PendingFiles``).
@Suite("small files hashed in groups: same lines, messages and order as one file per item")
struct GroupingTests {
    @Test("1,500 small files with skipped entries between them: grouped, and output equal to sha256sum's in walk order")
    func groupsKeepOrder() {
        let t = TempDir()
        defer { t.remove() }
        t.mkdir("d")
        var files: [[UInt8]] = []
        for i in 0..<1500 {
            let name = format4(i)
            if i % 250 == 125 {
                _ = cString(t.sub("d/\(name)-fifo")) { mkfifo($0, 0o644) }
            }
            let size = (i * 37) % 3000
            files.append(t.write(Array("d/\(name)".utf8), (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) }))
        }
        let out = MemorySink()
        let err = MemorySink()
        let console = Console(programName: "mtrun", stdout: out, stderr: err)
        guard case .success(.run(var options)) = HashCommandLine.parse([Array("-r".utf8), t.path], posixlyCorrect: false) else {
            Issue.record("parse failed")
            return
        }
        options.jobs = 2
        options.progress = false
        let runner = try! HashRunner(options: options, console: console, charset: .utf8)
        #expect(runner.run() == 0)
        #expect(out.bytes == Spawn.run([Array("sha256sum".utf8)] + files).stdout)
        let fifos = (0..<1500).filter { $0 % 250 == 125 }.map { "mtrun: \(String(decoding: t.sub("d/\(format4($0))-fifo"), as: UTF8.self)): skipped: fifo\n" }
        #expect(err.text == fifos.joined())
        // Grouping happened: far fewer items than files (the first window's
        // worth go alone, before any size is known).
        #expect(runner.itemsSubmitted.load(ordering: .relaxed) < 1000)
    }

    func format4(_ i: Int) -> String {
        let s = String(i)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
