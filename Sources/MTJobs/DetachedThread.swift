#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for one closure: where an async run puts the
/// caller's share when the pool refuses work (it was shut down).
enum DetachedThread {
    private final class Box {
        let work: @Sendable () -> Void
        init(_ w: @escaping @Sendable () -> Void) { work = w }
    }

    static func start(_ work: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(work)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            b.work()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(tid)
        } else {
            // No thread to be had: run it here rather than lose it.
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().work()
        }
    }
}
