#if canImport(Glibc)
import Glibc
#endif
import CHwloc

// MARK: - The clock runs are timed with
//
// A run reads the clock a handful of times: its start and end for the
// report, and the evidence checks of the caller's solo start (see
// `runOnEvidence`). For a job of 64 empty chunks those reads were a
// quarter of its time: `clock_gettime` costs ~40 ns on the virtual machine
// this was written on (the vDSO reads the TSC, then scales it under a
// sequence lock), where reading the TSC directly costs ~15 ns.
//
// So where the kernel keeps time with the TSC itself (its clocksource is
// `tsc`: it found the counter invariant and synchronized across CPUs, so
// a thread that moves between two reads still gets a sane difference), a
// run reads the TSC and scales it to nanoseconds with a factor measured
// once per process against CLOCK_MONOTONIC over 100 µs (error ~0.1%: the
// jitter of two clock reads over the window; the evidence budgets and the
// report's durations need far less). Anywhere else — another clocksource
// (`kvm-clock`, `hpet`), another architecture, no sysfs — it is
// `clock_gettime(CLOCK_MONOTONIC)`.
//
// Only differences of `monotonicNanos()` values are meaningful, and only
// within this module: the TSC scale is not CLOCK_MONOTONIC's origin.

/// Nanoseconds per TSC tick, or nil when runs use `clock_gettime`.
/// Measured on first use (the first run of the process pays ~100 µs).
let tscNanosPerTick: Double? = calibrateTSC()

func calibrateTSC() -> Double? {
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
/// is kept, so that a preemption between two reads (milliseconds) cannot
/// skew the scale.
private func clockAndTSC() -> (nanos: Int, tsc: UInt64) {
    var best = (nanos: 0, tsc: UInt64(0)), width = UInt64.max
    for _ in 0 ..< 5 {
        let a = mtj_read_tsc()
        let n = clockMonotonicNanos()
        let b = mtj_read_tsc()
        if b >= a && b - a < width {
            width = b - a
            best = (n, a + (b - a) / 2)
        }
    }
    return best
}

/// The kernel's current clocksource (`tsc`, `kvm-clock`, `hpet`...), if
/// sysfs says.
func kernelClocksource() -> String? {
    guard let f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else { return nil }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 64)
    guard fgets(&buf, Int32(buf.count), f) != nil else { return nil }
    let bytes = buf.prefix { $0 != 0 && $0 != 0x0A }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

@inline(__always)
func clockMonotonicNanos() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Now, in nanoseconds, on the clock described above.
@inline(__always)
func monotonicNanos() -> Int { RunClock().now() }

/// The same clock with its scale looked up once, for a loop that reads it
/// several times (each look-up of the global is a runtime call).
struct RunClock {
    let scale = tscNanosPerTick

    @inline(__always)
    func now() -> Int {
        if let scale { return Int(Double(mtj_read_tsc()) * scale) }
        return clockMonotonicNanos()
    }
}
