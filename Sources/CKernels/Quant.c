#include "QuantKernels.h"
#include <immintrin.h>
#include <string.h>

/* Layout of one group-block (8 output rows × 32 weights), see QuantKernels.h:
 *   Q8_0: 8 f16 d | 8 chunks of 32 B, chunk s lane r = q[r][4s .. 4s+4)          (272 B)
 *   Q4_0: 8 f16 d | 4 chunks of 32 B, chunk c lane r = GGUF qs bytes [4c, 4c+4)  (144 B)
 *   Q4_1: 8 f16 d | 8 f16 m | 4 chunks as Q4_0                                   (160 B)
 * GGUF byte j of a Q4 block holds element j (low nibble) and j+16 (high nibble), so
 * the low nibbles of chunk c are elements 4c..4c+3 and the high ones 16+4c..16+4c+3. */

static long block_bytes(int format) {
    return format == EXITLENS_Q8_0 ? 34 : format == EXITLENS_Q4_0 ? 18 : 20;
}

/* Where the quants start inside a GGUF block, and how many bytes they take. */
static long quant_offset(int format) { return format == EXITLENS_Q4_1 ? 4 : 2; }
static long quant_bytes(int format) { return format == EXITLENS_Q8_0 ? 32 : 16; }
/* Where the quants start inside a group-block. */
static long group_quant_offset(int format) { return format == EXITLENS_Q4_1 ? 32 : 16; }

/* Q4_K group-super-block (8 rows × 256 weights, 1184 B where GGUF spends 8 × 144): 8 f16 d |
 * 8 f16 dmin | sc[8 sub-blocks][8 rows] | m[8][8] | 8 sub-blocks of 128 B, each laid out like a
 * Q4_0 group-block's quants (byte k of a row holds weights k and k+16). The 6-bit scales are
 * unpacked at load: 4 bytes more per row and super-block (+2.8%) for byte loads in the loop. */
enum { Q4K_BYTES = 144, Q4K_GROUP = 1184, Q4K_SC = 32, Q4K_M = 96, Q4K_QS = 160 };

long exitlens_q_group_block_bytes(int format) {
    return format == EXITLENS_Q4_K ? Q4K_GROUP : 8 * block_bytes(format);
}

/* Sub-block j's 6-bit scale and minimum from a Q4_K block's 12 packed bytes. */
static inline void q4k_scale_min(const uint8_t *sc, int j, uint8_t *s, uint8_t *m) {
    if (j < 4) {
        *s = sc[j] & 63;
        *m = sc[j + 4] & 63;
    } else {
        *s = (sc[j + 4] & 0x0F) | ((sc[j - 4] >> 6) << 4);
        *m = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
    }
}

static void repack_q4k_group(const uint8_t *src, long rows, long blocks, uint8_t *dst) {
    memset(dst, 0, (size_t)(blocks * Q4K_GROUP));
    for (long r = 0; r < rows; r++) {
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = src + (r * blocks + b) * Q4K_BYTES;
            uint8_t *g = dst + b * Q4K_GROUP;
            memcpy(g + 2 * r, blk, 2);
            memcpy(g + 16 + 2 * r, blk + 2, 2);
            for (int j = 0; j < 8; j++) {
                q4k_scale_min(blk + 4, j, g + Q4K_SC + 8 * j + r, g + Q4K_M + 8 * j + r);
                /* GGUF: sub-block j is the low (even j) or high (odd j) nibbles of bytes 32(j/2)…+31. */
                const uint8_t *q = blk + 16 + 32 * (j / 2);
                const int shift = 4 * (j % 2);
                uint8_t packed[16];
                for (int k = 0; k < 16; k++)
                    packed[k] = (uint8_t)(((q[k] >> shift) & 0x0F) | (((q[k + 16] >> shift) & 0x0F) << 4));
                for (int c = 0; c < 4; c++) memcpy(g + Q4K_QS + 128 * j + 32 * c + 4 * r, packed + 4 * c, 4);
            }
        }
    }
}

