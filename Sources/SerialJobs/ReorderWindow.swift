import Synchronization
import MTSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The reorder window and its drain token
//
// A shell's items are numbered by a *ticket* t = 0, 1, 2, ... that never
// wraps (2^64 items at 10^10 items/s take 58 years). The caller-visible
// sequence number is `startSequence &+ t`, so sequence numbers wrap freely
// (tests start them just below 2^32 and 2^64) while every index below is
// computed from the ticket. The kernel's sequence numbers are a wrapping
// unsigned int (seq_nr in kernel/padata.c); here the slot of an item and
// "the next slot to look at" are derived
// from the same never-wrapping number, so they cannot disagree at a wrap,
// whatever the window size (3 and 6 are tested).
//
// State (W = capacity):
//   items[t % W]  the item with ticket t, from publication until serialized;
//                 afterwards the spent object of ticket t, kept for the
//                 producer of ticket t + W to reuse (WindowItem.swift).
//   tags[t % W]   t + 1 once item t is completed (ready), else an older value.
//                 Tagging with the ticket makes a stale slot unambiguous.
//   reserved      (tickets handed to producers << 1) | stopped.
//   roomLimit     drained + W as a producer last read it (a cache).
//   submitted     tickets published so far; <= reserved >> 1.
//   claimed       tickets taken by parallel runners so far.
//   drained       tickets serialized so far; the window holds tickets
//                 [drained, submitted), so submitted - drained <= W.
//   token         (n << 1) | busy: n is the next ticket to serialize.
//                 busy = 1: one thread (the token holder) is draining;
//                 busy = 0: nobody drains, and whoever makes ticket n ready
//                 takes the token.
//
// Producers (any number, no lock; Shell.tryPublish):
//   P1  r = reserved; stopped bit set -> refuse. t = r >> 1; if
//       t >= roomLimit (acquiring): roomLimit = drained (acquiring) + W
//       (releasing), and t >= that -> full (busy / wait). CAS(reserved,
//       r -> r + 2) (relaxed), else retry with the new value.
//   P2  install item t in items[t % W] (reusing the spent object there, if
//       it is free and of the same type); set its ticket and sequence.
//   P3  wait until submitted == t (acquiring; only with several producers
//       at once: the previous ticket's producer is between P1 and P3);
//       submitted = t + 1 (seq_cst: publishes the item, see below).
//   The slot is free: its previous ticket t - W was serialized, which
//   `drained > t - W` shows (acquired directly, or through `roomLimit`
//   from the producer that read it), and the drainer was done with that
//   item before it stored `drained` (releasing). The slot is this
//   producer's alone from P1 to P3: tickets are unique, and no runner or
//   drainer looks at ticket t before `submitted` passes it. A runner that
//   acquires `submitted = t + 1` sees slot t, and through the chain of P3
//   acquire/release pairs every earlier slot too.
//   Stop/shutdown set the stopped bit (seq_cst RMW); every ticket reserved
//   before is published before `drained` can reach reserved >> 1, which is
//   what they wait for. Spent items are dropped only while stopped and
//   idle, under the shell's `lifecycle` lock that `start` takes too.
//
// Batched producers (Shell.submit(contentsOf:), BatchSubmission.swift):
// one call publishes a collection, each input its own ticket; P1-P3 are
// done once per run of tickets instead of once per item.
//   B1  r = reserved; stopped bit set -> refuse (`.stopped`, or
//       `.batchInterrupted(submitted: n, ...)` once n inputs went in).
//       t = r >> 1; want = min(inputs left, maxRun). If t + want >
//       roomLimit (acquiring): roomLimit = drained (acquiring) + W
//       (releasing), and t >= that -> full (wait as P1's producer does,
//       for min(refill, inputs left) slots, then B1 again). k = min(want,
//       roomLimit - t); CAS(reserved, r -> r + 2k) (relaxed), else retry.
//       Tickets t ..< t + k are this producer's: every one of them is below
//       the limit, so each slot's previous ticket (t + i - W) was
//       serialized, as in P1.
//   B2  create one RunItem for the run (its closures: the call's two, one
//       retain each per run; inputs and results in two arrays), then per
//       chunk of `runPublishChunk` tickets: copy the chunk's inputs in and
//       store the run in each of its slots (the slot's retain; the spent
//       object there is released, on this thread, as in P2).
//   B3  publish the chunk: the run's first chunk waits until submitted ==
//       t (as P3: earlier producers publish first); later chunks find
//       submitted == their first ticket already (this producer stored it).
//       submitted = chunk end (seq_cst). Then start runners as P3 does.
//   A run is published in order and contiguously, so no other producer's
//   ticket comes inside it; other producers' runs or items may come between
//   two runs of one call. Everything P1-P3 guarantee holds per ticket: a
//   runner that acquires `submitted` > t sees input t - first of the run in
//   slot t; `stop` sees every reserved ticket published (a producer never
//   gives up a reserved run: B2 and B3 cannot fail). A run object is freed
//   when the last of its slots is reused or dropped; each slot is reused
//   only after its own ticket was serialized, so the run's every ticket was.
//   Cost per item in steady state: one input copy, one slot store (a
//   retain and a release of a line only the producer writes), one
//   parallel and one serial call; no allocation, no closure context, no
//   cross-core reference count update.

