import Synchronization
import Topology
import WorkerPool
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Serial lanes and token hand-off
//
// A lane is a CPU of the instance's serial set. An item's lane is fixed at
// submission (the hint mapped as the kernel maps `cb_cpu`) and re-mapped the
// same way at drain time if the lane has left the serial set since.
//
// The drain token holder (ReorderWindow.swift) runs a serial function
// inline when the placement allows it on the current thread:
//   .callbackCPU: the thread is a worker of the instance's pool on that CPU;
//   .anyWorker:   the thread is a worker of the instance's pool.
// Otherwise it keeps the token and hands it to the lane:
//   H1  handoffTicket = n (relaxed); handoff = epoch << 32 | lane + 1
//       (releasing: publishes the ticket).
//   H2  submit "take hand-off `value`" to a pool worker of the lane; also
//       wake waiting pool workers (they help) and let runners on that CPU
//       notice it between parallel items (a relaxed poll).
//   H3  whoever CASes `handoff` from that value to 0 (acquiring) owns the
//       token and drains from `handoffTicket`. Every other taker fails its
//       CAS and does nothing; the epoch keeps a stale pool task from taking
//       a later hand-off.
// Only the token holder posts a hand-off, so there is at most one at a time.
// If the pool cannot run work on the lane (no worker there, or shut down),
// the hand-off goes to any worker, or finally runs on the current thread,
// with placement waived for that drain: order and completeness come first.

extension Shell {
    /// Called by ``TypedItem/complete(_:)``.
    @usableFromInline func itemCompleted(_ item: WindowItem) {
        if ring.markReady(item.ticket) { drain(from: item.ticket, force: false) }
    }

    /// The CPU of the current thread if it is a worker of this shell's pool,
    /// else -1.
    @inline(__always) func currentWorkerCPU() -> Int {
        guard let info = WorkerPool.current, pool.isCurrentThreadWorker else { return -1 }
        return info.cpu
    }

    /// Drains as the token holder from ticket `n`. `knownCPU` is the
    /// current thread's worker CPU when the caller knows it (runners), to
    /// save the thread-local lookups.
    func drain(from n: UInt64, force: Bool, knownCPU: Int? = nil) {
        let here = knownCPU ?? currentWorkerCPU()
        let previous = DrainContext.enter(self)
        defer { DrainContext.leave(previous) }
        let placement = self.placement
        let instance = self.instance
        let end = ring.drain(
            from: n,
            decide: { item in
                if force { return true }
                switch placement {
                case .anyWorker: return here >= 0
                case .callbackCPU: return here >= 0 && instance.currentLane(item.lane) == here
                }
            },
            published: { d in
                // Seq_cst: pairs with a waiter's registration (WaitList).
                if d >= waiters.minTarget.load(ordering: .sequentiallyConsistent) { waiters.notify(drained: d) }
            }
        )
        if case .handOff(let t, let item) = end {
            handOff(ticket: t, lane: instance.currentLane(item.lane))
        }
    }

    /// H1-H2: passes the held token to `lane`.
    func handOff(ticket t: UInt64, lane: Int) {
        let epoch = handoffEpoch.wrappingAdd(1, ordering: .relaxed).newValue & 0xFFFF_FFFF
        let value = epoch << 32 | UInt64(lane + 1)
        handoffTicket.store(t, ordering: .relaxed)
        handoff.store(value, ordering: .releasing)  // pairs with takeHandOff's CAS
        if waiters.helpers.load(ordering: .relaxed) > 0 { waiters.nudgeHelpers() }
        do {
            try pool.submit(to: CPUSet([lane])) { [self] in takeHandOff(value, force: false) }
        } catch {
            do {
                try pool.submit { [self] in takeHandOff(value, force: true) }
            } catch {
                takeHandOff(value, force: true)
            }
        }
    }

    /// H3: takes the hand-off `value` if it is still pending.
    @discardableResult
    func takeHandOff(_ value: UInt64, force: Bool) -> Bool {
        guard handoff.compareExchange(expected: value, desired: 0, ordering: .acquiring).exchanged else { return false }
        drain(from: handoffTicket.load(ordering: .relaxed), force: force)
        return true
    }

    /// Takes a pending hand-off addressed to `cpu`, if any (runners poll
    /// this between parallel items).
    @inline(__always) func takeHandOff(forCPU cpu: Int) {
        let v = handoff.load(ordering: .relaxed)
        guard v != 0, Int(v & 0xFFFF_FFFF) - 1 == cpu else { return }
        takeHandOff(v, force: false)
    }
}

/// Which shell the current thread is draining (serial functions run inside
/// a drain), so a serial function that waits on its own shell is refused
/// instead of deadlocking.
enum DrainContext {
    private static let key = ThreadLocalKey<Shell>()

    /// The shell being drained on this thread (unretained: only compared).
    static var current: Shell? { key.current }

    static func enter(_ s: Shell) -> UnsafeMutableRawPointer? {
        key.exchange(Unmanaged.passUnretained(s).toOpaque())
    }

    static func leave(_ previous: UnsafeMutableRawPointer?) {
        key.exchange(previous)
    }
}