static void unpack_q4k_row(const uint8_t *group, long lane, long blocks, uint8_t *dst) {
    for (long b = 0; b < blocks; b++) {
        const uint8_t *g = group + b * Q4K_GROUP;
        uint8_t *blk = dst + b * Q4K_BYTES, s[8], m[8];
        memcpy(blk, g + 2 * lane, 2);
        memcpy(blk + 2, g + 16 + 2 * lane, 2);
        for (int j = 0; j < 8; j++) {
            s[j] = g[Q4K_SC + 8 * j + lane];
            m[j] = g[Q4K_M + 8 * j + lane];
        }
        uint8_t *sc = blk + 4;
        for (int j = 0; j < 4; j++) {
            sc[j] = (uint8_t)(s[j] | ((s[j + 4] >> 4) << 6));
            sc[j + 4] = (uint8_t)(m[j] | ((m[j + 4] >> 4) << 6));
            sc[j + 8] = (uint8_t)((s[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
        }
        uint8_t *qs = blk + 16;
        memset(qs, 0, 128);
        for (int j = 0; j < 8; j++) {
            uint8_t packed[16];
            for (int c = 0; c < 4; c++) memcpy(packed + 4 * c, g + Q4K_QS + 128 * j + 32 * c + 4 * lane, 4);
            const int shift = 4 * (j % 2);
            for (int k = 0; k < 16; k++) {
                qs[32 * (j / 2) + k] |= (uint8_t)((packed[k] & 0x0F) << shift);
                qs[32 * (j / 2) + k + 16] |= (uint8_t)((packed[k] >> 4) << shift);
            }
        }
    }
}

void exitlens_q_repack_group(int format, const uint8_t *src, long rows, long blocks, uint8_t *dst) {
    if (format == EXITLENS_Q4_K) { repack_q4k_group(src, rows, blocks, dst); return; }
    const long bpb = block_bytes(format), gb = 8 * bpb;
    const long qo = quant_offset(format), qn = quant_bytes(format), gqo = group_quant_offset(format);
    memset(dst, 0, (size_t)(blocks * gb));
    for (long r = 0; r < rows; r++) {
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = src + r * blocks * bpb + b * bpb;
            uint8_t *g = dst + b * gb;
            memcpy(g + 2 * r, blk, 2);
            if (format == EXITLENS_Q4_1) memcpy(g + 16 + 2 * r, blk + 2, 2);
            for (long c = 0; c < qn / 4; c++) memcpy(g + gqo + 32 * c + 4 * r, blk + qo + 4 * c, 4);
        }
    }
}

void exitlens_q_unpack_row(int format, const uint8_t *group, long lane, long blocks, uint8_t *dst) {
    if (format == EXITLENS_Q4_K) { unpack_q4k_row(group, lane, blocks, dst); return; }
    const long bpb = block_bytes(format), gb = 8 * bpb;
    const long qo = quant_offset(format), qn = quant_bytes(format), gqo = group_quant_offset(format);
    for (long b = 0; b < blocks; b++) {
        const uint8_t *g = group + b * gb;
        uint8_t *blk = dst + b * bpb;
        memcpy(blk, g + 2 * lane, 2);
        if (format == EXITLENS_Q4_1) memcpy(blk + 2, g + 16 + 2 * lane, 2);
        for (long c = 0; c < qn / 4; c++) memcpy(blk + qo + 4 * c, g + gqo + 32 * c + 4 * lane, 4);
    }
}

/* ---- activations ---- */

#define ROUND_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline int hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

void exitlens_q_quantize_activations(const float *x, long rows, long n, int8_t *q, float *d, float *s) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const long nb = n / 32;
    for (long r = 0; r < rows; r++) {
        for (long b = 0; b < nb; b++) {
            const float *xb = x + r * n + 32 * b;
            __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
            __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
            __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                                     _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
            const float amax = hmax8(m);
            const float scale = amax / 127.0f;
            const __m256 inv = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
            __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, inv), ROUND_NEAREST));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, inv), ROUND_NEAREST));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, inv), ROUND_NEAREST));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, inv), ROUND_NEAREST));
            const int sum = hsum8i(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
            /* The packs work per 128-bit lane; the permute restores element order. */
            __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            _mm256_storeu_si256((__m256i *)(q + r * n + 32 * b), _mm256_permutevar8x32_epi32(packed, order));
            d[r * nb + b] = scale;
            s[r * nb + b] = scale * (float)sum;
        }
    }
}