// Completion of ticket t (any thread, exactly once):
//   C1  tags[t % W] = t + 1                (seq_cst)
//   C2  if token == (t << 1) and CAS(token, t << 1 -> t << 1 | 1):
//           this thread holds the token; drain from t.
//
// Drain from n (token holder only):
//   D1  while tags[n % W] == n + 1:        (acquiring: sees the result)
//           run item n's serial function (or hand the token to its lane,
//           see SerialLane.swift); the spent item stays; n += 1;
//           every 16 items: drained = n    (seq_cst: frees the slots, and
//                                           pairs with waiting producers)
//       drained = n (if not yet stored)
//   D2  token = n << 1                     (seq_cst: give the token up)
//   D3  if tags[n % W] == n + 1 and CAS(token, n << 1 -> n << 1 | 1):
//           goto D1                        (we took it back)
//
// Why exactly one thread drains and no completion is orphaned:
// - The token is taken only by a CAS from "idle at n" to "busy at n", so at
//   most one thread holds it; the holder alone runs serial functions, in
//   ticket order, one at a time.
// - No lost wake-up: take the completion of the ticket n the drainer stops
//   at. C1 and D2 are sequentially consistent stores followed by loads of
//   the other variable (C2, D3), so at least one side sees the other's
//   store: either the completer sees "idle at n" in C2, or the drainer sees
//   the tag in D3. If both see it, both CAS and exactly one wins. If the
//   completer's C2 runs before D2 it sees "busy" and leaves; then D3 sees
//   its tag. (The kernel's 2019 orphaned-object bug, §5 #4, was a trylock
//   and "someone else will do it" without this pairing.)
// - Completions of tickets other than n never touch the token (their C2
//   compares against their own ticket), so a fast stream does not contend
//   on it: the drainer finds them ready in D1.
// - A runner that ran a batch of synchronous items does C1 for each and one
//   C2 for the batch (`markReady(_:completed:)`): all its C1 stores precede
//   its token load, so the pairing above holds for every ticket of the
//   batch at once.
// - No timers: progress is driven only by completions and the token.
// - The holder reads items[n % W] only after seeing tags[n % W] == n + 1,
//   i.e. while item n is still in its slot (the slot cannot be reused before
//   `drained` passes n, which only the holder advances). D3 reads only the
//   atomic tag, never the slot, because after D2 another thread may already
//   have drained and reused it.
// - Handing the token to a lane (SerialLane.swift) keeps it busy: the
//   receiver continues D1 from the recorded ticket.

/// The ring of `capacity` slots of one shell, indexed by `ticket % capacity`,
/// and its drain token. The protocol is written up at the top of this file.
final class ReorderWindow {
    let capacity: Int
    /// The sequence number of ticket 0 (injectable for wrap tests).
    let startSequence: UInt64

    // items[i]: written by the producer that reserved its ticket (P2; it
    // also resets a reused object there); read by runners after claiming
    // and by the token holder after seeing the ready tag. See the protocol.
    private let items: UnsafeMutablePointer<WindowItem?>
    /// Ready tags, one per slot: ticket + 1 once that ticket is completed.
    private let tags: UnsafeMutablePointer<Atomic<UInt64>>

