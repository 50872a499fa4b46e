import Dispatch
import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs

/// Records the inputs a serial stage sees and checks that they arrive one at
/// a time.
final class InputLog<E: Sendable>: @unchecked Sendable {  // `values` is guarded by `lock`
    private let lock = Mutex<[E]>([])
    let concurrent = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0)

    func see(_ e: E) {
        if concurrent.wrappingAdd(1, ordering: .relaxed).newValue != 1 { overlaps.wrappingAdd(1, ordering: .relaxed) }
        lock.withLock { $0.append(e) }
        concurrent.wrappingAdd(-1, ordering: .relaxed)
    }

    var values: [E] { lock.withLock { $0 } }
}

/// An object whose lifetime tests observe through a weak reference.
final class Tracker: Sendable {}

@Suite("SerialJobs batched submit")
struct BatchSubmitTests {
    @Test("a batched submit serializes every input exactly once, in order, with its own result, across runs bigger than the window")
    func orderAcrossRuns() throws {
        let instance = try Instance()
        for window in [1, 3, 8, 64, 1024] {
            let shell = try instance.makeShell(window: window)
            let log = InputLog<Int>()
            let bad = Atomic<Int>(0)
            // (Tiny windows make a round trip per item: fewer items there.)
            let n = window < 8 ? scaled(5_000, 100_000) : scaled(5_000, 1_000_000)
            let s = try shell.submit(contentsOf: 0..<n, parallel: { i in UInt64(i) &* 7 }, serial: { i, r in
                if (try? r.get()) != UInt64(i) &* 7 { bad.wrappingAdd(1, ordering: .relaxed) }
                log.see(i)
            })
            shell.stop()
            #expect(s.count == n)
            #expect(s.firstSequence == 0)
            #expect(s.lastSequence == UInt64(n - 1))
            #expect(s.isContiguous)
            #expect(log.values == Array(0..<n), "window \(window)")
            #expect(bad.load(ordering: .relaxed) == 0)
            #expect(log.overlaps.load(ordering: .relaxed) == 0)
            #expect(shell.nextSequence == UInt64(n))
        }
    }

