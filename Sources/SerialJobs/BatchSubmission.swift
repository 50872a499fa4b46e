/// What a batched submit (``Shell/submit(contentsOf:callbackCPU:parallel:serial:)``)
/// submitted.
public struct BatchSubmission: Sendable, Hashable {
    /// Inputs submitted: all of the collection's (a call that submitted
    /// only part of it throws ``SerialJobsError/batchInterrupted(submitted:cause:)``).
    public let count: Int
    /// The sequence number of the first input's item (nil for an empty
    /// collection).
    public let firstSequence: UInt64?
    /// The sequence number of the last input's item (nil for an empty
    /// collection).
    public let lastSequence: UInt64?
    /// Whether the items' sequence numbers are consecutive (no other
    /// producer's item came between them): then input `i` got
    /// `firstSequence &+ i`. Otherwise they still increase in input order.
    public let isContiguous: Bool
    /// The callback CPU of every item of the call (see ``Submission/callbackCPU``).
    public let callbackCPU: Int

    /// A batch submission record (for tests and adapters).
    public init(count: Int, firstSequence: UInt64?, lastSequence: UInt64?, isContiguous: Bool, callbackCPU: Int) {
        self.count = count
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.isContiguous = isContiguous
        self.callbackCPU = callbackCPU
    }
}

/// Where a batched submit stands: the next input to submit and what was
/// submitted so far.
@usableFromInline
struct BatchProgress<C: Collection> {
    @usableFromInline var index: C.Index
    @usableFromInline var remaining: Int
    @usableFromInline var done = 0
    @usableFromInline var first: UInt64?
    @usableFromInline var last: UInt64 = 0
    @usableFromInline var contiguous = true

    @inlinable init(_ inputs: C) {
        index = inputs.startIndex
        remaining = inputs.count
    }

    /// Records tickets `t ..< t + k` (sequence numbers from `sequence`) as
    /// submitted.
    @inlinable mutating func submitted(ticket t: UInt64, count k: Int, sequence: UInt64) {
        if first == nil {
            first = sequence
        } else if sequence != last &+ 1 {
            contiguous = false
        }
        last = sequence &+ UInt64(k - 1)
        done += k
        remaining -= k
    }

    @inlinable func result(lane: Int) -> BatchSubmission {
        BatchSubmission(count: done, firstSequence: first, lastSequence: first == nil ? nil : last,
                        isContiguous: contiguous, callbackCPU: lane)
    }

    /// The error for a refusal after part of the collection was submitted.
    @inlinable func error(_ cause: SerialJobsError) -> SerialJobsError {
        done == 0 ? cause : .batchInterrupted(submitted: done, cause: cause)
    }
}

