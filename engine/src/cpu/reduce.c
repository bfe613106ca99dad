/* Reduction kernels.
 *
 * Plain reductions (sum, prod, max, min, all, any, mean) work on any
 * strided input without copying. The input's axes split into kept axes K
 * (the output, row-major) and reduced axes R. Both lists drop size-1 axes
 * and merge neighbours that are contiguous together; R is also reordered
 * (innermost = smallest stride, negative strides flipped), which is free
 * for these order-insensitive ops. Then the innermost reduced axis (rn
 * elements, stride rs) and the innermost kept axis (m outputs, stride ks)
 * pick the loop:
 *   rows:    for each output j, reduce its run x[j*ks + r*rs] (rs == 1 is
 *            the vectorized row reduction);
 *   columns: when ks == 1, for each r add the contiguous slice x[r*rs + j]
 *            into an accumulator vector acc[j] (vectorized over j).
 * Work is cut into tasks of up to WIDTH outputs; when there are fewer
 * tasks than threads (an all-reduce, a few long rows) each task's reduced
 * range is also split and the partial results combined at the end.
 *
 * Accumulators follow upstream MLX where it matters for results: integers
 * of 4 bytes or less sum/multiply as 32-bit (wrapping), 64-bit ones as
 * 64-bit; float16/bfloat16 products accumulate in float32. Floating sums
 * accumulate blocks of float lanes into a double, which is at least as
 * accurate as upstream's float32 running sum (results can differ from it
 * in the last bit). max/min propagate NaN.
 *
 * var/std, logsumexp and softmax run on the same plans, in passes over
 * each task's runs. var takes the mean (with the mean kernel) and then
 * sums squared deviations, rounding each step to its dtype as upstream's
 * composition (mean, subtract, square, sum, scale) does, so float16
 * overflow and rounding match. logsumexp takes the max, then sums
 * exponentials (split tasks merge by rescaling to the larger max).
 * softmax takes the max, writes exponentials while summing them, then
 * scales, in place in the output (an input of another dtype or layout is
 * first converted there). They compute in float32 (float64 and complex64
 * in their own dtype) with a vectorized exp. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "half.h"
#include "reduce.h"

#define LANES 16        /* independent partials: the compiler maps them to vector registers */
#define BLOCK 512       /* float lane sums are flushed into a double this often */
#define WIDTH 1024      /* outputs per task along the innermost kept axis */
#define GRAIN (1 << 16) /* elements of work per thread before splitting pays */
#define MMW 64          /* lanes of max/min runs (more than gcc fully unrolls) */
#define TILE 32         /* rows a column sum accumulates in its own type before flushing */
#define MAXD 64         /* non-size-1 axes of a non-empty array: at most 62 */

/* ---- element access ------------------------------------------------------ */

#define LD_ID(v) (v)
#define LD_F16(v) ((float)(v))
#define LD_BF(v) mlx_bf16_to_f32(v)
#define NZ_INT(v) ((v) != 0)
#define NZ_BF(v) (((v).bits & 0x7fffu) != 0)
#define NZ_C(v) (crealf(v) != 0.0f || cimagf(v) != 0.0f)
#define NAN_NO(v) 0
#define NAN_F(v) ((v) != (v))
#define GT(a, b) ((a) > (b))
#define LT(a, b) ((a) < (b))

/* Rounding of a float/double value to a storage dtype, kept in float. */
#define R_F16(v) ((float)(mlx_f16)(v))
#define R_BF(v) mlx_bf16_to_f32(mlx_f32_to_bf16((float)(v)))
#define R_F32(v) ((float)(v))
#define R_F64(v) ((double)(v))

typedef double _Complex cdouble;

/* Complex order is lexicographic (real, then imaginary), as upstream. */
static inline int c_gt(mlx_c64 a, mlx_c64 b) {
  return crealf(a) > crealf(b) || (crealf(a) == crealf(b) && cimagf(a) > cimagf(b));
}
static inline int c_lt(mlx_c64 a, mlx_c64 b) {
  return crealf(a) < crealf(b) || (crealf(a) == crealf(b) && cimagf(a) < cimagf(b));
}
static inline int c_isnan(mlx_c64 a) {
  return isnan(crealf(a)) || isnan(cimagf(a));
}
/* The plain product formula, as upstream (no C99 Annex G NaN recovery). */
static inline mlx_c64 c_mul(mlx_c64 a, mlx_c64 b) {
  float ar = crealf(a), ai = cimagf(a), br = crealf(b), bi = cimagf(b);
  return CMPLXF(ar * br - ai * bi, ar * bi + ai * br);
}
#define MUL(a, b) ((a) * (b))

/* exp for float32, branch-free so loops calling it vectorize: exp(x) =
 * 2^n * exp(r) with n = round(x / ln 2), r reduced with a two-part ln 2,
 * exp(r) by Cephes' degree-6 polynomial (under 1 ulp over the float range,
 * subnormal results included; 2^n is applied in two halves so it stays
 * representable). */
static inline float exp_f32(float x) {
  /* NaN clamps to -104 here (and is returned as itself at the end), so
   * the conversion to int below never sees it */
  float xc = x > -104.0f ? x : -104.0f;
  xc = xc < 89.0f ? xc : 89.0f;
  /* round to nearest through the 1.5 * 2^23 shift (floorf would block
   * vectorization without -fno-trapping-math) */
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float z = r * r;
  float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
             1.6666665459e-1f) * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  int32_t ni = (int32_t)n;
  int32_t n1 = ni / 2, n2 = ni - n1;
  uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
  float s1, s2;
  memcpy(&s1, &b1, 4);
  memcpy(&s2, &b2, 4);
  y = y * s1 * s2;
  return x != x ? x : y;
}

/* ---- plain reductions: per-dtype pieces -------------------------------- */

/* The pieces of one (reduction, input dtype): accumulators of acc_size
 * bytes, filled by init, folded by rows/cols, merged by combine, and
 * written to the output dtype by fin (scale is 1/n for mean). */
typedef struct {
  size_t acc_size;
  void (*init)(void* acc, int64_t n);
  /* acc[j] op= x[j*ks + r*rs] for r < n, j < m */
  void (*rows)(const void* x, int64_t m, int64_t ks, int64_t n, int64_t rs, void* acc);
  /* the same with ks == 1, looping j innermost */
  void (*cols)(const void* x, int64_t m, int64_t n, int64_t rs, void* acc);
  void (*combine)(void* acc, const void* other, int64_t n);
  void (*fin)(void* out, const void* acc, int64_t n, double scale);
} red_impl;

#define DEF_FILL(NAME, A, V)                 \
  static void NAME(void* acc, int64_t n) {   \
    A* a = acc;                              \
    for (int64_t j = 0; j < n; j++) a[j] = V; \
  }

DEF_FILL(fill_u8_0, uint8_t, 0)
DEF_FILL(fill_u8_1, uint8_t, 1)
DEF_FILL(fill_u8_max, uint8_t, UINT8_MAX)
DEF_FILL(fill_u16_0, uint16_t, 0)
DEF_FILL(fill_u16_max, uint16_t, UINT16_MAX)
DEF_FILL(fill_u32_0, uint32_t, 0)
DEF_FILL(fill_u32_1, uint32_t, 1)
DEF_FILL(fill_u32_max, uint32_t, UINT32_MAX)
DEF_FILL(fill_u64_0, uint64_t, 0)
DEF_FILL(fill_u64_1, uint64_t, 1)
DEF_FILL(fill_u64_max, uint64_t, UINT64_MAX)
DEF_FILL(fill_i8_min, int8_t, INT8_MIN)
DEF_FILL(fill_i8_max, int8_t, INT8_MAX)
DEF_FILL(fill_i16_min, int16_t, INT16_MIN)
DEF_FILL(fill_i16_max, int16_t, INT16_MAX)
DEF_FILL(fill_i32_min, int32_t, INT32_MIN)
DEF_FILL(fill_i32_max, int32_t, INT32_MAX)
DEF_FILL(fill_i64_min, int64_t, INT64_MIN)
DEF_FILL(fill_i64_max, int64_t, INT64_MAX)
DEF_FILL(fill_f32_1, float, 1.0f)
DEF_FILL(fill_f32_ninf, float, -INFINITY)
DEF_FILL(fill_f32_inf, float, INFINITY)
DEF_FILL(fill_f64_0, double, 0.0)
DEF_FILL(fill_f64_1, double, 1.0)
DEF_FILL(fill_f64_ninf, double, -INFINITY)
DEF_FILL(fill_f64_inf, double, INFINITY)
DEF_FILL(fill_cd_0, cdouble, 0.0)
DEF_FILL(fill_c64_1, mlx_c64, 1.0f)
DEF_FILL(fill_c64_ninf, mlx_c64, -INFINITY)
DEF_FILL(fill_c64_inf, mlx_c64, INFINITY)

/* Sum: float lanes L summed in blocks into the accumulator A (columns:
 * TILE rows at a time). cols is only called with m <= WIDTH. */
#define DEF_SUM(N, T, LD, L, A)                                                            \
  static inline A N##_run(const T* restrict x, int64_t n, int64_t rs) {                    \
    A acc = 0;                                                                             \
    int64_t i = 0;                                                                         \
    if (rs == 1) {                                                                         \
      while (n - i >= LANES) {                                                             \
        L l[LANES] = {0};                                                                  \
        int64_t stop = i + ((n - i) < BLOCK ? (n - i) : BLOCK) / LANES * LANES;            \
        for (; i < stop; i += LANES)                                                       \
          for (int k = 0; k < LANES; k++) l[k] += (L)LD(x[i + k]);                         \
        for (int k = 0; k < LANES; k++) acc += (A)l[k];                                    \
      }                                                                                    \
      for (; i < n; i++) acc += (A)LD(x[i]);                                               \
    } else {                                                                               \
      for (; i < n; i++) acc += (A)LD(x[i * rs]);                                          \
    }                                                                                      \
    return acc;                                                                            \
  }                                                                                        \
  static void N##_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, void* av) { \
    const T* x = xv;                                                                       \
    A* acc = av;                                                                           \
    for (int64_t j = 0; j < m; j++) acc[j] += N##_run(x + j * ks, n, rs);                 \
  }                                                                                        \
  static void N##_cols(const void* xv, int64_t m, int64_t n, int64_t rs, void* av) {       \
    const T* x = xv;                                                                       \
    A* restrict acc = av;                                                                  \
    L tile[WIDTH];                                                                         \
    for (int64_t r0 = 0; r0 < n; r0 += TILE) {                                             \
      int64_t r1 = n - r0 < TILE ? n : r0 + TILE;                                          \
      for (int64_t j = 0; j < m; j++) tile[j] = 0;                                         \
      int64_t r = r0;                                                                      \
      /* four rows per pass: one load and store of the tile per four adds */               \
      for (; r + 4 <= r1; r += 4) {                                                        \
        const T *restrict p0 = x + r * rs, *restrict p1 = p0 + rs;                         \
        const T *restrict p2 = p1 + rs, *restrict p3 = p2 + rs;                            \
        for (int64_t j = 0; j < m; j++)                                                    \
          tile[j] += ((L)LD(p0[j]) + (L)LD(p1[j])) + ((L)LD(p2[j]) + (L)LD(p3[j]));        \
      }                                                                                    \
      for (; r < r1; r++) {                                                                \
        const T* restrict row = x + r * rs;                                                \
        for (int64_t j = 0; j < m; j++) tile[j] += (L)LD(row[j]);                          \
      }                                                                                    \
      for (int64_t j = 0; j < m; j++) acc[j] += (A)tile[j];                                \
    }                                                                                      \
  }

