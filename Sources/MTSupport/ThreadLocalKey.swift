#if canImport(Glibc)
import Glibc
#endif

/// A `pthread_key_t` holding one object reference per thread. The key does
/// not retain what it holds: whoever sets a value keeps it alive for as
/// long as it is set.
package struct ThreadLocalKey<Value: AnyObject> {
    private let key: pthread_key_t

    /// A new key (process-wide; keys are never deleted).
    package init() {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        key = k
    }

    /// The calling thread's value, or nil.
    @inline(__always)
    package var current: Value? {
        guard let p = pthread_getspecific(key) else { return nil }
        return Unmanaged<Value>.fromOpaque(p).takeUnretainedValue()
    }

    /// The calling thread's value as a raw pointer (for save and restore).
    package var pointer: UnsafeMutableRawPointer? { pthread_getspecific(key) }

    /// Sets the calling thread's value (a pointer from `Unmanaged.toOpaque`
    /// or from ``pointer``); returns the previous one.
    @discardableResult
    package func exchange(_ new: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, new)
        return previous
    }
}

// `key` is immutable after init, and pthread keys are process-wide handles
// whose values are per thread by construction.
extension ThreadLocalKey: @unchecked Sendable {}
