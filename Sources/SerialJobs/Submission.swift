/// Where a submitted item went.
public struct Submission: Sendable, Hashable {
    /// The item's sequence number in its shell (wraps at 2^64; compare with
    /// ``Shell/sequenceDistance(_:_:)``).
    public let sequence: UInt64
    /// The callback CPU (a CPU of the serial set) its serial function runs
    /// on: the hint itself when it is in the serial set, else
    /// `serialSet.nth(hint % serialSet.count)`, as the kernel chooses.
    public let callbackCPU: Int

    /// A submission record (for tests and adapters).
    public init(sequence: UInt64, callbackCPU: Int) {
        self.sequence = sequence
        self.callbackCPU = callbackCPU
    }
}

/// The outcome of ``Shell/trySubmit(callbackCPU:parallel:serial:)``.
public enum TrySubmitResult: Sendable, Hashable {
    /// The item was accepted.
    case submitted(Submission)
    /// The window is full (`window` items in flight); nothing was submitted.
    case busy

    /// The submission, if the item was accepted.
    public var submission: Submission? {
        if case .submitted(let s) = self { return s }
        return nil
    }
}
