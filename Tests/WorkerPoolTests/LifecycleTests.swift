import Foundation
import Synchronization
import Testing
import Topology
@testable import WorkerPool

@Suite("WorkerPool parking, reconfiguration and shutdown")
struct LifecycleTests {
    @Test("a worker idle past its spin sleeps, wakes for new work, and uses no CPU while asleep")
    func parkAndWake() throws {
        let pool = WorkerPool(name: "tpark")
        let tid = Cell()
        try pool.submit(toWorker: 0) { tid.set(Int(currentTID()) ?? -1) }
        let t = String(try #require(tid.wait()))
        // Past the spin phase: asleep in the kernel.
        #expect(waitUntil { schedulerState(ofThread: t) == "S" })
        #expect(pool.core.slots[pool.core.positions.pointee.load(ordering: .relaxed)].sleepWord.pointee.load(ordering: .relaxed) == 1)
        let before = try #require(cpuSeconds(ofThread: t))
        usleep(1_000_000)
        let after = try #require(cpuSeconds(ofThread: t))
        // Generous: 5% of one CPU over one second (clock ticks are 10 ms).
        #expect(after - before < 0.05)
        let ran = Counter()
        for round in 1...5 {
            try pool.submit(toWorker: 0) { ran.add() }
            #expect(waitUntil { ran.count == round })
            // Back asleep before the next round wakes it again.
            #expect(waitUntil { schedulerState(ofThread: t) == "S" })
        }
        try pool.submit { ran.add() }
        #expect(waitUntil { ran.count == 6 })
    }

    @Test("every idle worker of a pool sleeps after the spin phase")
    func idlePoolUsesNoCPU() throws {
        let pool = WorkerPool(name: "tidle")
        let tids = (0..<pool.workerCount).map { _ in Cell() }
        for i in 0..<pool.workerCount { try pool.submit(toWorker: i) { tids[i].set(Int(currentTID()) ?? -1) } }
        let ts = try tids.map { String(try #require($0.wait())) }
        #expect(waitUntil { ts.allSatisfy { schedulerState(ofThread: $0) == "S" } })
        let before = ts.compactMap(cpuSeconds(ofThread:)).reduce(0, +)
        usleep(1_000_000)
        let after = ts.compactMap(cpuSeconds(ofThread:)).reduce(0, +)
        #expect(after - before < 0.05)
    }

    @Test("submissions racing with workers going to sleep are never lost")
    func noLostWakeups() throws {
        // Spin 0: every idle moment is a park, so the race is hit often.
        let pool = WorkerPool(name: "trace", spinDuration: .zero)
        let rounds = stress ? 50_000 : 3_000
        let done = Counter()
        for r in 1...rounds {
            if r % 2 == 0 { try pool.submit { done.add() } } else { try pool.submit(toWorker: r % pool.workerCount) { done.add() } }
            // Wait for it: each submission finds a worker spinning, parking or asleep.
            #expect(waitUntil(5) { done.count == r })
            if done.count != r { break }
        }
    }

    @Test("reconfiguring many times while thousands of items are queued runs every item exactly once")
    func reconfigureUnderLoad() throws {
        // An XML machine gives room to grow, shrink and move (no binding).
        let xml = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        let order = xml.placementOrder()
        let sets: [CPUSet] = [
            CPUSet(order.prefix(2)), CPUSet(order.prefix(6)), CPUSet(order.dropFirst(3).prefix(3)),
            CPUSet(order.suffix(2)), CPUSet(order.prefix(1)), CPUSet(order.dropFirst(10).prefix(4)),
        ]
        let pool = WorkerPool(name: "trcf", topology: xml, cpus: sets[0])
        let n = stress ? 400_000 : 20_000
        let reconfigs = stress ? 2_000 : 200
        let runs = RunCounts(n)
        let submitted = Atomic<Int>(0)
        let submitter = Thread {
            var i = 0
            while i < n {
                let k = i
                let work: WorkItem = { runs.ran(k) }
                do {
                    switch k % 3 {
                    case 0: try pool.submit(work)
                    case 1: try pool.submit(toWorker: k % 3, work)
                    default: try pool.submit(to: CPUSet(order.prefix(6)), work)
                    }
                } catch {
                    // A position or set that left: send it to any worker.
                    try? pool.submit(work)
                }
                i += 1
                submitted.store(i, ordering: .releasing)
            }
        }
        submitter.start()
        for r in 0..<reconfigs {
            try pool.reconfigure(cpus: sets[r % sets.count])
            #expect(pool.cpus == sets[r % sets.count])
            if r % 8 == 0 { usleep(200) }
        }
        #expect(waitUntil(60) { submitted.load(ordering: .acquiring) == n })
        #expect(waitUntil(60) { runs.total == n })
        pool.shutdown()
        #expect(runs.wrong.isEmpty)
        #expect(pool.startedThreads == 0)
        #expect(threads(named: "trcf-").isEmpty)
    }

    @Test("items queued on a worker whose PU leaves run elsewhere, exactly once")
    func shrinkMovesQueuedWork() throws {
        let xml = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        let order = xml.placementOrder()
        let pool = WorkerPool(name: "tshr", topology: xml, cpus: CPUSet(order.prefix(4)))
        let gate = Atomic<Bool>(false)
        let runs = RunCounts(1_001)
        // Worker 3 is stuck on the gate with 1000 items queued behind it.
        // (Items a worker has already taken with its current one move only
        // when that item ends, so the gate goes alone.)
        let inGate = Cell()
        try pool.submit(toWorker: 3) {
            inGate.set(1)
            while !gate.load(ordering: .acquiring) { usleep(100) }
            runs.ran(1_000)
        }
        #expect(inGate.wait() == 1)
        let leaving = pool.placement[3]
        let ranOn = RunCounts(1_000)
        for i in 0..<1_000 {
            try pool.submit(toWorker: 3) {
                runs.ran(i)
                if WorkerPool.current?.cpu == leaving { ranOn.ran(i) }
            }
        }
        try pool.reconfigure(cpus: CPUSet(order.prefix(2)))
        #expect(waitUntil { runs.total == 1_000 })
        gate.store(true, ordering: .releasing)
        pool.shutdown()
        #expect(runs.wrong.isEmpty)
        #expect(ranOn.total == 0)
        // Grow back: the PU gets a new worker on demand.
        let pool2 = WorkerPool(name: "tgrw", topology: xml, cpus: CPUSet(order.prefix(1)))
        try pool2.reconfigure(cpus: CPUSet(order.prefix(3)))
        let cpu = Cell()
        try pool2.submit(toWorker: 2) { cpu.set(WorkerPool.current?.cpu ?? -9) }
        #expect(cpu.wait() == order[2])
    }

    @Test("reconfiguring this system's pool moves its workers to the new PUs")
    func reconfigureHere() throws {
        let pool = WorkerPool(name: "tmov")
        let all = pool.placement
        for cpu in all + all.reversed() {
            try pool.reconfigure(cpus: [cpu])
            #expect(pool.placement == [cpu])
            let got = Cell(), os = Cell()
            try pool.submit(toWorker: 0) {
                got.set(WorkerPool.current?.cpu ?? -9)
                os.set((try? Topology.shared.currentCPU()) ?? -9)
            }
            #expect(got.wait() == cpu)
            if pool.bindsThreads { #expect(os.wait() == cpu) }
        }
        try pool.reconfigure(cpus: CPUSet(all))
        #expect(pool.placement == all)
    }

    @Test("shutdown runs everything queued, then submissions throw shutDown")
    func shutdownDrains() throws {
        let pool = WorkerPool(name: "tdrn")
        let n = 5_000
        let runs = RunCounts(n)
        for i in 0..<n {
            if i % 2 == 0 { try pool.submit { runs.ran(i) } } else { try pool.submit(toWorker: i % pool.workerCount) { runs.ran(i) } }
        }
        pool.shutdown()
        #expect(runs.wrong.isEmpty)
        #expect(pool.isShutDown)
        #expect(pool.startedThreads == 0)
        #expect(throws: WorkerPoolError.shutDown) { try pool.submit {} }
        #expect(throws: WorkerPoolError.shutDown) { try pool.submit(toWorker: 0) {} }
        #expect(throws: WorkerPoolError.shutDown) { try pool.submit(to: pool.cpus) {} }
        if let node = Topology.shared.numaNodes.first?.osIndex {
            #expect(throws: WorkerPoolError.shutDown) { try pool.submit(toNode: node) {} }
        }
        #expect(throws: WorkerPoolError.shutDown) { try pool.reconfigure(cpus: pool.cpus) }
        pool.shutdown()
        #expect(threads(named: "tdrn-").isEmpty)
    }

    @Test("shutdown from inside a worker does not deadlock and still drains")
    func shutdownFromWorker() throws {
        let pool = WorkerPool(name: "tself")
        let after = Counter()
        let returned = Cell()
        try pool.submit(toWorker: 0) {
            pool.shutdown()
            returned.set(1)
        }
        for _ in 0..<100 { try? pool.submit(toWorker: 0) { after.add() } }
        #expect(returned.wait() == 1)
        #expect(waitUntil { pool.isShutDown })
        #expect(waitUntil { threads(named: "tself-").isEmpty })
        // Whatever was accepted before the shutdown ran.
        #expect(after.count <= 100)
        #expect(throws: WorkerPoolError.shutDown) { try pool.submit {} }
    }

    @Test("a pool whose last reference is dropped inside its own worker shuts down cleanly")
    func deinitOnWorker() throws {
        let done = Cell()
        do {
            let pool = WorkerPool(name: "tdein")
            let box = Atomic<Int>(0)
            _ = box
            try pool.submit(toWorker: 0) { [pool] in
                _ = pool.workerCount
                done.set(1)
            }
        }
        #expect(done.wait() == 1)
        #expect(waitUntil { threads(named: "tdein-").isEmpty })
    }

    @Test("dropping a pool while its workers are busy runs their items, then joins them")
    func dropWhileBusy() throws {
        let runs = RunCounts(2_000)
        do {
            let pool = WorkerPool(name: "tbusy")
            for i in 0..<2_000 { try pool.submit { usleep(5); runs.ran(i) } }
        }
        #expect(runs.wrong.isEmpty)
        #expect(threads(named: "tbusy-").isEmpty)
    }

    @Test("pools created and dropped in a loop do not leak threads")
    func noThreadLeak() throws {
        let loops = stress ? 500 : 40
        for r in 0..<loops {
            let pool = WorkerPool(name: "tleak")
            let c = Counter()
            for i in 0..<20 {
                if i % 2 == 0 { try pool.submit { c.add() } } else { try pool.submit(toWorker: i % pool.workerCount) { c.add() } }
            }
            if r % 3 == 0 { try pool.reconfigure(cpus: [pool.placement[0]]) }
            if r % 2 == 0 { pool.shutdown() }
        }
        #expect(waitUntil(5) { threads(named: "tleak-").isEmpty })
    }

    @Test("a pool on an XML topology runs work without binding")
    func xmlPool() throws {
        for file in ["ci-vm-amd-epyc-2vcpu.xml", "intel-i7-1370p-raptorlake-hybrid.xml", "amd-epyc9654-genoa-2s-384pu.xml"] {
            let xml = try fixtureTopology(file)
            let pool = WorkerPool(name: "txml", topology: xml)
            #expect(!pool.bindsThreads)
            #expect(pool.placement == xml.placementOrder())
            let runs = RunCounts(1_000)
            for i in 0..<1_000 {
                if i % 2 == 0 { try pool.submit { runs.ran(i) } } else { try pool.submit(toWorker: i % 7 % pool.workerCount) { runs.ran(i) } }
            }
            let cpu = Cell()
            try pool.submit(toWorker: pool.workerCount - 1) { cpu.set(WorkerPool.current?.cpu ?? -9) }
            #expect(cpu.wait() == pool.placement.last)
            pool.shutdown()
            #expect(runs.wrong.isEmpty)
        }
    }

    @Test("many threads submitting to all workers at once: every item runs exactly once")
    func concurrentSubmitters() throws {
        let pool = WorkerPool(name: "tmany")
        let perThread = stress ? 100_000 : 5_000
        let submitters = 4
        let runs = RunCounts(perThread * submitters)
        let started = Counter()
        for t in 0..<submitters {
            Thread {
                for i in 0..<perThread {
                    let k = t * perThread + i
                    if k % 2 == 0 { try? pool.submit { runs.ran(k) } } else { try? pool.submit(toWorker: k % pool.workerCount) { runs.ran(k) } }
                }
                started.add()
            }.start()
        }
        #expect(waitUntil(60) { started.count == submitters })
        #expect(waitUntil(60) { runs.total == perThread * submitters })
        pool.shutdown()
        #expect(runs.wrong.isEmpty)
    }
}