/* Product: lanes of the accumulator type itself. */
#define DEF_PROD(N, T, LD, A, ONE, MULF)                                                   \
  static inline A N##_run(const T* restrict x, int64_t n, int64_t rs) {                    \
    A acc = ONE;                                                                           \
    int64_t i = 0;                                                                         \
    if (rs == 1 && n >= LANES) {                                                           \
      A l[LANES];                                                                          \
      for (int k = 0; k < LANES; k++) l[k] = ONE;                                          \
      for (; i + LANES <= n; i += LANES)                                                   \
        for (int k = 0; k < LANES; k++) l[k] = MULF(l[k], (A)LD(x[i + k]));                \
      for (int k = 0; k < LANES; k++) acc = MULF(acc, l[k]);                               \
    }                                                                                      \
    for (; i < n; i++) acc = MULF(acc, (A)LD(x[i * rs]));                                  \
    return acc;                                                                            \
  }                                                                                        \
  static void N##_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, void* av) { \
    const T* x = xv;                                                                       \
    A* acc = av;                                                                           \
    for (int64_t j = 0; j < m; j++) acc[j] = MULF(acc[j], N##_run(x + j * ks, n, rs));    \
  }                                                                                        \
  static void N##_cols(const void* xv, int64_t m, int64_t n, int64_t rs, void* av) {       \
    const T* x = xv;                                                                       \
    A* restrict acc = av;                                                                  \
    for (int64_t r = 0; r < n; r++) {                                                      \
      const T* restrict row = x + r * rs;                                                  \
      for (int64_t j = 0; j < m; j++) acc[j] = MULF(acc[j], (A)LD(row[j]));                \
    }                                                                                      \
  }

/* max/min: CMP(a, b) is "a beats b"; NaN (ISNAN) beats everything and
 * sticks, as upstream. A contiguous run is folded as columns of MMW lanes
 * by the cols loop, which the compiler vectorizes (a lane array written
 * with a conditional is not, and float max is no reduction it may
 * reorder). */
/* b if it beats a or is NaN: the result is NaN when either is */
#define PICK(a, b, CMP, ISNAN) ((CMP(b, a) || ISNAN(b)) ? (b) : (a))
#define DEF_MM(N, T, LD, A, CMP, ISNAN, INIT)                                              \
  static void N##_cols(const void* xv, int64_t m, int64_t n, int64_t rs, void* av) {       \
    const T* x = xv;                                                                       \
    A* restrict acc = av;                                                                  \
    int64_t r = 0;                                                                         \
    /* four rows per pass; PICK keeps NaN from either side */                              \
    for (; r + 4 <= n; r += 4) {                                                           \
      const T *restrict p0 = x + r * rs, *restrict p1 = p0 + rs;                           \
      const T *restrict p2 = p1 + rs, *restrict p3 = p2 + rs;                              \
      for (int64_t j = 0; j < m; j++) {                                                    \
        A v0 = (A)LD(p0[j]), v1 = (A)LD(p1[j]), v2 = (A)LD(p2[j]), v3 = (A)LD(p3[j]);      \
        A a = PICK(v0, v1, CMP, ISNAN), b = PICK(v2, v3, CMP, ISNAN);                      \
        a = PICK(a, b, CMP, ISNAN);                                                        \
        acc[j] = PICK(acc[j], a, CMP, ISNAN);                                              \
      }                                                                                    \
    }                                                                                      \
    for (; r < n; r++) {                                                                   \
      const T* restrict row = x + r * rs;                                                  \
      for (int64_t j = 0; j < m; j++) {                                                    \
        A v = (A)LD(row[j]);                                                               \
        acc[j] = PICK(acc[j], v, CMP, ISNAN);                                              \
      }                                                                                    \
    }                                                                                      \
  }                                                                                        \
  static inline A N##_run(const T* restrict x, int64_t n, int64_t rs) {                    \
    A best = INIT;                                                                         \
    int64_t i = 0;                                                                         \
    if (rs == 1 && n >= MMW) {                                                             \
      A l[MMW];                                                                            \
      for (int k = 0; k < MMW; k++) l[k] = INIT;                                           \
      N##_cols(x, MMW, n / MMW, MMW, l);                                                   \
      i = n / MMW * MMW;                                                                   \
      for (int k = 0; k < MMW; k++) best = (ISNAN(l[k]) || CMP(l[k], best)) ? l[k] : best; \
    }                                                                                      \
    for (; i < n; i++) {                                                                   \
      A v = (A)LD(x[i * rs]);                                                              \
      best = (ISNAN(v) || CMP(v, best)) ? v : best;                                        \
    }                                                                                      \
    return best;                                                                           \
  }                                                                                        \
  static void N##_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, void* av) { \
    const T* x = xv;                                                                       \
    A* acc = av;                                                                           \
    for (int64_t j = 0; j < m; j++) {                                                      \
      A v = N##_run(x + j * ks, n, rs);                                                    \
      acc[j] = (ISNAN(v) || CMP(v, acc[j])) ? v : acc[j];                                  \
    }                                                                                      \
  }                                                                                        \
  static void N##_comb(void* av, const void* bv, int64_t n) {                              \
    A* a = av;                                                                             \
    const A* b = bv;                                                                       \
    for (int64_t j = 0; j < n; j++) a[j] = (ISNAN(b[j]) || CMP(b[j], a[j])) ? b[j] : a[j]; \
  }

/* all/any: a uint8 flag per output. */
#define DEF_LOGIC(N, T, NZ, AND)                                                           \
  static inline uint8_t N##_run(const T* restrict x, int64_t n, int64_t rs) {              \
    uint8_t f = AND;                                                                       \
    if (rs == 1) {                                                                         \
      for (int64_t i = 0; i < n; i++) f = AND ? (f & (uint8_t)NZ(x[i])) : (f | (uint8_t)NZ(x[i])); \
    } else {                                                                               \
      for (int64_t i = 0; i < n; i++)                                                      \
        f = AND ? (f & (uint8_t)NZ(x[i * rs])) : (f | (uint8_t)NZ(x[i * rs]));             \
    }                                                                                      \
    return f;                                                                              \
  }                                                                                        \
  static void N##_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, void* av) { \
    const T* x = xv;                                                                       \
    uint8_t* acc = av;                                                                     \
    for (int64_t j = 0; j < m; j++) {                                                      \
      uint8_t v = N##_run(x + j * ks, n, rs);                                              \
      acc[j] = AND ? (acc[j] & v) : (acc[j] | v);                                          \
    }                                                                                      \
  }                                                                                        \
  static void N##_cols(const void* xv, int64_t m, int64_t n, int64_t rs, void* av) {       \
    const T* x = xv;                                                                       \
    uint8_t* restrict acc = av;                                                            \
    for (int64_t r = 0; r < n; r++) {                                                      \
      const T* restrict row = x + r * rs;                                                  \
      for (int64_t j = 0; j < m; j++)                                                      \
        acc[j] = AND ? (acc[j] & (uint8_t)NZ(row[j])) : (acc[j] | (uint8_t)NZ(row[j]));    \
    }                                                                                      \
  }

#define DEF_COMB(NAME, A, OPF)                                     \
  static void NAME(void* av, const void* bv, int64_t n) {          \
    A* a = av;                                                     \
    const A* b = bv;                                               \
    for (int64_t j = 0; j < n; j++) a[j] = OPF(a[j], b[j]);        \
  }
#define ADD(a, b) ((a) + (b))
#define AND_(a, b) ((a) & (b))
#define OR_(a, b) ((a) | (b))
DEF_COMB(comb_add_u32, uint32_t, ADD)
DEF_COMB(comb_add_u64, uint64_t, ADD)
DEF_COMB(comb_add_f64, double, ADD)
DEF_COMB(comb_add_cd, cdouble, ADD)
DEF_COMB(comb_mul_u32, uint32_t, MUL)
DEF_COMB(comb_mul_u64, uint64_t, MUL)
DEF_COMB(comb_mul_f32, float, MUL)
DEF_COMB(comb_mul_f64, double, MUL)
DEF_COMB(comb_mul_c64, mlx_c64, c_mul)
DEF_COMB(comb_and, uint8_t, AND_)
DEF_COMB(comb_or, uint8_t, OR_)

/* Output writers: o[j] = CONV(acc[j]). */
#define DEF_FIN(NAME, A, O, CONV)                                          \
  static void NAME(void* out, const void* av, int64_t n, double scale) {   \
    (void)scale;                                                           \
    const A* a = av;                                                       \
    O* o = out;                                                            \
    for (int64_t j = 0; j < n; j++) o[j] = CONV(a[j]);                     \
  }
#define TO_F16(v) ((mlx_f16)(v))
#define TO_BF(v) mlx_f32_to_bf16((float)(v))
#define TO_F32(v) ((float)(v))
#define TO_C64(v) ((mlx_c64)(v))
DEF_FIN(fin_u8, uint8_t, uint8_t, LD_ID)
DEF_FIN(fin_u16, uint16_t, uint16_t, LD_ID)
DEF_FIN(fin_u32, uint32_t, uint32_t, LD_ID)
DEF_FIN(fin_u64, uint64_t, uint64_t, LD_ID)
DEF_FIN(fin_f64_f16, double, mlx_f16, TO_F16)
DEF_FIN(fin_f64_bf, double, mlx_bf16, TO_BF)
DEF_FIN(fin_f64_f32, double, float, TO_F32)
DEF_FIN(fin_f64, double, double, LD_ID)
DEF_FIN(fin_cd_c64, cdouble, mlx_c64, TO_C64)
DEF_FIN(fin_f32_f16, float, mlx_f16, TO_F16)
DEF_FIN(fin_f32_bf, float, mlx_bf16, TO_BF)
DEF_FIN(fin_f32, float, float, LD_ID)
DEF_FIN(fin_c64, mlx_c64, mlx_c64, LD_ID)

/* mean = (sum rounded to the sum dtype, in the output dtype F) * F(1/n),
 * the product rounded to F: upstream's multiply(sum(a), 1/n). */
#define DEF_MEANFIN(NAME, A, SUMCONV, FC, RF, O, STORE)                    \
  static void NAME(void* out, const void* av, int64_t n, double scale) {   \
    const A* a = av;                                                       \
    O* o = out;                                                            \
    FC sc = RF((FC)scale);                                                 \
    for (int64_t j = 0; j < n; j++) o[j] = STORE(RF((FC)SUMCONV(a[j]) * sc)); \
  }
#define S_I32(v) ((int32_t)(v))
#define S_I64(v) ((int64_t)(v))
#define S_F16(v) ((float)(mlx_f16)(v))
#define S_BF(v) R_BF(v)
DEF_MEANFIN(mean_i32, uint32_t, S_I32, float, R_F32, float, LD_ID)
DEF_MEANFIN(mean_u32, uint32_t, LD_ID, float, R_F32, float, LD_ID)
DEF_MEANFIN(mean_i64, uint64_t, S_I64, float, R_F32, float, LD_ID)
DEF_MEANFIN(mean_u64, uint64_t, LD_ID, float, R_F32, float, LD_ID)
DEF_MEANFIN(mean_f16, double, S_F16, float, R_F16, mlx_f16, TO_F16)
DEF_MEANFIN(mean_bf, double, S_BF, float, R_BF, mlx_bf16, TO_BF)
DEF_MEANFIN(mean_f32, double, R_F32, float, R_F32, float, LD_ID)
DEF_MEANFIN(mean_f64, double, R_F64, double, R_F64, double, LD_ID)

static void mean_c64(void* out, const void* av, int64_t n, double scale) {
  const cdouble* a = av;
  mlx_c64* o = out;
  float sc = (float)scale;
  for (int64_t j = 0; j < n; j++) {
    mlx_c64 s = (mlx_c64)a[j];
    o[j] = CMPLXF(crealf(s) * sc, cimagf(s) * sc);
  }
}

