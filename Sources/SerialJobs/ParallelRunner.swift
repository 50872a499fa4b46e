import CSystemShims
import Synchronization
import Topology
import WorkerPool
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Parallel runners
//
// Items do not become one pool submission each: a shell keeps up to
// `parallelWidth` *runners*, pool work items that claim tickets from the
// window (an atomic counter) and run their parallel functions. That keeps
// the pool's queues and locks out of the per-item path (the kernel queues
// one work item per object in padata_do_parallel, kernel/padata.c).
//
// Starting and stopping runners without stranding an item (Dekker pairing):
//   producer: publish (submitted = t + 1, seq_cst); r = runners (seq_cst);
//             start one if r == 0 (or more are useful and r < width).
//   runner:   when it finds nothing to claim: runners -= 1 (seq_cst);
//             then re-read submitted (seq_cst) and start again if an
//             unclaimed item appeared.
// Either the producer sees the decrement (and starts a runner) or the
// runner sees the item. When the parallel set changed and a runner's CPU
// left it, the runner leaves this way too, and the restart goes through
// the pool, which places the new runner on the current parallel set.
//
// How many runners ("more are useful"): one while items are light. A
// second runner only pays when the parallel functions are heavy (more than
// `heavyItemNanoseconds` each, three timed batches in a row): for tiny
// items the serial drain is the limit anyway, and two runners plus the
// producer on two CPUs fight over the same cache lines and the CPUs. A
// runner that finds items heavy starts the next runner itself (the
// producer may be blocked on a full window and start nothing).
//
// Where: the first runner avoids the CPU of a producer that is not a pool
// worker (the pool prefers an idle spinning worker, which may share the
// producer's CPU until the scheduler moves the producer). A runner also
// gives its worker back after `runnerBudget` items (so other pool work and
// lane hand-offs run) and resubmits itself to the same CPU, still counted
// in `runners`.
//
// Lingering: a runner that finds nothing polls for ~50 µs before leaving,
// but reads `submitted` only every ~0.5 µs and waits briefly for a batch:
// a runner re-reading the producer's line after every item makes every
// producer store wait for that line to come back.

extension Shell {
    /// Items a runner runs before giving its worker back to the pool.
    static let runnerBudget = 4096

    /// Per-item time above which items are worth spreading over more than
    /// one runner. Below it one runner keeps up with the parallel stage and
    /// a second one only competes with it (and with the producer) for the
    /// same cache lines and CPUs: the drain is serial anyway.
    static let heavyItemNanoseconds: UInt64 = 1_000

    /// Starts a runner when none runs, or when the items are heavy, unclaimed
    /// ones outnumber the running runners and the parallel set has room for
    /// another.
    @inline(__always) func startRunnersIfNeeded() {
        var r = runners.load(ordering: .sequentiallyConsistent)
        if r > 0 && !itemsAreHeavy.load(ordering: .relaxed) { return }
        let width = instance.parallelWidth.load(ordering: .relaxed)
        while r < max(width, 1) {
            if r > 0 && ring.unclaimed <= UInt64(r) { return }
            let (won, now) = runners.compareExchange(expected: r, desired: r + 1, ordering: .sequentiallyConsistent)
            if won {
                launchRunner(first: r == 0)
                return
            }
            r = now
        }
    }

    private func launchRunner(first: Bool) {
        var parallel = instance.state.withLock { $0.effective.parallel }
        if first, !pool.isCurrentThreadWorker, parallel.count > 1 {
            // A producer that is not a worker keeps its CPU: a first runner
            // on the same CPU would share it with the producer (the pool
            // prefers an idle spinning worker, which may be that one)
            // until the scheduler moves the producer. (Further runners run
            // heavy items, for which the producer mostly waits.)
            let cpu = Int(mtj_current_cpu())
            if parallel.contains(cpu) { _ = parallel.remove(cpu) }
        }
        do {
            try pool.submit(to: parallel) { [self] in runnerLoop() }
        } catch {
            do {
                try pool.submit { [self] in runnerLoop() }
            } catch {
                // The pool refuses work (shut down): run on this thread, as
                // the kernel runs `parallel()` inline when it has no worker.
                runnerLoop()
            }
        }
    }

