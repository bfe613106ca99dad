/* Transform rules of the sort and scan primitives and of the compositions
 * built on them (topk, median):
 *
 *  - a table of every op over axes (first, last, negative, flattened),
 *    kth/k from both ends, reverse/inclusive: check_grad (vjp and jvp
 *    against central differences in float64) on inputs without ties, and
 *    check_vmap with in_axes 0, 1 and -1 (argsort/argpartition too);
 *  - cumprod at exact zeros (one and two per row: it is a polynomial, so
 *    finite differences are exact there too);
 *  - values at ties printed once from Python MLX 0.32 (cummax/cummin give
 *    the cotangent to the latest tying element, sort's permutation is
 *    stable);
 *  - searchsorted under vmap with a batched and an unbatched sequence;
 *  - grad of grad (mlx_value_and_grad inside the checked function). */
#include "gradcheck.h"
#include "mlx/sort.h"

enum { SORT, ARGSORT, PART, ARGPART, TOPK, MEDIAN, CUMSUM, CUMPROD, CUMMAX, CUMMIN, LCSE, NOPS };
static const char* op_names[NOPS] = {"sort",   "argsort", "partition", "argpartition", "topk", "median",
                                     "cumsum", "cumprod", "cummax",    "cummin",       "logcumsumexp"};
#define FLAT 99

typedef struct {
  int op;
  int axis; /* FLAT: the flattened form */
  int k;    /* kth / k */
  int reverse, inclusive;
} spec;

static int apply(mlx_array* out, const mlx_array* in, void* ctx) {
  const spec* c = ctx;
  const mlx_array x = in[0];
  int flat = c->axis == FLAT;
  switch (c->op) {
    case SORT: return flat ? mlx_sort_all(out, x, S) : mlx_sort(out, x, c->axis, S);
    case ARGSORT: return flat ? mlx_argsort_all(out, x, S) : mlx_argsort(out, x, c->axis, S);
    case PART: return flat ? mlx_partition_all(out, x, c->k, S) : mlx_partition(out, x, c->k, c->axis, S);
    case ARGPART: return flat ? mlx_argpartition_all(out, x, c->k, S) : mlx_argpartition(out, x, c->k, c->axis, S);
    case TOPK: return flat ? mlx_topk_all(out, x, c->k, S) : mlx_topk(out, x, c->k, c->axis, S);
    case MEDIAN: return flat ? mlx_median(out, x, c->k, S) : mlx_median_axes(out, x, &c->axis, 1, c->k, S);
    default: break;
  }
  int (*fn)(mlx_array*, const mlx_array, int, int, int, const mlx_stream) =
      c->op == CUMSUM    ? mlx_cumsum
      : c->op == CUMPROD ? mlx_cumprod
      : c->op == CUMMAX  ? mlx_cummax
      : c->op == CUMMIN  ? mlx_cummin
                         : mlx_logcumsumexp;
  if (!flat) return fn(out, x, c->axis, c->reverse, c->inclusive, S);
  mlx_array f = mlx_array_new();
  int64_t n = mlx_array_size(x);
  int rc = mlx_reshape(&f, x, &n, 1, S);
  if (!rc) rc = fn(out, f, 0, c->reverse, c->inclusive, S);
  mlx_array_free(f);
  return rc;
}

/* float64 values in [-1, 1), distinct (no ties). */
static mlx_array make_input(const int64_t* shape, int ndim, unsigned seed) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0;
  }
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT64);
  free(v);
  return a;
}

