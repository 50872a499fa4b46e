import CSystemShims
import Synchronization
import MTSupport

/// One PU the pool may place a worker on: the worker's own queue, its
/// sleep word, and (while one runs) its thread.
///
/// A pool has one slot per PU of its topology, created up front and never
/// freed before the pool, so submitters and workers can hold a slot without
/// reference counting games; a reconfiguration only flips ``active`` and
/// ``position``. See <doc:Parking> (`WorkerPool.docc/Parking.md`) for the protocol between the fields.
final class WorkerSlot {
    /// Index in ``PoolCore/slots`` (stable).
    let id: Int
    /// The PU (OS index).
    let cpu: Int
    /// The NUMA node (OS index) local to the PU, if any.
    let node: Int?

    struct Queue {
        /// Work for this worker only, in submission order. The worker takes
        /// the whole array at once (swapping in its empty batch array).
        var items: [WorkItem] = []
        /// The thread serving this slot. Set by the submitter that starts it;
        /// cleared by the thread itself when it leaves a retired slot.
        var thread: WorkerThread?
        /// Set by shutdown: no more submissions.
        var closed = false
    }

    // protected by itself
    let queue = Locked(Queue())

    /// `queue.items.count`, readable without the lock. Changed only with the
    /// lock held; sequentially consistent so that a submitter's increment
    /// and its later load of `sleep` are ordered against the worker's store
    /// to `sleep` and its later load of `pending` (the Dekker pair of
    /// Parking.md, rule 1).
    let pending = Atomic<Int>(0)

    /// Whether the slot is in the pool's placement. Written only with
    /// `queue`'s lock held (so a submission either lands before a retirement
    /// moves the queue away or sees the slot retired); sequentially
    /// consistent: pairs with the worker's load after it announces sleep.
    let active = Atomic<Bool>(false)

    /// Position in ``WorkerPool/placement``, -1 when retired. Written under
    /// the pool's configuration lock; read relaxed (``WorkerPool/current``).
    let position = Atomic<Int>(-1)

    /// A hint for submitters choosing among workers: the worker is polling
    /// for work. Relaxed: a stale value only makes a worse choice.
    let spinning = Atomic<Bool>(false)

    /// Whether `queue.thread` is set: written under the lock, read relaxed
    /// as a hint by submitters choosing a worker.
    let hasThread = Atomic<Bool>(false)

    /// 1 while the worker sleeps or is about to (it re-checks every source
    /// of work after storing 1), 0 otherwise. Whoever changes 1 → 0 with a
    /// compare-exchange owns the wake-up and issues the one `FUTEX_WAKE`.
    /// Heap-allocated so the kernel can be given its address.
    let sleepWord: UnsafeMutablePointer<Atomic<UInt32>>

    init(id: Int, cpu: Int, node: Int?) {
        self.id = id
        self.cpu = cpu
        self.node = node
        sleepWord = .allocate(capacity: 1)
        sleepWord.initialize(to: Atomic<UInt32>(0))
    }

    deinit {
        sleepWord.deinitialize(count: 1)
        sleepWord.deallocate()
    }

    /// The word's address as the kernel sees it (Atomic<UInt32> has the
    /// layout of UInt32).
    var futexAddress: UnsafeMutablePointer<UInt32> {
        UnsafeMutablePointer<UInt32>(OpaquePointer(sleepWord))
    }

    /// Wakes the worker if it sleeps (or is about to). Returns whether this
    /// call owned the wake-up. One `FUTEX_WAKE` syscall when it did, none
    /// otherwise: a spinning or running worker costs one load.
    @discardableResult
    func wake() -> Bool {
        // Pairs with the worker's sequentially consistent store of 1 in
        // `WorkerThread.park` (Parking.md, rule 1).
        guard sleepWord.pointee.load(ordering: .sequentiallyConsistent) == 1 else { return false }
        guard sleepWord.pointee.compareExchange(expected: 1, desired: 0, ordering: .sequentiallyConsistent).exchanged
        else { return false }
        _ = mtj_futex_wake(futexAddress, 1)
        return true
    }
}

// Immutable fields, atomics, and `queue` (a lock).
extension WorkerSlot: @unchecked Sendable {}
