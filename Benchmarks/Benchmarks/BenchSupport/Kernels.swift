// The peers' kernels (../shared/peers/cpp/common.h), shared by the
// package-benchmark rows and the interleaved comparisons.

/// About a microsecond of dependent work on a current x86 core (the peers'
/// FJ_WORK_STEPS): `steps` xorshift-multiply steps.
@inline(never)
public func workChunk(_ i: Int, steps: Int = 670) -> UInt64 {
    var x = UInt64(truncatingIfNeeded: i) &+ 1
    for _ in 0 ..< steps {
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
    }
    return x
}

/// Iteration i of the irregular loop: (i+1)·k steps.
@inline(never)
public func irregular(_ i: Int, k: Int) -> UInt64 { workChunk(i, steps: (i + 1) * k) }

public let irregularN = 2048
public let irregularK = 16
