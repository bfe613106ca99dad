/* compile: compiled functions give the same bits as the functions
 * themselves (every elementwise op and dtype fused, broadcasting, strided
 * inputs), the trace cache (hits, new shapes, shapeless), the graph
 * simplifications (constant dedupe, CSE, fusion), random numbers, grad
 * through a compiled function, no compiler, concurrent builds of one
 * kernel in two processes, disable_compile, and a timing of GELU. */
#include <dirent.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compile/compile.h"
#include "harness.h"
#include "internal.h"

/* ---- helpers ---------------------------------------------------------------- */

static char cache_dir[256];

/* A fresh kernel cache directory for a test. */
static void fresh_cache(void) {
  snprintf(cache_dir, sizeof cache_dir, "/tmp/mlx-compile-test-XXXXXX");
  if (!mkdtemp(cache_dir)) {
    perror("mkdtemp");
    exit(1);
  }
  CHECK_OK(mlx_set_compile_cache_dir(cache_dir));
}

/* Files in the cache directory whose names start with prefix and end with suffix. */
static int count_files(const char* prefix, const char* suffix) {
  DIR* d = opendir(cache_dir);
  if (!d) return -1;
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name), ls = strlen(suffix);
    if (!strncmp(e->d_name, prefix, strlen(prefix)) && l >= ls && !strcmp(e->d_name + l - ls, suffix)) n++;
  }
  closedir(d);
  return n;
}

static void remove_cache(void) {
  DIR* d = opendir(cache_dir);
  if (d) {
    struct dirent* e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char path[512];
      snprintf(path, sizeof path, "%s/%s", cache_dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(cache_dir);
  mlx_set_compile_cache_dir(NULL);
}

/* 1 if a and b have the same dtype, shape and bits. */
static int same_bits(mlx_array a, mlx_array b) {
  if (mlx_eval(&a, 1) || mlx_eval(&b, 1)) return 0;
  if (mlx_array_dtype(a) != mlx_array_dtype(b) || mlx_array_ndim(a) != mlx_array_ndim(b)) return 0;
  for (int d = 0; d < mlx_array_ndim(a); d++)
    if (mlx_array_dim(a, d) != mlx_array_dim(b, d)) return 0;
  size_t n = mlx_array_nbytes(a);
  char* x = malloc(n + 1);
  char* y = malloc(n + 1);
  int ok = x && y && !mlx_array_copy_to(x, n, a) && !mlx_array_copy_to(y, n, b) && !memcmp(x, y, n);
  free(x);
  free(y);
  return ok;
}

/* Checks that two result lists are bit-identical; names[i] (if given)
 * says what output i is. */
static void check_named(mlx_vector_array a, mlx_vector_array b, const char* what, const char* const* names) {
  size_t n = mlx_vector_array_size(a);
  harness_checks++;
  if (n != mlx_vector_array_size(b)) {
    harness_failures++;
    fprintf(stderr, "%s: %zu vs %zu outputs\n", what, n, mlx_vector_array_size(b));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    mlx_array x = mlx_array_new(), y = mlx_array_new();
    mlx_vector_array_get(&x, a, i);
    mlx_vector_array_get(&y, b, i);
    if (!same_bits(x, y)) {
      harness_failures++;
      fprintf(stderr, "%s: output %zu (%s) differs\n", what, i, names ? names[i] : "");
    }
    mlx_array_free(x);
    mlx_array_free(y);
  }
}

static void check_same(mlx_vector_array a, mlx_vector_array b, const char* what) {
  check_named(a, b, what, NULL);
}

/* A list of the given arrays (new references). */
static mlx_vector_array list_of(int n, const mlx_array* arrays) {
  mlx_vector_array v = mlx_vector_array_new();
  for (int i = 0; i < n; i++) mlx_vector_array_append(v, arrays[i]);
  return v;
}

/* Applies fun directly and compiled (a new compiled closure) to inputs
 * and checks the results are bit-identical. */
static void check_compiled_named(mlx_closure fun, int n, const mlx_array* inputs, const char* what,
                                 const char* const* names) {
  mlx_vector_array in = list_of(n, inputs), want = mlx_vector_array_new(), got = mlx_vector_array_new();
  mlx_closure cf;
  CHECK_OK(mlx_closure_apply(want, fun, in));
  CHECK_OK(mlx_compile(&cf, fun, 0));
  CHECK_OK(mlx_closure_apply(got, cf, in));
  check_named(want, got, what, names);
  /* A second call replays the cached trace. */
  mlx_vector_array_clear(got);
  CHECK_OK(mlx_closure_apply(got, cf, in));
  check_named(want, got, what, names);
  mlx_closure_free(cf);
  mlx_vector_array_free(in);
  mlx_vector_array_free(want);
  mlx_vector_array_free(got);
}

static void check_compiled(mlx_closure fun, int n, const mlx_array* inputs, const char* what) {
  check_compiled_named(fun, n, inputs, what, NULL);
}

static mlx_array from_doubles(const double* v, int64_t n, mlx_dtype t) {
  mlx_array d = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_data(&d, v, &n, 1, MLX_FLOAT64);
  mlx_astype(&r, d, t, S);
  mlx_eval(&r, 1);
  mlx_array_free(d);
  return r;
}

/* n float32 values in [lo, hi), deterministic. */
static mlx_array ramp(const int64_t* shape, int ndim, float lo, float hi) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  float* v = malloc(sizeof(float) * (size_t)(n ? n : 1));
  uint32_t s = 12345;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
  }
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT32);
  free(v);
  return a;
}

/* The node op of an unevaluated array's producer (NULL if none). */
static const mlx_op_* producer(mlx_array a) {
  return atomic_load(&MLX_NODE(a)->op);
}

/* ---- functions to compile ------------------------------------------------------- */

typedef struct {
  int calls;
} counter;

/* 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), upstream's
 * gelu_approx, in x's dtype; x^3 is power(x, 3) as upstream writes it
 * (x ** 3), or x * x * x when cube_by_multiply. */
