import Synchronization
import Topology
#if canImport(Glibc)
import Glibc
#endif

/// A FIFO of work items: an array with a moving head, compacted when the
/// consumed prefix dominates. Only used under the pool lock.
struct WorkQueue {
    private var items: [WorkItem] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func push(_ w: @escaping WorkItem) { items.append(w) }

    mutating func pop() -> WorkItem? {
        guard head < items.count else { return nil }
        let w = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return w
    }

    mutating func drain() -> [WorkItem] {
        defer { items.removeAll(); head = 0 }
        return Array(items[head...])
    }
}

/// One worker slot: a PU, its own queue, and (once started) a thread.
struct Slot {
    let cpu: Int
    let node: Int?
    /// Inactive slots were retired by a reconfiguration; their thread exits.
    var active = true
    var queue = WorkQueue()
    var thread: WorkerThread?
    /// The thread decided to park (under the lock) and needs an unpark.
    var parked = false
    /// The thread has left its loop.
    var exited = false
}

/// The pool's shared state. The lock order is: `state` only; parkers are
/// signalled after the lock is released.
final class PoolCore {
    let id: Int
    let name: String
    let topology: Topology
    let bind: Bool

    struct State {
        /// Slot indexes are stable: retired slots stay, marked inactive.
        var slots: [Slot]
        /// Work for any worker.
        var shared = WorkQueue()
        var shuttingDown = false

        var activeCount: Int { slots.reduce(0) { $0 + ($1.active ? 1 : 0) } }
        var activeIndexes: [Int] { slots.indices.filter { slots[$0].active } }

        init(placement: [Int], topology: Topology) {
            slots = placement.map { Slot(cpu: $0, node: topology.numaNode(ofCPU: $0)) }
        }
    }

    // protected by itself
    let state: Mutex<State>
    /// Workers spinning for work right now. Read relaxed by submitters as a
    /// hint: a stale value can only start or wake one worker more than
    /// needed; the lock-protected park decision prevents lost work.
    let spinning = Atomic<Int>(0)
    /// Items queued anywhere in the pool; lets spinners poll without the lock.
    /// Relaxed: a spinner that misses an increment parks only after
    /// re-checking the queues under the lock.
    let queued = Atomic<Int>(0)

    init(id: Int, name: String, topology: Topology, bind: Bool, placement: [Int]) {
        self.id = id
        self.name = name
        self.topology = topology
        self.bind = bind
        self.state = Mutex(State(placement: placement, topology: topology))
    }

    enum Target {
        case any
        case slot(Int)
        case choose([Int])
    }

    /// Enqueues `work` and wakes or starts the worker that will run it.
    func enqueue(_ target: Target, _ work: @escaping WorkItem) throws(WorkerPoolError) {
        let toWake: WorkerThread?
        let toStart: (Int, WorkerThread)?
        (toWake, toStart) = try state.withLock { s throws(WorkerPoolError) -> (WorkerThread?, (Int, WorkerThread)?) in
            guard !s.shuttingDown else { throw .shutDown }
            let slot: Int?
            switch target {
            case .any:
                s.shared.push(work)
                slot = nil
            case .slot(let i):
                slot = i
            case .choose(let candidates):
                // Prefer a parked or not-yet-started worker, else the shortest queue.
                slot = candidates.first { s.slots[$0].parked || s.slots[$0].thread == nil }
                    ?? candidates.min { s.slots[$0].queue.count < s.slots[$1].queue.count }
            }
            queued.wrappingAdd(1, ordering: .relaxed)
            if let i = slot {
                s.slots[i].queue.push(work)
                return wakeOrStart(i, &s)
            }
            // Untargeted: enough spinners already? Otherwise wake a parked
            // worker, otherwise start a new one.
            if s.shared.count <= spinning.load(ordering: .relaxed) { return (nil, nil) }
            if let i = s.slots.indices.first(where: { s.slots[$0].active && s.slots[$0].parked }) {
                return wakeOrStart(i, &s)
            }
            if let i = s.slots.indices.first(where: { s.slots[$0].active && s.slots[$0].thread == nil }) {
                return wakeOrStart(i, &s)
            }
            return (nil, nil)
        }
        if let (i, t) = toStart { t.start(core: self, slot: i) }
        toWake?.unpark()
    }

