import Foundation
import Synchronization
import Testing
@testable import WorkerPool

/// What an offer's run function counts: the argument is this object,
/// passed retained by the poster and released by the run or the retract.
final class OfferProbe: Sendable {
    let runs = Atomic<Int>(0)
    let onWorker = Atomic<Int>(0)
}

/// The offer's run function: counts the run on the probe and releases it.
private let probeRun: @convention(c) (UnsafeMutableRawPointer) -> Void = { raw in
    let probe = Unmanaged<OfferProbe>.fromOpaque(raw).takeRetainedValue()
    probe.runs.wrappingAdd(1, ordering: .relaxed)
    if WorkerPool.current != nil { probe.onWorker.wrappingAdd(1, ordering: .relaxed) }
}

/// An offer cell for `probe` (retained for the offer), freed by the caller.
private func makeOffer(_ probe: OfferProbe) -> UnsafeMutablePointer<WorkerPool.Offer> {
    let cell = UnsafeMutablePointer<WorkerPool.Offer>.allocate(capacity: 1)
    cell.initialize(to: WorkerPool.Offer(run: probeRun, argument: Unmanaged.passRetained(probe).toOpaque()))
    return cell
}

@Suite("WorkerPool offers: work for a polling worker, outside the queues")
struct OfferTests {
    @Test("an offer posted while a worker polls runs exactly once, on that worker, and can no longer be retracted")
    func offerRunsOnPollingWorker() throws {
        let pool = WorkerPool(name: "toffer", spinDuration: .seconds(10))
        let warm = Counter()
        try pool.submit { warm.add() }
        #expect(waitUntil { warm.count == 1 && pool.spinningWorkers > 0 })
        let probe = OfferProbe()
        let cell = makeOffer(probe)
        defer { cell.deallocate() }
        #expect(pool.post(cell))
        #expect(waitUntil { probe.runs.load(ordering: .relaxed) == 1 })
        #expect(!pool.retract(cell), "taken: the retract must fail")
        usleep(10_000)
        #expect(probe.runs.load(ordering: .relaxed) == 1)
        #expect(probe.onWorker.load(ordering: .relaxed) == 1)
    }

    @Test("with no polling worker an offer waits; a second one is refused; a retracted one never runs")
    func offerWaitsAndRetracts() throws {
        // A pool that was never given work has no thread: nobody polls.
        let pool = WorkerPool(name: "tnooffer")
        let a = OfferProbe(), b = OfferProbe()
        let cellA = makeOffer(a), cellB = makeOffer(b)
        defer { cellA.deallocate(); cellB.deallocate() }
        #expect(pool.post(cellA))
        #expect(!pool.post(cellB), "one offer at a time")
        usleep(10_000)
        #expect(pool.retract(cellA))
        #expect(!pool.retract(cellA), "already retracted")
        Unmanaged.passUnretained(a).release()
        #expect(pool.post(cellB))
        #expect(pool.retract(cellB))
        Unmanaged.passUnretained(b).release()
        #expect(a.runs.load(ordering: .relaxed) == 0 && b.runs.load(ordering: .relaxed) == 0)
        #expect(pool.startedThreads == 0)
    }

    @Test("a worker between two items takes a posted offer too (it looks once even when it does not poll)")
    func offerTakenBetweenItems() throws {
        let pool = WorkerPool(name: "tzero", spinDuration: .zero)
        let probe = OfferProbe()
        let cell = makeOffer(probe)
        defer { cell.deallocate() }
        #expect(pool.post(cell))
        let ran = Counter()
        try pool.submit { ran.add() }
        #expect(waitUntil { ran.count == 1 && probe.runs.load(ordering: .relaxed) == 1 })
        #expect(!pool.retract(cell))
    }

    @Test("under contention every offer either runs exactly once or is retracted, never both")
    func offerExactlyOnceUnderContention() async throws {
        let pool = WorkerPool(name: "toffers", spinDuration: .milliseconds(5))
        let posters = 4, rounds = stress ? 20_000 : 2_000
        let ran = Counter(), retracted = Counter(), refused = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0 ..< posters {
                group.addTask {
                    for r in 0 ..< rounds {
                        let probe = OfferProbe()
                        let cell = makeOffer(probe)
                        if !pool.post(cell) {
                            Unmanaged.passUnretained(probe).release()
                            refused.add()
                        } else {
                            if r % 3 == 0 { try? pool.submit {} }  // keep workers polling
                            if r % 2 == 0 { usleep(UInt32(r % 5)) }
                            if pool.retract(cell) {
                                Unmanaged.passUnretained(probe).release()
                                retracted.add()
                            } else {
                                // Taken: it runs exactly once, soon.
                                _ = waitUntil { probe.runs.load(ordering: .relaxed) == 1 }
                                ran.add()
                            }
                        }
                        #expect(probe.runs.load(ordering: .relaxed) <= 1)
                        cell.deallocate()
                    }
                }
            }
        }
        #expect(ran.count + retracted.count + refused.count == posters * rounds)
        #expect(ran.count > 0, "polling workers took some offers")
    }
}
