import Synchronization
import Testing
import Topology
import WorkerPool
@testable import SerialJobs

private struct Boom: Error, Equatable { let i: Int }

/// An async sequence of 0..<n that counts how far it was pulled.
private struct Counting: AsyncSequence, Sendable {
    let n: Int
    let pulled: Counter
    struct AsyncIterator: AsyncIteratorProtocol {
        var i = 0
        let n: Int
        let pulled: Counter
        mutating func next() async -> Int? {
            guard i < n else { return nil }
            defer { i += 1 }
            pulled.value.wrappingAdd(1, ordering: .relaxed)
            return i
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(n: n, pulled: pulled) }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
    var current: Int { value.load(ordering: .relaxed) }
}

@Suite("SerialJobs orderedMap")
struct OrderedMapTests {
    @Test("orderedMap over a Sequence returns results in input order, for every batch size")
    func sequenceInOrder() throws {
        let instance = try Instance()
        let n = scaled(5_000, 200_000)
        for batch in [1, 3, 64] {
            let out = try instance.orderedMap(0..<n, window: 16, batch: batch) { i -> Int in
                if i % 97 == 0 { spin(ns: 2_000) }
                return i * 2
            }
            #expect(out == (0..<n).map { $0 * 2 })
        }
        #expect(try instance.orderedMap([Int](), { $0 }) == [])
    }

    @Test("orderedMap over a Sequence stops at the first error (earliest in input order) and throws it")
    func sequenceFirstErrorStops() throws {
        let instance = try Instance()
        let computed = Atomic<Int>(0)
        #expect(throws: Boom(i: 100)) {
            try instance.orderedMap(0..<100_000, window: 8) { i -> Int in
                computed.wrappingAdd(1, ordering: .relaxed)
                if i == 100 || i == 103 { throw Boom(i: i) }
                return i
            }
        }
        // The input stops being consumed soon after the failure.
        #expect(computed.load(ordering: .relaxed) < 100 + 8 * 4)
    }

    @Test("orderedMapResults over a Sequence keeps every per-item error in place")
    func sequencePerItemErrors() throws {
        let instance = try Instance()
        let out = try instance.orderedMapResults(0..<1_000, window: 8, batch: 4) { i -> Int in
            if i % 10 == 0 { throw Boom(i: i) }
            return i
        }
        #expect(out.count == 1_000)
        for (i, r) in out.enumerated() {
            switch r {
            case .success(let v): #expect(v == i && i % 10 != 0)
            case .failure(let e): #expect((e as? Boom) == Boom(i: i))
            }
        }
    }

    @Test("orderedMap over an AsyncSequence yields in input order and pulls at most window elements ahead")
    func asyncInOrderBounded() async throws {
        let instance = try Instance()
        let pulled = Counter()
        let n = scaled(2_000, 100_000)
        let window = 8
        var expected = 0
        for try await v in try instance.orderedMap(Counting(n: n, pulled: pulled), window: window, { $0 * 3 }) {
            #expect(v == expected * 3)
            expected += 1
            // Consumed `expected`; at most `window` more are in flight or buffered.
            #expect(pulled.current <= expected + window)
        }
        #expect(expected == n)
    }

    @Test("orderedMap over an AsyncSequence throws the first error and then ends")
    func asyncFirstError() async throws {
        let instance = try Instance()
        var got: [Int] = []
        var thrown: Boom?
        var it = try instance.orderedMap(Counting(n: 1_000, pulled: Counter()), window: 4) { i -> Int in
            if i == 10 || i == 12 { throw Boom(i: i) }
            return i
        }.makeAsyncIterator()
        do {
            while let v = try await it.next() { got.append(v) }
        } catch {
            thrown = error as? Boom
        }
        #expect(got == Array(0..<10))
        #expect(thrown == Boom(i: 10))
        #expect(try await it.next() == nil)
    }

    @Test("orderedMapResults over an AsyncSequence yields every result or error in input order")
    func asyncPerItemErrors() async throws {
        let instance = try Instance()
        var i = 0
        for try await r in try instance.orderedMapResults(Counting(n: 500, pulled: Counter()), window: 16, { x -> Int in
            if x % 7 == 3 { throw Boom(i: x) }
            return x
        }) {
            switch r {
            case .success(let v): #expect(v == i)
            case .failure(let e): #expect((e as? Boom) == Boom(i: i))
            }
            i += 1
        }
        #expect(i == 500)
    }

    @Test("orderedMap misuse: window < 1 and batch < 1 throw invalidWindow")
    func misuse() throws {
        let instance = try Instance()
        #expect(throws: SerialJobsError.invalidWindow(0)) { try instance.orderedMap(0..<3, window: 0, { $0 }) }
        #expect(throws: SerialJobsError.invalidWindow(0)) { try instance.orderedMapResults(0..<3, batch: 0, { $0 }) }
    }
}