/* sum */
DEF_SUM(sum_b, uint8_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_u16, uint16_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_u32, uint32_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_u64, uint64_t, LD_ID, uint64_t, uint64_t)
DEF_SUM(sum_i8, int8_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_i16, int16_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_i32, int32_t, LD_ID, uint32_t, uint32_t)
DEF_SUM(sum_i64, int64_t, LD_ID, uint64_t, uint64_t)
DEF_SUM(sum_f16, mlx_f16, LD_F16, float, double)
DEF_SUM(sum_f32, float, LD_ID, float, double)
DEF_SUM(sum_f64, double, LD_ID, double, double)
DEF_SUM(sum_bf, mlx_bf16, LD_BF, float, double)
DEF_SUM(sum_c64, mlx_c64, LD_ID, cdouble, cdouble)

/* prod */
DEF_PROD(prod_b, uint8_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_u16, uint16_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_u32, uint32_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_u64, uint64_t, LD_ID, uint64_t, 1u, MUL)
DEF_PROD(prod_i8, int8_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_i16, int16_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_i32, int32_t, LD_ID, uint32_t, 1u, MUL)
DEF_PROD(prod_i64, int64_t, LD_ID, uint64_t, 1u, MUL)
DEF_PROD(prod_f16, mlx_f16, LD_F16, float, 1.0f, MUL)
DEF_PROD(prod_f32, float, LD_ID, float, 1.0f, MUL)
DEF_PROD(prod_f64, double, LD_ID, double, 1.0, MUL)
DEF_PROD(prod_bf, mlx_bf16, LD_BF, float, 1.0f, MUL)
DEF_PROD(prod_c64, mlx_c64, LD_ID, mlx_c64, 1.0f, c_mul)