/* ---- products ---- */

static inline __m256i broadcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Lane r: Σ_{i<32} q[r][i]·x[i] for the 8 rows of one Q4 group-block (q unsigned 0..15).
 * Eight maddubs results (each |·| ≤ 2·15·127) fit in int16 together: |sum| ≤ 30480. */
static inline __attribute__((always_inline)) __m256 dot_q4(const uint8_t *qs, const int8_t *x) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(w, mask);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
        acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(lo, broadcast4(x + 4 * c)));
        acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(hi, broadcast4(x + 16 + 4 * c)));
    }
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(acc, _mm256_set1_epi16(1)));
}

/* The same for signed Q8 quants: maddubs needs an unsigned operand, so |w| meets x·sign(w).
 * A pair of products can reach 2·128·127, so each step widens to int32 on its own. */
static inline __attribute__((always_inline)) __m256 dot_q8(const uint8_t *qs, const int8_t *x) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 8; c++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(broadcast4(x + 4 * c), w));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
    }
    return _mm256_cvtepi32_ps(acc);
}

static inline void store_group(float *y, const float *bias, long o, long outCount, __m256 v) {
    if (o + 8 <= outCount) {
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + o));
        _mm256_storeu_ps(y + o, v);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (long i = 0; o + i < outCount; i++) y[o + i] = t[i] + (bias ? bias[o + i] : 0.0f);
}

/* One group-block's contribution for one activation row, added into acc (lane r = row r).
 * Q4_1: Σ (d·q + m)·(dx·qx) = d·dx·Σq·qx + m·(dx·Σqx) = d·dx·dot + m·s.
 * Q4_0: w = d·(q − 8), the same with m = −8d. */
static inline __attribute__((always_inline)) __m256
block_product(int format, const uint8_t *g, const int8_t *x, float dx, float sx, __m256 acc) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
    switch (format) {
    case EXITLENS_Q8_0:
        return _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), dot_q8(g + 16, x), acc);
    case EXITLENS_Q4_0: {
        __m256 t = _mm256_fmadd_ps(dot_q4(g + 16, x), _mm256_set1_ps(dx), _mm256_set1_ps(-8.0f * sx));
        return _mm256_fmadd_ps(dw, t, acc);
    }
    default: {
        const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), dot_q4(g + 32, x), acc);
        return _mm256_fmadd_ps(mw, _mm256_set1_ps(sx), acc);
    }
    }
}

/* block_product for `tile` activation rows at once: the weights are widened (nibbles split,
 * |w| taken) once and shared by every row. Same float operations in the same order as
 * block_product, so each row's result is bit-identical to a one-row product. */
