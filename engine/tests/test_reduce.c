/* Reduction tests: sum, prod, max, min, all, any, mean, var, std,
 * logsumexp, argmax/argmin and softmax.
 *
 *  - a table of expected dtypes, shapes and values over every input dtype
 *    and several axis sets (all, one, negative, several, keepdims), printed
 *    once from Python mlx 0.32 (the generator is described above the
 *    table) and pasted here;
 *  - edge cases by hand, values from Python mlx: NaN and inf, integer
 *    wrap-around, float16 overflow in var, ties, complex, empty arrays,
 *    errors (bad axis, repeated axes, empty max/argmax/logsumexp);
 *  - strided inputs (transposed, reversed, strided and broadcast views)
 *    against a naive double-precision reference on random shapes and axes;
 *  - large inputs (4M floats: all-reduce, rows, columns, argmax, softmax)
 *    against a simple double loop, which exercises the threaded split.
 * Tolerances are relative to 1 + |expected|: 1e-5 for float32 and
 * complex64, 2e-3 for float16, 1e-2 for bfloat16, 1e-12 for float64, exact
 * for integers and bool. */
#include <complex.h>

#include "harness.h"

/* ---- inputs ----------------------------------------------------------- */

enum { IN_F32, IN_F16, IN_BF16, IN_F64, IN_I32, IN_I8, IN_I64, IN_U8, IN_U16, IN_U64, IN_BOOL, IN_C64 };

/* The table's inputs, shape (2, 3, 4), built from doubles as in gen.py. */
static mlx_array make_input(int which) {
  static const mlx_dtype dt[] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT64, MLX_INT32, MLX_INT8,
                                 MLX_INT64,   MLX_UINT8,   MLX_UINT16,   MLX_UINT64,  MLX_BOOL,  MLX_COMPLEX64};
  static const double mult[4] = {1.0, -1.5, 2.0, 0.25};
  int64_t shape[3] = {2, 3, 4};
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  if (which == IN_C64) {
    float c[48];
    for (int i = 0; i < 24; i++) {
      c[2 * i] = (float)((i * 0.5 - 2.5) * 0.5);
      c[2 * i + 1] = (float)(((i * 5) % 7 - 3) * 0.5);
    }
    mlx_array_new_data(&a, c, shape, 3, MLX_COMPLEX64);
    return a;
  }
  double v[24];
  for (int i = 0; i < 24; i++) {
    if (which <= IN_F64) v[i] = (i * 0.5 - 3) * mult[i % 4];
    else if (which <= IN_I64) v[i] = (i * 37) % 23 - 11;
    else if (which <= IN_U64) v[i] = (i * 37) % 23;
    else v[i] = (i * 7) % 3 == 0;
  }
  mlx_array_new_data(&a, v, shape, 3, MLX_FLOAT64);
  if (mlx_astype(&b, a, dt[which], S)) fprintf(stderr, "make_input: %s\n", mlx_last_error());
  mlx_array_free(a);
  return b;
}

/* naxes < 0: the plain (all axes / flattened) form. */
static int run_op(mlx_array* r, const char* op, mlx_array x, int naxes, const int* axes, int keepdims, int ddof) {
  int all = naxes < 0;
  size_t n = all ? 0 : (size_t)naxes;
  if (!strcmp(op, "sum")) return all ? mlx_sum(r, x, keepdims, S) : mlx_sum_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "prod")) return all ? mlx_prod(r, x, keepdims, S) : mlx_prod_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "max")) return all ? mlx_max(r, x, keepdims, S) : mlx_max_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "min")) return all ? mlx_min(r, x, keepdims, S) : mlx_min_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "all")) return all ? mlx_all(r, x, keepdims, S) : mlx_all_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "any")) return all ? mlx_any(r, x, keepdims, S) : mlx_any_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "mean")) return all ? mlx_mean(r, x, keepdims, S) : mlx_mean_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "var")) return all ? mlx_var(r, x, keepdims, ddof, S) : mlx_var_axes(r, x, axes, n, keepdims, ddof, S);
  if (!strcmp(op, "std")) return all ? mlx_std(r, x, keepdims, ddof, S) : mlx_std_axes(r, x, axes, n, keepdims, ddof, S);
  if (!strcmp(op, "logsumexp"))
    return all ? mlx_logsumexp(r, x, keepdims, S) : mlx_logsumexp_axes(r, x, axes, n, keepdims, S);
  if (!strcmp(op, "argmax")) return all ? mlx_argmax(r, x, keepdims, S) : mlx_argmax_axis(r, x, axes[0], keepdims, S);
  if (!strcmp(op, "argmin")) return all ? mlx_argmin(r, x, keepdims, S) : mlx_argmin_axis(r, x, axes[0], keepdims, S);
  if (!strcmp(op, "softmax")) return all ? mlx_softmax(r, x, 0, S) : mlx_softmax_axes(r, x, axes, n, 0, S);
  return -1;
}

static double tol_of(mlx_dtype t) {
  switch (t) {
    case MLX_FLOAT32:
    case MLX_COMPLEX64:
      return 1e-5;
    case MLX_FLOAT16:
      return 2e-3;
    case MLX_BFLOAT16:
      return 1e-2;
    case MLX_FLOAT64:
      return 1e-12;
    default:
      return 0;
  }
}

/* Values of a (complex as re, im pairs) into out; returns the count of
 * doubles or -1. */
static int64_t read_values(double* out, int64_t cap, mlx_array a) {
  if (mlx_array_dtype(a) != MLX_COMPLEX64) return read_f64(out, cap, a);
  int64_t n = mlx_array_size(a);
  if (2 * n > cap) return -1;
  float* f = malloc((size_t)(2 * n > 0 ? 2 * n : 1) * sizeof(float));
  if (!f || mlx_array_copy_to(f, (size_t)n * 8, a)) {
    free(f);
    return -1;
  }
  for (int64_t i = 0; i < 2 * n; i++) out[i] = f[i];
  free(f);
  return 2 * n;
}

static int close_enough(double got, double e, double tol) {
  if (isnan(e)) return isnan(got);
  if (isinf(e)) return got == e;
  return fabs(got - e) <= tol * (1 + fabs(e));
}

/* Checks dtype, shape and values (tolerance by dtype) of r; label names
 * the case in failure messages. */
static void check_result(const char* label, mlx_array r, mlx_dtype dtype, int ndim, const int64_t* shape, int n,
                         const double* expect, double tol) {
  harness_checks++;
  if (mlx_array_dtype(r) != dtype || mlx_array_ndim(r) != ndim) {
    harness_failures++;
    fprintf(stderr, "%s: dtype %s ndim %d, expected %s ndim %d\n", label, mlx_dtype_name(mlx_array_dtype(r)),
            mlx_array_ndim(r), mlx_dtype_name(dtype), ndim);
    return;
  }
  for (int i = 0; i < ndim; i++)
    if (mlx_array_shape(r)[i] != shape[i]) {
      harness_failures++;
      fprintf(stderr, "%s: dim %d is %lld, expected %lld\n", label, i, (long long)mlx_array_shape(r)[i],
              (long long)shape[i]);
      return;
    }
  double got[64];
  int64_t cnt = read_values(got, 64, r);
  if (cnt != n) {
    harness_failures++;
    fprintf(stderr, "%s: %lld values, expected %d (%s)\n", label, (long long)cnt, n, mlx_last_error());
    return;
  }
  for (int i = 0; i < n; i++)
    if (!close_enough(got[i], expect[i], tol)) {
      harness_failures++;
      fprintf(stderr, "%s: value %d is %.9g, expected %.9g\n", label, i, got[i], expect[i]);
      return;
    }
}

/* ---- the table --------------------------------------------------------- */

typedef struct {
  const char* op;
  int input;
  int naxes; /* -1: the plain form */
  int axes[3];
  int keepdims, ddof;
  mlx_dtype dtype;
  int ndim;
  int64_t shape[3];
  int n; /* doubles in expect (complex: re, im pairs) */
  const double* expect;
} table_case;

/* Printed by Python mlx 0.32 with inputs (2, 3, 4):
 *   F = [(i*0.5 - 3) * [1, -1.5, 2, 0.25][i % 4]], I = [(i*37) % 23 - 11],
 *   U = [(i*37) % 23], B = [(i*7) % 3 == 0],
 *   C = [complex(i*0.5 - 2.5, (i*5) % 7 - 3) * 0.5]   (i = 0..23)
 * as float32/16, bfloat16, float64 (F), int32/8/64 (I), uint8/16/64 (U),
 * bool (B), complex64 (C); for each op, axes None, [0], [-1], [0, 2],
 * [1] with keepdims, [-1, -3] (float32) or None, [0, 2] (others), argmax
 * and argmin taking axis 1 where several axes are listed; var with
 * ddof 0, std with ddof 1. Rows where Python raised are left out. The
 * script (gen.py, kept out of the tree) is:
 *   r = getattr(mx, op)(x, axis=..., keepdims=..., ddof=...)
 *   print(r.dtype, r.shape, list(np.array(r.astype(mx.float64)).flatten()))
 * Left out too, as deliberate deviations: logsumexp of unsigned and bool
 * inputs over anything but the last axis alone, where upstream subtracts
 * the max in the unsigned dtype and wraps to inf (see edge_logsumexp), and
 * softmax of uint64 over several axes, where upstream casts inf/NaN back
 * to uint64 (undefined; it prints 2^63). Python mlx computes float64 exp
 * only to float32 accuracy, so float64 logsumexp/softmax rows are checked
 * to 1e-6 (numpy agrees with our values to 1e-15). */
