import Synchronization

/// The handle a deferred parallel function uses to finish its item: the
/// `padata_do_serial` of SerialJobs.
///
/// Call ``doSerial(_:)`` exactly once, from any thread, at any time; the
/// item's serial function then runs in submission order. Completing an item
/// twice traps with a message naming its sequence number (like resuming a
/// continuation twice). Dropping every copy of the handle without completing
/// serializes the item with ``SerialJobsError/completionDropped(sequence:)``
/// so the stream never stalls on a lost handle.
public struct Completion<T: Sendable>: Sendable {
    @usableFromInline let guardBox: CompletionGuard<T>

    @inlinable init(_ g: CompletionGuard<T>) { guardBox = g }

    /// The item's sequence number.
    public var sequence: UInt64 { guardBox.item.sequence }
    /// The callback CPU the item was given (where its serial function runs).
    public var callbackCPU: Int { guardBox.item.lane }

    /// Hands the item's result to the serial stage. Call exactly once.
    @inlinable
    public func doSerial(_ result: Result<T, any Error>) {
        guardBox.item.complete(result)
    }

    /// Hands a value to the serial stage. Call exactly once.
    @inlinable public func doSerial(returning value: T) { doSerial(.success(value)) }

    /// Hands an error to the serial stage. Call exactly once.
    @inlinable public func doSerial(throwing error: any Error) { doSerial(.failure(error)) }
}

/// Shared by every copy of a ``Completion``: detects a handle dropped
/// without completion.
@usableFromInline
final class CompletionGuard<T: Sendable>: Sendable {
    @usableFromInline let item: TypedItem<T>
    /// Keeps the shell alive until the item is completed (the item refers
    /// to it unowned).
    @usableFromInline let shell: Shell

    @inlinable init(_ item: TypedItem<T>) {
        self.item = item
        shell = item.shell
    }

    deinit {
        // Relaxed: a racing completion is impossible once the last handle is
        // gone; the flag only tells whether one happened before.
        if !item.completedFlag.load(ordering: .relaxed) {
            item.complete(.failure(SerialJobsError.completionDropped(sequence: item.sequence)))
        }
    }
}
