import Synchronization
import WorkerPool
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// Threads and tasks waiting for a shell's `drained` count to reach a target
/// (window space for a producer, everything serialized for `stop`).
///
/// Protocol with the drainer: a waiter registers under `lock`, lowers
/// `minTarget` (seq_cst) and then re-reads `drained` (seq_cst); the drainer
/// stores `drained` (seq_cst) and then reads `minTarget` (seq_cst). One of
/// the two sees the other, so a waiter never sleeps through the store that
/// satisfies it. The drainer takes the lock only when `drained` reached
/// `minTarget`, so a waiting producer costs the drainer one load per item.
final class WaitList {
    enum Waker {
        case thread(Parker)
        case task(CheckedContinuation<Void, Never>)
    }

    struct Entry {
        let id: Int
        let target: UInt64
        /// Pool workers that wait also help (run items, take hand-offs), so
        /// they are woken on hand-offs too.
        let helper: Bool
        let waker: Waker
    }

    struct State {
        var entries: [Entry] = []
        var nextID = 0
    }

    // protected by itself
    private let lock = Locked(State())
    /// The smallest target of the registered waiters, `UInt64.max` when
    /// none; see the protocol above. Written under `lock`.
    let minTarget = Atomic<UInt64>(.max)
    /// Registered helper waiters (pool workers); read relaxed by hand-offs
    /// (a missed nudge only delays a helper until its next wake-up, and the
    /// hand-off also goes through the pool).
    let helpers = Atomic<Int>(0)

    private func recomputeMin(_ s: State) {
        let m = s.entries.lazy.map(\.target).min() ?? .max
        minTarget.store(m, ordering: .sequentiallyConsistent)
    }

    /// Registers a waiter; returns its id.
    func register(target: UInt64, helper: Bool, waker: Waker) -> Int {
        lock.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.entries.append(Entry(id: id, target: target, helper: helper, waker: waker))
            if target < minTarget.load(ordering: .relaxed) { minTarget.store(target, ordering: .sequentiallyConsistent) }
            if helper { helpers.wrappingAdd(1, ordering: .relaxed) }
            return id
        }
    }

    /// Removes waiter `id` if it is still registered; returns whether it was.
    @discardableResult
    func remove(_ id: Int) -> Bool {
        lock.withLock { s in
            guard let i = s.entries.firstIndex(where: { $0.id == id }) else { return false }
            let e = s.entries.remove(at: i)
            if e.helper { helpers.wrappingAdd(-1, ordering: .relaxed) }
            recomputeMin(s)
            return true
        }
    }

    /// Wakes and unregisters every waiter whose target `drained` has reached
    /// (targets are tickets, which never wrap, so `>=` is exact). A thread
    /// waiter's own later ``remove(_:)`` then finds nothing, which is fine.
    func notify(drained: UInt64) {
        var wake: [Waker] = []
        lock.withLock { s in
            s.entries.removeAll { e in
                guard drained >= e.target else { return false }
                wake.append(e.waker)
                if e.helper { helpers.wrappingAdd(-1, ordering: .relaxed) }
                return true
            }
            recomputeMin(s)
        }
        for w in wake {
            switch w {
            case .thread(let p): p.unpark()
            case .task(let c): c.resume()
            }
        }
    }

    /// Wakes helper waiters (a hand-off they may take was posted).
    func nudgeHelpers() {
        let ps: [Parker] = lock.withLock { s in
            s.entries.compactMap { e in
                if e.helper, case .thread(let p) = e.waker { return p }
                return nil
            }
        }
        for p in ps { p.unpark() }
    }
}

// `lock` is a pthread lock; `minTarget` and `helpers` are atomics.
extension WaitList: @unchecked Sendable {}