static const table_case table[] = {
    {"sum", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){30.75}},
    {"sum", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){0, -1.5, 4.0, 0.75, 4.0, -7.5, 12.0, 1.75, 8.0, -13.5, 20.0, 2.75}},
    {"sum", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){-3.625, -0.125, 3.375, 6.875, 10.375, 13.875}},
    {"sum", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){3.25, 10.25, 17.25}},
    {"sum", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){-3.0, 2.25, 0, 0.375, 15.0, -24.75, 36.0, 4.875}},
    {"sum", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){3.25, 10.25, 17.25}},
    {"prod", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){-9.0, -19.6875, -32.0, -0.421875, -5.0, -6.1875, 0, 0.203125, 7.0, 25.3125, 64.0, 1.328125}},
    {"prod", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){-16.875, 0, -5.625, -141.75, -804.375, -2677.5}},
    {"prod", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){2392.03125, 0, 15060.9375}},
    {"prod", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){3.0, -6.328125, 0, -0.029296875, 105.0, -487.265625, 1536.0, 3.884765625}},
    {"prod", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){2392.03125, 0, 15060.9375}},
    {"max", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){16.0}},
    {"max", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){3.0, 3.75, 8.0, 1.125, 5.0, 0.75, 12.0, 1.625, 7.0, -2.25, 16.0, 2.125}},
    {"max", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){3.75, 0.75, 4.0, 8.0, 12.0, 16.0}},
    {"max", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"max", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){1.0, 3.75, 4.0, 0.625, 7.0, -5.25, 16.0, 2.125}},
    {"max", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"min", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){-11.25}},
    {"min", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){-3.0, -5.25, -4.0, -0.375, -1.0, -8.25, 0, 0.125, 1.0, -11.25, 4.0, 0.625}},
    {"min", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){-4.0, -1.0, -2.25, -5.25, -8.25, -11.25}},
    {"min", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){-5.25, -8.25, -11.25}},
    {"min", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){-3.0, -2.25, -4.0, -0.375, 3.0, -11.25, 8.0, 1.125}},
    {"min", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){-5.25, -8.25, -11.25}},
    {"all", IN_F32, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_F32, 1, {0}, 0, 0, MLX_BOOL, 2, {3, 4}, 12, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"all", IN_F32, 1, {-1}, 0, 0, MLX_BOOL, 2, {2, 3}, 6, (const double[]){1.0, 0, 1.0, 1.0, 1.0, 1.0}},
    {"all", IN_F32, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 0, 1.0}},
    {"all", IN_F32, 1, {1}, 1, 0, MLX_BOOL, 3, {2, 1, 4}, 8, (const double[]){1.0, 1.0, 0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"all", IN_F32, 2, {-1, -3}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 0, 1.0}},
    {"any", IN_F32, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_F32, 1, {0}, 0, 0, MLX_BOOL, 2, {3, 4}, 12, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"any", IN_F32, 1, {-1}, 0, 0, MLX_BOOL, 2, {2, 3}, 6, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"any", IN_F32, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"any", IN_F32, 1, {1}, 1, 0, MLX_BOOL, 3, {2, 1, 4}, 8, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"any", IN_F32, 2, {-1, -3}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){1.28125}},
    {"mean", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){0, -0.75, 2.0, 0.375, 2.0, -3.75, 6.0, 0.875, 4.0, -6.75, 10.0, 1.375}},
    {"mean", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){-0.90625, -0.03125, 0.84375, 1.71875, 2.59375, 3.46875}},
    {"mean", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){0.40625, 1.28125, 2.15625}},
    {"mean", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){-1.0, 0.75, 0, 0.125, 5.0, -8.25, 12.0, 1.625}},
    {"mean", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){0.40625, 1.28125, 2.15625}},
    {"var", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){33.3935546875}},
    {"var", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){9.0, 20.25, 36.0, 0.5625, 9.0, 20.25, 36.0, 0.5625, 9.0, 20.25, 36.0, 0.5625}},
    {"var", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){8.9794921875, 0.3935546875, 4.9013671875, 22.5029296875, 53.1982421875, 96.9873046875}},
    {"var", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){17.4638671875, 28.5185546875, 52.6669921875}},
    {"var", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){2.6666667461395264, 6.0, 10.666666984558105, 0.1666666716337204, 2.6666667461395264, 6.0, 10.666666984558105, 0.1666666716337204}},
    {"var", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){17.4638671875, 28.5185546875, 52.6669921875}},
    {"std", IN_F32, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){5.903003215789795}},
    {"std", IN_F32, 1, {0}, 0, 1, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){4.242640495300293, 6.363961219787598, 8.485280990600586, 1.0606601238250732, 4.242640495300293, 6.363961219787598, 8.485280990600586, 1.0606601238250732, 4.242640495300293, 6.363961219787598, 8.485280990600586, 1.0606601238250732}},
    {"std", IN_F32, 1, {-1}, 0, 1, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){3.4601526260375977, 0.7243890762329102, 2.5563950538635254, 5.477581977844238, 8.422054290771484, 11.371737480163574}},
    {"std", IN_F32, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){4.467516899108887, 5.708995819091797, 7.758275985717773}},
    {"std", IN_F32, 1, {1}, 1, 1, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){2.0, 3.0, 4.0, 0.5, 2.0, 3.0, 4.0, 0.5}},
    {"std", IN_F32, 2, {-1, -3}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){4.467516899108887, 5.708995819091797, 7.758275985717773}},
    {"logsumexp", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){16.018632888793945}},
    {"logsumexp", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 2, {3, 4}, 12, (const double[]){3.0024757385253906, 3.7501232624053955, 8.000005722045898, 1.3264133930206299, 5.002475738525391, 0.7501233816146851, 12.000005722045898, 1.8264133930206299, 7.002475738525391, -2.2498767375946045, 16.0000057220459, 2.32641339302063}},
    {"logsumexp", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 2, {2, 3}, 6, (const double[]){3.767609119415283, 1.5299677848815918, 4.082441806793213, 8.007742881774902, 12.00094223022461, 16.000123977661133}},
    {"logsumexp", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){8.022046089172363, 12.000970840454102, 16.000131607055664}},
    {"logsumexp", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 1, 4}, 8, (const double[]){1.142931580543518, 3.80094575881958, 4.018479347229004, 1.305269718170166, 7.1429314613342285, -5.19905424118042, 16.018478393554688, 2.805269718170166}},
    {"logsumexp", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){8.022046089172363, 12.000970840454102, 16.000131607055664}},
    {"argmax", IN_F32, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){22.0}},
    {"argmax", IN_F32, 1, {0}, 0, 0, MLX_UINT32, 2, {3, 4}, 12, (const double[]){1.0, 0, 1.0, 1.0, 1.0, 0, 1.0, 1.0, 1.0, 0, 1.0, 1.0}},
    {"argmax", IN_F32, 1, {-1}, 0, 0, MLX_UINT32, 2, {2, 3}, 6, (const double[]){1.0, 1.0, 2.0, 2.0, 2.0, 2.0}},
    {"argmax", IN_F32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmax", IN_F32, 1, {1}, 1, 0, MLX_UINT32, 3, {2, 1, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmax", IN_F32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmin", IN_F32, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){21.0}},
    {"argmin", IN_F32, 1, {0}, 0, 0, MLX_UINT32, 2, {3, 4}, 12, (const double[]){0, 1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0, 0, 0}},
    {"argmin", IN_F32, 1, {-1}, 0, 0, MLX_UINT32, 2, {2, 3}, 6, (const double[]){2.0, 0, 1.0, 1.0, 1.0, 1.0}},
    {"argmin", IN_F32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"argmin", IN_F32, 1, {1}, 1, 0, MLX_UINT32, 3, {2, 1, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"argmin", IN_F32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"softmax", IN_F32, -1, {0}, 0, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){5.4993694043048436e-09, 4.696785254054703e-06, 2.0231041286677964e-09, 7.59164819896796e-08, 4.0635125486687684e-08, 2.3383918801300752e-07, 1.104577691535269e-07, 1.2516497349679412e-07, 3.002554933573265e-07, 1.1642169006620406e-08, 6.030792064848356e-06, 2.0636220199321542e-07, 2.218603412984521e-06, 5.796295110549465e-10, 0.0003292699402663857, 3.4023381090264593e-07, 1.6393387340940535e-05, 2.8858018405464314e-11, 0.017977528274059296, 5.609508662018925e-07, 0.00012113167031202465, 1.4367582644447818e-12, 0.981539785861969, 9.248517471860396e-07}},
    {"softmax", IN_F32, 1, {0}, 0, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){0.0024726237170398235, 0.9998766183853149, 6.144177405076334e-06, 0.18242552876472473, 0.0024726237170398235, 0.9998766183853149, 6.144177405076334e-06, 0.18242552876472473, 0.0024726237170398235, 0.9998766183853149, 6.144177405076334e-06, 0.18242552876472473, 0.9975274205207825, 0.00012339462409727275, 0.9999938011169434, 0.8175744414329529, 0.9975274205207825, 0.00012339462409727275, 0.9999938011169434, 0.8175744414329529, 0.9975274205207825, 0.00012339462409727275, 0.9999938011169434, 0.8175744414329529}},
    {"softmax", IN_F32, 1, {-1}, 0, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){0.0011504419380798936, 0.982545018196106, 0.00042322403169237077, 0.015881361439824104, 0.07966157793998718, 0.4584207832813263, 0.21654264628887177, 0.24537497758865356, 0.04584717005491257, 0.0017776878084987402, 0.9208649396896362, 0.03151026368141174, 0.00668597687035799, 1.746768589327985e-06, 0.9922869205474854, 0.001025327597744763, 0.0009110226528719068, 1.6037154937365017e-09, 0.9990578293800354, 3.1173480238066986e-05, 0.00012339450768195093, 1.463597906065095e-12, 0.9998756647109985, 9.421286790711747e-07}},
    {"softmax", IN_F32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){1.633752981433645e-05, 0.01395320612937212, 6.010242941556498e-06, 0.00022553258168045431, 2.258135964439134e-06, 1.2994683856959455e-05, 6.1382525018416345e-06, 6.955546723474981e-06, 3.058624429286283e-07, 1.1859574655659344e-08, 6.14341070104274e-06, 2.102158020989009e-07, 0.006591028533875942, 1.7219625760844792e-06, 0.978195309638977, 0.0010107668349519372, 0.0009109968086704612, 1.603669974592492e-09, 0.9990295171737671, 3.117259620921686e-05, 0.0001233936782227829, 1.4635881482455426e-12, 0.9998689889907837, 9.421224262951e-07}},
    {"softmax", IN_F32, 1, {1}, 1, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){0.01587624102830887, 0.9503302574157715, 0.00032932046451605856, 0.18632373213768005, 0.11731042712926865, 0.04731416329741478, 0.017980286851525307, 0.30719590187072754, 0.8668133616447449, 0.002355633769184351, 0.9816903471946716, 0.5064803957939148, 0.01587624102830887, 0.9503302574157715, 0.00032932046451605856, 0.18632373213768005, 0.11731042712926865, 0.04731416329741478, 0.017980286851525307, 0.30719590187072754, 0.8668133616447449, 0.002355633769184351, 0.9816903471946716, 0.5064803957939148}},
    {"softmax", IN_F32, 2, {-1, -3}, 0, 0, MLX_FLOAT32, 3, {2, 3, 4}, 24, (const double[]){1.633752981433645e-05, 0.01395320612937212, 6.010242941556498e-06, 0.00022553258168045431, 2.258135964439134e-06, 1.2994683856959455e-05, 6.1382525018416345e-06, 6.955546723474981e-06, 3.058624429286283e-07, 1.1859574655659344e-08, 6.14341070104274e-06, 2.102158020989009e-07, 0.006591028533875942, 1.7219625760844792e-06, 0.978195309638977, 0.0010107668349519372, 0.0009109968086704612, 1.603669974592492e-09, 0.9990295171737671, 3.117259620921686e-05, 0.0001233936782227829, 1.4635881482455426e-12, 0.9998689889907837, 9.421224262951e-07}},
    {"sum", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){30.75}},
    {"sum", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){3.25, 10.25, 17.25}},
    {"prod", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){2392.0, 0, 15064.0}},
    {"max", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){16.0}},
    {"max", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"min", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){-11.25}},
    {"min", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){-5.25, -8.25, -11.25}},
    {"all", IN_F16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_F16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 0, 1.0}},
    {"any", IN_F16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_F16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){1.28125}},
    {"mean", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){0.40625, 1.28125, 2.15625}},
    {"var", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){33.375}},
    {"var", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){17.46875, 28.515625, 52.65625}},
    {"std", IN_F16, -1, {0}, 0, 1, MLX_FLOAT16, 0, {0}, 1, (const double[]){5.90234375}},
    {"std", IN_F16, 2, {0, 2}, 0, 1, MLX_FLOAT16, 1, {3}, 3, (const double[]){4.46875, 5.7109375, 7.7578125}},
    {"logsumexp", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 0, {0}, 1, (const double[]){16.015625}},
    {"logsumexp", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 1, {3}, 3, (const double[]){8.0234375, 12.0, 16.0}},
    {"argmax", IN_F16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){22.0}},
    {"argmax", IN_F16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmin", IN_F16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){21.0}},
    {"argmin", IN_F16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"softmax", IN_F16, -1, {0}, 0, 0, MLX_FLOAT16, 3, {2, 3, 4}, 24, (const double[]){0, 4.708766937255859e-06, 0, 5.960464477539063e-08, 5.960464477539063e-08, 2.384185791015625e-07, 1.1920928955078125e-07, 1.1920928955078125e-07, 2.980232238769531e-07, 0, 6.020069122314453e-06, 2.384185791015625e-07, 2.205371856689453e-06, 0, 0.0003292560577392578, 3.5762786865234375e-07, 1.6391277313232422e-05, 0, 0.017974853515625, 5.960464477539062e-07, 0.00012111663818359375, 0, 0.98193359375, 9.5367431640625e-07}},
    {"softmax", IN_F16, 2, {0, 2}, 0, 0, MLX_FLOAT16, 3, {2, 3, 4}, 24, (const double[]){1.633167266845703e-05, 0.01395416259765625, 6.020069122314453e-06, 0.00022554397583007812, 2.2649765014648438e-06, 1.2993812561035156e-05, 6.139278411865234e-06, 6.973743438720703e-06, 2.980232238769531e-07, 0, 6.139278411865234e-06, 2.384185791015625e-07, 0.006587982177734375, 1.7285346984863281e-06, 0.97802734375, 0.0010099411010742188, 0.0009107589721679688, 0, 0.9990234375, 3.1113624572753906e-05, 0.0001233816146850586, 0, 1.0, 9.5367431640625e-07}},
    {"sum", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){30.75}},
    {"sum", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){3.25, 10.25, 17.25}},
    {"prod", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){2400.0, 0, 15040.0}},
    {"max", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){16.0}},
    {"max", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"min", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){-11.25}},
    {"min", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){-5.25, -8.25, -11.25}},
    {"all", IN_BF16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_BF16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 0, 1.0}},
    {"any", IN_BF16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_BF16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){1.28125}},
    {"mean", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){0.40625, 1.28125, 2.15625}},
    {"var", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){33.5}},
    {"var", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){17.5, 28.5, 52.75}},
    {"std", IN_BF16, -1, {0}, 0, 1, MLX_BFLOAT16, 0, {0}, 1, (const double[]){5.90625}},
    {"std", IN_BF16, 2, {0, 2}, 0, 1, MLX_BFLOAT16, 1, {3}, 3, (const double[]){4.46875, 5.6875, 7.75}},
    {"logsumexp", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 0, {0}, 1, (const double[]){16.0}},
    {"logsumexp", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"argmax", IN_BF16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){22.0}},
    {"argmax", IN_BF16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmin", IN_BF16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){21.0}},
    {"argmin", IN_BF16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"softmax", IN_BF16, -1, {0}, 0, 0, MLX_BFLOAT16, 3, {2, 3, 4}, 24, (const double[]){5.529727786779404e-09, 4.738569259643555e-06, 2.0372681319713593e-09, 7.59027898311615e-08, 4.0745362639427185e-08, 2.3469328880310059e-07, 1.1082738637924194e-07, 1.257285475730896e-07, 2.998858690261841e-07, 1.1699739843606949e-08, 6.0498714447021484e-06, 2.076849341392517e-07, 2.2351741790771484e-06, 5.820766091346741e-10, 0.0003299713134765625, 3.4086406230926514e-07, 1.6450881958007812e-05, 2.887645678129047e-11, 0.01806640625, 5.62518835067749e-07, 0.00012111663818359375, 1.4424017535930034e-12, 0.984375, 9.275972843170166e-07}},
    {"softmax", IN_BF16, 2, {0, 2}, 0, 0, MLX_BFLOAT16, 3, {2, 3, 4}, 24, (const double[]){1.633167266845703e-05, 0.01397705078125, 5.990266799926758e-06, 0.000225067138671875, 2.2649765014648438e-06, 1.2993812561035156e-05, 6.139278411865234e-06, 6.973743438720703e-06, 3.0547380447387695e-07, 1.1874362826347351e-08, 6.139278411865234e-06, 2.1047890186309814e-07, 0.006591796875, 1.7210841178894043e-06, 0.9765625, 0.001007080078125, 0.000911712646484375, 1.6079866327345371e-09, 1.0, 3.123283386230469e-05, 0.00012302398681640625, 1.4637180356658064e-12, 1.0, 9.424984455108643e-07}},
    {"sum", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){30.75}},
    {"sum", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){3.25, 10.25, 17.25}},
    {"prod", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){2392.03125, 0, 15060.9375}},
    {"max", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){16.0}},
    {"max", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){8.0, 12.0, 16.0}},
    {"min", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){-11.25}},
    {"min", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){-5.25, -8.25, -11.25}},
    {"all", IN_F64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_F64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 0, 1.0}},
    {"any", IN_F64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_F64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){1.28125}},
    {"mean", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){0.40625, 1.28125, 2.15625}},
    {"var", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){33.3935546875}},
    {"var", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){17.4638671875, 28.5185546875, 52.6669921875}},
    {"std", IN_F64, -1, {0}, 0, 1, MLX_FLOAT64, 0, {0}, 1, (const double[]){5.903003334707276}},
    {"std", IN_F64, 2, {0, 2}, 0, 1, MLX_FLOAT64, 1, {3}, 3, (const double[]){4.467516687953483, 5.70899587743514, 7.758276110985334}},
    {"logsumexp", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 0, {0}, 1, (const double[]){16.018632724522057}},
    {"logsumexp", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 1, {3}, 3, (const double[]){8.022045838868532, 12.000970988876333, 16.000131015732354}},
    {"argmax", IN_F64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){22.0}},
    {"argmax", IN_F64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 2.0, 2.0, 2.0, 0, 2.0, 2.0}},
    {"argmin", IN_F64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){21.0}},
    {"argmin", IN_F64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 0, 0, 0, 2.0, 0, 0}},
    {"softmax", IN_F64, -1, {0}, 0, 0, MLX_FLOAT64, 3, {2, 3, 4}, 24, (const double[]){5.499369402204343e-09, 4.696785169284511e-06, 2.0231041474097983e-09, 7.591648354571616e-08, 4.06351265359955e-08, 2.3383918589119882e-07, 1.1045777396296511e-07, 1.2516497422939802e-07, 3.0025549329867374e-07, 1.1642169182868933e-08, 6.030792103022768e-06, 2.0636220680246166e-07, 2.218603508857861e-06, 5.79629523921235e-10, 0.0003292699428024492, 3.402338189286057e-07, 1.639338728431245e-05, 2.8858018859073376e-11, 0.0179775288265343, 5.609508654753124e-07, 0.00012113167392927922, 1.4367582607206097e-12, 0.9815397915463939, 9.248517788591266e-07}},
    {"softmax", IN_F64, 2, {0, 2}, 0, 0, MLX_FLOAT64, 3, {2, 3, 4}, 24, (const double[]){1.633753015659193e-05, 0.013953207430273883, 6.0102434074474e-06, 0.00022553259416170532, 2.2581359758941434e-06, 1.2994683822174093e-05, 6.138252534354259e-06, 6.955546775839916e-06, 3.0586244212187325e-07, 1.1859574187127902e-08, 6.143410667677532e-06, 2.1021579935416546e-07, 0.006591028723183171, 1.7219626652184218e-06, 0.9781953946534074, 0.00101076686274459, 0.000910996800595477, 1.6036699376395816e-09, 0.999029482380825, 3.117259580121628e-05, 0.00012339367782845305, 1.4635881779709702e-12, 0.9998689928498322, 9.421223924160613e-07}},
    {"sum", IN_I32, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){-11.0}},
    {"sum", IN_I32, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){-7.0, 4.0, -8.0}},
    {"prod", IN_I32, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_I32, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){506880.0, 79200.0, 0}},
    {"max", IN_I32, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){11.0}},
    {"max", IN_I32, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){10.0, 11.0, 9.0}},
    {"min", IN_I32, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){-11.0}},
    {"min", IN_I32, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){-11.0, -10.0, -11.0}},
    {"all", IN_I32, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_I32, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 0}},
    {"any", IN_I32, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_I32, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_I32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){-0.4583333432674408}},
    {"mean", IN_I32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){-0.875, 0.5, -1.0}},
    {"var", IN_I32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.99825668334961}},
    {"var", IN_I32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_I32, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.002974987030029}},
    {"std", IN_I32, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"logsumexp", IN_I32, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){11.458675384521484}},
    {"logsumexp", IN_I32, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.127840042114258, 11.007750511169434, 9.14305305480957}},
    {"argmax", IN_I32, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_I32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_I32, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_I32, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"softmax", IN_I32, -1, {0}, 0, 0, MLX_INT32, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_I32, 2, {0, 2}, 0, 0, MLX_INT32, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"sum", IN_I8, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){-11.0}},
    {"sum", IN_I8, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){-7.0, 4.0, -8.0}},
    {"prod", IN_I8, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_I8, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){506880.0, 79200.0, 0}},
    {"max", IN_I8, -1, {0}, 0, 0, MLX_INT8, 0, {0}, 1, (const double[]){11.0}},
    {"max", IN_I8, 2, {0, 2}, 0, 0, MLX_INT8, 1, {3}, 3, (const double[]){10.0, 11.0, 9.0}},
    {"min", IN_I8, -1, {0}, 0, 0, MLX_INT8, 0, {0}, 1, (const double[]){-11.0}},
    {"min", IN_I8, 2, {0, 2}, 0, 0, MLX_INT8, 1, {3}, 3, (const double[]){-11.0, -10.0, -11.0}},
    {"all", IN_I8, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_I8, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 0}},
    {"any", IN_I8, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_I8, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_I8, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){-0.4583333432674408}},
    {"mean", IN_I8, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){-0.875, 0.5, -1.0}},
    {"var", IN_I8, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.99825668334961}},
    {"var", IN_I8, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_I8, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.002974987030029}},
    {"std", IN_I8, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"logsumexp", IN_I8, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){11.458675384521484}},
    {"logsumexp", IN_I8, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.127840042114258, 11.007750511169434, 9.14305305480957}},
    {"argmax", IN_I8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_I8, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_I8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_I8, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"softmax", IN_I8, -1, {0}, 0, 0, MLX_INT8, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_I8, 2, {0, 2}, 0, 0, MLX_INT8, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"sum", IN_I64, -1, {0}, 0, 0, MLX_INT64, 0, {0}, 1, (const double[]){-11.0}},
    {"sum", IN_I64, 2, {0, 2}, 0, 0, MLX_INT64, 1, {3}, 3, (const double[]){-7.0, 4.0, -8.0}},
    {"prod", IN_I64, -1, {0}, 0, 0, MLX_INT64, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_I64, 2, {0, 2}, 0, 0, MLX_INT64, 1, {3}, 3, (const double[]){506880.0, 79200.0, 0}},
    {"max", IN_I64, -1, {0}, 0, 0, MLX_INT64, 0, {0}, 1, (const double[]){11.0}},
    {"max", IN_I64, 2, {0, 2}, 0, 0, MLX_INT64, 1, {3}, 3, (const double[]){10.0, 11.0, 9.0}},
    {"min", IN_I64, -1, {0}, 0, 0, MLX_INT64, 0, {0}, 1, (const double[]){-11.0}},
    {"min", IN_I64, 2, {0, 2}, 0, 0, MLX_INT64, 1, {3}, 3, (const double[]){-11.0, -10.0, -11.0}},
    {"all", IN_I64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_I64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 0}},
    {"any", IN_I64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_I64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_I64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){-0.4583333432674408}},
    {"mean", IN_I64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){-0.875, 0.5, -1.0}},
    {"var", IN_I64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.99825668334961}},
    {"var", IN_I64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_I64, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.002974987030029}},
    {"std", IN_I64, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"logsumexp", IN_I64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){11.458675384521484}},
    {"logsumexp", IN_I64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.127840042114258, 11.007750511169434, 9.14305305480957}},
    {"argmax", IN_I64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_I64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_I64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_I64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"softmax", IN_I64, -1, {0}, 0, 0, MLX_INT64, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_I64, 2, {0, 2}, 0, 0, MLX_INT64, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"sum", IN_U8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){253.0}},
    {"sum", IN_U8, 2, {0, 2}, 0, 0, MLX_UINT32, 1, {3}, 3, (const double[]){81.0, 92.0, 80.0}},
    {"prod", IN_U8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_U8, 2, {0, 2}, 0, 0, MLX_UINT32, 1, {3}, 3, (const double[]){0, 35006400.0, 0}},
    {"max", IN_U8, -1, {0}, 0, 0, MLX_UINT8, 0, {0}, 1, (const double[]){22.0}},
    {"max", IN_U8, 2, {0, 2}, 0, 0, MLX_UINT8, 1, {3}, 3, (const double[]){21.0, 22.0, 20.0}},
    {"min", IN_U8, -1, {0}, 0, 0, MLX_UINT8, 0, {0}, 1, (const double[]){0}},
    {"min", IN_U8, 2, {0, 2}, 0, 0, MLX_UINT8, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"all", IN_U8, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_U8, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"any", IN_U8, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_U8, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_U8, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){10.541666984558105}},
    {"mean", IN_U8, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.125, 11.5, 10.0}},
    {"var", IN_U8, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.998260498046875}},
    {"var", IN_U8, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_U8, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.0029754638671875}},
    {"std", IN_U8, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"argmax", IN_U8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_U8, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_U8, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_U8, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"softmax", IN_U8, -1, {0}, 0, 0, MLX_UINT8, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_U8, 2, {0, 2}, 0, 0, MLX_UINT8, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"sum", IN_U16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){253.0}},
    {"sum", IN_U16, 2, {0, 2}, 0, 0, MLX_UINT32, 1, {3}, 3, (const double[]){81.0, 92.0, 80.0}},
    {"prod", IN_U16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_U16, 2, {0, 2}, 0, 0, MLX_UINT32, 1, {3}, 3, (const double[]){0, 35006400.0, 0}},
    {"max", IN_U16, -1, {0}, 0, 0, MLX_UINT16, 0, {0}, 1, (const double[]){22.0}},
    {"max", IN_U16, 2, {0, 2}, 0, 0, MLX_UINT16, 1, {3}, 3, (const double[]){21.0, 22.0, 20.0}},
    {"min", IN_U16, -1, {0}, 0, 0, MLX_UINT16, 0, {0}, 1, (const double[]){0}},
    {"min", IN_U16, 2, {0, 2}, 0, 0, MLX_UINT16, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"all", IN_U16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_U16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"any", IN_U16, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_U16, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_U16, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){10.541666984558105}},
    {"mean", IN_U16, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.125, 11.5, 10.0}},
    {"var", IN_U16, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.998260498046875}},
    {"var", IN_U16, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_U16, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.0029754638671875}},
    {"std", IN_U16, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"argmax", IN_U16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_U16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_U16, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_U16, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"softmax", IN_U16, -1, {0}, 0, 0, MLX_UINT16, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_U16, 2, {0, 2}, 0, 0, MLX_UINT16, 3, {2, 3, 4}, 24, (const double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"sum", IN_U64, -1, {0}, 0, 0, MLX_UINT64, 0, {0}, 1, (const double[]){253.0}},
    {"sum", IN_U64, 2, {0, 2}, 0, 0, MLX_UINT64, 1, {3}, 3, (const double[]){81.0, 92.0, 80.0}},
    {"prod", IN_U64, -1, {0}, 0, 0, MLX_UINT64, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_U64, 2, {0, 2}, 0, 0, MLX_UINT64, 1, {3}, 3, (const double[]){0, 35006400.0, 0}},
    {"max", IN_U64, -1, {0}, 0, 0, MLX_UINT64, 0, {0}, 1, (const double[]){22.0}},
    {"max", IN_U64, 2, {0, 2}, 0, 0, MLX_UINT64, 1, {3}, 3, (const double[]){21.0, 22.0, 20.0}},
    {"min", IN_U64, -1, {0}, 0, 0, MLX_UINT64, 0, {0}, 1, (const double[]){0}},
    {"min", IN_U64, 2, {0, 2}, 0, 0, MLX_UINT64, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"all", IN_U64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_U64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){0, 1.0, 0}},
    {"any", IN_U64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_U64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_U64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){10.541666984558105}},
    {"mean", IN_U64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){10.125, 11.5, 10.0}},
    {"var", IN_U64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){46.998260498046875}},
    {"var", IN_U64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){50.609375, 38.75, 50.25}},
    {"std", IN_U64, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){7.0029754638671875}},
    {"std", IN_U64, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){7.605214595794678, 6.654751300811768, 7.578164100646973}},
    {"argmax", IN_U64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){18.0}},
    {"argmax", IN_U64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 0, 1.0, 0, 1.0, 0, 1.0, 1.0}},
    {"argmin", IN_U64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_U64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 2.0}},
    {"sum", IN_BOOL, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){8.0}},
    {"sum", IN_BOOL, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){4.0, 2.0, 2.0}},
    {"prod", IN_BOOL, -1, {0}, 0, 0, MLX_INT32, 0, {0}, 1, (const double[]){0}},
    {"prod", IN_BOOL, 2, {0, 2}, 0, 0, MLX_INT32, 1, {3}, 3, (const double[]){0, 0, 0}},
    {"max", IN_BOOL, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"max", IN_BOOL, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"min", IN_BOOL, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"min", IN_BOOL, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){0, 0, 0}},
    {"all", IN_BOOL, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){0}},
    {"all", IN_BOOL, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){0, 0, 0}},
    {"any", IN_BOOL, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_BOOL, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_BOOL, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){0.3333333432674408}},
    {"mean", IN_BOOL, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){0.5, 0.25, 0.25}},
    {"var", IN_BOOL, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){0.2222222089767456}},
    {"var", IN_BOOL, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){0.25, 0.1875, 0.1875}},
    {"std", IN_BOOL, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){0.4815433919429779}},
    {"std", IN_BOOL, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){0.5345224738121033, 0.4629100561141968, 0.4629100561141968}},
    {"argmax", IN_BOOL, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmax", IN_BOOL, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 2.0, 1.0, 0, 0, 2.0, 1.0, 0}},
    {"argmin", IN_BOOL, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){1.0}},
    {"argmin", IN_BOOL, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){1.0, 0, 0, 1.0, 1.0, 0, 0, 1.0}},
    {"softmax", IN_BOOL, -1, {0}, 0, 0, MLX_BOOL, 3, {2, 3, 4}, 24, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"softmax", IN_BOOL, 2, {0, 2}, 0, 0, MLX_BOOL, 3, {2, 3, 4}, 24, (const double[]){1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}},
    {"sum", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){39.0, -0.5}},
    {"sum", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){5.0, -2.0, 13.0, 1.0, 21.0, 0.5}},
    {"prod", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){-6246895.0, 862093.0}},
    {"prod", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){32.91064453125, 54.02197265625, 26.5869140625, 69.0185546875, 960.35888671875, 945.72509765625}},
    {"max", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){4.5, 0}},
    {"max", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){2.5, 1.0, 3.5, 0.5, 4.5, 0}},
    {"min", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){-1.25, -1.5}},
    {"min", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){-1.25, -1.5, -0.25, 1.5, 0.75, 1.0}},
    {"all", IN_C64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"all", IN_C64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"any", IN_C64, -1, {0}, 0, 0, MLX_BOOL, 0, {0}, 1, (const double[]){1.0}},
    {"any", IN_C64, 2, {0, 2}, 0, 0, MLX_BOOL, 1, {3}, 3, (const double[]){1.0, 1.0, 1.0}},
    {"mean", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){1.625, -0.02083333395421505}},
    {"mean", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){0.625, -0.25, 1.625, 0.125, 2.625, 0.0625}},
    {"var", IN_C64, -1, {0}, 0, 0, MLX_FLOAT32, 0, {0}, 1, (const double[]){4.00477409362793}},
    {"var", IN_C64, 2, {0, 2}, 0, 0, MLX_FLOAT32, 1, {3}, 3, (const double[]){3.265625, 3.375, 3.29296875}},
    {"std", IN_C64, -1, {0}, 0, 1, MLX_FLOAT32, 0, {0}, 1, (const double[]){2.04423451423645}},
    {"std", IN_C64, 2, {0, 2}, 0, 1, MLX_FLOAT32, 1, {3}, 3, (const double[]){1.931875467300415, 1.9639610052108765, 1.9399466514587402}},
    {"logsumexp", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 0, {0}, 2, (const double[]){5.540187835693359, 0.041913386434316635}},
    {"logsumexp", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 1, {3}, 6, (const double[]){2.9863386154174805, -0.024378061294555664, 4.160414695739746, 0.37868207693099976, 5.1681318283081055, -0.07148190587759018}},
    {"argmax", IN_C64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){23.0}},
    {"argmax", IN_C64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0}},
    {"argmin", IN_C64, -1, {0}, 0, 0, MLX_UINT32, 0, {0}, 1, (const double[]){0}},
    {"argmin", IN_C64, 1, {1}, 0, 0, MLX_UINT32, 2, {2, 4}, 8, (const double[]){0, 0, 0, 0, 0, 0, 0, 0}},
    {"softmax", IN_C64, -1, {0}, 0, 0, MLX_COMPLEX64, 3, {2, 3, 4}, 48, (const double[]){3.248178109060973e-05, -0.00112428842112422, 0.0008305496885441244, 0.0011815036414191127, 0.00185278314165771, -7.770192314637825e-05, 0.0012014355743303895, -0.0020557832904160023, 0.0003438704297877848, 0.0030380086973309517, 0.00352104171179235, 0.001736112986691296, 0.004318582825362682, -0.002599931787699461, 0.00018691978766582906, -0.006469833664596081, 0.004779483191668987, 0.006799083668738604, 0.010662030428647995, -0.00044714368414133787, 0.006913784425705671, -0.011830216273665428, 0.001978837652131915, 0.017482534050941467, 0.02026219666004181, 0.009990639984607697, 0.024851728230714798, -0.014961574226617813, 0.0010756489355117083, -0.03723131865262985, 0.027504025027155876, 0.03912602365016937, 0.061355751007795334, -0.002573134144768119, 0.03978608548641205, -0.06807819753885269, 0.011387425474822521, 0.10060503333806992, 0.116600900888443, 0.05749217048287392, 0.14301182329654694, -0.08609791100025177, 0.006189932581037283, -0.21425144374370575, 0.15827473998069763, 0.22515472769737244, 0.3530779480934143, -0.014807364903390408}},
    {"softmax", IN_C64, 2, {0, 2}, 0, 0, MLX_COMPLEX64, 3, {2, 3, 4}, 48, (const double[]){0.001374187646433711, -0.01439499668776989, 0.009648273698985577, 0.015863969922065735, 0.023834150284528732, 0.0005811461596749723, 0.01716313697397709, -0.025348909199237823, 0.005279185250401497, 0.01094331406056881, 0.01548642199486494, 0.0018880527932196856, 0.01278387289494276, -0.015422756783664227, -0.007794864010065794, -0.024512313306331635, 0.005773052107542753, 0.010584741830825806, 0.015441621653735638, 0.001105680363252759, 0.011907462030649185, -0.015917131677269936, -1.7498772649560124e-05, 0.02552410587668419, 0.2514200806617737, 0.14541883766651154, 0.3315463960170746, -0.17076586186885834, 0.04550684988498688, -0.47669678926467896, 0.3195069432258606, 0.5253425240516663, 0.226752370595932, -0.09022144228219986, 0.05983057990670204, -0.30759134888648987, 0.1748225837945938, 0.362392783164978, 0.5128398537635803, 0.0625237226486206, 0.22026997804641724, -0.10062563419342041, 0.04409192129969597, -0.3078053593635559, 0.19117721915245056, 0.35051849484443665, 0.5113562941551208, 0.03661510348320007}},
};