static inline __attribute__((always_inline)) void
block_rows(int format, const uint8_t *g, const int8_t *x, long xStride, const float *d, const float *s,
           long sStride, long tile, __m256 *acc) {
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
    const __m256i ones = _mm256_set1_epi16(1);
    if (format == EXITLENS_Q8_0) {
        __m256i w[8], aw[8];
        for (int c = 0; c < 8; c++) {
            w[c] = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * c));
            aw[c] = _mm256_abs_epi8(w[c]);
        }
        for (long r = 0; r < tile; r++) {
            const int8_t *xr = x + r * xStride;
            __m256i sum = _mm256_setzero_si256();
            for (int c = 0; c < 8; c++) {
                __m256i p = _mm256_maddubs_epi16(aw[c], _mm256_sign_epi8(broadcast4(xr + 4 * c), w[c]));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, ones));
            }
            const __m256 f = _mm256_cvtepi32_ps(sum);
            acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(d[r * sStride])), f, acc[r]);
        }
        return;
    }
    const __m256i mask = _mm256_set1_epi8(0x0F);
    const uint8_t *qs = g + group_quant_offset(format);
    __m256i lo[4], hi[4];
    for (int c = 0; c < 4; c++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        lo[c] = _mm256_and_si256(w, mask);
        hi[c] = _mm256_and_si256(_mm256_srli_epi16(w, 4), mask);
    }
    const __m256 mw = format == EXITLENS_Q4_1 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16))) : dw;
    for (long r = 0; r < tile; r++) {
        const int8_t *xr = x + r * xStride;
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(lo[c], broadcast4(xr + 4 * c)));
            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(hi[c], broadcast4(xr + 16 + 4 * c)));
        }
        const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(sum, ones));
        const float dx = d[r * sStride], sx = s[r * sStride];
        if (format == EXITLENS_Q4_0) {
            __m256 t = _mm256_fmadd_ps(f, _mm256_set1_ps(dx), _mm256_set1_ps(-8.0f * sx));
            acc[r] = _mm256_fmadd_ps(dw, t, acc[r]);
        } else {
            __m256 a = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(dx)), f, acc[r]);
            acc[r] = _mm256_fmadd_ps(mw, _mm256_set1_ps(sx), a);
        }
    }
}

/* Rows of activations handled per pass over a group; the group's weights stay in L1/L2
 * between passes, so memory sees each block once for any number of rows. */
enum { ROW_TILE = 16 };

/* Software prefetch this far ahead of the one-row stream: the hardware prefetcher alone left
 * loads waiting (cold ≈ 1/(1/warm + 1/read-bandwidth)); 1–8 kB measured alike under load. */
#ifndef PREFETCH_DISTANCE
#define PREFETCH_DISTANCE 2048
#endif

