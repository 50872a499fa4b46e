import CBLAKE3

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension BLAKE3 {
    /// The compression code: the same results, different speeds. The
    /// SIMD kernels hash several chunks (or parents) at once, one per lane.
    public enum Kernel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Scalar C, one compression at a time; runs everywhere.
        case portable
        /// x86-64 SSE4.1, four nodes at a time.
        case sse41
        /// x86-64 AVX2, eight nodes at a time.
        case avx2

        var number: Int32 {
            switch self {
            case .portable: Int32(CB3_KERNEL_PORTABLE)
            case .sse41: Int32(CB3_KERNEL_SSE41)
            case .avx2: Int32(CB3_KERNEL_AVX2)
            }
        }

        public var description: String { rawValue }

        /// Whether this CPU (and, for AVX2, the operating system's saving of
        /// the wide registers) can run the kernel.
        public var isAvailable: Bool { cb3_available_kernels() & (1 << UInt32(number)) != 0 }

        /// The kernels this machine can run, narrowest first.
        public static var available: [Kernel] { allCases.filter(\.isAvailable) }

        /// The widest kernel this machine can run.
        public static var widest: Kernel { available.last ?? .portable }

        /// The environment variable that chooses ``current``:
        /// `portable`, `sse41` or `avx2`.
        public static let environmentVariable = "MTJOBS_BLAKE3_KERNEL"

        /// The kernel used when none is given: the one named by
        /// `MTJOBS_BLAKE3_KERNEL` if set and available, else ``widest``.
        /// An unknown or unavailable name is reported once on standard
        /// error and ``widest`` is used. Read once per process.
        public static let current: Kernel = {
            guard let raw = getenv(environmentVariable).map({ String(cString: $0) }), !raw.isEmpty else {
                return widest
            }
            switch resolve(name: raw) {
            case .success(let k): return k
            case .failure(let e):
                var line = "BLAKE3: \(e); using \(widest)\n"
                line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
                return widest
            }
        }()

        /// The kernel called `name` if this machine can run it.
        public static func resolve(name: String) -> Result<Kernel, BLAKE3Error> {
            guard let k = Kernel(rawValue: name.lowercased()) else {
                return .failure(.unknownKernel(name))
            }
            guard k.isAvailable else { return .failure(.kernelUnavailable(k)) }
            return .success(k)
        }
    }
}
