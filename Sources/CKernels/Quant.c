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

/* Q6_K group-super-block (8 rows × 256 weights, 1680 B = 8 × 210, the GGUF size): 8 f16 d |
 * scales[16 sub-blocks][8 rows] int8 | for each 32-weight block j, 192 B: the low nibbles as a
 * Q4_0 group-block's quants (128 B), then two 32-byte registers of high 2-bit pairs, lane r byte t
 * holding weight 4c+t's bits at 2c (c = 0…3) for weights 0…15 (first) and 16…31 (second). */
enum { Q6K_BYTES = 210, Q6K_GROUP = 1680, Q6K_SC = 16, Q6K_Q = 144, Q6K_BLOCK = 192 };

long exitlens_q_group_block_bytes(int format) {
    return format == EXITLENS_Q4_K ? Q4K_GROUP : format == EXITLENS_Q6_K ? Q6K_GROUP : 8 * block_bytes(format);
}

/* The 256 6-bit quants (0…63, weight = d·scale·(q − 32)) of a GGUF Q6_K block: in 128-weight
 * half h, weight p has low bits in ql[64h + p mod 64] (high nibble when p ≥ 64) and high bits
 * at 2·(p / 32) in qh[32h + p mod 32]. */
static void q6k_quants(const uint8_t *blk, uint8_t *q) {
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 128; p++) {
            const int low = (blk[64 * h + p % 64] >> (p < 64 ? 0 : 4)) & 0x0F;
            const int high = (blk[128 + 32 * h + p % 32] >> (2 * (p / 32))) & 0x03;
            q[128 * h + p] = (uint8_t)(low | (high << 4));
        }
}

static void repack_q6k_group(const uint8_t *src, long rows, long blocks, uint8_t *dst) {
    memset(dst, 0, (size_t)(blocks * Q6K_GROUP));
    for (long r = 0; r < rows; r++) {
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = src + (r * blocks + b) * Q6K_BYTES;
            uint8_t *g = dst + b * Q6K_GROUP, q[256];
            memcpy(g + 2 * r, blk + 208, 2);
            for (int sub = 0; sub < 16; sub++) g[Q6K_SC + 8 * sub + r] = blk[192 + sub];
            q6k_quants(blk, q);
            for (int j = 0; j < 8; j++) {
                const uint8_t *w = q + 32 * j;
                uint8_t *out = g + Q6K_Q + Q6K_BLOCK * j;
                for (int c = 0; c < 4; c++)
                    for (int t = 0; t < 4; t++) {
                        const int k = 4 * c + t;
                        out[32 * c + 4 * r + t] = (uint8_t)((w[k] & 0x0F) | ((w[k + 16] & 0x0F) << 4));
                        out[128 + 4 * r + t] |= (uint8_t)((w[k] >> 4) << (2 * c));
                        out[160 + 4 * r + t] |= (uint8_t)((w[k + 16] >> 4) << (2 * c));
                    }
            }
        }
    }
}

