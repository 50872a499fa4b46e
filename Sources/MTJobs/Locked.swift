#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a pthread mutex.
///
/// Used instead of `Synchronization.Mutex` for the little locked state of a
/// run (first error, report records, progress): on Linux `Mutex` is built on
/// raw futexes that ThreadSanitizer cannot see, so every access it guards
/// would be reported as a race; pthread locks are intercepted and checked.
final class Locked<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // protected by `mutex`
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

// `value` is only touched under `mutex`; `mutex` itself is immutable.
extension Locked: @unchecked Sendable {}