static inline __attribute__((always_inline)) void
gemm_format(int format, const uint8_t *w, long blocks, const int8_t *q, const float *d, const float *s,
            long rows, float *y, const float *bias, long outCount, long groupStart, long groupEnd) {
    const long gb = 8 * block_bytes(format), n = 32 * blocks;
    for (long grp = groupStart; grp < groupEnd; grp++) {
        const uint8_t *p = w + grp * blocks * gb;
        if (rows == 1) {
            /* Two accumulators halve the loop-carried FMA chain. */
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            long b = 0;
            for (; b + 2 <= blocks; b += 2) {
                const char *ahead = (const char *)(p + b * gb) + PREFETCH_DISTANCE;
                for (long line = 0; line < 2 * gb; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
                a0 = block_product(format, p + b * gb, q + 32 * b, d[b], s[b], a0);
                a1 = block_product(format, p + (b + 1) * gb, q + 32 * (b + 1), d[b + 1], s[b + 1], a1);
            }
            if (b < blocks) a0 = block_product(format, p + b * gb, q + 32 * b, d[b], s[b], a0);
            store_group(y, bias, grp * 8, outCount, _mm256_add_ps(a0, a1));
            continue;
        }
        for (long r0 = 0; r0 < rows; r0 += ROW_TILE) {
            const long tile = rows - r0 < ROW_TILE ? rows - r0 : ROW_TILE;
            /* Even and odd blocks accumulate apart exactly as in the one-row path, so each
             * row of a gemm is bit-identical to a gemv of that row (speculative decoding
             * verifies with gemm what was drafted with gemv). */
            __m256 even[ROW_TILE], odd[ROW_TILE];
            for (long r = 0; r < tile; r++) even[r] = odd[r] = _mm256_setzero_ps();
            for (long b = 0; b < blocks; b++) {
                block_rows(format, p + b * gb, q + r0 * n + 32 * b, n, d + r0 * blocks + b, s + r0 * blocks + b,
                           blocks, tile, b % 2 == 0 ? even : odd);
            }
            for (long r = 0; r < tile; r++)
                store_group(y + (r0 + r) * outCount, bias, grp * 8, outCount, _mm256_add_ps(even[r], odd[r]));
        }
    }
}

/* Q4_K, any number of activation rows (one-row products take the same path, so gemm rows are
 * bit-identical to gemvs). Per 32-weight sub-block j: Σ (d·sc·q − dmin·m)·(dx·qx)
 * = d·(sc·dx·dot) − dmin·(m·s), the bracketed sums gathered over the super-block first. */
static void gemm_q4k(const uint8_t *w, long blocks, const int8_t *q, const float *d, const float *s, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd) {
    const long xb = 8 * blocks, n = 256 * blocks;
    const __m256i mask = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (long grp = groupStart; grp < groupEnd; grp++) {
        const uint8_t *p = w + grp * blocks * Q4K_GROUP;
        for (long r0 = 0; r0 < rows; r0 += ROW_TILE) {
            const long tile = rows - r0 < ROW_TILE ? rows - r0 : ROW_TILE;
            __m256 acc[ROW_TILE], mins[ROW_TILE];
            for (long r = 0; r < tile; r++) acc[r] = mins[r] = _mm256_setzero_ps();
            for (long b = 0; b < blocks; b++) {
                const uint8_t *g = p + b * Q4K_GROUP;
                if (b + 1 < blocks)
                    for (long line = 0; line < Q4K_GROUP; line += 64) _mm_prefetch((const char *)g + Q4K_GROUP + line, _MM_HINT_T0);
                __m256 sub[ROW_TILE], subMin[ROW_TILE];
                for (long r = 0; r < tile; r++) sub[r] = subMin[r] = _mm256_setzero_ps();
                for (int j = 0; j < 8; j++) {
                    const uint8_t *qs = g + Q4K_QS + 128 * j;
                    __m256i lo[4], hi[4];
                    for (int c = 0; c < 4; c++) {
                        __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                        lo[c] = _mm256_and_si256(v, mask);
                        hi[c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
                    }
                    const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(g + Q4K_SC + 8 * j))));
                    const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(g + Q4K_M + 8 * j))));
                    for (long r = 0; r < tile; r++) {
                        const long row = r0 + r, xBlock = 8 * b + j;
                        const int8_t *xr = q + row * n + 32 * xBlock;
                        __m256i sum = _mm256_setzero_si256();
                        for (int c = 0; c < 4; c++) {
                            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(lo[c], broadcast4(xr + 4 * c)));
                            sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(hi[c], broadcast4(xr + 16 + 4 * c)));
                        }
                        const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(sum, ones));
                        sub[r] = _mm256_fmadd_ps(f, _mm256_mul_ps(sc, _mm256_set1_ps(d[row * xb + xBlock])), sub[r]);
                        subMin[r] = _mm256_fmadd_ps(mn, _mm256_set1_ps(s[row * xb + xBlock]), subMin[r]);
                    }
                }
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
                const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
                for (long r = 0; r < tile; r++) {
                    acc[r] = _mm256_fmadd_ps(dw, sub[r], acc[r]);
                    mins[r] = _mm256_fmadd_ps(dmin, subMin[r], mins[r]);
                }
            }
            for (long r = 0; r < tile; r++)
                store_group(y + (r0 + r) * outCount, bias, grp * 8, outCount, _mm256_sub_ps(acc[r], mins[r]));
        }
    }
}

