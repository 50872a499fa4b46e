import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs

// One test per row of the "Coming from padata" article: each exercises the
// replacement that row names.

/// Submits `n` items to `shell` and checks they serialize in order.
private func roundTrip(_ shell: Shell, n: Int = 50, hint: Int? = nil) throws -> [Submission] {
    let checker = OrderChecker(start: shell.nextSequence)
    var subs: [Submission] = []
    for i in 0..<n {
        subs.append(try shell.submit(callbackCPU: hint, parallel: { i }, serial: { _ in checker.see(checker.start &+ checker.count) }))
    }
    shell.stop()
    shell.start()
    #expect(checker.count == UInt64(n))
    #expect(subs.map(\.sequence) == (0..<n).map { checker.start &+ UInt64($0) })
    return subs
}

/// Drops an instance after stopping it; returns whether it was freed.
private func freed(_ make: () throws -> Instance) rethrows -> Bool {
    weak var weakInstance: Instance?
    try {
        let instance = try make()
        weakInstance = instance
        let shell = try instance.makeShell(window: 8)
        for i in 0..<20 { try shell.submit(parallel: { i }, serial: { _ in }) }
        instance.stop()
    }()
    return eventually { weakInstance == nil }
}

@Suite("Coming from padata: 2.6.34")
struct Padata2634Tests {
    @Test("2.6.34 padata_alloc: Instance with one set for both stages")
    func alloc() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [1, 2], serialCPUs: [1, 2])
        #expect(instance.cpus == CPUSets(parallel: [1, 2], serial: [1, 2]))
        _ = try roundTrip(try instance.makeShell())
    }

    @Test("2.6.34 padata_free: stop, then drop the instance")
    func free() throws {
        #expect(try freed { try Instance() })
    }

    @Test("2.6.34 padata_do_parallel: submit on the instance's one shell; a hint outside the set is mapped")
    func doParallel() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0, 1], serialCPUs: [0, 1])
        let subs = try roundTrip(try instance.makeShell(), hint: 4)
        #expect(subs.allSatisfy { $0.callbackCPU == 0 })  // 4 % 2 = 0 -> nth(0)
    }

    @Test("2.6.34 padata_do_serial: returning from parallel serializes the item")
    func doSerial() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        let got = Mutex<[Int]>([])
        for i in 0..<10 { try shell.submit(parallel: { i * i }, serial: { r in got.withLock { $0.append(try! r.get()) } }) }
        shell.stop()
        #expect(got.withLock { $0 } == (0..<10).map { $0 * $0 })
    }

    @Test("2.6.34 padata_set_cpumask: setCPUs with both sets, order kept")
    func setCPUMask() throws {
        let instance = try Instance(pool: sixPUPool)
        let shell = try instance.makeShell()
        try instance.setCPUs(parallel: [3, 4], serial: [3, 4])
        #expect(instance.cpus == CPUSets(parallel: [3, 4], serial: [3, 4]))
        _ = try roundTrip(shell)
    }

    @Test("2.6.34 padata_add_cpu: addCPU to both sets")
    func addCPU() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0], serialCPUs: [0])
        try instance.addCPU(5)
        #expect(instance.cpus == CPUSets(parallel: [0, 5], serial: [0, 5]))
        _ = try roundTrip(try instance.makeShell())
    }

    @Test("2.6.34 padata_remove_cpu: removeCPU from both sets; emptying a set is refused")
    func removeCPU() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0, 1], serialCPUs: [0, 1])
        try instance.removeCPU(0)
        #expect(instance.cpus == CPUSets(parallel: [1], serial: [1]))
        #expect(throws: SerialJobsError.emptyCPUSet(.parallel)) { try instance.removeCPU(1) }
        _ = try roundTrip(try instance.makeShell())
    }

    @Test("2.6.34 padata_start: start accepts items again")
    func start() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        instance.stop()
        #expect(!instance.isAccepting)
        instance.start()
        #expect(instance.isAccepting)
        _ = try roundTrip(shell)
    }

    @Test("2.6.34 padata_stop: stop refuses items with .stopped and drains the ones in flight")
    func stop() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        let n = Atomic<Int>(0)
        for i in 0..<30 { try shell.submit(parallel: { i }, serial: { _ in n.wrappingAdd(1, ordering: .relaxed) }) }
        instance.stop()
        #expect(n.load(ordering: .relaxed) == 30)
        #expect(throws: SerialJobsError.stopped) { try shell.submit(parallel: { 0 }, serial: { _ in }) }
    }
}