    // The counters below are written by different threads (producers,
    // runners, drainer) and each group sits on its own cache line: padding of
    // 128 bytes between them (and from the read-only fields above), since
    // the object is only 16-byte aligned. Sharing one line made every
    // producer store evict the runners' copy of `claimed` and `token`.
    private let pad0 = CacheLinePad()
    /// Tickets reserved by producers, shifted left by one; bit 0 set while
    /// the shell is stopped (no reservations). CAS by producers (relaxed:
    /// `submitted` publishes), `bitwiseOr`/`And` by stop/start.
    let reserved = Atomic<UInt64>(0)
    /// `drained + capacity` as some producer last read it: tickets below it
    /// fit without reading `drained`, a line the drainer writes. Releasing
    /// store, acquiring load: passes the `drained` acquisition on.
    let roomLimit = Atomic<UInt64>(0)
    private let pad5 = CacheLinePad()
    /// Tickets published, in ticket order (seq_cst;
    /// pairs with the runner's exit re-check and with `claim`'s acquiring
    /// load, which makes the slot contents visible to the runner).
    let submitted = Atomic<UInt64>(0)
    private let pad1 = CacheLinePad()
    /// Tickets claimed by runners (CAS, relaxed: `submitted` orders the data).
    let claimed = Atomic<UInt64>(0)
    private let pad2 = CacheLinePad()
    /// Tickets serialized. Stored by the token holder (seq_cst; pairs with
    /// the producers' and waiters' loads).
    let drained = Atomic<UInt64>(0)
    private let pad3 = CacheLinePad()
    /// The drain token: (next ticket << 1) | busy.
    let token = Atomic<UInt64>(0)
    private let pad4 = CacheLinePad()

    init(capacity: Int, startSequence: UInt64) {
        self.capacity = capacity
        self.startSequence = startSequence
        items = .allocate(capacity: capacity)
        items.initialize(repeating: nil, count: capacity)
        tags = .allocate(capacity: capacity)
        for i in 0..<capacity { (tags + i).initialize(to: Atomic(0)) }
    }

    deinit {
        items.deinitialize(count: capacity)
        items.deallocate()
        tags.deinitialize(count: capacity)
        tags.deallocate()
    }

    @inline(__always) func slot(_ ticket: UInt64) -> Int { Int(ticket % UInt64(capacity)) }

    // MARK: Producer side (P1-P3 in Shell.tryPublish)


    /// The slot of ticket `t`, for the producer to install its item in
    /// (requires room: the slot's previous item was serialized).
    @inline(__always) func slotPointer(_ t: UInt64) -> UnsafeMutablePointer<WindowItem?> { items + slot(t) }

    /// Drops every spent item (and the closures it keeps). Only while the
    /// shell is stopped (no producer between P1 and P3) and idle
    /// (`drained == submitted`): then no runner or drainer touches a slot.
    func dropSpentItems() {
        for i in 0..<capacity { items[i] = nil }
    }

    /// P3: publishes the item installed in ticket `t`'s slot, after the
    /// producers of earlier tickets published theirs.
    @inline(__always) func publish(ticket t: UInt64) { publish(from: t, to: t &+ 1) }

    /// P3 / B3: publishes the items installed in the slots of tickets
    /// `t ..< end` (reserved by one producer), after the producers of
    /// earlier tickets published theirs.
    @inline(__always) func publish(from t: UInt64, to end: UInt64) {
        // Acquiring: pairs with the previous producer's store, so a runner
        // that acquires our store sees that producer's slot too.
        if submitted.load(ordering: .acquiring) != t {
            var spins = 0
            while submitted.load(ordering: .acquiring) != t {
                spins += 1
                if spins >= 64 { sched_yield() }  // that producer was preempted
            }
        }
        submitted.store(end, ordering: .sequentiallyConsistent)
    }

    // MARK: Runner side

    /// Claims consecutive unclaimed tickets: `available / share` of them,
    /// at least 1 and at most `max`; nothing unless `atLeast` are available.
    @inline(__always) func claim(max: Int, share: Int, atLeast: UInt64 = 1) -> Range<UInt64>? {
        var c = claimed.load(ordering: .relaxed)
        while true {
            // Acquiring: pairs with `publish`'s store, so the claimed slots'
            // items are visible.
            let s = submitted.load(ordering: .acquiring)
            guard c < s, s - c >= atLeast else { return nil }
            let avail = s - c
            let k = Swift.max(1, Swift.min(UInt64(max), avail / UInt64(share)))
            let (won, now) = claimed.compareExchange(expected: c, desired: c + k, ordering: .relaxed)
            if won { return c..<(c + k) }
            c = now
        }
    }

    /// The item of a claimed (not yet completed) ticket.
    @inline(__always) func item(_ t: UInt64) -> WindowItem { items[slot(t)].unsafelyUnwrapped }