TEST(table) {
  static const char* names[] = {"f32", "f16", "bf16", "f64", "i32", "i8", "i64", "u8", "u16", "u64", "bool", "c64"};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    const table_case* c = &table[i];
    mlx_array x = make_input(c->input), r = mlx_array_new();
    char label[96];
    snprintf(label, sizeof label, "table[%zu] %s(%s, naxes %d, axis %d)", i, c->op, names[c->input], c->naxes, c->axes[0]);
    int rc = run_op(&r, c->op, x, c->naxes, c->axes, c->keepdims, c->ddof);
    harness_checks++;
    if (rc) {
      harness_failures++;
      fprintf(stderr, "%s failed: %s\n", label, mlx_last_error());
    } else {
      int exp_based = !strcmp(c->op, "logsumexp") || !strcmp(c->op, "softmax");
      check_result(label, r, c->dtype, c->ndim, c->shape, c->n, c->expect,
                   c->dtype == MLX_FLOAT64 && exp_based ? 1e-6 : tol_of(c->dtype));
    }
    mlx_array_free(x);
    mlx_array_free(r);
  }
}

/* ---- edge cases (expected values from Python mlx 0.32) ------------------ */

static mlx_array arr(const double* v, const int64_t* shape, int ndim, mlx_dtype dt) {
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT64);
  mlx_astype(&b, a, dt, S);
  mlx_array_free(a);
  return b;
}

