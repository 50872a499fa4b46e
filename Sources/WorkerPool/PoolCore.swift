import CSystemShims
import Synchronization
import Topology
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// The shared state of one pool: its slots, the placement, the shared
/// queue, and the registry of threads. Worker threads retain the core, not
/// the ``WorkerPool``, so dropping the last reference to a pool shuts it down.
///
/// Lock order (outer first): `shutdownLock` → `config` → a slot's `queue` →
/// `shared` → `registry`. Wake-ups (`FUTEX_WAKE`) may be issued with locks
/// held; nothing ever waits for a wake-up with a lock held.
///
/// The protocol between submitters and sleeping workers is in <doc:Parking> (`WorkerPool.docc/Parking.md`).
final class PoolCore {
    let id: Int
    let name: String
    let topology: Topology
    let bind: Bool
    /// How long an idle worker polls before it sleeps.
    let spinNanoseconds: UInt64

    /// One slot per PU of the topology, in `topology.pus` order. Immutable.
    let slots: [WorkerSlot]
    /// Slot id of each PU, indexed by OS index (-1: no such PU). Immutable.
    let slotByCPU: [Int]

    struct Config {
        /// Slot ids of the active slots, in placement order.
        var order: [Int]
    }

    // protected by itself; changed only by `reconfigure`
    let config: Locked<Config>

    /// `config.order` readable without the lock: entry `i` is the slot id at
    /// position `i`. Written under `config`'s lock (releasing, entries before
    /// `activeCount`); read acquiring after `activeCount`. A reader racing
    /// with a reconfiguration can see a mix of old and new entries: it then
    /// finds its slot retired (under the slot's lock) and retries under
    /// `config`'s lock. Entries below the highest count ever stored always
    /// hold valid slot ids.
    let positions: UnsafeMutablePointer<Atomic<Int>>
    /// `config.order.count`. Stored releasing after the entries of
    /// `positions`; loaded acquiring before reading them.
    let activeCount = Atomic<Int>(0)

    struct SharedQueue {
        var items = WorkQueue()
        var closed = false
    }

    // protected by itself
    let shared = Locked(SharedQueue())
    /// `shared.items.count`, readable without the lock. Changed only under
    /// the lock, sequentially consistent (Parking.md, rule 2: pairs with the
    /// loads of a worker that has announced it is going to sleep).
    let sharedPending = Atomic<Int>(0)

    /// Workers polling for work right now (Parking.md, rule 2).
    /// Sequentially consistent on both sides.
    let spinners = Atomic<Int>(0)
    /// The address of the posted `WorkerPool.Offer`, or 0 (see
    /// `WorkerPool.post`). Taken or retracted by compare-and-swap to 0:
    /// acquiring-and-releasing, pairing the poster's writes of the offer
    /// with the taker's reads.
    let offered = Atomic<Int>(0)
    /// Workers that announced sleep and have not resumed yet. Incremented
    /// before the worker's sleep word is set to 1, so a submitter that sees
    /// no spinner and no sleeper knows every worker is running an item.
    /// Sequentially consistent (pairs with `notifyShared`'s load).
    let sleepers = Atomic<Int>(0)
    /// Active slots that have a thread. Changed under the slot's lock;
    /// a relaxed hint that lets submitters skip the search for a slot to
    /// start a thread on.
    let startedActive = Atomic<Int>(0)
    /// Set once by `shutdown`, under `config`'s lock, before any queue is
    /// closed. Sequentially consistent: pairs with a worker's last check
    /// before it sleeps.
    let closing = Atomic<Bool>(false)

    struct Registry {
        /// Threads not yet claimed for joining or detaching.
        var threads: [WorkerThread] = []
        /// Set when shutdown has joined every thread: no new thread starts.
        var sealed = false
    }

    // protected by itself
    let registry = Locked(Registry())
    /// Threads started and not yet at their exit. Relaxed: a statistic,
    /// read after joins (which order it) or as an estimate.
    let liveThreads = Atomic<Int>(0)
    /// Serializes shutdowns from threads that are not workers of this pool,
    /// so every such caller returns only after the threads are gone.
    let shutdownLock = Locked(())

