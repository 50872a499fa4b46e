// Portable scalar compression, the node helpers, and the multi-node entry
// points that hand groups of nodes to the SIMD kernels.

#include "cb3_internal.h"

const uint32_t cb3_iv[8] = {
    0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
    0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

static inline uint32_t rotr(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

#define G(a, b, c, d, x, y)                                                    \
    do {                                                                       \
        s[a] += s[b] + (x);                                                    \
        s[d] = rotr(s[d] ^ s[a], 16);                                          \
        s[c] += s[d];                                                          \
        s[b] = rotr(s[b] ^ s[c], 12);                                          \
        s[a] += s[b] + (y);                                                    \
        s[d] = rotr(s[d] ^ s[a], 8);                                           \
        s[c] += s[d];                                                          \
        s[b] = rotr(s[b] ^ s[c], 7);                                           \
    } while (0)

__attribute__((always_inline)) static inline void round_portable(uint32_t s[16],
                                                                 const uint32_t m[16],
                                                                 int r) {
    const uint8_t *w = cb3_schedule[r];
    G(0, 4, 8, 12, m[w[0]], m[w[1]]);
    G(1, 5, 9, 13, m[w[2]], m[w[3]]);
    G(2, 6, 10, 14, m[w[4]], m[w[5]]);
    G(3, 7, 11, 15, m[w[6]], m[w[7]]);
    G(0, 5, 10, 15, m[w[8]], m[w[9]]);
    G(1, 6, 11, 12, m[w[10]], m[w[11]]);
    G(2, 7, 8, 13, m[w[12]], m[w[13]]);
    G(3, 4, 9, 14, m[w[14]], m[w[15]]);
}

static void compress_state(const uint32_t cv[8], const uint8_t block[64],
                           uint32_t block_len, uint64_t counter,
                           uint32_t flags, uint32_t s[16]) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++) m[i] = cb3_load32(block + 4 * i);
    for (int i = 0; i < 8; i++) s[i] = cv[i];
    s[8] = CB3_IV0;
    s[9] = CB3_IV1;
    s[10] = CB3_IV2;
    s[11] = CB3_IV3;
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = block_len;
    s[15] = flags;
    round_portable(s, m, 0);
    round_portable(s, m, 1);
    round_portable(s, m, 2);
    round_portable(s, m, 3);
    round_portable(s, m, 4);
    round_portable(s, m, 5);
    round_portable(s, m, 6);
}

void cb3_compress(const uint32_t cv[8], const uint8_t block[64],
                  uint32_t block_len, uint64_t counter, uint32_t flags,
                  uint32_t out[16]) {
    uint32_t s[16];
    compress_state(cv, block, block_len, counter, flags, s);
    for (int i = 0; i < 8; i++) {
        out[i] = s[i] ^ s[i + 8];
        out[i + 8] = s[i + 8] ^ cv[i];
    }
}

/// The CV only: the first 8 output words.
static void compress_cv(uint32_t cv[8], const uint8_t block[64],
                        uint32_t block_len, uint64_t counter, uint32_t flags) {
    uint32_t s[16];
    compress_state(cv, block, block_len, counter, flags, s);
    for (int i = 0; i < 8; i++) cv[i] = s[i] ^ s[i + 8];
}

static void store_cv(uint8_t out[32], const uint32_t cv[8]) {
    for (int i = 0; i < 8; i++) cb3_store32(out + 4 * i, cv[i]);
}

void cb3_hash_lanes_portable(const uint8_t *base, size_t stride, size_t lanes,
                             size_t blocks, const uint32_t key[8],
                             uint64_t counter, uint64_t counter_step,
                             uint8_t flags, uint8_t flags_first,
                             uint8_t flags_last, uint8_t *out) {
    for (size_t i = 0; i < lanes; i++) {
        const uint8_t *in = base + i * stride;
        uint32_t cv[8];
        memcpy(cv, key, sizeof cv);
        for (size_t b = 0; b < blocks; b++) {
            uint32_t f = flags;
            if (b == 0) f |= flags_first;
            if (b + 1 == blocks) f |= flags_last;
            compress_cv(cv, in + 64 * b, 64, counter + i * counter_step, f);
        }
        store_cv(out + 32 * i, cv);
    }
}

