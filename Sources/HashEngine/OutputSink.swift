#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import MTSupport

/// Where `mtrun hash` writes bytes: a file descriptor, or memory in tests.
package protocol OutputSink: Sendable {
    /// Writes all of `bytes`; false when the write failed.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Whether this is a terminal (decides line flushing and `--progress`).
    var isTerminal: Bool { get }
}

/// Writes to a file descriptor, retrying short writes and `EINTR`.
package struct FileDescriptorSink: OutputSink {
    /// The descriptor.
    package let fd: Int32

    /// Wraps `fd`.
    package init(fd: Int32) { self.fd = fd }

    @discardableResult
    package func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    package var isTerminal: Bool { isatty(fd) == 1 }
}

/// Collects everything written, for tests.
package final class MemorySink: OutputSink {
    /// Protected by its mutex.
    private let storage = Locked<[UInt8]>([])

    /// An empty sink.
    package init() {}

    @discardableResult
    package func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        storage.withLock { $0.append(contentsOf: bytes) }
        return true
    }

    package var isTerminal: Bool { false }

    /// Everything written so far.
    package var bytes: [UInt8] { storage.withLock { $0 } }

    /// Everything written so far, decoded as UTF-8 (invalid bytes replaced).
    package var text: String { String(decoding: bytes, as: UTF8.self) }
}
