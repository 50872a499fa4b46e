import CBLAKE3

extension BLAKE3 {
    /// Incremental hashing: feed bytes with ``update(_:)-(UnsafeRawBufferPointer)``
    /// in pieces of any size, then ``finalize()`` (32 bytes) or
    /// ``finalizeOutput()`` (any length). The result does not depend on how
    /// the input was split. Finalizing does not change the hasher, so more
    /// input may follow.
    ///
    /// Whole chunks go through the SIMD kernel as complete subtrees (up to
    /// 512 KiB at a time); only the last chunk of the input and pieces
    /// smaller than a chunk are buffered.
    public struct Hasher: Sendable {
        let mode: Mode
        let kernel: Kernel
        /// Counter of the first chunk (non-zero when hashing a subtree).
        let counterBase: UInt64
        /// Chunks whose CVs are on (or merged into) the stack.
        var chunksDone: UInt64 = 0
        /// CVs of complete subtrees, largest (leftmost) first, merged
        /// lazily so that the last one is never merged before more input
        /// arrives (it may still be the root's child).
        var stack: [SIMD8<UInt32>] = []
        /// The chunk being filled; `bufferCount` bytes are valid.
        var buffer = [UInt8](repeating: 0, count: BLAKE3.chunkByteCount)
        var bufferCount = 0

        /// A hasher for `mode` (plain hashing by default).
        public init(mode: Mode = .hash, kernel: Kernel = .current) {
            self.init(mode: mode, kernel: kernel, counterBase: 0)
        }

        /// A keyed hasher.
        ///
        /// - Throws: ``BLAKE3Error/invalidKeyLength(_:)`` unless `key` has 32 bytes.
        public init(key: some Collection<UInt8>, kernel: Kernel = .current) throws(BLAKE3Error) {
            self.init(mode: try .keyedHash(key: key), kernel: kernel)
        }

        /// A key-derivation hasher for `context`; feed it the key material.
        public init(deriveKeyContext context: String, kernel: Kernel = .current) {
            self.init(mode: .deriveKey(context: context), kernel: kernel)
        }

        /// A hasher of the subtree whose first chunk has counter `counterBase`.
        init(mode: Mode, kernel: Kernel, counterBase: UInt64) {
            self.mode = mode
            self.kernel = kernel.isAvailable ? kernel : .widest
            self.counterBase = counterBase
        }

