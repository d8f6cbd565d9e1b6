#ifndef EXITLENS_QUANT_KERNELS_H
#define EXITLENS_QUANT_KERNELS_H

#include <stdint.h>

/// Products with GGML block-quantized weights that stay quantized in memory
/// (see Kernels/QuantizedMatrix.swift for the Swift side and the numeric contract).
///
/// Weights are repacked at load time from GGUF's row-major blocks into groups of
/// 8 output rows ("8-row interleave"): for each group and each 32-weight block
/// column, the 8 rows' f16 scales come first (then, for Q4_1, their 8 f16 minimums),
/// then the quants arranged so that one 256-bit load holds 4 quants of each of the
/// 8 rows, one row per 32-bit lane. An integer dot product then leaves row r's
/// partial sum in lane r: no horizontal sums, one vcvtph2ps for 8 scales.
/// Each group-block occupies exactly 8 × the GGUF block size, so nothing grows.

enum {
    EXITLENS_Q8_0 = 0,
    EXITLENS_Q4_0 = 1,
    EXITLENS_Q4_1 = 2,
    EXITLENS_Q4_K = 3,
    EXITLENS_Q6_K = 4,
};

/// Bytes of one group-block (8 rows × one 32-weight block) for `format`.
long exitlens_q_group_block_bytes(int format);

/// Repacks `rows` (≤ 8) GGUF rows of `blocks` blocks each, starting at `src`, into one
/// group of `blocks` group-blocks at `dst`. Rows past `rows` are zero (they compute 0).
void exitlens_q_repack_group(int format, const uint8_t *src, long rows, long blocks, uint8_t *dst);

/// Reconstructs the GGUF bytes of row `lane` (< 8) of the group at `group`.
void exitlens_q_unpack_row(int format, const uint8_t *group, long lane, long blocks, uint8_t *dst);

/// Quantizes `rows` activation rows of `n` floats (n a multiple of 32) into int8 blocks:
/// per block b of row r, scale d = max|x|/127, q = round(x/d), and s = d·Σq.
/// `q` is rows × n, `d` and `s` are rows × n/32.
void exitlens_q_quantize_activations(const float *x, long rows, long n, int8_t *q, float *d, float *s);

/// Q4_K uses the same scheme with 256-weight super-blocks (`blocks` counts super-blocks; the
/// activations are still quantized per 32), Q6_K the float path below.
///
/// Y[r, o] = bias[o] + Σ_i W[o, i]·x[r, i] for output groups [groupStart, groupEnd) and
/// `rows` quantized activation rows; Y is rows × outCount (row stride outCount). Outputs
/// past outCount in the last group are not written. `bias` may be NULL.
void exitlens_q_gemm(int format, const uint8_t *w, long blocks,
                     const int8_t *q, const float *d, const float *s, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd);

/// K-quants (256-weight super-blocks: Q4_K 144 bytes, Q6_K 210 bytes) keep GGUF's row-major layout.
/// Each super-block is widened to 256 floats on the stack (never the whole matrix) and multiplied
/// with the float activations by FMA, once for all `rows` input rows. Computes outputs
/// [rowStart, rowEnd) of Y (rows × outCount); x is rows × 256·blocks; `bias` may be NULL.
void exitlens_k_gemm(int format, const uint8_t *w, long blocks, const float *x, long rows,
                     float *y, const float *bias, long outCount, long rowStart, long rowEnd);

#endif