static int gelu_impl(mlx_array* r, mlx_array x, int cube_by_multiply) {
  mlx_dtype t = mlx_array_dtype(x);
  mlx_array c05 = mlx_array_new(), c1 = mlx_array_new(), ca = mlx_array_new(), cb = mlx_array_new(),
            c3 = mlx_array_new(), a = mlx_array_new(), g = mlx_array_new();
  int rc = mlx_array_new_float(&c05, 0.5, t);
  if (!rc) rc = mlx_array_new_float(&c1, 1.0, t);
  if (!rc) rc = mlx_array_new_float(&ca, 0.044715, t);
  if (!rc) rc = mlx_array_new_float(&cb, 0.7978845608, t);
  if (!rc) rc = mlx_array_new_float(&c3, 3.0, t);
  if (!rc && cube_by_multiply) {
    rc = mlx_multiply(&a, x, x, S);
    if (!rc) rc = mlx_multiply(&a, a, x, S);
  } else if (!rc) {
    rc = mlx_power(&a, x, c3, S);
  }
  if (!rc) rc = mlx_multiply(&a, ca, a, S);
  if (!rc) rc = mlx_add(&a, x, a, S);
  if (!rc) rc = mlx_multiply(&a, cb, a, S);
  if (!rc) rc = mlx_tanh(&a, a, S);
  if (!rc) rc = mlx_add(&a, c1, a, S);
  if (!rc) rc = mlx_multiply(&g, c05, x, S);
  if (!rc) rc = mlx_multiply(r, g, a, S);
  mlx_array_free(c05);
  mlx_array_free(c1);
  mlx_array_free(ca);
  mlx_array_free(cb);
  mlx_array_free(c3);
  mlx_array_free(a);
  mlx_array_free(g);
  return rc;
}

static int gelu(mlx_array* r, mlx_array x) {
  return gelu_impl(r, x, 0);
}

static int gelu_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  if (payload) ((counter*)payload)->calls++;
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = gelu(&r, x);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(r);
  return rc;
}

static int gelu_mul_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = gelu_impl(&r, x, 1);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(r);
  return rc;
}

/* tanh(x * b + 1) for a broadcast b. */
static int affine_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  if (payload) ((counter*)payload)->calls++;
  mlx_array x = mlx_array_new(), b = mlx_array_new(), one = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_vector_array_get(&b, in, 1);
  if (!rc) rc = mlx_array_new_float(&one, 1.0, mlx_array_dtype(x));
  if (!rc) rc = mlx_multiply(&r, x, b, S);
  if (!rc) rc = mlx_add(&r, r, one, S);
  if (!rc) rc = mlx_tanh(&r, r, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(b);
  mlx_array_free(one);
  mlx_array_free(r);
  return rc;
}

/* ---- every op and dtype, fused ---------------------------------------------------- */

typedef int (*unary_fn)(mlx_array*, const mlx_array, const mlx_stream);
typedef int (*binary_fn)(mlx_array*, const mlx_array, const mlx_array, const mlx_stream);

/* Every elementwise op, with its name for messages. */
#define OP(name) \
  { mlx_##name, #name }
static const struct {
  unary_fn fn;
  const char* name;
} unary_ops[] = {
    OP(abs),      OP(negative),    OP(sign),           OP(sqrt),      OP(rsqrt),     OP(square),   OP(exp),
    OP(expm1),    OP(log),         OP(log1p),          OP(log2),      OP(log10),     OP(sin),      OP(cos),
    OP(tan),      OP(arcsin),      OP(arccos),         OP(arctan),    OP(sinh),      OP(cosh),     OP(tanh),
    OP(arcsinh),  OP(arccosh),     OP(arctanh),        OP(sigmoid),   OP(erf),       OP(erfinv),   OP(floor),
    OP(ceil),     OP(logical_not), OP(bitwise_invert), OP(isnan),     OP(isinf),     OP(isposinf), OP(isneginf),
    OP(isfinite), OP(imag),        OP(real),           OP(conjugate), OP(reciprocal)};
#define NUNARY ((int)(sizeof unary_ops / sizeof unary_ops[0]))

static const struct {
  binary_fn fn;
  const char* name;
} binary_ops[] = {OP(add),        OP(subtract),     OP(multiply),    OP(divide),     OP(power),
                  OP(remainder),  OP(floor_divide), OP(maximum),     OP(minimum),    OP(logaddexp),
                  OP(arctan2),    OP(equal),        OP(not_equal),   OP(greater),    OP(greater_equal),
                  OP(less),       OP(less_equal),   OP(logical_and), OP(logical_or), OP(bitwise_and),
                  OP(bitwise_or), OP(bitwise_xor),  OP(left_shift),  OP(right_shift)};
#undef OP
#define NBINARY ((int)(sizeof binary_ops / sizeof binary_ops[0]))

static const mlx_dtype all_dtypes[] = {MLX_BOOL,    MLX_UINT8,   MLX_UINT16,   MLX_UINT32,   MLX_UINT64,
                                       MLX_INT8,    MLX_INT16,   MLX_INT32,    MLX_INT64,    MLX_FLOAT16,
                                       MLX_FLOAT32, MLX_FLOAT64, MLX_BFLOAT16, MLX_COMPLEX64};
#define NDTYPES ((int)(sizeof all_dtypes / sizeof all_dtypes[0]))

/* Values that reach the special cases: signed zeros, infinities, NaN,
 * wrap-around of small integer types, the domains of log and arcsin. */
static const double special[] = {0.0,     -0.0,  1.0,      -1.0,      0.5,    -0.5, 2.0,  -3.0,
                                 7.0,     100.0, -128.0,   255.0,     0.9999, 1e-7, 3.25, -2.75,
                                 65504.0, 1e10,  INFINITY, -INFINITY, NAN,    31.0, 33.0, 64.0};
#define NSPECIAL ((int)(sizeof special / sizeof special[0]))

/* One sweep function over n ops: every op on where(true, x, x) (so the
 * op is never the group's only member), each result an output, and all of
 * them also selected element by element into one float64 root, which
 * makes the whole sweep one fused group with many outputs. */
typedef struct {
  int binary;
  int n;
  int ops[64];       /* indices into unary_ops / binary_ops */
  mlx_array sel[64]; /* bool masks: element e belongs to op e % n */
} sweep;

static int sweep_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  sweep* w = payload;
  mlx_array x = mlx_array_new(), y = mlx_array_new(), t = mlx_array_new(), xx = mlx_array_new(), root = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc && w->binary) rc = mlx_vector_array_get(&y, in, 1);
  if (!rc) rc = mlx_array_new_bool(&t, 1);
  if (!rc) rc = mlx_where(&xx, t, x, x, S);
  mlx_array res[64];
  for (int i = 0; i < w->n; i++) res[i] = mlx_array_new();
  for (int i = 0; i < w->n && !rc; i++) {
    rc = w->binary ? binary_ops[w->ops[i]].fn(&res[i], xx, y, S) : unary_ops[w->ops[i]].fn(&res[i], xx, S);
    if (!rc) rc = mlx_vector_array_append(out, res[i]);
  }
  for (int i = w->n - 1; i >= 0 && !rc; i--) {
    mlx_array f = mlx_array_new();
    rc = mlx_astype(&f, res[i], MLX_FLOAT64, S);
    if (!rc) rc = i == w->n - 1 ? mlx_array_set(&root, f) : mlx_where(&root, w->sel[i], f, root, S);
    mlx_array_free(f);
  }
  if (!rc) rc = mlx_vector_array_append(out, root);
  for (int i = 0; i < w->n; i++) mlx_array_free(res[i]);
  mlx_array_free(x);
  mlx_array_free(y);
  mlx_array_free(t);
  mlx_array_free(xx);
  mlx_array_free(root);
  return rc;
}