/* max / min (bool is max = any, min = all over 0/1 bytes) */
#define MM_FOR(OPN, CMP, U8I, U16I, U32I, U64I, I8I, I16I, I32I, I64I, FI, CI, CMPC)       \
  DEF_MM(OPN##_b, uint8_t, LD_ID, uint8_t, CMP, NAN_NO, (uint8_t)(U8I ? 1 : 0))              \
  DEF_MM(OPN##_u8, uint8_t, LD_ID, uint8_t, CMP, NAN_NO, U8I)                             \
  DEF_MM(OPN##_u16, uint16_t, LD_ID, uint16_t, CMP, NAN_NO, U16I)                         \
  DEF_MM(OPN##_u32, uint32_t, LD_ID, uint32_t, CMP, NAN_NO, U32I)                         \
  DEF_MM(OPN##_u64, uint64_t, LD_ID, uint64_t, CMP, NAN_NO, U64I)                         \
  DEF_MM(OPN##_i8, int8_t, LD_ID, int8_t, CMP, NAN_NO, I8I)                               \
  DEF_MM(OPN##_i16, int16_t, LD_ID, int16_t, CMP, NAN_NO, I16I)                           \
  DEF_MM(OPN##_i32, int32_t, LD_ID, int32_t, CMP, NAN_NO, I32I)                           \
  DEF_MM(OPN##_i64, int64_t, LD_ID, int64_t, CMP, NAN_NO, I64I)                           \
  DEF_MM(OPN##_f16, mlx_f16, LD_F16, float, CMP, NAN_F, (float)FI)                        \
  DEF_MM(OPN##_f32, float, LD_ID, float, CMP, NAN_F, (float)FI)                           \
  DEF_MM(OPN##_f64, double, LD_ID, double, CMP, NAN_F, FI)                                \
  DEF_MM(OPN##_bf, mlx_bf16, LD_BF, float, CMP, NAN_F, (float)FI)                         \
  DEF_MM(OPN##_c64, mlx_c64, LD_ID, mlx_c64, CMPC, c_isnan, (mlx_c64)(CI))
/* the bool init is 0 for max and 1 for min: U8I is 0 for max. */
MM_FOR(max, GT, 0, 0, 0, 0, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, -INFINITY, -INFINITY, c_gt)
MM_FOR(min, LT, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX, INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, INFINITY,
       INFINITY, c_lt)

/* all / any */
#define LOGIC_FOR(OPN, AND)                          \
  DEF_LOGIC(OPN##_b, uint8_t, NZ_INT, AND)           \
  DEF_LOGIC(OPN##_u16, uint16_t, NZ_INT, AND)        \
  DEF_LOGIC(OPN##_u32, uint32_t, NZ_INT, AND)        \
  DEF_LOGIC(OPN##_u64, uint64_t, NZ_INT, AND)        \
  DEF_LOGIC(OPN##_f16, mlx_f16, NZ_INT, AND)         \
  DEF_LOGIC(OPN##_f32, float, NZ_INT, AND)           \
  DEF_LOGIC(OPN##_f64, double, NZ_INT, AND)          \
  DEF_LOGIC(OPN##_bf, mlx_bf16, NZ_BF, AND)          \
  DEF_LOGIC(OPN##_c64, mlx_c64, NZ_C, AND)
LOGIC_FOR(all, 1)
LOGIC_FOR(any, 0)

#define E_SUM(N, A, FILL, COMB, FIN) {sizeof(A), FILL, N##_rows, N##_cols, COMB, FIN}
#define E_MM(N, A, FILL, FIN) {sizeof(A), FILL, N##_rows, N##_cols, N##_comb, FIN}

/* Integers reduce as their unsigned twins where only the bits matter:
 * sums and products wrap identically, and all/any only test != 0. */
static const red_impl impls[MLX_RED_NUM_][MLX_NUM_DTYPES] = {
    [MLX_RED_SUM_] =
        {
            [MLX_BOOL] = E_SUM(sum_b, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_UINT8] = E_SUM(sum_b, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_UINT16] = E_SUM(sum_u16, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_UINT32] = E_SUM(sum_u32, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_UINT64] = E_SUM(sum_u64, uint64_t, fill_u64_0, comb_add_u64, fin_u64),
            [MLX_INT8] = E_SUM(sum_i8, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_INT16] = E_SUM(sum_i16, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_INT32] = E_SUM(sum_i32, uint32_t, fill_u32_0, comb_add_u32, fin_u32),
            [MLX_INT64] = E_SUM(sum_i64, uint64_t, fill_u64_0, comb_add_u64, fin_u64),
            [MLX_FLOAT16] = E_SUM(sum_f16, double, fill_f64_0, comb_add_f64, fin_f64_f16),
            [MLX_FLOAT32] = E_SUM(sum_f32, double, fill_f64_0, comb_add_f64, fin_f64_f32),
            [MLX_FLOAT64] = E_SUM(sum_f64, double, fill_f64_0, comb_add_f64, fin_f64),
            [MLX_BFLOAT16] = E_SUM(sum_bf, double, fill_f64_0, comb_add_f64, fin_f64_bf),
            [MLX_COMPLEX64] = E_SUM(sum_c64, cdouble, fill_cd_0, comb_add_cd, fin_cd_c64),
        },
    [MLX_RED_MEAN_] =
        {
            [MLX_BOOL] = E_SUM(sum_b, uint32_t, fill_u32_0, comb_add_u32, mean_i32),
            [MLX_UINT8] = E_SUM(sum_b, uint32_t, fill_u32_0, comb_add_u32, mean_u32),
            [MLX_UINT16] = E_SUM(sum_u16, uint32_t, fill_u32_0, comb_add_u32, mean_u32),
            [MLX_UINT32] = E_SUM(sum_u32, uint32_t, fill_u32_0, comb_add_u32, mean_u32),
            [MLX_UINT64] = E_SUM(sum_u64, uint64_t, fill_u64_0, comb_add_u64, mean_u64),
            [MLX_INT8] = E_SUM(sum_i8, uint32_t, fill_u32_0, comb_add_u32, mean_i32),
            [MLX_INT16] = E_SUM(sum_i16, uint32_t, fill_u32_0, comb_add_u32, mean_i32),
            [MLX_INT32] = E_SUM(sum_i32, uint32_t, fill_u32_0, comb_add_u32, mean_i32),
            [MLX_INT64] = E_SUM(sum_i64, uint64_t, fill_u64_0, comb_add_u64, mean_i64),
            [MLX_FLOAT16] = E_SUM(sum_f16, double, fill_f64_0, comb_add_f64, mean_f16),
            [MLX_FLOAT32] = E_SUM(sum_f32, double, fill_f64_0, comb_add_f64, mean_f32),
            [MLX_FLOAT64] = E_SUM(sum_f64, double, fill_f64_0, comb_add_f64, mean_f64),
            [MLX_BFLOAT16] = E_SUM(sum_bf, double, fill_f64_0, comb_add_f64, mean_bf),
            [MLX_COMPLEX64] = E_SUM(sum_c64, cdouble, fill_cd_0, comb_add_cd, mean_c64),
        },
    [MLX_RED_PROD_] =
        {
            [MLX_BOOL] = E_SUM(prod_b, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_UINT8] = E_SUM(prod_b, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_UINT16] = E_SUM(prod_u16, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_UINT32] = E_SUM(prod_u32, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_UINT64] = E_SUM(prod_u64, uint64_t, fill_u64_1, comb_mul_u64, fin_u64),
            [MLX_INT8] = E_SUM(prod_i8, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_INT16] = E_SUM(prod_i16, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_INT32] = E_SUM(prod_i32, uint32_t, fill_u32_1, comb_mul_u32, fin_u32),
            [MLX_INT64] = E_SUM(prod_i64, uint64_t, fill_u64_1, comb_mul_u64, fin_u64),
            [MLX_FLOAT16] = E_SUM(prod_f16, float, fill_f32_1, comb_mul_f32, fin_f32_f16),
            [MLX_FLOAT32] = E_SUM(prod_f32, float, fill_f32_1, comb_mul_f32, fin_f32),
            [MLX_FLOAT64] = E_SUM(prod_f64, double, fill_f64_1, comb_mul_f64, fin_f64),
            [MLX_BFLOAT16] = E_SUM(prod_bf, float, fill_f32_1, comb_mul_f32, fin_f32_bf),
            [MLX_COMPLEX64] = E_SUM(prod_c64, mlx_c64, fill_c64_1, comb_mul_c64, fin_c64),
        },
    [MLX_RED_MAX_] =
        {
            [MLX_BOOL] = E_MM(max_b, uint8_t, fill_u8_0, fin_u8),
            [MLX_UINT8] = E_MM(max_u8, uint8_t, fill_u8_0, fin_u8),
            [MLX_UINT16] = E_MM(max_u16, uint16_t, fill_u16_0, fin_u16),
            [MLX_UINT32] = E_MM(max_u32, uint32_t, fill_u32_0, fin_u32),
            [MLX_UINT64] = E_MM(max_u64, uint64_t, fill_u64_0, fin_u64),
            [MLX_INT8] = E_MM(max_i8, int8_t, fill_i8_min, fin_u8),
            [MLX_INT16] = E_MM(max_i16, int16_t, fill_i16_min, fin_u16),
            [MLX_INT32] = E_MM(max_i32, int32_t, fill_i32_min, fin_u32),
            [MLX_INT64] = E_MM(max_i64, int64_t, fill_i64_min, fin_u64),
            [MLX_FLOAT16] = E_MM(max_f16, float, fill_f32_ninf, fin_f32_f16),
            [MLX_FLOAT32] = E_MM(max_f32, float, fill_f32_ninf, fin_f32),
            [MLX_FLOAT64] = E_MM(max_f64, double, fill_f64_ninf, fin_f64),
            [MLX_BFLOAT16] = E_MM(max_bf, float, fill_f32_ninf, fin_f32_bf),
            [MLX_COMPLEX64] = E_MM(max_c64, mlx_c64, fill_c64_ninf, fin_c64),
        },
    [MLX_RED_MIN_] =
        {
            [MLX_BOOL] = E_MM(min_b, uint8_t, fill_u8_1, fin_u8),
            [MLX_UINT8] = E_MM(min_u8, uint8_t, fill_u8_max, fin_u8),
            [MLX_UINT16] = E_MM(min_u16, uint16_t, fill_u16_max, fin_u16),
            [MLX_UINT32] = E_MM(min_u32, uint32_t, fill_u32_max, fin_u32),
            [MLX_UINT64] = E_MM(min_u64, uint64_t, fill_u64_max, fin_u64),
            [MLX_INT8] = E_MM(min_i8, int8_t, fill_i8_max, fin_u8),
            [MLX_INT16] = E_MM(min_i16, int16_t, fill_i16_max, fin_u16),
            [MLX_INT32] = E_MM(min_i32, int32_t, fill_i32_max, fin_u32),
            [MLX_INT64] = E_MM(min_i64, int64_t, fill_i64_max, fin_u64),
            [MLX_FLOAT16] = E_MM(min_f16, float, fill_f32_inf, fin_f32_f16),
            [MLX_FLOAT32] = E_MM(min_f32, float, fill_f32_inf, fin_f32),
            [MLX_FLOAT64] = E_MM(min_f64, double, fill_f64_inf, fin_f64),
            [MLX_BFLOAT16] = E_MM(min_bf, float, fill_f32_inf, fin_f32_bf),
            [MLX_COMPLEX64] = E_MM(min_c64, mlx_c64, fill_c64_inf, fin_c64),
        },
    [MLX_RED_ALL_] =
        {
            [MLX_BOOL] = E_SUM(all_b, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_UINT8] = E_SUM(all_b, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_UINT16] = E_SUM(all_u16, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_UINT32] = E_SUM(all_u32, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_UINT64] = E_SUM(all_u64, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_INT8] = E_SUM(all_b, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_INT16] = E_SUM(all_u16, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_INT32] = E_SUM(all_u32, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_INT64] = E_SUM(all_u64, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_FLOAT16] = E_SUM(all_f16, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_FLOAT32] = E_SUM(all_f32, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_FLOAT64] = E_SUM(all_f64, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_BFLOAT16] = E_SUM(all_bf, uint8_t, fill_u8_1, comb_and, fin_u8),
            [MLX_COMPLEX64] = E_SUM(all_c64, uint8_t, fill_u8_1, comb_and, fin_u8),
        },
    [MLX_RED_ANY_] =
        {
            [MLX_BOOL] = E_SUM(any_b, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_UINT8] = E_SUM(any_b, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_UINT16] = E_SUM(any_u16, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_UINT32] = E_SUM(any_u32, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_UINT64] = E_SUM(any_u64, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_INT8] = E_SUM(any_b, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_INT16] = E_SUM(any_u16, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_INT32] = E_SUM(any_u32, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_INT64] = E_SUM(any_u64, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_FLOAT16] = E_SUM(any_f16, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_FLOAT32] = E_SUM(any_f32, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_FLOAT64] = E_SUM(any_f64, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_BFLOAT16] = E_SUM(any_bf, uint8_t, fill_u8_0, comb_or, fin_u8),
            [MLX_COMPLEX64] = E_SUM(any_c64, uint8_t, fill_u8_0, comb_or, fin_u8),
        },
};

/* ---- layout planning ------------------------------------------------------ */

/* The input seen as kept axes (output order) and reduced axes. */
typedef struct {
  const char* x; /* element 0, moved to the low end of flipped reduced axes */
  int nk, nr;
  int64_t kshape[MAXD], kstr[MAXD]; /* collapsed, in order */
  int64_t rshape[MAXD], rstr[MAXD]; /* collapsed; the innermost is last */
  int64_t nred;                     /* reduced elements per output */
} plan;

/* Builds the plan of a non-empty layout: element 0 at x, isz bytes per
 * element. reorder: the result does not depend on element order, so
 * reduced axes may be flipped and sorted. */
static int make_plan(plan* pl, const char* x, size_t isz, const int64_t* shape, const int64_t* strides, int ndim,
                     const uint8_t* red, int reorder) {
  pl->x = x;
  pl->nk = pl->nr = 0;
  pl->nred = 1;
  for (int i = 0; i < ndim; i++) {
    int64_t n = shape[i], s = strides[i];
    if (red[i]) pl->nred *= n;
    if (n == 1) continue;
    if (pl->nk + pl->nr >= MAXD) return mlx_error_(MLX_ERROR_INTERNAL, "[reduce] too many dimensions");
    if (red[i]) {
      if (reorder && s < 0) {
        pl->x += (n - 1) * s * (int64_t)isz;
        s = -s;
      }
      pl->rshape[pl->nr] = n;
      pl->rstr[pl->nr++] = s;
    } else if (pl->nk > 0 && pl->kstr[pl->nk - 1] == s * n) {
      pl->kshape[pl->nk - 1] *= n;
      pl->kstr[pl->nk - 1] = s;
    } else {
      pl->kshape[pl->nk] = n;
      pl->kstr[pl->nk++] = s;
    }
  }
  if (reorder) {
    /* largest stride first, so the innermost reduced axis is the densest */
    for (int i = 1; i < pl->nr; i++) {
      int64_t sh = pl->rshape[i], st = pl->rstr[i];
      int k = i;
      for (; k > 0 && pl->rstr[k - 1] < st; k--) {
        pl->rshape[k] = pl->rshape[k - 1];
        pl->rstr[k] = pl->rstr[k - 1];
      }
      pl->rshape[k] = sh;
      pl->rstr[k] = st;
    }
  }
  int nr = 0;
  for (int i = 0; i < pl->nr; i++) {
    if (nr > 0 && pl->rstr[nr - 1] == pl->rstr[i] * pl->rshape[i]) {
      pl->rshape[nr - 1] *= pl->rshape[i];
      pl->rstr[nr - 1] = pl->rstr[i];
    } else {
      pl->rshape[nr] = pl->rshape[i];
      pl->rstr[nr++] = pl->rstr[i];
    }
  }
  pl->nr = nr;
  return MLX_OK;
}

static int plan_of(plan* pl, const mlx_node_* in, const uint8_t* red, int reorder) {
  return make_plan(pl, MLX_DATA(in, const char), mlx_dtype_size(in->dtype), in->shape, in->strides, in->ndim, red, reorder);
}

/* Element offset of row-major index i over (shape, strides). */
static int64_t offset_of(int64_t i, const int64_t* shape, const int64_t* str, int n) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; d--) {
    off += (i % shape[d]) * str[d];
    i /= shape[d];
  }
  return off;
}

/* A multi-index walked in row-major order, tracking its offset. */
typedef struct {
  int64_t idx[MAXD];
  int64_t off;
} odometer;

static void odo_set(odometer* o, int64_t i, const int64_t* shape, const int64_t* str, int n) {
  o->off = 0;
  for (int d = n - 1; d >= 0; d--) {
    o->idx[d] = i % shape[d];
    o->off += o->idx[d] * str[d];
    i /= shape[d];
  }
}

static void odo_next(odometer* o, const int64_t* shape, const int64_t* str, int n) {
  for (int d = n - 1; d >= 0; d--) {
    o->off += str[d];
    if (++o->idx[d] < shape[d]) return;
    o->off -= o->idx[d] * str[d];
    o->idx[d] = 0;
  }
}

/* The loop structure every kernel here shares: outputs in groups
 * (kept axes but the innermost) x chunks of WIDTH along the innermost
 * kept axis (m, ks); reduced elements as outer runs x the innermost
 * reduced axis (rn, rs), optionally split into `parts` per item. */
typedef struct {
  const char* x;
  size_t isz;
  int nko, nro;
  const int64_t *koshape, *kostr, *roshape, *rostr;
  int64_t m, ks, rn, rs, nouter;
  int64_t nchunks, items, parts;
  int column;
} loops;

static void make_loops(loops* l, const plan* pl, size_t isz, int allow_split) {
  l->x = pl->x;
  l->isz = isz;
  l->nko = pl->nk > 0 ? pl->nk - 1 : 0;
  l->koshape = pl->kshape;
  l->kostr = pl->kstr;
  l->m = pl->nk > 0 ? pl->kshape[pl->nk - 1] : 1;
  l->ks = pl->nk > 0 ? pl->kstr[pl->nk - 1] : 0;
  l->nro = pl->nr > 0 ? pl->nr - 1 : 0;
  l->roshape = pl->rshape;
  l->rostr = pl->rstr;
  l->rn = pl->nr > 0 ? pl->rshape[pl->nr - 1] : (pl->nred == 0 ? 0 : 1);
  l->rs = pl->nr > 0 ? pl->rstr[pl->nr - 1] : 0;
  l->nouter = 1;
  for (int i = 0; i < l->nro; i++) l->nouter *= pl->rshape[i];
  l->column = pl->nk > 0 && l->ks == 1 && l->rs != 1;
  l->nchunks = (l->m + WIDTH - 1) / WIDTH;
  int64_t groups = 1;
  for (int i = 0; i < l->nko; i++) groups *= pl->kshape[i];
  l->items = groups * l->nchunks;
  /* Few items (an all-reduce, a few long rows): split each item's reduced
   * range so every thread gets a share. */
  int64_t threads = mlx_cpu_thread_count();
  int64_t per_item = (l->m < WIDTH ? l->m : WIDTH) * pl->nred;
  l->parts = 1;
  if (allow_split && l->items < threads && per_item >= 2 * GRAIN) {
    int64_t p = threads / l->items, q = per_item / GRAIN;
    l->parts = p < q ? p : q;
    if (l->parts < 1) l->parts = 1;
  }
}

/* A task's place: output chunk, and its share [b, e) of the flattened
 * (outer run, inner element) reduced range. */
typedef struct {
  int64_t item, part, g, c0, mc, base, b, e;
} task_place;

static void place_task(task_place* t, const loops* l, int64_t task) {
  t->item = task / l->parts;
  t->part = task % l->parts;
  t->g = t->item / l->nchunks;
  t->c0 = (t->item % l->nchunks) * WIDTH;
  t->mc = l->m - t->c0 < WIDTH ? l->m - t->c0 : WIDTH;
  t->base = offset_of(t->g, l->koshape, l->kostr, l->nko) + t->c0 * l->ks;
  int64_t total = l->nouter * l->rn;
  t->b = total * t->part / l->parts;
  t->e = total * (t->part + 1) / l->parts;
}

/* Calls visit(ctx, ptr, len, flat_start) for each run of the task's share:
 * ptr is the run's first element for output column c0, len its length,
 * flat_start the flattened reduced index of its first element. */
typedef void (*run_fn)(void* ctx, const char* p, int64_t len, int64_t flat);

static void walk_runs(const loops* l, const task_place* t, run_fn visit, void* ctx) {
  if (t->b >= t->e) return;
  odometer o;
  odo_set(&o, t->b / l->rn, l->roshape, l->rostr, l->nro);
  int64_t r0 = t->b % l->rn, i = t->b;
  while (i < t->e) {
    int64_t len = l->rn - r0 < t->e - i ? l->rn - r0 : t->e - i;
    visit(ctx, l->x + (t->base + o.off + r0 * l->rs) * (int64_t)l->isz, len, i);
    i += len;
    r0 = 0;
    if (i < t->e) odo_next(&o, l->roshape, l->rostr, l->nro);
  }
}

/* ---- plain reduction driver ----------------------------------------------- */

typedef struct {
  loops l;
  const red_impl* im;
  char* out;
  size_t osz;
  double scale;
  char* partial; /* [items][parts][WIDTH] accumulators when parts > 1 */
} red_job;

typedef struct {
  const red_job* j;
  int64_t mc;
  void* acc;
} red_visit;

static void red_run(void* ctx, const char* p, int64_t len, int64_t flat) {
  (void)flat;
  const red_visit* v = ctx;
  const red_job* j = v->j;
  if (j->l.column) j->im->cols(p, v->mc, len, j->l.rs, v->acc);
  else j->im->rows(p, v->mc, j->l.ks, len, j->l.rs, v->acc);
}

static void red_task(void* ctx, int64_t begin, int64_t end) {
  const red_job* j = ctx;
  _Alignas(64) unsigned char local[WIDTH * 16];
  for (int64_t t = begin; t < end; t++) {
    task_place tp;
    place_task(&tp, &j->l, t);
    void* acc = j->l.parts > 1 ? j->partial + (size_t)t * WIDTH * j->im->acc_size : (void*)local;
    j->im->init(acc, tp.mc);
    red_visit v = {j, tp.mc, acc};
    walk_runs(&j->l, &tp, red_run, &v);
    if (j->l.parts == 1) j->im->fin(j->out + (size_t)(tp.g * j->l.m + tp.c0) * j->osz, acc, tp.mc, j->scale);
  }
}

/* Reduces in over the flagged axes with im into out (row-major over the
 * kept axes, nout elements of osz bytes). */
static int run_reduce(const red_impl* im, const mlx_node_* in, const uint8_t* red, char* out, size_t osz, int64_t nout) {
  red_job j;
  j.im = im;
  j.out = out;
  j.osz = osz;
  j.partial = NULL;
  if (in->size == 0) {
    /* An empty reduction: every output is the identity (NaN for mean). */
    _Alignas(64) unsigned char local[WIDTH * 16];
    for (int64_t c = 0; c < nout; c += WIDTH) {
      int64_t mc = nout - c < WIDTH ? nout - c : WIDTH;
      im->init(local, mc);
      im->fin(out + (size_t)c * osz, local, mc, 1.0 / 0.0);
    }
    return MLX_OK;
  }
  plan pl;
  MLX_TRY(plan_of(&pl, in, red, 1));
  make_loops(&j.l, &pl, mlx_dtype_size(in->dtype), 1);
  j.scale = 1.0 / (double)pl.nred;
  int64_t ntasks = j.l.items * j.l.parts;
  if (j.l.parts > 1) {
    j.partial = malloc((size_t)ntasks * WIDTH * im->acc_size);
    if (!j.partial) return mlx_error_(MLX_ERROR_MEMORY, "[reduce] out of memory for partial results");
  }
  int64_t work = (j.l.m < WIDTH ? j.l.m : WIDTH) * pl.nred / j.l.parts;
  mlx_parallel_for_(ntasks, GRAIN / (work > 0 ? work : 1) + 1, red_task, &j);
  if (j.l.parts > 1) {
    size_t slot = (size_t)WIDTH * im->acc_size;
    for (int64_t it = 0; it < j.l.items; it++) {
      task_place tp;
      place_task(&tp, &j.l, it * j.l.parts);
      char* first = j.partial + (size_t)(it * j.l.parts) * slot;
      for (int64_t q = 1; q < j.l.parts; q++) im->combine(first, first + (size_t)q * slot, tp.mc);
      im->fin(out + (size_t)(tp.g * j.l.m + tp.c0) * osz, first, tp.mc, j.scale);
    }
    free(j.partial);
  }
  return MLX_OK;
}

int mlx_cpu_reduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_reduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  return run_reduce(&impls[p->kind][in->dtype], in, p->axes, out->buf->data, mlx_dtype_size(out->dtype), out->size);
}

/* ---- argmax / argmin ------------------------------------------------------- */

/* State per output: best value (as V, at most 8 bytes) and its index (-1:
 * nothing seen yet). BETTER(v, b): v replaces b; ties keep the first. */
typedef void (*arg_rows_fn)(const void* x, int64_t m, int64_t ks, int64_t n, int64_t rs, int64_t r0, void* best, int64_t* idx);
typedef void (*arg_cols_fn)(const void* x, int64_t m, int64_t n, int64_t rs, int64_t r0, void* best, int64_t* idx);
typedef void (*arg_comb_fn)(void* best, int64_t* idx, const void* obest, const int64_t* oidx, int64_t m);

#define DEF_ARG(N, T, LD, V, BETTER, ISNAN, BEST)                                                          \
  static void N##_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, int64_t r0, void* bv, \
                       int64_t* idx) {                                                                     \
    const T* x = xv;                                                                                       \
    V* best = bv;                                                                                          \
    for (int64_t j = 0; j < m; j++) {                                                                      \
      const T* p = x + j * ks;                                                                             \
      V b;                                                                                                 \
      int64_t bi = 0;                                                                                      \
      if (rs == 1 && n >= MMW) {                                                                           \
        /* the best value by the vectorized max/min, then its first index */                              \
        b = BEST(p, n, 1);                                                                                 \
        if (ISNAN(b))                                                                                      \
          while (!ISNAN((V)LD(p[bi]))) bi++;                                                               \
        else                                                                                               \
          while ((V)LD(p[bi]) != b) bi++;                                                                  \
      } else {                                                                                             \
        b = (V)LD(p[0]);                                                                                   \
        for (int64_t r = 1; r < n; r++) {                                                                  \
          V v = (V)LD(p[r * rs]);                                                                          \
          if (BETTER(v, b)) {                                                                              \
            b = v;                                                                                         \
            bi = r;                                                                                        \
          }                                                                                                \
        }                                                                                                  \
      }                                                                                                    \
      /* runs arrive in index order: an equal later run does not replace */                               \
      if (idx[j] < 0 || BETTER(b, best[j])) {                                                              \
        best[j] = b;                                                                                       \
        idx[j] = r0 + bi;                                                                                  \
      }                                                                                                    \
    }                                                                                                      \
  }                                                                                                        \
  static void N##_cols(const void* xv, int64_t m, int64_t n, int64_t rs, int64_t r0, void* bv, int64_t* idx) { \
    const T* x = xv;                                                                                       \
    V* restrict best = bv;                                                                                 \
    int64_t r = 0;                                                                                         \
    if (idx[0] < 0) {                                                                                      \
      for (int64_t j = 0; j < m; j++) {                                                                    \
        best[j] = (V)LD(x[j]);                                                                             \
        idx[j] = r0;                                                                                       \
      }                                                                                                    \
      r = 1;                                                                                               \
    }                                                                                                      \
    for (; r < n; r++) {                                                                                   \
      const T* restrict row = x + r * rs;                                                                  \
      for (int64_t j = 0; j < m; j++) {                                                                    \
        V v = (V)LD(row[j]);                                                                               \
        int take = BETTER(v, best[j]);                                                                     \
        best[j] = take ? v : best[j];                                                                      \
        idx[j] = take ? r0 + r : idx[j];                                                                   \
      }                                                                                                    \
    }                                                                                                      \
  }                                                                                                        \
  static void N##_comb(void* bv, int64_t* idx, const void* obv, const int64_t* oidx, int64_t m) {          \
    V* best = bv;                                                                                          \
    const V* ob = obv;                                                                                     \
    for (int64_t j = 0; j < m; j++)                                                                        \
      if (oidx[j] >= 0 && (idx[j] < 0 || BETTER(ob[j], best[j]))) {                                        \
        best[j] = ob[j];                                                                                   \
        idx[j] = oidx[j];                                                                                  \
      }                                                                                                    \
  }

#define B_MAX(v, b) ((v) > (b))
#define B_MIN(v, b) ((v) < (b))
#define B_FMAX(v, b) ((v) > (b) || ((v) != (v) && (b) == (b)))
#define B_FMIN(v, b) ((v) < (b) || ((v) != (v) && (b) == (b)))
#define B_CMAX(v, b) (c_gt(v, b) || (c_isnan(v) && !c_isnan(b)))
#define B_CMIN(v, b) (c_lt(v, b) || (c_isnan(v) && !c_isnan(b)))

#define ARG_FOR(OPN, MM, BI, BF, BC)                                  \
  DEF_ARG(OPN##_u8, uint8_t, LD_ID, uint8_t, BI, NAN_NO, MM##_u8_run)          \
  DEF_ARG(OPN##_u16, uint16_t, LD_ID, uint16_t, BI, NAN_NO, MM##_u16_run)      \
  DEF_ARG(OPN##_u32, uint32_t, LD_ID, uint32_t, BI, NAN_NO, MM##_u32_run)      \
  DEF_ARG(OPN##_u64, uint64_t, LD_ID, uint64_t, BI, NAN_NO, MM##_u64_run)      \
  DEF_ARG(OPN##_i8, int8_t, LD_ID, int8_t, BI, NAN_NO, MM##_i8_run)            \
  DEF_ARG(OPN##_i16, int16_t, LD_ID, int16_t, BI, NAN_NO, MM##_i16_run)        \
  DEF_ARG(OPN##_i32, int32_t, LD_ID, int32_t, BI, NAN_NO, MM##_i32_run)        \
  DEF_ARG(OPN##_i64, int64_t, LD_ID, int64_t, BI, NAN_NO, MM##_i64_run)        \
  DEF_ARG(OPN##_f16, mlx_f16, LD_F16, float, BF, NAN_F, MM##_f16_run)          \
  DEF_ARG(OPN##_f32, float, LD_ID, float, BF, NAN_F, MM##_f32_run)             \
  DEF_ARG(OPN##_f64, double, LD_ID, double, BF, NAN_F, MM##_f64_run)           \
  DEF_ARG(OPN##_bf, mlx_bf16, LD_BF, float, BF, NAN_F, MM##_bf_run)            \
  DEF_ARG(OPN##_c64, mlx_c64, LD_ID, mlx_c64, BC, c_isnan, MM##_c64_run)
ARG_FOR(amax, max, B_MAX, B_FMAX, B_CMAX)
ARG_FOR(amin, min, B_MIN, B_FMIN, B_CMIN)

typedef struct {
  arg_rows_fn rows;
  arg_cols_fn cols;
  arg_comb_fn comb;
} arg_impl;

#define E_ARG(N) {N##_rows, N##_cols, N##_comb}
#define ARG_TABLE(OPN)                                                                                   \
  {E_ARG(OPN##_u8), E_ARG(OPN##_u8), E_ARG(OPN##_u16), E_ARG(OPN##_u32), E_ARG(OPN##_u64), E_ARG(OPN##_i8), \
   E_ARG(OPN##_i16), E_ARG(OPN##_i32), E_ARG(OPN##_i64), E_ARG(OPN##_f16), E_ARG(OPN##_f32),              \
   E_ARG(OPN##_f64), E_ARG(OPN##_bf), E_ARG(OPN##_c64)}
static const arg_impl arg_impls[2][MLX_NUM_DTYPES] = {ARG_TABLE(amax), ARG_TABLE(amin)};

typedef struct {
  loops l;
  const arg_impl* im;
  uint32_t* out;
  char* pbest;     /* [tasks][WIDTH] values (8 bytes each) when parts > 1 */
  int64_t* pidx;   /* [tasks][WIDTH] indices when parts > 1 */
} arg_job;

typedef struct {
  const arg_job* j;
  int64_t mc;
  void* best;
  int64_t* idx;
} arg_visit;

static void arg_run(void* ctx, const char* p, int64_t len, int64_t flat) {
  const arg_visit* v = ctx;
  const arg_job* j = v->j;
  if (j->l.column) j->im->cols(p, v->mc, len, j->l.rs, flat, v->best, v->idx);
  else j->im->rows(p, v->mc, j->l.ks, len, j->l.rs, flat, v->best, v->idx);
}

static void arg_task(void* ctx, int64_t begin, int64_t end) {
  const arg_job* j = ctx;
  _Alignas(64) unsigned char lbest[WIDTH * 8];
  int64_t lidx[WIDTH];
  for (int64_t t = begin; t < end; t++) {
    task_place tp;
    place_task(&tp, &j->l, t);
    void* best = j->l.parts > 1 ? (void*)(j->pbest + (size_t)t * WIDTH * 8) : (void*)lbest;
    int64_t* idx = j->l.parts > 1 ? j->pidx + t * WIDTH : lidx;
    for (int64_t c = 0; c < tp.mc; c++) idx[c] = -1;
    arg_visit v = {j, tp.mc, best, idx};
    walk_runs(&j->l, &tp, arg_run, &v);
    if (j->l.parts == 1)
      for (int64_t c = 0; c < tp.mc; c++) j->out[tp.g * j->l.m + tp.c0 + c] = (uint32_t)idx[c];
  }
}

int mlx_cpu_argreduce_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_argreduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0 || in->size == 0) return MLX_OK;
  /* axis < 0: over the flattened array, in row-major order */
  uint8_t red[in->ndim > 0 ? in->ndim : 1];
  for (int i = 0; i < in->ndim; i++) red[i] = p->axis < 0 || i == p->axis;
  plan pl;
  MLX_TRY(plan_of(&pl, in, red, 0));
  arg_job j;
  make_loops(&j.l, &pl, mlx_dtype_size(in->dtype), 1);
  j.im = &arg_impls[p->is_min ? 1 : 0][in->dtype];
  j.out = out->buf->data;
  j.pbest = NULL;
  j.pidx = NULL;
  int64_t ntasks = j.l.items * j.l.parts;
  if (j.l.parts > 1) {
    j.pbest = malloc((size_t)ntasks * WIDTH * 8);
    j.pidx = malloc((size_t)ntasks * WIDTH * sizeof(int64_t));
    if (!j.pbest || !j.pidx) {
      free(j.pbest);
      free(j.pidx);
      return mlx_error_(MLX_ERROR_MEMORY, "[argreduce] out of memory for partial results");
    }
  }
  int64_t work = (j.l.m < WIDTH ? j.l.m : WIDTH) * pl.nred / j.l.parts;
  mlx_parallel_for_(ntasks, GRAIN / (work > 0 ? work : 1) + 1, arg_task, &j);
  if (j.l.parts > 1) {
    /* parts cover increasing indices, so merging in order keeps ties first */
    for (int64_t it = 0; it < j.l.items; it++) {
      task_place tp;
      place_task(&tp, &j.l, it * j.l.parts);
      int64_t first = it * j.l.parts;
      for (int64_t q = 1; q < j.l.parts; q++)
        j.im->comb(j.pbest + (size_t)first * WIDTH * 8, j.pidx + first * WIDTH, j.pbest + (size_t)(first + q) * WIDTH * 8,
                   j.pidx + (first + q) * WIDTH, tp.mc);
      for (int64_t c = 0; c < tp.mc; c++) j.out[tp.g * j.l.m + tp.c0 + c] = (uint32_t)j.pidx[first * WIDTH + c];
    }
    free(j.pbest);
    free(j.pidx);
  }
  return MLX_OK;
}

/* ---- var/std, logsumexp, softmax ------------------------------------------ */

/* These run on the same plans and tasks as the plain reductions, in
 * passes over each task's runs: var takes the mean (the mean kernel, into
 * a buffer) then sums squared deviations; logsumexp takes the max then
 * sums exponentials; softmax takes the max, writes exponentials while
 * summing them, then scales. */

/* Stores a value computed in float/double (or complex) into element i of
 * an array of float or complex dtype dt, rounding once. */
static void store_val(void* out, int64_t i, mlx_dtype dt, double re, double im) {
  switch (dt) {
    case MLX_FLOAT16:
      ((mlx_f16*)out)[i] = (mlx_f16)re;
      break;
    case MLX_BFLOAT16:
      ((mlx_bf16*)out)[i] = mlx_f32_to_bf16((float)re);
      break;
    case MLX_FLOAT32:
      ((float*)out)[i] = (float)re;
      break;
    case MLX_FLOAT64:
      ((double*)out)[i] = re;
      break;
    case MLX_COMPLEX64:
      ((mlx_c64*)out)[i] = CMPLXF((float)re, (float)im);
      break;
    default:
      break;
  }
}

/* var pass 2: acc[j] += RF(d * d) over the runs with d = RF(x - mu[j]),
 * upstream's subtract and square rounded to the float dtype (FC computes,
 * RF rounds); mu holds the means in the output dtype's storage MUT. */
#define DEF_VAR2(N, T, LD, FC, RF, MUT, MULD)                                                  \
  static void N##_v2rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* muv, double* acc) { \
    const T* x = xv;                                                                           \
    const MUT* mu = muv;                                                                       \
    for (int64_t j = 0; j < m; j++) {                                                          \
      const T* restrict p = x + j * ks;                                                        \
      FC u = (FC)MULD(mu[j]);                                                                  \
      double l[8] = {0};                                                                       \
      int64_t i = 0;                                                                           \
      if (rs == 1)                                                                             \
        for (; i + 8 <= n; i += 8)                                                             \
          for (int k = 0; k < 8; k++) {                                                        \
            FC d = RF((FC)LD(p[i + k]) - u);                                                   \
            l[k] += (double)RF(d * d);                                                         \
          }                                                                                    \
      for (; i < n; i++) {                                                                     \
        FC d = RF((FC)LD(p[i * rs]) - u);                                                      \
        l[0] += (double)RF(d * d);                                                             \
      }                                                                                        \
      acc[j] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));            \
    }                                                                                          \
  }                                                                                            \
  static void N##_v2cols(const void* xv, int64_t m, int64_t n, int64_t rs, const void* muv, double* acc) { \
    const T* x = xv;                                                                           \
    const MUT* restrict mu = muv;                                                              \
    for (int64_t r = 0; r < n; r++) {                                                          \
      const T* restrict row = x + r * rs;                                                      \
      for (int64_t j = 0; j < m; j++) {                                                        \
        FC d = RF((FC)LD(row[j]) - (FC)MULD(mu[j]));                                           \
        acc[j] += (double)RF(d * d);                                                           \
      }                                                                                        \
    }                                                                                          \
  }

/* var/std output: upstream's sum (rounded), then * 1/n or / max(n - ddof,
 * 0), then sqrt, each rounded to the output dtype OT. */
#define DEF_VARFIN(N, FC, RF, OT, STORE)                                                       \
  static void N##_vfin(void* out, const double* acc, int64_t m, double nred, int ddof, int root) { \
    OT* o = out;                                                                               \
    for (int64_t j = 0; j < m; j++) {                                                          \
      FC v = RF(acc[j]);                                                                       \
      if (ddof == 0) {                                                                         \
        v = RF(v * RF((FC)(1.0 / nred)));                                                      \
      } else {                                                                                 \
        FC den = RF(RF((FC)nred) - RF((FC)ddof));                                              \
        v = RF(v / (den > 0 ? den : (FC)0));                                                   \
      }                                                                                        \
      if (root) v = RF(sqrt(v));                                                               \
      o[j] = STORE(v);                                                                         \
    }                                                                                          \
  }

DEF_VAR2(var_b, uint8_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_u16, uint16_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_u32, uint32_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_u64, uint64_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_i8, int8_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_i16, int16_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_i32, int32_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_i64, int64_t, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_f16, mlx_f16, LD_F16, float, R_F16, mlx_f16, LD_F16)
DEF_VAR2(var_f32, float, LD_ID, float, R_F32, float, LD_ID)
DEF_VAR2(var_f64, double, LD_ID, double, R_F64, double, LD_ID)
DEF_VAR2(var_bf, mlx_bf16, LD_BF, float, R_BF, mlx_bf16, LD_BF)
DEF_VARFIN(var_f16, float, R_F16, mlx_f16, TO_F16)
DEF_VARFIN(var_f32, float, R_F32, float, LD_ID)
DEF_VARFIN(var_f64, double, R_F64, double, LD_ID)
DEF_VARFIN(var_bf, float, R_BF, mlx_bf16, TO_BF)

/* complex: the mean is complex, the squared distance |x - mu|^2 real */
static void var_c64_v2rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* muv, double* acc) {
  const mlx_c64* x = xv;
  const mlx_c64* mu = muv;
  for (int64_t j = 0; j < m; j++) {
    float ur = crealf(mu[j]), ui = cimagf(mu[j]);
    double a = 0;
    for (int64_t r = 0; r < n; r++) {
      mlx_c64 v = x[j * ks + r * rs];
      float dr = crealf(v) - ur, di = cimagf(v) - ui;
      a += (double)(dr * dr + di * di);
    }
    acc[j] += a;
  }
}

static void var_c64_v2cols(const void* xv, int64_t m, int64_t n, int64_t rs, const void* muv, double* acc) {
  var_c64_v2rows(xv, m, 1, 1, 0, muv, acc);
  for (int64_t r = 1; r < n; r++) var_c64_v2rows((const mlx_c64*)xv + r * rs, m, 1, 1, 0, muv, acc);
}

typedef struct {
  void (*rows)(const void* x, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mu, double* acc);
  void (*cols)(const void* x, int64_t m, int64_t n, int64_t rs, const void* mu, double* acc);
  void (*fin)(void* out, const double* acc, int64_t m, double nred, int ddof, int root);
} var_impl;

#define E_VAR(N, F) {N##_v2rows, N##_v2cols, F##_vfin}
static const var_impl var_impls[MLX_NUM_DTYPES] = {
    E_VAR(var_b, var_f32),   E_VAR(var_b, var_f32),   E_VAR(var_u16, var_f32), E_VAR(var_u32, var_f32),
    E_VAR(var_u64, var_f32), E_VAR(var_i8, var_f32),  E_VAR(var_i16, var_f32), E_VAR(var_i32, var_f32),
    E_VAR(var_i64, var_f32), E_VAR(var_f16, var_f16), E_VAR(var_f32, var_f32), E_VAR(var_f64, var_f64),
    E_VAR(var_bf, var_bf),   E_VAR(var_c64, var_f32)};

typedef struct {
  loops l;
  const var_impl* im;
  const char* mu; /* means, one per output */
  size_t musz;
  char* out;
  size_t osz;
  double nred;
  int ddof, root;
  double* partial; /* [items][parts][WIDTH] when parts > 1 */
} var_job;

typedef struct {
  const var_job* j;
  int64_t mc;
  const char* mu;
  double* acc;
} var_visit;

static void var_run(void* ctx, const char* p, int64_t len, int64_t flat) {
  (void)flat;
  const var_visit* v = ctx;
  const var_job* j = v->j;
  if (j->l.column) j->im->cols(p, v->mc, len, j->l.rs, v->mu, v->acc);
  else j->im->rows(p, v->mc, j->l.ks, len, j->l.rs, v->mu, v->acc);
}

static void var_task(void* ctx, int64_t begin, int64_t end) {
  const var_job* j = ctx;
  double local[WIDTH];
  for (int64_t t = begin; t < end; t++) {
    task_place tp;
    place_task(&tp, &j->l, t);
    double* acc = j->l.parts > 1 ? j->partial + t * WIDTH : local;
    for (int64_t c = 0; c < tp.mc; c++) acc[c] = 0;
    int64_t o = tp.g * j->l.m + tp.c0;
    var_visit v = {j, tp.mc, j->mu + (size_t)o * j->musz, acc};
    walk_runs(&j->l, &tp, var_run, &v);
    if (j->l.parts == 1) j->im->fin(j->out + (size_t)o * j->osz, acc, tp.mc, j->nred, j->ddof, j->root);
  }
}

static int var_kernel(mlx_node_* out, mlx_node_* in, const mlx_reduce_params_* p, int root) {
  MLX_TRY(mlx_node_alloc_(out));
  if (out->size == 0) return MLX_OK;
  var_job j;
  j.im = &var_impls[in->dtype];
  j.out = out->buf->data;
  j.osz = mlx_dtype_size(out->dtype);
  j.ddof = p->ddof;
  j.root = root;
  j.partial = NULL;
  if (in->size == 0) {
    /* no elements: NaN, or 0 / (0 - ddof) for a negative ddof, as upstream */
    double zero[WIDTH] = {0};
    for (int64_t c = 0; c < out->size; c += WIDTH)
      j.im->fin(j.out + (size_t)c * j.osz, zero, out->size - c < WIDTH ? out->size - c : WIDTH, 0, j.ddof, root);
    return MLX_OK;
  }
  /* pass 1: the means, exactly as mean() computes them */
  mlx_dtype mdt = in->dtype == MLX_COMPLEX64 || mlx_dtype_is_floating(in->dtype) ? in->dtype : MLX_FLOAT32;
  j.musz = mlx_dtype_size(mdt);
  mlx_buffer_* mu = mlx_buffer_alloc_((size_t)out->size * j.musz);
  if (!mu) return mlx_last_error_code();
  j.mu = mu->data;
  int rc = run_reduce(&impls[MLX_RED_MEAN_][in->dtype], in, p->axes, mu->data, j.musz, out->size);
  plan pl;
  if (rc == MLX_OK) rc = plan_of(&pl, in, p->axes, 1);
  if (rc == MLX_OK) {
    make_loops(&j.l, &pl, mlx_dtype_size(in->dtype), 1);
    j.nred = (double)pl.nred;
    int64_t ntasks = j.l.items * j.l.parts;
    if (j.l.parts > 1) {
      j.partial = malloc((size_t)ntasks * WIDTH * sizeof(double));
      if (!j.partial) rc = mlx_error_(MLX_ERROR_MEMORY, "[var] out of memory for partial results");
    }
    if (rc == MLX_OK) {
      int64_t work = (j.l.m < WIDTH ? j.l.m : WIDTH) * pl.nred / j.l.parts;
      mlx_parallel_for_(ntasks, GRAIN / (work > 0 ? work : 1) + 1, var_task, &j);
      for (int64_t it = 0; j.l.parts > 1 && it < j.l.items; it++) {
        task_place tp;
        place_task(&tp, &j.l, it * j.l.parts);
        double* first = j.partial + it * j.l.parts * WIDTH;
        for (int64_t q = 1; q < j.l.parts; q++)
          for (int64_t c = 0; c < tp.mc; c++) first[c] += first[q * WIDTH + c];
        int64_t o = tp.g * j.l.m + tp.c0;
        j.im->fin(j.out + (size_t)o * j.osz, first, tp.mc, j.nred, j.ddof, root);
      }
    }
    free(j.partial);
  }
  mlx_buffer_release_(mu);
  return rc;
}

int mlx_cpu_var_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  return var_kernel(outs[0], ins[0], params, 0);
}

int mlx_cpu_std_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  return var_kernel(outs[0], ins[0], params, 1);
}

/* Exponential kernels of logsumexp and softmax, per compute dtype C:
 *   sx:    s[j] += sum exp(x - mx[j]) over the runs (logsumexp);
 *   smx:   y = exp(x - mx[j]), s[j] += sum y (softmax; y may be x);
 *   scale: y *= inv[j].
 * rows/cols as for the plain reductions; s accumulates in double (SC). */
#define EXPBUF 256 /* exponentials computed (vectorized) before being summed */

static double sum_exp_f32(const float* restrict x, int64_t n, float m) {
  float buf[EXPBUF];
  double acc = 0;
  for (int64_t i = 0; i < n; i += EXPBUF) {
    int64_t len = n - i < EXPBUF ? n - i : EXPBUF;
    for (int64_t k = 0; k < len; k++) buf[k] = exp_f32(x[i + k] - m);
    acc += sum_f32_run(buf, len, 1);
  }
  return acc;
}

static double smx_run_f32(const float* x, float* y, int64_t n, int64_t rs, float m) {
  if (rs != 1) {
    double acc = 0;
    for (int64_t r = 0; r < n; r++) {
      y[r * rs] = exp_f32(x[r * rs] - m);
      acc += y[r * rs];
    }
    return acc;
  }
  double acc = 0;
  for (int64_t i = 0; i < n; i += EXPBUF) {
    int64_t len = n - i < EXPBUF ? n - i : EXPBUF;
    for (int64_t k = i; k < i + len; k++) y[k] = exp_f32(x[k] - m);
    acc += sum_f32_run(y + i, len, 1);
  }
  return acc;
}

static void f32_sx_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mxv, void* sv) {
  const float* x = xv;
  const float* mx = mxv;
  double* s = sv;
  for (int64_t j = 0; j < m; j++) {
    const float* p = x + j * ks;
    if (rs == 1) {
      s[j] += sum_exp_f32(p, n, mx[j]);
    } else {
      double a = 0;
      for (int64_t r = 0; r < n; r++) a += exp_f32(p[r * rs] - mx[j]);
      s[j] += a;
    }
  }
}

static void f32_sx_cols(const void* xv, int64_t m, int64_t n, int64_t rs, const void* mxv, void* sv) {
  const float* x = xv;
  const float* restrict mx = mxv;
  double* restrict s = sv;
  float tile[WIDTH];
  for (int64_t r0 = 0; r0 < n; r0 += TILE) {
    int64_t r1 = n - r0 < TILE ? n : r0 + TILE;
    for (int64_t j = 0; j < m; j++) tile[j] = 0;
    for (int64_t r = r0; r < r1; r++) {
      const float* restrict row = x + r * rs;
      for (int64_t j = 0; j < m; j++) tile[j] += exp_f32(row[j] - mx[j]);
    }
    for (int64_t j = 0; j < m; j++) s[j] += tile[j];
  }
}

static void f32_smx_rows(const void* xv, void* yv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mxv, void* sv) {
  const float* mx = mxv;
  double* s = sv;
  for (int64_t j = 0; j < m; j++) s[j] += smx_run_f32((const float*)xv + j * ks, (float*)yv + j * ks, n, rs, mx[j]);
}

static void f32_smx_cols(const void* xv, void* yv, int64_t m, int64_t n, int64_t rs, const void* mxv, void* sv) {
  const float* x = xv;
  float* y = yv;
  const float* restrict mx = mxv;
  double* restrict s = sv;
  float tile[WIDTH];
  for (int64_t r0 = 0; r0 < n; r0 += TILE) {
    int64_t r1 = n - r0 < TILE ? n : r0 + TILE;
    for (int64_t j = 0; j < m; j++) tile[j] = 0;
    for (int64_t r = r0; r < r1; r++)
      for (int64_t j = 0; j < m; j++) {
        float e = exp_f32(x[r * rs + j] - mx[j]);
        y[r * rs + j] = e;
        tile[j] += e;
      }
    for (int64_t j = 0; j < m; j++) s[j] += tile[j];
  }
}

/* float64 and complex64: plain loops over libm's exp */
#define EXP_GENERIC(N, C, SC, EXPF)                                                            \
  static void N##_sx_rows(const void* xv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mxv, void* sv) { \
    const C* x = xv;                                                                           \
    const C* mx = mxv;                                                                         \
    SC* s = sv;                                                                                \
    for (int64_t j = 0; j < m; j++)                                                            \
      for (int64_t r = 0; r < n; r++) s[j] += EXPF(x[j * ks + r * rs] - mx[j]);                \
  }                                                                                            \
  static void N##_sx_cols(const void* xv, int64_t m, int64_t n, int64_t rs, const void* mxv, void* sv) { \
    N##_sx_rows(xv, m, 1, 1, 0, mxv, sv);                                                      \
    for (int64_t r = 1; r < n; r++) N##_sx_rows((const C*)xv + r * rs, m, 1, 1, 0, mxv, sv);   \
  }                                                                                            \
  static void N##_smx_rows(const void* xv, void* yv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mxv, \
                           void* sv) {                                                         \
    const C* x = xv;                                                                           \
    C* y = yv;                                                                                 \
    const C* mx = mxv;                                                                         \
    SC* s = sv;                                                                                \
    for (int64_t j = 0; j < m; j++)                                                            \
      for (int64_t r = 0; r < n; r++) {                                                        \
        int64_t i = j * ks + r * rs;                                                           \
        y[i] = EXPF(x[i] - mx[j]);                                                             \
        s[j] += y[i];                                                                          \
      }                                                                                        \
  }                                                                                            \
  static void N##_smx_cols(const void* xv, void* yv, int64_t m, int64_t n, int64_t rs, const void* mxv, void* sv) { \
    for (int64_t r = 0; r < n; r++) N##_smx_rows((const C*)xv + r * rs, (C*)yv + r * rs, m, 1, 1, 0, mxv, sv); \
  }

EXP_GENERIC(f64, double, double, exp)
EXP_GENERIC(c64, mlx_c64, cdouble, cexpf)

/* y *= inv[j] over the runs (y of type C) */
#define DEF_SCALE(N, C)                                                                        \
  static void N##_scale_rows(void* yv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* iv) { \
    C* y = yv;                                                                                 \
    const C* inv = iv;                                                                         \
    for (int64_t j = 0; j < m; j++) {                                                          \
      C* restrict q = y + j * ks;                                                              \
      C f = inv[j];                                                                            \
      if (rs == 1)                                                                             \
        for (int64_t r = 0; r < n; r++) q[r] *= f;                                             \
      else                                                                                     \
        for (int64_t r = 0; r < n; r++) q[r * rs] *= f;                                        \
    }                                                                                          \
  }                                                                                            \
  static void N##_scale_cols(void* yv, int64_t m, int64_t n, int64_t rs, const void* iv) {    \
    C* y = yv;                                                                                 \
    const C* restrict inv = iv;                                                                \
    for (int64_t r = 0; r < n; r++) {                                                          \
      C* restrict q = y + r * rs;                                                              \
      for (int64_t j = 0; j < m; j++) q[j] *= inv[j];                                          \
    }                                                                                          \
  }
DEF_SCALE(f32, float)
DEF_SCALE(f64, double)

/* complex: y / s, as upstream's divide (not y * (1 / s)) */
static void c64_scale_rows(void* yv, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* sv) {
  mlx_c64* y = yv;
  const mlx_c64* s = sv;
  for (int64_t j = 0; j < m; j++)
    for (int64_t r = 0; r < n; r++) y[j * ks + r * rs] /= s[j];
}

static void c64_scale_cols(void* yv, int64_t m, int64_t n, int64_t rs, const void* sv) {
  for (int64_t r = 0; r < n; r++) c64_scale_rows((mlx_c64*)yv + r * rs, m, 1, 1, 0, sv);
}

typedef struct {
  mlx_dtype dt;
  size_t sz; /* bytes of C */
  void (*sx_rows)(const void* x, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mx, void* s);
  void (*sx_cols)(const void* x, int64_t m, int64_t n, int64_t rs, const void* mx, void* s);
  void (*smx_rows)(const void* x, void* y, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* mx, void* s);
  void (*smx_cols)(const void* x, void* y, int64_t m, int64_t n, int64_t rs, const void* mx, void* s);
  void (*scale_rows)(void* y, int64_t m, int64_t ks, int64_t n, int64_t rs, const void* inv);
  void (*scale_cols)(void* y, int64_t m, int64_t n, int64_t rs, const void* inv);
} exp_impl;

#define E_EXP(N, DT, C) {DT, sizeof(C), N##_sx_rows, N##_sx_cols, N##_smx_rows, N##_smx_cols, N##_scale_rows, N##_scale_cols}
static const exp_impl exp_f32_impl = E_EXP(f32, MLX_FLOAT32, float);
static const exp_impl exp_f64_impl = E_EXP(f64, MLX_FLOAT64, double);
static const exp_impl exp_c64_impl = E_EXP(c64, MLX_COMPLEX64, mlx_c64);

/* logsumexp and softmax compute in float32, float64 or complex64 */
static const exp_impl* exp_impl_of(mlx_dtype t) {
  return t == MLX_FLOAT64 ? &exp_f64_impl : t == MLX_COMPLEX64 ? &exp_c64_impl : &exp_f32_impl;
}

/* The max (NaN-sticky) and the exp sum relative to it, for one task. */
typedef struct {
  loops l;
  const exp_impl* ex;
  const red_impl* mx; /* the max kernel of the compute dtype */
  const char* x;      /* the rows' base (softmax: y has the same offsets) */
  char* y;
  mlx_dtype odt;
  char* out;                 /* logsumexp output */
  char *pmax, *psum;         /* logsumexp partials when parts > 1 */
} exp_job;

typedef struct {
  const exp_job* j;
  int64_t mc;
  void* mx;
  void* s;
  int pass; /* 0 max, 1 sum of exponentials, 2 softmax exponentials, 3 scale */
} exp_visit;

static void exp_run(void* ctx, const char* p, int64_t len, int64_t flat) {
  (void)flat;
  const exp_visit* v = ctx;
  const exp_job* j = v->j;
  const loops* l = &j->l;
  void* q = j->y + (p - j->x);
  switch (v->pass) {
    case 0:
      if (l->column) j->mx->cols(p, v->mc, len, l->rs, v->mx);
      else j->mx->rows(p, v->mc, l->ks, len, l->rs, v->mx);
      break;
    case 1:
      if (l->column) j->ex->sx_cols(p, v->mc, len, l->rs, v->mx, v->s);
      else j->ex->sx_rows(p, v->mc, l->ks, len, l->rs, v->mx, v->s);
      break;
    case 2:
      if (l->column) j->ex->smx_cols(p, q, v->mc, len, l->rs, v->mx, v->s);
      else j->ex->smx_rows(p, q, v->mc, l->ks, len, l->rs, v->mx, v->s);
      break;
    default:
      if (l->column) j->ex->scale_cols(q, v->mc, len, l->rs, v->s);
      else j->ex->scale_rows(q, v->mc, l->ks, len, l->rs, v->s);
      break;
  }
}

/* Max then exp sum (pass 1: logsumexp, 2: softmax) of one task into
 * mx (compute dtype) and s (double or double complex). */
static void max_and_sum(const exp_job* j, const task_place* tp, void* mx, void* s, int pass) {
  j->mx->init(mx, tp->mc);
  memset(s, 0, (size_t)tp->mc * (j->ex->dt == MLX_COMPLEX64 ? sizeof(cdouble) : sizeof(double)));
  exp_visit v = {j, tp->mc, mx, s, 0};
  walk_runs(&j->l, tp, exp_run, &v);
  v.pass = pass;
  walk_runs(&j->l, tp, exp_run, &v);
}

/* logsumexp of one output from its max and exp sum; an infinite max is
 * the result (upstream's where(isinf(max), max, ...)). */
static void lse_store(const exp_job* j, int64_t o, const void* mx, const void* s, int64_t c) {
  if (j->ex->dt == MLX_FLOAT32) {
    float m = ((const float*)mx)[c];
    store_val(j->out, o, j->odt, isinf(m) ? m : logf((float)((const double*)s)[c]) + m, 0);
  } else if (j->ex->dt == MLX_FLOAT64) {
    double m = ((const double*)mx)[c];
    store_val(j->out, o, j->odt, isinf(m) ? m : log(((const double*)s)[c]) + m, 0);
  } else {
    mlx_c64 m = ((const mlx_c64*)mx)[c];
    mlx_c64 r = isinf(crealf(m)) || isinf(cimagf(m)) ? m : clogf((mlx_c64)((const cdouble*)s)[c]) + m;
    store_val(j->out, o, j->odt, crealf(r), cimagf(r));
  }
}

static void lse_task(void* ctx, int64_t begin, int64_t end) {
  const exp_job* j = ctx;
  _Alignas(64) unsigned char lmx[WIDTH * 8], ls[WIDTH * 16];
  for (int64_t t = begin; t < end; t++) {
    task_place tp;
    place_task(&tp, &j->l, t);
    int split = j->l.parts > 1;
    void* mx = split ? (void*)(j->pmax + (size_t)t * WIDTH * 8) : (void*)lmx;
    void* s = split ? (void*)(j->psum + (size_t)t * WIDTH * 16) : (void*)ls;
    max_and_sum(j, &tp, mx, s, 1);
    if (!split)
      for (int64_t c = 0; c < tp.mc; c++) lse_store(j, tp.g * j->l.m + tp.c0 + c, mx, s, c);
  }
}

/* Merges part b's (max, sum) into part a's: the sums are rescaled to the
 * larger max. A part whose max is -inf holds only -inf (its sum is NaN)
 * and adds nothing; an infinite or NaN overall max decides the result by
 * itself (see lse_store). */
static void lse_merge(mlx_dtype dt, void* amx, void* as, const void* bmx, const void* bs, int64_t n) {
  for (int64_t c = 0; c < n; c++) {
    if (dt == MLX_COMPLEX64) {
      mlx_c64 *ma = (mlx_c64*)amx + c, mb = ((const mlx_c64*)bmx)[c];
      cdouble *sa = (cdouble*)as + c, sb = ((const cdouble*)bs)[c];
      mlx_c64 m = PICK(*ma, mb, c_gt, c_isnan);
      cdouble a = crealf(*ma) == -INFINITY ? 0 : *sa * (cdouble)cexpf(*ma - m);
      cdouble b = crealf(mb) == -INFINITY ? 0 : sb * (cdouble)cexpf(mb - m);
      *sa = a + b;
      *ma = m;
    } else {
      double ma = dt == MLX_FLOAT32 ? ((float*)amx)[c] : ((double*)amx)[c];
      double mb = dt == MLX_FLOAT32 ? ((const float*)bmx)[c] : ((const double*)bmx)[c];
      double* sa = (double*)as + c;
      double m = PICK(ma, mb, GT, NAN_F);
      double a = ma == -INFINITY ? 0 : *sa * exp(ma - m);
      double b = mb == -INFINITY ? 0 : ((const double*)bs)[c] * exp(mb - m);
      *sa = a + b;
      if (dt == MLX_FLOAT32) ((float*)amx)[c] = (float)m;
      else ((double*)amx)[c] = m;
    }
  }
}

/* The input as rows of the compute dtype: the input itself when it has
 * that dtype, else a row-major converted copy in *scratch. */
static int compute_layout(plan* pl, mlx_buffer_** scratch, const mlx_node_* in, const uint8_t* red, mlx_dtype dt, int reorder) {
  *scratch = NULL;
  if (in->dtype == dt) return plan_of(pl, in, red, reorder);
  mlx_buffer_* b = mlx_buffer_alloc_((size_t)in->size * mlx_dtype_size(dt));
  if (!b) return mlx_last_error_code();
  mlx_node_copy_to_(b->data, dt, in);
  int nd = in->ndim;
  int64_t str[nd > 0 ? nd : 1];
  mlx_row_strides_(str, in->shape, nd);
  *scratch = b;
  return make_plan(pl, b->data, mlx_dtype_size(dt), in->shape, str, nd, red, reorder);
}

int mlx_cpu_logsumexp_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_reduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  MLX_TRY(mlx_node_alloc_(out));
  /* the op constructor refuses empty inputs */
  if (out->size == 0 || in->size == 0) return MLX_OK;
  exp_job j;
  j.ex = exp_impl_of(in->dtype);
  j.mx = &impls[MLX_RED_MAX_][j.ex->dt];
  j.odt = out->dtype;
  j.out = out->buf->data;
  j.pmax = j.psum = NULL;
  plan pl;
  mlx_buffer_* scratch;
  MLX_TRY(compute_layout(&pl, &scratch, in, p->axes, j.ex->dt, 1));
  make_loops(&j.l, &pl, j.ex->sz, 1);
  j.x = j.y = (char*)pl.x;
  int64_t ntasks = j.l.items * j.l.parts;
  int rc = MLX_OK;
  if (j.l.parts > 1) {
    j.pmax = malloc((size_t)ntasks * WIDTH * 8);
    j.psum = malloc((size_t)ntasks * WIDTH * 16);
    if (!j.pmax || !j.psum) rc = mlx_error_(MLX_ERROR_MEMORY, "[logsumexp] out of memory for partial results");
  }
  if (rc == MLX_OK) {
    int64_t work = (j.l.m < WIDTH ? j.l.m : WIDTH) * pl.nred / j.l.parts;
    mlx_parallel_for_(ntasks, GRAIN / (work > 0 ? work : 1) + 1, lse_task, &j);
    for (int64_t it = 0; j.l.parts > 1 && it < j.l.items; it++) {
      task_place tp;
      place_task(&tp, &j.l, it * j.l.parts);
      char* mx = j.pmax + (size_t)(it * j.l.parts) * WIDTH * 8;
      char* s = j.psum + (size_t)(it * j.l.parts) * WIDTH * 16;
      for (int64_t q = 1; q < j.l.parts; q++)
        lse_merge(j.ex->dt, mx, s, mx + (size_t)q * WIDTH * 8, s + (size_t)q * WIDTH * 16, tp.mc);
      for (int64_t c = 0; c < tp.mc; c++) lse_store(&j, tp.g * j.l.m + tp.c0 + c, mx, s, c);
    }
  }
  free(j.pmax);
  free(j.psum);
  if (scratch) mlx_buffer_release_(scratch);
  return rc;
}

static void softmax_task(void* ctx, int64_t begin, int64_t end) {
  const exp_job* j = ctx;
  _Alignas(64) unsigned char lmx[WIDTH * 8], ls[WIDTH * 16], linv[WIDTH * 8];
  for (int64_t t = begin; t < end; t++) {
    task_place tp;
    place_task(&tp, &j->l, t);
    max_and_sum(j, &tp, lmx, ls, 2);
    for (int64_t c = 0; c < tp.mc; c++) {
      if (j->ex->dt == MLX_FLOAT32) ((float*)linv)[c] = (float)(1.0 / ((double*)ls)[c]);
      else if (j->ex->dt == MLX_FLOAT64) ((double*)linv)[c] = 1.0 / ((double*)ls)[c];
      else ((mlx_c64*)linv)[c] = (mlx_c64)((cdouble*)ls)[c];
    }
    exp_visit v = {j, tp.mc, NULL, linv, 3};
    walk_runs(&j->l, &tp, exp_run, &v);
  }
}

int mlx_cpu_softmax_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  const mlx_reduce_params_* p = params;
  mlx_node_* out = outs[0];
  mlx_node_* in = ins[0];
  exp_job j;
  j.ex = exp_impl_of(in->dtype);
  j.mx = &impls[MLX_RED_MAX_][j.ex->dt];
  j.odt = out->dtype;
  j.out = NULL; /* logsumexp's */
  j.pmax = j.psum = NULL;
  mlx_dtype dt = j.ex->dt;
  if (in->size == 0) return mlx_node_alloc_(out);
  /* x: the input (when row-major in the compute dtype) or a row-major
   * converted copy; y: the output (when of the compute dtype) or that copy,
   * softmaxed in place and converted at the end. */
  mlx_buffer_* scratch = NULL;
  int nd = in->ndim;
  int64_t str[nd > 0 ? nd : 1];
  mlx_row_strides_(str, in->shape, nd);
  if (in->dtype == dt && out->dtype == dt && (in->flags & MLX_FLAG_ROW_CONTIG)) {
    int donated;
    MLX_TRY(mlx_node_donate_or_alloc_(out, in, &donated));
    j.x = MLX_DATA(in, const char);
    j.y = out->buf->data;
  } else {
    MLX_TRY(mlx_node_alloc_(out));
    if (out->dtype != dt) {
      scratch = mlx_buffer_alloc_((size_t)in->size * j.ex->sz);
      if (!scratch) return mlx_last_error_code();
    }
    j.y = scratch ? scratch->data : out->buf->data;
    mlx_node_copy_to_(j.y, dt, in);
    j.x = j.y;
  }
  plan pl;
  int rc = make_plan(&pl, j.x, j.ex->sz, in->shape, str, nd, p->axes, 1);
  if (rc == MLX_OK) {
    /* flipped reduced axes move the base the same way in x and y */
    j.y += pl.x - j.x;
    j.x = pl.x;
    make_loops(&j.l, &pl, j.ex->sz, 0);
    int64_t work = (j.l.m < WIDTH ? j.l.m : WIDTH) * pl.nred;
    mlx_parallel_for_(j.l.items, GRAIN / (work > 0 ? work : 1) + 1, softmax_task, &j);
    if (scratch) mlx_copy_cast_(out->buf->data, out->dtype, scratch->data, dt, in->shape, str, nd);
  }
  if (scratch) mlx_buffer_release_(scratch);
  return rc;
}
