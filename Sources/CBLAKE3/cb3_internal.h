#ifndef CB3_INTERNAL_H
#define CB3_INTERNAL_H

#include "cblake3.h"
#include <string.h>

/// Message word order of each of the 7 rounds: row r is the message
/// permutation [2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8] applied r times.
/// Static so that every kernel sees constants it can fold into its rounds.
static const uint8_t cb3_schedule[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

/// The IV words as constants for the kernels (cb3_iv holds the same).
#define CB3_IV0 0x6A09E667u
#define CB3_IV1 0xBB67AE85u
#define CB3_IV2 0x3C6EF372u
#define CB3_IV3 0xA54FF53Au

static inline uint32_t cb3_load32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline void cb3_store32(uint8_t *p, uint32_t w) {
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

/// One compression; all 16 output words (the first 8 are the new CV).
void cb3_compress(const uint32_t cv[8], const uint8_t block[64],
                  uint32_t block_len, uint64_t counter, uint32_t flags,
                  uint32_t out[16]);

/// Hashes `lanes` nodes of `blocks` 64-byte blocks each with the portable
/// code; node i starts at `base + i * stride`, has counter
/// `counter + i * counter_step`; `flags_first`/`flags_last` are added to the
/// first/last block. Writes CVs to `out + 32 * i`.
void cb3_hash_lanes_portable(const uint8_t *base, size_t stride, size_t lanes,
                             size_t blocks, const uint32_t key[8],
                             uint64_t counter, uint64_t counter_step,
                             uint8_t flags, uint8_t flags_first,
                             uint8_t flags_last, uint8_t *out);

#if defined(__x86_64__)
/// The same for exactly 4 (SSE4.1) or 8 (AVX2) nodes.
void cb3_hash4_sse41(const uint8_t *base, size_t stride, size_t blocks,
                     const uint32_t key[8], uint64_t counter,
                     uint64_t counter_step, uint8_t flags, uint8_t flags_first,
                     uint8_t flags_last, uint8_t *out);
void cb3_hash8_avx2(const uint8_t *base, size_t stride, size_t blocks,
                    const uint32_t key[8], uint64_t counter,
                    uint64_t counter_step, uint8_t flags, uint8_t flags_first,
                    uint8_t flags_last, uint8_t *out);
#endif

#endif
