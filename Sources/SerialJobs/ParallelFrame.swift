import MTSupport

// MARK: - Parallel functions that wait on their own shell
//
// A parallel function that submits to its own shell while the window is
// full waits for earlier items to be serialized. Two things can make that
// wait endless, and both are handled here:
//
// 1. Its own item, and every item its runner claimed in the same batch
//    after the last one marked ready, cannot be serialized before the
//    function returns: `drained` stops at the first of them. A runner
//    marks a batch ready only when the whole batch has run, so the batch's
//    earlier, finished items are *flushed* (marked ready, drained if the
//    token is free) before the wait.
// 2. After that, `drained` can still reach at most the ticket whose
//    parallel function is running (the *bound*; with nested frames of the
//    same shell on one thread, the lowest). A submission that needs room
//    beyond it (ticket t needs `drained >= t - window + 1`) would wait
//    forever, so it is refused with `reentrantSubmitWouldDeadlock`. Below
//    the bound it waits, and the wait ends: every earlier item can run
//    (the waiting worker itself helps, see `waitForDrained`) and drain.
//
// A deferred item (`completing:`) counts as running until its parallel
// function returns, even if it completed itself first.

/// The batch of parallel functions one thread is running for one shell:
/// lives on the runner's stack while `runBatch` runs, linked to the frame
/// that was current before (frames nest when a waiting worker helps).
struct ParallelFrame {
    /// The shell (unretained: the runner holds it).
    let shell: Unmanaged<Shell>
    /// First ticket of the batch not yet marked ready.
    var base: UInt64
    /// The ticket whose parallel function runs.
    var current: UInt64
    /// Which tickets in `base ..< current` completed synchronously (bit
    /// `t - base`; batches are at most 64 tickets).
    var completed: UInt64
    /// The frame this one interrupted, or nil.
    let previous: UnsafeMutablePointer<ParallelFrame>?
}

enum ParallelContext {
    /// The innermost frame of the calling thread (a pointer into a runner's
    /// stack, set and cleared by `Shell.withParallelFrame`).
    private static let key = ThreadLocalKey<AnyObject>()

    @inline(__always) static var innermost: UnsafeMutablePointer<ParallelFrame>? {
        key.pointer?.assumingMemoryBound(to: ParallelFrame.self)
    }

    @inline(__always) static func exchange(_ p: UnsafeMutablePointer<ParallelFrame>?) -> UnsafeMutablePointer<ParallelFrame>? {
        key.exchange(UnsafeMutableRawPointer(p))?.assumingMemoryBound(to: ParallelFrame.self)
    }
}

extension Shell {
    /// Runs `body` with a frame for the tickets `range` pushed on the
    /// thread's parallel context.
    @inline(__always)
    func withParallelFrame<R>(_ range: Range<UInt64>, _ body: (UnsafeMutablePointer<ParallelFrame>) -> R) -> R {
        let previous = ParallelContext.innermost
        var frame = ParallelFrame(shell: Unmanaged.passUnretained(self), base: range.lowerBound,
                                  current: range.lowerBound, completed: 0, previous: previous)
        return withUnsafeMutablePointer(to: &frame) { p in
            _ = ParallelContext.exchange(p)
            defer { _ = ParallelContext.exchange(previous) }
            return body(p)
        }
    }

    /// Whether the calling thread runs a parallel function of this shell.
    var isRunningParallel: Bool { parallelBound() != nil }

    /// The lowest ticket whose parallel function of this shell the calling
    /// thread is running, or nil when it runs none.
    func parallelBound() -> UInt64? {
        var bound: UInt64?
        var p = ParallelContext.innermost
        while let f = p {
            if f.pointee.shell.toOpaque() == Unmanaged.passUnretained(self).toOpaque() {
                bound = min(bound ?? .max, f.pointee.current)
            }
            p = f.pointee.previous
        }
        return bound
    }

    /// Before a parallel function of this shell waits on it: marks the
    /// finished items of every batch of this shell on the thread's frames
    /// ready (and drains them if the token is free), so only the running
    /// items hold `drained` back. Returns the bound (see above), or nil
    /// when the thread runs no parallel function of this shell.
    func flushParallelFrames() -> UInt64? {
        var bound: UInt64?
        var p = ParallelContext.innermost
        let me = Unmanaged.passUnretained(self).toOpaque()
        while let f = p {
            p = f.pointee.previous
            guard f.pointee.shell.toOpaque() == me else { continue }
            bound = min(bound ?? .max, f.pointee.current)
            let base = f.pointee.base, upto = f.pointee.current
            guard upto > base else { continue }
            let mask = f.pointee.completed
            f.pointee.base = upto
            f.pointee.completed = 0
            if let n = ring.markReady(base ..< upto, completed: { t in mask & (1 << (t &- base)) != 0 }) {
                drain(from: n, force: false)
            }
        }
        return bound
    }

    /// For a producer that found the window full at ticket `t`: the target
    /// to wait for, or nil when the calling thread runs a parallel function
    /// of this shell that the wait would need to finish first (refuse).
    func waitTarget(full t: UInt64, wanted: UInt64) -> UInt64? {
        let target = t &- UInt64(window) &+ wanted
        guard ParallelContext.innermost != nil, let bound = flushParallelFrames() else { return target }
        // A slot for ticket t frees when drained reaches t - window + 1.
        guard t &- UInt64(window) &+ 1 <= bound else { return nil }
        return min(target, bound)
    }
}
