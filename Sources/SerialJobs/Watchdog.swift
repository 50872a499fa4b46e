import MTSupport
import Synchronization
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// Watches an instance's shells and reports a stall: a shell with items in
/// flight that serialized nothing for a whole period. It names the oldest
/// unfinished sequence number (the one the shell waits for) and its stage,
/// which tells a lost ``Completion`` (`.parallel`) from a blocked lane
/// (`.awaitingSerial`). One report per stall; a shell that moves again is
/// reported again if it stalls again.
///
/// The watchdog runs on its own thread (`sj-watchdog`), the only thread
/// SerialJobs creates outside the pool: a stall is exactly when pool workers
/// or the Swift concurrency pool may be blocked, so it cannot rely on them.
/// It never changes what the shells do; it only reports.
///
/// The kernel has no such detection: its reorder step waits for the next
/// sequence number without a timeout (kernel/padata.c), so a lost object
/// blocks its stream forever.
public final class Watchdog: Sendable {
    private let core: WatchdogCore

    init(instance: Instance, period: Duration, onStall: @escaping @Sendable (StallReport) -> Void) {
        let (s, a) = period.components
        let ns = max(1_000_000, UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000))
        core = WatchdogCore(instance: instance, period: ns, onStall: onStall)
        let core = self.core
        do {
            try OSThread.startDetached(name: "sj-watchdog") { core.run() }
        } catch {
            fatalError("SerialJobs: cannot start the watchdog thread (\(error.code))")
        }
    }

    /// Stops watching; the thread exits at once.
    public func cancel() { core.cancel() }

    deinit { core.cancel() }
}

/// The watchdog thread's state.
private final class WatchdogCore: Sendable {
    private weak let instance: Instance?
    private let period: UInt64
    private let onStall: @Sendable (StallReport) -> Void
    private let parker = Parker()
    /// Set once by `cancel` (relaxed: the unpark that follows orders it).
    private let cancelled = Atomic<Bool>(false)

    init(instance: Instance, period: UInt64, onStall: @escaping @Sendable (StallReport) -> Void) {
        self.instance = instance
        self.period = period
        self.onStall = onStall
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        parker.unpark()
    }

    func run() {
        struct Seen {
            var drained: UInt64
            var since: UInt64
            var reported: Bool
        }
        var seen: [ObjectIdentifier: Seen] = [:]
        while !cancelled.load(ordering: .relaxed) {
            parker.park(deadline: MonotonicClock.now + period)
            guard !cancelled.load(ordering: .relaxed), let instance else { return }
            let now = MonotonicClock.now
            var next: [ObjectIdentifier: Seen] = [:]
            for shell in instance.shells {
                let id = ObjectIdentifier(shell)
                let d = shell.ring.drained.load(ordering: .sequentiallyConsistent)
                let s = shell.ring.submitted.load(ordering: .sequentiallyConsistent)
                guard var entry = seen[id], d == entry.drained, s != d else {
                    next[id] = Seen(drained: d, since: now, reported: false)
                    continue
                }
                if !entry.reported {
                    entry.reported = true
                    onStall(StallReport(
                        shellIndex: shell.index,
                        oldest: StuckItem(sequence: shell.ring.startSequence &+ d, stage: shell.stage(d)),
                        inFlight: Int(s - d),
                        stalledFor: .nanoseconds(Int64(now - entry.since))
                    ))
                }
                next[id] = entry
            }
            seen = next
        }
    }
}

extension Instance {
    /// Starts a stall watchdog over this instance's shells, checking every
    /// `period` (at least 1 ms); keep the returned ``Watchdog`` (it stops
    /// when cancelled or released).
    public func watchdog(period: Duration = .seconds(1), onStall: @escaping @Sendable (StallReport) -> Void) -> Watchdog {
        Watchdog(instance: self, period: period, onStall: onStall)
    }
}
