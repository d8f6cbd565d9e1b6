#ifndef EXITLENS_CKERNELS_H
#define EXITLENS_CKERNELS_H

#include <stdint.h>
#include "QuantKernels.h"

/// Panel-packed products for half-precision weights (see Kernels/PackedMatrix.swift for the
/// layout: panel t holds W[:, 16t..16t+16) as in×16 contiguous values). Written in C because
/// Swift does not vectorise Float16→Float widening; these use F16C's vcvtph2ps.
/// Outputs are written for panels [panelStart, panelEnd); `bias` may be NULL; columns past
/// `outCount` in the last panel are not written.
void exitlens_gemv_f16(const uint16_t *w, const float *x, float *y, const float *bias,
                       long inCount, long outCount, long panelStart, long panelEnd);

void exitlens_gemm_f16(const uint16_t *w, const float *x, long rows, float *y, const float *bias,
                       long inCount, long outCount, long panelStart, long panelEnd);

#endif
