import Crypto

/// A digest algorithm `mtrun hash` can compute, with the coreutils program
/// whose output format it reproduces.
package enum HashAlgorithm: String, CaseIterable, Sendable {
    /// SHA-256 (`sha256sum`), the default.
    case sha256
    /// SHA-512 (`sha512sum`).
    case sha512
    /// SHA-1 (`sha1sum`); insecure, kept for compatibility.
    case sha1
    /// MD5 (`md5sum`); insecure, kept for compatibility.
    case md5

    /// The name in BSD-style (`--tag`) lines: `SHA256 (file) = …`.
    package var tagName: String {
        switch self {
        case .sha256: "SHA256"
        case .sha512: "SHA512"
        case .sha1: "SHA1"
        case .md5: "MD5"
        }
    }

    /// The coreutils program with the same output format.
    package var coreutilsProgram: String { rawValue + "sum" }

    /// Length of the digest in bytes.
    package var digestByteCount: Int {
        switch self {
        case .sha256: 32
        case .sha512: 64
        case .sha1: 20
        case .md5: 16
        }
    }

    /// Length of the digest in hexadecimal characters.
    package var hexLength: Int { digestByteCount * 2 }

    /// Hashes everything `fill` produces. `fill` writes up to `buffer.count`
    /// bytes into `buffer` and returns how many (0 at the end).
    ///
    /// One generic body per algorithm, so the hasher is never an existential.
    func digest(
        buffer: UnsafeMutableRawBufferPointer,
        fill: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int
    ) throws(SystemError) -> (digest: [UInt8], bytes: UInt64) {
        switch self {
        case .sha256: try Self.run(SHA256.self, buffer: buffer, fill: fill)
        case .sha512: try Self.run(SHA512.self, buffer: buffer, fill: fill)
        case .sha1: try Self.run(Insecure.SHA1.self, buffer: buffer, fill: fill)
        case .md5: try Self.run(Insecure.MD5.self, buffer: buffer, fill: fill)
        }
    }

    /// Hashes `bytes` in one go (tests and small inputs).
    package func digest(of bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        case .sha1: Array(Insecure.SHA1.hash(data: bytes))
        case .md5: Array(Insecure.MD5.hash(data: bytes))
        }
    }

    @inline(__always)
    private static func run<H: HashFunction>(
        _: H.Type,
        buffer: UnsafeMutableRawBufferPointer,
        fill: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int
    ) throws(SystemError) -> (digest: [UInt8], bytes: UInt64) {
        var hasher = H()
        var total: UInt64 = 0
        while true {
            let n = try fill(buffer)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += UInt64(n)
        }
        return (Array(hasher.finalize()), total)
    }
}

extension HashAlgorithm {
    /// Parses an algorithm name as given to `-a`: `sha256`, `SHA-256`,
    /// `sha256sum` and the like, case-insensitively.
    package init?(name: String) {
        var key = String(name.lowercased().filter { $0 != "-" })
        if key.hasSuffix("sum") { key.removeLast(3) }
        guard let value = HashAlgorithm(rawValue: key) else { return nil }
        self = value
    }
}