    /// The body of one runner.
    func runnerLoop() {
        let here = currentWorkerCPU()
        var generation = instance.generation.load(ordering: .relaxed)
        var budget = Shell.runnerBudget
        // A runner started while the shell's items are known to be heavy
        // (a second runner, a restart) starts from that knowledge: it
        // claims one item first instead of a share of the window (a batch
        // of heavy items taken at once can leave the other runners idle
        // at the end), and its first batch cannot flip the shell back to
        // "light" (which would stop further runners from starting).
        let knownHeavy = itemsAreHeavy.load(ordering: .relaxed)
        var slowItems = knownHeavy
        var heavyBatches = knownHeavy ? 3 : 0
        var wantBatch = true
        var timed = false  // whether a batch was timed yet
        while budget > 0 {
            if here >= 0 { takeHandOff(forCPU: here) }
            let g = instance.generation.load(ordering: .relaxed)
            if g != generation {
                // The sets changed: leave if this CPU left the parallel set
                // (the restart goes to the new set).
                generation = g
                if here >= 0, !instance.state.withLock({ $0.effective.parallel.contains(here) }) { break }
            }
            // The first batch is one item: until it is timed nothing says
            // what an item costs, and a share of the window taken blind
            // (a dozen 8 ms files, say) keeps the second runner from
            // starting for that long. Light items (timed, not heavy, see
            // below; one runner): take everything there is, up to 64,
            // and not fewer than `lingerBatch` unless a linger found no
            // more: a runner that keeps one item behind a streaming
            // producer shares its cache lines item by item. Heavier items
            // leave a share for the other runners.
            let light = timed && !slowItems && heavyBatches < 3
            let width = max(instance.parallelWidth.load(ordering: .relaxed), 1)
            guard let range = ring.claim(
                max: slowItems || !timed ? 1 : (light ? 64 : 32), share: light ? 1 : 2 * width,
                atLeast: light && wantBatch ? Shell.lingerBatch : 1
            ) else {
                // Linger briefly: a producer feeding items one by one would
                // otherwise restart a runner (a pool submission and a
                // wake-up) for nearly every item.
                if lingerForWork(here: here) {
                    wantBatch = false
                    continue
                }
                break
            }
            wantBatch = true
            // Every batch is timed (two clock reads, ~40 ns): the times
            // decide the claim size and whether a second runner pays.
            let start = MonotonicClock.now
            runBatch(range, here: here)
            let perItem = (MonotonicClock.now - start) / UInt64(range.count)
            // Items slower than ~20 us are claimed one at a time so the
            // last ones spread over every runner.
            slowItems = perItem > 20_000
            // Heavy after three heavy batches in a row (a first batch of
            // cold tiny items can look heavy), or after one batch of slow
            // items (over 20 µs each: no cold start looks like that, and
            // waiting for three of them delays the second runner by three
            // such items); light after one light batch.
            heavyBatches = slowItems ? max(heavyBatches, 3)
                : perItem > Shell.heavyItemNanoseconds ? heavyBatches + 1 : 0
            timed = true
            let heavy = heavyBatches >= 3
            if heavy != itemsAreHeavy.load(ordering: .relaxed) {
                itemsAreHeavy.store(heavy, ordering: .relaxed)
                // A producer blocked on a full window starts no runner:
                // start the second one here.
                if heavy && ring.unclaimed > 0 { startRunnersIfNeeded() }
            }
            budget -= range.count
        }
        if budget <= 0 && here >= 0 {
            // Budget spent, work left: give the worker back to the pool and
            // continue on the same CPU (still counted in `runners`). A
            // restart through `startRunnersIfNeeded` would prefer another
            // worker, possibly on the producer's CPU.
            do {
                try pool.submit(to: CPUSet([here])) { [self] in runnerLoop() }
                return
            } catch {}
        }
        runners.wrappingAdd(-1, ordering: .sequentiallyConsistent)
        if ring.unclaimed > 0 { startRunnersIfNeeded() }
    }

    /// How long an idle runner polls for new items before it leaves.
    static let runnerLingerNanoseconds: UInt64 = 50_000

