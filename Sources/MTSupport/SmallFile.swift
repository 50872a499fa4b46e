#if canImport(Glibc)
import Glibc
#endif

/// Reads the small files the kernel describes itself in (sysfs, procfs,
/// cgroupfs): one `read(2)` of at most a few KiB, no buffering, no Foundation.
package enum SmallFile {
    /// The first `maxBytes` bytes of the file at `path` (possibly none), or
    /// nil when it cannot be opened or read.
    package static func bytes(_ path: String, maxBytes: Int = 4096) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: maxBytes)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return Array(buf[0..<n])
    }

    /// The first `maxBytes` bytes of the file at `path` as text, or nil when
    /// it cannot be read or is empty.
    package static func text(_ path: String, maxBytes: Int = 4096) -> String? {
        guard let b = bytes(path, maxBytes: maxBytes), !b.isEmpty else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    /// The first line of the file at `path` (without its newline), or nil.
    package static func firstLine(_ path: String, maxBytes: Int = 64) -> String? {
        guard let b = bytes(path, maxBytes: maxBytes), !b.isEmpty else { return nil }
        return String(decoding: b.prefix { $0 != 0x0A && $0 != 0 }, as: UTF8.self)
    }
}