void exitlens_q_gemm(int format, const uint8_t *w, long blocks,
                     const int8_t *q, const float *d, const float *s, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd) {
    /* One instantiation per format keeps the switch out of the inner loop. */
    switch (format) {
    case EXITLENS_Q4_K: gemm_q4k(w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    case EXITLENS_Q8_0: gemm_format(EXITLENS_Q8_0, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    case EXITLENS_Q4_0: gemm_format(EXITLENS_Q4_0, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    default: gemm_format(EXITLENS_Q4_1, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    }
}

/* ---- K-quants: widen one super-block at a time, multiply in float ---- */

static inline float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and minimums, 128 bytes of nibbles
 * (bytes 32c..32c+31 hold sub-block 2c in the low nibbles and 2c+1 in the high ones);
 * w = d·sc·q − dmin·m per 32-weight sub-block. */
static void widen_q4_k(const uint8_t *b, float *out) {
    const float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t *sc = b + 4, *qs = b + 16;
    for (int j = 0; j < 8; j++) {
        int s, m;
        if (j < 4) {
            s = sc[j] & 63;
            m = sc[j + 4] & 63;
        } else {
            s = (sc[j + 4] & 0x0F) | ((sc[j - 4] >> 6) << 4);
            m = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
        }
        const float scale = d * (float)s, offset = dmin * (float)m;
        const uint8_t *q = qs + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int i = 0; i < 32; i++) out[32 * j + i] = scale * (float)((q[i] >> shift) & 0x0F) - offset;
    }
}

/* Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, f16 d;
 * w = d·scale[i/16]·(q − 32). In each 128-weight half h, weight p takes its low bits from
 * ql[64h + p mod 64] (low nibble for p < 64, high for p ≥ 64) and its high bits from
 * qh[32h + p mod 32] at bit 2·(p / 32). */
static void widen_q6_k(const uint8_t *b, float *out) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    const float d = half_at(b + 208);
    for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 128; p++) {
            const int low = (ql[64 * h + p % 64] >> (p < 64 ? 0 : 4)) & 0x0F;
            const int high = (qh[32 * h + p % 32] >> (2 * (p / 32))) & 0x03;
            const int n = 128 * h + p;
            out[n] = d * (float)scales[n / 16] * (float)((low | (high << 4)) - 32);
        }
    }
}

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void exitlens_k_gemm(int format, const uint8_t *w, long blocks, const float *x, long rows,
                     float *y, const float *bias, long outCount, long rowStart, long rowEnd) {
    const long bpb = format == EXITLENS_Q4_K ? 144 : 210, n = 256 * blocks;
    float widened[256] __attribute__((aligned(32)));
    for (long o = rowStart; o < rowEnd; o++) {
        const uint8_t *row = w + o * blocks * bpb;
        for (long r0 = 0; r0 < rows; r0 += ROW_TILE) {
            const long tile = rows - r0 < ROW_TILE ? rows - r0 : ROW_TILE;
            /* Four partial sums per row keep four FMA chains in flight. */
            __m256 acc[ROW_TILE][4];
            for (long r = 0; r < tile; r++)
                for (int k = 0; k < 4; k++) acc[r][k] = _mm256_setzero_ps();
            for (long b = 0; b < blocks; b++) {
                if (format == EXITLENS_Q4_K) widen_q4_k(row + b * bpb, widened);
                else widen_q6_k(row + b * bpb, widened);
                for (long r = 0; r < tile; r++) {
                    const float *xr = x + (r0 + r) * n + 256 * b;
                    for (int i = 0; i < 256; i += 32)
                        for (int k = 0; k < 4; k++)
                            acc[r][k] = _mm256_fmadd_ps(_mm256_load_ps(widened + i + 8 * k),
                                                        _mm256_loadu_ps(xr + i + 8 * k), acc[r][k]);
                }
            }
            for (long r = 0; r < tile; r++) {
                const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]), _mm256_add_ps(acc[r][2], acc[r][3]));
                y[(r0 + r) * outCount + o] = hsum8(sum) + (bias ? bias[o] : 0.0f);
            }
        }
    }
}