/// Runs `n` nodes through the widest kernel allowed, then narrower ones for
/// what is left.
static void hash_nodes(int kernel, const uint8_t *base, size_t stride,
                       size_t n, size_t blocks, const uint32_t key[8],
                       uint64_t counter, uint64_t counter_step, uint8_t flags,
                       uint8_t flags_first, uint8_t flags_last, uint8_t *out) {
#if defined(__x86_64__)
    // A kernel this CPU cannot run is never entered, whatever is asked.
    const unsigned available = cb3_available_kernels();
    while (kernel > CB3_KERNEL_PORTABLE && !(available & (1u << kernel)))
        kernel--;
    if (kernel >= CB3_KERNEL_AVX2) {
        while (n >= 8) {
            cb3_hash8_avx2(base, stride, blocks, key, counter, counter_step,
                           flags, flags_first, flags_last, out);
            base += 8 * stride;
            counter += 8 * counter_step;
            out += 8 * 32;
            n -= 8;
        }
    }
    if (kernel >= CB3_KERNEL_SSE41) {
        while (n >= 4) {
            cb3_hash4_sse41(base, stride, blocks, key, counter, counter_step,
                            flags, flags_first, flags_last, out);
            base += 4 * stride;
            counter += 4 * counter_step;
            out += 4 * 32;
            n -= 4;
        }
    }
#else
    (void)kernel;
#endif
    cb3_hash_lanes_portable(base, stride, n, blocks, key, counter,
                            counter_step, flags, flags_first, flags_last, out);
}

void cb3_hash_chunks(int kernel, const uint8_t *input, size_t nchunks,
                     const uint32_t key[8], uint64_t counter, uint8_t flags,
                     uint8_t *out) {
    hash_nodes(kernel, input, CB3_CHUNK_LEN, nchunks,
               CB3_CHUNK_LEN / CB3_BLOCK_LEN, key, counter, 1, flags,
               CB3_CHUNK_START, CB3_CHUNK_END, out);
}

void cb3_hash_parents(int kernel, const uint8_t *blocks, size_t nparents,
                      const uint32_t key[8], uint8_t flags, uint8_t *out) {
    hash_nodes(kernel, blocks, CB3_BLOCK_LEN, nparents, 1, key, 0, 0,
               (uint8_t)(flags | CB3_PARENT), 0, 0, out);
}

size_t cb3_hash_subtree(int kernel, const uint8_t *input, size_t nchunks,
                        const uint32_t key[8], uint64_t counter, uint8_t flags,
                        int keep_two, uint8_t *out) {
    uint8_t cvs[CB3_MAX_SUBTREE_CHUNKS * 32];
    if (nchunks == 0 || nchunks > CB3_MAX_SUBTREE_CHUNKS ||
        (nchunks & (nchunks - 1)) != 0)
        return 0;
    size_t target = (keep_two && nchunks >= 2) ? 2 : 1;
    if (nchunks == target) {
        cb3_hash_chunks(kernel, input, nchunks, key, counter, flags, out);
        return target;
    }
    cb3_hash_chunks(kernel, input, nchunks, key, counter, flags, cvs);
    size_t n = nchunks;
    while (n / 2 > target) {
        cb3_hash_parents(kernel, cvs, n / 2, key, flags, cvs);
        n /= 2;
    }
    cb3_hash_parents(kernel, cvs, target, key, flags, out);
    return target;
}

void cb3_chunk_node(const uint8_t *input, size_t len, const uint32_t key[8],
                    uint64_t counter, uint8_t flags, cb3_node *out) {
    if (len > CB3_CHUNK_LEN) len = CB3_CHUNK_LEN;
    uint32_t cv[8];
    memcpy(cv, key, sizeof cv);
    uint32_t start = CB3_CHUNK_START;
    while (len > CB3_BLOCK_LEN) {
        compress_cv(cv, input, CB3_BLOCK_LEN, counter, flags | start);
        start = 0;
        input += CB3_BLOCK_LEN;
        len -= CB3_BLOCK_LEN;
    }
    memcpy(out->cv, cv, sizeof cv);
    memset(out->block, 0, sizeof out->block);
    if (len > 0) memcpy(out->block, input, len);
    out->counter = counter;
    out->block_len = (uint32_t)len;
    out->flags = flags | start | CB3_CHUNK_END;
}

void cb3_parent_node(const uint8_t left[32], const uint8_t right[32],
                     const uint32_t key[8], uint8_t flags, cb3_node *out) {
    memcpy(out->cv, key, sizeof out->cv);
    memcpy(out->block, left, 32);
    memcpy(out->block + 32, right, 32);
    out->counter = 0;
    out->block_len = CB3_BLOCK_LEN;
    out->flags = (uint32_t)flags | CB3_PARENT;
}

void cb3_node_cv(const cb3_node *node, uint8_t out[32]) {
    uint32_t cv[8];
    memcpy(cv, node->cv, sizeof cv);
    compress_cv(cv, node->block, node->block_len, node->counter, node->flags);
    store_cv(out, cv);
}

void cb3_node_root_bytes(const cb3_node *node, uint64_t offset, uint8_t *out,
                         size_t len) {
    uint64_t block = offset / 64;
    size_t skip = (size_t)(offset % 64);
    while (len > 0) {
        uint32_t words[16];
        uint8_t bytes[64];
        cb3_compress(node->cv, node->block, node->block_len, block,
                     node->flags | CB3_ROOT, words);
        for (int i = 0; i < 16; i++) cb3_store32(bytes + 4 * i, words[i]);
        size_t take = 64 - skip;
        if (take > len) take = len;
        memcpy(out, bytes + skip, take);
        out += take;
        len -= take;
        skip = 0;
        block++;
    }
}