    /// Polls for unclaimed items or a hand-off to `here`; returns whether
    /// one appeared within ``runnerLingerNanoseconds``.
    ///
    /// It polls `submitted` only every ``lingerPollGap`` loads of a quiet
    /// line, and once items appear it waits up to ``lingerBatchPolls`` more
    /// polls for a batch of ``lingerBatch`` to build up: a runner that
    /// re-reads `submitted` after every store of a producer streaming tiny
    /// items steals that cache line from it on every item, and claiming
    /// one item at a time repeats the per-batch costs for each.
    func lingerForWork(here: Int) -> Bool {
        let deadline = MonotonicClock.now + Shell.runnerLingerNanoseconds
        var polls = 0
        var seenSince = -1
        var lastAvail: UInt64 = 0
        var lastChange = 0
        while true {
            let avail = ring.submitted.load(ordering: .relaxed) &- ring.claimed.load(ordering: .relaxed)
            if avail != 0 {
                if avail >= Shell.lingerBatch { return true }
                if seenSince < 0 { seenSince = polls }
                if avail != lastAvail {
                    lastAvail = avail
                    lastChange = polls
                }
                // Take what is there once the stream pauses (a lone item
                // waits about a microsecond) or after the longest wait.
                if polls - lastChange >= Shell.lingerQuietPolls || polls - seenSince >= Shell.lingerBatchPolls {
                    return true
                }
            }
            if here >= 0 {
                let v = handoff.load(ordering: .relaxed)
                if v != 0 && Int(v & 0xFFFF_FFFF) - 1 == here { return true }
            }
            // A pause on a line nobody writes while items stream, so a
            // producer storing `submitted` finds the line still its own.
            for _ in 0..<Shell.lingerPollGap { _ = handoffEpoch.load(ordering: .relaxed) }
            polls += 1
            if polls & 3 == 0 && MonotonicClock.now >= deadline { return false }
        }
    }

    /// Unclaimed items that end a runner's linger at once.
    static let lingerBatch: UInt64 = 16
    /// Polls (each about ``lingerPollGap`` loads, ~0.5 µs) a lingering
    /// runner waits at most for ``lingerBatch`` items once some appeared,
    /// while more keep coming: a runner that takes every item as it
    /// appears stays one slot behind the producer, on the cache lines it
    /// is writing, and both slow down several times.
    static let lingerBatchPolls = 40
    /// Polls without a new item after which a lingering runner takes what
    /// there is (so a lone item is not held back).
    static let lingerQuietPolls = 3
    /// Loads of a quiet line between two polls of `submitted`.
    static let lingerPollGap = 2048

    /// Whether a waiting pool worker has something to do here.
    var canHelp: Bool {
        handoff.load(ordering: .relaxed) != 0 || ring.unclaimed > 0
    }

    /// One step of help by a pool worker that waits on this shell: take a
    /// pending hand-off (placement waived) or run one unclaimed item.
    /// Returns whether it did anything.
    func helpOnce() -> Bool {
        let v = handoff.load(ordering: .relaxed)
        if v != 0, takeHandOff(v, force: true) { return true }
        guard let range = ring.claim(max: 1, share: 1) else { return false }
        runBatch(range, here: currentWorkerCPU())
        return true
    }

    /// Runs the parallel functions of claimed tickets, marks the synchronous
    /// ones ready with one token check, and drains if that took the token.
    /// The batch is a frame of the thread's parallel context while it runs
    /// (ParallelFrame.swift), so a parallel function that waits on this
    /// shell can flush the batch's finished items first.
    @inline(__always) func runBatch(_ range: Range<UInt64>, here: Int) {
        let end = withParallelFrame(range) { f -> UInt64? in
            if range.count == 1 {
                let t = range.lowerBound
                return ring.withItem(t, { $0.runParallel(t) }) && ring.markReady(t) ? t : nil
            }
            for t in range {
                f.pointee.current = t
                if ring.withItem(t, { $0.runParallel(t) }) { f.pointee.completed |= 1 << (t &- f.pointee.base) }
            }
            // Claims are at most 64 tickets, and a flush moved `base` up.
            let base = f.pointee.base, mask = f.pointee.completed
            return ring.markReady(base ..< range.upperBound, completed: { t in mask & (1 << (t &- base)) != 0 })
        }
        if let n = end { drain(from: n, force: false, knownCPU: here) }
    }
}
