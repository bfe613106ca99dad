/* Transform rules of the elementwise and copy families: vjp and jvp
 * against finite differences (float64), vmap against a loop over slices,
 * grad of grad, and the complex cases against values printed once by
 * Python MLX 0.32.4 (noted where used). */
#include <complex.h>

#include "gradcheck.h"

/* ---- inputs ------------------------------------------------------------- */

/* float64 values in [lo, hi) from a fixed sequence; with mix, every other
 * element is negated (so |x| stays in [lo, hi), e.g. away from 0). */
static mlx_array vals(const int64_t* shape, int nd, double lo, double hi, int mix, unsigned seed) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = lo + (hi - lo) * ((double)(seed >> 8) / (double)(1u << 24));
    if (mix && (i & 1)) v[i] = -v[i];
  }
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, nd, MLX_FLOAT64);
  free(v);
  return a;
}

/* As vals, then cast (int32 for the bitwise ops, bool for conditions). */
static mlx_array vals_as(const int64_t* shape, int nd, double lo, double hi, int mix, unsigned seed, mlx_dtype t) {
  mlx_array a = vals(shape, nd, lo, hi, mix, seed), f = mlx_array_new(), r = mlx_array_new();
  mlx_floor(&f, a, S);
  mlx_astype(&r, f, t, S);
  mlx_array_free(a), mlx_array_free(f);
  return r;
}

/* A complex64 array from n <= 8 (re, im) pairs. */
static mlx_array cplx(const float* reim, int64_t n) {
  mlx_array a = mlx_array_new();
  float _Complex v[8];
  for (int64_t i = 0; i < n; i++) v[i] = CMPLXF(reim[2 * i], reim[2 * i + 1]);
  mlx_array_new_data(&a, v, &n, 1, MLX_COMPLEX64);
  return a;
}

/* Checks a complex64 array against n <= 8 (re, im) pairs. */
static void check_cplx(const char* what, mlx_array a, const float* reim, int64_t n, double tol) {
  float _Complex got[8];
  harness_checks++;
  if (mlx_array_dtype(a) != MLX_COMPLEX64 || mlx_array_size(a) != n || mlx_eval(&a, 1) ||
      mlx_array_copy_to(got, sizeof(float _Complex) * (size_t)n, a)) {
    harness_failures++;
    fprintf(stderr, "[%s] not a complex64 array of %lld elements (%s)\n", what, (long long)n, mlx_last_error());
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    if (fabs(crealf(got[i]) - reim[2 * i]) > tol || fabs(cimagf(got[i]) - reim[2 * i + 1]) > tol) {
      harness_failures++;
      fprintf(stderr, "[%s] element %lld: got %g%+gi expected %g%+gi\n", what, (long long)i, crealf(got[i]),
              cimagf(got[i]), reim[2 * i], reim[2 * i + 1]);
      return;
    }
  }
}

/* ---- a finite-difference check for ops computed in float32 --------------- */

/* Upstream computes exp, sin, cos, erf, erfinv, sigmoid and logaddexp's
 * exponential in float32 even for float64 inputs, so check_grad's step
 * (1e-6) would measure float32 rounding. This takes a larger step and
 * tolerance: still far below any error in a derivative formula. */
static void check_grad_f32(const char* name, op_fn fn, void* ctx, const mlx_array* inputs, int nin) {
  check_grad_eps(name, fn, ctx, inputs, nin, 1e-3, 2e-3);
}

/* ---- unary ops ------------------------------------------------------------ */

typedef int (*unary_op)(mlx_array* res, const mlx_array a, const mlx_stream s);

typedef struct {
  const char* name;
  unary_op f;
  double lo, hi; /* inside the op's domain */
  int mix;       /* negate every other value */
  int f32;       /* computed in float32 upstream: coarser finite differences */
} unary_case;

static int call_unary(mlx_array* out, const mlx_array* in, void* ctx) {
  return ((const unary_case*)ctx)->f(out, in[0], S);
}

static int round2(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return mlx_round(res, a, 2, s);
}

static int round0(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return mlx_round(res, a, 0, s);
}

static int contiguous_op(mlx_array* res, const mlx_array a, const mlx_stream s) {
  return mlx_contiguous(res, a, 0, s);
}

