#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`: SerialJobs' lock.
///
/// Used instead of `Synchronization.Mutex` because ThreadSanitizer does not
/// see the hand-off inside `Mutex`'s contended path (it waits in the
/// uninstrumented standard library) and then reports false races on
/// everything the lock guards; it does intercept `pthread_mutex_*`. CI runs
/// these tests under ThreadSanitizer, so the lock must be visible to it.
final class Locked<State> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // protected by `mutex`
    private var state: State

    init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        // Adaptive: spins briefly before sleeping; the critical sections
        // here are a few loads and stores.
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held. Do not rename: shows in profiles.
    @inline(__always) @discardableResult
    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}

// `state` is only touched with `mutex` held; `mutex` is immutable.
extension Locked: @unchecked Sendable where State: Sendable {}
