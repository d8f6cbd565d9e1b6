#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

/* Two 8-lane halves of one 16-wide panel row, widened from half precision. */
static inline void load16(const uint16_t *p, __m256 *lo, __m256 *hi) {
    *lo = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    *hi = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8)));
}

static inline void initial(const float *bias, long o, long outCount, __m256 *lo, __m256 *hi) {
    float tmp[16] = {0};
    if (bias) {
        long n = outCount - o < 16 ? outCount - o : 16;
        memcpy(tmp, bias + o, (size_t)n * sizeof(float));
    }
    *lo = _mm256_loadu_ps(tmp);
    *hi = _mm256_loadu_ps(tmp + 8);
}

static inline void store(float *y, long o, long outCount, __m256 lo, __m256 hi) {
    if (o + 16 <= outCount) {
        _mm256_storeu_ps(y + o, lo);
        _mm256_storeu_ps(y + o + 8, hi);
        return;
    }
    float tmp[16];
    _mm256_storeu_ps(tmp, lo);
    _mm256_storeu_ps(tmp + 8, hi);
    memcpy(y + o, tmp, (size_t)(outCount - o) * sizeof(float));
}

void exitlens_gemv_f16(const uint16_t *w, const float *x, float *y, const float *bias,
                       long inCount, long outCount, long panelStart, long panelEnd) {
    long t = panelStart;
    const long stride = inCount * 16;
    /* Two panels at once: four independent accumulator pairs hide the FMA latency. */
    for (; t + 2 <= panelEnd; t += 2) {
        const uint16_t *p0 = w + t * stride, *p1 = p0 + stride;
        __m256 a0, b0, a1, b1;
        initial(bias, t * 16, outCount, &a0, &b0);
        initial(bias, (t + 1) * 16, outCount, &a1, &b1);
        for (long i = 0; i < inCount; i++) {
            __m256 xi = _mm256_broadcast_ss(x + i), lo, hi;
            load16(p0 + i * 16, &lo, &hi);
            a0 = _mm256_fmadd_ps(xi, lo, a0);
            b0 = _mm256_fmadd_ps(xi, hi, b0);
            load16(p1 + i * 16, &lo, &hi);
            a1 = _mm256_fmadd_ps(xi, lo, a1);
            b1 = _mm256_fmadd_ps(xi, hi, b1);
        }
        store(y, t * 16, outCount, a0, b0);
        store(y, (t + 1) * 16, outCount, a1, b1);
    }
    for (; t < panelEnd; t++) {
        const uint16_t *p = w + t * stride;
        __m256 a, b;
        initial(bias, t * 16, outCount, &a, &b);
        for (long i = 0; i < inCount; i++) {
            __m256 xi = _mm256_broadcast_ss(x + i), lo, hi;
            load16(p + i * 16, &lo, &hi);
            a = _mm256_fmadd_ps(xi, lo, a);
            b = _mm256_fmadd_ps(xi, hi, b);
        }
        store(y, t * 16, outCount, a, b);
    }
}

void exitlens_gemm_f16(const uint16_t *w, const float *x, long rows, float *y, const float *bias,
                       long inCount, long outCount, long panelStart, long panelEnd) {
    const long stride = inCount * 16;
    for (long t = panelStart; t < panelEnd; t++) {
        const uint16_t *p = w + t * stride;
        __m256 blo, bhi;
        initial(bias, t * 16, outCount, &blo, &bhi);
        long r = 0;
        /* Four rows share each widened panel row. */
        for (; r + 4 <= rows; r += 4) {
            const float *x0 = x + r * inCount, *x1 = x0 + inCount, *x2 = x1 + inCount, *x3 = x2 + inCount;
            __m256 a0 = blo, b0 = bhi, a1 = blo, b1 = bhi, a2 = blo, b2 = bhi, a3 = blo, b3 = bhi;
            for (long i = 0; i < inCount; i++) {
                __m256 lo, hi;
                load16(p + i * 16, &lo, &hi);
                __m256 v0 = _mm256_broadcast_ss(x0 + i), v1 = _mm256_broadcast_ss(x1 + i);
                __m256 v2 = _mm256_broadcast_ss(x2 + i), v3 = _mm256_broadcast_ss(x3 + i);
                a0 = _mm256_fmadd_ps(v0, lo, a0); b0 = _mm256_fmadd_ps(v0, hi, b0);
                a1 = _mm256_fmadd_ps(v1, lo, a1); b1 = _mm256_fmadd_ps(v1, hi, b1);
                a2 = _mm256_fmadd_ps(v2, lo, a2); b2 = _mm256_fmadd_ps(v2, hi, b2);
                a3 = _mm256_fmadd_ps(v3, lo, a3); b3 = _mm256_fmadd_ps(v3, hi, b3);
            }
            store(y + r * outCount, t * 16, outCount, a0, b0);
            store(y + (r + 1) * outCount, t * 16, outCount, a1, b1);
            store(y + (r + 2) * outCount, t * 16, outCount, a2, b2);
            store(y + (r + 3) * outCount, t * 16, outCount, a3, b3);
        }
        for (; r < rows; r++) {
            const float *xr = x + r * inCount;
            __m256 a = blo, b = bhi;
            for (long i = 0; i < inCount; i++) {
                __m256 lo, hi, v = _mm256_broadcast_ss(xr + i);
                load16(p + i * 16, &lo, &hi);
                a = _mm256_fmadd_ps(v, lo, a);
                b = _mm256_fmadd_ps(v, hi, b);
            }
            store(y + r * outCount, t * 16, outCount, a, b);
        }
    }
}
