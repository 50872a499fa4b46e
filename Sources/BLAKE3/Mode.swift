import CBLAKE3

extension BLAKE3 {
    /// What is computed: a plain hash, a keyed hash, or a derived key. A mode
    /// is a small value holding the key words and flags of every compression;
    /// build it once and reuse it.
    public struct Mode: Sendable, Hashable {
        /// The key words every chunk and parent starts from.
        let key: SIMD8<UInt32>
        /// The mode flags added to every compression.
        let flags: UInt8

        init(key: SIMD8<UInt32>, flags: UInt8) {
            self.key = key
            self.flags = flags
        }

        /// Plain hashing (the IV as key, no mode flag).
        public static let hash = Mode(key: Mode.ivWords, flags: 0)

        /// Keyed hashing under a 32-byte key.
        ///
        /// - Throws: ``BLAKE3Error/invalidKeyLength(_:)`` unless `key` has
        ///   exactly 32 bytes.
        public static func keyedHash(key: some Collection<UInt8>) throws(BLAKE3Error) -> Mode {
            guard key.count == BLAKE3.keyByteCount else { throw .invalidKeyLength(key.count) }
            return Mode(key: words(of: Array(key)), flags: UInt8(CB3_KEYED_HASH))
        }

        /// Key derivation: `context` is hashed once into a context key;
        /// the key material given to the hasher is then hashed under it.
        public static func deriveKey(context: String) -> Mode {
            var contextHasher = Hasher(mode: Mode(key: ivWords, flags: UInt8(CB3_DERIVE_KEY_CONTEXT)))
            contextHasher.update(Array(context.utf8))
            let contextKey = contextHasher.finalize().bytes
            return Mode(key: words(of: contextKey), flags: UInt8(CB3_DERIVE_KEY_MATERIAL))
        }

        static let ivWords: SIMD8<UInt32> = withUnsafePointer(to: cb3_iv) {
            $0.withMemoryRebound(to: UInt32.self, capacity: 8) { p in
                SIMD8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
            }
        }

        /// Little-endian words of 32 bytes.
        static func words(of bytes: [UInt8]) -> SIMD8<UInt32> {
            var w = SIMD8<UInt32>()
            for i in 0..<8 {
                var v: UInt32 = 0
                for j in 0..<4 { v |= UInt32(bytes[4 * i + j]) << (8 * j) }
                w[i] = v
            }
            return w
        }
    }
}
