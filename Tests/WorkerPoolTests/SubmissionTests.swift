import Foundation
import Synchronization
import Testing
import Topology
@testable import WorkerPool

@Suite("WorkerPool submission and placement")
struct SubmissionTests {
    @Test("no thread exists before the first submission, and at most one per worker after")
    func threadsOnDemand() throws {
        let pool = WorkerPool(name: "tdem")
        #expect(pool.startedThreads == 0)
        #expect(threads(named: "tdem-").isEmpty)
        let done = Counter()
        for _ in 0..<200 { try pool.submit(toWorker: 0) { done.add() } }
        #expect(waitUntil { done.count == 200 })
        #expect(pool.startedThreads == 1)
        for _ in 0..<2000 { try pool.submit { done.add() } }
        for i in 0..<pool.workerCount { try pool.submit(toWorker: i) { done.add() } }
        #expect(waitUntil { done.count == 2200 + pool.workerCount })
        #expect(pool.startedThreads <= pool.workerCount)
        #expect(threads(named: "tdem-").count <= pool.workerCount)
        pool.shutdown()
        #expect(pool.startedThreads == 0)
    }

    @Test("every item submitted to any worker runs exactly once")
    func anyWorkerExactlyOnce() throws {
        let pool = WorkerPool(name: "tany")
        let n = stress ? 200_000 : 20_000
        let runs = RunCounts(n)
        for i in 0..<n { try pool.submit { runs.ran(i) } }
        pool.shutdown()
        #expect(runs.wrong.isEmpty)
    }

    @Test("placement follows the topology's placement order")
    func placementOrder() throws {
        let pool = WorkerPool(name: "tplc")
        #expect(pool.placement == Topology.shared.placementOrder(within: Topology.shared.allowedCPUs))
        #expect(pool.workerCount == pool.placement.count)
        #expect(pool.cpus == Topology.shared.allowedCPUs)
        let xml = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        let sub = CPUSet(xml.pus.map(\.osIndex).prefix(24))
        let xpool = WorkerPool(name: "txpl", topology: xml, cpus: sub)
        #expect(xpool.placement == xml.placementOrder(within: sub))
        #expect(!xpool.bindsThreads)
    }