/* 1 if the op accepts the dtype (recording only). */
static int accepts(int binary, int op, mlx_dtype t) {
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  mlx_array_new_float(&x, 1.0, t);
  int rc = binary ? binary_ops[op].fn(&r, x, x, S) : unary_ops[op].fn(&r, x, S);
  mlx_array_free(x);
  mlx_array_free(r);
  return rc == 0;
}

static void run_sweep(int binary) {
  int nops = binary ? NBINARY : NUNARY;
  for (int di = 0; di < NDTYPES; di++) {
    mlx_dtype t = all_dtypes[di];
    sweep w;
    w.binary = binary;
    w.n = 0;
    for (int op = 0; op < nops; op++)
      if (accepts(binary, op, t)) w.ops[w.n++] = op;
    /* Inputs: every special value (every pair for binary ops), once per op. */
    int64_t combos = binary ? NSPECIAL * NSPECIAL : NSPECIAL, n = combos * w.n;
    double* xv = malloc(sizeof(double) * (size_t)n);
    double* yv = malloc(sizeof(double) * (size_t)n);
    uint8_t* mask = malloc((size_t)n);
    for (int64_t e = 0; e < n; e++) {
      int64_t c = e / w.n;
      xv[e] = special[c % NSPECIAL];
      yv[e] = special[(c / NSPECIAL) % NSPECIAL];
    }
    for (int i = 0; i < w.n; i++) {
      for (int64_t e = 0; e < n; e++) mask[e] = e % w.n == i;
      w.sel[i] = mlx_array_new();
      mlx_array_new_data(&w.sel[i], mask, &n, 1, MLX_BOOL);
    }
    mlx_array in[2] = {from_doubles(xv, n, t), from_doubles(yv, n, t)};
    mlx_closure f = mlx_closure_new(sweep_fn, &w, NULL);
    char what[64];
    snprintf(what, sizeof what, "%s sweep of %s", binary ? "binary" : "unary", mlx_dtype_name(t));
    const char* names[65];
    for (int i = 0; i < w.n; i++) names[i] = binary ? binary_ops[w.ops[i]].name : unary_ops[w.ops[i]].name;
    names[w.n] = "all, selected";
    check_compiled_named(f, binary ? 2 : 1, in, what, names);
    /* The sweep did fuse: its root is one compiled node that also writes
     * the results (some ops return their input: fewer distinct ones). */
    mlx_closure cf;
    mlx_vector_array vin = list_of(binary ? 2 : 1, in), got = mlx_vector_array_new();
    CHECK_OK(mlx_compile(&cf, f, 0));
    CHECK_OK(mlx_closure_apply(got, cf, vin));
    mlx_array root = mlx_array_new();
    mlx_vector_array_get(&root, got, mlx_vector_array_size(got) - 1);
    const mlx_op_* op = producer(root);
    CHECK(op && !strcmp(op->prim->name, "compiled") && op->noutputs > w.n / 2);
    mlx_array_free(root);
    mlx_closure_free(cf);
    mlx_vector_array_free(vin);
    mlx_vector_array_free(got);
    mlx_closure_free(f);
    for (int i = 0; i < w.n; i++) mlx_array_free(w.sel[i]);
    mlx_array_free(in[0]);
    mlx_array_free(in[1]);
    free(xv);
    free(yv);
    free(mask);
  }
}

TEST(unary_ops_all_dtypes) {
  fresh_cache();
  run_sweep(0);
  remove_cache();
}

TEST(binary_ops_all_dtypes) {
  fresh_cache();
  run_sweep(1);
  remove_cache();
}

/* astype between every pair of (non-complex) dtypes, fused after where. */
typedef struct {
  mlx_dtype to[NDTYPES];
} cast_sweep;

static int cast_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), t = mlx_array_new(), xx = mlx_array_new(), r = mlx_array_new(), sum = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_array_new_bool(&t, 1);
  if (!rc) rc = mlx_where(&xx, t, x, x, S);
  if (!rc) rc = mlx_array_new_float(&sum, 0.0, MLX_FLOAT64);
  for (int i = 0; i < NDTYPES && !rc; i++) {
    rc = mlx_astype(&r, xx, all_dtypes[i], S);
    if (!rc) rc = mlx_vector_array_append(out, r);
    mlx_array f = mlx_array_new();
    if (!rc) rc = mlx_astype(&f, r, MLX_FLOAT64, S);
    if (!rc) rc = mlx_add(&sum, sum, f, S);
    mlx_array_free(f);
  }
  if (!rc) rc = mlx_vector_array_append(out, sum);
  mlx_array_free(x);
  mlx_array_free(t);
  mlx_array_free(xx);
  mlx_array_free(r);
  mlx_array_free(sum);
  return rc;
}

TEST(astype_all_pairs) {
  fresh_cache();
  /* In-range values: out-of-range float to integer conversions are
   * undefined in C, so the unfused kernel's bits there are not a contract. */
  static const double vals[] = {0.0, -0.0, 1.0, 0.5, 2.75, 7.0, 100.0, 127.0, 1.5, 3.25, 0.3333, 65.0};
  int64_t n = sizeof vals / sizeof vals[0];
  mlx_closure f = mlx_closure_new(cast_fn, NULL, NULL);
  for (int di = 0; di < NDTYPES; di++) {
    mlx_array x = from_doubles(vals, n, all_dtypes[di]);
    char what[64];
    snprintf(what, sizeof what, "astype from %s", mlx_dtype_name(all_dtypes[di]));
    check_compiled(f, 1, &x, what);
    mlx_array_free(x);
  }
  mlx_closure_free(f);
  remove_cache();
}

/* ---- GELU, broadcasting, layouts ---------------------------------------------------------- */