@Suite("Coming from padata: 2.6.36")
struct Padata2636Tests {
    @Test("2.6.36 padata_alloc_possible: Instance() covers every CPU of the pool")
    func allocPossible() throws {
        let instance = try Instance()
        #expect(instance.cpus == CPUSets(parallel: WorkerPool.shared.cpus, serial: WorkerPool.shared.cpus))
        let six = try Instance(pool: sixPUPool)
        #expect(six.cpus == CPUSets(parallel: CPUSet(0..<6), serial: CPUSet(0..<6)))
    }

    @Test("2.6.36 padata_alloc: Instance with separate parallel and serial sets")
    func alloc() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0, 1, 2], serialCPUs: [5])
        #expect(instance.cpus == CPUSets(parallel: [0, 1, 2], serial: [5]))
        let subs = try roundTrip(try instance.makeShell())
        #expect(subs.allSatisfy { $0.callbackCPU == 5 })
    }

    @Test("2.6.36 padata_free: stop, then drop the instance")
    func free() throws {
        #expect(try freed { try Instance(pool: sixPUPool, parallelCPUs: [1], serialCPUs: [2]) })
    }

    @Test("2.6.36 padata_do_parallel: a hint in the serial set is kept")
    func doParallel() throws {
        let instance = try Instance(pool: sixPUPool, serialCPUs: [2, 3])
        let subs = try roundTrip(try instance.makeShell(), hint: 3)
        #expect(subs.allSatisfy { $0.callbackCPU == 3 })
    }

    @Test("2.6.36 padata_do_serial: Completion.doSerial from another thread")
    func doSerial() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        let completers = Completers(2)
        let got = Mutex<[Int]>([])
        for i in 0..<20 {
            try shell.submit(completing: { (c: Completion<Int>) in completers.run(i) { c.doSerial(returning: i) } },
                             serial: { r in got.withLock { $0.append(try! r.get()) } })
        }
        shell.stop()
        #expect(got.withLock { $0 } == Array(0..<20))
    }

    @Test("2.6.36 padata_set_cpumasks: setCPUs(parallel:serial:)")
    func setCPUMasks() throws {
        let instance = try Instance(pool: sixPUPool)
        try instance.setCPUs(parallel: [0, 1], serial: [4])
        #expect(instance.cpus == CPUSets(parallel: [0, 1], serial: [4]))
        let subs = try roundTrip(try instance.makeShell(), hint: 0)
        #expect(subs.allSatisfy { $0.callbackCPU == 4 })
    }

    @Test("2.6.36 padata_set_cpumask: setCPUs with one set changes only that one")
    func setCPUMask() throws {
        let instance = try Instance(pool: sixPUPool)
        try instance.setCPUs(parallel: [2])
        #expect(instance.cpus == CPUSets(parallel: [2], serial: CPUSet(0..<6)))
        try instance.setCPUs(serial: [1])
        #expect(instance.cpus == CPUSets(parallel: [2], serial: [1]))
    }

    @Test("2.6.36 padata_add_cpu: addCPU(to: .parallel) / (to: .serial)")
    func addCPU() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0], serialCPUs: [0])
        try instance.addCPU(3, to: .parallel)
        try instance.addCPU(4, to: .serial)
        #expect(instance.cpus == CPUSets(parallel: [0, 3], serial: [0, 4]))
        #expect(throws: SerialJobsError.cpusNotInPool([64])) { try instance.addCPU(64, to: .serial) }
    }

    @Test("2.6.36 padata_remove_cpu: removeCPU(from: .parallel) / (from: .serial)")
    func removeCPU() throws {
        let instance = try Instance(pool: sixPUPool, parallelCPUs: [0, 1], serialCPUs: [0, 1])
        try instance.removeCPU(0, from: .parallel)
        try instance.removeCPU(1, from: .serial)
        #expect(instance.cpus == CPUSets(parallel: [1], serial: [0]))
    }

    @Test("2.6.36 padata_start / padata_stop: start and stop")
    func startStop() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        instance.stop()
        #expect(throws: SerialJobsError.stopped) { try shell.submit(parallel: { 0 }, serial: { _ in }) }
        instance.start()
        _ = try roundTrip(shell)
    }

    @Test("2.6.36 padata_register_cpumask_notifier: onCPUSetsChange and cpuSetUpdates")
    func registerNotifier() async throws {
        let instance = try Instance(pool: sixPUPool)
        let seen = Mutex<[CPUSets]>([])
        let o = instance.onCPUSetsChange { e in seen.withLock { $0.append(e) } }
        var it = instance.cpuSetUpdates().makeAsyncIterator()
        _ = await it.next()
        try instance.setCPUs(serial: [2])
        #expect(seen.withLock { $0 } == [CPUSets(parallel: CPUSet(0..<6), serial: [2])])
        #expect(await it.next() == CPUSets(parallel: CPUSet(0..<6), serial: [2]))
        o.cancel()
    }

    @Test("2.6.36 padata_unregister_cpumask_notifier: Observation.cancel")
    func unregisterNotifier() throws {
        let instance = try Instance(pool: sixPUPool)
        let count = Atomic<Int>(0)
        let o = instance.onCPUSetsChange { _ in count.wrappingAdd(1, ordering: .relaxed) }
        try instance.setCPUs(serial: [2])
        o.cancel()
        try instance.setCPUs(serial: [3])
        #expect(count.load(ordering: .relaxed) == 1)
    }

    @Test("2.6.36 sysfs parallel_cpumask/serial_cpumask: requestedCPUs shows, setCPUs stores")
    func sysfs() throws {
        let instance = try Instance(pool: sixPUPool)
        try instance.setCPUs(parallel: try CPUSet(parsing: "0-2"), serial: try CPUSet(hexMask: "30"))
        #expect(instance.requestedCPUs.parallel.listString == "0-2")
        #expect(instance.requestedCPUs.serial == [4, 5])
    }
}