extension Shell {
    /// Submits every input of `inputs` as its own item, in collection order,
    /// and blocks while ``window`` items are in flight.
    ///
    /// Each input gets what a one-item ``submit(callbackCPU:parallel:serial:)``
    /// gives it: its own sequence number, its own `parallel(input)` call on
    /// a pool worker and its own `serial(input, result)` call in submission
    /// order, with its own result or error. Only the fixed costs are shared:
    /// the closures are captured once per call (not once per item), the
    /// inputs are stored inline in one allocation per run of items, and a
    /// run of free slots (as many as the window has, up to the rest of the
    /// collection) is reserved with one atomic operation and published in
    /// a few stores. For tiny items this is several times faster than
    /// calling `submit` per input.
    ///
    /// Other producers may submit to the same shell at the same time; their
    /// items may come between runs of this call's items (see
    /// ``BatchSubmission/isContiguous``), never inside a run, and this
    /// call's items keep their collection order.
    ///
    /// - Parameters:
    ///   - inputs: the inputs; an empty collection submits nothing and
    ///     returns at once (after checking `callbackCPU`).
    ///   - callbackCPU: the callback-CPU hint for every item of the call
    ///     (default: ``index``), mapped into the serial set as for `submit`.
    ///   - parallel: runs on a pool worker of the parallel set, once per
    ///     input.
    ///   - serial: gets each input back with its result (or error), in
    ///     collection order, one call at a time.
    /// - Returns: how many items were submitted and their sequence numbers.
    /// - Throws: ``SerialJobsError/invalidCallbackCPU(_:)`` (nothing was
    ///   submitted); ``SerialJobsError/stopped`` when the shell or its
    ///   instance was stopped before the first input was submitted;
    ///   ``SerialJobsError/reentrantSubmitWouldDeadlock`` when a serial
    ///   function of this shell submits to it and the first input finds the
    ///   window full; ``SerialJobsError/batchInterrupted(submitted:cause:)``
    ///   when one of those two happened after `submitted` inputs had been
    ///   submitted: exactly the first `submitted` inputs of the collection
    ///   were submitted (each of them is run and serialized as usual, and
    ///   ``stop()`` waits for them), the others were not.
    ///
    /// A pool worker that must wait runs this shell's pending work meanwhile,
    /// as `submit` does, so nested submission cannot starve the pool.
    @inlinable @discardableResult
    public func submit<C: Collection, T: Sendable>(
        contentsOf inputs: C,
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable (C.Element) throws -> T,
        serial: @escaping @Sendable (C.Element, Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> BatchSubmission where C.Element: Sendable {
        let lane = try lane(callbackCPU)
        var progress = BatchProgress(inputs)
        while progress.remaining > 0 {
            let full = try publishRuns(inputs, &progress, lane: lane, parallel: parallel, serial: serial)
            guard let t = full else { break }
            // A serial function of this shell cannot wait for its own
            // shell to drain (the kernel's nested-pcrypt deadlock, §5 #7).
            if isDraining || !waitForRoom(full: t, wanted: progress.remaining) {
                throw progress.error(.reentrantSubmitWouldDeadlock)
            }
        }
        return progress.result(lane: lane)
    }

    /// Submits every input of `inputs` as its own item, suspending (not
    /// blocking) while the window is full; otherwise exactly like
    /// ``submit(contentsOf:callbackCPU:parallel:serial:)``.
    ///
    /// - Throws: as ``submit(contentsOf:callbackCPU:parallel:serial:)``,
    ///   except ``SerialJobsError/reentrantSubmitWouldDeadlock``: a task
    ///   suspends, it does not hold the drain. When the task is cancelled,
    ///   it stops submitting at once, also while it waits for room:
    ///   ``SerialJobsError/cancelled`` (or
    ///   ``SerialJobsError/batchInterrupted(submitted:cause:)`` with that
    ///   cause once some inputs were submitted).
    @inlinable @discardableResult
    public func submit<C: Collection, T: Sendable>(
        contentsOf inputs: C,
        callbackCPU: Int? = nil,
        parallel: @escaping @Sendable (C.Element) throws -> T,
        serial: @escaping @Sendable (C.Element, Result<T, any Error>) -> Void
    ) async throws(SerialJobsError) -> BatchSubmission where C.Element: Sendable {
        let lane = try lane(callbackCPU)
        var progress = BatchProgress(inputs)
        while progress.remaining > 0 {
            // A cancelled task submits no more inputs.
            if Task.isCancelled { throw progress.error(.cancelled) }
            let full = try publishRuns(inputs, &progress, lane: lane, parallel: parallel, serial: serial)
            guard let t = full else { break }
            await waitForRoomAsync(full: t, wanted: progress.remaining)
        }
        return progress.result(lane: lane)
    }

    /// Publishes runs of the remaining inputs until all are submitted (nil)
    /// or the window is full (the ticket that found it full). The protocol
    /// ("Batched producers") is written up in ReorderWindow.swift.
    @inlinable
    func publishRuns<C: Collection, T: Sendable>(
        _ inputs: C,
        _ progress: inout BatchProgress<C>,
        lane: Int,
        parallel: @escaping @Sendable (C.Element) throws -> T,
        serial: @escaping @Sendable (C.Element, Result<T, any Error>) -> Void
    ) throws(SerialJobsError) -> UInt64? where C.Element: Sendable {
        while progress.remaining > 0 {
            // B1: reserve a run of free tickets with one CAS.
            let (t, k) = reserveRun(max: progress.remaining)
            if k == 0 {
                if t == Shell.stoppedTicket { throw progress.error(.stopped) }
                return t
            }
            let sequence = sequenceNumber(ticket: t)
            let run = RunItem<C.Element, T>(
                first: t, count: k, parallel: parallel, serial: serial, sequence: sequence, lane: lane, shell: self)
            // B2-B3: fill a chunk of the run's inputs, install the run in
            // the chunk's slots, publish the chunk; repeat.
            var i = 0
            while i < k {
                let end = min(k, i + Shell.runPublishChunk)
                var p = run.inputs + i
                for _ in i..<end {
                    p.initialize(to: inputs[progress.index])
                    inputs.formIndex(after: &progress.index)
                    p += 1
                }
                installAndPublish(run, from: t &+ UInt64(i), to: t &+ UInt64(end), runStart: i == 0)
                i = end
            }
            progress.submitted(ticket: t, count: k, sequence: sequence)
        }
        return nil
    }
}
