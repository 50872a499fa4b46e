@testable import HashEngine
import Testing

@Suite("--progress")
struct ProgressTests {
    @Test("the status line shows files, bytes, rate and an ETA once the walk is over")
    func line() {
        let err = MemorySink()
        let console = Console(stdout: MemorySink(), stderr: err)
        let digester = FileDigester(algorithm: .sha256)
        let meter = ProgressMeter(console: console, digester: digester)
        digester.bytesHashed.store(5_000_000, ordering: .relaxed)
        meter.bytesKnown.store(10_000_000, ordering: .relaxed)
        meter.finished()
        #expect(meter.line().hasPrefix("1 files, 5.0 MB, "))
        #expect(meter.line().hasSuffix(", ETA ?"))
        meter.walkFinished()
        #expect(meter.line().contains(", ETA "))
        #expect(!meter.line().contains("?"))
        #expect(ProgressMeter.size(999) == "999.0 B" && ProgressMeter.size(1_234_567) == "1.2 MB")
    }

    @Test("the progress line is erased before output and messages, and at the end")
    func erasing() {
        let out = MemorySink()
        let err = MemorySink()
        let console = Console(stdout: out, stderr: err)
        console.showProgress("3 files")
        console.error("x: No such file or directory")
        console.showProgress("4 files, more")
        console.showProgress("5")
        console.endProgress()
        #expect(err.text == "\r3 files\r       \rmtrun: x: No such file or directory\n\r4 files, more\r5            \r5\r \r")
        #expect(out.bytes.isEmpty)
    }

    @Test("--progress does not change standard output")
    func outputUnchanged() {
        let t = TempDir()
        defer { t.remove() }
        for i in 0..<50 { t.write("f\(i)", String(repeating: "x", count: i * 1000)) }
        let plain = runEngine([Array("-r".utf8), t.path])
        let o = MemorySink(), e = MemorySink()
        guard case .success(.run(let options)) = HashCommandLine.parse([Array("--progress".utf8), Array("-r".utf8), t.path], posixlyCorrect: false) else {
            Issue.record("refused"); return
        }
        let runner = try! HashRunner(options: options, console: Console(stdout: o, stderr: e), charset: .utf8)
        #expect(runner.run() == 0)
        #expect(o.bytes == plain.stdout)
        #expect(e.bytes.allSatisfy { $0 != 0x0A }, "only \\r-redrawn lines on stderr")
    }
}