@Suite("Coming from padata: today")
struct PadataTodayTests {
    @Test("today padata_alloc: Instance over a (named) pool")
    func alloc() throws {
        let instance = try Instance(pool: sixPUPool)
        #expect(instance.pool.name == "sj6")
        _ = try roundTrip(try instance.makeShell())
    }

    @Test("today padata_free: stop, then drop the instance")
    func free() throws {
        #expect(try freed { try Instance(pool: sixPUPool) })
    }

    @Test("today padata_alloc_shell: makeShell gives independent ordered streams")
    func allocShell() throws {
        let instance = try Instance()
        let a = try instance.makeShell(window: 4)
        let b = try instance.makeShell(window: 4)
        _ = try roundTrip(a)
        _ = try roundTrip(b)
        #expect(a.index != b.index)
    }

    @Test("today padata_free_shell: stop waits for the shell's items, then the shell can be dropped")
    func freeShell() throws {
        let instance = try Instance()
        weak var weakShell: Shell?
        try {
            let shell = try instance.makeShell()
            weakShell = shell
            for i in 0..<20 { try shell.submit(parallel: { i }, serial: { _ in }) }
            let report = shell.shutdown(timeout: .seconds(10))
            #expect(report.completed && report.serialized == 20)
        }()
        #expect(eventually { weakShell == nil })
    }

    @Test("today padata_do_parallel: the caller learns the substituted callback CPU")
    func doParallel() throws {
        let instance = try Instance(pool: sixPUPool, serialCPUs: [1, 4])
        let shell = try instance.makeShell()
        #expect(try shell.submit(callbackCPU: 4, parallel: { 0 }, serial: { _ in }).callbackCPU == 4)
        #expect(try shell.submit(callbackCPU: 3, parallel: { 0 }, serial: { _ in }).callbackCPU == 4)  // 3 % 2 = 1
        #expect(try shell.submit(callbackCPU: 0, parallel: { 0 }, serial: { _ in }).callbackCPU == 1)
        #expect(throws: SerialJobsError.invalidCallbackCPU(-3)) { try shell.submit(callbackCPU: -3, parallel: { 0 }, serial: { _ in }) }
        shell.stop()
    }

    @Test("today padata_do_serial: completing from any thread, at any time, in any order")
    func doSerial() throws {
        let instance = try Instance()
        let shell = try instance.makeShell()
        let held = Mutex<[Completion<Int>]>([])
        let got = Mutex<[Int]>([])
        for _ in 0..<10 {
            try shell.submit(completing: { (c: Completion<Int>) in held.withLock { $0.append(c) } },
                             serial: { r in got.withLock { $0.append(try! r.get()) } })
        }
        #expect(eventually { held.withLock { $0.count } == 10 })
        for c in held.withLock({ $0 }).sorted(by: { $0.sequence > $1.sequence }) { c.doSerial(returning: Int(c.sequence)) }
        held.withLock { $0.removeAll() }
        shell.stop()
        #expect(got.withLock { $0 } == Array(0..<10))
    }

    @Test("today padata_set_cpumask: setCPUs while items are in flight, never busy")
    func setCPUMask() throws {
        let instance = try Instance(pool: sixPUPool)
        let shell = try instance.makeShell(window: 16)
        let checker = OrderChecker()
        for i in 0..<200 {
            if i % 20 == 0 { try instance.setCPUs(parallel: [i / 20 % 6], serial: [(i / 20 + 1) % 6]) }
            try shell.submit(parallel: { i }, serial: { r in checker.see(UInt64(try! r.get())) })
        }
        shell.stop()
        #expect(checker.count == 200 && checker.errorCount == 0)
    }
}
