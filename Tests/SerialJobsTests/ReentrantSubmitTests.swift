import Synchronization
import Testing
@testable import SerialJobs

@Suite("Parallel functions that submit to their own shell: progress or a clear error, never a hang")
struct ReentrantSubmitTests {
    /// Outcomes of inner submits, in the order they were tried.
    final class Outcomes: Sendable {
        let list = Mutex<[String]>([])
        func add(_ s: String) { list.withLock { $0.append(s) } }
        var all: [String] { list.withLock { $0 } }
    }

    /// Set by an outer parallel function when it is done submitting: only
    /// then may the test stop the shell (stop refuses new items).
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        func wait() { #expect(eventually { value.load(ordering: .acquiring) }) }
    }

    func describe(_ body: () throws(SerialJobsError) -> Void) -> String {
        do { try body(); return "ok" } catch { return "\(error == .reentrantSubmitWouldDeadlock ? "refused" : "\(error)")" }
    }

    @Test("window 2: the inner submit that needs room beyond its own item is refused, the others run in order")
    func windowTwo() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 2)
        let outcomes = Outcomes()
        let order = Mutex<[Int]>([])
        let done = Flag()
        try shell.submit(parallel: { () -> Int in
            for k in 1 ... 3 {
                outcomes.add(describe { () throws(SerialJobsError) in
                    try shell.submit(parallel: { k }, serial: { r in order.withLock { $0.append(try! r.get()) } })
                })
            }
            done.set()
            return 0
        }, serial: { r in order.withLock { $0.append(try! r.get()) } })
        done.wait()
        shell.stop()
        // Ticket 1 fits; ticket 2 needs item 0 serialized, which cannot
        // happen before the function returns; so does ticket 3.
        #expect(outcomes.all == ["ok", "refused", "refused"])
        #expect(order.withLock { $0 } == [0, 1])
    }

    @Test("window 1: every blocking self-submission from a parallel function is refused; trySubmit says busy")
    func windowOne() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 1)
        let outcomes = Outcomes()
        let done = Flag()
        try shell.submit(parallel: { () -> Int in
            outcomes.add(describe { () throws(SerialJobsError) in try shell.submit(parallel: { 1 }, serial: { _ in }) })
            outcomes.add(describe { () throws(SerialJobsError) in
                try shell.submit(completing: { (c: Completion<Int>) in c.doSerial(returning: 1) }, serial: { _ in })
            })
            outcomes.add(describe { () throws(SerialJobsError) in
                try shell.submit(contentsOf: [1, 2], parallel: { $0 }, serial: { _, _ in })
            })
            let busy = (try? shell.trySubmit(parallel: { 1 }, serial: { _ in })) == .busy
            outcomes.add(busy ? "busy" : "not busy")
            done.set()
            return 0
        }, serial: { _ in })
        done.wait()
        shell.stop()
        #expect(outcomes.all == ["refused", "refused", "refused", "busy"])
        #expect(shell.nextSequence == 1)
    }

    @Test("a batch from a parallel function submits what fits and reports the rest as refused")
    func batchInterrupted() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let caught = Mutex<SerialJobsError?>(nil)
        let serialized = Mutex<[Int]>([])
        let done = Flag()
        try shell.submit(parallel: { () -> Int in
            do {
                try shell.submit(contentsOf: 1 ... 10, parallel: { $0 }, serial: { i, _ in serialized.withLock { $0.append(i) } })
            } catch { caught.withLock { $0 = error as? SerialJobsError } }
            done.set()
            return 0
        }, serial: { _ in serialized.withLock { $0.append(0) } })
        done.wait()
        shell.stop()
        #expect(caught.withLock { $0 } == .batchInterrupted(submitted: 3, cause: .reentrantSubmitWouldDeadlock))
        #expect(serialized.withLock { $0 } == [0, 1, 2, 3])
    }

    @Test("an inner submit that needs only earlier items to drain waits and succeeds, whatever the runner's batching")
    func feasibleWaitsSucceed() throws {
        let instance = try Instance()
        for round in 0 ..< 200 {
            let window = 2 + round % 7
            let shell = try instance.makeShell(window: window)
            let order = Mutex<[Int]>([])
            let failures = Outcomes()
            let done = Flag()
            // Items 0 ..< window fill the window; the last one's parallel
            // function submits `window - 1` more, each of which needs some
            // earlier item (possibly of its own runner's batch) serialized.
            let last = window - 1
            for i in 0 ..< window {
                try shell.submit(parallel: { () -> Int in
                    if i == last {
                        for k in 0 ..< window - 1 {
                            let v = window + k
                            let r = describe { () throws(SerialJobsError) in
                                try shell.submit(parallel: { v }, serial: { r in order.withLock { $0.append(try! r.get()) } })
                            }
                            if r != "ok" { failures.add("inner \(k): \(r)") }
                        }
                        done.set()
                    }
                    return i
                }, serial: { r in order.withLock { $0.append(try! r.get()) } })
            }
            done.wait()
            shell.stop()
            #expect(failures.all.isEmpty, "round \(round) window \(window): \(failures.all)")
            #expect(order.withLock { $0 } == Array(0 ..< 2 * window - 1), "round \(round) window \(window)")
            if !failures.all.isEmpty { return }
        }
    }

    @Test("stop() and shutdown(timeout:) from a parallel function of the shell refuse new items and return at once")
    func stopFromParallel() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let completed = Atomic<Bool>(true)
        let serialized = Atomic<Int>(0)
        try shell.submit(parallel: { () -> Int in
            let report = shell.shutdown(timeout: .seconds(3600))
            completed.store(report.completed, ordering: .relaxed)
            shell.stop()
            return 0
        }, serial: { _ in serialized.add(1, ordering: .relaxed) })
        shell.stop()
        let shutdownCompleted = completed.load(ordering: .relaxed)
        #expect(!shutdownCompleted)
        #expect(serialized.load(ordering: .relaxed) == 1)
        #expect(throws: SerialJobsError.stopped) { try shell.submit(parallel: { 1 }, serial: { _ in }) }
    }
}
