import Testing
@testable import SerialJobs

@Suite("Report types are values a client can build and compare")
struct ReportValueTests {
    @Test("StuckItem, ShutdownReport and StallReport are constructible and compare by value")
    func constructAndCompare() {
        let stuck = StuckItem(sequence: 7, stage: .parallel)
        #expect(stuck == StuckItem(sequence: 7, stage: .parallel))
        #expect(stuck != StuckItem(sequence: 7, stage: .queued))
        let report = ShutdownReport(completed: false, submitted: 10, serialized: 7, stuck: [stuck])
        #expect(report == ShutdownReport(completed: false, submitted: 10, serialized: 7, stuck: [stuck]))
        #expect(report.description.contains("3 items in flight"))
        let stall = StallReport(shellIndex: 2, oldest: stuck, inFlight: 3, stalledFor: .milliseconds(250))
        #expect(stall == StallReport(shellIndex: 2, oldest: stuck, inFlight: 3, stalledFor: .milliseconds(250)))
        #expect(stall.description.contains("250 ms"))
    }

    @Test("a shell's own shutdown report equals one built from the same facts")
    func shutdownMatches() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        for i in 0 ..< 3 { try shell.submit(parallel: { i }, serial: { _ in }) }
        let r = shell.shutdown(timeout: .seconds(60))
        #expect(r == ShutdownReport(completed: true, submitted: 3, serialized: 3, stuck: []))
    }
}
