/* CPU kernels of the binary elementwise ops (add, divide, less, ...) and
 * of select (where).
 *
 * Inputs broadcast inside the kernel: a broadcast dim has stride 0, so no
 * broadcast copies are made. One row function per (op, dtype), generated
 * by macros below, takes n elements of each input with its own stride and
 * writes n contiguous outputs; it branches once, outside its loops, into
 * vector-vector, scalar-vector, vector-scalar or general strides, and the
 * first three are the loops gcc vectorizes. The driver runs one flat row
 * when every input is row-contiguous or a single element (split over the
 * thread pool), keeps the layout when both inputs are dense in the same
 * other order, and otherwise walks the dims it could not merge row by row
 * (in tiles when an input runs across the rows, as a transposed one does).
 *
 * Semantics follow upstream MLX on x86: integers wrap; floor_divide and
 * remainder round toward -inf (remainder takes the divisor's sign);
 * integer division by zero gives 0 and remainder by zero gives the
 * dividend (where upstream crashes, on INT_MIN / -1, we give INT_MIN and
 * 0); a negative integer exponent gives 0; shift counts are taken modulo
 * the 32- or 64-bit width the shift is computed in; maximum and minimum
 * propagate NaN; complex numbers order lexicographically. */
#include <complex.h>
#include <stdlib.h>

#include "elementwise.h"

#define GRAIN (1 << 15)
#define MAXDIM 64

typedef void (*binary_row)(void* restrict out, const void* a, const void* b, int64_t n, int64_t sa, int64_t sb);

/* out[i] = EXPR for x = a[i * sa], y = b[i * sb], i in [0, n). a and b may
 * be the same array; out may be the buffer donated by one of them (then
 * its stride is 1 and element i is read before it is written). */
#define BROW(NAME, TI, TO, EXPR)                                                                               \
  static void NAME(void* restrict out_, const void* a_, const void* b_, int64_t n, int64_t sa, int64_t sb) { \
    TO* restrict out = out_;                                                                                   \
    const TI* restrict a = a_;                                                                                 \
    const TI* restrict b = b_;                                                                                 \
    if (sa == 1 && sb == 1) {                                                                                  \
      for (int64_t i = 0; i < n; i++) {                                                                        \
        TI x = a[i], y = b[i];                                                                                 \
        out[i] = (EXPR);                                                                                       \
      }                                                                                                        \
    } else if (sa == 0 && sb == 1) {                                                                           \
      TI x = a[0];                                                                                             \
      for (int64_t i = 0; i < n; i++) {                                                                        \
        TI y = b[i];                                                                                           \
        out[i] = (EXPR);                                                                                       \
      }                                                                                                        \
    } else if (sa == 1 && sb == 0) {                                                                           \
      TI y = b[0];                                                                                             \
      for (int64_t i = 0; i < n; i++) {                                                                        \
        TI x = a[i];                                                                                           \
        out[i] = (EXPR);                                                                                       \
      }                                                                                                        \
    } else {                                                                                                   \
      for (int64_t i = 0; i < n; i++) {                                                                        \
        TI x = a[i * sa], y = b[i * sb];                                                                       \
        out[i] = (EXPR);                                                                                       \
      }                                                                                                        \
    }                                                                                                          \
  }

#define F16(v) mlx_f32_to_f16_(v)
#define F16L(x) mlx_f16_to_f32_(x)
#define BF(v) mlx_f32_to_bf16(v)
#define BFL(x) mlx_bf16_to_f32(x)

/* Float dtypes from scalar functions of two floats (float16 and bfloat16
 * through F16F and BF16F, which round their intermediate steps as
 * upstream's half types do) and of two doubles. */