    init(id: Int, name: String, topology: Topology, bind: Bool, placement: [Int], spinNanoseconds: UInt64) {
        self.id = id
        self.name = name
        self.topology = topology
        self.bind = bind
        self.spinNanoseconds = spinNanoseconds
        var slots: [WorkerSlot] = []
        var slotByCPU = [Int](repeating: -1, count: (topology.pus.map(\.osIndex).max() ?? -1) + 1)
        for pu in topology.pus where pu.osIndex >= 0 && slotByCPU[pu.osIndex] < 0 {
            slotByCPU[pu.osIndex] = slots.count
            slots.append(WorkerSlot(id: slots.count, cpu: pu.osIndex, node: pu.numaNodes.first))
        }
        self.slots = slots
        self.slotByCPU = slotByCPU
        positions = .allocate(capacity: max(slots.count, 1))
        for i in 0..<max(slots.count, 1) { (positions + i).initialize(to: Atomic<Int>(-1)) }
        let order = placement.compactMap { $0 >= 0 && $0 < slotByCPU.count && slotByCPU[$0] >= 0 ? slotByCPU[$0] : nil }
        config = Locked(Config(order: []))
        config.withLock { c in install(order, &c) }
    }

    deinit {
        positions.deinitialize(count: max(slots.count, 1))
        positions.deallocate()
    }

    // MARK: - Placement

    /// Under `config`'s lock: makes `order` the placement. Retired slots'
    /// queued items are returned (the caller moves them to the shared queue).
    @discardableResult
    private func install(_ order: [Int], _ c: inout Config) -> (moved: [WorkItem], retired: [WorkerSlot]) {
        let keep = Set(order)
        var moved: [WorkItem] = []
        var retired: [WorkerSlot] = []
        for id in c.order where !keep.contains(id) {
            let s = slots[id]
            s.queue.withLock { q in
                // Pairs with the worker's load in `park` (Parking.md, rule 4).
                s.active.store(false, ordering: .sequentiallyConsistent)
                moved.append(contentsOf: q.items)
                q.items.removeAll()
                s.pending.store(0, ordering: .sequentiallyConsistent)
                if q.thread != nil { startedActive.wrappingAdd(-1, ordering: .relaxed) }
            }
            s.position.store(-1, ordering: .relaxed)
            retired.append(s)
        }
        for (p, id) in order.enumerated() {
            let s = slots[id]
            s.position.store(p, ordering: .relaxed)
            if !s.active.load(ordering: .relaxed) {
                s.queue.withLock { q in
                    s.active.store(true, ordering: .sequentiallyConsistent)
                    if q.thread != nil { startedActive.wrappingAdd(1, ordering: .relaxed) }
                }
            }
            // Pairs with the acquiring loads in `slot(atPosition:)`.
            (positions + p).pointee.store(id, ordering: .releasing)
        }
        // Pairs with the acquiring load in `slot(atPosition:)`.
        activeCount.store(order.count, ordering: .releasing)
        c.order = order
        return (moved, retired)
    }

    /// The slot at placement position `p`, read without the lock; nil when
    /// `p` is out of range (the caller re-checks under `config`'s lock).
    @inline(__always)
    func slot(atPosition p: Int) -> WorkerSlot? {
        guard p >= 0, p < activeCount.load(ordering: .acquiring) else { return nil }
        let id = (positions + p).pointee.load(ordering: .acquiring)
        return id >= 0 ? slots[id] : nil
    }

    /// Moves the pool onto `placement` (OS indexes, in placement order).
    func reconfigure(placement: [Int]) throws(WorkerPoolError) {
        let order = placement.compactMap { $0 >= 0 && $0 < slotByCPU.count && slotByCPU[$0] >= 0 ? slotByCPU[$0] : nil }
        let (moved, retired) = try config.withLock { c throws(WorkerPoolError) -> ([WorkItem], [WorkerSlot]) in
            guard !closing.load(ordering: .relaxed) else { throw .shutDown }
            let r = install(order, &c)
            // Inside the config lock, so shutdown (which takes it first)
            // either sees these items in the shared queue or refuses us.
            if !r.moved.isEmpty {
                shared.withLock { q in
                    for w in r.moved { q.items.push(w) }
                    sharedPending.wrappingAdd(r.moved.count, ordering: .sequentiallyConsistent)
                }
            }
            return r
        }
        // Retired sleepers wake to exit (they hand on shared work first).
        for s in retired { s.wake() }
        // Moved work and work already waiting may need hands on new slots.
        let want = min(max(moved.count, sharedPending.load(ordering: .relaxed) > 0 ? 1 : 0), slots.count)
        for _ in 0..<want {
            if !notifyShared() { break }
        }
    }