static const unary_case unary_cases[] = {
    {"abs", mlx_abs, 0.2, 2, 1, 0},
    {"negative", mlx_negative, -2, 2, 0, 0},
    {"sign", mlx_sign, 0.2, 2, 1, 0},
    {"sqrt", mlx_sqrt, 0.1, 3, 0, 0},
    {"rsqrt", mlx_rsqrt, 0.1, 3, 0, 0},
    {"square", mlx_square, -2, 2, 0, 0},
    {"reciprocal", mlx_reciprocal, 0.2, 2, 1, 0},
    {"exp", mlx_exp, -2, 2, 0, 1},
    {"expm1", mlx_expm1, -2, 2, 0, 0},
    {"log", mlx_log, 0.1, 3, 0, 0},
    {"log1p", mlx_log1p, -0.9, 3, 0, 0},
    {"log2", mlx_log2, 0.1, 3, 0, 0},
    {"log10", mlx_log10, 0.1, 3, 0, 0},
    {"sin", mlx_sin, -3, 3, 0, 1},
    {"cos", mlx_cos, -3, 3, 0, 1},
    {"tan", mlx_tan, -1.2, 1.2, 0, 0},
    {"arcsin", mlx_arcsin, -0.9, 0.9, 0, 0},
    {"arccos", mlx_arccos, -0.9, 0.9, 0, 0},
    {"arctan", mlx_arctan, -3, 3, 0, 0},
    {"sinh", mlx_sinh, -2, 2, 0, 0},
    {"cosh", mlx_cosh, -2, 2, 0, 0},
    {"tanh", mlx_tanh, -2, 2, 0, 0},
    {"arcsinh", mlx_arcsinh, -3, 3, 0, 0},
    {"arccosh", mlx_arccosh, 1.1, 3, 0, 0},
    {"arctanh", mlx_arctanh, -0.9, 0.9, 0, 0},
    {"sigmoid", mlx_sigmoid, -3, 3, 0, 1},
    {"erf", mlx_erf, -2, 2, 0, 1},
    {"erfinv", mlx_erfinv, -0.9, 0.9, 0, 1},
    {"floor", mlx_floor, -2.9, 2.9, 0, 0},
    {"ceil", mlx_ceil, -2.9, 2.9, 0, 0},
    {"round", round0, -2.9, 2.9, 0, 0},
    {"round_decimals", round2, -2, 2, 0, 0},
    {"degrees", mlx_degrees, -2, 2, 0, 0},
    {"radians", mlx_radians, -2, 2, 0, 0},
    {"real", mlx_real, -2, 2, 0, 0},
    {"imag", mlx_imag, -2, 2, 0, 0},
    {"conjugate", mlx_conjugate, -2, 2, 0, 0},
    {"isnan", mlx_isnan, -2, 2, 0, 0},
    {"isinf", mlx_isinf, -2, 2, 0, 0},
    {"isposinf", mlx_isposinf, -2, 2, 0, 0},
    {"isneginf", mlx_isneginf, -2, 2, 0, 0},
    {"isfinite", mlx_isfinite, -2, 2, 0, 0},
    {"logical_not", mlx_logical_not, 0.2, 2, 1, 0},
    {"contiguous", contiguous_op, -2, 2, 0, 0},
};

#define NCASES(t) ((int)(sizeof(t) / sizeof((t)[0])))

TEST(unary_grads) {
  /* a matrix, a column, a scalar and an empty array */
  int64_t shapes[4][2] = {{2, 3}, {5, 1}, {0, 0}, {2, 0}};
  int nds[4] = {2, 2, 0, 2};
  for (int c = 0; c < NCASES(unary_cases); c++) {
    const unary_case* u = &unary_cases[c];
    for (int k = 0; k < 4; k++) {
      if (u->f32 && k == 3) continue; /* check_grad_f32 wants elements */
      mlx_array x = vals(shapes[k], nds[k], u->lo, u->hi, u->mix, 11u + (unsigned)c);
      if (u->f32) check_grad_f32(u->name, call_unary, (void*)u, &x, 1);
      else check_grad(u->name, call_unary, (void*)u, &x, 1);
      mlx_array_free(x);
    }
  }
}

TEST(unary_vmap) {
  int64_t shape[3] = {4, 2, 3};
  for (int c = 0; c < NCASES(unary_cases); c++) {
    const unary_case* u = &unary_cases[c];
    mlx_array x = vals(shape, 3, u->lo, u->hi, u->mix, 5u + (unsigned)c);
    int axes[3] = {0, 1, -1};
    for (int k = 0; k < 3; k++) check_vmap(u->name, call_unary, (void*)u, &x, &axes[k], 1);
    mlx_array_free(x);
  }
  /* bitwise_invert on integers */
  mlx_array xi = vals_as(shape, 3, -8, 8, 0, 3, MLX_INT32);
  unary_case inv = {"bitwise_invert", mlx_bitwise_invert, 0, 0, 0, 0};
  int ax = 2;
  check_vmap("bitwise_invert", call_unary, &inv, &xi, &ax, 1);
  mlx_array_free(xi);
}