static const spec TABLE[] = {
    {SORT, 0, 0, 0, 0},      {SORT, -1, 0, 0, 0},     {SORT, 1, 0, 0, 0},      {SORT, FLAT, 0, 0, 0},
    {ARGSORT, 1, 0, 0, 0},   {ARGSORT, FLAT, 0, 0, 0}, {PART, -1, 1, 0, 0},    {PART, 0, -1, 0, 0},
    {PART, FLAT, 7, 0, 0},   {ARGPART, 1, 2, 0, 0},   {ARGPART, FLAT, -3, 0, 0}, {TOPK, -1, 2, 0, 0},
    {TOPK, 1, 1, 0, 0},      {TOPK, FLAT, 5, 0, 0},   {MEDIAN, -1, 0, 0, 0},   {MEDIAN, 1, 1, 0, 0},
    {MEDIAN, FLAT, 0, 0, 0}, {CUMSUM, 0, 0, 0, 1},    {CUMSUM, -1, 0, 1, 0},   {CUMSUM, FLAT, 0, 1, 1},
    {CUMPROD, -1, 0, 0, 1},  {CUMPROD, 1, 0, 1, 0},   {CUMPROD, 0, 0, 1, 1},   {CUMPROD, FLAT, 0, 0, 0},
    {CUMMAX, -1, 0, 0, 1},   {CUMMAX, 1, 0, 1, 1},    {CUMMAX, 0, 0, 0, 0},    {CUMMAX, -1, 0, 1, 0},
    {CUMMIN, -1, 0, 0, 1},   {CUMMIN, 1, 0, 1, 0},    {CUMMIN, FLAT, 0, 1, 1}, {LCSE, -1, 0, 0, 1},
    {LCSE, 0, 0, 1, 0},      {LCSE, 1, 0, 0, 0},      {LCSE, FLAT, 0, 1, 1},
};
#define NTABLE (sizeof TABLE / sizeof TABLE[0])

/* apply with infinite outputs (the exclusive starts of cummax, cummin,
 * logcumsumexp) replaced by 0: a constant there, so the derivatives are
 * unchanged, and finite differences and comparisons stay finite. */
static int apply_finite(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array y = mlx_array_new(), inf = mlx_array_new(), zero = mlx_array_new();
  int rc = apply(&y, in, ctx);
  if (!rc && mlx_dtype_is_floating(mlx_array_dtype(y))) {
    rc = mlx_isinf(&inf, y, S);
    if (!rc) rc = mlx_array_new_float(&zero, 0.0, mlx_array_dtype(y));
    if (!rc) rc = mlx_where(out, inf, zero, y, S);
  } else if (!rc) {
    rc = mlx_array_set(out, y);
  }
  mlx_array_free(y), mlx_array_free(inf), mlx_array_free(zero);
  return rc;
}

static void spec_name(char* buf, size_t cap, const spec* c) {
  snprintf(buf, cap, "%s axis %d k %d rev %d inc %d", op_names[c->op], c->axis, c->k, c->reverse, c->inclusive);
}

TEST(grad_table) {
  int64_t shape[3] = {2, 3, 4};
  for (size_t i = 0; i < NTABLE; i++) {
    const spec* c = &TABLE[i];
    if (c->op == ARGSORT || c->op == ARGPART) continue;
    mlx_array x = make_input(shape, 3, 7u + (unsigned)i);
    char name[96];
    spec_name(name, sizeof name, c);
    check_grad(name, apply_finite, (void*)c, &x, 1);
    mlx_array_free(x);
  }
}

TEST(vmap_table) {
  int64_t shape[4] = {3, 2, 3, 4};
  int in_axes[3] = {0, 1, -1};
  for (size_t i = 0; i < NTABLE; i++) {
    const spec* c = &TABLE[i];
    for (int a = 0; a < 3; a++) {
      /* the batch axis of size 3 sits at position in_axes[a] */
      int64_t sh[4];
      int b = in_axes[a] < 0 ? 3 : in_axes[a];
      for (int d = 0, j = 1; d < 4; d++) sh[d] = d == b ? 3 : shape[j++];
      mlx_array x = make_input(sh, 4, 101u + (unsigned)i);
      char name[96];
      spec_name(name, sizeof name, c);
      check_vmap(name, apply_finite, (void*)c, &x, &in_axes[a], 1);
      mlx_array_free(x);
    }
  }
}