    @Test("an item submitted to worker i runs on worker i, on its PU")
    func toWorkerRunsThere() throws {
        let pool = WorkerPool(name: "twrk")
        #expect(pool.bindsThreads == Topology.shared.isThisSystem)
        for i in 0..<pool.workerCount {
            let index = Cell(), cpu = Cell(), osCPU = Cell(), pool2 = Cell(), mine = Cell()
            let id = pool.id
            try pool.submit(toWorker: i) {
                let info = WorkerPool.current
                index.set(info?.index ?? -9)
                cpu.set(info?.cpu ?? -9)
                pool2.set(info?.poolID ?? -9)
                mine.set(pool.isCurrentThreadWorker ? 1 : 0)
                osCPU.set((try? Topology.shared.currentCPU()) ?? -9)
            }
            #expect(index.wait() == i)
            #expect(cpu.wait() == pool.placement[i])
            #expect(pool2.wait() == id)
            #expect(mine.wait() == 1)
            if pool.bindsThreads { #expect(osCPU.wait() == pool.placement[i]) }
        }
        #expect(WorkerPool.current == nil)
        #expect(!pool.isCurrentThreadWorker)
    }

    @Test("items submitted to one worker run in submission order")
    func perWorkerFIFO() throws {
        let pool = WorkerPool(name: "tfifo")
        let n = stress ? 100_000 : 10_000
        let last = Atomic<Int>(-1)
        let bad = Counter()
        for w in 0..<pool.workerCount {
            last.store(-1, ordering: .relaxed)
            for i in 0..<n {
                try pool.submit(toWorker: w) {
                    if last.exchange(i, ordering: .relaxed) != i - 1 { bad.add() }
                }
            }
            #expect(waitUntil { last.load(ordering: .relaxed) == n - 1 })
        }
        #expect(bad.count == 0)
    }

    @Test("an item submitted to a CPU set runs on a worker of that set")
    func toCPUSet() throws {
        let pool = WorkerPool(name: "tset")
        for cpu in pool.placement {
            let got = Cell(), os = Cell()
            try pool.submit(to: [cpu]) {
                got.set(WorkerPool.current?.cpu ?? -9)
                os.set((try? Topology.shared.currentCPU()) ?? -9)
            }
            #expect(got.wait() == cpu)
            if pool.bindsThreads { #expect(os.wait() == cpu) }
        }
        let all = Counter()
        for _ in 0..<100 { try pool.submit(to: pool.cpus) { all.add() } }
        #expect(waitUntil { all.count == 100 })
        #expect(throws: WorkerPoolError.noWorkerInSet([])) { try pool.submit(to: []) {} }
        let outside = CPUSet([100_000])
        #expect(throws: WorkerPoolError.noWorkerInSet(outside)) { try pool.submit(to: outside) {} }
    }

    @Test("an item submitted to a NUMA node runs on a worker of that node (XML topology, no binding)")
    func toNodeOnXML() throws {
        let xml = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        #expect(xml.numaNodes.count == 4)
        let pool = WorkerPool(name: "tnode", topology: xml)
        #expect(!pool.bindsThreads)
        for node in xml.numaNodes.map(\.osIndex) {
            let positions = pool.workers(onNode: node)
            #expect(!positions.isEmpty)
            for p in positions { #expect(xml.numaNode(ofCPU: pool.placement[p]) == node) }
            let got = Cell(), cpu = Cell()
            try pool.submit(toNode: node) {
                got.set(WorkerPool.current?.numaNode ?? -9)
                cpu.set(WorkerPool.current?.cpu ?? -9)
            }
            #expect(got.wait() == node)
            #expect(xml.numaNode(ofCPU: cpu.wait() ?? -1) == node)
        }
        #expect(pool.startedThreads <= 4)
        #expect(throws: WorkerPoolError.noWorkerOnNode(99)) { try pool.submit(toNode: 99) {} }
        pool.shutdown()
    }

    @Test("CPU-set submission only picks the pool's own CPUs (XML topology)")
    func toCPUSetOnXML() throws {
        let xml = try fixtureTopology("intel-xeon6230-cascadelake-2s-snc2.xml")
        let order = xml.placementOrder()
        let pool = WorkerPool(name: "tsetx", topology: xml, cpus: CPUSet(order.prefix(4)))
        let outside = order[10]
        #expect(throws: WorkerPoolError.noWorkerInSet([outside])) { try pool.submit(to: [outside]) {} }
        // A set with one CPU of the pool and some that are not.
        let mixed = CPUSet([outside, order[11], order[2]])
        for _ in 0..<20 {
            let got = Cell()
            try pool.submit(to: mixed) { got.set(WorkerPool.current?.cpu ?? -9) }
            #expect(got.wait() == order[2])
        }
        // After a move, the old CPU is refused and the new one accepted.
        try pool.reconfigure(cpus: [outside])
        #expect(throws: WorkerPoolError.noWorkerInSet([order[0]])) { try pool.submit(to: [order[0]]) {} }
        let got = Cell()
        try pool.submit(to: [outside]) { got.set(WorkerPool.current?.cpu ?? -9) }
        #expect(got.wait() == outside)
        pool.shutdown()
        #expect(throws: WorkerPoolError.shutDown) { try pool.submit(to: [outside]) {} }
    }

    @Test("the NUMA node of this system's workers is the node of their PU")
    func toNodeHere() throws {
        let pool = WorkerPool(name: "tnod2")
        for node in Topology.shared.numaNodes.map(\.osIndex) where !pool.workers(onNode: node).isEmpty {
            let got = Cell()
            try pool.submit(toNode: node) { got.set(WorkerPool.current?.numaNode ?? -9) }
            #expect(got.wait() == node)
        }
    }

    @Test("workers are named <name>-w<position>")
    func threadNames() throws {
        let pool = WorkerPool(name: "tnam")
        var seen: [String] = []
        for i in 0..<pool.workerCount {
            let name = Cell()
            let expected = "tnam-w\(i)"
            try pool.submit(toWorker: i) { name.set(currentThreadName() == expected ? 1 : 0) }
            #expect(name.wait() == 1)
            seen.append(expected)
        }
        #expect(Set(threads(named: "tnam-w").values) == Set(seen))
        #expect(WorkerPool.shared.name == "mtj")
    }

    @Test("bad worker positions, nodes, CPU sets and init sets are typed errors")
    func errors() throws {
        let pool = WorkerPool(name: "terr")
        #expect(throws: WorkerPoolError.noSuchWorker(-1)) { try pool.submit(toWorker: -1) {} }
        let n = pool.workerCount
        #expect(throws: WorkerPoolError.noSuchWorker(n)) { try pool.submit(toWorker: n) {} }
        #expect(throws: WorkerPoolError.emptyCPUSet) { try pool.reconfigure(cpus: []) }
        #expect(throws: WorkerPoolError.cpusNotAvailable([100_000])) { try pool.reconfigure(cpus: [100_000]) }
        #expect(throws: WorkerPoolError.emptyCPUSet) { _ = try WorkerPool(exactly: []) }
        #expect(throws: WorkerPoolError.cpusNotAvailable([100_000])) { _ = try WorkerPool(exactly: [0, 100_000]) }
        let exact = try WorkerPool(name: "tex", exactly: Topology.shared.allowedCPUs)
        #expect(exact.cpus == Topology.shared.allowedCPUs)
        #expect(!WorkerPoolError.noSuchWorker(3).description.isEmpty)
        #expect(pool.startedThreads == 0)
    }
}
