import CSystemShims
import Synchronization
import Topology
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// One worker: a pthread serving one ``WorkerSlot``. It runs its own queue
/// first, then the pool's shared queue; when both are empty it polls them
/// for ``PoolCore/spinNanoseconds`` and then sleeps on its slot's futex word
/// (see <doc:Parking> (`WorkerPool.docc/Parking.md`)).
final class WorkerThread {
    let slot: WorkerSlot

    // Written once under the pool's registry lock by the creator; read by
    // whoever claims the thread out of the registry (under the same lock).
    private var pthread = pthread_t()

    /// Touched only by the thread itself: set when it called shutdown on its
    /// own pool and claimed itself out of the registry, so nobody joins it.
    var detachAtExit = false

    init(slot: WorkerSlot) {
        self.slot = slot
    }

    /// Starts the thread. Returns pthread_create's result.
    func start(core: PoolCore) -> Int32 {
        let context = Unmanaged.passRetained(WorkerContext(core: core, thread: self))
        do {
            pthread = try OSThread.start { context.takeUnretainedValue().thread.run(context) }
            return 0
        } catch {
            context.release()
            return error.code
        }
    }

    func join() {
        OSThread.join(pthread)
    }

    // MARK: - The loop

    private func run(_ retained: Unmanaged<WorkerContext>) {
        let context = retained.takeUnretainedValue()
        let core = context.core
        let label = "\(core.name)-w\(max(slot.position.load(ordering: .relaxed), 0))"
        OSThread.setCurrentName(label)
        if core.bind { try? core.topology.bindCurrentThread(to: [slot.cpu]) }
        // The context stays retained (it is the thread-local value) until exit.
        WorkerThread.key.exchange(retained.toOpaque())

        let retired = loop(core)
        // Drop the slot's reference to us (it would otherwise keep this
        // object and the slot alive in a cycle after shutdown).
        slot.queue.withLock { q in
            if q.thread === self {
                q.thread = nil
                slot.hasThread.store(false, ordering: .relaxed)
            }
        }

        // Someone may have woken us for shared work we will not do.
        if core.sharedPending.load(ordering: .sequentiallyConsistent) > 0 { core.notifyShared() }
        var detach = detachAtExit
        if retired && !detach { detach = core.claimForDetach(self) }
        WorkerThread.key.exchange(nil)
        core.liveThreads.wrappingAdd(-1, ordering: .relaxed)
        if detach { pthread_detach(pthread_self()) }
        retained.release()
    }

    /// Returns true when the thread leaves because its slot was retired,
    /// false when the pool shut down and everything it could run is done.
    private func loop(_ core: PoolCore) -> Bool {
        enum Own { case batch, retired, empty, closed }
        var batch: [WorkItem] = []
        while true {
            let own: Own = slot.queue.withLock { q in
                if !slot.active.load(ordering: .relaxed) {
                    // Retirement moved our queue away; later submissions
                    // see the slot retired. A new thread starts if the slot
                    // comes back.
                    q.thread = nil
                    slot.hasThread.store(false, ordering: .relaxed)
                    return .retired
                }
                if !q.items.isEmpty {
                    swap(&q.items, &batch)
                    slot.pending.store(0, ordering: .sequentiallyConsistent)
                    return .batch
                }
                return q.closed ? .closed : .empty
            }
            switch own {
            case .batch:
                runBatch(&batch, core)
            case .retired:
                return true
            case .empty, .closed:
                if let work = core.popShared() {
                    work()
                    continue
                }
                // Closed own queue implies a closed shared queue: both are
                // empty for good.
                if own == .closed { return false }
                if !spin(core) { park(core) }
            }
        }
    }

