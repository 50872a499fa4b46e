import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs
#if canImport(Glibc)
import Glibc
#endif

@Suite("SerialJobs misuse and lanes")
struct MisuseTests {
    @Test("an empty parallel or serial CPU set throws emptyCPUSet")
    func emptySets() throws {
        #expect(throws: SerialJobsError.emptyCPUSet(.parallel)) { try Instance(parallelCPUs: CPUSet()) }
        #expect(throws: SerialJobsError.emptyCPUSet(.serial)) { try Instance(serialCPUs: CPUSet()) }
        let instance = try Instance()
        #expect(throws: SerialJobsError.emptyCPUSet(.serial)) { try instance.setCPUs(serial: CPUSet()) }
    }

    @Test("CPUs the pool does not run on throw cpusNotInPool")
    func cpusNotInPool() throws {
        #expect(throws: SerialJobsError.cpusNotInPool([4096])) { try Instance(parallelCPUs: [4096]) }
        #expect(throws: SerialJobsError.cpusNotInPool([9])) { try Instance(pool: sixPUPool, serialCPUs: [1, 9]) }
    }

    @Test("a window smaller than one throws invalidWindow")
    func badWindow() throws {
        let instance = try Instance()
        #expect(throws: SerialJobsError.invalidWindow(0)) { try instance.makeShell(window: 0) }
        #expect(throws: SerialJobsError.invalidWindow(-5)) { try instance.makeShell(window: -5) }
    }

    @Test("a negative callback-CPU hint throws invalidCallbackCPU and submits nothing")
    func negativeHint() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        #expect(throws: SerialJobsError.invalidCallbackCPU(-1)) {
            try shell.submit(callbackCPU: -1, parallel: { 1 }, serial: { _ in })
        }
        #expect(shell.nextSequence == 0)
    }

    @Test("a hint outside the serial set maps to serial.nth(hint % count), inside it is kept, and the caller learns it")
    func hintMapping() throws {
        let instance = try Instance(pool: sixPUPool, serialCPUs: [1, 3, 5])
        let shell = try instance.makeShell(window: 4)
        let expected = [0: 1, 1: 1, 2: 5, 3: 3, 4: 3, 5: 5, 6: 1, 7: 3, 100: 3, 1_000_003: [1, 3, 5][1_000_003 % 3]]
        for (hint, lane) in expected.sorted(by: { $0.key < $1.key }) {
            let sub = try shell.submit(callbackCPU: hint, parallel: { 0 }, serial: { _ in })
            #expect(sub.callbackCPU == lane, "hint \(hint)")
        }
        shell.stop()
    }

    @Test("with callbackCPU placement every serial function runs on a pool worker of its lane")
    func placementOnLane() throws {
        let instance = try Instance(pool: sixPUPool)
        let shell = try instance.makeShell(window: 32, placement: .callbackCPU)
        let wrong = Atomic<Int>(0)
        let n = scaled(3_000, 50_000)
        for i in 0..<n {
            let lane = i % 6
            try shell.submit(callbackCPU: lane, parallel: { i }, serial: { _ in
                if WorkerPool.current?.cpu != lane || !sixPUPool.isCurrentThreadWorker { wrong.wrappingAdd(1, ordering: .relaxed) }
            })
        }
        shell.stop()
        #expect(wrong.load(ordering: .relaxed) == 0)
    }

    @Test("with anyWorker placement serial functions run on pool workers, never on the submitting thread")
    func placementAnyWorker() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 32, placement: .anyWorker)
        let foreign = Atomic<Int>(0)
        for i in 0..<2_000 {
            try shell.submit(parallel: { i }, serial: { _ in
                if !instance.pool.isCurrentThreadWorker { foreign.wrappingAdd(1, ordering: .relaxed) }
            })
        }
        shell.stop()
        #expect(foreign.load(ordering: .relaxed) == 0)
    }

    @Test("a serial function submitting to its own full shell gets reentrantSubmitWouldDeadlock instead of hanging")
    func reentrantSubmit() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 1)
        let got = Mutex<SerialJobsError?>(nil)
        try shell.submit(parallel: { 0 }, serial: { _ in
            do {
                // The window (1) is held by this very item until it returns.
                try shell.submit(parallel: { 1 }, serial: { _ in })
            } catch {
                got.withLock { $0 = error as? SerialJobsError }
            }
        })
        #expect(eventually { got.withLock { $0 != nil } })
        shell.stop()
        #expect(got.withLock { $0 } == .reentrantSubmitWouldDeadlock)
    }

    @Test("a dropped Completion serializes its item with completionDropped instead of stalling")
    func droppedCompletion() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let results = Mutex<[Result<Int, SerialJobsError>]>([])
        try shell.submit(completing: { (_: Completion<Int>) in }, serial: { r in
            results.withLock { $0.append(r.mapError { $0 as! SerialJobsError }) }
        })
        try shell.submit(parallel: { 7 }, serial: { r in results.withLock { $0.append(r.mapError { $0 as! SerialJobsError }) } })
        shell.stop()
        #expect(results.withLock { $0 } == [.failure(.completionDropped(sequence: 0)), .success(7)])
    }

    @Test("doSerial twice for one item traps with a clear message")
    func doSerialTwiceTraps() async throws {
        await #expect(processExitsWith: .failure) {
            let instance = try Instance()
            let shell = try instance.makeShell(window: 4)
            let box = Mutex<Completion<Int>?>(nil)
            try shell.submit(completing: { (c: Completion<Int>) in box.withLock { $0 = c } }, serial: { _ in })
            while box.withLock({ $0 == nil }) { usleep(100) }
            let c = box.withLock { $0! }
            // On this thread, so the process cannot end between the calls.
            c.doSerial(returning: 1)
            c.doSerial(returning: 2)
        }
    }
}
