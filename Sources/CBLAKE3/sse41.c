// The SSE4.1 kernel: four independent nodes at once, lane i of state
// vector k holding word k of node i. Compiled for SSE4.1 by the function
// attribute alone; only called after the run-time check in dispatch.c.

#include "cb3_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SSE41 __attribute__((target("sse4.1")))
#define SSE41_INLINE __attribute__((target("sse4.1"), always_inline)) static inline

SSE41_INLINE __m128i rotr16(__m128i x) {
    const __m128i pattern =
        _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
    return _mm_shuffle_epi8(x, pattern);
}

SSE41_INLINE __m128i rotr8(__m128i x) {
    const __m128i pattern =
        _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1);
    return _mm_shuffle_epi8(x, pattern);
}

SSE41_INLINE __m128i rotr12(__m128i x) {
    return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20));
}

SSE41_INLINE __m128i rotr7(__m128i x) {
    return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25));
}

#define ADD _mm_add_epi32
#define XOR _mm_xor_si128

/// One G function on all four lanes.
#define G(a, b, c, d, x, y)                                                    \
    do {                                                                       \
        v[a] = ADD(ADD(v[a], v[b]), (x));                                      \
        v[d] = rotr16(XOR(v[d], v[a]));                                        \
        v[c] = ADD(v[c], v[d]);                                                \
        v[b] = rotr12(XOR(v[b], v[c]));                                        \
        v[a] = ADD(ADD(v[a], v[b]), (y));                                      \
        v[d] = rotr8(XOR(v[d], v[a]));                                         \
        v[c] = ADD(v[c], v[d]);                                                \
        v[b] = rotr7(XOR(v[b], v[c]));                                         \
    } while (0)

SSE41_INLINE void round4(__m128i v[16], const __m128i m[16], int r) {
    const uint8_t *s = cb3_schedule[r];
    G(0, 4, 8, 12, m[s[0]], m[s[1]]);
    G(1, 5, 9, 13, m[s[2]], m[s[3]]);
    G(2, 6, 10, 14, m[s[4]], m[s[5]]);
    G(3, 7, 11, 15, m[s[6]], m[s[7]]);
    G(0, 5, 10, 15, m[s[8]], m[s[9]]);
    G(1, 6, 11, 12, m[s[10]], m[s[11]]);
    G(2, 7, 8, 13, m[s[12]], m[s[13]]);
    G(3, 4, 9, 14, m[s[14]], m[s[15]]);
}

/// Transposes a 4x4 matrix of 32-bit words held as 4 rows.
SSE41_INLINE void transpose4(__m128i r[4]) {
    __m128i t0 = _mm_unpacklo_epi32(r[0], r[1]);
    __m128i t1 = _mm_unpackhi_epi32(r[0], r[1]);
    __m128i t2 = _mm_unpacklo_epi32(r[2], r[3]);
    __m128i t3 = _mm_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm_unpacklo_epi64(t0, t2);
    r[1] = _mm_unpackhi_epi64(t0, t2);
    r[2] = _mm_unpacklo_epi64(t1, t3);
    r[3] = _mm_unpackhi_epi64(t1, t3);
}

/// Block `offset` of the four nodes as 16 word vectors.
SSE41_INLINE void load_message(const uint8_t *base, size_t stride,
                               size_t offset, __m128i m[16]) {
    for (int q = 0; q < 4; q++) {
        for (int i = 0; i < 4; i++) {
            const uint8_t *p = base + (size_t)i * stride + offset + 16 * q;
            m[4 * q + i] = _mm_loadu_si128((const __m128i *)p);
        }
        transpose4(m + 4 * q);
    }
}

SSE41 void cb3_hash4_sse41(const uint8_t *base, size_t stride, size_t blocks,
                           const uint32_t key[8], uint64_t counter,
                           uint64_t counter_step, uint8_t flags,
                           uint8_t flags_first, uint8_t flags_last,
                           uint8_t *out) {
    __m128i h[8];
    for (int i = 0; i < 8; i++) h[i] = _mm_set1_epi32((int)key[i]);
    uint32_t lo[4], hi[4];
    for (int i = 0; i < 4; i++) {
        uint64_t c = counter + (uint64_t)i * counter_step;
        lo[i] = (uint32_t)c;
        hi[i] = (uint32_t)(c >> 32);
    }
    const __m128i counter_lo = _mm_loadu_si128((const __m128i *)lo);
    const __m128i counter_hi = _mm_loadu_si128((const __m128i *)hi);
    const __m128i block_len = _mm_set1_epi32(CB3_BLOCK_LEN);
    for (size_t b = 0; b < blocks; b++) {
        uint32_t f = flags;
        if (b == 0) f |= flags_first;
        if (b + 1 == blocks) f |= flags_last;
        __m128i m[16];
        load_message(base, stride, b * CB3_BLOCK_LEN, m);
        __m128i v[16] = {
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            _mm_set1_epi32((int)CB3_IV0), _mm_set1_epi32((int)CB3_IV1),
            _mm_set1_epi32((int)CB3_IV2), _mm_set1_epi32((int)CB3_IV3),
            counter_lo, counter_hi, block_len, _mm_set1_epi32((int)f),
        };
        round4(v, m, 0);
        round4(v, m, 1);
        round4(v, m, 2);
        round4(v, m, 3);
        round4(v, m, 4);
        round4(v, m, 5);
        round4(v, m, 6);
        for (int i = 0; i < 8; i++) h[i] = XOR(v[i], v[i + 8]);
    }
    transpose4(h);
    transpose4(h + 4);
    for (int i = 0; i < 4; i++) {
        _mm_storeu_si128((__m128i *)(out + 32 * i), h[i]);
        _mm_storeu_si128((__m128i *)(out + 32 * i + 16), h[i + 4]);
    }
}

#endif