/* bitwise_invert has no derivative: zero cotangent for its input. */
TEST(unary_integer_zero) {
  int64_t shape[1] = {3};
  mlx_array x = vals_as(shape, 1, -5, 5, 0, 9, MLX_INT32), g = mlx_array_new();
  unary_case inv = {"bitwise_invert", mlx_bitwise_invert, 0, 0, 0, 0};
  op_closure oc = {call_unary, &inv, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  mlx_vector_array_append(prim, x);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, prim));
  CHECK_OK(mlx_vector_array_get(&g, vjps, 0));
  double zero[3] = {0, 0, 0};
  CHECK_VALUES(g, zero, 3, 0);
  mlx_array_free(x), mlx_array_free(g);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_closure_free(f);
}

/* ---- binary ops ----------------------------------------------------------- */

typedef int (*binary_op)(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

typedef struct {
  const char* name;
  binary_op f;
  double alo, ahi;
  int amix;
  double blo, bhi;
  int bmix;
  int f32;         /* computed in float32 upstream */
  mlx_dtype dtype; /* of the inputs */
} binary_case;

static int call_binary(mlx_array* out, const mlx_array* in, void* ctx) {
  return ((const binary_case*)ctx)->f(out, in[0], in[1], S);
}

static const binary_case binary_cases[] = {
    {"add", mlx_add, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"subtract", mlx_subtract, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"multiply", mlx_multiply, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"divide", mlx_divide, -2, 2, 0, 0.5, 2, 1, 0, MLX_FLOAT64},
    {"power", mlx_power, 0.5, 2, 0, -1.5, 2, 0, 0, MLX_FLOAT64},
    {"remainder", mlx_remainder, -3, 3, 0, 0.7, 1.3, 1, 0, MLX_FLOAT64},
    {"floor_divide", mlx_floor_divide, -3, 3, 0, 0.7, 1.3, 1, 0, MLX_FLOAT64},
    {"maximum", mlx_maximum, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"minimum", mlx_minimum, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"logaddexp", mlx_logaddexp, -2, 2, 0, -2, 2, 0, 1, MLX_FLOAT64},
    {"arctan2", mlx_arctan2, -2, 2, 0, 0.3, 2, 1, 0, MLX_FLOAT64},
    {"equal", mlx_equal, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"not_equal", mlx_not_equal, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"greater", mlx_greater, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"greater_equal", mlx_greater_equal, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"less", mlx_less, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"less_equal", mlx_less_equal, -2, 2, 0, -2, 2, 0, 0, MLX_FLOAT64},
    {"logical_and", mlx_logical_and, 0.2, 2, 1, -2, 2, 0, 0, MLX_FLOAT64},
    {"logical_or", mlx_logical_or, 0.2, 2, 1, -2, 2, 0, 0, MLX_FLOAT64},
    {"bitwise_and", mlx_bitwise_and, 0, 16, 0, 0, 16, 0, 0, MLX_INT32},
    {"bitwise_or", mlx_bitwise_or, 0, 16, 0, 0, 16, 0, 0, MLX_INT32},
    {"bitwise_xor", mlx_bitwise_xor, 0, 16, 0, 0, 16, 0, 0, MLX_INT32},
    {"left_shift", mlx_left_shift, 0, 16, 0, 0, 4, 0, 0, MLX_INT32},
    {"right_shift", mlx_right_shift, 0, 64, 0, 0, 4, 0, 0, MLX_INT32},
};

static mlx_array binary_input(const binary_case* b, int which, const int64_t* shape, int nd, unsigned seed) {
  double lo = which ? b->blo : b->alo, hi = which ? b->bhi : b->ahi;
  int mix = which ? b->bmix : b->amix;
  if (b->dtype == MLX_FLOAT64) return vals(shape, nd, lo, hi, mix, seed);
  return vals_as(shape, nd, lo, hi, mix, seed, b->dtype);
}

/* Broadcasting pairs, so the vjp's sums over broadcast axes are tested. */
static const struct {
  int64_t a[3], b[3];
  int an, bn;
} pairs[] = {
    {{2, 3}, {3}, 2, 1},
    {{3}, {2, 3}, 1, 2},
    {{2, 1}, {1, 3}, 2, 2},
    {{0}, {2, 3}, 0, 2}, /* scalar op array */
    {{2, 3}, {0}, 2, 0}, /* array op scalar */
    {{2, 3}, {2, 3}, 2, 2},
    {{2, 1, 3}, {4, 1}, 3, 2},
};

TEST(binary_grads) {
  for (int c = 0; c < NCASES(binary_cases); c++) {
    const binary_case* b = &binary_cases[c];
    for (int p = 0; p < NCASES(pairs); p++) {
      mlx_array in[2] = {binary_input(b, 0, pairs[p].a, pairs[p].an, 100u + (unsigned)p),
                         binary_input(b, 1, pairs[p].b, pairs[p].bn, 200u + (unsigned)c)};
      char name[64];
      snprintf(name, sizeof name, "%s pair %d", b->name, p);
      if (b->f32) check_grad_f32(name, call_binary, (void*)b, in, 2);
      else check_grad(name, call_binary, (void*)b, in, 2);
      mlx_array_free(in[0]), mlx_array_free(in[1]);
    }
  }
}

/* vmap layouts: batch axis 0, 1 or last, one input unbatched, inputs of
 * different ranks, a scalar. Batch size 4. */
static const struct {
  int64_t a[3], b[3];
  int an, bn, aax, bax;
} vlayouts[] = {
    {{4, 2, 3}, {4, 3}, 3, 2, 0, 0},              /* [2,3] op [3], both batched */
    {{2, 4, 3}, {3}, 3, 1, 1, MLX_VMAP_NONE},     /* in_axes 1, b unbatched */
    {{3}, {2, 1, 4}, 1, 3, MLX_VMAP_NONE, 2},     /* a unbatched, b batched on its last axis */
    {{2, 3, 4}, {4, 2, 3}, 3, 3, -1, 0},          /* different batch axes */
    {{0}, {4, 3}, 0, 2, MLX_VMAP_NONE, 0},        /* unbatched scalar */
    {{3, 4}, {2, 4, 1}, 2, 3, 1, 1},              /* [3] op [2,1] */
};

TEST(binary_vmap) {
  for (int c = 0; c < NCASES(binary_cases); c++) {
    const binary_case* b = &binary_cases[c];
    for (int l = 0; l < NCASES(vlayouts); l++) {
      mlx_array in[2] = {binary_input(b, 0, vlayouts[l].a, vlayouts[l].an, 300u + (unsigned)l),
                         binary_input(b, 1, vlayouts[l].b, vlayouts[l].bn, 400u + (unsigned)c)};
      int axes[2] = {vlayouts[l].aax, vlayouts[l].bax};
      char name[64];
      snprintf(name, sizeof name, "%s vmap layout %d", b->name, l);
      check_vmap(name, call_binary, (void*)b, in, axes, 2);
      mlx_array_free(in[0]), mlx_array_free(in[1]);
    }
  }
}

/* ---- where ---------------------------------------------------------------- */

static int call_where(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_where(out, in[0], in[1], in[2], S);
}

TEST(where_rules) {
  static const struct {
    int64_t c[3], x[3], y[3];
    int cn, xn, yn;
  } shapes[] = {
      {{2, 3}, {2, 3}, {2, 3}, 2, 2, 2},
      {{2, 3}, {3}, {2, 1}, 2, 1, 2},
      {{3}, {2, 3}, {0}, 1, 2, 0},
      {{2, 1}, {1, 3}, {3}, 2, 2, 1},
  };
  for (int k = 0; k < NCASES(shapes); k++) {
    mlx_array in[3] = {vals_as(shapes[k].c, shapes[k].cn, 0, 2, 0, 50u + (unsigned)k, MLX_BOOL),
                       vals(shapes[k].x, shapes[k].xn, -2, 2, 0, 60u + (unsigned)k),
                       vals(shapes[k].y, shapes[k].yn, -2, 2, 0, 70u + (unsigned)k)};
    check_grad("where", call_where, NULL, in, 3);
    for (int i = 0; i < 3; i++) mlx_array_free(in[i]);
  }
  /* vmap: cond batched on axis 1, x unbatched, y batched on axis 0 */
  int64_t cs[2] = {3, 4}, xs[1] = {3}, ys[3] = {4, 2, 3};
  mlx_array in[3] = {vals_as(cs, 2, 0, 2, 0, 1, MLX_BOOL), vals(xs, 1, -2, 2, 0, 2), vals(ys, 3, -2, 2, 0, 3)};
  int axes[3] = {1, MLX_VMAP_NONE, 0};
  check_vmap("where vmap", call_where, NULL, in, axes, 3);
  int axes2[3] = {MLX_VMAP_NONE, MLX_VMAP_NONE, 2};
  mlx_array c2 = vals_as(xs, 1, 0, 2, 0, 4, MLX_BOOL), y2 = vals(ys, 3, -2, 2, 0, 5);
  mlx_array in2[3] = {c2, in[1], mlx_array_new()};
  mlx_transpose(&in2[2], y2, (int[]){1, 2, 0}, 3, S); /* [2, 3, 4]: batch on the last axis */
  check_vmap("where vmap 2", call_where, NULL, in2, axes2, 3);
  mlx_array_free(c2), mlx_array_free(y2), mlx_array_free(in2[2]);
  for (int i = 0; i < 3; i++) mlx_array_free(in[i]);
}

/* ---- copy ops ------------------------------------------------------------- */

static mlx_vector_array list(int n, const mlx_array* a) {
  mlx_vector_array v = mlx_vector_array_new();
  for (int i = 0; i < n; i++) mlx_vector_array_append(v, a[i]);
  return v;
}

static mlx_array item(mlx_vector_array v, size_t i) {
  mlx_array a = mlx_array_new();
  mlx_vector_array_get(&a, v, i);
  return a;
}

static int to_f32(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_astype(out, in[0], MLX_FLOAT32, S);
}

static int sg_times(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array g = mlx_array_new();
  int rc = mlx_stop_gradient(&g, in[0], S);
  if (!rc) rc = mlx_multiply(out, in[0], g, S);
  mlx_array_free(g);
  return rc;
}

static int sg_only(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_stop_gradient(out, in[0], S);
}

TEST(copy_rules) {
  /* astype float64 -> float32: the cotangent comes back as float64, the
   * tangent goes forward as float32. */
  int64_t shape[2] = {2, 2};
  mlx_array x = vals(shape, 2, -2, 2, 0, 1), cot = vals(shape, 2, -1, 1, 0, 2);
  mlx_array c32 = mlx_array_new();
  mlx_astype(&c32, cot, MLX_FLOAT32, S);
  op_closure oc = {to_f32, NULL, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = list(1, &x), cots = list(1, &c32), outs = mlx_vector_array_new(),
                   vjps = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  mlx_array g = item(vjps, 0);
  CHECK(mlx_array_dtype(g) == MLX_FLOAT64);
  double cv[4];
  read_f64(cv, 4, c32);
  CHECK_VALUES(g, cv, 4, 0);
  mlx_vector_array jo = mlx_vector_array_new(), jv = mlx_vector_array_new();
  CHECK_OK(mlx_jvp(jo, jv, f, prim, prim)); /* tangent x */
  mlx_array t = item(jv, 0);
  CHECK(mlx_array_dtype(t) == MLX_FLOAT32);
  double xv[4];
  read_f64(xv, 4, x);
  CHECK_VALUES(t, xv, 4, 1e-6);
  /* vmap of astype over axis 1 */
  int ax = 1;
  check_vmap("astype vmap", to_f32, NULL, &x, &ax, 1);
  mlx_array_free(g), mlx_array_free(t);
  mlx_vector_array_free(jo), mlx_vector_array_free(jv);

  /* stop_gradient: zero vjp and jvp, yet x * stop_gradient(x) has
   * derivative x */
  op_closure og = {sg_only, NULL, 1};
  mlx_closure fs = mlx_closure_new(op_closure_call, &og, NULL);
  mlx_vector_array o2 = mlx_vector_array_new(), v2 = mlx_vector_array_new(), cot64 = list(1, &cot);
  CHECK_OK(mlx_vjp(o2, v2, fs, prim, cot64));
  mlx_array z = item(v2, 0);
  double zeros[4] = {0, 0, 0, 0};
  CHECK_VALUES(z, zeros, 4, 0);
  mlx_array_free(z);
  mlx_vector_array_clear(o2), mlx_vector_array_clear(v2);
  CHECK_OK(mlx_jvp(o2, v2, fs, prim, prim));
  z = item(v2, 0);
  CHECK_VALUES(z, zeros, 4, 0);
  mlx_array_free(z);
  /* x * stop_gradient(x): the cotangent times x, not 2x */
  op_closure ot = {sg_times, NULL, 1};
  mlx_closure ft = mlx_closure_new(op_closure_call, &ot, NULL);
  mlx_vector_array_clear(o2), mlx_vector_array_clear(v2);
  CHECK_OK(mlx_vjp(o2, v2, ft, prim, cot64));
  z = item(v2, 0);
  double xc[4], cotv[4];
  read_f64(xc, 4, x);
  read_f64(cotv, 4, cot);
  for (int i = 0; i < 4; i++) xc[i] *= cotv[i];
  CHECK_VALUES(z, xc, 4, 1e-12);
  mlx_array_free(z);
  mlx_closure_free(ft);
  int axes[2] = {0, -1};
  check_vmap("stop_gradient vmap", sg_only, NULL, &x, &axes[0], 1);
  check_vmap("stop_gradient vmap", sg_only, NULL, &x, &axes[1], 1);
  mlx_vector_array_free(o2), mlx_vector_array_free(v2), mlx_vector_array_free(cot64);
  mlx_closure_free(fs);

  /* contiguous of a transposed view */
  mlx_array xt = mlx_array_new();
  mlx_transpose(&xt, x, (int[]){1, 0}, 2, S);
  unary_case cc = {"contiguous", contiguous_op, 0, 0, 0, 0};
  check_grad("contiguous transposed", call_unary, &cc, &xt, 1);
  mlx_array_free(xt);

  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_array_free(x), mlx_array_free(cot), mlx_array_free(c32);
  mlx_closure_free(f);
}

/* ---- complex convention --------------------------------------------------- */

/* vjp (cotangent cot) and jvp (tangent tan) of a unary op at z. */
static void unary_vjp_jvp(unary_op op, mlx_array z, mlx_array cot, mlx_array tan, mlx_array* vjp, mlx_array* jvp) {
  unary_case u = {"", op, 0, 0, 0, 0};
  op_closure oc = {call_unary, &u, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = list(1, &z), cots = list(1, &cot), tans = list(1, &tan), o = mlx_vector_array_new(),
                   v = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(o, v, f, prim, cots));
  *vjp = item(v, 0);
  mlx_vector_array_clear(o), mlx_vector_array_clear(v);
  CHECK_OK(mlx_jvp(o, v, f, prim, tans));
  *jvp = item(v, 0);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(tans);
  mlx_vector_array_free(o), mlx_vector_array_free(v);
  mlx_closure_free(f);
}

/* Expected values printed by Python MLX 0.32.4 with z = [1+2j, -0.5+0.3j],
 * complex cotangent and tangent c = [0.3-0.1j, 1+1j], real cotangent
 * r = [0.7, -0.2]: the cotangent is dL/dconj(z), so holomorphic ops
 * conjugate their derivative in the vjp, not in the jvp. */
TEST(complex_rules) {
  const float zv[4] = {1, 2, -0.5f, 0.3f}, cv[4] = {0.3f, -0.1f, 1, 1};
  float rv[2] = {0.7f, -0.2f};
  int64_t two = 2;
  mlx_array z = cplx(zv, 2), c = cplx(cv, 2), r = arr_f32(rv, &two, 1), v = mlx_array_new(), j = mlx_array_new();

  unary_vjp_jvp(mlx_abs, z, r, c, &v, &j);
  const float abs_v[4] = {0.31304950f, 0.62609899f, 0.17149858f, -0.10289916f};
  double abs_j[2] = {0.044721358, -0.34299713};
  check_cplx("abs vjp", v, abs_v, 2, 1e-6);
  CHECK(mlx_array_dtype(j) == MLX_FLOAT32);
  CHECK_VALUES(j, abs_j, 2, 1e-6);
  mlx_array_free(v), mlx_array_free(j);

  unary_vjp_jvp(mlx_real, z, r, c, &v, &j);
  const float real_v[4] = {0.7f, 0, -0.2f, 0};
  double real_j[2] = {0.3, 1.0};
  check_cplx("real vjp", v, real_v, 2, 1e-7);
  CHECK_VALUES(j, real_j, 2, 1e-7);
  mlx_array_free(v), mlx_array_free(j);

  unary_vjp_jvp(mlx_imag, z, r, c, &v, &j);
  const float imag_v[4] = {0, 0.7f, 0, -0.2f};
  double imag_j[2] = {-0.1, 1.0};
  check_cplx("imag vjp", v, imag_v, 2, 1e-7);
  CHECK_VALUES(j, imag_j, 2, 1e-7);
  mlx_array_free(v), mlx_array_free(j);

  unary_vjp_jvp(mlx_conjugate, z, c, c, &v, &j);
  const float conj_vj[4] = {0.3f, 0.1f, 1, -1};
  check_cplx("conjugate vjp", v, conj_vj, 2, 1e-7);
  check_cplx("conjugate jvp", j, conj_vj, 2, 1e-7);
  mlx_array_free(v), mlx_array_free(j);

  unary_vjp_jvp(mlx_exp, z, c, c, &v, &j);
  const float exp_v[4] = {-0.58653396f, -0.62839758f, 0.75868297f, 0.40019882f};
  const float exp_j[4] = {-0.092188641f, 0.85463846f, 0.40019882f, 0.75868297f};
  check_cplx("exp vjp", v, exp_v, 2, 1e-5);
  check_cplx("exp jvp", j, exp_j, 2, 1e-5);
  mlx_array_free(v), mlx_array_free(j);

  unary_vjp_jvp(mlx_sqrt, z, c, c, &v, &j);
  const float sqrt_v[4] = {0.10290855f, 0.024293419f, -0.45624360f, 0.80581307f};
  const float sqrt_j[4] = {0.067750797f, -0.081179865f, 0.80581307f, -0.45624360f};
  check_cplx("sqrt vjp", v, sqrt_v, 2, 1e-5);
  check_cplx("sqrt jvp", j, sqrt_j, 2, 1e-5);
  mlx_array_free(v), mlx_array_free(j);

  /* multiply, divide, power at (z, w), w = [1.2-0.4j, 0.3+0.9j] */
  const float wv[4] = {1.2f, -0.4f, 0.3f, 0.9f};
  mlx_array w = cplx(wv, 2);
  static const struct {
    const char* name;
    binary_op f;
    float a[4], b[4];
  } bin[] = {
      {"multiply", mlx_multiply, {0.40000001f, 0, 1.2f, -0.6f}, {0.1f, -0.7f, -0.2f, -0.8f}},
      {"divide", mlx_divide, {0.2f, -0.15f, -0.66666663f, 1.3333334f}, {0.21249999f, 0.38750002f, -0.71111119f, -0.57777780f}},
      {"power", mlx_power, {0.53832477f, -0.49546084f, 0.18141061f, -0.050566681f}, {-0.099835694f, 1.7673854f, -0.29500324f, 0.086761579f}},
  };
  for (int k = 0; k < NCASES(bin); k++) {
    binary_case bc = {bin[k].name, bin[k].f, 0, 0, 0, 0, 0, 0, 0, MLX_COMPLEX64};
    op_closure oc = {call_binary, &bc, 2};
    mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
    mlx_array zw[2] = {z, w};
    mlx_vector_array prim = list(2, zw), cots = list(1, &c), o = mlx_vector_array_new(), vj = mlx_vector_array_new();
    CHECK_OK(mlx_vjp(o, vj, f, prim, cots));
    mlx_array ga = item(vj, 0), gb = item(vj, 1);
    char name[64];
    snprintf(name, sizeof name, "%s vjp a", bin[k].name);
    check_cplx(name, ga, bin[k].a, 2, 1e-5);
    snprintf(name, sizeof name, "%s vjp b", bin[k].name);
    check_cplx(name, gb, bin[k].b, 2, 1e-5);
    mlx_array_free(ga), mlx_array_free(gb);
    mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(o), mlx_vector_array_free(vj);
    mlx_closure_free(f);
  }

  /* A real input times a complex constant: the cotangent back through the
   * cast to complex is the real part (Python: 16 for 3 * (2+3j) with
   * cotangent 2+4j). */
  float three = 3;
  int64_t one = 1;
  const float k23[2] = {2, 3}, k24[2] = {2, 4};
  mlx_array y = arr_f32(&three, &one, 1), kc = cplx(k23, 1), cc = cplx(k24, 1);
  binary_case bc = {"multiply", mlx_multiply, 0, 0, 0, 0, 0, 0, 0, MLX_FLOAT32};
  op_closure oc = {call_binary, &bc, 2};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_array yk[2] = {y, kc};
  mlx_vector_array prim = list(2, yk), cots = list(1, &cc), o = mlx_vector_array_new(), vj = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(o, vj, f, prim, cots));
  mlx_array gy = item(vj, 0);
  double e16[1] = {16};
  CHECK(mlx_array_dtype(gy) == MLX_FLOAT32);
  CHECK_VALUES(gy, e16, 1, 1e-6);
  mlx_array_free(gy);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(o), mlx_vector_array_free(vj);
  mlx_closure_free(f);
  mlx_array_free(y), mlx_array_free(kc), mlx_array_free(cc);

  mlx_array_free(z), mlx_array_free(c), mlx_array_free(r), mlx_array_free(w);
}

/* ---- grad of grad ----------------------------------------------------------- */

static int f_exp(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_exp(out, in[0], S);
}

static int f_sin(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_sin(out, in[0], S);
}

static int f_mul(mlx_array* out, const mlx_array* in, void* ctx) {
  /* x y^2 */
  mlx_array t = mlx_array_new();
  int rc = mlx_multiply(&t, in[0], in[1], S);
  if (!rc) rc = mlx_multiply(out, t, in[1], S);
  mlx_array_free(t);
  return rc;
}

static int f_div(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_divide(out, in[0], in[1], S);
}

static int f_pow(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_power(out, in[0], in[1], S);
}

/* sum(op(a, b)) for the broadcasting grad of grad */
static int f_sum_mul(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array t = mlx_array_new();
  int rc = f_mul(&t, in, ctx);
  if (!rc) rc = mlx_sum(out, t, 0, S);
  mlx_array_free(t);
  return rc;
}

static int f_sum_div(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array t = mlx_array_new();
  int rc = mlx_divide(&t, in[0], in[1], S);
  if (!rc) rc = mlx_sum(out, t, 0, S);
  mlx_array_free(t);
  return rc;
}

typedef struct {
  op_fn f;
  int nin;
} gg_case;

/* The sum of f's gradients with respect to each input, by value_and_grad
 * inside the function being differentiated. */
static int grad_sum(mlx_array* out, const mlx_array* in, void* ctx) {
  const gg_case* g = ctx;
  op_closure oc = {g->f, NULL, g->nin};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array inputs = list(g->nin, in), vals_ = mlx_vector_array_new(), grads = mlx_vector_array_new();
  int argnums[2] = {0, 1};
  int rc = mlx_value_and_grad(vals_, grads, f, inputs, argnums, (size_t)g->nin);
  if (!rc) rc = mlx_vector_array_get(out, grads, 0);
  for (int i = 1; i < g->nin && !rc; i++) {
    mlx_array gi = item(grads, (size_t)i);
    rc = mlx_add(out, *out, gi, S);
    mlx_array_free(gi);
  }
  mlx_vector_array_free(inputs), mlx_vector_array_free(vals_), mlx_vector_array_free(grads);
  mlx_closure_free(f);
  return rc;
}

TEST(grad_of_grad) {
  /* Scalars: value_and_grad needs a size-1 output. */
  mlx_array x = vals(NULL, 0, -1.5, 1.5, 0, 1), p = vals(NULL, 0, 0.5, 2, 0, 2), q = vals(NULL, 0, 0.5, 2, 0, 3);
  gg_case ge = {f_exp, 1}, gs = {f_sin, 1}, gm = {f_mul, 2}, gd = {f_div, 2}, gp = {f_pow, 2};
  /* exp and sin compute in float32 upstream: coarser finite differences */
  check_grad_f32("grad of grad exp", grad_sum, &ge, &x, 1);
  check_grad_f32("grad of grad sin", grad_sum, &gs, &x, 1);
  mlx_array xy[2] = {x, q}, pq[2] = {p, q};
  check_grad("grad of grad multiply", grad_sum, &gm, xy, 2);
  check_grad("grad of grad divide", grad_sum, &gd, xy, 2);
  check_grad("grad of grad power", grad_sum, &gp, pq, 2);
  /* With broadcasting: the inner vjp sums over broadcast axes, so this
   * also goes through the reduce and shape families' rules. */
  int64_t s23[2] = {2, 3}, s3[1] = {3}, s21[2] = {2, 1}, s13[2] = {1, 3};
  mlx_array a = vals(s23, 2, -2, 2, 0, 4), b = vals(s3, 1, 0.5, 2, 1, 5);
  mlx_array c = vals(s21, 2, -2, 2, 0, 6), d = vals(s13, 2, 0.5, 2, 1, 7);
  gg_case gmb = {f_sum_mul, 2}, gdb = {f_sum_div, 2};
  mlx_array ab[2] = {a, b}, cd[2] = {c, d};
  check_grad("grad of grad multiply broadcast", grad_sum, &gmb, ab, 2);
  check_grad("grad of grad divide broadcast", grad_sum, &gdb, cd, 2);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c), mlx_array_free(d);
  mlx_array_free(x), mlx_array_free(p), mlx_array_free(q);
}

int main(void) {
  RUN(unary_grads);
  RUN(unary_vmap);
  RUN(unary_integer_zero);
  RUN(binary_grads);
  RUN(binary_vmap);
  RUN(where_rules);
  RUN(copy_rules);
  RUN(complex_rules);
  RUN(grad_of_grad);
  return harness_report();
}
