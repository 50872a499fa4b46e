import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC: the package's clock for deadlines and durations that
/// other threads and the operating system agree on (timed waits, spin
/// budgets, reports). Read through the vDSO: no system call.
package enum MonotonicClock {
    /// Now, in nanoseconds since an unspecified origin (boot).
    @inline(__always)
    package static var now: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

// MARK: - The time-stamp counter, scaled to nanoseconds
//
// An MTJobs run reads a clock a handful of times: its start and end for the
// report, and the evidence checks of the caller's solo start. For a job of
// empty chunks those reads are a large share of its time: `clock_gettime`
// reads the TSC through the vDSO and then scales it under a sequence lock,
// several times the cost of reading the TSC directly.
//
// So where the kernel keeps time with the TSC itself (its clocksource is
// `tsc`: it found the counter invariant and synchronized across CPUs, so a
// thread that moves between two reads still gets a sane difference),
// ``TSCClock`` reads the TSC and scales it to nanoseconds with a factor
// measured once per process against CLOCK_MONOTONIC over 100 µs (the error
// is the jitter of two clock reads over the window, far below what the
// evidence budgets and the report's durations need). Anywhere else —
// another clocksource (`kvm-clock`, `hpet`), another architecture, no
// sysfs — it reads CLOCK_MONOTONIC.
//
// Only differences of ``TSCClock`` values are meaningful, and only between
// ``TSCClock`` values: the TSC scale does not share CLOCK_MONOTONIC's origin.

/// Nanoseconds from the time-stamp counter where the kernel trusts it,
/// else from CLOCK_MONOTONIC (see above). Keep an instance for a loop
/// that reads it several times: it looks the scale up once.
package struct TSCClock {
    /// Nanoseconds per TSC tick, or nil when the clock reads CLOCK_MONOTONIC.
    /// Measured on first use (the first reader of the process pays 100 µs).
    package static let nanosPerTick: Double? = calibrate()

    package let scale = TSCClock.nanosPerTick

    package init() {}

    /// Now, in nanoseconds on this clock.
    @inline(__always)
    package func now() -> Int {
        if let scale { return Int(Double(mtj_read_tsc()) * scale) }
        return Int(MonotonicClock.now)
    }

    /// Now, in nanoseconds on this clock (one look-up of the scale).
    @inline(__always)
    package static func now() -> Int { TSCClock().now() }

    /// The kernel's current clocksource (`tsc`, `kvm-clock`, `hpet`...), if
    /// sysfs says.
    package static func kernelClocksource() -> String? {
        SmallFile.firstLine("/sys/devices/system/clocksource/clocksource0/current_clocksource")
    }

    static func calibrate() -> Double? {
        guard mtj_read_tsc() != 0, kernelClocksource() == "tsc" else { return nil }
        let (ns0, t0) = clockAndTSC()
        var (ns1, t1) = (ns0, t0)
        while ns1 - ns0 < 100_000 { (ns1, t1) = clockAndTSC() }
        guard t1 > t0 else { return nil }
        let scale = Double(ns1 - ns0) / Double(t1 - t0)
        // A counter between 100 MHz and 20 GHz, or something is wrong with it.
        return (0.05 ... 10).contains(scale) ? scale : nil
    }

    /// A CLOCK_MONOTONIC reading and the TSC at the same moment: the TSC is
    /// read on both sides of the clock, and of five tries the tightest pair
    /// is kept, so that a preemption between two reads cannot skew the scale.
    private static func clockAndTSC() -> (nanos: Int, tsc: UInt64) {
        var best = (nanos: 0, tsc: UInt64(0)), width = UInt64.max
        for _ in 0 ..< 5 {
            let a = mtj_read_tsc()
            let n = Int(MonotonicClock.now)
            let b = mtj_read_tsc()
            if b >= a && b - a < width {
                width = b - a
                best = (n, a + (b - a) / 2)
            }
        }
        return best
    }
}
