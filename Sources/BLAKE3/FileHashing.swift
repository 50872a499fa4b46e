import MTJobs
import WorkerPool

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension BLAKE3 {
    /// Bytes read per call when a file is hashed serially.
    static let streamBufferByteCount = 256 * 1024

    /// The hash of the file at `path`; see
    /// ``hashFile(descriptor:mode:maxThreads:pool:kernel:)``.
    ///
    /// - Throws: ``BLAKE3Error/openFailed(path:errno:)`` and the errors of
    ///   the descriptor form.
    public static func hashFile(
        atPath path: String, mode: Mode = .hash, maxThreads: Int? = nil,
        pool: WorkerPool = .shared, kernel: Kernel = .current
    ) throws -> OutputReader {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BLAKE3Error.openFailed(path: path, errno: errno) }
        defer { close(fd) }
        return try hashFile(descriptor: fd, mode: mode, maxThreads: maxThreads, pool: pool, kernel: kernel)
    }

    /// The hash of what `descriptor` holds from its current offset to its
    /// end.
    ///
    /// A regular file is read with `pread` (its offset does not move), up
    /// to the size it has when hashing starts; from ``parallelThreshold``
    /// bytes on, its units are read and hashed by up to `maxThreads` threads,
    /// each into a buffer of its own. Anything else (a pipe, a terminal, a
    /// socket) is read with `read` to its end on the calling thread.
    ///
    /// - Throws: ``BLAKE3Error/readFailed(errno:)``,
    ///   ``BLAKE3Error/statFailed(errno:)``, ``BLAKE3Error/fileShrank(expectedSize:endedAt:)``
    ///   when a regular file ends early (it never hashes a file that changed
    ///   size under it, and never faults on it), and an ``MTJobError`` for
    ///   `maxThreads < 1`.
    public static func hashFile(
        descriptor fd: Int32, mode: Mode = .hash, maxThreads: Int? = nil,
        pool: WorkerPool = .shared, kernel: Kernel = .current
    ) throws -> OutputReader {
        if let t = maxThreads, t < 1 {
            throw MTJobError.invalidField(.maxThreads, value: t, reason: "must be at least 1 (it counts the caller)")
        }
        let kernel = kernel.isAvailable ? kernel : .widest
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BLAKE3Error.statFailed(errno: errno) }
        let offset = (st.st_mode & S_IFMT) == S_IFREG ? lseek(fd, 0, SEEK_CUR) : -1
        guard offset >= 0 else { return try hashStream(fd, mode: mode, kernel: kernel) }
        let start = Int(offset)
        let size = max(0, Int(st.st_size) - start)
        if size >= parallelThreshold, maxThreads != 1 {
            return try hashUnits(size: size, mode: mode, maxThreads: maxThreads, pool: pool, kernel: kernel) { _ in
                UnitSource(fd: fd, fileStart: start)
            }
        }
        var h = Hasher(mode: mode, kernel: kernel)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: streamBufferByteCount, alignment: 64)
        defer { buffer.deallocate() }
        var done = 0
        while done < size {
            let want = min(streamBufferByteCount, size - done)
            let got = try preadFully(fd, into: buffer, count: want, at: start + done)
            h.update(UnsafeRawBufferPointer(start: buffer, count: got))
            guard got == want else {
                throw BLAKE3Error.fileShrank(expectedSize: start + size, endedAt: start + done + got)
            }
            done += got
        }
        return h.finalizeOutput()
    }

    /// Reads `fd` to its end with `read` on this thread.
    static func hashStream(_ fd: Int32, mode: Mode, kernel: Kernel) throws -> OutputReader {
        var h = Hasher(mode: mode, kernel: kernel)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: streamBufferByteCount, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, streamBufferByteCount)
            if n < 0 {
                if errno == EINTR { continue }
                throw BLAKE3Error.readFailed(errno: errno)
            }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(start: buffer, count: n))
        }
        return h.finalizeOutput()
    }
}

/// Reads `count` bytes at `offset` unless the file ends first; returns how
/// many were read.
func preadFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws -> Int {
    var got = 0
    while got < count {
        let n = pread(fd, buffer + got, count - got, off_t(offset + got))
        if n < 0 {
            if errno == EINTR { continue }
            throw BLAKE3Error.readFailed(errno: errno)
        }
        if n == 0 { break }
        got += n
    }
    return got
}
