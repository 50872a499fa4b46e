import CSystemShims
import Synchronization
import Topology
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// Starting worker threads and shutting the pool down.

extension PoolCore {
    // MARK: - Threads

    /// Under `slot.queue`'s lock: starts the slot's thread.
    func startThread(_ slot: WorkerSlot, _ q: inout WorkerSlot.Queue) throws(WorkerPoolError) {
        let thread = WorkerThread(slot: slot)
        let rc: Int32 = registry.withLock { r in
            guard !r.sealed else { return EAGAIN }
            liveThreads.wrappingAdd(1, ordering: .relaxed)
            let rc = thread.start(core: self)
            if rc == 0 {
                r.threads.append(thread)
            } else {
                liveThreads.wrappingAdd(-1, ordering: .relaxed)
            }
            return rc
        }
        guard rc == 0 else { throw .threadStartFailed(errno: rc) }
        q.thread = thread
        slot.hasThread.store(true, ordering: .relaxed)
        if slot.active.load(ordering: .relaxed) { startedActive.wrappingAdd(1, ordering: .relaxed) }
    }

    /// Called by a thread leaving a retired slot: claims itself out of the
    /// registry (returns true: it must detach itself), unless a shutdown has
    /// already claimed it for joining.
    func claimForDetach(_ thread: WorkerThread) -> Bool {
        registry.withLock { r in
            guard let i = r.threads.firstIndex(where: { $0 === thread }) else { return false }
            r.threads.remove(at: i)
            return true
        }
    }

    // MARK: - Shutdown

    /// Refuses new work, wakes every worker, waits until all have run what
    /// was queued and exited (except the calling thread, when it is a worker
    /// of this pool: it goes on with its own queue and exits after it), and
    /// runs anything left on the shared queue. Idempotent.
    func shutdown() {
        let me = WorkerThread.current.flatMap { $0.core === self ? $0.thread : nil }
        if let me {
            shutdownBody(me: me)
        } else {
            shutdownLock.withLock { _ in shutdownBody(me: nil) }
        }
    }

    private func shutdownBody(me: WorkerThread?) {
        config.withLock { _ in closing.store(true, ordering: .sequentiallyConsistent) }
        shared.withLock { $0.closed = true }
        for s in slots {
            s.queue.withLock { $0.closed = true }
            s.wake()
        }
        if let me, claimForDetach(me) { me.detachAtExit = true }
        while true {
            let claimed: [WorkerThread] = registry.withLock { r in
                let t = r.threads
                r.threads.removeAll()
                if t.isEmpty { r.sealed = true }
                return t
            }
            if claimed.isEmpty { break }
            for t in claimed { t.join() }
        }
        if me == nil {
            // Threads that left a retired slot detached themselves and may
            // not have reached their end yet; a worker that called shutdown
            // itself runs until its own queue is empty.
            while liveThreads.load(ordering: .relaxed) > 0 { usleep(100) }
        }
        // Items a racing submitter put on the shared queue after the last
        // worker looked (or a pool whose threads could not start).
        while let w = popShared() { w() }
    }
}
