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
/// Each group-block occupies exactly 8 × the GGUF block size, so nothing grows, except
/// Q4_K (+2.8%: its 6-bit scales are unpacked to bytes). The K-quants' 256-weight
/// super-blocks are regrouped the same way (layouts in Quant.c); activations are still
/// quantized per 32.

enum {
    EXITLENS_Q8_0 = 0,
    EXITLENS_Q4_0 = 1,
    EXITLENS_Q4_1 = 2,
    EXITLENS_Q4_K = 3,
    EXITLENS_Q6_K = 4,
};

/// Bytes of one group-block (8 rows × one block: 32 weights, 256 for K-quants) for `format`.
long exitlens_q_group_block_bytes(int format);

/// Repacks `rows` (≤ 8) GGUF rows of `blocks` blocks each, starting at `src`, into one
/// group of `blocks` group-blocks at `dst`. Rows past `rows` are zero (they compute 0).
void exitlens_q_repack_group(int format, const uint8_t *src, long rows, long blocks, uint8_t *dst);

/// Reconstructs the GGUF bytes of row `lane` (< 8) of the group at `group`.
void exitlens_q_unpack_row(int format, const uint8_t *group, long lane, long blocks, uint8_t *dst);

/// Quantizes `rows` activation rows of `n` floats (n a multiple of 32) into int8 blocks:
/// per block b of row r, scale d = max|x|/127, q = round(x/d), s = d·Σq, and the integer sums
/// of q over each 16-element half (for Q6_K's offset). `q` is rows × n, `d` and `s` are
/// rows × n/32, `halves` rows × n/16.
void exitlens_q_quantize_activations(const float *x, long rows, long n, int8_t *q, float *d, float *s, int16_t *halves);

/// Y[r, o] = bias[o] + Σ_i W[o, i]·x[r, i] for output groups [groupStart, groupEnd) and
/// `rows` quantized activation rows (`blocks` per weight row); Y is rows × outCount (row stride outCount). Outputs
/// past outCount in the last group are not written. `bias` may be NULL.
void exitlens_q_gemm(int format, const uint8_t *w, long blocks,
                     const int8_t *q, const float *d, const float *s, const int16_t *halves, long rows,
                     float *y, const float *bias, long outCount, long groupStart, long groupEnd);

#endif
