import Topology

/// Why SerialJobs refused a call.
///
/// Every misuse of the API (an empty CPU set, a negative callback-CPU hint, a
/// window smaller than one) is reported with one of these cases instead of a
/// crash or a hang.
public enum SerialJobsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The shell or its instance is stopped (``Shell/stop()``,
    /// ``Instance/stop()``, ``Shell/shutdown(timeout:)``): no new items.
    case stopped
    /// A CPU set that must not be empty is empty. The associated value names
    /// which one ("parallel", "serial", or the effective set after
    /// intersecting with the pool's CPUs).
    case emptyCPUSet(CPUSetKind)
    /// A reorder window must hold at least one item.
    case invalidWindow(Int)
    /// A callback-CPU hint must be zero or positive.
    case invalidCallbackCPU(Int)
    /// CPUs that the instance's worker pool does not run on.
    case cpusNotInPool(CPUSet)
    /// A ``Completion`` was dropped without being completed; the item was
    /// serialized with this error so its stream did not stall.
    case completionDropped(sequence: UInt64)
    /// A blocking submit from inside the shell's own pipeline found the
    /// window full and waiting could never end, so it was refused: from a
    /// serial function of the shell (the shell cannot drain while its
    /// serial function waits), or from a parallel function of the shell
    /// when the new item needs room beyond that function's own item (at
    /// most `window - 1` tickets after it; its item cannot be serialized
    /// before the function returns). Nothing was submitted.
    case reentrantSubmitWouldDeadlock
    /// The task of an `async` submit was cancelled while it waited for room
    /// in the window (or before it started): the item was not submitted.
    case cancelled
    /// A batched submit (``Shell/submit(contentsOf:callbackCPU:parallel:serial:)``)
    /// was refused for the reason `cause` (``stopped``,
    /// ``reentrantSubmitWouldDeadlock`` or ``cancelled``) after it had submitted the first
    /// `submitted` inputs of its collection (at least one). Those are run
    /// and serialized as usual; the rest of the collection was not
    /// submitted. (Refused before the first input, it throws `cause`.)
    indirect case batchInterrupted(submitted: Int, cause: SerialJobsError)

    public var description: String {
        switch self {
        case .stopped: return "the SerialJobs shell or instance is stopped"
        case .emptyCPUSet(let which): return "the \(which == .serial ? "serial" : "parallel") CPU set is empty"
        case .invalidWindow(let w): return "a reorder window needs at least 1 slot (got \(w))"
        case .invalidCallbackCPU(let c): return "a callback CPU must be >= 0 (got \(c))"
        case .cpusNotInPool(let s): return "CPUs \(s) are not CPUs of the instance's worker pool"
        case .completionDropped(let s): return "the completion of item \(s) was dropped without doSerial"
        case .reentrantSubmitWouldDeadlock:
            return "a serial or parallel function submitted to its own full shell and waiting could never end (the window cannot move past its own item); nothing was submitted"
        case .cancelled:
            return "the submitting task was cancelled while it waited for room in the window; the item was not submitted"
        case .batchInterrupted(let n, let cause):
            return "a batched submit was refused after \(n) inputs were submitted: \(cause)"
        }
    }
}
