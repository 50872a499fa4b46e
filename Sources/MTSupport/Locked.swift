#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Shared by every module of the package (package access). Used rather than `Synchronization.Mutex` because
/// ThreadSanitizer cannot see the hand-off inside `Mutex`'s contended path
/// (it sleeps in the uninstrumented standard library), and reports false
/// races on everything the lock guards; it intercepts `pthread_mutex_*`.
/// glibc's adaptive mutex spins briefly before sleeping, which suits the
/// pool's critical sections (a few loads and stores).
package final class Locked<State> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // protected by `mutex`
    private var state: State

    package init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    @inline(__always) @discardableResult
    package func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}

// `state` is only touched with `mutex` held; `mutex` is immutable.
extension Locked: @unchecked Sendable where State: Sendable {}
