#ifndef CBLAKE3_H
#define CBLAKE3_H

// Compression kernels of BLAKE3 for the Swift module `BLAKE3`: one
// compression, whole chunks and parent nodes several at a time (SIMD lanes
// hold independent nodes), and complete subtrees. Tree bookkeeping, modes
// and I/O live in Swift.
//
// Chaining values (CVs) travel as 32 bytes, little-endian words; keys as 8
// native words. Every function is safe to call from several threads at once.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CB3_CHUNK_LEN = 1024,
    CB3_BLOCK_LEN = 64,
    CB3_OUT_LEN = 32,
    /// The largest subtree `cb3_hash_subtree` takes, in chunks.
    CB3_MAX_SUBTREE_CHUNKS = 512,
};

enum {
    CB3_CHUNK_START = 1 << 0,
    CB3_CHUNK_END = 1 << 1,
    CB3_PARENT = 1 << 2,
    CB3_ROOT = 1 << 3,
    CB3_KEYED_HASH = 1 << 4,
    CB3_DERIVE_KEY_CONTEXT = 1 << 5,
    CB3_DERIVE_KEY_MATERIAL = 1 << 6,
};

/// Kernel numbers; `cb3_available_kernels` returns a mask of `1 << number`.
enum {
    CB3_KERNEL_PORTABLE = 0,
    CB3_KERNEL_SSE41 = 1,
    CB3_KERNEL_AVX2 = 2,
};

/// The kernels this CPU and operating system can run (bit `1 << kernel`).
/// The portable kernel is always there. Computed once.
unsigned cb3_available_kernels(void);

/// The initialisation vector (SHA-256's), the key of unkeyed hashing.
extern const uint32_t cb3_iv[8];

/// A node not yet compressed for the last time: everything its final
/// compression needs. Its CV (non-root) or its output bytes (root, any
/// offset) come from it.
typedef struct {
    uint32_t cv[8];
    uint8_t block[64];
    uint64_t counter;
    uint32_t block_len;
    uint32_t flags;
} cb3_node;

/// The CVs of `nchunks` whole chunks stored one after another at `input`,
/// with chunk counters `counter`, `counter + 1`, ... into `out` (32 bytes
/// each). `flags` holds the mode flags only.
void cb3_hash_chunks(int kernel, const uint8_t *input, size_t nchunks,
                     const uint32_t key[8], uint64_t counter, uint8_t flags,
                     uint8_t *out);

/// The CVs of `nparents` parent nodes; parent `i`'s block (left CV then
/// right CV) is the 64 bytes at `blocks + 64 * i`, its CV goes to
/// `out + 32 * i`. `out` may equal `blocks` (each group of nodes is read
/// before its results are written).
void cb3_hash_parents(int kernel, const uint8_t *blocks, size_t nparents,
                      const uint32_t key[8], uint8_t flags, uint8_t *out);

/// A complete subtree of `nchunks` whole chunks (a power of two, at most
/// `CB3_MAX_SUBTREE_CHUNKS`) whose first chunk has counter `counter`.
/// With `keep_two` zero, writes its CV (32 bytes); otherwise, when
/// `nchunks >= 2`, writes the CVs of its two halves (64 bytes: the block of
/// its top parent, which is left uncompressed so that it can still become
/// the root). Returns the number of CVs written.
size_t cb3_hash_subtree(int kernel, const uint8_t *input, size_t nchunks,
                        const uint32_t key[8], uint64_t counter, uint8_t flags,
                        int keep_two, uint8_t *out);

/// The node of one chunk of `len` bytes (0...1024; 0 only for empty input):
/// every block but the last compressed.
void cb3_chunk_node(const uint8_t *input, size_t len, const uint32_t key[8],
                    uint64_t counter, uint8_t flags, cb3_node *out);

/// The node of a parent whose children have the CVs `left` and `right`.
void cb3_parent_node(const uint8_t left[32], const uint8_t right[32],
                     const uint32_t key[8], uint8_t flags, cb3_node *out);

/// The CV of a non-root node.
void cb3_node_cv(const cb3_node *node, uint8_t out[32]);

/// `len` bytes of the root output of `node`, starting at byte `offset` of
/// the (2^64-block long) output stream.
void cb3_node_root_bytes(const cb3_node *node, uint64_t offset, uint8_t *out,
                         size_t len);

#ifdef __cplusplus
}
#endif

#endif
