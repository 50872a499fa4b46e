import CSystemShims
import Foundation
import Testing
@testable import MTJobs
import MTSupport

/// The clock runs are timed with (RunClock.swift): the TSC scaled to
/// nanoseconds where the kernel keeps time with it, else CLOCK_MONOTONIC.
@Suite("RunClock: the clock runs and their reports are timed with")
struct RunClockTests {
    @Test("monotonicNanos advances like CLOCK_MONOTONIC (within 2% over 20 ms), whichever counter it reads")
    func agreesWithMonotonic() {
        let a = TSCClock.now(), c0 = Int(MonotonicClock.now)
        usleep(20_000)
        let b = TSCClock.now(), c1 = Int(MonotonicClock.now)
        let ratio = Double(b - a) / Double(c1 - c0)
        #expect(abs(ratio - 1) < 0.02, "ratio \(ratio), TSC scale \(String(describing: TSCClock.nanosPerTick))")
    }

    @Test("the TSC is read only where the kernel's clocksource is the TSC, with a plausible scale (100 MHz to 20 GHz)")
    func tscOnlyWhereTheKernelUsesIt() {
        if TSCClock.kernelClocksource() != "tsc" || mtj_read_tsc() == 0 {
            #expect(TSCClock.nanosPerTick == nil)
        }
        if let scale = TSCClock.nanosPerTick {
            #expect(scale >= 0.05 && scale <= 10)
        }
    }

    @Test("a run's report times agree with the wall clock: a 10 ms chunk reports 10 ms busy and elapsed, not 10 µs or 10 s")
    func reportTimes() throws {
        let t0 = Int(MonotonicClock.now)
        let r = try MTJob(size: 1, maxThreads: 1) { _ in usleep(10_000) }.run()
        let wall = Int(MonotonicClock.now) - t0
        let busy = Double(r.caller!.busy.components.attoseconds) / 1e9 + Double(r.caller!.busy.components.seconds) * 1e9
        #expect(busy >= 9_000_000 && Double(wall) >= busy * 0.98)
        #expect(r.elapsed >= r.caller!.busy)
    }
}
