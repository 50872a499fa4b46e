import MTSupport

/// A thread of its own for one closure: where an async run puts the
/// caller's share when the pool refuses work (it was shut down).
enum DetachedThread {
    static func start(_ work: @escaping @Sendable () -> Void) {
        do {
            try OSThread.startDetached(work)
        } catch {
            // No thread to be had: run it here rather than lose it.
            work()
        }
    }
}
