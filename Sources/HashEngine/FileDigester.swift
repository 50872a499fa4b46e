#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Crypto
import Synchronization
import MTSupport
import Topology

/// The digest of one input and how many bytes it had.
package struct FileDigest: Sendable, Hashable {
    /// The raw digest.
    package let digest: [UInt8]
    /// Bytes read.
    package let byteCount: UInt64

    /// The digest in lowercase hexadecimal, as coreutils prints it.
    package var hex: String { String(decoding: Hex.encode(digest), as: UTF8.self) }
}

/// One read buffer, owned by one hashing job at a time.
struct ReadBuffer {
    let bytes: UnsafeMutableRawBufferPointer
}

// Safe: a ReadBuffer is only used by the job that took it from its
// `FileDigester` (under the digester's mutex) until it gives it back.
extension ReadBuffer: @unchecked Sendable {}

/// Hashes files by path: big regular files from guarded memory mappings,
/// the rest with large reads into reused buffers.
///
/// How a file is read (see ``FileWindow`` for the measurements):
/// - A regular file of at least `mapThreshold` bytes opened by path is
///   hashed straight from `mmap` windows of `windowSize` bytes, with no copy;
///   when it spans several windows and `mapAhead` is set, a ``WindowMapper``
///   thread maps the next windows (and unmaps the old ones) meanwhile. What
///   lies beyond the size `fstat` gave at the start, or beyond the point where
///   the file turned out to have shrunk, is then read with `pread`.
/// - Everything else (small files, standard input, pipes, files that
///   cannot be mapped) is read with `read(2)` into a buffer borrowed from a
///   small free list, so memory stays at one buffer per concurrently running
///   job whatever the number of files. A regular file whose read comes back
///   short exactly at the size `fstat` reported is complete: no extra read
///   for end of file. Any other short read (the file changed) goes on
///   reading until `read` returns 0.
///
/// The result is what coreutils' read loop gives: a file that shrinks while
/// being hashed gives the digest of what was read, one that grows gives the
/// digest of everything read until end of file, a file that vanishes after
/// it was opened is still read completely, and nothing crashes.
package final class FileDigester: Sendable {
    /// The algorithm.
    package let algorithm: HashAlgorithm
    /// Size of each read.
    package let bufferSize: Int
    /// Regular files at least this big are hashed from mappings.
    package let mapThreshold: Int64
    /// Size of one mapped window (a multiple of the page size).
    package let windowSize: Int
    /// Whether files spanning several windows get a mapping thread.
    package let mapAhead: Bool
    /// CPUs a mapping thread may run on, less the hashing thread's own CPU
    /// (a thread created by a pinned worker would otherwise share its CPU);
    /// nil: wherever the creating thread may run.
    package let helperCPUs: CPUSet?
    /// Bytes hashed so far by every job (for progress); relaxed: a counter.
    package let bytesHashed = Atomic<UInt64>(0)
    /// Files (and inputs) hashed so far; relaxed: a counter.
    package let filesHashed = Atomic<UInt64>(0)
    /// Test hook, see the internal `init`.
    let windowHook: (@Sendable (Int64) -> Void)?
    /// Free buffers; protected by its mutex.
    private let freeBuffers = Locked<[ReadBuffer]>([])

    /// Creates a digester reading `bufferSize` bytes at a time and mapping
    /// regular files of `mapThreshold` bytes or more in windows of
    /// `windowSize` bytes (rounded up to whole pages); `mapThreshold: .max`
    /// never maps. `mapAhead` and `helperCPUs`: see the properties.
    package convenience init(algorithm: HashAlgorithm, bufferSize: Int = 256 * 1024, mapThreshold: Int64 = 1 << 20,
                            windowSize: Int = 16 << 20, mapAhead: Bool = true, helperCPUs: CPUSet? = nil) {
        self.init(algorithm: algorithm, bufferSize: bufferSize, mapThreshold: mapThreshold, windowSize: windowSize,
                  mapAhead: mapAhead, helperCPUs: helperCPUs, windowHook: nil)
    }

    /// Tests: `windowHook` runs on the hashing thread with each window's
    /// file offset just before the window is hashed (to change the file
    /// under a mapping at a known point).
    init(algorithm: HashAlgorithm, bufferSize: Int, mapThreshold: Int64, windowSize: Int, mapAhead: Bool,
         helperCPUs: CPUSet?, windowHook: (@Sendable (Int64) -> Void)?) {
        self.algorithm = algorithm
        self.bufferSize = max(4096, bufferSize)
        self.mapThreshold = max(1, mapThreshold)
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        self.windowSize = max(page, (windowSize + page - 1) / page * page)
        self.mapAhead = mapAhead
        self.helperCPUs = helperCPUs
        self.windowHook = windowHook
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
    package func digest(path: [UInt8], relativeTo directoryFD: Int32 = AT_FDCWD) throws(SystemError) -> FileDigest {
        try digest(path: path[...], relativeTo: directoryFD)
    }

    /// ``digest(path:relativeTo:)`` for part of a path (no copy).
    func digest(path: ArraySlice<UInt8>, relativeTo directoryFD: Int32) throws(SystemError) -> FileDigest {
        let fd = path.withUnsafeBufferPointer { p in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: p.count + 1) { c in
                for i in 0..<p.count { c[i] = CChar(bitPattern: p[i]) }
                c[p.count] = 0
                return openat(directoryFD, c.baseAddress!, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            }
        }
        if fd < 0 { throw SystemError.current }
        defer { close(fd) }
        return try digest(fd, fromStart: true)
    }

    /// Hashes everything readable from `fd` from its current position (it
    /// stays open).
    package func digest(fd: Int32) throws(SystemError) -> FileDigest {
        try digest(fd, fromStart: false)
    }

    /// `fromStart`: `fd` was just opened (position 0), so it may be mapped
    /// and read with `pread`.
    private func digest(_ fd: Int32, fromStart: Bool) throws(SystemError) -> FileDigest {
        var st = stat()
        let size: Int64 = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : -1
        switch algorithm {
        case .sha256: return try hash(SHA256.self, fd, size: size, fromStart: fromStart)
        case .sha512: return try hash(SHA512.self, fd, size: size, fromStart: fromStart)
        case .sha1: return try hash(Insecure.SHA1.self, fd, size: size, fromStart: fromStart)
        case .md5: return try hash(Insecure.MD5.self, fd, size: size, fromStart: fromStart)
        }
    }

    /// `size`: the regular file's size from `fstat`, or -1.
    private func hash<H: HashFunction>(_: H.Type, _ fd: Int32, size: Int64, fromStart: Bool) throws(SystemError) -> FileDigest {
        var hasher = H()
        var offset: Int64 = 0
        if fromStart && size >= mapThreshold && FileWindow.guardInstalled {
            offset = hashMapped(&hasher, fd, size: size)
        }
        let buffer = takeBuffer()
        defer { giveBack(buffer) }
        let b = buffer.bytes
        var advised = offset > 0
        // Only a regular file just opened is read by offset: FIFOs, pipes,
        // terminals and devices are streamed with read(2) (pread fails on
        // them with ESPIPE).
        let positioned = fromStart && size >= 0
        while true {
            let n = positioned ? pread(fd, b.baseAddress, b.count, off_t(offset)) : read(fd, b.baseAddress, b.count)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw SystemError(e)
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: b[0..<n]))
            offset += Int64(n)
            bytesHashed.add(UInt64(n), ordering: .relaxed)
            if n < b.count {
                // A regular file that ended where fstat said: done.
                if offset == size { break }
            } else if !advised {
                // A big file read in full buffers: ask for more read-ahead.
                advised = true
                _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            }
        }
        filesHashed.add(1, ordering: .relaxed)
        return FileDigest(digest: Array(hasher.finalize()), byteCount: UInt64(offset))
    }

    /// Hashes the first `size` bytes of `fd` from mapped windows; returns
    /// how many were hashed (less than `size` when the file shrank or could
    /// not be mapped: the caller reads the rest).
    private func hashMapped<H: HashFunction>(_ hasher: inout H, _ fd: Int32, size: Int64) -> Int64 {
        var offset: Int64 = 0
        if mapAhead && size > Int64(windowSize), let mapper = WindowMapper(fd: fd, size: size, windowSize: windowSize, cpus: helperCPUs) {
            defer { mapper.finish() }
            while let w = mapper.next() {
                windowHook?(w.offset)
                let ok = w.hash(into: &hasher, fd: fd)
                mapper.release(w)
                guard ok else { break }
                offset += Int64(w.bytes.count)
                bytesHashed.add(UInt64(w.bytes.count), ordering: .relaxed)
            }
            return offset
        }
        while offset < size {
            let length = Int(min(Int64(windowSize), size - offset))
            guard let w = FileWindow.map(fd: fd, offset: offset, length: length, populate: false) else { break }
            windowHook?(w.offset)
            let ok = w.hash(into: &hasher, fd: fd)
            w.unmap()
            guard ok else { break }
            offset += Int64(length)
            bytesHashed.add(UInt64(length), ordering: .relaxed)
        }
        return offset
    }
}

/// Lowercase hexadecimal.
enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Calls `body` with `bytes` in hexadecimal, in a stack buffer.
    static func withEncoded<R>(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 2) { out in
            digits.withUnsafeBufferPointer { d in
                for (i, b) in bytes.enumerated() {
                    out[2 * i] = d[Int(b >> 4)]
                    out[2 * i + 1] = d[Int(b & 15)]
                }
            }
            return body(UnsafeBufferPointer(out))
        }
    }

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
