import BLAKE3
import Foundation
import Testing

/// The official BLAKE3 test vectors (`Fixtures/test_vectors.json`, from the
/// BLAKE3 team's repository): input byte i is `i % 251`; each case gives
/// 131 bytes of extended output for hash, keyed hash and derive-key modes.
struct Vectors: Decodable {
    struct Case: Decodable {
        let input_len: Int
        let hash: String
        let keyed_hash: String
        let derive_key: String
    }
    let key: String
    let context_string: String
    let cases: [Case]

    static let shared: Vectors = {
        let url = Bundle.module.url(forResource: "test_vectors", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    static func input(_ n: Int) -> [UInt8] { (0 ..< n).map { UInt8($0 % 251) } }
}

@Suite("BLAKE3 official test vectors")
struct TestVectorTests {
    @Test("every vector, every mode, full extended output, for every kernel this CPU can run",
          arguments: BLAKE3.availableKernels)
    func serialVectors(kernel: BLAKE3.Kernel) throws {
        let v = Vectors.shared
        let key = Array(v.key.utf8)
        for c in v.cases {
            let input = Vectors.input(c.input_len)
            let modes: [(BLAKE3.Mode, String)] = [
                (.hash, c.hash),
                (try .keyedHash(key: key), c.keyed_hash),
                (.deriveKey(context: v.context_string), c.derive_key),
            ]
            for (mode, expected) in modes {
                var h = BLAKE3.Hasher(mode: mode, kernel: kernel)
                h.update(input)
                var reader = h.finalizeOutput()
                #expect(BLAKE3.hex(reader.read(count: expected.count / 2)) == expected,
                        "len \(c.input_len) kernel \(kernel)")
                #expect(h.finalize().hex == String(expected.prefix(64)))
            }
        }
    }

    @Test("updates split at arbitrary points equal one update", arguments: BLAKE3.availableKernels)
    func incremental(kernel: BLAKE3.Kernel) {
        var rng = SystemRandomNumberGenerator()
        for c in Vectors.shared.cases {
            let input = Vectors.input(c.input_len)
            var h = BLAKE3.Hasher(kernel: kernel)
            var at = 0
            while at < input.count {
                let n = min(input.count - at, Int.random(in: 0 ... 3000, using: &rng))
                h.update(Array(input[at ..< at + n]))
                at += n
            }
            #expect(h.finalize().hex == String(c.hash.prefix(64)), "len \(c.input_len)")
        }
    }

    @Test("reading the extended output from a set position equals slicing it")
    func seekingIntoOutput() {
        var h = BLAKE3.Hasher()
        h.update(Vectors.input(5000))
        var whole = h.finalizeOutput()
        let all = whole.read(count: 1000)
        for start in [0, 1, 63, 64, 65, 500, 999] {
            var r = h.finalizeOutput()
            r.position = UInt64(start)
            #expect(r.read(count: 1000 - start) == Array(all[start...]))
        }
    }

    @Test("hashing a buffer through an MTJob gives the vectors' hash for 1 to 4 threads and every kernel",
          arguments: [1, 2, 3, 4])
    func parallelVectors(threads: Int) throws {
        // The vectors stop at 102,400 bytes, below the parallel threshold:
        // check them there, and larger inputs against the serial hasher.
        for kernel in BLAKE3.availableKernels {
            for c in Vectors.shared.cases {
                let input = Vectors.input(c.input_len)
                let out = try input.withUnsafeBytes {
                    try BLAKE3.hashInParallel($0, maxThreads: threads, kernel: kernel)
                }
                #expect(out.digest.hex == String(c.hash.prefix(64)))
            }
            let unit = BLAKE3.parallelUnitByteCount
            for n in [2 * unit, 2 * unit + 1, 3 * unit - 1, 7 * unit + 1024, 16 * unit + 513] {
                let input = Vectors.input(n)
                var serial = BLAKE3.Hasher(kernel: .portable)
                serial.update(input)
                var reader = try input.withUnsafeBytes {
                    try BLAKE3.hashInParallel($0, maxThreads: threads, kernel: kernel)
                }
                var expected = serial.finalizeOutput()
                #expect(reader.read(count: 100) == expected.read(count: 100), "n \(n) kernel \(kernel)")
            }
        }
    }
}

@Suite("BLAKE3 against b3sum")
struct B3sumCrossCheckTests {
    static func b3sum(_ path: String, _ extra: [String] = []) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/b3sum") else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/b3sum")
        p.arguments = extra + ["--no-names", path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("files around chunk, unit and thread-span boundaries hash as b3sum hashes them, serial and parallel")
    func fileSizes() throws {
        let unit = BLAKE3.parallelUnitByteCount
        var sizes = [0, 1, 1023, 1024, 1025, 2048, 65536, unit - 1, unit, unit + 1,
                     BLAKE3.parallelThreshold - 1, BLAKE3.parallelThreshold, BLAKE3.parallelThreshold + 1,
                     5 * unit + 3, 31 * unit + 1024 * 7 + 5]
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 4 { sizes.append(Int.random(in: 1 ... 12 * unit, using: &rng)) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("b3x-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for n in sizes {
            let path = dir.appendingPathComponent("f\(n)").path
            let bytes = (0 ..< n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            guard let expected = try Self.b3sum(path) else { return }
            for threads in [1, 2, 4] {
                let got = try BLAKE3.hashFile(atPath: path, maxThreads: threads).digest.hex
                #expect(got == expected, "size \(n), \(threads) threads")
            }
            guard let long = try Self.b3sum(path, ["-l", "200"]) else { return }
            var r = try BLAKE3.hashFile(atPath: path, maxThreads: 2)
            #expect(BLAKE3.hex(r.read(count: 200)) == long, "size \(n), 200-byte output")
        }
    }

    @Test("a pipe is hashed to its end")
    func pipeInput() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let data = Vectors.input(300_000)
        let wfd = fds[1]
        let writer = Thread {
            data.withUnsafeBytes { b in
                var off = 0
                while off < b.count {
                    let n = write(wfd, b.baseAddress! + off, b.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
            close(wfd)
        }
        writer.start()
        let got = try BLAKE3.hashFile(descriptor: fds[0], maxThreads: 2).digest
        close(fds[0])
        #expect(got == BLAKE3.hash(data))
    }
}