TEST(gelu_dtypes_and_shapes) {
  fresh_cache();
  mlx_closure f = mlx_closure_new(gelu_fn, NULL, NULL);
  static const int64_t shapes[][3] = {{1000, 0, 0}, {7, 13, 0}, {2, 3, 70000}, {0, 0, 0}};
  static const int ndims[] = {1, 2, 3, 0};
  static const mlx_dtype dtypes[] = {MLX_FLOAT32, MLX_FLOAT16, MLX_BFLOAT16, MLX_FLOAT64};
  for (int s = 0; s < 4; s++)
    for (int d = 0; d < 4; d++) {
      mlx_array x = ramp(shapes[s], ndims[s], -6.0f, 6.0f), xd = mlx_array_new();
      mlx_astype(&xd, x, dtypes[d], S);
      char what[64];
      snprintf(what, sizeof what, "gelu %s rank %d", mlx_dtype_name(dtypes[d]), ndims[s]);
      check_compiled(f, 1, &xd, what);
      mlx_array_free(x);
      mlx_array_free(xd);
    }
  /* An empty array. */
  int64_t zero[2] = {3, 0};
  mlx_array e = ramp(zero, 2, 0, 1);
  check_compiled(f, 1, &e, "gelu empty");
  mlx_array_free(e);
  /* The whole function is one fused node. */
  int64_t sh[1] = {64};
  mlx_array x = ramp(sh, 1, -1, 1);
  mlx_vector_array in = list_of(1, &x), out = mlx_vector_array_new();
  mlx_closure cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  CHECK_OK(mlx_closure_apply(out, cf, in));
  mlx_array r = mlx_array_new();
  mlx_vector_array_get(&r, out, 0);
  const mlx_op_* op = producer(r);
  CHECK(op && !strcmp(op->prim->name, "compiled"));
  if (op) {
    const mlx_fused_* k = ((const mlx_fused_params_*)op->params)->k;
    /* power, multiply, add, multiply, tanh, add, multiply, multiply. */
    CHECK(k->ninstr == 8);
    /* x and the constants 0.5, 1, 0.044715, 0.797..., 3. */
    CHECK(k->nin == 6);
  }
  CHECK_OK(mlx_eval(&r, 1));
  /* Built into the cache directory. */
  CHECK(count_files("mlxk-", ".so") >= 1);
  CHECK(count_files(".mlxk-", "") == 0);
  mlx_array_free(r);
  mlx_array_free(x);
  mlx_closure_free(cf);
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  mlx_closure_free(f);
  remove_cache();
}

TEST(broadcast_and_strided_inputs) {
  fresh_cache();
  mlx_closure f = mlx_closure_new(affine_fn, NULL, NULL);
  int64_t xs[2] = {300, 257}, rs[2] = {1, 257}, vs[1] = {257}, cs[2] = {300, 1};
  mlx_array x = ramp(xs, 2, -2, 2);
  mlx_array bias_row = ramp(rs, 2, -1, 1), bias_vec = ramp(vs, 1, -1, 1), bias_col = ramp(cs, 2, -1, 1);
  mlx_array scalar = mlx_array_new();
  mlx_array_new_float(&scalar, 0.25, MLX_FLOAT32);
  mlx_array pairs[][2] = {{x, bias_row}, {x, bias_vec}, {x, bias_col}, {x, scalar}, {bias_col, bias_row}};
  for (int i = 0; i < 5; i++) check_compiled(f, 2, pairs[i], "broadcast");
  /* Transposed, sliced and broadcast views as inputs. */
  int64_t ts[2] = {257, 300};
  mlx_array y = ramp(ts, 2, -2, 2), yt = mlx_array_new(), sl = mlx_array_new(), bc = mlx_array_new();
  int axes[2] = {1, 0};
  mlx_transpose(&yt, y, axes, 2, S);
  int64_t start[2] = {1, 3}, stop[2] = {257, 300}, step[2] = {2, 3};
  mlx_slice(&sl, y, start, stop, step, 2, S);
  mlx_broadcast_to(&bc, bias_row, xs, 2, S);
  mlx_array views[][2] = {{yt, bias_vec}, {yt, x}, {sl, scalar}, {bc, x}, {x, yt}};
  for (int i = 0; i < 5; i++) check_compiled(f, 2, views[i], "strided");
  mlx_array_free(y);
  mlx_array_free(yt);
  mlx_array_free(sl);
  mlx_array_free(bc);
  mlx_array_free(x);
  mlx_array_free(bias_row);
  mlx_array_free(bias_vec);
  mlx_array_free(bias_col);
  mlx_array_free(scalar);
  mlx_closure_free(f);
  remove_cache();
}

/* ---- simplification ----------------------------------------------------------------------------- */

/* (x * 2) + (x * 2) with the constant made twice, plus sum(x) + sum(x). */
static int cse_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), c1 = mlx_array_new(), c2 = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new(),
            s1 = mlx_array_new(), s2 = mlx_array_new(), r = mlx_array_new(), q = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_array_new_float(&c1, 2.0, MLX_FLOAT32);
  if (!rc) rc = mlx_array_new_float(&c2, 2.0, MLX_FLOAT32);
  if (!rc) rc = mlx_multiply(&a, x, c1, S);
  if (!rc) rc = mlx_multiply(&b, x, c2, S);
  if (!rc) rc = mlx_add(&r, a, b, S);
  if (!rc) rc = mlx_sum(&s1, x, 0, S);
  if (!rc) rc = mlx_sum(&s2, x, 0, S);
  if (!rc) rc = mlx_add(&q, s1, s2, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  if (!rc) rc = mlx_vector_array_append(out, q);
  mlx_array ts[] = {x, c1, c2, a, b, s1, s2, r, q};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) mlx_array_free(ts[i]);
  return rc;
}

TEST(constant_dedupe_and_cse) {
  fresh_cache();
  mlx_closure f = mlx_closure_new(cse_fn, NULL, NULL);
  int64_t sh[1] = {100};
  mlx_array x = ramp(sh, 1, -1, 1);
  check_compiled(f, 1, &x, "cse");
  mlx_vector_array in = list_of(1, &x), out = mlx_vector_array_new();
  mlx_closure cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  CHECK_OK(mlx_closure_apply(out, cf, in));
  mlx_array r = mlx_array_new(), q = mlx_array_new();
  mlx_vector_array_get(&r, out, 0);
  mlx_vector_array_get(&q, out, 1);
  /* x*2 + x*2: one multiply (the constants merged, then the products),
   * fused with the add: 2 instructions over x and one constant. */
  const mlx_op_* op = producer(r);
  CHECK(op && !strcmp(op->prim->name, "compiled"));
  if (op) {
    const mlx_fused_* k = ((const mlx_fused_params_*)op->params)->k;
    CHECK(k->ninstr == 2 && k->nin == 2);
    CHECK(k->instrs[1].args[0] == 0 && k->instrs[1].args[1] == 0);
  }
  /* sum(x) + sum(x): the add reads one sum node twice. */
  op = producer(q);
  CHECK(op && !strcmp(op->prim->name, "add") && op->inputs[0] == op->inputs[1]);
  mlx_array_free(r);
  mlx_array_free(q);
  mlx_array_free(x);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  remove_cache();
}

