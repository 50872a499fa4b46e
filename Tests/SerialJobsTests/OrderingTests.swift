import Dispatch
import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs

@Suite("SerialJobs ordering")
struct OrderingTests {
    @Test("serial functions run in submission order, one at a time, each item exactly once, with its own result")
    func basicOrder() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 64)
        let checker = OrderChecker()
        let sum = Atomic<UInt64>(0)
        let n = scaled(20_000, 200_000)
        for i in 0..<n {
            try shell.submit(parallel: { UInt64(i) * 3 }, serial: { r in
                checker.see(try! r.get() / 3)
                sum.wrappingAdd(try! r.get(), ordering: .relaxed)
            })
        }
        shell.stop()
        #expect(checker.count == UInt64(n))
        #expect(checker.errorCount == 0)
        #expect(sum.load(ordering: .relaxed) == UInt64(n) * UInt64(n - 1) / 2 * 3)
    }

    @Test("1M items (quick: fewer) with random parallel delays and completions from random threads keep exact order")
    func randomDelaysAndThreads() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 256)
        let checker = OrderChecker()
        let completers = Completers(3)
        let n = scaled(30_000, 1_000_000)
        var rng = SplitMix(state: 42)
        for i in 0..<n {
            let r = rng.next()
            let delay = r % 4 == 0 ? (r >> 8) % 3_000 : 0
            if r & 0x30 == 0 {
                // Finishes later from another thread.
                try shell.submit(completing: { (c: Completion<Int>) in
                    if delay > 0 { spin(ns: delay) }
                    completers.run(Int(r >> 20)) { c.doSerial(returning: i) }
                }, serial: { res in
                    checker.see(UInt64(try! res.get()))
                })
            } else {
                try shell.submit(parallel: { () -> Int in
                    if delay > 0 { spin(ns: delay) }
                    return i
                }, serial: { res in checker.see(UInt64(try! res.get())) })
            }
        }
        shell.stop()
        #expect(checker.count == UInt64(n))
        #expect(checker.errorCount == 0)
    }

    @Test("the item with the smallest sequence number completing last is still serialized first")
    func smallestCompletesLast() throws {
        for window in [1, 2, 3, 8, 64] {
            let instance = try Instance()
            let shell = try instance.makeShell(window: window)
            let checker = OrderChecker()
            let release = Atomic<Bool>(false)
            let completed = Atomic<Int>(0)
            let n = window
            var first: Completion<Int>?
            let box = Mutex<Completion<Int>?>(nil)
            try shell.submit(completing: { (c: Completion<Int>) in box.withLock { $0 = c } },
                             serial: { r in checker.see(UInt64(try! r.get())) })
            for i in 1..<n {
                try shell.submit(parallel: { () -> Int in
                    completed.wrappingAdd(1, ordering: .relaxed)
                    return i
                }, serial: { r in checker.see(UInt64(try! r.get())) })
            }
            #expect(eventually { completed.load(ordering: .relaxed) == n - 1 && box.withLock { $0 != nil } })
            #expect(checker.count == 0)  // everything waits for item 0
            first = box.withLock { $0 }
            release.store(true, ordering: .relaxed)
            first?.doSerial(returning: 0)
            shell.stop()
            #expect(checker.count == UInt64(n))
            #expect(checker.errorCount == 0)
        }
    }

    @Test("sequence numbers wrapping past 2^32 and 2^64 keep order with 3 and 6 slots and 3 and 6 lanes")
    func wrapAround() throws {
        for lanes in [3, 6] {
            let instance = try Instance(pool: sixPUPool, serialCPUs: CPUSet(0..<lanes))
            for window in [3, 6] {
                for start in [UInt64(UInt32.max) - 40, UInt64.max - 40] {
                    let shell = try instance.makeShell(window: window, startingSequence: start)
                    let checker = OrderChecker(start: start)
                    let n = scaled(500, 20_000)
                    var lanesSeen = Set<Int>()
                    for i in 0..<n {
                        let sub = try shell.submit(callbackCPU: i, parallel: { () -> Int in
                            if i % 7 == 0 { spin(ns: 2_000) }
                            return i
                        }, serial: { _ in })
                        lanesSeen.insert(sub.callbackCPU)
                        #expect(sub.sequence == start &+ UInt64(i))
                        _ = checker
                    }
                    shell.stop()
                    #expect(lanesSeen == Set(0..<lanes))
                }
                // Order across the wrap, checked by sequence numbers.
                let start = UInt64(UInt32.max) - 5
                let shell = try instance.makeShell(window: window, startingSequence: start)
                let checker = OrderChecker(start: start)
                let seqs = Mutex<[UInt64]>([])
                for i in 0..<200 {
                    try shell.submit(callbackCPU: i, completing: { (c: Completion<UInt64>) in
                        if i % 3 == 0 { spin(ns: 5_000) }
                        c.doSerial(returning: c.sequence)
                    }, serial: { r in
                        let s = try! r.get()
                        checker.see(s)
                        seqs.withLock { $0.append(s) }
                    })
                }
                shell.stop()
                #expect(checker.errorCount == 0)
                #expect(seqs.withLock { $0 } == (0..<200).map { start &+ UInt64($0) })
            }
        }
    }

    @Test("64 shells at once, each fed by its own thread, each keeps its own order")
    func manyShells() async throws {
        let instance = try Instance()
        let shells = try (0..<64).map { _ in try instance.makeShell(window: 16) }
        let checkers = (0..<64).map { _ in OrderChecker() }
        let n = scaled(500, 20_000)
        await withTaskGroup(of: Void.self) { g in
            for k in 0..<64 {
                g.addTask {
                    for i in 0..<n {
                        _ = try? await shells[k].submit(parallel: { () -> Int in
                            if i % 5 == 0 { spin(ns: 1_000) }
                            return i
                        }, serial: { r in checkers[k].see(UInt64(try! r.get())) })
                    }
                }
            }
        }
        for s in shells { s.stop() }
        for c in checkers {
            #expect(c.count == UInt64(n))
            #expect(c.errorCount == 0)
        }
        // Default lanes spread over the serial set like pcrypt's transforms.
        let serial = instance.cpus.serial
        #expect(Set(shells.map { instance.lane(forHint: $0.index) }) == Set(serial))
    }

    @Test("a parallel function that submits to another shell (blocking, full window) neither deadlocks nor reorders")
    func nestedSubmission() throws {
        let instance = try Instance()
        let outer = try instance.makeShell(window: 32)
        let inner = try instance.makeShell(window: 2)
        let outerChecker = OrderChecker()
        let innerChecker = OrderChecker()
        let n = scaled(2_000, 50_000)
        for i in 0..<n {
            try outer.submit(parallel: { () -> Int in
                try inner.submit(completing: { (c: Completion<UInt64>) in c.doSerial(returning: c.sequence) },
                                 serial: { r in innerChecker.see(try! r.get()) })
                return i
            }, serial: { r in outerChecker.see(UInt64(try! r.get())) })
        }
        outer.stop()
        inner.stop()
        #expect(outerChecker.count == UInt64(n))
        #expect(outerChecker.errorCount == 0)
        #expect(innerChecker.count == UInt64(n))
        #expect(innerChecker.errorCount == 0)
    }

    @Test("per-item errors flow from the parallel to the serial stage")
    func errorsFlow() throws {
        struct Odd: Error, Equatable { let i: Int }
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8)
        let seen = Mutex<[Result<Int, Odd>]>([])
        for i in 0..<100 {
            try shell.submit(parallel: { () throws -> Int in
                if i % 2 == 1 { throw Odd(i: i) }
                return i
            }, serial: { r in
                seen.withLock { $0.append(r.mapError { $0 as! Odd }) }
            })
        }
        shell.stop()
        let expected: [Result<Int, Odd>] = (0..<100).map { $0 % 2 == 1 ? .failure(Odd(i: $0)) : .success($0) }
        #expect(seen.withLock { $0 } == expected)
    }
}