    @Test("inputs and results that need memory management (strings, arrays, big values) arrive intact and are released")
    func referenceInputs() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 16)
        let n = scaled(2_000, 100_000)
        let inputs = (0..<n).map { "input \($0)" }
        let log = InputLog<String>()
        let bad = Atomic<Int>(0)
        typealias Big = (Int, Int, Int, Int, Int, Int, Int, Int)
        try shell.submit(contentsOf: inputs, parallel: { s -> [String] in [s, s.uppercased()] }, serial: { s, r in
            if (try? r.get()) != [s, s.uppercased()] { bad.wrappingAdd(1, ordering: .relaxed) }
            log.see(s)
        })
        try shell.submit(contentsOf: (0..<n).map { ($0, $0, $0, $0, $0, $0, $0, $0) as Big }, parallel: { b -> Big in
            (b.7, b.6, b.5, b.4, b.3, b.2, b.1, b.0)
        }, serial: { b, r in
            if let v = try? r.get(), v.0 == b.0, v.7 == b.7 {} else { bad.wrappingAdd(1, ordering: .relaxed) }
        })
        shell.stop()
        #expect(log.values == inputs)
        #expect(bad.load(ordering: .relaxed) == 0)
    }

    @Test("runs of one input keep order and mix with one-item submits")
    func runsOfOne() throws {
        let instance = try Instance()
        for window in [1, 3] {
            let shell = try instance.makeShell(window: window)
            let log = InputLog<Int>()
            let n = scaled(2_000, 100_000)
            for i in 0..<n {
                if i % 3 == 0 {
                    try shell.submit(parallel: { i }, serial: { r in log.see(try! r.get()) })
                } else {
                    let s = try shell.submit(contentsOf: CollectionOfOne(i), parallel: { $0 }, serial: { _, r in log.see(try! r.get()) })
                    #expect(s.count == 1 && s.firstSequence == UInt64(i) && s.lastSequence == UInt64(i))
                }
            }
            shell.stop()
            #expect(log.values == Array(0..<n))
        }
    }

    @Test("an empty collection returns at once and submits nothing; a bad hint is still refused")
    func emptyCollection() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let calls = Atomic<Int>(0)
        let s = try shell.submit(contentsOf: [Int](), parallel: { $0 }, serial: { _, _ in calls.wrappingAdd(1, ordering: .relaxed) })
        #expect(s.count == 0 && s.firstSequence == nil && s.lastSequence == nil)
        #expect(shell.nextSequence == 0)
        #expect(shell.inFlight == 0)
        #expect(throws: SerialJobsError.invalidCallbackCPU(-2)) {
            try shell.submit(contentsOf: [1, 2], callbackCPU: -2, parallel: { $0 }, serial: { _, _ in })
        }
        shell.stop()
        #expect(calls.load(ordering: .relaxed) == 0)
        #expect(shell.nextSequence == 0)
    }

    @Test("each input's error reaches its own serial call; the others succeed")
    func perItemErrors() throws {
        struct Odd: Error, Equatable { let value: Int }
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8)
        let bad = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let n = scaled(1_000, 100_000)
        try shell.submit(contentsOf: 0..<n, parallel: { i -> Int in
            if i % 2 == 1 { throw Odd(value: i) }
            return i * 2
        }, serial: { i, r in
            switch r {
            case .success(let v): if i % 2 == 1 || v != i * 2 { bad.wrappingAdd(1, ordering: .relaxed) }
            case .failure(let e):
                failures.wrappingAdd(1, ordering: .relaxed)
                if (e as? Odd) != Odd(value: i) { bad.wrappingAdd(1, ordering: .relaxed) }
            }
        })
        shell.stop()
        #expect(bad.load(ordering: .relaxed) == 0)
        #expect(failures.load(ordering: .relaxed) == n / 2)
    }

    @Test("stop during a batched submit: it throws how many inputs it submitted, and exactly those are serialized")
    func stopMidCollection() throws {
        let instance = try Instance()
        for window in [1, 4, 32] {
            let shell = try instance.makeShell(window: window)
            let log = InputLog<Int>()
            let n = 10_000
            var thrown: SerialJobsError?
            do {
                try shell.submit(contentsOf: 0..<n, parallel: { $0 }, serial: { i, _ in
                    log.see(i)
                    // From a serial function, stop only refuses new items.
                    if i == 100 { shell.stop() }
                })
            } catch {
                thrown = error
            }
            shell.stop()
            let seen = log.values
            guard case .batchInterrupted(let submitted, .stopped)? = thrown else {
                Issue.record("expected batchInterrupted(_, .stopped), got \(String(describing: thrown))")
                continue
            }
            #expect(submitted > 100 && submitted <= 101 + window)
            #expect(seen == Array(0..<submitted), "window \(window)")
            #expect(shell.nextSequence == UInt64(submitted))
        }
        // Stopped before the first input: plain `.stopped`, nothing submitted.
        let shell = try instance.makeShell(window: 4)
        shell.stop()
        #expect(throws: SerialJobsError.stopped) { try shell.submit(contentsOf: 0..<10, parallel: { $0 }, serial: { _, _ in }) }
        instance.stop()
        let other = try instance.makeShell(window: 4)
        #expect(throws: SerialJobsError.stopped) { try other.submit(contentsOf: 0..<10, parallel: { $0 }, serial: { _, _ in }) }
        instance.start()
        shell.start()
        let log = InputLog<Int>()
        try shell.submit(contentsOf: 0..<10, parallel: { $0 }, serial: { i, _ in log.see(i) })
        shell.stop()
        #expect(log.values == Array(0..<10))
    }

    @Test("several producer threads mixing one-item and batched submits on one shell: each producer's items in its order, all exactly once")
    func mixedProducers() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 64)
        let producers = 4
        let n = scaled(4_000, 200_000)
        let logs = (0..<producers).map { _ in InputLog<Int>() }
        let overlaps = Atomic<Int>(0)
        let busy = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let sequences = (0..<producers).map { _ in Mutex<[UInt64]>([]) }
        DispatchQueue.concurrentPerform(iterations: producers) { p in
            var rng = SplitMix(state: UInt64(p) + 1)
            var i = 0
            while i < n {
                let k = min(n - i, Int(rng.next() % 100))
                do {
                    if k == 0 {
                        let s = try shell.submit(parallel: { [i] in i }, serial: { r in
                            if busy.wrappingAdd(1, ordering: .relaxed).newValue != 1 { overlaps.wrappingAdd(1, ordering: .relaxed) }
                            logs[p].see(try! r.get())
                            busy.wrappingAdd(-1, ordering: .relaxed)
                        })
                        sequences[p].withLock { $0.append(s.sequence) }
                        i += 1
                    } else {
                        let s = try shell.submit(contentsOf: i..<(i + k), parallel: { $0 }, serial: { input, r in
                            if busy.wrappingAdd(1, ordering: .relaxed).newValue != 1 { overlaps.wrappingAdd(1, ordering: .relaxed) }
                            if (try? r.get()) != input { failures.wrappingAdd(1, ordering: .relaxed) }
                            logs[p].see(input)
                            busy.wrappingAdd(-1, ordering: .relaxed)
                        })
                        if s.count != k { failures.wrappingAdd(1, ordering: .relaxed) }
                        sequences[p].withLock { $0.append(s.firstSequence!); $0.append(s.lastSequence!) }
                        i += k
                    }
                } catch {
                    failures.wrappingAdd(1, ordering: .relaxed)
                    return
                }
            }
        }
        shell.stop()
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(overlaps.load(ordering: .relaxed) == 0)
        for p in 0..<producers {
            #expect(logs[p].values == Array(0..<n))
            let seq = sequences[p].withLock { $0 }
            #expect(zip(seq, seq.dropFirst()).allSatisfy { $0 <= $1 })
        }
        #expect(shell.nextSequence == UInt64(producers * n))
    }

    @Test("async submit(contentsOf:) suspends while the window is full and keeps order")
    func asyncVariant() async throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8)
        let log = InputLog<Int>()
        // Items between the start of their parallel call and the end of
        // their serial call: never more than the window.
        let maxInFlight = Atomic<Int>(0)
        let live = Atomic<Int>(0)
        let n = scaled(5_000, 300_000)
        var i = 0
        while i < n {
            let k = min(n - i, 1 + i % 300)
            let s = try await shell.submit(contentsOf: i..<(i + k), parallel: { v -> Int in
                let l = live.wrappingAdd(1, ordering: .relaxed).newValue
                var m = maxInFlight.load(ordering: .relaxed)
                while l > m, !maxInFlight.compareExchange(expected: m, desired: l, ordering: .relaxed).exchanged {
                    m = maxInFlight.load(ordering: .relaxed)
                }
                return v
            }, serial: { _, r in
                log.see(try! r.get())
                live.wrappingAdd(-1, ordering: .relaxed)
            })
            #expect(s.count == k && s.firstSequence == UInt64(i))
            i += k
        }
        shell.stop()
        #expect(log.values == Array(0..<n))
        #expect(maxInFlight.load(ordering: .relaxed) <= 8)
        let stopped = try instance.makeShell(window: 2)
        stopped.stop()
        await #expect(throws: SerialJobsError.stopped) {
            try await stopped.submit(contentsOf: [1], parallel: { $0 }, serial: { _, _ in })
        }
    }

    @Test("a parallel function that submits a batch to another shell (full window) neither deadlocks nor reorders")
    func nestedBatches() throws {
        let instance = try Instance()
        let outer = try instance.makeShell(window: 16)
        let inner = try instance.makeShell(window: 2)
        let outerLog = InputLog<Int>()
        let innerCount = Atomic<Int>(0)
        let innerBad = Atomic<Int>(0)
        let n = scaled(300, 10_000)
        let per = 7
        try outer.submit(contentsOf: 0..<n, parallel: { i -> Int in
            // Several pool workers submit at once: the inner shell's runs
            // interleave, each keeps its own order.
            let last = Atomic<Int>(-1)
            try inner.submit(contentsOf: 0..<per, parallel: { $0 }, serial: { j, _ in
                if last.load(ordering: .relaxed) != j - 1 { innerBad.wrappingAdd(1, ordering: .relaxed) }
                last.store(j, ordering: .relaxed)
                innerCount.wrappingAdd(1, ordering: .relaxed)
            })
            return i
        }, serial: { _, r in outerLog.see(try! r.get()) })
        outer.stop()
        inner.stop()
        #expect(outerLog.values == Array(0..<n))
        #expect(innerCount.load(ordering: .relaxed) == n * per)
        #expect(innerBad.load(ordering: .relaxed) == 0)
    }

    @Test("a serial function that submits a batch to its own full shell is refused with the count it submitted, not deadlocked")
    func reentrantBatch() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 2)
        let thrown = Mutex<SerialJobsError?>(nil)
        let log = InputLog<Int>()
        try shell.submit(contentsOf: [100], parallel: { $0 }, serial: { i, _ in
            log.see(i)
            guard i == 100 else { return }
            do {
                // Ticket 0 is being serialized, so one slot is free.
                try shell.submit(contentsOf: 0..<10, parallel: { $0 }, serial: { j, _ in log.see(j) })
            } catch {
                thrown.withLock { $0 = error as? SerialJobsError }
            }
        })
        // Not stopped before the serial function has tried.
        #expect(eventually { thrown.withLock { $0 != nil } })
        shell.stop()
        #expect(thrown.withLock { $0 } == .batchInterrupted(submitted: 1, cause: .reentrantSubmitWouldDeadlock))
        #expect(log.values == [100, 0])
    }

    @Test("the closures of a batched submit live until its items are serialized and are released when the shell stops")
    func closureLifetime() throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8)
        weak var weakTracker: Tracker?
        let count = Atomic<Int>(0)
        do {
            let tracker = Tracker()
            weakTracker = tracker
            try shell.submit(contentsOf: 0..<1_000, parallel: { i -> Int in
                withExtendedLifetime(tracker) {}
                return i
            }, serial: { _, _ in
                withExtendedLifetime(tracker) {}
                count.wrappingAdd(1, ordering: .relaxed)
            })
        }
        shell.stop()
        #expect(count.load(ordering: .relaxed) == 1_000)
        #expect(weakTracker == nil)
    }
}