/* exp(x) * 2 and that + 1: an intermediate the caller also gets. */
static int two_out_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), c = mlx_array_new(), y = mlx_array_new(), z = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_array_new_float(&c, 2.0, MLX_FLOAT32);
  if (!rc) rc = mlx_exp(&y, x, S);
  if (!rc) rc = mlx_multiply(&y, y, c, S);
  if (!rc) rc = mlx_add(&z, y, c, S);
  if (!rc) rc = mlx_vector_array_append(out, y);
  if (!rc) rc = mlx_vector_array_append(out, z);
  if (!rc) rc = mlx_vector_array_append(out, x);
  mlx_array_free(x);
  mlx_array_free(c);
  mlx_array_free(y);
  mlx_array_free(z);
  return rc;
}

/* y = exp(x) * 2 and z = y + b: traced with equal shapes, y is a second
 * output of the fused node; replayed shapeless with a smaller x, the two
 * outputs differ in shape. */
static int two_shapes_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new(), y = mlx_array_new(), z = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_vector_array_get(&b, in, 1);
  if (!rc) rc = mlx_array_new_float(&c, 2.0, MLX_FLOAT32);
  if (!rc) rc = mlx_exp(&y, x, S);
  if (!rc) rc = mlx_multiply(&y, y, c, S);
  if (!rc) rc = mlx_add(&z, y, b, S);
  if (!rc) rc = mlx_vector_array_append(out, y);
  if (!rc) rc = mlx_vector_array_append(out, z);
  mlx_array ts[] = {x, b, c, y, z};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) mlx_array_free(ts[i]);
  return rc;
}

TEST(multiple_outputs) {
  fresh_cache();
  mlx_closure f = mlx_closure_new(two_out_fn, NULL, NULL);
  int64_t sh[2] = {33, 65};
  mlx_array x = ramp(sh, 2, -3, 3);
  check_compiled(f, 1, &x, "two outputs");
  mlx_vector_array in = list_of(1, &x), out = mlx_vector_array_new();
  mlx_closure cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  CHECK_OK(mlx_closure_apply(out, cf, in));
  mlx_array y = mlx_array_new(), z = mlx_array_new(), xo = mlx_array_new();
  mlx_vector_array_get(&y, out, 0);
  mlx_vector_array_get(&z, out, 1);
  mlx_vector_array_get(&xo, out, 2);
  CHECK(producer(y) && producer(y) == producer(z) && producer(y)->noutputs == 2);
  /* An input returned as is stays the same array. */
  CHECK(mlx_array_is_same(xo, x));
  /* Outputs of one fused node with different shapes (shapeless replay). */
  mlx_closure g = mlx_closure_new(two_shapes_fn, NULL, NULL), sg;
  CHECK_OK(mlx_compile(&sg, g, 1));
  int64_t s45[2] = {4, 5}, s15[2] = {1, 5};
  mlx_array p[2] = {ramp(s45, 2, -1, 1), ramp(s45, 2, 0, 1)}, q[2] = {ramp(s15, 2, -1, 1), p[1]};
  mlx_vector_array vp = list_of(2, p), vq = list_of(2, q), r1 = mlx_vector_array_new(), r2 = mlx_vector_array_new(),
                   w2 = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(r1, sg, vp));
  const mlx_op_* fop = producer((mlx_array){mlx_vector_node_(r1, 0)});
  CHECK(fop && !strcmp(fop->prim->name, "compiled") && fop->noutputs == 2);
  CHECK_OK(mlx_closure_apply(r2, sg, vq));
  CHECK_OK(mlx_closure_apply(w2, g, vq));
  CHECK(mlx_array_dim((mlx_array){mlx_vector_node_(r2, 0)}, 0) == 1);
  check_same(w2, r2, "shapeless outputs of two shapes");
  mlx_vector_array vs[] = {vp, vq, r1, r2, w2};
  for (size_t i = 0; i < 5; i++) mlx_vector_array_free(vs[i]);
  mlx_array_free(p[0]);
  mlx_array_free(p[1]);
  mlx_array_free(q[0]);
  mlx_closure_free(sg);
  mlx_closure_free(g);
  mlx_array_free(y);
  mlx_array_free(z);
  mlx_array_free(xo);
  mlx_array_free(x);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  remove_cache();
}

/* x * c + x for an array c the function closes over. */
typedef struct {
  mlx_array c;
  int calls;
} captured;

static int capture_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  captured* p = payload;
  p->calls++;
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_multiply(&r, x, p->c, S);
  if (!rc) rc = mlx_add(&r, r, x, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(r);
  return rc;
}

TEST(constant_capture) {
  fresh_cache();
  int64_t sh[1] = {50};
  captured p = {ramp(sh, 1, 1, 2), 0};
  mlx_closure f = mlx_closure_new(capture_fn, &p, NULL), cf;
  mlx_array x = ramp(sh, 1, -5, 5);
  mlx_vector_array in = list_of(1, &x), want = mlx_vector_array_new(), got = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(want, f, in));
  CHECK_OK(mlx_eval(&(mlx_array){mlx_vector_node_(want, 0)}, 1));
  CHECK_OK(mlx_compile(&cf, f, 0));
  CHECK_OK(mlx_closure_apply(got, cf, in));
  check_same(want, got, "capture");
  /* The program holds the constant: the function's own handle can go. */
  mlx_array_free(p.c);
  p.c = mlx_array_new();
  mlx_vector_array_clear(got);
  CHECK_OK(mlx_closure_apply(got, cf, in));
  check_same(want, got, "capture after free");
  CHECK(p.calls == 2);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  mlx_array_free(x);
  mlx_vector_array_free(in);
  mlx_vector_array_free(want);
  mlx_vector_array_free(got);
  remove_cache();
}

/* ---- the trace cache --------------------------------------------------------------------------- */

static void call(mlx_closure cf, int n, const mlx_array* inputs, mlx_vector_array out) {
  mlx_vector_array in = list_of(n, inputs);
  mlx_vector_array_clear(out);
  CHECK_OK(mlx_closure_apply(out, cf, in));
  mlx_vector_array_free(in);
}