TEST(cumprod_zeros) {
  /* one zero and two zeros per row, and a zero at a row's start */
  double v[] = {0.5, 0, 2, -1.5, 0.7, 0, 3, 0, 1.2, -0.4, 0, 0.9, 1.1, 2, -3};
  int64_t sh[] = {3, 5};
  mlx_array x = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&x, v, sh, 2, MLX_FLOAT64));
  for (int rev = 0; rev < 2; rev++)
    for (int inc = 0; inc < 2; inc++) {
      spec c = {CUMPROD, -1, 0, rev, inc};
      char name[96];
      spec_name(name, sizeof name, &c);
      check_grad(name, apply, &c, &x, 1);
    }
  /* Python MLX 0.32: grad of sum(cumprod([1, 0, 2, 0, 3])) = [1, 3, 0, 0, 0] */
  double w[] = {1, 0, 2, 0, 3};
  int64_t s5[] = {5};
  mlx_array y = mlx_array_new(), g = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&y, w, s5, 1, MLX_FLOAT64));
  spec c = {CUMPROD, 0, 0, 0, 1};
  op_closure oc = {apply, &c, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new(),
                   cots = mlx_vector_array_new();
  mlx_array ones = mlx_array_new();
  CHECK_OK(mlx_ones(&ones, s5, 1, MLX_FLOAT64, S));
  mlx_vector_array_append(prim, y);
  mlx_vector_array_append(cots, ones);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  CHECK_OK(mlx_vector_array_get(&g, vjps, 0));
  double got[5];
  CHECK(read_f64(got, 5, g) == 5);
  CHECK(got[0] == 1 && got[1] == 3 && got[2] == 0 && got[3] == 0 && got[4] == 0);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(g), mlx_array_free(ones);
}

/* vjp of op at x (1-D) with cotangent w, into got (n values). */
static int vjp_values(double* got, spec* c, const double* xv, const double* wv, int64_t n) {
  op_closure oc = {apply, c, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new(),
                   cots = mlx_vector_array_new();
  mlx_array x = mlx_array_new(), w = mlx_array_new(), g = mlx_array_new();
  mlx_array_new_data(&x, xv, &n, 1, MLX_FLOAT64);
  mlx_array_new_data(&w, wv, &n, 1, MLX_FLOAT64);
  mlx_vector_array_append(prim, x);
  mlx_vector_array_append(cots, w);
  int rc = mlx_vjp(outs, vjps, f, prim, cots);
  if (!rc) rc = mlx_vector_array_get(&g, vjps, 0);
  if (!rc && read_f64(got, n, g) != n) rc = 1;
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
  mlx_array_free(x), mlx_array_free(w), mlx_array_free(g);
  return rc;
}

TEST(ties_match_upstream) {
  /* Python MLX 0.32, x = [1, 3, 2, 3, 0.5], cotangent [1, 2, 3, 4, 5] */
  double x[] = {1, 3, 2, 3, 0.5}, w[] = {1, 2, 3, 4, 5}, got[5];
  struct {
    int op, rev, inc;
    double want[5];
  } cases[] = {
      {CUMMAX, 0, 1, {1, 5, 0, 9, 0}},  {CUMMAX, 0, 0, {2, 7, 0, 5, 0}},  {CUMMAX, 1, 1, {0, 3, 0, 7, 5}},
      {CUMMAX, 1, 0, {0, 1, 0, 5, 4}},  {CUMMIN, 0, 1, {10, 0, 0, 0, 5}}, {CUMMIN, 0, 0, {14, 0, 0, 0, 0}},
      {CUMMIN, 1, 1, {0, 0, 0, 0, 15}}, {CUMMIN, 1, 0, {0, 0, 0, 0, 10}}, {CUMSUM, 1, 0, {0, 1, 3, 6, 10}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    spec c = {cases[i].op, 0, 0, cases[i].rev, cases[i].inc};
    CHECK_OK(vjp_values(got, &c, x, w, 5));
    int ok = 1;
    for (int j = 0; j < 5; j++) ok &= got[j] == cases[i].want[j];
    if (!ok) fprintf(stderr, "  case %zu: got %g %g %g %g %g\n", i, got[0], got[1], got[2], got[3], got[4]);
    CHECK(ok);
  }
  /* sort of [1, 0, 2, 0, 3] (stable): [3, 1, 4, 2, 5]; partition kth 2:
   * [3, 2, 4, 1, 5]; median: [1, 0, 0, 0, 0] */
  double y[] = {1, 0, 2, 0, 3};
  spec s = {SORT, 0, 0, 0, 0}, p = {PART, 0, 2, 0, 0};
  CHECK_OK(vjp_values(got, &s, y, w, 5));
  CHECK(got[0] == 3 && got[1] == 1 && got[2] == 4 && got[3] == 2 && got[4] == 5);
  CHECK_OK(vjp_values(got, &p, y, w, 5));
  CHECK(got[0] == 3 && got[1] == 2 && got[2] == 4 && got[3] == 1 && got[4] == 5);
}

/* searchsorted(in[0] row-sorted, in[1]) */
static int search(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_searchsorted(out, in[0], in[1], *(int*)ctx, S);
}

TEST(searchsorted_vmap) {
  double seq[] = {-1, 0, 0.5, 2, -3, -2, 1, 1, 0, 0.25, 0.5, 3};
  double vals[] = {0.5, -2, 1, 3, 0, -5, 2, 1, 0.25};
  int64_t ss[] = {3, 4}, vs[] = {3, 3}, s4[] = {4};
  mlx_array a = mlx_array_new(), v = mlx_array_new(), a1 = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, seq, ss, 2, MLX_FLOAT64));
  CHECK_OK(mlx_array_new_data(&v, vals, vs, 2, MLX_FLOAT64));
  CHECK_OK(mlx_array_new_data(&a1, seq, s4, 1, MLX_FLOAT64));
  for (int right = 0; right < 2; right++) {
    mlx_array in[2] = {a, v};
    int both[2] = {0, 0}, seq_only[2] = {0, MLX_VMAP_NONE}, vals_only[2] = {MLX_VMAP_NONE, 1};
    check_vmap("searchsorted batched", search, &right, in, both, 2);
    check_vmap("searchsorted batched sequence", search, &right, in, seq_only, 2);
    mlx_array in1[2] = {a1, v};
    check_vmap("searchsorted batched values", search, &right, in1, vals_only, 2);
  }
  mlx_array_free(a), mlx_array_free(v), mlx_array_free(a1);
}