    /// Runs a batch taken from the own queue. If the slot is retired
    /// meanwhile, the rest goes back to the shared queue after the current
    /// item (unless the pool is shutting down: then we simply finish it).
    @inline(__always)
    private func runBatch(_ batch: inout [WorkItem], _ core: PoolCore) {
        let n = batch.count
        var i = 0
        while i < n {
            batch[i]()
            i += 1
            if i < n && !slot.active.load(ordering: .relaxed) && !core.closing.load(ordering: .relaxed) {
                core.requeueShared(batch[i..<n])
                break
            }
        }
        if batch.capacity > 4096 {
            batch = []
        } else {
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Polls for work for up to `spinNanoseconds`. Returns true when there
    /// is something to look at (work, retirement, shutdown), false when the
    /// time is up; then the thread is still counted in `spinners` and
    /// `park` takes it out (Parking.md, rule 2).
    private func spin(_ core: PoolCore) -> Bool {
        slot.spinning.store(true, ordering: .relaxed)
        // Pairs with `notifyShared`'s load (rule 2).
        core.spinners.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let deadline = MonotonicClock.now &+ core.spinNanoseconds
        var polls = 0
        while true {
            // Relaxed polls: a missed update is caught by `park`'s
            // sequentially consistent re-check.
            let own = slot.pending.load(ordering: .relaxed)
            let offer = core.offered.load(ordering: .relaxed)
            if own > 0 || offer != 0 || core.sharedPending.load(ordering: .relaxed) > 0
                || !slot.active.load(ordering: .relaxed) || core.closing.load(ordering: .relaxed)
            {
                slot.spinning.store(false, ordering: .relaxed)
                core.spinners.wrappingAdd(-1, ordering: .sequentiallyConsistent)
                // An offer is run at once (unless our own queue has work),
                // if we are the one who takes it.
                let took = own == 0 && offer != 0 && core.offered.compareExchange(
                    expected: offer, desired: 0, ordering: .acquiringAndReleasing).exchanged
                // We stop watching the shared queue and will run our own
                // work or the offer first: pass the watch on (rule 3).
                if (own > 0 || took) && core.sharedPending.load(ordering: .sequentiallyConsistent) > 0 {
                    core.notifyShared()
                }
                if took, let o = UnsafePointer<WorkerPool.Offer>(bitPattern: offer) {
                    let (run, argument) = (o.pointee.run, o.pointee.argument)
                    run(argument)
                }
                return true
            }
            if core.spinNanoseconds == 0 { return false }
            mtj_cpu_relax()
            polls &+= 1
            if polls & 63 == 0 {
                if MonotonicClock.now >= deadline { return false }
                // Every few µs, let a runnable thread on this PU (often the
                // submitter itself, waiting for our result) have it: a
                // spinning worker must not delay the caller by its spin.
                // Returns at once when nothing else wants the PU.
                sched_yield()
            }
        }
    }

    /// Do not rename: shows in profiles as the idle wait.
    /// Announces sleep, re-checks every source of work, and sleeps on the
    /// slot's futex word until a waker flips it to 0 (Parking.md, rule 1).
    private func park(_ core: PoolCore) {
        core.sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        // Pairs with the loads in `WorkerSlot.wake` (rules 1, 2, 4).
        slot.sleepWord.pointee.store(1, ordering: .sequentiallyConsistent)
        slot.spinning.store(false, ordering: .relaxed)
        core.spinners.wrappingAdd(-1, ordering: .sequentiallyConsistent)
        // Each pairs with the submitter's (or reconfigure's, or shutdown's)
        // sequentially consistent write before it loads our sleep word.
        if slot.pending.load(ordering: .sequentiallyConsistent) > 0
            || core.sharedPending.load(ordering: .sequentiallyConsistent) > 0
            || !slot.active.load(ordering: .sequentiallyConsistent)
            || core.closing.load(ordering: .sequentiallyConsistent)
        {
            // Take the announcement back. If the exchange fails a waker
            // already flipped the word and owns a (now useless) FUTEX_WAKE.
            _ = slot.sleepWord.pointee.compareExchange(expected: 1, desired: 0, ordering: .sequentiallyConsistent)
        } else {
            // Acquiring: pairs with the waker's exchange (nothing rides on
            // it but the word itself; work is handed over under locks).
            while slot.sleepWord.pointee.load(ordering: .acquiring) == 1 {
                _ = mtj_futex_wait(slot.futexAddress, 1)
            }
        }
        core.sleepers.wrappingAdd(-1, ordering: .sequentiallyConsistent)
    }

    // MARK: - Thread-local identity

    /// Key of the thread-local `WorkerContext` (set for a worker's lifetime).
    static let key = ThreadLocalKey<WorkerContext>()

    /// The calling thread's worker context, if it is a worker of any pool.
    static var current: WorkerContext? { key.current }
}

/// What a worker thread holds: its pool's core and itself. Retained by the
/// thread from start to exit; the thread-local value of `WorkerThread.key`.
final class WorkerContext {
    let core: PoolCore
    let thread: WorkerThread
    init(core: PoolCore, thread: WorkerThread) {
        self.core = core
        self.thread = thread
    }
}

// `slot` is immutable; `pthread` is written once before the thread is
// published (registry lock) and read by its claimer; `detachAtExit` is only
// touched by the thread itself.
extension WorkerThread: @unchecked Sendable {}

// Both fields are immutable.
extension WorkerContext: @unchecked Sendable {}