TEST(cache_hits) {
  fresh_cache();
  /* Kernels built by earlier tests are rebuilt into this test's directory. */
  CHECK_OK(mlx_compile_clear_cache());
  counter cnt = {0};
  mlx_closure f = mlx_closure_new(gelu_fn, &cnt, NULL), cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  int64_t s1[2] = {4, 5}, s2[2] = {6, 5}, s3[1] = {5}, s5[2] = {1, 5};
  mlx_array a = ramp(s1, 2, -1, 1), b = ramp(s1, 2, 0, 3), c = ramp(s2, 2, -1, 1), d = ramp(s3, 1, -1, 1);
  mlx_array row = ramp(s5, 2, 2, 3);
  mlx_array a64 = mlx_array_new();
  mlx_astype(&a64, a, MLX_FLOAT64, S);
  mlx_vector_array out = mlx_vector_array_new();
  call(cf, 1, &a, out);
  CHECK(cnt.calls == 1);
  call(cf, 1, &b, out); /* same shape and dtype: replayed */
  call(cf, 1, &a, out);
  CHECK(cnt.calls == 1);
  call(cf, 1, &c, out); /* new shape */
  CHECK(cnt.calls == 2);
  call(cf, 1, &a64, out); /* new dtype */
  CHECK(cnt.calls == 3);
  call(cf, 1, &c, out);
  call(cf, 1, &a64, out);
  CHECK(cnt.calls == 3);
  /* The replayed results are right for the new inputs. */
  mlx_vector_array want = mlx_vector_array_new(), in = list_of(1, &b);
  call(cf, 1, &b, out);
  CHECK_OK(mlx_closure_apply(want, f, in));
  cnt.calls--;
  check_same(want, out, "hit");
  mlx_vector_array_free(in);
  mlx_vector_array_free(want);

  /* Shapeless: other shapes of the same ranks replay; another rank traces. */
  counter sc = {0};
  mlx_closure g = mlx_closure_new(affine_fn, &sc, NULL), sg;
  CHECK_OK(mlx_compile(&sg, g, 1));
  mlx_array p1[2] = {a, b}, p2[2] = {c, row}, p3[2] = {d, d};
  call(sg, 2, p1, out);
  CHECK(sc.calls == 1);
  call(sg, 2, p2, out); /* (6, 5) with a (1, 5) broadcast: the same ranks */
  CHECK(sc.calls == 1);
  in = list_of(2, p2);
  want = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(want, g, in));
  sc.calls--;
  check_same(want, out, "shapeless replay");
  mlx_vector_array_free(in);
  mlx_vector_array_free(want);
  call(sg, 2, p3, out); /* another rank */
  CHECK(sc.calls == 2);
  /* Shapes that do not broadcast are an error, as without compile. */
  mlx_array bad[2] = {c, a};
  mlx_vector_array vin = list_of(2, bad);
  mlx_vector_array_clear(out);
  CHECK_ERR(mlx_closure_apply(out, sg, vin), MLX_ERROR_SHAPE);
  mlx_vector_array_free(vin);

  /* Shapeless with an op that has no shape rule (a reduction): traces again. */
  counter rc_ = {0};
  mlx_closure h = mlx_closure_new(cse_fn, &rc_, NULL), sh_;
  CHECK_OK(mlx_compile(&sh_, h, 1));
  call(sh_, 1, &d, out);
  int64_t s4[1] = {9};
  mlx_array e = ramp(s4, 1, 0, 1);
  call(sh_, 1, &e, out);
  in = list_of(1, &e);
  want = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(want, h, in));
  check_same(want, out, "shapeless retrace");
  mlx_vector_array_free(in);
  mlx_vector_array_free(want);

  /* clear_cache: traced again, kernel files removed. */
  CHECK(count_files("mlxk-", ".so") > 0);
  CHECK_OK(mlx_compile_clear_cache());
  CHECK(count_files("mlxk-", ".so") == 0);
  call(cf, 1, &a, out);
  CHECK(cnt.calls == 4);
  CHECK_OK(mlx_eval(&(mlx_array){mlx_vector_node_(out, 0)}, 1));
  CHECK(count_files("mlxk-", ".so") == 1);

  mlx_array ts[] = {a, b, c, d, e, a64, row};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) mlx_array_free(ts[i]);
  mlx_vector_array_free(out);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  mlx_closure_free(sg);
  mlx_closure_free(g);
  mlx_closure_free(sh_);
  mlx_closure_free(h);
  remove_cache();
}

TEST(disable_compile) {
  fresh_cache();
  counter cnt = {0};
  mlx_closure f = mlx_closure_new(gelu_fn, &cnt, NULL), cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  int64_t sh[1] = {10};
  mlx_array x = ramp(sh, 1, -1, 1);
  mlx_vector_array out = mlx_vector_array_new();
  CHECK_OK(mlx_disable_compile());
  call(cf, 1, &x, out);
  call(cf, 1, &x, out);
  CHECK(cnt.calls == 2);
  CHECK(strcmp(producer((mlx_array){mlx_vector_node_(out, 0)})->prim->name, "compiled") != 0);
  CHECK_OK(mlx_enable_compile());
  call(cf, 1, &x, out);
  call(cf, 1, &x, out);
  CHECK(cnt.calls == 3);
  CHECK(!strcmp(producer((mlx_array){mlx_vector_node_(out, 0)})->prim->name, "compiled"));
  mlx_array_free(x);
  mlx_vector_array_free(out);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  remove_cache();
}

/* ---- randomness, grad, no compiler ------------------------------------------------------------------ */

/* x + normal(shape of x) * 0.1 + uniform: two draws from the global sequence. */
static int noisy_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  if (payload) ((counter*)payload)->calls++;
  mlx_array x = mlx_array_new(), n = mlx_array_new(), u = mlx_array_new(), lo = mlx_array_new(), hi = mlx_array_new(),
            c = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  int nd = mlx_array_ndim(x);
  const int64_t* sh = mlx_array_shape(x);
  if (!rc) rc = mlx_random_normal(&n, sh, nd, MLX_FLOAT32, 0.0, 1.0, mlx_array_new(), S);
  if (!rc) rc = mlx_array_new_float(&lo, 0.0, MLX_FLOAT32);
  if (!rc) rc = mlx_array_new_float(&hi, 1.0, MLX_FLOAT32);
  if (!rc) rc = mlx_random_uniform(&u, lo, hi, sh, nd, MLX_FLOAT32, mlx_array_new(), S);
  if (!rc) rc = mlx_array_new_float(&c, 0.1, MLX_FLOAT32);
  if (!rc) rc = mlx_multiply(&r, n, c, S);
  if (!rc) rc = mlx_add(&r, r, x, S);
  if (!rc) rc = mlx_add(&r, r, u, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array ts[] = {x, n, u, lo, hi, c, r};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) mlx_array_free(ts[i]);
  return rc;
}

