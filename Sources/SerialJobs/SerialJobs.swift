import Topology
import WorkerPool

// PLACEHOLDER API, replaced by the SerialJobs implementation. The
// signatures below are the contract HashEngine codes against; this stub runs
// every item inline (parallel stage, then serial stage) so it is trivially
// ordered.

/// Misuse of the SerialJobs API.
public enum SerialJobsError: Error, Hashable, Sendable {
    case stopped
    case emptyCPUSet(String)
    case invalidWindow(Int)
    case invalidCallbackCPU(Int)
}

/// Where a submitted item went.
public struct Submission: Sendable, Hashable {
    /// The item's sequence number in its shell.
    public let sequence: UInt64
    /// The serial lane (CPU) its serial function runs on.
    public let callbackCPU: Int
}

public final class Instance: @unchecked Sendable {
    public let pool: WorkerPool
    public init(pool: WorkerPool = .shared, parallelCPUs: CPUSet? = nil, serialCPUs: CPUSet? = nil) throws(SerialJobsError) {
        self.pool = pool
    }

    public func makeShell(window: Int = 1024) throws(SerialJobsError) -> Shell {
        guard window >= 1 else { throw .invalidWindow(window) }
        return Shell(window: window)
    }
}

public final class Shell: @unchecked Sendable {
    public let window: Int
    private var next: UInt64 = 0
    init(window: Int) { self.window = window }

    /// Submits one item: `parallel` runs on a worker of the parallel set,
    /// `serial` gets its result in submission order. Blocks while `window`
    /// items are in flight.
    @discardableResult
    public func submit<T: Sendable>(
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable () throws -> T,
        serial: @escaping @Sendable (Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> Submission {
        let r = Result { try parallel() }
        serial(r)
        defer { next += 1 }
        return Submission(sequence: next, callbackCPU: callbackCPU ?? 0)
    }

    /// Refuses new items and waits until every item in flight is serialized.
    public func stop() {}
}
