import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The bound for a job of equal chunks on two threads: a second thread that
/// polls a generation word runs the upper half of the chunks while the
/// caller runs the lower half. No runtime at all: no claims, no report, no
/// sleeping (what OpenMP's static schedule does, less its bookkeeping).
///
/// Measured in the same run as the others, it says what two threads can do
/// on the machine at that moment: on a virtual machine a thread can run
/// chunks up to ~20% slower while the other vCPU is busy, minute by minute,
/// so half the one-thread loop is not always reachable.
///
/// Its thread polls without sleeping: start it in a benchmark's setup and
/// stop it in the teardown, so that it takes no CPU from the other rows.
public final class StaticPair: Sendable {
    private let chunks: Int
    private let body: @Sendable (Int) -> Void
    /// The generation the caller asked for; -1 asks the thread to quit.
    private let go = Atomic<Int>(0)
    /// The generation whose upper half is done.
    private let done = Atomic<Int>(0)
    /// The thread, while it runs (only the benchmark's own thread starts,
    /// runs and stops the pair).
    private let thread = Mutex<pthread_t?>(nil)

    public init(chunks: Int, body: @escaping @Sendable (Int) -> Void) {
        self.chunks = chunks
        self.body = body
    }

    public func start() {
        let me = Unmanaged.passRetained(self).toOpaque()
        var t = pthread_t()
        guard pthread_create(&t, nil, { arg in
            let pair = Unmanaged<StaticPair>.fromOpaque(arg!).takeRetainedValue()
            pair.poll()
            return nil
        }, me) == 0 else { fatalError("StaticPair: pthread_create failed") }
        thread.withLock { $0 = t }
    }

    public func stop() {
        go.store(-1, ordering: .releasing)
        if let t = thread.withLock({ $0 }) { pthread_join(t, nil) }
        thread.withLock { $0 = nil }
        go.store(0, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
    }

    /// One job: chunks `0 ..< chunks / 2` here, the rest on the thread.
    public func run() {
        let g = go.load(ordering: .relaxed) + 1
        go.store(g, ordering: .releasing)
        for i in 0 ..< chunks / 2 { body(i) }
        while done.load(ordering: .acquiring) != g {}
    }

    private func poll() {
        var seen = 0
        while true {
            let g = go.load(ordering: .acquiring)
            if g < 0 { return }
            if g != seen {
                seen = g
                for i in chunks / 2 ..< chunks { body(i) }
                done.store(g, ordering: .releasing)
            }
        }
    }
}