/* Reseeds, then draws: compile cannot replay this, so it calls it. */
static int reseeding_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  mlx_random_seed(7);
  return noisy_fn(out, in, payload);
}

TEST(randomness) {
  fresh_cache();
  counter cnt = {0};
  mlx_closure f = mlx_closure_new(noisy_fn, &cnt, NULL), cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  int64_t sh[2] = {16, 40};
  mlx_array x = ramp(sh, 2, -1, 1);
  mlx_vector_array in = list_of(1, &x);
  mlx_vector_array want[3], got[3];
  mlx_array kw = mlx_array_new(), kg = mlx_array_new();
  mlx_random_seed(42);
  for (int i = 0; i < 3; i++) {
    want[i] = mlx_vector_array_new();
    CHECK_OK(mlx_closure_apply(want[i], f, in));
  }
  CHECK_OK(mlx_random_split_num(&kw, mlx_array_new(), 1, S));
  mlx_random_seed(42);
  for (int i = 0; i < 3; i++) {
    got[i] = mlx_vector_array_new();
    CHECK_OK(mlx_closure_apply(got[i], cf, in));
  }
  CHECK_OK(mlx_random_split_num(&kg, mlx_array_new(), 1, S));
  CHECK(cnt.calls == 4); /* three direct calls, one trace */
  for (int i = 0; i < 3; i++) {
    check_same(want[i], got[i], "random draws");
    mlx_vector_array_free(want[i]);
    mlx_vector_array_free(got[i]);
  }
  /* The sequence ends where it would. */
  CHECK(same_bits(kw, kg));
  /* A function that reseeds is called every time. */
  counter rc_ = {0};
  mlx_closure h = mlx_closure_new(reseeding_fn, &rc_, NULL), ch;
  CHECK_OK(mlx_compile(&ch, h, 0));
  mlx_vector_array a1 = mlx_vector_array_new(), a2 = mlx_vector_array_new(), b1 = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(a1, ch, in));
  CHECK_OK(mlx_closure_apply(a2, ch, in));
  CHECK_OK(mlx_closure_apply(b1, h, in));
  CHECK(rc_.calls == 3);
  check_same(a1, b1, "reseeding, traced");
  check_same(a2, b1, "reseeding, called");
  mlx_vector_array_free(a1);
  mlx_vector_array_free(a2);
  mlx_vector_array_free(b1);
  mlx_closure_free(ch);
  mlx_closure_free(h);
  mlx_array_free(kw);
  mlx_array_free(kg);
  mlx_array_free(x);
  mlx_vector_array_free(in);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  remove_cache();
}

/* sum(compiled_gelu(x)): grad goes through the compiled function. */
static int sum_of_compiled(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  mlx_closure* cf = payload;
  mlx_vector_array r = mlx_vector_array_new();
  mlx_array y = mlx_array_new(), s = mlx_array_new();
  int rc = mlx_closure_apply(r, *cf, in);
  if (!rc) rc = mlx_vector_array_get(&y, r, 0);
  if (!rc) rc = mlx_sum(&s, y, 0, S);
  if (!rc) rc = mlx_vector_array_append(out, s);
  mlx_array_free(y);
  mlx_array_free(s);
  mlx_vector_array_free(r);
  return rc;
}

TEST(grad_of_compiled) {
  fresh_cache();
  mlx_closure f = mlx_closure_new(gelu_fn, NULL, NULL), cf;
  CHECK_OK(mlx_compile(&cf, f, 0));
  int64_t sh[1] = {300};
  mlx_array x = ramp(sh, 1, -3, 3);
  mlx_vector_array in = list_of(1, &x);
  mlx_vector_array out = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(out, cf, in)); /* traced and cached first */
  mlx_closure gc = mlx_closure_new(sum_of_compiled, &cf, NULL), gf = mlx_closure_new(sum_of_compiled, &f, NULL);
  mlx_vector_array v1 = mlx_vector_array_new(), g1 = mlx_vector_array_new(), v2 = mlx_vector_array_new(),
                   g2 = mlx_vector_array_new();
  int argnum = 0;
  CHECK_OK(mlx_value_and_grad(v1, g1, gc, in, &argnum, 1));
  CHECK_OK(mlx_value_and_grad(v2, g2, gf, in, &argnum, 1));
  check_same(v1, v2, "value through compile");
  check_same(g1, g2, "grad through compile");
  mlx_vector_array vs[] = {in, out, v1, g1, v2, g2};
  for (size_t i = 0; i < 6; i++) mlx_vector_array_free(vs[i]);
  mlx_closure_free(gc);
  mlx_closure_free(gf);
  mlx_closure_free(cf);
  mlx_closure_free(f);
  mlx_array_free(x);
  remove_cache();
}

/* A chain no other test builds, so its kernel is not already loaded. */
static int odd_chain_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  (void)payload;
  mlx_array x = mlx_array_new(), r = mlx_array_new(), c = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_array_new_float(&c, 3.0, MLX_FLOAT64);
  if (!rc) rc = mlx_cos(&r, x, S);
  if (!rc) rc = mlx_sin(&r, r, S);
  if (!rc) rc = mlx_arctan2(&r, r, c, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(c);
  mlx_array_free(r);
  return rc;
}

TEST(no_compiler) {
  fresh_cache();
  const char* old = getenv("CC");
  char* saved = old ? strdup(old) : NULL;
  setenv("CC", "/nonexistent/cc", 1);
  mlx_closure f = mlx_closure_new(odd_chain_fn, NULL, NULL);
  int64_t sh[2] = {20, 30};
  mlx_array x = ramp(sh, 2, -4, 4), xd = mlx_array_new(), xt = mlx_array_new();
  mlx_astype(&xd, x, MLX_FLOAT64, S);
  int axes[2] = {1, 0};
  mlx_transpose(&xt, xd, axes, 2, S);
  check_compiled(f, 1, &xd, "no compiler");
  check_compiled(f, 1, &xt, "no compiler, transposed");
  /* The program runs unfused: its output comes from the last op itself. */
  mlx_closure cf;
  mlx_vector_array in = list_of(1, &xd), out = mlx_vector_array_new();
  CHECK_OK(mlx_compile(&cf, f, 0));
  CHECK_OK(mlx_closure_apply(out, cf, in));
  const mlx_op_* op = producer((mlx_array){mlx_vector_node_(out, 0)});
  CHECK(op && !strcmp(op->prim->name, "arctan2"));
  mlx_closure_free(cf);
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  CHECK(count_files("mlxk-", "") == 0);
  CHECK(count_files(".mlxk-", "") == 0);
  if (saved)
    setenv("CC", saved, 1);
  else
    unsetenv("CC");
  free(saved);
  mlx_array_free(x);
  mlx_array_free(xd);
  mlx_array_free(xt);
  mlx_closure_free(f);
  remove_cache();
}