/* r = op(x) then a check; frees r. */
#define EXPECT(call, r, dtype, ndim, shape, n, ...)                                  \
  do {                                                                             \
    CHECK_OK(call);                                                                \
    check_result(#call, r, dtype, ndim, shape, n, (const double[]){__VA_ARGS__}, tol_of(dtype)); \
  } while (0)

static const int64_t SH0[1] = {0};

TEST(edge_nan_inf) {
  const double nan = NAN, inf = INFINITY;
  int64_t sh23[2] = {2, 3}, sh2[1] = {2}, sh3[1] = {3}, sh24[2] = {2, 4}, sh42[2] = {4, 2}, sh4[1] = {4};
  int one = 1, zero = 0;
  mlx_array r = mlx_array_new();
  mlx_array x = arr((const double[]){1, nan, 3, 2, 5, -1}, sh23, 2, MLX_FLOAT32);
  EXPECT(mlx_max_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 1, sh2, 2, nan, 5);
  EXPECT(mlx_min_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT32, 1, sh3, 3, 1, nan, -1);
  EXPECT(mlx_sum_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 1, sh2, 2, nan, 6);
  mlx_array_free(x);
  x = arr((const double[]){1, nan, 3}, sh3, 1, MLX_FLOAT16);
  EXPECT(mlx_max(&r, x, 0, S), r, MLX_FLOAT16, 0, SH0, 1, nan);
  mlx_array_free(x);
  x = arr((const double[]){1, nan, 3}, sh3, 1, MLX_BFLOAT16);
  EXPECT(mlx_min(&r, x, 0, S), r, MLX_BFLOAT16, 0, SH0, 1, nan);
  mlx_array_free(x);
  /* NaN wins argmax and argmin; ties keep the first index */
  x = arr((const double[]){1, nan, 3, nan, 2, 5, -1, 5}, sh24, 2, MLX_FLOAT32);
  EXPECT(mlx_argmax_axis(&r, x, 1, 0, S), r, MLX_UINT32, 1, sh2, 2, 1, 1);
  mlx_array_free(x);
  x = arr((const double[]){1, nan, 3, nan, 2, 5, -1, -1}, sh24, 2, MLX_FLOAT32);
  EXPECT(mlx_argmin_axis(&r, x, -1, 0, S), r, MLX_UINT32, 1, sh2, 2, 1, 2);
  EXPECT(mlx_argmin_axis(&r, x, 0, 0, S), r, MLX_UINT32, 1, sh4, 4, 0, 0, 1, 0);
  mlx_array_free(x);
  x = arr((const double[]){-inf, -inf, inf, 1, nan, 1, 0, 0}, sh42, 2, MLX_FLOAT32);
  EXPECT(mlx_logsumexp_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 1, sh4, 4, -inf, inf, nan, 0.6931471824645996);
  mlx_array_free(x);
  x = arr((const double[]){-inf, -inf, inf, 1, -inf, 0, 1000, 1000}, sh42, 2, MLX_FLOAT32);
  EXPECT(mlx_softmax_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 2, sh42, 8, nan, nan, nan, nan, 0, 1, 0.5, 0.5);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(edge_integers) {
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  int64_t sh2[1] = {2}, sh3[1] = {3};
  int32_t i32[3] = {INT32_MAX, 1, 0};
  CHECK_OK(mlx_array_new_data(&x, i32, sh2, 1, MLX_INT32));
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, -2147483648.0); /* wraps */
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, -1073741824.0);
  uint32_t u32[2] = {UINT32_MAX, 1};
  CHECK_OK(mlx_array_new_data(&x, u32, sh2, 1, MLX_UINT32));
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 0);
  int32_t p32[3] = {65536, 65536, 3};
  CHECK_OK(mlx_array_new_data(&x, p32, sh3, 1, MLX_INT32));
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, 0);
  int8_t i8[3] = {-128, -128, -128};
  CHECK_OK(mlx_array_new_data(&x, i8, sh3, 1, MLX_INT8));
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, -2097152);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, -384);
  EXPECT(mlx_max(&r, x, 0, S), r, MLX_INT8, 0, SH0, 1, -128);
  uint8_t u8[3] = {200, 200, 7};
  CHECK_OK(mlx_array_new_data(&x, u8, sh3, 1, MLX_UINT8));
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 280000);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 407);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 135.66667175292969);
  int64_t i64[3] = {-5, 3, -7};
  CHECK_OK(mlx_array_new_data(&x, i64, sh3, 1, MLX_INT64));
  EXPECT(mlx_max(&r, x, 0, S), r, MLX_INT64, 0, SH0, 1, 3);
  EXPECT(mlx_argmin(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 2);
  /* 64-bit values past 2^53 survive exactly */
  uint64_t u64[2] = {UINT64_MAX - 2, 5}, got = 0;
  CHECK_OK(mlx_array_new_data(&x, u64, sh2, 1, MLX_UINT64));
  CHECK_OK(mlx_max(&r, x, 0, S));
  CHECK_OK(mlx_array_item_uint64(&got, r));
  CHECK(got == UINT64_MAX - 2);
  CHECK_OK(mlx_sum(&r, x, 0, S));
  CHECK_OK(mlx_array_item_uint64(&got, r));
  CHECK(got == 2); /* wraps */
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(edge_var_and_half) {
  int64_t sh2[1] = {2}, sh3[1] = {3}, sh7[1] = {7};
  mlx_array r = mlx_array_new();
  mlx_array x = arr((const double[]){1, 2, 3}, sh3, 1, MLX_FLOAT32);
  EXPECT(mlx_var(&r, x, 0, 3, S), r, MLX_FLOAT32, 0, SH0, 1, INFINITY); /* 2 / max(3 - 3, 0) */
  EXPECT(mlx_var(&r, x, 0, -1, S), r, MLX_FLOAT32, 0, SH0, 1, 0.5);
  EXPECT(mlx_std(&r, x, 1, 1, S), r, MLX_FLOAT32, 1, (const int64_t[]){1}, 1, 1);
  mlx_array_free(x);
  /* float16: the squares overflow, as upstream's float16 ops do */
  x = arr((const double[]){1000, 2000, 3000}, sh3, 1, MLX_FLOAT16);
  EXPECT(mlx_var(&r, x, 0, 1, S), r, MLX_FLOAT16, 0, SH0, 1, INFINITY);
  mlx_array_free(x);
  x = arr((const double[]){60000, 10000}, sh2, 1, MLX_FLOAT16);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_FLOAT16, 0, SH0, 1, INFINITY);
  mlx_array_free(x);
  x = arr((const double[]){1, 2, 3, 4, 5, 6, 7}, sh7, 1, MLX_FLOAT16);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT16, 0, SH0, 1, 4.0);
  mlx_array_free(x);
  x = arr((const double[]){1.5, 2, 3.25}, sh3, 1, MLX_BFLOAT16);
  EXPECT(mlx_std(&r, x, 0, 0, S), r, MLX_BFLOAT16, 0, SH0, 1, 0.73828125);
  mlx_array_free(x);
  /* half-precision sums accumulate in (at least) float32 */
  double tenth[3000];
  for (int i = 0; i < 3000; i++) tenth[i] = 0.1;
  int64_t n1000[1] = {1000}, n3000[1] = {3000};
  x = arr(tenth, n1000, 1, MLX_BFLOAT16);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_BFLOAT16, 0, SH0, 1, 100.0);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_BFLOAT16, 0, SH0, 1, 0.10009765625);
  mlx_array_free(x);
  x = arr(tenth, n3000, 1, MLX_FLOAT16);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_FLOAT16, 0, SH0, 1, 300.0);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(edge_logical) {
  int64_t sh2[1] = {2};
  mlx_array r = mlx_array_new();
  mlx_array x = arr((const double[]){-0.0, 1}, sh2, 1, MLX_FLOAT32);
  EXPECT(mlx_all(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 0); /* -0.0 is false */
  mlx_array_free(x);
  x = arr((const double[]){NAN, 0}, sh2, 1, MLX_FLOAT32);
  EXPECT(mlx_any(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 1);
  mlx_array_free(x);
  x = arr((const double[]){-0.0, 0.0}, sh2, 1, MLX_BFLOAT16);
  EXPECT(mlx_any(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 0);
  mlx_array_free(x);
  x = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&x, (const float[]){0, 0, 0, 1}, sh2, 1, MLX_COMPLEX64));
  EXPECT(mlx_any(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 1); /* 1j counts */
  EXPECT(mlx_all(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 0);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(edge_complex) {
  int64_t sh3[1] = {3}, sh4[1] = {4}, sh22[2] = {2, 2}, sh2[1] = {2};
  int one = 1, zero = 0;
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&x, (const float[]){1, 1, 1, 2, 1, 0}, sh3, 1, MLX_COMPLEX64));
  EXPECT(mlx_max(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, 1, 2); /* lexicographic */
  EXPECT(mlx_min(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, 1, 0);
  EXPECT(mlx_argmax(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 1);
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, 3, 3);
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, -1, 3);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, 1, 1);
  CHECK_OK(mlx_array_new_data(&x, (const float[]){1, 5, 3, -1, 3, 2, -4, 0}, sh4, 1, MLX_COMPLEX64));
  EXPECT(mlx_var(&r, x, 0, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 13.4375);
  EXPECT(mlx_std(&r, x, 0, 1, S), r, MLX_FLOAT32, 0, SH0, 1, 4.2328081130981445);
  EXPECT(mlx_argmin(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 3);
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_COMPLEX64, 0, SH0, 2, 16, -232);
  CHECK_OK(mlx_array_new_data(&x, (const float[]){1, 5, 3, -1, 3, 2, -4, 0}, sh22, 2, MLX_COMPLEX64));
  EXPECT(mlx_logsumexp_axes(&r, x, &one, 1, 0, S), r, MLX_COMPLEX64, 1, sh2, 4, 3.1227285861968994,
         -1.0334535837173462, 2.9996206760406494, 1.9991705417633057);
  EXPECT(mlx_softmax_axes(&r, x, &zero, 1, 0, S), r, MLX_COMPLEX64, 2, sh22, 8, -0.1541476547718048,
         0.02545267902314663, 0.999506950378418, -0.0007665661978535354, 1.1541476249694824, -0.02545267902314663,
         0.0004930371651425958, 0.0007665661978535354);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(edge_softmax_dtypes) {
  int64_t sh22[2] = {2, 2}, sh23[2] = {2, 3};
  int zero = 0, one = 1;
  mlx_array r = mlx_array_new();
  /* over a non-last axis upstream computes in float and casts back */
  mlx_array x = arr((const double[]){3, 1, 2, 5}, sh22, 2, MLX_INT32);
  EXPECT(mlx_softmax_axes(&r, x, &zero, 1, 0, S), r, MLX_INT32, 2, sh22, 4, 0, 0, 0, 0);
  EXPECT(mlx_softmax_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 2, sh22, 4, 0.8807970285415649,
         0.11920291185379028, 0.047425881028175354, 0.9525741338729858);
  mlx_array_free(x);
  x = arr((const double[]){1, 0, 1, 0, 0, 1}, sh23, 2, MLX_BOOL);
  EXPECT(mlx_softmax_axes(&r, x, &zero, 1, 0, S), r, MLX_BOOL, 2, sh23, 6, 1, 1, 1, 1, 1, 1);
  mlx_array_free(x);
  x = arr((const double[]){1, 2, 3, 4, 5, 6.5}, sh23, 2, MLX_FLOAT16);
  EXPECT(mlx_softmax_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT16, 2, sh23, 6, 0.04742431640625, 0.04742431640625,
         0.0293121337890625, 0.95263671875, 0.95263671875, 0.970703125);
  EXPECT(mlx_softmax_axes(&r, x, &one, 1, 1, S), r, MLX_FLOAT16, 2, sh23, 6, 0.09002685546875, 0.2447509765625,
         0.6650390625, 0.0628662109375, 0.1708984375, 0.76611328125);
  mlx_array_free(x);
  mlx_array_free(r);
}

/* Deliberate deviation: upstream's logsumexp over a non-last axis
 * subtracts the max in the input dtype, which wraps for unsigned and bool
 * inputs (Python gives [inf, inf] and [2.313, 0.693, 1.693] here). We
 * compute in float32, as upstream's last-axis kernel does. */
TEST(edge_logsumexp) {
  int64_t sh3[1] = {3}, sh22[2] = {2, 2}, sh23[2] = {2, 3}, sh2[1] = {2};
  int zero = 0;
  mlx_array r = mlx_array_new();
  mlx_array x = arr((const double[]){3, 1, 2}, sh3, 1, MLX_UINT8);
  EXPECT(mlx_logsumexp(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 3.4076061248779297); /* Python mlx */
  mlx_array_free(x);
  x = arr((const double[]){3, 1, 2, 5}, sh22, 2, MLX_UINT8);
  EXPECT(mlx_logsumexp_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT32, 1, sh2, 2, 3.3132617, 5.0181499);
  mlx_array_free(x);
  x = arr((const double[]){1, 0, 1, 0, 0, 1}, sh23, 2, MLX_BOOL);
  EXPECT(mlx_logsumexp_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT32, 1, sh3, 3, 1.3132617, 0.6931472, 1.6931472);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(empty) {
  int64_t sh03[2] = {0, 3}, sh3[1] = {3}, sh0[1] = {0};
  int zero = 0, one = 1;
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  CHECK_OK(mlx_zeros(&x, sh03, 2, MLX_FLOAT32, S));
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 0);
  EXPECT(mlx_sum_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT32, 1, sh3, 3, 0, 0, 0);
  EXPECT(mlx_sum_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 1, sh0, 0, 0);
  EXPECT(mlx_prod_axes(&r, x, &zero, 1, 0, S), r, MLX_FLOAT32, 1, sh3, 3, 1, 1, 1);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, NAN);
  EXPECT(mlx_var_axes(&r, x, &zero, 1, 0, 0, S), r, MLX_FLOAT32, 1, sh3, 3, NAN, NAN, NAN);
  EXPECT(mlx_var(&r, x, 0, -1, S), r, MLX_FLOAT32, 0, SH0, 1, 0); /* 0 / max(0 + 1, 0) */
  EXPECT(mlx_std(&r, x, 0, 0, S), r, MLX_FLOAT32, 0, SH0, 1, NAN);
  EXPECT(mlx_all(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 1);
  EXPECT(mlx_any_axes(&r, x, &zero, 1, 0, S), r, MLX_BOOL, 1, sh3, 3, 0, 0, 0);
  EXPECT(mlx_max_axes(&r, x, &one, 1, 0, S), r, MLX_FLOAT32, 1, sh0, 0, 0); /* nothing to reduce */
  EXPECT(mlx_max_axes(&r, x, NULL, 0, 0, S), r, MLX_FLOAT32, 2, sh03, 0, 0);
  CHECK_ERR(mlx_max(&r, x, 0, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "[max] Cannot max reduce over axis 0 with size 0.") != NULL);
  CHECK_ERR(mlx_min_axes(&r, x, &zero, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_argmax(&r, x, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_argmin_axis(&r, x, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_logsumexp_axes(&r, x, &one, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_softmax(&r, x, 0, S));
  CHECK(mlx_array_is_same(r, x)); /* upstream returns the empty input */
  CHECK_OK(mlx_zeros(&x, sh03, 2, MLX_INT8, S));
  EXPECT(mlx_sum(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, 0);
  EXPECT(mlx_prod(&r, x, 0, S), r, MLX_INT32, 0, SH0, 1, 1);
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, NAN);
  mlx_array_free(x);
  mlx_array_free(r);
}

TEST(errors) {
  int64_t sh23[2] = {2, 3};
  mlx_array x = arr((const double[]){1, 2, 3, 4, 5, 6}, sh23, 2, MLX_FLOAT32), r = mlx_array_new();
  int bad[1] = {2}, neg[1] = {-3}, dup[2] = {0, -2}, dup_bad[3] = {0, 0, 5};
  CHECK_ERR(mlx_sum_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK(strstr(mlx_last_error(), "[sum] Invalid axis 2 for array with 2 dimensions.") != NULL);
  CHECK_ERR(mlx_sum_axes(&r, x, neg, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_sum_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK(strstr(mlx_last_error(), "[sum] Duplicate axes detected in reduction.") != NULL);
  CHECK_ERR(mlx_sum_axes(&r, x, dup_bad, 3, 0, S), MLX_ERROR_INDEX); /* ranges are checked first */
  CHECK_ERR(mlx_prod_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_max_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_min_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_all_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_any_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_mean_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_mean_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_var_axes(&r, x, neg, 1, 0, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_std_axes(&r, x, dup, 2, 0, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_logsumexp_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_logsumexp_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_softmax_axes(&r, x, bad, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_softmax_axes(&r, x, dup, 2, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_argmax_axis(&r, x, 2, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_argmin_axis(&r, x, -3, 1, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_sum_axes(&r, x, NULL, 1, 0, S), MLX_ERROR_ARGUMENT);
  CHECK(r.ctx == NULL); /* untouched on error */
  mlx_array empty = mlx_array_new();
  CHECK_ERR(mlx_sum(&r, empty, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_argmax(&r, empty, 0, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_softmax(&r, empty, 0, S), MLX_ERROR_ARGUMENT);
  mlx_array s = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&s, 3, MLX_FLOAT32));
  int zero = 0;
  CHECK_ERR(mlx_sum_axes(&r, s, &zero, 1, 0, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_argmax_axis(&r, s, 0, 0, S), MLX_ERROR_INDEX);
  mlx_array_free(s);
  mlx_array_free(x);
  mlx_array_free(r);
}

/* An empty axis list reduces nothing; a 0-d array has only that. */
TEST(no_axes_and_scalars) {
  int64_t sh2[1] = {2};
  mlx_array r = mlx_array_new();
  mlx_array x = arr((const double[]){3, -4}, sh2, 1, MLX_INT8);
  CHECK_OK(mlx_sum_axes(&r, x, NULL, 0, 0, S));
  CHECK(mlx_array_is_same(r, x)); /* upstream returns the input: still int8 */
  CHECK_OK(mlx_prod_axes(&r, x, NULL, 0, 1, S));
  CHECK(mlx_array_is_same(r, x));
  CHECK_OK(mlx_max_axes(&r, x, NULL, 0, 0, S));
  CHECK(mlx_array_is_same(r, x));
  EXPECT(mlx_all_axes(&r, x, NULL, 0, 0, S), r, MLX_BOOL, 1, sh2, 2, 1, 1);
  EXPECT(mlx_mean_axes(&r, x, NULL, 0, 0, S), r, MLX_FLOAT32, 1, sh2, 2, 3, -4);
  EXPECT(mlx_var_axes(&r, x, NULL, 0, 0, 0, S), r, MLX_FLOAT32, 1, sh2, 2, 0, 0);
  EXPECT(mlx_logsumexp_axes(&r, x, NULL, 0, 0, S), r, MLX_FLOAT32, 1, sh2, 2, 3, -4);
  EXPECT(mlx_softmax_axes(&r, x, NULL, 0, 0, S), r, MLX_INT8, 1, sh2, 2, 1, 1);
  mlx_array_free(x);
  x = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&x, 3, MLX_INT8));
  CHECK_OK(mlx_sum(&r, x, 0, S));
  CHECK(mlx_array_is_same(r, x));
  EXPECT(mlx_mean(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 3);
  EXPECT(mlx_var(&r, x, 0, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 0);
  EXPECT(mlx_logsumexp(&r, x, 0, S), r, MLX_FLOAT32, 0, SH0, 1, 3);
  EXPECT(mlx_softmax(&r, x, 0, S), r, MLX_INT8, 0, SH0, 1, 1);
  EXPECT(mlx_all(&r, x, 0, S), r, MLX_BOOL, 0, SH0, 1, 1);
  EXPECT(mlx_argmax(&r, x, 0, S), r, MLX_UINT32, 0, SH0, 1, 0);
  /* upstream fails here (expand_dims with ndim - 1 = -1 axes); 0-d stays 0-d */
  EXPECT(mlx_argmax(&r, x, 1, S), r, MLX_UINT32, 0, SH0, 1, 0);
  mlx_array_free(x);
  int64_t sh34[2] = {3, 4}, sh11[2] = {1, 1}, sh31[2] = {3, 1};
  double v[12] = {0, 5, 2, 5, 9, 1, 9, 0, -1, -1, 3, 3};
  x = arr(v, sh34, 2, MLX_FLOAT32);
  EXPECT(mlx_argmax(&r, x, 1, S), r, MLX_UINT32, 2, sh11, 1, 4);
  EXPECT(mlx_argmax_axis(&r, x, 1, 1, S), r, MLX_UINT32, 2, sh31, 3, 1, 0, 2);
  EXPECT(mlx_argmin_axis(&r, x, -1, 1, S), r, MLX_UINT32, 2, sh31, 3, 0, 3, 0);
  EXPECT(mlx_sum(&r, x, 1, S), r, MLX_FLOAT32, 2, sh11, 1, 35);
  mlx_array_free(x);
  mlx_array_free(r);
}

/* ---- strided inputs against a naive reference -------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

/* The reference: out[o] over the row-major data of `shape`, reducing the
 * flagged axes, in double. kind: 0 sum, 1 max, 2 min, 3 mean, 4 var,
 * 5 logsumexp, 6 all, 7 any, 8 prod; out gets one value per kept index. */
static void reference(double* out, const double* x, const int64_t* shape, int nd, const uint8_t* red, int kind) {
  int64_t size = 1, nout = 1;
  for (int i = 0; i < nd; i++) {
    size *= shape[i];
    if (!red[i]) nout *= shape[i];
  }
  double* acc = calloc((size_t)nout, sizeof(double));
  double* acc2 = calloc((size_t)nout, sizeof(double));
  int64_t* cnt = calloc((size_t)nout, sizeof(int64_t));
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t e = 0; e < size; e++) {
      int64_t rem = e, o = 0, mul = 1;
      for (int d = nd - 1; d >= 0; d--) {
        int64_t i = rem % shape[d];
        rem /= shape[d];
        if (!red[d]) {
          o += i * mul;
          mul *= shape[d];
        }
      }
      double v = x[e];
      if (pass == 0) {
        if (cnt[o] == 0) acc[o] = kind == 0 || kind == 3 || kind == 4 ? 0 : kind == 8 ? 1 : kind >= 6 ? kind == 6 : v;
        cnt[o]++;
        switch (kind) {
          case 0: case 3: case 4: acc[o] += v; break;
          case 1: case 5: acc[o] = v > acc[o] ? v : acc[o]; break;
          case 2: acc[o] = v < acc[o] ? v : acc[o]; break;
          case 6: acc[o] = acc[o] && v != 0; break;
          case 7: acc[o] = acc[o] || v != 0; break;
          case 8: acc[o] *= v; break;
        }
      } else if (kind == 4) {
        double d = v - acc[o] / (double)cnt[o];
        acc2[o] += d * d;
      } else if (kind == 5) {
        acc2[o] += exp(v - acc[o]);
      }
    }
  }
  for (int64_t o = 0; o < nout; o++) {
    if (kind == 3) out[o] = acc[o] / (double)cnt[o];
    else if (kind == 4) out[o] = acc2[o] / (double)cnt[o];
    else if (kind == 5) out[o] = log(acc2[o]) + acc[o];
    else out[o] = acc[o];
  }
  free(acc);
  free(acc2);
  free(cnt);
}

/* A random view of a random array: transposed, reversed or strided along
 * an axis, or broadcast along a size-1 axis; its values are multiples of
 * 1/4 so float sums are exact. */
static mlx_array random_view(mlx_dtype dt) {
  int nd = 1 + (int)(rng() % 4);
  int64_t shape[4];
  int64_t size = 1;
  for (int i = 0; i < nd; i++) {
    shape[i] = 1 + rng() % 6;
    size *= shape[i];
  }
  double* v = malloc((size_t)size * sizeof(double));
  for (int64_t i = 0; i < size; i++) v[i] = (double)((int)(rng() % 33) - 16) / 4.0;
  mlx_array a = arr(v, shape, nd, dt), b = mlx_array_new();
  free(v);
  int choice = (int)(rng() % 4);
  if (choice == 0) {
    int perm[4] = {0, 1, 2, 3};
    for (int i = nd - 1; i > 0; i--) {
      int j = (int)(rng() % (uint32_t)(i + 1)), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    CHECK_OK(mlx_transpose(&b, a, perm, (size_t)nd, S));
  } else if (choice == 1) {
    int64_t start[4], stop[4], step[4];
    for (int i = 0; i < nd; i++) {
      int rev = rng() % 2;
      step[i] = rev ? -1 - (int64_t)(rng() % 2) : 1 + (int64_t)(rng() % 2);
      start[i] = rev ? INT64_MAX : 0;
      stop[i] = rev ? INT64_MIN : INT64_MAX;
    }
    CHECK_OK(mlx_slice(&b, a, start, stop, step, nd, S));
  } else if (choice == 2) {
    int64_t bshape[4];
    for (int i = 0; i < nd; i++) bshape[i] = shape[i] == 1 ? 1 + rng() % 5 : shape[i];
    CHECK_OK(mlx_broadcast_to(&b, a, bshape, nd, S));
  } else {
    CHECK_OK(mlx_array_set(&b, a));
  }
  mlx_array_free(a);
  return b;
}

TEST(strided_random) {
  static const char* kinds[] = {"sum", "max", "min", "mean", "var", "logsumexp", "all", "any", "prod"};
  const mlx_dtype dts[3] = {MLX_FLOAT32, MLX_INT32, MLX_FLOAT16};
  for (int iter = 0; iter < 400; iter++) {
    mlx_dtype dt = dts[iter % 3];
    mlx_array x = random_view(dt);
    CHECK_OK(mlx_eval(&x, 1));
    int nd = mlx_array_ndim(x);
    const int64_t* shape = mlx_array_shape(x);
    int64_t size = mlx_array_size(x);
    double* xv = malloc((size_t)size * sizeof(double));
    CHECK(read_f64(xv, size, x) == size);
    uint8_t red[4] = {0};
    int axes[4], naxes = 0;
    for (int i = 0; i < nd && i < 4; i++)
      if (rng() % 2) {
        red[i] = 1;
        axes[naxes++] = rng() % 2 ? i : i - nd;
      }
    if (naxes == 0) {
      red[0] = 1;
      axes[naxes++] = 0;
    }
    int64_t nred = 1;
    for (int i = 0; i < nd; i++)
      if (red[i]) nred *= shape[i];
    int keep = rng() % 2;
    for (int kind = 0; kind < 9; kind++) {
      if (kind == 8 && nred > 6) continue; /* keep products exact */
      double ref[1300], got[1300];
      reference(ref, xv, shape, nd, red, kind);
      mlx_array r = mlx_array_new();
      const char* op = kinds[kind];
      CHECK_OK(run_op(&r, op, x, naxes, axes, keep, 0));
      int64_t n = read_f64(got, 1300, r);
      int64_t nexp = size / nred;
      char label[64];
      snprintf(label, sizeof label, "strided %s %s iter %d", op, mlx_dtype_name(dt), iter);
      harness_checks++;
      if (n != nexp) {
        harness_failures++;
        fprintf(stderr, "%s: %lld values, expected %lld\n", label, (long long)n, (long long)nexp);
      } else {
        double tol = dt == MLX_FLOAT16 ? 2e-3 : 1e-5;
        if (dt == MLX_INT32 && kind == 3) tol = 1e-6;
        for (int64_t i = 0; i < n; i++)
          if (!close_enough(got[i], ref[i], tol)) {
            harness_failures++;
            fprintf(stderr, "%s: out %lld is %.9g, expected %.9g\n", label, (long long)i, got[i], ref[i]);
            break;
          }
      }
      mlx_array_free(r);
    }
    /* argmax/argmin along one axis: the reference scans for the first best */
    int ax = (int)(rng() % (uint32_t)nd);
    for (int is_min = 0; is_min < 2; is_min++) {
      mlx_array r = mlx_array_new();
      CHECK_OK(is_min ? mlx_argmin_axis(&r, x, ax, 0, S) : mlx_argmax_axis(&r, x, ax, 0, S));
      double got[1300];
      int64_t n = read_f64(got, 1300, r), inner = 1;
      for (int i = ax + 1; i < nd; i++) inner *= shape[i];
      int64_t ok = n == size / shape[ax];
      for (int64_t o = 0; ok && o < n; o++) {
        int64_t base = (o / inner) * inner * shape[ax] + o % inner, best = 0;
        for (int64_t k = 1; k < shape[ax]; k++) {
          double v = xv[base + k * inner], b = xv[base + best * inner];
          if (is_min ? v < b : v > b) best = k;
        }
        ok = got[o] == (double)best;
      }
      harness_checks++;
      if (!ok) {
        harness_failures++;
        fprintf(stderr, "strided arg%s %s iter %d axis %d: mismatch\n", is_min ? "min" : "max", mlx_dtype_name(dt), iter, ax);
      }
      mlx_array_free(r);
    }
    /* softmax over the same axes: rows sum to 1 and match the reference */
    if (dt != MLX_INT32) {
      mlx_array r = mlx_array_new();
      CHECK_OK(mlx_softmax_axes(&r, x, axes, (size_t)naxes, 0, S));
      double* got = malloc((size_t)size * sizeof(double));
      double mx[1300], se[1300];
      reference(mx, xv, shape, nd, red, 1);
      reference(se, xv, shape, nd, red, 5);
      int ok = read_f64(got, size, r) == size;
      for (int64_t e = 0; ok && e < size; e++) {
        int64_t rem = e, o = 0, mul = 1;
        for (int d = nd - 1; d >= 0; d--) {
          int64_t i = rem % shape[d];
          rem /= shape[d];
          if (!red[d]) {
            o += i * mul;
            mul *= shape[d];
          }
        }
        ok = close_enough(got[e], exp(xv[e] - se[o]), dt == MLX_FLOAT16 ? 2e-3 : 1e-6);
      }
      harness_checks++;
      if (!ok) {
        harness_failures++;
        fprintf(stderr, "strided softmax %s iter %d: mismatch\n", mlx_dtype_name(dt), iter);
      }
      free(got);
      mlx_array_free(r);
    }
    free(xv);
    mlx_array_free(x);
  }
}

/* ---- large inputs against a double loop -------------------------------- */

static float* random_floats(int64_t n) {
  float* v = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; i++) v[i] = (float)((double)rng() / 1073741824.0 - 1.0); /* [-1, 1) */
  return v;
}

TEST(large) {
  const int64_t n = 1 << 22;
  float* v = random_floats(n);
  int64_t sh[1] = {n};
  mlx_array x = arr_f32(v, sh, 1), r = mlx_array_new();
  double ref = 0, refabs = 0, mx = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    ref += v[i];
    refabs += fabs(v[i]);
    mx = v[i] > mx ? v[i] : mx;
  }
  double got;
  CHECK_OK(mlx_sum(&r, x, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(fabs(got - ref) <= 1e-3 + 1e-6 * fabs(ref));
  CHECK_OK(mlx_mean(&r, x, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(fabs(got - ref / n) <= 1e-9 + 1e-6 * fabs(ref / n));
  CHECK_OK(mlx_max(&r, x, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(got == mx);
  double var = 0;
  for (int64_t i = 0; i < n; i++) var += (v[i] - ref / n) * (v[i] - ref / n);
  var /= n;
  CHECK_OK(mlx_var(&r, x, 0, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(fabs(got - var) <= 1e-5 * var);
  double lse = 0;
  for (int64_t i = 0; i < n; i++) lse += exp(v[i] - mx);
  lse = log(lse) + mx;
  CHECK_OK(mlx_logsumexp(&r, x, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(fabs(got - lse) <= 1e-5 * fabs(lse));
  /* argmax: a planted maximum, tied later; argmin likewise */
  v[3000001] = 2.0f;
  v[4000000] = 2.0f;
  v[12345] = -2.0f;
  v[n - 1] = -2.0f;
  mlx_array_free(x);
  x = arr_f32(v, sh, 1);
  int64_t idx;
  CHECK_OK(mlx_argmax(&r, x, 0, S));
  CHECK_OK(mlx_array_item_int64(&idx, r));
  CHECK(idx == 3000001);
  CHECK_OK(mlx_argmin(&r, x, 0, S));
  CHECK_OK(mlx_array_item_int64(&idx, r));
  CHECK(idx == 12345);

  /* (2048, 2048): rows, columns, and the transposed view */
  int64_t sq[2] = {2048, 2048};
  mlx_array m = arr_f32(v, sq, 2), t = mlx_array_new();
  int zero = 0, one = 1;
  double* col = calloc(2048, sizeof(double));
  double* row = calloc(2048, sizeof(double));
  for (int64_t i = 0; i < 2048; i++)
    for (int64_t k = 0; k < 2048; k++) {
      row[i] += v[i * 2048 + k];
      col[k] += v[i * 2048 + k];
    }
  float* out = malloc(2048 * sizeof(float));
  int ok;
  CHECK_OK(mlx_sum_axes(&r, m, &zero, 1, 0, S));
  CHECK_OK(mlx_array_copy_to(out, 2048 * 4, r));
  ok = 1;
  for (int k = 0; k < 2048; k++) ok &= fabs(out[k] - col[k]) <= 1e-5 * (1 + fabs(col[k]));
  CHECK(ok);
  CHECK_OK(mlx_sum_axes(&r, m, &one, 1, 0, S));
  CHECK_OK(mlx_array_copy_to(out, 2048 * 4, r));
  ok = 1;
  for (int k = 0; k < 2048; k++) ok &= fabs(out[k] - row[k]) <= 1e-5 * (1 + fabs(row[k]));
  CHECK(ok);
  CHECK_OK(mlx_transpose(&t, m, NULL, 0, S));
  CHECK_OK(mlx_sum_axes(&r, t, &zero, 1, 0, S));
  CHECK_OK(mlx_array_copy_to(out, 2048 * 4, r));
  ok = 1;
  for (int k = 0; k < 2048; k++) ok &= fabs(out[k] - row[k]) <= 1e-5 * (1 + fabs(row[k]));
  CHECK(ok);
  /* softmax rows of the transposed view sum to 1 and match a double loop */
  CHECK_OK(mlx_softmax_axes(&r, t, &one, 1, 0, S));
  float* sm = malloc((size_t)n * sizeof(float));
  CHECK_OK(mlx_array_copy_to(sm, (size_t)n * 4, r));
  ok = 1;
  for (int64_t i = 0; i < 2048; i += 511) {
    double mxr = -INFINITY, s = 0;
    for (int64_t k = 0; k < 2048; k++) mxr = fmax(mxr, v[k * 2048 + i]);
    for (int64_t k = 0; k < 2048; k++) s += exp(v[k * 2048 + i] - mxr);
    for (int64_t k = 0; k < 2048; k++) ok &= fabs(sm[i * 2048 + k] - exp(v[k * 2048 + i] - mxr) / s) <= 1e-8;
  }
  CHECK(ok);
  free(sm);
  mlx_array_free(t);
  mlx_array_free(m);

  /* few outputs, long reductions: (2, n/2) over axis 1, (n/2, 2) over axis 0 */
  int64_t wide[2] = {2, n / 2}, tall[2] = {n / 2, 2};
  double rr[2] = {0, 0}, cc[2] = {0, 0};
  for (int64_t i = 0; i < n; i++) {
    rr[i / (n / 2)] += v[i];
    cc[i % 2] += v[i];
  }
  m = arr_f32(v, wide, 2);
  CHECK_OK(mlx_sum_axes(&r, m, &one, 1, 0, S));
  CHECK_OK(mlx_array_copy_to(out, 8, r));
  CHECK(fabs(out[0] - rr[0]) <= 1e-3 + 1e-6 * fabs(rr[0]) && fabs(out[1] - rr[1]) <= 1e-3 + 1e-6 * fabs(rr[1]));
  mlx_array_free(m);
  m = arr_f32(v, tall, 2);
  CHECK_OK(mlx_sum_axes(&r, m, &zero, 1, 0, S));
  CHECK_OK(mlx_array_copy_to(out, 8, r));
  CHECK(fabs(out[0] - cc[0]) <= 1e-3 + 1e-6 * fabs(cc[0]) && fabs(out[1] - cc[1]) <= 1e-3 + 1e-6 * fabs(cc[1]));
  CHECK_OK(mlx_argmax_axis(&r, m, 0, 0, S));
  uint32_t am[2];
  CHECK_OK(mlx_array_copy_to(am, 8, r));
  CHECK(am[0] == 2000000 && am[1] == 1500000); /* flat 4000000 and 3000001 */
  mlx_array_free(m);

  /* a long row whose first half is -inf: the split halves merge exactly */
  for (int64_t i = 0; i < n / 2; i++) v[i] = -INFINITY;
  double hmx = -INFINITY, hs = 0;
  for (int64_t i = n / 2; i < n; i++) hmx = fmax(hmx, v[i]);
  for (int64_t i = n / 2; i < n; i++) hs += exp(v[i] - hmx);
  mlx_array_free(x);
  x = arr_f32(v, sh, 1);
  CHECK_OK(mlx_logsumexp(&r, x, 0, S));
  CHECK_OK(mlx_array_item_float64(&got, r));
  CHECK(fabs(got - (log(hs) + hmx)) <= 1e-5 * fabs(log(hs) + hmx));

  /* int32: exact */
  int32_t* iv = malloc((size_t)n * sizeof(int32_t));
  int64_t isum = 0;
  for (int64_t i = 0; i < n; i++) {
    iv[i] = (int32_t)(rng() % 201) - 100;
    isum += iv[i];
  }
  mlx_array xi = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&xi, iv, sh, 1, MLX_INT32));
  CHECK_OK(mlx_sum(&r, xi, 0, S));
  CHECK_OK(mlx_array_item_int64(&idx, r));
  CHECK(idx == isum);
  mlx_array_free(xi);
  free(iv);
  free(out);
  free(row);
  free(col);
  free(v);
  mlx_array_free(x);
  mlx_array_free(r);
}

int main(void) {
  RUN(table);
  RUN(edge_nan_inf);
  RUN(edge_integers);
  RUN(edge_var_and_half);
  RUN(edge_logical);
  RUN(edge_complex);
  RUN(edge_softmax_dtypes);
  RUN(edge_logsumexp);
  RUN(empty);
  RUN(errors);
  RUN(no_axes_and_scalars);
  RUN(strided_random);
  RUN(large);
  return harness_report();
}
