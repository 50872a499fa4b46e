/// Why a job was refused before it started.
///
/// Every case names the ``MTJob`` field at fault, so a message can be shown
/// as is ("invalid MTJob.align = 0: must be at least 1").
public enum MTJobError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A field of the job has a value the planner cannot use.
    case invalidField(MTJob.Field, value: Int, reason: String)

    /// The field at fault.
    public var field: MTJob.Field {
        switch self { case .invalidField(let f, _, _): return f }
    }

    public var description: String {
        switch self {
        case let .invalidField(f, v, reason): return "invalid MTJob.\(f.rawValue) = \(v): \(reason)"
        }
    }
}

/// Thrown by ``MTJob/run(on:)`` when the job was cancelled (through its
/// ``MTJob/cancellation`` handle or, for the `async` overload of ``MTJob/run(on:)``, through
/// Task cancellation) before every chunk ran.
///
/// No new chunk starts after the cancellation is seen; every chunk already
/// started finishes first. ``report`` says how far the job got:
/// ``MTJobReport/completedRanges`` lists exactly the units that were done
/// (at most one contiguous prefix of each thread's or NUMA node's share of
/// the chunks), so a caller can resume with the rest.
public struct MTJobCancelled: Error, Sendable, Hashable, CustomStringConvertible {
    /// The report of the part of the job that ran.
    public let report: MTJobReport

    public init(report: MTJobReport) { self.report = report }

    public var description: String {
        "MTJob cancelled after \(report.unitsCompleted) of \(report.plan.size) units"
    }
}