    /// Calls `body` with the item in ticket `t`'s slot without retaining
    /// it: the slot keeps it alive while the caller may use it (a claimed
    /// or ready ticket, see the protocol), and a retain would be an atomic
    /// update of a cache line the producer just wrote.
    @inline(__always) func withItem<R>(_ t: UInt64, _ body: (WindowItem) -> R) -> R {
        let raw = UnsafeRawPointer(items + slot(t)).load(as: UnsafeRawPointer.self)
        return Unmanaged<WindowItem>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

    /// Number of published tickets not yet claimed.
    var unclaimed: UInt64 {
        submitted.load(ordering: .sequentiallyConsistent) &- claimed.load(ordering: .relaxed)
    }

    // MARK: Completion side (C1, C2)

    /// Marks ticket `t` ready. Returns true when the caller took the drain
    /// token and must drain from `t`.
    @inline(__always) func markReady(_ t: UInt64) -> Bool {
        tags[slot(t)].store(t &+ 1, ordering: .sequentiallyConsistent)            // C1
        let idle = t << 1
        guard token.load(ordering: .sequentiallyConsistent) == idle else { return false }  // C2
        return token.compareExchange(expected: idle, desired: idle | 1, ordering: .sequentiallyConsistent).exchanged
    }

    /// Marks every ticket of `range` whose item is in `completed` ready with
    /// one token check: C1 for each, then C2 for the whole range. Returns the
    /// ticket to drain from when the caller took the token.
    ///
    /// Why one check suffices: all the C1 stores precede the single seq_cst
    /// token load, so for whichever ticket n of the range a drainer stopped
    /// at, the Dekker argument above holds between that drainer's D2/D3 and
    /// this load. The CAS is tried only if n is idle-awaited, in the range
    /// and actually ready (a deferred item of the range may not be).
    @inline(__always) func markReady(_ range: Range<UInt64>, completed: (UInt64) -> Bool) -> UInt64? {
        var any = false
        for t in range where completed(t) {
            tags[slot(t)].store(t &+ 1, ordering: .sequentiallyConsistent)          // C1
            any = true
        }
        guard any else { return nil }
        let tok = token.load(ordering: .sequentiallyConsistent)                    // C2
        guard tok & 1 == 0 else { return nil }
        let n = tok >> 1
        guard range.contains(n), tags[slot(n)].load(ordering: .relaxed) == n &+ 1,
              token.compareExchange(expected: tok, desired: tok | 1, ordering: .sequentiallyConsistent).exchanged
        else { return nil }
        return n
    }

    // MARK: Token holder side (D1-D3)

    /// Serialized items between two `drained` stores: frees window slots in
    /// batches so a drain of many small items does not pay a fenced store
    /// per item. (A producer waiting for room sees it slightly later.)
    static let drainedPublishInterval: UInt64 = 16

    /// How a drain ended.
    enum DrainEnd {
        /// The token is idle again (nothing ready at the next ticket).
        case idle
        /// `decide` returned false for ticket `t`: the holder still owns the
        /// token and must hand it on (to the item's lane).
        case handOff(UInt64, WindowItem)
    }

    /// Drains from ticket `n` while consecutive items are ready. `decide`
    /// says whether the current thread may run an item's serial function;
    /// `published` runs after each store of `drained` with its new value
    /// (every ``drainedPublishInterval`` items and before the token is given
    /// up or handed off).
    @inline(__always)
    func drain(from start: UInt64, decide: (WindowItem) -> Bool, published: (UInt64) -> Void) -> DrainEnd {
        var n = start
        var unpublished: UInt64 = 0
        while true {
            while tags[slot(n)].load(ordering: .acquiring) == n &+ 1 {              // D1
                guard withItem(n, { item in
                    guard decide(item) else { return false }
                    item.runSerial(n)  // the spent object stays for reuse
                    return true
                }) else {
                    if unpublished > 0 {
                        drained.store(n, ordering: .sequentiallyConsistent)
                        published(n)
                    }
                    return .handOff(n, item(n))
                }
                n &+= 1
                unpublished &+= 1
                if unpublished == ReorderWindow.drainedPublishInterval {
                    unpublished = 0
                    drained.store(n, ordering: .sequentiallyConsistent)
                    published(n)
                }
            }
            if unpublished > 0 {
                unpublished = 0
                drained.store(n, ordering: .sequentiallyConsistent)
                published(n)
            }
            let idle = n << 1
            token.store(idle, ordering: .sequentiallyConsistent)                   // D2
            guard tags[slot(n)].load(ordering: .sequentiallyConsistent) == n &+ 1,   // D3
                  token.compareExchange(expected: idle, desired: idle | 1, ordering: .sequentiallyConsistent).exchanged
            else { return .idle }
        }
    }

    /// Whether ticket `t` is completed but not yet serialized (reports only;
    /// racy by nature).
    func isReady(_ t: UInt64) -> Bool { tags[slot(t)].load(ordering: .relaxed) == t &+ 1 }
}

// `items` follows the hand-over protocol above; every other mutable field is
// atomic; `capacity` and `startSequence` are immutable.
extension ReorderWindow: @unchecked Sendable {}