    /// Under the lock: decide how slot `i` gets going. Returns the thread
    /// to unpark or the new thread to start after the lock is dropped.
    private func wakeOrStart(_ i: Int, _ s: inout State) -> (WorkerThread?, (Int, WorkerThread)?) {
        if let t = s.slots[i].thread {
            if s.slots[i].parked {
                s.slots[i].parked = false
                return (t, nil)
            }
            return (nil, nil)
        }
        let t = WorkerThread()
        s.slots[i].thread = t
        return (nil, (i, t))
    }

    /// Under the lock: the next item for slot `i`: its own queue first, then
    /// the shared queue.
    func take(_ i: Int, _ s: inout State) -> WorkItem? {
        if let w = s.slots[i].queue.pop() ?? s.shared.pop() {
            queued.wrappingAdd(-1, ordering: .relaxed)
            return w
        }
        return nil
    }

    func shutdown(join: Bool) {
        let threads: [WorkerThread] = state.withLock { s in
            s.shuttingDown = true
            var ts: [WorkerThread] = []
            for i in s.slots.indices {
                guard let t = s.slots[i].thread else { continue }
                s.slots[i].parked = false
                ts.append(t)
            }
            return ts
        }
        for t in threads { t.unpark() }
        guard join else { return }
        let me = pthread_self()
        for t in threads where !t.isThread(me) { t.join() }
    }

    /// Moves the pool onto `placement` (OS indexes, in slot order). Slots
    /// whose CPU leaves are retired and their queued work moves to the
    /// shared queue; new CPUs get new slots.
    func reconfigure(placement: [Int]) throws(WorkerPoolError) {
        let wake: [WorkerThread] = try state.withLock { s throws(WorkerPoolError) in
            guard !s.shuttingDown else { throw .shutDown }
            let keep = Set(placement)
            var wake: [WorkerThread] = []
            for i in s.slots.indices where s.slots[i].active && !keep.contains(s.slots[i].cpu) {
                s.slots[i].active = false
                for w in s.slots[i].queue.drain() { s.shared.push(w) }
                if let t = s.slots[i].thread, s.slots[i].parked {
                    s.slots[i].parked = false
                    wake.append(t)
                }
            }
            let present = Set(s.slots.filter(\.active).map(\.cpu))
            for cpu in placement where !present.contains(cpu) {
                s.slots.append(Slot(cpu: cpu, node: topology.numaNode(ofCPU: cpu)))
            }
            // Keep active slots in the new placement order (stable indexes
            // are not needed for active slots: callers address them through
            // `activeIndexes`). Order inactive ones last.
            let rank = Dictionary(uniqueKeysWithValues: placement.enumerated().map { ($1, $0) })
            let reordered = s.slots.enumerated().sorted { a, b in
                let ra = a.element.active ? rank[a.element.cpu]! : Int.max
                let rb = b.element.active ? rank[b.element.cpu]! : Int.max
                return (ra, a.offset) < (rb, b.offset)
            }
            // Threads remember their slot index; hand them the new one.
            s.slots = reordered.map(\.element)
            for (newIndex, slot) in s.slots.enumerated() { slot.thread?.slotIndex.store(newIndex, ordering: .releasing) }
            // Pending shared work may need hands on the new slots.
            var need = s.shared.count - spinning.load(ordering: .relaxed)
            for i in s.slots.indices where need > 0 && s.slots[i].active && s.slots[i].parked {
                s.slots[i].parked = false
                if let t = s.slots[i].thread { wake.append(t) }
                need -= 1
            }
            return wake
        }
        for t in wake { t.unpark() }
        // Start threads for new slots if shared work is waiting.
        while true {
            let start: (Int, WorkerThread)? = state.withLock { s in
                guard s.shared.count > 0, !s.shuttingDown,
                      let i = s.slots.indices.first(where: { s.slots[$0].active && s.slots[$0].thread == nil })
                else { return nil }
                let t = WorkerThread()
                s.slots[i].thread = t
                return (i, t)
            }
            guard let (i, t) = start else { break }
            t.start(core: self, slot: i)
        }
    }
}

// `state` is a Mutex, `spinning`/`queued` are atomics, every other stored
// property is immutable after init.
extension PoolCore: @unchecked Sendable {}
