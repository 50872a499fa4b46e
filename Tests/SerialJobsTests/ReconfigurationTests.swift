import Dispatch
import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs
#if canImport(Glibc)
import Glibc
#endif

@Suite("SerialJobs CPU-set changes")
struct ReconfigurationTests {
    @Test("changing the parallel and serial sets every millisecond under load keeps order and loses or repeats nothing")
    func changesUnderLoad() throws {
        let instance = try Instance(pool: sixPUPool)
        let shells = try (0..<3).map { _ in try instance.makeShell(window: 64) }
        let checkers = shells.map { _ in OrderChecker() }
        let stopFlag = Atomic<Bool>(false)
        let changes = Atomic<Int>(0)
        let changer = Completers(1)
        let changerDone = Atomic<Bool>(false)
        changer.run(0) {
            var rng = SplitMix(state: 7)
            while !stopFlag.load(ordering: .relaxed) {
                let p = CPUSet((0..<6).filter { _ in rng.next() % 2 == 0 })
                let s = CPUSet((0..<6).filter { _ in rng.next() % 2 == 0 })
                if !p.isEmpty && !s.isEmpty {
                    try! instance.setCPUs(parallel: p, serial: s)
                    changes.wrappingAdd(1, ordering: .relaxed)
                }
                usleep(1_000)
            }
            changerDone.store(true, ordering: .relaxed)
        }
        let n = scaled(5_000, 300_000)
        let completers = Completers(2)
        for i in 0..<n {
            for (k, shell) in shells.enumerated() {
                if i % 3 == 0 {
                    try shell.submit(callbackCPU: i, completing: { (c: Completion<Int>) in
                        completers.run(i) { c.doSerial(returning: i) }
                    }, serial: { r in checkers[k].see(UInt64(try! r.get())) })
                } else {
                    try shell.submit(callbackCPU: i, parallel: { () -> Int in
                        if i % 11 == 0 { spin(ns: 3_000) }
                        return i
                    }, serial: { r in checkers[k].see(UInt64(try! r.get())) })
                }
            }
        }
        for s in shells { s.stop() }
        stopFlag.store(true, ordering: .relaxed)
        #expect(eventually { changerDone.load(ordering: .relaxed) })
        #expect(changes.load(ordering: .relaxed) > 0)
        for c in checkers {
            #expect(c.count == UInt64(n))
            #expect(c.errorCount == 0)
        }
    }

    @Test("observers and the AsyncStream are told the new effective sets")
    func observers() async throws {
        let instance = try Instance(pool: sixPUPool)
        let seen = Mutex<[CPUSets]>([])
        let observation = instance.onCPUSetsChange { e in seen.withLock { $0.append(e) } }
        var updates = instance.cpuSetUpdates().makeAsyncIterator()
        let initial = await updates.next()
        #expect(initial == CPUSets(parallel: CPUSet(0..<6), serial: CPUSet(0..<6)))
        try instance.setCPUs(parallel: [1, 2])
        try instance.setCPUs(serial: [4])
        #expect(seen.withLock { $0 } == [
            CPUSets(parallel: [1, 2], serial: CPUSet(0..<6)),
            CPUSets(parallel: [1, 2], serial: [4]),
        ])
        let latest = await updates.next()
        #expect(latest == CPUSets(parallel: [1, 2], serial: [4]))
        observation.cancel()
        try instance.addCPU(5, to: .serial)
        #expect(seen.withLock { $0.count } == 2)
        #expect(instance.cpus == CPUSets(parallel: [1, 2], serial: [4, 5]))
        try instance.removeCPU(1, from: .both)
        #expect(instance.cpus == CPUSets(parallel: [2], serial: [4, 5]))
        #expect(throws: SerialJobsError.emptyCPUSet(.parallel)) { try instance.removeCPU(2, from: .parallel) }
    }

    @Test("an item whose lane leaves the serial set is serialized on the re-mapped lane, in order")
    func laneLeavesSet() throws {
        let instance = try Instance(pool: sixPUPool, serialCPUs: [0, 1, 2])
        let shell = try instance.makeShell(window: 8)
        let held = Mutex<Completion<Int>?>(nil)
        let lanes = Mutex<[Int?]>([])
        let s0 = try shell.submit(callbackCPU: 2, completing: { (c: Completion<Int>) in held.withLock { $0 = c } },
                                  serial: { _ in lanes.withLock { $0.append(WorkerPool.current?.cpu) } })
        #expect(s0.callbackCPU == 2)
        #expect(eventually { held.withLock { $0 != nil } })
        try instance.setCPUs(serial: [3, 4])
        held.withLock { $0?.doSerial(returning: 0); $0 = nil }
        shell.stop()
        // Lane 2 left; 2 % 2 = 0 -> nth(0) of {3, 4} = 3.
        #expect(lanes.withLock { $0 } == [3])
    }
}
