#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, as an `errno` value.
///
/// Its ``message`` is the C library's text for the error, the text coreutils
/// prints after the file name (`No such file or directory`).
package struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    package let code: Int32

    /// Wraps `code`.
    package init(_ code: Int32) { self.code = code }

    /// The current thread's `errno`.
    static var current: SystemError { SystemError(errno) }

    /// The C library's message for the error (`strerror`).
    package var message: String {
        // glibc's strerror returns its static table entry for every known
        // code; only unknown codes use a (thread-local) buffer.
        guard let p = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: p)
    }

    package var description: String { message }
}
