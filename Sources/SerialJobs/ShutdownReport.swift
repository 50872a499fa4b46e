import MTSupport
/// Where an unserialized item stands.
public enum ItemStage: Sendable, Hashable {
    /// Submitted; no runner has started its parallel function yet.
    case queued
    /// Its parallel function started and has not completed (still running,
    /// or a ``Completion`` not yet called).
    case parallel
    /// Completed; waiting for earlier items or for its callback CPU.
    case awaitingSerial
}

/// An item that was not serialized in time.
public struct StuckItem: Sendable, Hashable, CustomStringConvertible {
    /// Its sequence number.
    public let sequence: UInt64
    /// Where it stands.
    public let stage: ItemStage

    public init(sequence: UInt64, stage: ItemStage) {
        self.sequence = sequence
        self.stage = stage
    }

    public var description: String { "item \(sequence) (\(stage))" }
}

/// What ``Shell/shutdown(timeout:)`` achieved.
public struct ShutdownReport: Sendable, Hashable, CustomStringConvertible {
    /// Whether every item in flight was serialized before the timeout.
    public let completed: Bool
    /// Items submitted over the shell's life.
    public let submitted: UInt64
    /// Items serialized over the shell's life.
    public let serialized: UInt64
    /// The items still in flight at the timeout, oldest first (at most 64
    /// listed; ``submitted`` − ``serialized`` counts them all).
    public let stuck: [StuckItem]

    public init(completed: Bool, submitted: UInt64, serialized: UInt64, stuck: [StuckItem]) {
        self.completed = completed
        self.submitted = submitted
        self.serialized = serialized
        self.stuck = stuck
    }

    public var description: String {
        completed
            ? "shut down: \(serialized) items serialized"
            : "shutdown timed out: \(submitted - serialized) items in flight, oldest \(stuck.first?.description ?? "?")"
    }
}

/// A stall seen by the watchdog: nothing was serialized for a whole period
/// while items were in flight.
public struct StallReport: Sendable, Hashable, CustomStringConvertible {
    /// The stalled shell's ``Shell/index``.
    public let shellIndex: Int
    /// The oldest unfinished item: every earlier one is serialized.
    public let oldest: StuckItem
    /// Items in flight.
    public let inFlight: Int
    /// How long nothing has been serialized.
    public let stalledFor: Duration

    public init(shellIndex: Int, oldest: StuckItem, inFlight: Int, stalledFor: Duration) {
        self.shellIndex = shellIndex
        self.oldest = oldest
        self.inFlight = inFlight
        self.stalledFor = stalledFor
    }

    public var description: String {
        "shell \(shellIndex) stalled for \(stalledFor.components.seconds * 1000 + stalledFor.components.attoseconds / 1_000_000_000_000_000) ms at \(oldest); \(inFlight) items in flight"
    }
}

extension Shell {
    /// Refuses new items and waits up to `timeout` for every item in flight
    /// to be serialized; reports the items that were not.
    public func shutdown(timeout: Duration) -> ShutdownReport {
        let target = ring.reserved.bitwiseOr(1, ordering: .sequentiallyConsistent).oldValue >> 1
        let (s, a) = timeout.components
        let ns = UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000)
        let done = isDraining || isRunningParallel ? false : waitForDrained(target, deadline: MonotonicClock.now + ns)
        if done { releaseSpentItems() }
        return report(completed: done)
    }

    func report(completed: Bool) -> ShutdownReport {
        let d = ring.drained.load(ordering: .sequentiallyConsistent)
        let s = ring.submitted.load(ordering: .sequentiallyConsistent)
        var stuck: [StuckItem] = []
        var t = d
        while t < s && stuck.count < 64 {
            stuck.append(StuckItem(sequence: ring.startSequence &+ t, stage: stage(t)))
            t += 1
        }
        return ShutdownReport(completed: completed || d == s, submitted: s, serialized: d, stuck: stuck)
    }

    /// The stage of unserialized ticket `t` (racy snapshot).
    func stage(_ t: UInt64) -> ItemStage {
        if ring.isReady(t) { return .awaitingSerial }
        return t < ring.claimed.load(ordering: .relaxed) ? .parallel : .queued
    }
}
