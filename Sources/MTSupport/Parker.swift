#if canImport(Glibc)
import Glibc
#endif

/// A one-thread blocker with permit semantics: ``unpark()`` before
/// ``park(deadline:)`` makes the park return at once, so a wake-up between
/// "decide to wait" and "wait" is never lost.
package final class Parker {
    // protected by `mutex`
    private var permit = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Signals the one thread that can wait here.
    package func unpark() {
        pthread_mutex_lock(mutex)
        permit = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Do not rename: shows in profiles as a wait. Returns false
    /// when `deadline` (CLOCK_MONOTONIC nanoseconds) passed without a permit.
    @discardableResult
    package func park(deadline: UInt64? = nil) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !permit {
            if let d = deadline {
                var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
                if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT && !permit { return false }
            } else {
                pthread_cond_wait(cond, mutex)
            }
        }
        permit = false
        return true
    }
}

// `permit` is guarded by `mutex`; the pointers are immutable.
extension Parker: @unchecked Sendable {}