    // MARK: - Submission

    /// Enqueues `work` on `slot`. Returns false (nothing enqueued) when the
    /// slot was retired meanwhile. Starts the slot's thread on first use and
    /// wakes it if it sleeps.
    @inline(__always)
    func push(_ slot: WorkerSlot, _ work: @escaping WorkItem) throws(WorkerPoolError) -> Bool {
        let pushed = try slot.queue.withLock { q throws(WorkerPoolError) -> Bool in
            guard !q.closed else { throw .shutDown }
            guard slot.active.load(ordering: .relaxed) else { return false }
            if q.thread == nil { try startThread(slot, &q) }
            q.items.append(work)
            // Pairs with the worker's load in `park` (Parking.md, rule 1).
            slot.pending.wrappingAdd(1, ordering: .sequentiallyConsistent)
            return true
        }
        if pushed { slot.wake() }
        return pushed
    }

    /// Runs `work` on the worker at placement position `index`.
    func submit(toPosition index: Int, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        // Fast path: no pool-wide lock.
        if let s = slot(atPosition: index), try push(s, work) { return }
        // Out of range, or raced with a reconfiguration: decide under the lock.
        try config.withLock { c throws(WorkerPoolError) in
            guard !closing.load(ordering: .relaxed) else { throw .shutDown }
            guard index >= 0, index < c.order.count else { throw .noSuchWorker(index) }
            // Active for as long as we hold `config`.
            _ = try push(slots[c.order[index]], work)
        }
    }

    /// How good a place `s` is for one more item (lower is better): an idle
    /// spinning worker, else a sleeping one, else one not started, else the
    /// one with the fewest queued items. Relaxed hints: a stale value only
    /// makes a worse choice.
    /// Between equals, a worker on another PU than the caller's (`here`)
    /// wins: the caller keeps running on its own.
    @inline(__always)
    private func score(_ s: WorkerSlot, here: Int) -> Int {
        let pending = s.pending.load(ordering: .relaxed)
        let mine = s.cpu == here ? 1 : 0
        if s.spinning.load(ordering: .relaxed) && pending == 0 { return mine }
        if s.sleepWord.pointee.load(ordering: .relaxed) == 1 { return 2 + mine }
        if !s.hasThread.load(ordering: .relaxed) { return 4 + mine }
        return 6 + 2 * pending + mine
    }

    /// Runs `work` on the best worker (see `score`) among the active slots
    /// `accept`s.
    func submit(
        choosing accept: (WorkerSlot) -> Bool, orElse error: WorkerPoolError, _ work: @escaping WorkItem
    ) throws(WorkerPoolError) {
        // Fast path: choose from the lock-free placement; a slot retired
        // meanwhile refuses the push and we decide again under the lock.
        var best: WorkerSlot?
        var bestScore = Int.max
        let here = Int(mtj_current_cpu())
        let n = activeCount.load(ordering: .acquiring)
        for p in 0..<n {
            let id = (positions + p).pointee.load(ordering: .acquiring)
            guard id >= 0 else { continue }
            let s = slots[id]
            guard accept(s) else { continue }
            let sc = score(s, here: here)
            if sc < bestScore {
                best = s
                bestScore = sc
                if sc == 0 { break }
            }
        }
        if let best, try push(best, work) { return }
        try config.withLock { c throws(WorkerPoolError) in
            guard !closing.load(ordering: .relaxed) else { throw .shutDown }
            var best: WorkerSlot?
            var bestScore = Int.max
            for id in c.order where accept(slots[id]) {
                let sc = score(slots[id], here: here)
                if sc < bestScore {
                    best = slots[id]
                    bestScore = sc
                }
            }
            guard let best else { throw error }
            // Active for as long as we hold `config`.
            _ = try push(best, work)
        }
    }

    /// Runs `work` on the worker placed on `cpu` (OS index).
    func submit(toCPU cpu: Int, orElse error: WorkerPoolError, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        let id = cpu >= 0 && cpu < slotByCPU.count ? slotByCPU[cpu] : -1
        guard id >= 0 else {
            if closing.load(ordering: .relaxed) { throw .shutDown }
            throw error
        }
        let s = slots[id]
        if try push(s, work) { return }
        try config.withLock { _ throws(WorkerPoolError) in
            guard !closing.load(ordering: .relaxed) else { throw .shutDown }
            // `active` only changes under `config`'s lock: stable here.
            guard s.active.load(ordering: .relaxed) else { throw error }
            _ = try push(s, work)
        }
    }