#define FLOATS4(OP, F32F, F16F, BF16F, F64F)                                 \
  BROW(OP##_f32, float, float, F32F(x, y))                                  \
  BROW(OP##_f16, uint16_t, uint16_t, F16(F16F(F16L(x), F16L(y))))            \
  BROW(OP##_bf16, mlx_bf16, mlx_bf16, BF(BF16F(BFL(x), BFL(y))))            \
  BROW(OP##_f64, double, double, F64F(x, y))
#define FLOATS(OP, F32F, F64F) FLOATS4(OP, F32F, F32F, F32F, F64F)

/* Float comparisons to bool. */
#define FLOAT_CMPS(OP, F)                                      \
  BROW(OP##_f32, float, uint8_t, F(x, y))                     \
  BROW(OP##_f16, uint16_t, uint8_t, F(F16L(x), F16L(y)))       \
  BROW(OP##_bf16, mlx_bf16, uint8_t, F(BFL(x), BFL(y)))       \
  BROW(OP##_f64, double, uint8_t, F(x, y))

#define FLOAT_ENTRIES(OP) \
  [MLX_FLOAT16] = OP##_f16, [MLX_FLOAT32] = OP##_f32, [MLX_FLOAT64] = OP##_f64, [MLX_BFLOAT16] = OP##_bf16

/* Integers compute in an unsigned type of at least 32 bits (WU) so
 * overflow wraps without undefined behaviour; SW is the signed
 * counterpart for arithmetic right shifts. */
#define WU(x) _Generic((x), int64_t: (uint64_t)(x), uint64_t: (uint64_t)(x), default: (uint32_t)(x))
#define SW(x) _Generic((x), int64_t: (int64_t)(x), default: (int32_t)(x))
#define SHIFT_MASK(x) ((int)sizeof(WU(x)) * 8 - 1)

/* Integer dtypes to bool. */
#define INT_CMPS(OP, EXPR) BROW(OP##_i8, int8_t, uint8_t, EXPR) BROW(OP##_i16, int16_t, uint8_t, EXPR) \
  BROW(OP##_i32, int32_t, uint8_t, EXPR) BROW(OP##_i64, int64_t, uint8_t, EXPR)                      \
  BROW(OP##_u8, uint8_t, uint8_t, EXPR) BROW(OP##_u16, uint16_t, uint8_t, EXPR)                      \
  BROW(OP##_u32, uint32_t, uint8_t, EXPR) BROW(OP##_u64, uint64_t, uint8_t, EXPR)
/* Integer dtypes, the output of the input's type. */
#define SINTS_SAME(OP, EXPR) BROW(OP##_i8, int8_t, int8_t, EXPR) BROW(OP##_i16, int16_t, int16_t, EXPR) \
  BROW(OP##_i32, int32_t, int32_t, EXPR) BROW(OP##_i64, int64_t, int64_t, EXPR)
#define UINTS_SAME(OP, EXPR) BROW(OP##_u8, uint8_t, uint8_t, EXPR) BROW(OP##_u16, uint16_t, uint16_t, EXPR) \
  BROW(OP##_u32, uint32_t, uint32_t, EXPR) BROW(OP##_u64, uint64_t, uint64_t, EXPR)
#define INTS_SAME(OP, EXPR) SINTS_SAME(OP, EXPR) UINTS_SAME(OP, EXPR)
#define SINT_ENTRIES(OP) [MLX_INT8] = OP##_i8, [MLX_INT16] = OP##_i16, [MLX_INT32] = OP##_i32, [MLX_INT64] = OP##_i64
#define UINT_ENTRIES(OP) [MLX_UINT8] = OP##_u8, [MLX_UINT16] = OP##_u16, [MLX_UINT32] = OP##_u32, [MLX_UINT64] = OP##_u64
#define INT_ENTRIES(OP) SINT_ENTRIES(OP), UINT_ENTRIES(OP)

/* ---- scalar functions ---------------------------------------------------- */

static inline float add_f(float x, float y) { return x + y; }
static inline double add_d(double x, double y) { return x + y; }
static inline float sub_f(float x, float y) { return x - y; }
static inline double sub_d(double x, double y) { return x - y; }
static inline float mul_f(float x, float y) { return x * y; }
static inline double mul_d(double x, double y) { return x * y; }
static inline float div_f(float x, float y) { return x / y; }
static inline double div_d(double x, double y) { return x / y; }
static inline double pow_d(double x, double y) { return pow(x, y); }
static inline double atan2_d(double x, double y) { return atan2(x, y); }

static inline float r16(float v) { return F16L(F16(v)); }
static inline float rbf(float v) { return BFL(BF(v)); }

/* floor(a / b) with the quotient rounded to the dtype first. */
static inline float floordiv_f(float x, float y) { return floorf(x / y); }
static inline float floordiv_h(float x, float y) { return floorf(r16(x / y)); }
static inline float floordiv_b(float x, float y) { return floorf(rbf(x / y)); }
static inline double floordiv_d(double x, double y) { return floor(x / y); }

/* fmod, moved to the divisor's sign. fmod is exact, so half types need
 * no intermediate rounding. */
static inline float rem_f(float x, float y) {
  float r = fmodf(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}
static inline double rem_d(double x, double y) {
  double r = fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

/* NaN wins, then the larger; on ties (0 and -0) the second operand. */
static inline float max_f(float x, float y) { return y != y ? y : (x != x ? x : (x > y ? x : y)); }
static inline double max_d(double x, double y) { return y != y ? y : (x != x ? x : (x > y ? x : y)); }
static inline float min_f(float x, float y) { return y != y ? y : (x != x ? x : (x < y ? x : y)); }
static inline double min_d(double x, double y) { return y != y ? y : (x != x ? x : (x < y ? x : y)); }

/* max + log1p(exp(min - max)), or max when an infinity decides it;
 * upstream's exp (float32 even for float64) and per-step rounding of
 * half types. */
static inline float logaddexp_f(float x, float y) {
  float hi = max_f(x, y), lo = min_f(x, y);
  float out = hi + log1pf(mlx_exp_f32_(lo - hi));
  return (lo == -INFINITY || hi == INFINITY) ? hi : out;
}
static inline float logaddexp_h(float x, float y) {
  float hi = max_f(x, y), lo = min_f(x, y);
  float out = hi + r16(log1pf(r16(mlx_exp_f32_(r16(lo - hi)))));
  return (lo == -INFINITY || hi == INFINITY) ? hi : out;
}
static inline float logaddexp_b(float x, float y) {
  float hi = max_f(x, y), lo = min_f(x, y);
  float out = hi + rbf(log1pf(rbf(mlx_exp_f32_(rbf(lo - hi)))));
  return (lo == -INFINITY || hi == INFINITY) ? hi : out;
}
static inline double logaddexp_d(double x, double y) {
  double hi = max_d(x, y), lo = min_d(x, y);
  double out = hi + log1p((double)mlx_exp_f32_((float)(lo - hi)));
  return (lo == -INFINITY || hi == INFINITY) ? hi : out;
}

/* Real comparisons in the operands' own type (float64 stays double). */
#define eq_f(x, y) ((x) == (y))
#define ne_f(x, y) ((x) != (y))
#define gt_f(x, y) ((x) > (y))
#define ge_f(x, y) ((x) >= (y))
#define lt_f(x, y) ((x) < (y))
#define le_f(x, y) ((x) <= (y))

/* Complex: lexicographic order as upstream's complex64_t. */
static inline int isnan_c(mlx_c64 z) { return crealf(z) != crealf(z) || cimagf(z) != cimagf(z); }
static inline int gt_c(mlx_c64 a, mlx_c64 b) {
  return crealf(a) > crealf(b) || (crealf(a) == crealf(b) && cimagf(a) > cimagf(b));
}
static inline int ge_c(mlx_c64 a, mlx_c64 b) {
  return crealf(a) > crealf(b) || (crealf(a) == crealf(b) && cimagf(a) >= cimagf(b));
}
static inline mlx_c64 max_c(mlx_c64 x, mlx_c64 y) { return isnan_c(y) ? y : (isnan_c(x) ? x : (gt_c(x, y) ? x : y)); }
static inline mlx_c64 min_c(mlx_c64 x, mlx_c64 y) { return isnan_c(y) ? y : (isnan_c(x) ? x : (gt_c(y, x) ? x : y)); }
/* Upstream's complex log1p (see unary.c). */
static inline mlx_c64 log1p_c(mlx_c64 z) {
  float x = crealf(z), y = cimagf(z);
  float zabs = cabsf(z);
  float theta = atan2f(y, x + 1);
  if (zabs < 0.5f) {
    float r = x * (2 + x) + y * y;
    if (r == 0) return CMPLXF(x, theta);
    return CMPLXF(0.5f * log1pf(r), theta);
  }
  return CMPLXF(logf(hypotf(x + 1, y)), theta);
}
static inline mlx_c64 logaddexp_c(mlx_c64 x, mlx_c64 y) {
  mlx_c64 hi = max_c(x, y), lo = min_c(x, y);
  mlx_c64 out = hi + log1p_c(cexpf(lo - hi));
  return (lo == -INFINITY || hi == INFINITY) ? hi : out;
}

/* Integer floor division and remainder: no trap on a zero divisor or on
 * INT_MIN / -1 (x / -1 is computed as a wrapping negation). */
#define FLOORDIV_S(x, y) ((y) == 0 ? 0 : (y) == -1 ? 0u - WU(x) : WU((x) / (y) - (((x) % (y) != 0) & (((x) < 0) != ((y) < 0)))))
#define FLOORDIV_U(x, y) ((y) == 0 ? 0 : (x) / (y))
#define REM_S(x, y) ((y) == 0 ? (x) : (y) == -1 ? 0 : ((x) % (y) != 0 && (((x) % (y) < 0) != ((y) < 0))) ? (x) % (y) + (y) : (x) % (y))
#define REM_U(x, y) ((y) == 0 ? (x) : (x) % (y))

/* Integer power by squaring, wrapping; negative exponents give 0. */
static inline uint64_t ipow(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r *= base;
    e >>= 1;
    base *= base;
  }
  return r;
}

/* ---- row functions ------------------------------------------------------- */

FLOATS(add, add_f, add_d)
INTS_SAME(add, WU(x) + WU(y))
BROW(add_b, uint8_t, uint8_t, x | y)
BROW(add_c64, mlx_c64, mlx_c64, x + y)

FLOATS(subtract, sub_f, sub_d)
INTS_SAME(subtract, WU(x) - WU(y))
BROW(subtract_b, uint8_t, uint8_t, x ^ y)
BROW(subtract_c64, mlx_c64, mlx_c64, x - y)

FLOATS(multiply, mul_f, mul_d)
INTS_SAME(multiply, WU(x) * WU(y))
BROW(multiply_b, uint8_t, uint8_t, x & y)
BROW(multiply_c64, mlx_c64, mlx_c64, x * y)

FLOATS(divide, div_f, div_d)
BROW(divide_c64, mlx_c64, mlx_c64, x / y)

FLOATS(power, powf, pow_d)
SINTS_SAME(power, y < 0 ? 0 : ipow(WU(x), (uint64_t)y))
UINTS_SAME(power, ipow(x, y))
BROW(power_b, uint8_t, uint8_t, x | !y)
BROW(power_c64, mlx_c64, mlx_c64, cpowf(x, y))

FLOATS(remainder, rem_f, rem_d)
SINTS_SAME(remainder, REM_S(x, y))
UINTS_SAME(remainder, REM_U(x, y))
BROW(remainder_b, uint8_t, uint8_t, x & !y)

FLOATS4(floor_divide, floordiv_f, floordiv_h, floordiv_b, floordiv_d)
SINTS_SAME(floor_divide, FLOORDIV_S(x, y))
UINTS_SAME(floor_divide, FLOORDIV_U(x, y))
BROW(floor_divide_b, uint8_t, uint8_t, x & y)
/* Upstream's floor_divide of complex numbers is the plain quotient. */
BROW(floor_divide_c64, mlx_c64, mlx_c64, x / y)

FLOATS(maximum, max_f, max_d)
INTS_SAME(maximum, x > y ? x : y)
BROW(maximum_b, uint8_t, uint8_t, x | y)
BROW(maximum_c64, mlx_c64, mlx_c64, max_c(x, y))

FLOATS(minimum, min_f, min_d)
INTS_SAME(minimum, x < y ? x : y)
BROW(minimum_b, uint8_t, uint8_t, x & y)
BROW(minimum_c64, mlx_c64, mlx_c64, min_c(x, y))

FLOATS4(logaddexp, logaddexp_f, logaddexp_h, logaddexp_b, logaddexp_d)
BROW(logaddexp_c64, mlx_c64, mlx_c64, logaddexp_c(x, y))

FLOATS(arctan2, atan2f, atan2_d)

FLOAT_CMPS(equal, eq_f)
INT_CMPS(equal, x == y)
BROW(equal_b, uint8_t, uint8_t, x == y)
BROW(equal_c64, mlx_c64, uint8_t, x == y)

FLOAT_CMPS(not_equal, ne_f)
INT_CMPS(not_equal, x != y)
BROW(not_equal_b, uint8_t, uint8_t, x != y)
BROW(not_equal_c64, mlx_c64, uint8_t, x != y)

FLOAT_CMPS(greater, gt_f)
INT_CMPS(greater, x > y)
BROW(greater_b, uint8_t, uint8_t, x > y)
BROW(greater_c64, mlx_c64, uint8_t, gt_c(x, y))

FLOAT_CMPS(greater_equal, ge_f)
INT_CMPS(greater_equal, x >= y)
BROW(greater_equal_b, uint8_t, uint8_t, x >= y)
BROW(greater_equal_c64, mlx_c64, uint8_t, ge_c(x, y))

FLOAT_CMPS(less, lt_f)
INT_CMPS(less, x < y)
BROW(less_b, uint8_t, uint8_t, x < y)
BROW(less_c64, mlx_c64, uint8_t, gt_c(y, x))

FLOAT_CMPS(less_equal, le_f)
INT_CMPS(less_equal, x <= y)
BROW(less_equal_b, uint8_t, uint8_t, x <= y)
BROW(less_equal_c64, mlx_c64, uint8_t, ge_c(y, x))

/* Logical ops see inputs already cast to bool (0 or 1). */
BROW(logical_and_b, uint8_t, uint8_t, x & y)
BROW(logical_or_b, uint8_t, uint8_t, x | y)

INTS_SAME(bitwise_and, x & y)
BROW(bitwise_and_b, uint8_t, uint8_t, x & y)
INTS_SAME(bitwise_or, x | y)
BROW(bitwise_or_b, uint8_t, uint8_t, x | y)
INTS_SAME(bitwise_xor, x ^ y)
BROW(bitwise_xor_b, uint8_t, uint8_t, x ^ y)

/* Shifts: computed in 32 bits (64 for 64-bit types) with the count taken
 * modulo that width, which is what x86 does and upstream inherits. */
INTS_SAME(left_shift, WU(x) << (y & SHIFT_MASK(x)))
SINTS_SAME(right_shift, SW(x) >> (y & SHIFT_MASK(x)))
UINTS_SAME(right_shift, WU(x) >> (y & SHIFT_MASK(x)))

#define ALL_INT_ENTRIES(OP) INT_ENTRIES(OP), [MLX_BOOL] = OP##_b
static const binary_row binary_table[MLX_BOP_COUNT][MLX_NUM_DTYPES] = {
    [MLX_BOP_ADD] = {FLOAT_ENTRIES(add), ALL_INT_ENTRIES(add), [MLX_COMPLEX64] = add_c64},
    [MLX_BOP_SUBTRACT] = {FLOAT_ENTRIES(subtract), ALL_INT_ENTRIES(subtract), [MLX_COMPLEX64] = subtract_c64},
    [MLX_BOP_MULTIPLY] = {FLOAT_ENTRIES(multiply), ALL_INT_ENTRIES(multiply), [MLX_COMPLEX64] = multiply_c64},
    [MLX_BOP_DIVIDE] = {FLOAT_ENTRIES(divide), [MLX_COMPLEX64] = divide_c64},
    [MLX_BOP_POWER] = {FLOAT_ENTRIES(power), ALL_INT_ENTRIES(power), [MLX_COMPLEX64] = power_c64},
    [MLX_BOP_REMAINDER] = {FLOAT_ENTRIES(remainder), ALL_INT_ENTRIES(remainder)},
    [MLX_BOP_FLOOR_DIVIDE] = {FLOAT_ENTRIES(floor_divide), ALL_INT_ENTRIES(floor_divide),
                              [MLX_COMPLEX64] = floor_divide_c64},
    [MLX_BOP_MAXIMUM] = {FLOAT_ENTRIES(maximum), ALL_INT_ENTRIES(maximum), [MLX_COMPLEX64] = maximum_c64},
    [MLX_BOP_MINIMUM] = {FLOAT_ENTRIES(minimum), ALL_INT_ENTRIES(minimum), [MLX_COMPLEX64] = minimum_c64},
    [MLX_BOP_LOGADDEXP] = {FLOAT_ENTRIES(logaddexp), [MLX_COMPLEX64] = logaddexp_c64},
    [MLX_BOP_ARCTAN2] = {FLOAT_ENTRIES(arctan2)},
    [MLX_BOP_EQUAL] = {FLOAT_ENTRIES(equal), ALL_INT_ENTRIES(equal), [MLX_COMPLEX64] = equal_c64},
    [MLX_BOP_NOT_EQUAL] = {FLOAT_ENTRIES(not_equal), ALL_INT_ENTRIES(not_equal), [MLX_COMPLEX64] = not_equal_c64},
    [MLX_BOP_GREATER] = {FLOAT_ENTRIES(greater), ALL_INT_ENTRIES(greater), [MLX_COMPLEX64] = greater_c64},
    [MLX_BOP_GREATER_EQUAL] = {FLOAT_ENTRIES(greater_equal), ALL_INT_ENTRIES(greater_equal),
                               [MLX_COMPLEX64] = greater_equal_c64},
    [MLX_BOP_LESS] = {FLOAT_ENTRIES(less), ALL_INT_ENTRIES(less), [MLX_COMPLEX64] = less_c64},
    [MLX_BOP_LESS_EQUAL] = {FLOAT_ENTRIES(less_equal), ALL_INT_ENTRIES(less_equal), [MLX_COMPLEX64] = less_equal_c64},
    [MLX_BOP_LOGICAL_AND] = {[MLX_BOOL] = logical_and_b},
    [MLX_BOP_LOGICAL_OR] = {[MLX_BOOL] = logical_or_b},
    [MLX_BOP_BITWISE_AND] = {ALL_INT_ENTRIES(bitwise_and)},
    [MLX_BOP_BITWISE_OR] = {ALL_INT_ENTRIES(bitwise_or)},
    [MLX_BOP_BITWISE_XOR] = {ALL_INT_ENTRIES(bitwise_xor)},
    [MLX_BOP_LEFT_SHIFT] = {INT_ENTRIES(left_shift)},
    [MLX_BOP_RIGHT_SHIFT] = {INT_ENTRIES(right_shift)},
};

/* ---- select ---------------------------------------------------------------- */

typedef void (*select_row)(void* restrict out, const uint8_t* c, const void* x, const void* y, int64_t n,
                           int64_t sc, int64_t sx, int64_t sy);

/* out[i] = c[i] ? x[i] : y[i] over elements of one size: select moves
 * bits, so it needs no dtype. */
#define SELECT_ROW(NAME, T)                                                                           \
  static void NAME(void* restrict out_, const uint8_t* c, const void* x_, const void* y_, int64_t n, \
                   int64_t sc, int64_t sx, int64_t sy) {                                             \
    T* restrict out = out_;                                                                          \
    const T* restrict x = x_;                                                                        \
    const T* restrict y = y_;                                                                        \
    if (sc == 1 && sx == 1 && sy == 1) {                                                             \
      for (int64_t i = 0; i < n; i++) out[i] = c[i] ? x[i] : y[i];                                   \
    } else {                                                                                         \
      for (int64_t i = 0; i < n; i++) out[i] = c[i * sc] ? x[i * sx] : y[i * sy];                    \
    }                                                                                                \
  }
SELECT_ROW(select_1, uint8_t)
SELECT_ROW(select_2, uint16_t)
SELECT_ROW(select_4, uint32_t)
SELECT_ROW(select_8, uint64_t)

/* ---- driver ---------------------------------------------------------------- */

/* Up to three inputs broadcast to the output, as one job of the pool. */
typedef struct {
  binary_row bf;
  select_row sf;
  int nin;
  char* out;
  const char* in[3];
  size_t osize;
  size_t isize[3];
  int ndim; /* collapsed; the last dim is the row */
  int64_t shape[MAXDIM];
  int64_t strides[3][MAXDIM]; /* per input, in elements; 0 where broadcast */
} elem_job;

static void call_row(const elem_job* j, int64_t o, const int64_t* off, int64_t n, const int64_t* s) {
  char* out = j->out + o * (int64_t)j->osize;
  if (j->bf) {
    j->bf(out, j->in[0] + off[0] * (int64_t)j->isize[0], j->in[1] + off[1] * (int64_t)j->isize[1], n, s[0], s[1]);
  } else {
    j->sf(out, (const uint8_t*)j->in[0] + off[0], j->in[1] + off[1] * (int64_t)j->isize[1],
          j->in[2] + off[2] * (int64_t)j->isize[2], n, s[0], s[1], s[2]);
  }
}

/* Elements [begin, end) when every input is dense row-major or one
 * element (stride 0). */
static void run_flat(void* ctx, int64_t begin, int64_t end) {
  const elem_job* j = ctx;
  int64_t off[3], s[3];
  for (int k = 0; k < j->nin; k++) {
    s[k] = j->strides[k][0];
    off[k] = begin * s[k];
  }
  call_row(j, begin, off, end - begin, s);
}

/* Rows [begin, end) of the collapsed layout, input offsets kept by an
 * odometer over the outer dims. */
static void run_rows(void* ctx, int64_t begin, int64_t end) {
  const elem_job* j = ctx;
  int nd = j->ndim, nin = j->nin;
  int64_t inner = j->shape[nd - 1];
  int64_t idx[MAXDIM], off[3] = {0, 0, 0}, s[3];
  int64_t rem = begin;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rem % j->shape[d];
    rem /= j->shape[d];
    for (int k = 0; k < nin; k++) off[k] += idx[d] * j->strides[k][d];
  }
  for (int k = 0; k < nin; k++) s[k] = j->strides[k][nd - 1];
  for (int64_t r = begin; r < end; r++) {
    call_row(j, r * inner, off, inner, s);
    for (int d = nd - 2; d >= 0; d--) {
      for (int k = 0; k < nin; k++) off[k] += j->strides[k][d];
      if (++idx[d] < j->shape[d]) break;
      for (int k = 0; k < nin; k++) off[k] -= j->shape[d] * j->strides[k][d];
      idx[d] = 0;
    }
  }
}

/* Tiles of TILE x TILE elements over the last two collapsed dims, for
 * inputs that step across rows faster than along them (a transposed
 * operand): each tile reads such an input from a few cache lines. The
 * units of work are (outer index, block of TILE rows). */
#define TILE 64

static void run_tiles(void* ctx, int64_t begin, int64_t end) {
  const elem_job* j = ctx;
  int nd = j->ndim, nin = j->nin;
  int64_t rows = j->shape[nd - 2], cols = j->shape[nd - 1];
  int64_t blocks = (rows + TILE - 1) / TILE;
  int64_t s[3];
  for (int k = 0; k < nin; k++) s[k] = j->strides[k][nd - 1];
  for (int64_t u = begin; u < end; u++) {
    int64_t base[3] = {0, 0, 0}, rem = u / blocks;
    for (int d = nd - 3; d >= 0; d--) {
      int64_t i = rem % j->shape[d];
      rem /= j->shape[d];
      for (int k = 0; k < nin; k++) base[k] += i * j->strides[k][d];
    }
    int64_t r0 = (u % blocks) * TILE, r1 = r0 + TILE < rows ? r0 + TILE : rows;
    int64_t obase = (u / blocks) * rows * cols;
    for (int64_t c0 = 0; c0 < cols; c0 += TILE) {
      int64_t n = cols - c0 < TILE ? cols - c0 : TILE;
      for (int64_t r = r0; r < r1; r++) {
        int64_t off[3];
        for (int k = 0; k < nin; k++) off[k] = base[k] + r * j->strides[k][nd - 2] + c0 * s[k];
        call_row(j, obase + r * cols + c0, off, n, s);
      }
    }
  }
}

/* 1 if some input walks the last dim with a long stride and the one
 * before it with a shorter one, so tiles beat rows. */
static int wants_tiles(const elem_job* j) {
  int nd = j->ndim;
  if (nd < 2 || j->shape[nd - 1] < TILE || j->shape[nd - 2] < TILE) return 0;
  for (int k = 0; k < j->nin; k++) {
    int64_t last = llabs(j->strides[k][nd - 1]), prev = llabs(j->strides[k][nd - 2]);
    if (last > 1 && prev < last) return 1;
  }
  return 0;
}

/* 1 if n covers the output densely in row-major order. */
static int row_full(const mlx_node_* n, const mlx_node_* out) {
  return n->size == out->size && (n->flags & MLX_FLAG_ROW_CONTIG);
}

/* The input whose buffer the output may take: one that is row-major,
 * full-size, of the output's item size and (by its counts) dead after
 * this op; NULL if none. mlx_node_donate_or_alloc_ makes the final call. */
static mlx_node_* donor(mlx_node_* const* ins, int nin, const mlx_node_* out) {
  for (int k = 0; k < nin; k++) {
    mlx_node_* n = ins[k];
    if (row_full(n, out) && mlx_dtype_size(n->dtype) == mlx_dtype_size(out->dtype) &&
        atomic_load(&n->refcount) == 1 && atomic_load(&n->buf->refcount) == 1)
      return n;
  }
  return NULL;
}

/* 1 if all inputs have the output's shape and one dense layout with
 * non-negative strides (a transposed pair, say): the output then takes
 * that layout and the op runs flat over the buffers. */
static int same_dense(mlx_node_* const* ins, int nin, const mlx_node_* out) {
  for (int k = 0; k < nin; k++) {
    const mlx_node_* n = ins[k];
    if (n->ndim != out->ndim || !(n->flags & MLX_FLAG_CONTIG)) return 0;
    for (int i = 0; i < out->ndim; i++) {
      if (n->shape[i] != out->shape[i]) return 0;
      if (out->shape[i] > 1 && (n->strides[i] < 0 || n->strides[i] != ins[0]->strides[i])) return 0;
    }
  }
  return 1;
}

/* Runs one elementwise op over nin broadcast inputs into out. */
static int run_elem(elem_job* j, mlx_node_* out, mlx_node_* const* ins, int nin, const char* name) {
  j->nin = nin;
  j->osize = mlx_dtype_size(out->dtype);
  for (int k = 0; k < nin; k++) j->isize[k] = mlx_dtype_size(ins[k]->dtype);
  if (out->size == 0) return mlx_node_alloc_(out);

  int flat = 1;
  for (int k = 0; k < nin; k++) flat &= row_full(ins[k], out) || ins[k]->size == 1;
  if (flat || same_dense(ins, nin, out)) {
    if (flat) {
      mlx_node_* d = donor(ins, nin, out);
      int donated = 0;
      if (d) MLX_TRY(mlx_node_donate_or_alloc_(out, d, &donated));
      else MLX_TRY(mlx_node_alloc_(out));
    } else {
      MLX_TRY(mlx_node_alloc_(out));
      memcpy(out->strides, ins[0]->strides, sizeof(int64_t) * (size_t)out->ndim);
      out->flags = mlx_layout_flags_(out->shape, out->strides, out->ndim, &out->data_size);
    }
    for (int k = 0; k < nin; k++) {
      j->in[k] = MLX_DATA(ins[k], char);
      j->strides[k][0] = ins[k]->size == 1 && out->size != 1 ? 0 : 1;
    }
    j->out = MLX_DATA(out, char);
    mlx_parallel_for_(out->size, GRAIN, run_flat, j);
    return MLX_OK;
  }

  mlx_node_* d = donor(ins, nin, out);
  int donated = 0;
  if (d) MLX_TRY(mlx_node_donate_or_alloc_(out, d, &donated));
  else MLX_TRY(mlx_node_alloc_(out));
  /* Broadcast strides, then collapse: drop size-1 dims and merge a dim
   * into the previous one when every input (and the row-major output)
   * steps through both as one. */
  int nd = 0;
  for (int i = 0; i < out->ndim; i++) {
    int64_t len = out->shape[i];
    if (len == 1) continue;
    int64_t st[3];
    for (int k = 0; k < nin; k++) {
      const mlx_node_* n = ins[k];
      int ax = i - (out->ndim - n->ndim);
      st[k] = (ax < 0 || n->shape[ax] == 1) ? 0 : n->strides[ax];
    }
    int merge = nd > 0;
    for (int k = 0; k < nin && merge; k++) merge = j->strides[k][nd - 1] == st[k] * len;
    if (merge) {
      j->shape[nd - 1] *= len;
      for (int k = 0; k < nin; k++) j->strides[k][nd - 1] = st[k];
    } else {
      if (nd == MAXDIM) return mlx_error_(MLX_ERROR_INTERNAL, "[%s] more than %d strided dimensions", name, MAXDIM);
      j->shape[nd] = len;
      for (int k = 0; k < nin; k++) j->strides[k][nd] = st[k];
      nd++;
    }
  }
  j->ndim = nd;
  for (int k = 0; k < nin; k++) j->in[k] = MLX_DATA(ins[k], char);
  j->out = out->buf->data;
  if (wants_tiles(j)) {
    int64_t units = out->size / (j->shape[nd - 1] * j->shape[nd - 2]) * ((j->shape[nd - 2] + TILE - 1) / TILE);
    mlx_parallel_for_(units, GRAIN / (TILE * j->shape[nd - 1]) + 1, run_tiles, j);
    return MLX_OK;
  }
  int64_t inner = j->shape[nd - 1];
  mlx_parallel_for_(out->size / inner, GRAIN / inner + 1, run_rows, j);
  return MLX_OK;
}

int mlx_cpu_binary_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  int op = ((const mlx_elem_params_*)params)->op;
  mlx_dtype t = ins[0]->dtype;
  binary_row f = (unsigned)op < MLX_BOP_COUNT ? binary_table[op][t] : NULL;
  if (!f) return mlx_error_(MLX_ERROR_INTERNAL, "[binary] no CPU kernel for op %d on %s", op, mlx_dtype_name(t));
  elem_job j;
  j.bf = f;
  j.sf = NULL;
  return run_elem(&j, outs[0], ins, 2, "binary");
}

int mlx_cpu_select_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout;
  (void)nin;
  (void)params;
  static const select_row by_size[9] = {[1] = select_1, [2] = select_2, [4] = select_4, [8] = select_8};
  elem_job j;
  j.bf = NULL;
  j.sf = by_size[mlx_dtype_size(outs[0]->dtype)];
  return run_elem(&j, outs[0], ins, 3, "where");
}
