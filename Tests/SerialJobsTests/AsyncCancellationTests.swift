import Synchronization
import Testing
@testable import SerialJobs

@Suite("async submit and Task cancellation")
struct AsyncCancellationTests {
    /// A shell of `window` slots, all held by deferred items whose
    /// completions the test keeps.
    func fullShell(window: Int) throws -> (Shell, Mutex<[Completion<Int>]>) {
        let instance = try Instance()
        let shell = try instance.makeShell(window: window)
        let held = Mutex<[Completion<Int>]>([])
        for _ in 0 ..< window {
            try shell.submit(completing: { (c: Completion<Int>) in held.withLock { $0.append(c) } }, serial: { _ in })
        }
        #expect(eventually { held.withLock { $0.count } == window })
        return (shell, held)
    }

    func release(_ held: Mutex<[Completion<Int>]>) {
        for c in held.withLock({ $0 }) { c.doSerial(returning: 0) }
        held.withLock { $0.removeAll() }
    }

    @Test("a task cancelled while it waits for room resumes with .cancelled and submits nothing")
    func cancelWhileWaiting() async throws {
        let (shell, held) = try fullShell(window: 2)
        let ran = Atomic<Int>(0)
        let next = shell.nextSequence
        let task = Task {
            try await shell.submit(parallel: { () -> Int in ran.add(1, ordering: .relaxed); return 1 }, serial: { _ in })
        }
        // Wait for the state "the task is registered as a waiter", not for time.
        #expect(await awaitState { shell.waiters.minTarget.load(ordering: .sequentiallyConsistent) != .max })
        task.cancel()
        await #expect(throws: SerialJobsError.cancelled) { try await task.value }
        #expect(shell.waiters.minTarget.load(ordering: .sequentiallyConsistent) == .max, "the waiter was unregistered")
        release(held)
        shell.stop()
        #expect(ran.load(ordering: .relaxed) == 0)
        #expect(shell.nextSequence == next, "no ticket was taken")
    }

    @Test("a task cancelled before it submits gets .cancelled at once, for one item and for a batch")
    func cancelledBefore() async throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 8)
        let ran = Atomic<Int>(0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await #expect(throws: SerialJobsError.cancelled) {
                try await shell.submit(parallel: { ran.add(1, ordering: .relaxed) }, serial: { _ in })
            }
            await #expect(throws: SerialJobsError.cancelled) {
                try await shell.submit(contentsOf: [1, 2, 3], parallel: { _ in ran.add(1, ordering: .relaxed) }, serial: { _, _ in })
            }
        }
        await task.value
        shell.stop()
        #expect(ran.load(ordering: .relaxed) == 0 && shell.nextSequence == 0)
    }

    @Test("a batch cancelled while it waits reports how many inputs it submitted; those are serialized")
    func cancelBatchWhileWaiting() async throws {
        let instance = try Instance()
        let shell = try instance.makeShell(window: 4)
        let gate = Mutex<[Completion<Int>]>([])
        let serialized = Mutex<[Int]>([])
        // One held item, then a batch of 10 that fills the remaining 3 slots and waits.
        try await shell.submit(completing: { (c: Completion<Int>) in gate.withLock { $0.append(c) } }, serial: { _ in })
        let task = Task {
            try await shell.submit(contentsOf: 0 ..< 10, parallel: { $0 }, serial: { i, _ in serialized.withLock { $0.append(i) } })
        }
        #expect(await awaitState { shell.waiters.minTarget.load(ordering: .sequentiallyConsistent) != .max })
        task.cancel()
        await #expect(throws: SerialJobsError.batchInterrupted(submitted: 3, cause: .cancelled)) { try await task.value }
        for c in gate.withLock({ $0 }) { c.doSerial(returning: 0) }
        shell.stop()
        #expect(serialized.withLock { $0 } == [0, 1, 2])
    }

    @Test("cancelling many waiting tasks at once resumes every one of them exactly once")
    func manyCancelled() async throws {
        let (shell, held) = try fullShell(window: 1)
        let tasks = (0 ..< 32).map { i in
            Task { try await shell.submit(parallel: { i }, serial: { _ in }) }
        }
        #expect(await awaitState { shell.waiters.minTarget.load(ordering: .sequentiallyConsistent) != .max })
        for t in tasks { t.cancel() }
        for t in tasks {
            await #expect(throws: SerialJobsError.cancelled) { try await t.value }
        }
        release(held)
        shell.stop()
        #expect(shell.nextSequence == 1)
    }
}
