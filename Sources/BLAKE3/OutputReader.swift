import CBLAKE3

extension BLAKE3 {
    /// The extended output of one hash: a stream of up to 2^64 blocks of
    /// 64 bytes, of which the ``digest`` is the first 32 bytes. Reads start
    /// at ``position`` and advance it; set it to seek. Any length and any
    /// position give the same bytes as slicing one long output.
    public struct OutputReader: Sendable {
        let root: cb3_node

        /// The byte offset of the next read in the output stream.
        public var position: UInt64 = 0

        init(root: cb3_node) { self.root = root }

        /// The 32-byte hash (the start of the output, whatever ``position``
        /// is).
        public var digest: Digest {
            var out = [UInt8](repeating: 0, count: BLAKE3.outputByteCount)
            withUnsafePointer(to: root) { node in
                out.withUnsafeMutableBytes { cb3_node_root_bytes(node, 0, $0.baseAddress, $0.count) }
            }
            return Digest(bytes: out)
        }

        /// Fills `buffer` with the next `buffer.count` output bytes.
        public mutating func read(into buffer: UnsafeMutableRawBufferPointer) {
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
            withUnsafePointer(to: root) { cb3_node_root_bytes($0, position, base, buffer.count) }
            position &+= UInt64(buffer.count)
        }

        /// The next `count` output bytes (`count >= 0`; a negative count
        /// reads nothing).
        public mutating func read(count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: max(0, count))
            out.withUnsafeMutableBytes { read(into: $0) }
            return out
        }
    }
}
