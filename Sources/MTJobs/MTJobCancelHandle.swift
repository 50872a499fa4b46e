import Synchronization

/// An explicit way to stop a running job: pass one as
/// ``MTJob/cancellation`` and call ``cancel()`` from any thread.
///
/// Cancelling stops new claims; chunks already started finish; the run then
/// throws ``MTJobCancelled`` with a report of how far the job got. A handle
/// stays cancelled: a job started with a cancelled handle runs no chunk.
/// One handle may serve several jobs (cancel them all at once).
public final class MTJobCancelHandle: Sendable {
    /// Set once by `cancel()`; read at every claim. Releasing/acquiring:
    /// pairs the write in `cancel()` with the check in a claiming thread so
    /// whatever the canceller did before is visible to the job.
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Requests cancellation. Idempotent, callable from any thread.
    public func cancel() { flag.store(true, ordering: .releasing) }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
}
