#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The digest of one input and how many bytes it had.
public struct FileDigest: Sendable, Hashable {
    /// The raw digest.
    public let digest: [UInt8]
    /// Bytes read.
    public let byteCount: UInt64

    /// The digest in lowercase hexadecimal, as coreutils prints it.
    public var hex: String { String(decoding: Hex.encode(digest), as: UTF8.self) }
}

/// One read buffer, owned by one hashing job at a time.
struct ReadBuffer {
    let bytes: UnsafeMutableRawBufferPointer
}

// Safe: a ReadBuffer is only used by the job that took it from its
// `FileDigester` (under the digester's mutex) until it gives it back.
extension ReadBuffer: @unchecked Sendable {}

/// Hashes files by path with large reads into reused buffers.
///
/// Each job borrows a buffer from a small free list, so memory stays at one
/// buffer per concurrently running job, whatever the number of files.
/// Files are read with `read(2)` until it returns 0, exactly like coreutils:
/// a file that shrinks while being hashed gives the digest of what was read,
/// one that grows gives the digest of everything read until end of file, and
/// a file that vanishes after it was opened is still read completely.
/// (`mmap` would be a few percent faster on big files but turns a concurrent
/// truncation into `SIGBUS`; see README.)
public final class FileDigester: Sendable {
    /// The algorithm.
    public let algorithm: HashAlgorithm
    /// Size of each read.
    public let bufferSize: Int
    /// Bytes hashed so far by every job (for progress); relaxed: a counter.
    public let bytesHashed = Atomic<UInt64>(0)
    /// Free buffers; protected by its mutex.
    private let freeBuffers = Mutex<[ReadBuffer]>([])

    /// Creates a digester reading `bufferSize` bytes at a time.
    public init(algorithm: HashAlgorithm, bufferSize: Int = 256 * 1024) {
        self.algorithm = algorithm
        self.bufferSize = max(4096, bufferSize)
    }

    deinit {
        freeBuffers.withLock { list in
            for b in list { free(b.bytes.baseAddress) }
            list.removeAll()
        }
    }

    private func takeBuffer() -> ReadBuffer {
        if let b = freeBuffers.withLock({ $0.popLast() }) { return b }
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, 4096, bufferSize) == 0, let p else {
            fatalError("mtrun: out of memory allocating a \(bufferSize)-byte read buffer")
        }
        return ReadBuffer(bytes: UnsafeMutableRawBufferPointer(start: p, count: bufferSize))
    }

    private func giveBack(_ b: ReadBuffer) {
        freeBuffers.withLock { $0.append(b) }
    }

    /// Hashes the file at `path` (bytes, no NUL), opened relative to the
    /// current directory (or to `directoryFD` when given).
    public func digest(path: [UInt8], relativeTo directoryFD: Int32 = AT_FDCWD) throws(SystemError) -> FileDigest {
        var cpath = path
        cpath.append(0)
        let fd = cpath.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { openat(directoryFD, $0.baseAddress!, O_RDONLY | O_CLOEXEC | O_NOCTTY) }
        }
        if fd < 0 { throw SystemError.current }
        defer { close(fd) }
        return try digest(fd: fd)
    }

    /// Hashes everything readable from `fd` (which stays open).
    public func digest(fd: Int32) throws(SystemError) -> FileDigest {
        let buffer = takeBuffer()
        defer { giveBack(buffer) }
        var advised = false
        let r = try algorithm.digest(buffer: buffer.bytes) { (b) throws(SystemError) -> Int in
            while true {
                let n = read(fd, b.baseAddress, b.count)
                if n >= 0 {
                    if n == b.count && !advised {
                        // A big file: ask for more read-ahead.
                        advised = true
                        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
                    }
                    self.bytesHashed.add(UInt64(n), ordering: .relaxed)
                    return n
                }
                let e = errno
                if e == EINTR { continue }
                throw SystemError(e)
            }
        }
        return FileDigest(digest: r.digest, byteCount: r.bytes)
    }
}

/// Lowercase hexadecimal.
enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return out
    }
}