@Suite("SerialJobs result storage")
struct ResultStorageTests {
    /// 72 bytes: too large for the inline result storage (48 bytes).
    struct Big: Sendable {
        var a: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
        let tag: Int
    }
    final class Ref: Sendable { let v: Int; init(_ v: Int) { self.v = v } }

    @Test("results of every size (inline, boxed, references, errors) reach the serial stage intact and are released")
    func everySize() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 16)
        let bigs = Mutex<[Int]>([])
        let strings = Mutex<[String]>([])
        let lastRef = Mutex<Ref?>(nil)
        weak var weakRef: Ref?
        for i in 0..<300 {
            try shell.submit(parallel: { Big(a: (i, i, i, i, i, i, i, i), tag: i) }, serial: { r in
                let b = try! r.get()
                if b.a.7 == i { bigs.withLock { $0.append(b.tag) } }
            })
            try shell.submit(parallel: { String(repeating: "x", count: i % 40) + "\(i)" }, serial: { r in
                strings.withLock { $0.append(try! r.get()) }
            })
            try shell.submit(completing: { (c: Completion<Big>) in c.doSerial(returning: Big(tag: -i)) }, serial: { r in
                if (try? r.get())?.tag == -i { bigs.withLock { $0.append(-i) } }
            })
        }
        try shell.submit(parallel: { () -> Ref in
            let r = Ref(42)
            return r
        }, serial: { r in lastRef.withLock { $0 = try? r.get() } })
        shell.stop()
        weakRef = lastRef.withLock { $0 }
        #expect(weakRef?.v == 42)
        lastRef.withLock { $0 = nil }
        #expect(bigs.withLock { $0 } == (0..<300).flatMap { [$0, -$0] })
        #expect(strings.withLock { $0 } == (0..<300).map { String(repeating: "x", count: $0 % 40) + "\($0)" })
        #expect(weakRef == nil)  // the result was moved out, not kept by the item
    }
}
