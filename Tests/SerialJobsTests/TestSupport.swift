import Dispatch
import Synchronization
import Topology
import WorkerPool
@testable import SerialJobs
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// Long stress runs when `MTJ_STRESS=1`.
let stress: Bool = getenv("MTJ_STRESS").map { String(cString: $0) == "1" } ?? false

/// `quick` normally, `long` under `MTJ_STRESS=1`.
func scaled(_ quick: Int, _ long: Int) -> Int { stress ? long : quick }

/// A 6-PU synthetic machine and an unbound pool on it: lets tests use 3 or
/// 6 lanes on a 2-CPU host.
let sixPUPool: WorkerPool = {
    let topo = try! Topology(.synthetic("core:6 pu:1"))
    return WorkerPool(name: "sj6", topology: topo, bindThreads: false)
}()

/// Checks that serial functions see 0, 1, 2, ... (as tickets) exactly once.
final class OrderChecker: Sendable {
    let next = Atomic<UInt64>(0)
    let errors = Atomic<Int>(0)
    let concurrent = Atomic<Int>(0)
    let start: UInt64

    init(start: UInt64 = 0) { self.start = start }

    /// Call from a serial function with the item's sequence number.
    func see(_ sequence: UInt64) {
        if concurrent.wrappingAdd(1, ordering: .relaxed).newValue != 1 { errors.wrappingAdd(1, ordering: .relaxed) }
        let n = next.load(ordering: .relaxed)
        if sequence != start &+ n { errors.wrappingAdd(1, ordering: .relaxed) }
        next.store(n + 1, ordering: .relaxed)
        concurrent.wrappingAdd(-1, ordering: .relaxed)
    }

    var count: UInt64 { next.load(ordering: .relaxed) }
    var errorCount: Int { errors.load(ordering: .relaxed) }
}

/// A cheap thread-safe random generator for tests (splitmix64 per call site).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Busy-waits about `ns` nanoseconds.
func spin(ns: UInt64) {
    let end = MonotonicClock.now + ns
    while MonotonicClock.now < end {}
}

/// Waits until `condition` holds or `seconds` pass; returns whether it held.
func eventually(seconds: Double = 120, _ condition: () -> Bool) -> Bool {
    let end = MonotonicClock.now + UInt64(seconds * 1e9)
    while MonotonicClock.now < end {
        if condition() { return true }
        usleep(200)
    }
    return condition()
}

/// `eventually` for async tests: polls without blocking a thread of the
/// cooperative pool (which the tasks being waited for may need).
func awaitState(seconds: Double = 120, _ condition: () -> Bool) async -> Bool {
    let end = MonotonicClock.now + UInt64(seconds * 1e9)
    while MonotonicClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .microseconds(200))
    }
    return condition()
}

/// A few plain threads that run closures: completions "from random threads".
final class Completers: @unchecked Sendable {
    let queues: [DispatchQueue]
    init(_ n: Int) { queues = (0..<n).map { DispatchQueue(label: "completer\($0)") } }
    func run(_ i: Int, _ f: @escaping @Sendable () -> Void) { queues[i % queues.count].async(execute: f) }
}

/// The tests' lock, shadowing `Synchronization.Mutex` in this module:
/// ThreadSanitizer does not see `Mutex`'s hand-off (it waits inside the
/// uninstrumented standard library) and would report false races on what it
/// guards; it intercepts `pthread_mutex_*`.
final class Mutex<Value>: @unchecked Sendable {  // `value` is guarded by `mutex`
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ initial: Value) {
        value = initial
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @discardableResult
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
