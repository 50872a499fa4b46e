// The AVX2 kernel: eight independent nodes at once, lane i of state
// vector k holding word k of node i. Compiled for AVX2 by the function
// attribute alone, so the rest of the library stays baseline x86-64; it is
// only called after the run-time check in dispatch.c.

#include "cb3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))
#define AVX2_INLINE __attribute__((target("avx2"), always_inline)) static inline

AVX2_INLINE __m256i rotr16(__m256i x) {
    const __m256i pattern = _mm256_set_epi8(
        13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
        13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
    return _mm256_shuffle_epi8(x, pattern);
}

AVX2_INLINE __m256i rotr8(__m256i x) {
    const __m256i pattern = _mm256_set_epi8(
        12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1,
        12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1);
    return _mm256_shuffle_epi8(x, pattern);
}

AVX2_INLINE __m256i rotr12(__m256i x) {
    return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20));
}

AVX2_INLINE __m256i rotr7(__m256i x) {
    return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25));
}

#define ADD _mm256_add_epi32
#define XOR _mm256_xor_si256

/// Four G functions side by side (a column or a diagonal step), each on
/// all eight lanes.
#define G4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3, i)  \
    do {                                                                       \
        v[a0] = ADD(ADD(v[a0], v[b0]), m[s[i + 0]]);                           \
        v[a1] = ADD(ADD(v[a1], v[b1]), m[s[i + 2]]);                           \
        v[a2] = ADD(ADD(v[a2], v[b2]), m[s[i + 4]]);                           \
        v[a3] = ADD(ADD(v[a3], v[b3]), m[s[i + 6]]);                           \
        v[d0] = rotr16(XOR(v[d0], v[a0]));                                     \
        v[d1] = rotr16(XOR(v[d1], v[a1]));                                     \
        v[d2] = rotr16(XOR(v[d2], v[a2]));                                     \
        v[d3] = rotr16(XOR(v[d3], v[a3]));                                     \
        v[c0] = ADD(v[c0], v[d0]);                                             \
        v[c1] = ADD(v[c1], v[d1]);                                             \
        v[c2] = ADD(v[c2], v[d2]);                                             \
        v[c3] = ADD(v[c3], v[d3]);                                             \
        v[b0] = rotr12(XOR(v[b0], v[c0]));                                     \
        v[b1] = rotr12(XOR(v[b1], v[c1]));                                     \
        v[b2] = rotr12(XOR(v[b2], v[c2]));                                     \
        v[b3] = rotr12(XOR(v[b3], v[c3]));                                     \
        v[a0] = ADD(ADD(v[a0], v[b0]), m[s[i + 1]]);                           \
        v[a1] = ADD(ADD(v[a1], v[b1]), m[s[i + 3]]);                           \
        v[a2] = ADD(ADD(v[a2], v[b2]), m[s[i + 5]]);                           \
        v[a3] = ADD(ADD(v[a3], v[b3]), m[s[i + 7]]);                           \
        v[d0] = rotr8(XOR(v[d0], v[a0]));                                      \
        v[d1] = rotr8(XOR(v[d1], v[a1]));                                      \
        v[d2] = rotr8(XOR(v[d2], v[a2]));                                      \
        v[d3] = rotr8(XOR(v[d3], v[a3]));                                      \
        v[c0] = ADD(v[c0], v[d0]);                                             \
        v[c1] = ADD(v[c1], v[d1]);                                             \
        v[c2] = ADD(v[c2], v[d2]);                                             \
        v[c3] = ADD(v[c3], v[d3]);                                             \
        v[b0] = rotr7(XOR(v[b0], v[c0]));                                      \
        v[b1] = rotr7(XOR(v[b1], v[c1]));                                      \
        v[b2] = rotr7(XOR(v[b2], v[c2]));                                      \
        v[b3] = rotr7(XOR(v[b3], v[c3]));                                      \
    } while (0)

AVX2_INLINE void round8(__m256i v[16], const __m256i m[16], int r) {
    const uint8_t *s = cb3_schedule[r];
    G4(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0);
    G4(0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14, 8);
}

/// Transposes an 8x8 matrix of 32-bit words held as 8 rows.
AVX2_INLINE void transpose8(__m256i r[8]) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    __m256i t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    __m256i t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]);
    __m256i t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]);
    __m256i t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2);
    __m256i u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3);
    __m256i u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6);
    __m256i u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7);
    __m256i u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/// Block `offset` of the eight nodes as 16 word vectors.
AVX2_INLINE void load_message(const uint8_t *base, size_t stride,
                              size_t offset, __m256i m[16]) {
    for (int i = 0; i < 8; i++) {
        const uint8_t *p = base + (size_t)i * stride + offset;
        m[i] = _mm256_loadu_si256((const __m256i *)p);
        m[i + 8] = _mm256_loadu_si256((const __m256i *)(p + 32));
    }
    transpose8(m);
    transpose8(m + 8);
}

AVX2 void cb3_hash8_avx2(const uint8_t *base, size_t stride, size_t blocks,
                         const uint32_t key[8], uint64_t counter,
                         uint64_t counter_step, uint8_t flags,
                         uint8_t flags_first, uint8_t flags_last,
                         uint8_t *out) {
    __m256i h[8];
    for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi32((int)key[i]);
    uint32_t lo[8], hi[8];
    for (int i = 0; i < 8; i++) {
        uint64_t c = counter + (uint64_t)i * counter_step;
        lo[i] = (uint32_t)c;
        hi[i] = (uint32_t)(c >> 32);
    }
    const __m256i counter_lo = _mm256_loadu_si256((const __m256i *)lo);
    const __m256i counter_hi = _mm256_loadu_si256((const __m256i *)hi);
    const __m256i block_len = _mm256_set1_epi32(CB3_BLOCK_LEN);
    for (size_t b = 0; b < blocks; b++) {
        uint32_t f = flags;
        if (b == 0) f |= flags_first;
        if (b + 1 == blocks) f |= flags_last;
        __m256i m[16];
        load_message(base, stride, b * CB3_BLOCK_LEN, m);
        __m256i v[16] = {
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            _mm256_set1_epi32((int)CB3_IV0), _mm256_set1_epi32((int)CB3_IV1),
            _mm256_set1_epi32((int)CB3_IV2), _mm256_set1_epi32((int)CB3_IV3),
            counter_lo, counter_hi, block_len, _mm256_set1_epi32((int)f),
        };
        round8(v, m, 0);
        round8(v, m, 1);
        round8(v, m, 2);
        round8(v, m, 3);
        round8(v, m, 4);
        round8(v, m, 5);
        round8(v, m, 6);
        for (int i = 0; i < 8; i++) h[i] = XOR(v[i], v[i + 8]);
    }
    transpose8(h);
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(out + 32 * i), h[i]);
}

#endif