        /// Adds bytes.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard var p = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                if bufferCount == BLAKE3.chunkByteCount {
                    flushBuffer()
                } else if bufferCount > 0 || left <= BLAKE3.chunkByteCount {
                    let take = min(BLAKE3.chunkByteCount - bufferCount, left)
                    buffer.withUnsafeMutableBytes { b in
                        (b.baseAddress! + bufferCount).copyMemory(from: p, byteCount: take)
                    }
                    bufferCount += take
                    p += take
                    left -= take
                } else {
                    let chunks = subtreeChunks(bytesLeft: left)
                    hashSubtree(p, chunks: chunks)
                    p += chunks * BLAKE3.chunkByteCount
                    left -= chunks * BLAKE3.chunkByteCount
                }
            }
        }

        /// Adds bytes.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The 32-byte hash of everything added so far.
        public func finalize() -> Digest { finalizeOutput().digest }

        /// The extended output of everything added so far.
        public func finalizeOutput() -> OutputReader { OutputReader(root: finalNode()) }

        // MARK: - Tree

        /// The largest subtree (in chunks) that may start here, with more
        /// than one chunk of input left: a power of two whose bytes fit in
        /// the input, dividing the chunks already done (so it is a subtree
        /// of the final tree), and at most what the C side takes. Its top
        /// parent is pushed as two CVs, so it can still become the root.
        private func subtreeChunks(bytesLeft: Int) -> Int {
            // bytesLeft > one chunk here, so this is at least one chunk.
            var bytes = 1 << (Int.bitWidth - 1 - bytesLeft.leadingZeroBitCount)
            bytes = min(bytes, Int(CB3_MAX_SUBTREE_CHUNKS) * BLAKE3.chunkByteCount)
            var chunks = bytes / BLAKE3.chunkByteCount
            while chunksDone % UInt64(chunks) != 0 { chunks /= 2 }
            return chunks
        }

        private mutating func hashSubtree(_ p: UnsafeRawPointer, chunks: Int) {
            var out = (SIMD8<UInt32>(), SIMD8<UInt32>())
            let n = withUnsafeMutableBytes(of: &out) { o in
                withUnsafeBytes(of: mode.key) { k in
                    cb3_hash_subtree(kernel.number, p.assumingMemoryBound(to: UInt8.self), chunks,
                                     k.baseAddress!.assumingMemoryBound(to: UInt32.self),
                                     counterBase &+ chunksDone, mode.flags, 1,
                                     o.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            if n == 1 {
                push(out.0, chunks: 1)
            } else {
                push(out.0, chunks: chunks / 2)
                push(out.1, chunks: chunks / 2)
            }
        }

        private mutating func flushBuffer() {
            var cv = SIMD8<UInt32>()
            buffer.withUnsafeBytes { b in
                withUnsafeMutableBytes(of: &cv) { o in
                    withUnsafeBytes(of: mode.key) { k in
                        cb3_hash_chunks(kernel.number, b.baseAddress!.assumingMemoryBound(to: UInt8.self), 1,
                                        k.baseAddress!.assumingMemoryBound(to: UInt32.self),
                                        counterBase &+ chunksDone, mode.flags,
                                        o.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            bufferCount = 0
            push(cv, chunks: 1)
        }

        /// Pushes the CV of the next `chunks` chunks, first merging what
        /// the chunks done so far have completed (more input follows them).
        private mutating func push(_ cv: SIMD8<UInt32>, chunks: Int) {
            let keep = chunksDone.nonzeroBitCount
            while stack.count > keep {
                let right = stack.removeLast()
                let left = stack.removeLast()
                stack.append(parentCV(left, right, mode: mode))
            }
            stack.append(cv)
            chunksDone += UInt64(chunks)
        }

        /// The root node: the buffered chunk (or the last two CVs) folded
        /// with the stack from right to left; only its final compression
        /// carries ROOT, and that happens when output is read.
        func finalNode() -> cb3_node {
            var node = cb3_node()
            var rest = stack[...]
            if bufferCount > 0 || stack.count < 2 {
                // The buffered chunk follows everything on the stack, so
                // the merges `push` defers are due now: fold the stack to
                // one CV per set bit of the chunks done.
                var merged = stack
                while merged.count > Int(chunksDone.nonzeroBitCount) {
                    let right = merged.removeLast()
                    let left = merged.removeLast()
                    merged.append(parentCV(left, right, mode: mode))
                }
                rest = merged[...]
                buffer.withUnsafeBytes { b in
                    withUnsafeBytes(of: mode.key) { k in
                        cb3_chunk_node(b.baseAddress!.assumingMemoryBound(to: UInt8.self), bufferCount,
                                       k.baseAddress!.assumingMemoryBound(to: UInt32.self),
                                       counterBase &+ chunksDone, mode.flags, &node)
                    }
                }
            } else {
                node = parentNode(stack[stack.count - 2], stack[stack.count - 1], mode: mode)
                rest = stack.dropLast(2)
            }
            for left in rest.reversed() {
                node = parentNode(left, nodeCV(node), mode: mode)
            }
            return node
        }
    }
}

// MARK: - Node helpers

func parentNode(_ left: SIMD8<UInt32>, _ right: SIMD8<UInt32>, mode: BLAKE3.Mode) -> cb3_node {
    var node = cb3_node()
    withUnsafeBytes(of: left) { l in
        withUnsafeBytes(of: right) { r in
            withUnsafeBytes(of: mode.key) { k in
                cb3_parent_node(l.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                r.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                k.baseAddress!.assumingMemoryBound(to: UInt32.self), mode.flags, &node)
            }
        }
    }
    return node
}

func nodeCV(_ node: cb3_node) -> SIMD8<UInt32> {
    var cv = SIMD8<UInt32>()
    withUnsafePointer(to: node) { n in
        withUnsafeMutableBytes(of: &cv) { cb3_node_cv(n, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
    return cv
}

func parentCV(_ left: SIMD8<UInt32>, _ right: SIMD8<UInt32>, mode: BLAKE3.Mode) -> SIMD8<UInt32> {
    nodeCV(parentNode(left, right, mode: mode))
}