/* Two processes build the same new kernel at the same moment. Runs first,
 * before this process starts its thread pool (a forked child has no
 * worker threads). */
TEST(concurrent_processes) {
  fresh_cache();
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t pids[2];
  for (int c = 0; c < 2; c++) {
    pids[c] = fork();
    if (pids[c] == 0) {
      char b;
      close(go[1]);
      if (read(go[0], &b, 1) != 0) _exit(3);
      mlx_closure f = mlx_closure_new(gelu_fn, NULL, NULL), cf;
      int64_t sh[1] = {1000};
      mlx_array x = ramp(sh, 1, -2, 2);
      mlx_vector_array in = list_of(1, &x), want = mlx_vector_array_new(), got = mlx_vector_array_new();
      int ok = !mlx_compile(&cf, f, 0) && !mlx_closure_apply(got, cf, in) && !mlx_closure_apply(want, f, in);
      const mlx_op_* op = ok ? producer((mlx_array){mlx_vector_node_(got, 0)}) : NULL;
      ok = ok && op && !strcmp(op->prim->name, "compiled");
      ok = ok && same_bits((mlx_array){mlx_vector_node_(want, 0)}, (mlx_array){mlx_vector_node_(got, 0)});
      _exit(ok ? 0 : 1);
    }
  }
  close(go[0]);
  close(go[1]); /* both children start now */
  for (int c = 0; c < 2; c++) {
    int status = -1;
    CHECK(waitpid(pids[c], &status, 0) == pids[c]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK(count_files("mlxk-", ".so") == 1);
  CHECK(count_files(".mlxk-", "") == 0);
  remove_cache();
}

/* Fails on its first call (the trace), then computes exp(x). */
static int fails_once_fn(mlx_vector_array out, const mlx_vector_array in, void* payload) {
  counter* c = payload;
  if (c->calls++ == 0) return mlx_error_(MLX_ERROR_SHAPE, "[test] first call fails");
  mlx_array x = mlx_array_new(), r = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0);
  if (!rc) rc = mlx_exp(&r, x, S);
  if (!rc) rc = mlx_vector_array_append(out, r);
  mlx_array_free(x);
  mlx_array_free(r);
  return rc;
}

TEST(errors) {
  mlx_closure empty = {NULL}, r;
  CHECK_ERR(mlx_compile(&r, empty, 0), MLX_ERROR_ARGUMENT);
  counter cnt = {0};
  mlx_closure f = mlx_closure_new(fails_once_fn, &cnt, NULL);
  CHECK_ERR(mlx_compile(NULL, f, 0), MLX_ERROR_ARGUMENT);
  /* An error while tracing is returned and nothing is cached. */
  CHECK_OK(mlx_compile(&r, f, 0));
  int64_t sh[1] = {3};
  mlx_array x = ramp(sh, 1, 0, 1);
  mlx_vector_array in = list_of(1, &x), out = mlx_vector_array_new();
  CHECK_ERR(mlx_closure_apply(out, r, in), MLX_ERROR_SHAPE);
  CHECK(mlx_vector_array_size(out) == 0);
  CHECK_OK(mlx_closure_apply(out, r, in));
  CHECK_OK(mlx_closure_apply(out, r, in));
  CHECK(cnt.calls == 2 && mlx_vector_array_size(out) == 2);
  mlx_array_free(x);
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  mlx_closure_free(r);
  mlx_closure_free(f);
}

/* ---- timing ---------------------------------------------------------------------------------------- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Best of a few runs of fun on x, evaluated. */
static double time_gelu(mlx_closure fun, mlx_array x) {
  double best = 1e30;
  mlx_vector_array in = list_of(1, &x), out = mlx_vector_array_new();
  for (int rep = 0; rep < 5; rep++) {
    mlx_vector_array_clear(out);
    double t0 = now();
    if (mlx_closure_apply(out, fun, in)) break;
    mlx_array r = {mlx_vector_node_(out, 0)};
    if (mlx_eval(&r, 1)) break;
    double t = now() - t0;
    if (t < best) best = t;
  }
  mlx_vector_array_free(in);
  mlx_vector_array_free(out);
  return best;
}

/* Prints (does not check) the time of GELU on 16M float32 values,
 * compiled and not, with x^3 as power (a libm call per element in both)
 * and as x * x * x. */
TEST(timing_gelu_16m) {
  if (getenv("MLX_SKIP_TIMING")) return;
  fresh_cache();
  int64_t sh[1] = {16 << 20};
  mlx_array x = ramp(sh, 1, -4, 4);
  static const mlx_closure_fn fns[2] = {gelu_fn, gelu_mul_fn};
  static const char* const names[2] = {"power(x, 3)", "x * x * x"};
  for (int v = 0; v < 2; v++) {
    mlx_closure f = mlx_closure_new(fns[v], NULL, NULL), cf;
    CHECK_OK(mlx_compile(&cf, f, 0));
    check_compiled(f, 1, &x, "gelu 16M");
    double t0 = now();
    double first = time_gelu(cf, x); /* the kernel is built by now: best of five */
    (void)first;
    double plain = time_gelu(f, x), fused = time_gelu(cf, x);
    printf("gelu with %s on 16M float32 (%d threads): uncompiled %.1f ms, compiled %.1f ms (%.2fx)\n", names[v],
           mlx_cpu_thread_count(), plain * 1e3, fused * 1e3, plain / fused);
    (void)t0;
    mlx_closure_free(cf);
    mlx_closure_free(f);
  }
  mlx_array_free(x);
  remove_cache();
}

/* A test name as argument runs only that test. */
int main(int argc, char** argv) {
  static const struct {
    const char* name;
    void (*fn)(void);
  } tests[] = {
#define T(name) {#name, test_##name}
      T(concurrent_processes),
      T(errors),
      T(gelu_dtypes_and_shapes),
      T(broadcast_and_strided_inputs),
      T(unary_ops_all_dtypes),
      T(binary_ops_all_dtypes),
      T(astype_all_pairs),
      T(constant_dedupe_and_cse),
      T(multiple_outputs),
      T(constant_capture),
      T(cache_hits),
      T(disable_compile),
      T(randomness),
      T(grad_of_compiled),
      T(no_compiler),
      T(timing_gelu_16m),
#undef T
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    if (argc > 1 && strcmp(argv[1], tests[i].name)) continue;
    harness_tests++;
    tests[i].fn();
  }
  return harness_report();
}
