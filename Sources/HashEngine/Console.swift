#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import MTSupport

/// Standard output and standard error of one `mtrun hash` run, with the
/// ordering coreutils gives them.
///
/// Standard output is buffered (line by line on a terminal, 64 KiB
/// otherwise); every message to standard error first flushes it, like
/// `error(3)` does, so the two streams interleave in program order when they
/// go to the same place. A progress line, when shown, is erased before any
/// other text reaches the terminal and redrawn on the next tick.
package final class Console: Sendable {
    /// The program name that starts every message (`mtrun`).
    package let programName: String
    /// The output sink.
    package let stdout: any OutputSink
    /// The message sink.
    package let stderr: any OutputSink
    private let lineBuffered: Bool

    private struct State {
        var pending: [UInt8] = []
        /// Width of the progress line now on the terminal (0: none).
        var progressWidth = 0
        /// A write to standard output failed (reported once, at the end,
        /// as coreutils does: `write error`).
        var writeFailed = false
        /// Some output was produced (written or not).
        var produced = false
    }

    /// Protected by its mutex.
    private let state = Locked(State())

    /// Creates a console over two sinks.
    package init(programName: String = "mtrun", stdout: any OutputSink, stderr: any OutputSink) {
        self.programName = programName
        self.stdout = stdout
        self.stderr = stderr
        self.lineBuffered = stdout.isTerminal
    }

    /// Appends `bytes` to standard output.
    package func out(_ bytes: [UInt8]) {
        state.withLock { s in
            if !bytes.isEmpty { s.produced = true }
            s.pending.append(contentsOf: bytes)
            if lineBuffered || s.pending.count >= 65536 {
                clearProgress(&s)
                flushOut(&s)
            }
        }
    }

    /// Writes `programName: message` and a newline to standard error.
    package func error(_ message: [UInt8]) {
        var line = Array(programName.utf8)
        line.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
        line.append(contentsOf: message)
        line.append(0x0A)
        raw(stderr: line)
    }

    /// Writes `programName: message` and a newline to standard error.
    package func error(_ message: String) { error(Array(message.utf8)) }

    /// Writes bytes to standard error as they are, after flushing standard output.
    package func raw(stderr bytes: [UInt8]) {
        state.withLock { s in
            clearProgress(&s)
            flushOut(&s)
            _ = bytes.withUnsafeBytes { stderr.write($0) }
        }
    }

    /// Whether a write to standard output failed.
    package var stdoutFailed: Bool { state.withLock { $0.writeFailed } }

    /// Flushes standard output and reports a failed write the way
    /// `sha256sum` does at exit: `write error` when a write failed (its
    /// line-buffered output fails before it closes the stream, so no errno
    /// text), `write error: Bad file descriptor` when standard output was
    /// closed when the program started and output was produced. Returns
    /// false when it reported an error.
    package func finish(stdoutWasClosed: Bool) -> Bool {
        flush()
        let (failed, produced) = state.withLock { ($0.writeFailed, $0.produced) }
        if stdoutWasClosed {
            guard produced else { return true }
            error("write error: \(SystemError(EBADF).message)")
            return false
        }
        if failed {
            error("write error")
            return false
        }
        return true
    }

    /// Flushes standard output.
    package func flush() {
        state.withLock { s in
            clearProgress(&s)
            flushOut(&s)
        }
    }

    /// Replaces the progress line on standard error with `text` (no newline).
    func showProgress(_ text: String) {
        state.withLock { s in
            flushOut(&s)
            var bytes = [UInt8(ascii: "\r")] + Array(text.utf8)
            let width = text.utf8.count
            if width < s.progressWidth {
                bytes.append(contentsOf: [UInt8](repeating: 0x20, count: s.progressWidth - width))
                bytes.append(contentsOf: [UInt8(ascii: "\r")] + Array(text.utf8))
            }
            s.progressWidth = width
            _ = bytes.withUnsafeBytes { stderr.write($0) }
        }
    }

    /// Erases the progress line for good.
    func endProgress() {
        state.withLock { s in clearProgress(&s) }
    }

    private func clearProgress(_ s: inout State) {
        guard s.progressWidth > 0 else { return }
        let bytes = [UInt8(ascii: "\r")] + [UInt8](repeating: 0x20, count: s.progressWidth) + [UInt8(ascii: "\r")]
        _ = bytes.withUnsafeBytes { stderr.write($0) }
        s.progressWidth = 0
    }

    private func flushOut(_ s: inout State) {
        guard !s.pending.isEmpty else { return }
        if !s.pending.withUnsafeBytes({ stdout.write($0) }) { s.writeFailed = true }
        s.pending.removeAll(keepingCapacity: true)
    }
}

/// Standard input and output closed when the program started (`<&-`,
/// `>&-`).
package struct ClosedStandardStreams: Sendable, Hashable {
    /// Descriptor 0 was not open.
    package var stdin = false
    /// Descriptor 1 was not open.
    package var stdout = false

    /// Finds which of descriptors 0 and 1 are closed and puts `/dev/null`
    /// there, opened in the wrong direction: reads of a closed standard
    /// input and writes to a closed standard output then fail with `EBADF`
    /// as they would have, and no file the program opens later (a file to
    /// hash, a runtime's descriptor) lands on 0 or 1 and gets read or
    /// written by mistake.
    package static func reserve() -> ClosedStandardStreams {
        var closed = ClosedStandardStreams()
        if fcntl(0, F_GETFD) < 0 && errno == EBADF {
            closed.stdin = true
            reserve(0, flags: O_WRONLY)
        }
        if fcntl(1, F_GETFD) < 0 && errno == EBADF {
            closed.stdout = true
            reserve(1, flags: O_RDONLY)
        }
        return closed
    }

    private static func reserve(_ fd: Int32, flags: Int32) {
        let got = open("/dev/null", flags | O_CLOEXEC)
        guard got >= 0, got != fd else { return }
        _ = dup2(got, fd)
        close(got)
    }
}
