#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, as an `errno` value.
///
/// Its ``message`` is the C library's text for the error, the text coreutils
/// prints after the file name (`No such file or directory`).
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32

    /// Wraps `code`.
    public init(_ code: Int32) { self.code = code }

    /// The current thread's `errno`.
    static var current: SystemError { SystemError(errno) }

    /// The C library's message for the error (`strerror`).
    public var message: String {
        // glibc's strerror returns its static table entry for every known
        // code; only unknown codes use a (thread-local) buffer.
        guard let p = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: p)
    }

    public var description: String { message }
}