static void unpack_q6k_row(const uint8_t *group, long lane, long blocks, uint8_t *dst) {
    for (long b = 0; b < blocks; b++) {
        const uint8_t *g = group + b * Q6K_GROUP;
        uint8_t *blk = dst + b * Q6K_BYTES, q[256];
        for (int j = 0; j < 8; j++) {
            const uint8_t *in = g + Q6K_Q + Q6K_BLOCK * j;
            for (int c = 0; c < 4; c++)
                for (int t = 0; t < 4; t++) {
                    const int k = 4 * c + t;
                    const uint8_t low = in[32 * c + 4 * lane + t];
                    q[32 * j + k] = (uint8_t)((low & 0x0F) | (((in[128 + 4 * lane + t] >> (2 * c)) & 3) << 4));
                    q[32 * j + k + 16] = (uint8_t)((low >> 4) | (((in[160 + 4 * lane + t] >> (2 * c)) & 3) << 4));
                }
        }
        memset(blk, 0, 192);
        for (int h = 0; h < 2; h++)
            for (int p = 0; p < 128; p++) {
                const uint8_t v = q[128 * h + p];
                blk[64 * h + p % 64] |= (uint8_t)((v & 0x0F) << (p < 64 ? 0 : 4));
                blk[128 + 32 * h + p % 32] |= (uint8_t)((v >> 4) << (2 * (p / 32)));
            }
        for (int sub = 0; sub < 16; sub++) blk[192 + sub] = g[Q6K_SC + 8 * sub + lane];
        memcpy(blk + 208, g + 2 * lane, 2);
    }
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
    if (format == EXITLENS_Q6_K) { repack_q6k_group(src, rows, blocks, dst); return; }
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
    if (format == EXITLENS_Q6_K) { unpack_q6k_row(group, lane, blocks, dst); return; }
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

void exitlens_q_quantize_activations(const float *x, long rows, long n, int8_t *q, float *d, float *s, int16_t *halves) {
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
            const int first = hsum8i(_mm256_add_epi32(i0, i1)), second = hsum8i(_mm256_add_epi32(i2, i3));
            const int sum = first + second;
            halves[r * 2 * nb + 2 * b] = (int16_t)first;
            halves[r * 2 * nb + 2 * b + 1] = (int16_t)second;
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
                /* The first pass over a group streams it from memory: prefetch as the one-row
                 * path does (cold, 576→1536 Q4_1, one thread: 2 rows 41–45 µs against 53–72
                 * without, 3 rows 45–55 against 58–83). */
                if (r0 == 0) {
                    const char *ahead = (const char *)(p + b * gb) + PREFETCH_DISTANCE;
                    for (long line = 0; line < gb; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
                }
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
static inline __attribute__((always_inline)) void gemm_q4k(const uint8_t *w, long blocks, const int8_t *q, const float *d, const float *s, long rows,
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

/* Shifts the 2-bit pair at bit 2c of every byte to bits 4–5 (16-bit shifts: what crosses a
 * byte boundary lands outside the mask). */
static inline __m256i high_bits(__m256i h, int c) {
    const __m256i mask = _mm256_set1_epi8(0x30);
    switch (c) {
    case 0: return _mm256_and_si256(_mm256_slli_epi16(h, 4), mask);
    case 1: return _mm256_and_si256(_mm256_slli_epi16(h, 2), mask);
    case 2: return _mm256_and_si256(h, mask);
    default: return _mm256_and_si256(_mm256_srli_epi16(h, 2), mask);
    }
}

/* Q6_K, any number of activation rows (gemv takes the same path). Per 16-weight sub-block:
 * Σ d·sc·(q − 32)·dx·qx = d·dx·(sc·Σ q·qx − 32·sc·Σ qx), all but the scales exact in int32
 * (a pair of maddubs ≤ 2·2·63·127 = 32004 still fits int16). */
static inline __attribute__((always_inline)) void gemm_q6k(const uint8_t *w, long blocks, const int8_t *q, const float *d, const int16_t *halves, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd) {
    const long xb = 8 * blocks, n = 256 * blocks;
    const __m256i mask = _mm256_set1_epi8(0x0F);
    for (long grp = groupStart; grp < groupEnd; grp++) {
        const uint8_t *p = w + grp * blocks * Q6K_GROUP;
        for (long r0 = 0; r0 < rows; r0 += ROW_TILE) {
            const long tile = rows - r0 < ROW_TILE ? rows - r0 : ROW_TILE;
            __m256 acc[ROW_TILE];
            for (long r = 0; r < tile; r++) acc[r] = _mm256_setzero_ps();
            for (long b = 0; b < blocks; b++) {
                const uint8_t *g = p + b * Q6K_GROUP;
                if (b + 1 < blocks)
                    for (long line = 0; line < Q6K_GROUP; line += 64) _mm_prefetch((const char *)g + Q6K_GROUP + line, _MM_HINT_T0);
                __m256 sub[ROW_TILE];
                for (long r = 0; r < tile; r++) sub[r] = _mm256_setzero_ps();
                for (int j = 0; j < 8; j++) {
                    const uint8_t *blk = g + Q6K_Q + Q6K_BLOCK * j;
                    const __m256i ha = _mm256_loadu_si256((const __m256i *)(blk + 128));
                    const __m256i hb = _mm256_loadu_si256((const __m256i *)(blk + 160));
                    __m256i lo[4], hi[4];
                    for (int c = 0; c < 4; c++) {
                        const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 32 * c));
                        lo[c] = _mm256_or_si256(_mm256_and_si256(v, mask), high_bits(ha, c));
                        hi[c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask), high_bits(hb, c));
                    }
                    /* Scales of sub-blocks 2j (A) and 2j+1 (B) for the 8 rows, as int16 pairs per lane:
                     * (A, A), (B, B) for the products and (A, B) for the −32 offsets. */
                    const __m256i v16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(g + Q6K_SC + 16 * j)));
                    const __m256i t = _mm256_permute4x64_epi64(v16, _MM_SHUFFLE(3, 1, 2, 0));
                    const __m256i scA = _mm256_unpacklo_epi16(t, t), scB = _mm256_unpackhi_epi16(t, t);
                    const __m256i scAB = _mm256_unpacklo_epi16(t, _mm256_bsrli_epi128(t, 8));
                    for (long r = 0; r < tile; r++) {
                        const long row = r0 + r, xBlock = 8 * b + j;
                        const int8_t *xr = q + row * n + 32 * xBlock;
                        const __m256i a01 = _mm256_add_epi16(_mm256_maddubs_epi16(lo[0], broadcast4(xr)), _mm256_maddubs_epi16(lo[1], broadcast4(xr + 4)));
                        const __m256i a23 = _mm256_add_epi16(_mm256_maddubs_epi16(lo[2], broadcast4(xr + 8)), _mm256_maddubs_epi16(lo[3], broadcast4(xr + 12)));
                        const __m256i b01 = _mm256_add_epi16(_mm256_maddubs_epi16(hi[0], broadcast4(xr + 16)), _mm256_maddubs_epi16(hi[1], broadcast4(xr + 20)));
                        const __m256i b23 = _mm256_add_epi16(_mm256_maddubs_epi16(hi[2], broadcast4(xr + 24)), _mm256_maddubs_epi16(hi[3], broadcast4(xr + 28)));
                        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(a01, scA), _mm256_madd_epi16(a23, scA)),
                                                       _mm256_add_epi32(_mm256_madd_epi16(b01, scB), _mm256_madd_epi16(b23, scB)));
                        const __m256i offset = _mm256_madd_epi16(scAB, broadcast4((const int8_t *)(halves + row * 2 * xb + 2 * xBlock)));
                        sum = _mm256_sub_epi32(sum, _mm256_slli_epi32(offset, 5));
                        sub[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(d[row * xb + xBlock]), sub[r]);
                    }
                }
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
                for (long r = 0; r < tile; r++) acc[r] = _mm256_fmadd_ps(dw, sub[r], acc[r]);
            }
            for (long r = 0; r < tile; r++) store_group(y + (r0 + r) * outCount, bias, grp * 8, outCount, acc[r]);
        }
    }
}

void exitlens_q_gemm(int format, const uint8_t *w, long blocks,
                     const int8_t *q, const float *d, const float *s, const int16_t *halves, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd) {
    /* One instantiation per format keeps the switch out of the inner loop. */
    switch (format) {
    /* The K-quant kernels loop over a tile of rows; a literal 1 lets the compiler keep a
     * gemv's accumulators in registers (same operations, so still bit-identical). */
    case EXITLENS_Q4_K:
        if (rows == 1) gemm_q4k(w, blocks, q, d, s, 1, y, bias, outCount, groupStart, groupEnd);
        else gemm_q4k(w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd);
        break;
    case EXITLENS_Q6_K:
        if (rows == 1) gemm_q6k(w, blocks, q, d, halves, 1, y, bias, outCount, groupStart, groupEnd);
        else gemm_q6k(w, blocks, q, d, halves, rows, y, bias, outCount, groupStart, groupEnd);
        break;
    case EXITLENS_Q8_0: gemm_format(EXITLENS_Q8_0, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    case EXITLENS_Q4_0: gemm_format(EXITLENS_Q4_0, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    default: gemm_format(EXITLENS_Q4_1, w, blocks, q, d, s, rows, y, bias, outCount, groupStart, groupEnd); break;
    }
}
