#if canImport(Glibc)
import Glibc
#endif
import Crypto
@testable import HashEngine
import Testing
import Topology

/// Hashing from guarded `mmap` windows (``FileWindow``, ``WindowMapper``).
@Suite("mapped hashing: same digests as reading, files that shrink under a mapping never crash")
struct MappedFileTests {
    static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    static func data(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ Int(seed) &+ ($0 >> 12)) }
    }

    @Test("files of 0 bytes to several windows, with and without the mapping thread, give every algorithm's digest")
    func windowsAgreeWithReading() throws {
        let t = TempDir()
        defer { t.remove() }
        let window = 3 * Self.page
        let sizes = [0, 1, Self.page - 1, Self.page, window - 1, window, window + 1, 5 * window + 17, 300_001]
        for size in sizes {
            let bytes = Self.data(size)
            let p = t.write(Array("f\(size)".utf8), bytes)
            for a in HashAlgorithm.allCases {
                for ahead in [false, true] {
                    let digester = FileDigester(algorithm: a, bufferSize: 4096, mapThreshold: 1, windowSize: window,
                                                mapAhead: ahead, helperCPUs: Topology.shared.allowedCPUs)
                    let d = try digester.digest(path: p)
                    #expect(d.digest == a.digest(of: bytes), "\(a) size \(size) ahead \(ahead)")
                    #expect(d.byteCount == UInt64(size))
                    #expect(digester.bytesHashed.load(ordering: .relaxed) == UInt64(size))
                }
            }
        }
    }

    /// Truncates the file at `path` to `length` bytes.
    static func truncate(_ path: [UInt8], _ length: Int) {
        let rc = cString(path) { Glibc.truncate($0, off_t(length)) }
        precondition(rc == 0, "truncate failed")
    }

    @Test("a file truncated under a mapped window (SIGBUS beyond the end): the digest of what it still holds, no crash")
    func truncatedUnderMapping() throws {
        let t = TempDir()
        defer { t.remove() }
        let window = 4 * Self.page
        let size = 6 * window + 123
        // (window offset at which the file is cut, new length): inside a page,
        // on a page boundary, at the window start, to nothing, in a later window.
        let cuts: [(at: Int, to: Int)] = [
            (window, window + Self.page + 100), (window, 2 * window - Self.page), (2 * window, 2 * window),
            (0, 0), (0, 10), (3 * window, 5 * window + 1),
        ]
        for ahead in [false, true] {
            for cut in cuts {
                let original = Self.data(size, seed: UInt8(cut.to & 0xFF))
                let p = t.write("cut", "")
                Spawn.writeFile(p, original)
                let fired = Counter()
                let digester = FileDigester(
                    algorithm: .sha256, bufferSize: 8192, mapThreshold: 1, windowSize: window, mapAhead: ahead,
                    helperCPUs: nil,
                    windowHook: { offset in
                        if offset == Int64(cut.at) && fired.next() == 0 { Self.truncate(p, cut.to) }
                    })
                let d = try digester.digest(path: p)
                let kept = Array(original[0..<cut.to])
                #expect(d.byteCount == UInt64(cut.to), "cut \(cut) ahead \(ahead)")
                #expect(d.digest == HashAlgorithm.sha256.digest(of: kept), "cut \(cut) ahead \(ahead)")
            }
        }
    }

    @Test("a file that grows while mapped: everything up to the new end is hashed")
    func grownUnderMapping() throws {
        let t = TempDir()
        defer { t.remove() }
        let window = 2 * Self.page
        let first = Self.data(3 * window + 5)
        let more = Self.data(7000, seed: 99)
        let p = t.write("grow", "")
        Spawn.writeFile(p, first)
        let fired = Counter()
        let digester = FileDigester(
            algorithm: .sha256, bufferSize: 4096, mapThreshold: 1, windowSize: window, mapAhead: true,
            helperCPUs: nil,
            windowHook: { offset in
                guard offset == Int64(window), fired.next() == 0 else { return }
                let fd = cString(p) { open($0, O_WRONLY | O_APPEND) }
                more.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
                close(fd)
            })
        let d = try digester.digest(path: p)
        #expect(d.byteCount == UInt64(first.count + more.count))
        #expect(d.digest == HashAlgorithm.sha256.digest(of: first + more))
    }

    @Test("a window read under the guard after its file was emptied reports the fault and leaves the hasher as it was",
          arguments: [true, false])
    func guardReportsFault(populate: Bool) throws {
        let t = TempDir()
        defer { t.remove() }
        let p = t.write("w", "")
        Spawn.writeFile(p, Self.data(8 * Self.page))
        let fd = cString(p) { open($0, O_RDWR) }
        #expect(fd >= 0)
        defer { close(fd) }
        let w = try #require(FileWindow.map(fd: fd, offset: 0, length: 8 * Self.page, populate: populate))
        defer { w.unmap() }
        #expect(ftruncate(fd, off_t(Self.page / 2)) == 0)
        var hasher = SHA256()
        #expect(!w.hash(into: &hasher, fd: fd))
        #expect(Array(hasher.finalize()) == HashAlgorithm.sha256.digest(of: []))
    }
}

