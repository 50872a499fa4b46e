import Dispatch
import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs
#if canImport(Glibc)
import Glibc
#endif

@Suite("SerialJobs lifecycle and backpressure")
struct LifecycleTests {
    @Test("stop refuses new items and waits until every in-flight item is serialized")
    func stopWithItemsInFlight() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 64)
        let checker = OrderChecker()
        let completers = Completers(2)
        for i in 0..<50 {
            try shell.submit(completing: { (c: Completion<Int>) in
                completers.run(i) {
                    usleep(UInt32(200 * (i % 5)))
                    c.doSerial(returning: i)
                }
            }, serial: { r in checker.see(UInt64(try! r.get())) })
        }
        shell.stop()
        #expect(checker.count == 50)
        #expect(checker.errorCount == 0)
        #expect(throws: SerialJobsError.stopped) { try shell.submit(parallel: { 0 }, serial: { _ in }) }
        shell.start()
        try shell.submit(parallel: { 50 }, serial: { r in checker.see(UInt64(try! r.get())) })
        shell.stop()
        #expect(checker.count == 51)
    }

    @Test("shutdown with a timeout reports the stuck items, oldest first, with their stage; a late completion still serializes")
    func shutdownReportsStuck() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 16, startingSequence: 100)
        let held = Mutex<Completion<Int>?>(nil)
        let checker = OrderChecker(start: 100)
        try shell.submit(parallel: { 0 }, serial: { _ in checker.see(100) })
        try shell.submit(completing: { (c: Completion<Int>) in held.withLock { $0 = c } },
                         serial: { _ in checker.see(101) })
        for i in 2..<5 {
            try shell.submit(parallel: { i }, serial: { _ in checker.see(100 + UInt64(i)) })
        }
        #expect(eventually { held.withLock { $0 != nil } && shell.ring.isReady(4) })
        let report = shell.shutdown(timeout: .milliseconds(50))
        #expect(!report.completed)
        #expect(report.serialized == 1)
        #expect(report.stuck.first == StuckItem(sequence: 101, stage: .parallel))
        #expect(report.stuck.count == 4)
        #expect(report.stuck.dropFirst().allSatisfy { $0.stage == .awaitingSerial })
        #expect(throws: SerialJobsError.stopped) { try shell.submit(parallel: { 0 }, serial: { _ in }) }
        held.withLock { $0?.doSerial(returning: 1); $0 = nil }
        let second = shell.shutdown(timeout: .seconds(10))
        #expect(second.completed)
        #expect(checker.count == 5)
        #expect(checker.errorCount == 0)
    }

    @Test("instance stop refuses new items in every shell and drains them; start accepts again")
    func instanceStartStop() throws {
        let instance = try Instance()
        let a = try instance.makeShell(window: 8)
        let b = try instance.makeShell(window: 8)
        let count = Atomic<Int>(0)
        for i in 0..<100 {
            try a.submit(parallel: { i }, serial: { _ in count.wrappingAdd(1, ordering: .relaxed) })
            try b.submit(parallel: { i }, serial: { _ in count.wrappingAdd(1, ordering: .relaxed) })
        }
        instance.stop()
        #expect(count.load(ordering: .relaxed) == 200)
        #expect(throws: SerialJobsError.stopped) { try a.submit(parallel: { 0 }, serial: { _ in }) }
        instance.start()
        try a.submit(parallel: { 0 }, serial: { _ in count.wrappingAdd(1, ordering: .relaxed) })
        a.stop()
        #expect(count.load(ordering: .relaxed) == 201)
    }

    @Test("trySubmit returns busy while the window is full and submits once there is room")
    func trySubmitBusy() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 3)
        let held = Mutex<[Completion<Int>]>([])
        for _ in 0..<3 {
            let r = try shell.trySubmit(completing: { (c: Completion<Int>) in held.withLock { $0.append(c) } }, serial: { _ in })
            #expect(r.submission != nil)
        }
        #expect(try shell.trySubmit(parallel: { 0 }, serial: { _ in }) == .busy)
        #expect(shell.inFlight == 3)
        #expect(eventually { held.withLock { $0.count } == 3 })
        for c in held.withLock({ $0 }) { c.doSerial(returning: 0) }
        held.withLock { $0.removeAll() }
        #expect(eventually { shell.inFlight == 0 })
        #expect(try shell.trySubmit(parallel: { 0 }, serial: { _ in }).submission?.sequence == 3)
        shell.stop()
    }

    @Test("submit blocks and async submit suspends while the window is full; in-flight never exceeds the window")
    func blockingAndSuspending() async throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let maxInFlight = Atomic<Int>(0)
        let live = Atomic<Int>(0)
        let n = scaled(5_000, 100_000)
        for i in 0..<n {
            try await shell.submit(parallel: { () -> Int in
                let l = live.wrappingAdd(1, ordering: .relaxed).newValue
                var m = maxInFlight.load(ordering: .relaxed)
                while l > m, !maxInFlight.compareExchange(expected: m, desired: l, ordering: .relaxed).exchanged {
                    m = maxInFlight.load(ordering: .relaxed)
                }
                return i
            }, serial: { _ in live.wrappingAdd(-1, ordering: .relaxed) })
            #expect(shell.inFlight <= 4)
        }
        // Blocking submit from a plain thread while the window is full.
        let held = Mutex<[Completion<Int>]>([])
        for _ in 0..<4 {
            try await shell.submit(completing: { (c: Completion<Int>) in held.withLock { $0.append(c) } }, serial: { _ in })
        }
        let returned = Atomic<Bool>(false)
        let thread = Completers(1)
        thread.run(0) {
            try! shell.submit(parallel: { 0 }, serial: { _ in })
            returned.store(true, ordering: .relaxed)
        }
        #expect(eventually { held.withLock { $0.count } == 4 })
        usleep(20_000)
        let returnedEarly = returned.load(ordering: .relaxed)
        #expect(!returnedEarly)
        for c in held.withLock({ $0 }) { c.doSerial(returning: 0) }
        held.withLock { $0.removeAll() }
        #expect(eventually { returned.load(ordering: .relaxed) })
        shell.stop()
        #expect(maxInFlight.load(ordering: .relaxed) <= 4)
    }

    @Test("the watchdog names the oldest unfinished sequence number of a stalled shell")
    func watchdogNamesStuckItem() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8, startingSequence: 7)
        let reports = Mutex<[StallReport]>([])
        let dog = instance.watchdog(period: .milliseconds(20)) { r in reports.withLock { $0.append(r) } }
        let held = Mutex<Completion<Int>?>(nil)
        try shell.submit(parallel: { 0 }, serial: { _ in })
        try shell.submit(completing: { (c: Completion<Int>) in held.withLock { $0 = c } }, serial: { _ in })
        try shell.submit(parallel: { 2 }, serial: { _ in })
        #expect(eventually { !reports.withLock { $0.isEmpty } })
        let r = reports.withLock { $0.first }
        #expect(r?.oldest == StuckItem(sequence: 8, stage: .parallel))
        #expect(r?.inFlight == 2)
        #expect(r?.shellIndex == shell.index)
        held.withLock { $0?.doSerial(returning: 1); $0 = nil }
        shell.stop()
        dog.cancel()
    }
}
