extension BLAKE3 {
    /// A 32-byte BLAKE3 output; `description` is its lowercase hex form,
    /// as `b3sum` prints it.
    public struct Digest: Sendable, Hashable, CustomStringConvertible {
        /// The 32 bytes.
        public let bytes: [UInt8]

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// The digest whose hex form is `hex` (64 hex digits, either case),
        /// or `nil`.
        public init?(hex: some StringProtocol) {
            let digits = Array(hex.utf8)
            guard digits.count == 2 * BLAKE3.outputByteCount else { return nil }
            var out = [UInt8]()
            out.reserveCapacity(BLAKE3.outputByteCount)
            for i in stride(from: 0, to: digits.count, by: 2) {
                guard let hi = Self.nibble(digits[i]), let lo = Self.nibble(digits[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
            }
            bytes = out
        }

        /// Lowercase hex, 64 digits.
        public var hex: String { BLAKE3.hex(bytes) }

        public var description: String { hex }

        private static func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
    }

    /// Lowercase hex of any bytes (for extended outputs).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
