import CBLAKE3

#if _endian(big)
#error("BLAKE3 stores chaining values as native words; big-endian hosts are not supported")
#endif

/// The BLAKE3 hash function: hashing, keyed hashing, key derivation and
/// extended output, serial or spread over threads with ``MTJobs``.
///
/// One-shot hashing of bytes in memory:
///
/// ```swift
/// let digest = BLAKE3.hash(Array("abc".utf8))
/// print(digest)          // 64 hex digits
/// ```
///
/// For data that arrives in pieces use ``Hasher``; for long outputs,
/// ``OutputReader``; for large buffers and files,
/// ``hashInParallel(_:mode:maxThreads:pool:kernel:)`` and
/// ``hashFile(atPath:mode:maxThreads:pool:kernel:)``.
public enum BLAKE3 {
    /// Bytes of a default digest (and of a key).
    public static let outputByteCount = 32
    /// Bytes of a key for keyed hashing.
    public static let keyByteCount = 32
    /// Bytes of one chunk, the leaf of the hash tree.
    public static let chunkByteCount = 1024
    /// Bytes of one block, the input of one compression.
    public static let blockByteCount = 64

    /// The kernels this CPU can run, narrowest first (portable is always
    /// there).
    public static var availableKernels: [Kernel] { Kernel.available }

    /// The hash of `bytes` in `mode`, computed on the calling thread.
    public static func hash(_ bytes: UnsafeRawBufferPointer, mode: Mode = .hash,
                            kernel: Kernel = .current) -> Digest {
        var hasher = Hasher(mode: mode, kernel: kernel)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The hash of `bytes` in `mode`, computed on the calling thread.
    public static func hash(_ bytes: [UInt8], mode: Mode = .hash, kernel: Kernel = .current) -> Digest {
        bytes.withUnsafeBytes { hash($0, mode: mode, kernel: kernel) }
    }

    /// The keyed hash of `bytes` (a MAC) under a 32-byte `key`.
    ///
    /// - Throws: ``BLAKE3Error/invalidKeyLength(_:)`` unless `key` has 32 bytes.
    public static func keyedHash(key: [UInt8], _ bytes: [UInt8]) throws(BLAKE3Error) -> Digest {
        hash(bytes, mode: try .keyedHash(key: key))
    }

    /// `count` bytes of key derived from `material` for the purpose named by
    /// `context` (a hard-coded, globally unique string such as
    /// `"example.com 2025-01-01 session tokens v1"`).
    public static func deriveKey(context: String, material: [UInt8], count: Int = 32) -> [UInt8] {
        var hasher = Hasher(mode: .deriveKey(context: context))
        hasher.update(material)
        var reader = hasher.finalizeOutput()
        return reader.read(count: count)
    }
}
