import CHwloc
import Synchronization
import Topology
#if canImport(Glibc)
import Glibc
#endif

/// One worker: a pthread bound to its slot's PU, running the pool loop, and
/// parking on a permit (mutex + condition variable) when idle.
///
/// Park/unpark use permit semantics: `unpark` before `park` makes the next
/// `park` return at once, so a wake-up can never be lost between the
/// worker's decision to park (taken under the pool lock, after seeing every
/// queue empty) and its call to `park`.
final class WorkerThread {
    /// The slot this thread serves; written under the pool lock on
    /// reconfiguration (releasing), read under the same lock (acquiring).
    let slotIndex = Atomic<Int>(-1)

    // protected by `mutex`
    private var permit = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // protected by `mutex`
    private var pthread: pthread_t?

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Gives the thread its permit and wakes it if it waits. Signals the
    /// single waiter there can be (only this thread parks on `cond`).
    func unpark() {
        pthread_mutex_lock(mutex)
        permit = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Do not rename: shows in profiles as the idle wait.
    func park() {
        pthread_mutex_lock(mutex)
        while !permit { pthread_cond_wait(cond, mutex) }
        permit = false
        pthread_mutex_unlock(mutex)
    }

    func isThread(_ t: pthread_t) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let p = pthread else { return false }
        return pthread_equal(p, t) != 0
    }

    func join() {
        pthread_mutex_lock(mutex)
        let p = pthread
        pthread_mutex_unlock(mutex)
        if let p { pthread_join(p, nil) }
    }

    func start(core: PoolCore, slot: Int) {
        slotIndex.store(slot, ordering: .releasing)
        let box = Unmanaged.passRetained(StartBox(core: core, thread: self)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            let box = Unmanaged<StartBox>.fromOpaque(raw!).takeRetainedValue()
            box.thread.run(core: box.core)
            return nil
        }, box)
        precondition(rc == 0, "WorkerPool: pthread_create failed (\(rc))")
        pthread_mutex_lock(mutex)
        pthread = tid
        pthread_mutex_unlock(mutex)
    }

    /// How long an idle worker polls before parking. Long enough to catch
    /// back-to-back jobs (a fork-join loop resubmits within microseconds),
    /// short enough that an idle pool costs no measurable CPU.
    static let spinIterations = 4_000

    private func run(core: PoolCore) {
        let info: WorkerInfo = core.state.withLock { s in
            let i = slotIndex.load(ordering: .acquiring)
            return WorkerInfo(poolID: core.id, index: i, cpu: s.slots[i].cpu, numaNode: s.slots[i].node)
        }
        let label = "\(core.name)-w\(info.index)"
        _ = mtj_set_thread_name(String(label.prefix(15)))
        if core.bind { try? core.topology.bindCurrentThread(to: [info.cpu]) }
        WorkerThread.setCurrentInfo(info)

        while let work = nextWork(core) {
            work()
        }
        core.state.withLock { s in
            let i = slotIndex.load(ordering: .acquiring)
            s.slots[i].exited = true
        }
    }

    /// Takes the next item: spin briefly without the lock, then park.
    /// Returns nil when the thread must exit (shutdown with nothing left, or
    /// its slot was retired).
    private func nextWork(_ core: PoolCore) -> WorkItem? {
        var spins = 0
        var counted = false
        defer { if counted { core.spinning.wrappingAdd(-1, ordering: .relaxed) } }
        while true {
            enum Step { case run(WorkItem), exit, spin, park }
            let step: Step = core.state.withLock { s in
                let i = slotIndex.load(ordering: .acquiring)
                if s.slots[i].active, let w = core.take(i, &s) { return .run(w) }
                if !s.slots[i].active {
                    // Retired: queued work was moved to the shared queue.
                    return .exit
                }
                if s.shuttingDown { return .exit }
                if spins < WorkerThread.spinIterations { return .spin }
                s.slots[i].parked = true
                return .park
            }
            switch step {
            case .run(let w): return w
            case .exit: return nil
            case .spin:
                if !counted {
                    counted = true
                    core.spinning.wrappingAdd(1, ordering: .relaxed)
                }
                // Poll the lock-free hint until something is queued.
                while spins < WorkerThread.spinIterations && core.queued.load(ordering: .relaxed) == 0 {
                    spins += 1
                    cpuRelax()
                }
                if spins < WorkerThread.spinIterations { spins += 1 }
            case .park:
                if counted {
                    counted = false
                    core.spinning.wrappingAdd(-1, ordering: .relaxed)
                }
                park()
                spins = 0
            }
        }
    }

    // MARK: thread-local identity

    nonisolated(unsafe) private static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in p.map { Unmanaged<InfoBox>.fromOpaque($0).release() } }
        return k
    }()

    private static func setCurrentInfo(_ info: WorkerInfo) {
        let box = Unmanaged.passRetained(InfoBox(info)).toOpaque()
        pthread_setspecific(key, box)
    }

    static var currentInfo: WorkerInfo? {
        guard let p = pthread_getspecific(key) else { return nil }
        return Unmanaged<InfoBox>.fromOpaque(p).takeUnretainedValue().info
    }
}

private final class InfoBox {
    let info: WorkerInfo
    init(_ i: WorkerInfo) { info = i }
}

private final class StartBox {
    let core: PoolCore
    let thread: WorkerThread
    init(core: PoolCore, thread: WorkerThread) {
        self.core = core
        self.thread = thread
    }
}

@inline(__always)
func cpuRelax() {
    #if arch(x86_64) || arch(i386)
    // `pause` is not exposed; a compiler barrier through an atomic fence is
    // close enough for a bounded poll.
    atomicMemoryFence(ordering: .acquiring)
    #else
    atomicMemoryFence(ordering: .acquiring)
    #endif
}

// `permit` and `pthread` are guarded by `mutex`; `slotIndex` is atomic.
extension WorkerThread: @unchecked Sendable {}