/* sum(w * op(x)) with its gradient taken inside: what check_grad
 * differentiates again. */
static int weighted(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = mlx_array_new(), y = mlx_array_new(), w = mlx_array_new(), p = mlx_array_new(),
            s = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = apply_finite(&y, &x, payload);
  if (!rc) rc = mlx_arange(&w, 1, 1 + (double)mlx_array_dim(y, -1), 1, MLX_FLOAT64, S);
  if (!rc) rc = mlx_multiply(&p, y, w, S);
  if (!rc) rc = mlx_multiply(&s, p, p, S);
  mlx_array t = mlx_array_new();
  if (!rc) rc = mlx_sum(&t, s, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, t);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(w), mlx_array_free(p), mlx_array_free(s);
  mlx_array_free(t);
  return rc;
}

static int grad_of(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_closure g = mlx_closure_new(weighted, ctx, NULL);
  mlx_vector_array args = mlx_vector_array_new(), vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  mlx_vector_array_append(args, in[0]);
  int argnum = 0;
  int rc = mlx_value_and_grad(vals, grads, g, args, &argnum, 1);
  if (!rc) rc = mlx_vector_array_get(out, grads, 0);
  mlx_vector_array_free(args), mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  mlx_closure_free(g);
  return rc;
}

TEST(grad_of_grad) {
  int64_t shape[2] = {3, 4};
  spec specs[] = {{SORT, -1, 0, 0, 0},   {CUMSUM, -1, 0, 1, 1}, {CUMPROD, -1, 0, 0, 1},
                  {CUMMAX, -1, 0, 0, 1}, {LCSE, -1, 0, 1, 0},   {TOPK, -1, 2, 0, 0},
                  {LCSE, -1, 0, 0, 1}};
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    mlx_array x = make_input(shape, 2, 31u + (unsigned)k);
    char name[96], base[80];
    spec_name(base, sizeof base, &specs[k]);
    snprintf(name, sizeof name, "grad of grad of %s", base);
    /* exp and log of float64 are float32-accurate (as upstream's), so the
     * logcumsumexp rules' second derivatives need a wider step */
    if (specs[k].op == LCSE) check_grad_eps(name, grad_of, &specs[k], &x, 1, 1e-3, 2e-3);
    else check_grad(name, grad_of, &specs[k], &x, 1);
    mlx_array_free(x);
  }
}

int main(void) {
  RUN(grad_table);
  RUN(vmap_table);
  RUN(cumprod_zeros);
  RUN(ties_match_upstream);
  RUN(searchsorted_vmap);
  RUN(grad_of_grad);
  return harness_report();
}
