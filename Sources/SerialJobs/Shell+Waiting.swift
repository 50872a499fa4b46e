import MTSupport
import Synchronization
import WorkerPool

// How producers and `stop` wait for the drain: a short adaptive spin, then
// the shell's wait list (threads park, tasks suspend); a waiting pool
// worker helps with the shell's work instead of sleeping.

extension Shell {

    /// How many free slots a blocked producer waits for: a quarter of the
    /// window (at most 256), so a producer that runs ahead is woken once per
    /// batch of serialized items instead of once per item.
    var refill: UInt64 { UInt64(max(1, min(window / 4, 256))) }

    /// The longest a blocked producer spins before it parks.
    static let producerSpinNanoseconds: UInt64 = 30_000

    /// Spins while `drained` approaches `target` fast enough to get there
    /// within about ``producerSpinNanoseconds``; returns whether it did.
    ///
    /// Parking costs a futex wait here and a wake-up in the drainer (about
    /// 20 µs of latency on an idle vCPU), which for tiny items is worth
    /// hundreds of items. But a spinning producer takes a CPU from the
    /// runners, so it spins only while the drain rate it observes predicts
    /// the target soon, and parks at once for slow items.
    func spinForDrained(_ target: UInt64) -> Bool {
        let d0 = ring.drained.load(ordering: .acquiring)
        if d0 >= target { return true }
        let t0 = MonotonicClock.now
        var polls = 0
        while true {
            // Acquiring: pairs with the drainer's `drained` store (the
            // slots below it are free).
            let d = ring.drained.load(ordering: .acquiring)
            if d >= target { return true }
            polls &+= 1
            guard polls & 255 == 0 else { continue }
            let elapsed = MonotonicClock.now &- t0
            if elapsed >= Shell.producerSpinNanoseconds { return false }
            // After 1 µs, keep spinning only if the rate so far predicts
            // the target within the budget.
            if elapsed >= 1_000 {
                let progress = d &- d0
                guard progress > 0 else { return false }
                let predicted = elapsed * (target &- d) / progress
                if elapsed + predicted > Shell.producerSpinNanoseconds { return false }
            }
        }
    }

    /// Blocks until `drained >= target` or `deadline` (CLOCK_MONOTONIC ns)
    /// passes; returns whether the target was reached. A pool worker helps
    /// (runs this shell's items and takes its hand-offs) instead of parking
    /// while there is something it can do.
    @discardableResult
    func waitForDrained(_ target: UInt64, deadline: UInt64? = nil) -> Bool {
        if ring.drained.load(ordering: .sequentiallyConsistent) >= target { return true }
        let helper = pool.isCurrentThreadWorker
        let parker = Parker()
        while true {
            if helper {
                while helpOnce() {
                    if ring.drained.load(ordering: .sequentiallyConsistent) >= target { return true }
                }
            }
            let id = waiters.register(target: target, helper: helper, waker: .thread(parker))
            // Seq_cst re-check after registering: pairs with the drainer's
            // `drained` store and `waiters.count` load (see WaitList).
            if ring.drained.load(ordering: .sequentiallyConsistent) >= target {
                waiters.remove(id)
                return true
            }
            if helper && canHelp {
                waiters.remove(id)
                continue
            }
            let woke = parker.park(deadline: deadline)
            waiters.remove(id)
            if ring.drained.load(ordering: .sequentiallyConsistent) >= target { return true }
            if !woke { return false }
        }
    }

    /// Suspends until `drained >= target` or the task is cancelled
    /// (callers check `Task.isCancelled` after it returns).
    func waitForDrainedAsync(_ target: UInt64) async {
        if ring.drained.load(ordering: .sequentiallyConsistent) >= target || Task.isCancelled { return }
        let registration = AsyncWaitRegistration()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let id = waiters.register(target: target, helper: false, waker: .task(c))
                // Whoever removes the entry resumes `c`: the drainer's
                // notify, this re-check, or the cancellation handler.
                if ring.drained.load(ordering: .sequentiallyConsistent) >= target, waiters.remove(id) {
                    c.resume()
                    return
                }
                if !registration.publish(id: id, continuation: c), waiters.remove(id) {
                    c.resume()  // cancelled before the registration was published
                }
            }
        } onCancel: {
            if let (id, c) = registration.cancel(), waiters.remove(id) { c.resume() }
        }
    }
}

/// Hands an async waiter's registration to its task's cancellation
/// handler, which may run before, during or after the registration.
final class AsyncWaitRegistration: Sendable {
    private struct State {
        var id: Int?
        var continuation: CheckedContinuation<Void, Never>?
        var cancelled = false
    }
    private let state = Mutex(State())

    /// Records the registration; false when the task was already cancelled.
    func publish(id: Int, continuation: CheckedContinuation<Void, Never>) -> Bool {
        state.withLock { s in
            if s.cancelled { return false }
            s.id = id
            s.continuation = continuation
            return true
        }
    }

    /// Marks the task cancelled; returns the registration if it was published.
    func cancel() -> (Int, CheckedContinuation<Void, Never>)? {
        state.withLock { s in
            s.cancelled = true
            guard let id = s.id, let c = s.continuation else { return nil }
            s.id = nil
            s.continuation = nil
            return (id, c)
        }
    }
}