    /// Runs `work` on any worker.
    func submitShared(_ work: @escaping WorkItem) throws(WorkerPoolError) {
        // A fresh pool has no thread: start one before accepting the item,
        // so a failure to start is the caller's error, not lost work.
        if startedActive.load(ordering: .relaxed) == 0 {
            try config.withLock { c throws(WorkerPoolError) in
                guard let first = c.order.first else { return }
                try slots[first].queue.withLock { q throws(WorkerPoolError) in
                    guard !q.closed else { throw .shutDown }
                    if q.thread == nil { try startThread(slots[first], &q) }
                }
            }
        }
        try shared.withLock { q throws(WorkerPoolError) in
            guard !q.closed else { throw .shutDown }
            q.items.push(work)
            // Pairs with the worker's load in `park` (Parking.md, rule 2).
            sharedPending.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
        notifyShared()
    }

    /// Makes sure some worker will look at the shared queue soon: a spinner
    /// will; else wake a sleeper; else start a thread on an active slot
    /// without one. When none of these applies every worker is running an
    /// item and checks the shared queue before it sleeps (Parking.md,
    /// rule 2). Returns whether a worker is known to be on its way.
    @discardableResult
    func notifyShared() -> Bool {
        // Both pair with the stores of a worker going to sleep (rule 2).
        if spinners.load(ordering: .sequentiallyConsistent) > 0 { return true }
        // Prefer a worker on another PU than the caller's: the caller keeps
        // running, and a worker woken (or started) on its PU would wait for
        // it to be preempted. Its own PU comes last.
        let here = Int(mtj_current_cpu())
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            let n = activeCount.load(ordering: .acquiring)
            for pass in 0..<2 {
                for p in 0..<n {
                    let id = (positions + p).pointee.load(ordering: .acquiring)
                    guard id >= 0, (slots[id].cpu != here) == (pass == 0) else { continue }
                    if slots[id].wake() { return true }
                }
            }
            // A placement read mid-reconfiguration may miss a slot: scan
            // them all. Waking a retired worker is harmless: it exits and
            // notifies again.
            for s in slots where s.wake() { return true }
        }
        if startedActive.load(ordering: .relaxed) < activeCount.load(ordering: .relaxed) {
            let n = activeCount.load(ordering: .acquiring)
            for pass in 0..<2 {
                for p in 0..<n {
                    let id = (positions + p).pointee.load(ordering: .acquiring)
                    guard id >= 0, (slots[id].cpu != here) == (pass == 0),
                          !slots[id].hasThread.load(ordering: .relaxed) else { continue }
                    let s = slots[id]
                    let started = s.queue.withLock { q in
                        guard !q.closed, q.thread == nil, s.active.load(ordering: .relaxed) else { return false }
                        return (try? startThread(s, &q)) != nil
                    }
                    if started { return true }
                }
            }
        }
        return false
    }

    /// Worker side: the next item of the shared queue, if any. Hands on the
    /// duty to watch the queue when items remain (Parking.md, rule 3).
    @inline(__always)
    func popShared() -> WorkItem? {
        if sharedPending.load(ordering: .relaxed) == 0 { return nil }
        let (work, left) = shared.withLock { q -> (WorkItem?, Int) in
            guard let w = q.items.pop() else { return (nil, 0) }
            sharedPending.wrappingAdd(-1, ordering: .sequentiallyConsistent)
            return (w, q.items.count)
        }
        if work != nil && left > 0 { notifyShared() }
        return work
    }

    /// Worker side: puts items a retiring worker will not run back on the
    /// shared queue (internal: allowed while closing).
    func requeueShared(_ items: ArraySlice<WorkItem>) {
        shared.withLock { q in
            for w in items { q.items.push(w) }
            sharedPending.wrappingAdd(items.count, ordering: .sequentiallyConsistent)
        }
        for _ in 0..<min(items.count, slots.count) {
            if !notifyShared() { break }
        }
    }

}

// Immutable fields, atomics, and `Locked` values (each its own lock).
extension PoolCore: @unchecked Sendable {}
