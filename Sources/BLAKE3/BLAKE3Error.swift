
/// Errors of the BLAKE3 library; each says what went wrong in words.
public enum BLAKE3Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// A key for keyed hashing must have 32 bytes; this one had that many.
    case invalidKeyLength(Int)
    /// No kernel has this name (`portable`, `sse41`, `avx2`).
    case unknownKernel(String)
    /// The kernel exists but this CPU cannot run it.
    case kernelUnavailable(BLAKE3.Kernel)
    /// `open` failed with this `errno`.
    case openFailed(path: String, errno: Int32)
    /// `fstat` failed with this `errno`.
    case statFailed(errno: Int32)
    /// `read`/`pread` failed with this `errno`.
    case readFailed(errno: Int32)
    /// The file ended before the size it had when hashing began: it shrank
    /// while being hashed, so no hash of it is given.
    case fileShrank(expectedSize: Int, endedAt: Int)

    public var description: String {
        switch self {
        case .invalidKeyLength(let n): "a BLAKE3 key must be 32 bytes, not \(n)"
        case .unknownKernel(let s): "unknown BLAKE3 kernel \"\(s)\" (known: portable, sse41, avx2)"
        case .kernelUnavailable(let k): "this CPU cannot run the BLAKE3 \(k) kernel"
        case .openFailed(let path, let e): "cannot open \(path): \(errnoText(e))"
        case .statFailed(let e): "cannot stat the file: \(errnoText(e))"
        case .readFailed(let e): "read error: \(errnoText(e))"
        case .fileShrank(let size, let end):
            "the file shrank while it was hashed (it had \(size) bytes, reading ended at \(end))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `strerror` text with the number.
func errnoText(_ e: Int32) -> String {
    "\(String(cString: strerror(e))) (errno \(e))"
}
