/// A FIFO of work items: a ring buffer that doubles when full. Not
/// thread-safe: every instance lives inside one lock (the pool's shared
/// queue, see ``PoolCore``).
struct WorkQueue {
    // Capacity is 0 or a power of two; slots outside the live range are nil
    // so that finished closures (and what they capture) are released at once.
    private var storage: [WorkItem?] = []
    private var head = 0
    /// Items in the queue.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ work: @escaping WorkItem) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = work
        count += 1
    }

    mutating func pop() -> WorkItem? {
        guard count > 0 else { return nil }
        let work = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return work
    }

    private mutating func grow() {
        let capacity = max(16, storage.count * 2)
        var next = [WorkItem?](repeating: nil, count: capacity)
        for i in 0..<count { next[i] = storage[(head + i) & (storage.count - 1)] }
        storage = next
        head = 0
    }
}
