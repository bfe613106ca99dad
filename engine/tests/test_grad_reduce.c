/* Transform rules of the reductions: sum, prod, max, min, all, any, mean,
 * var, std, logsumexp, softmax, argmax, argmin.
 *
 *  - a table of every op over several axis sets (all axes, one, a negative
 *    one, two, an explicit full list), keepdims true and false, ddof 0 and
 *    1 for var/std: check_grad (vjp and jvp against central differences in
 *    float64) and check_vmap with in_axes 0, 1 and -1;
 *  - values at the non-smooth and edge points, printed once from Python
 *    mlx 0.32 and pasted: max/min ties (the vjp splits the cotangent evenly,
 *    the jvp takes the first extreme), prod with zeros, var/std with
 *    ddof >= n, std of a constant, logsumexp and softmax;
 *  - non-differentiable ops give zeros; gradient dtypes; empty arrays;
 *    0-d inputs and batches of scalars; transposed (strided) inputs;
 *    vmap output dtypes and batch axes (the dtype-sensitive softmax);
 *  - grad of grad (mlx_value_and_grad inside the checked function) for sum,
 *    mean, logsumexp, softmax, var and prod. */
#include "gradcheck.h"

enum { SUM, PROD, MAX, MIN, ALL, ANY, MEAN, VAR, STD, LSE, SOFTMAX, ARGMAX, ARGMIN, NOPS };
static const char* op_names[NOPS] = {"sum", "prod", "max", "min", "all", "any", "mean",
                                     "var", "std", "logsumexp", "softmax", "argmax", "argmin"};

typedef struct {
  int op;
  int naxes; /* -1: the plain form (all axes; argmax/argmin: flattened) */
  int axes[3];
  int keepdims;
  int ddof;
} red_spec;

/* The op of spec on in[0]. */
static int apply(mlx_array* out, const mlx_array* in, void* ctx) {
  const red_spec* c = ctx;
  const mlx_array x = in[0];
  int all = c->naxes < 0, kd = c->keepdims;
  size_t n = all ? 0 : (size_t)c->naxes;
  const int* ax = c->axes;
  switch (c->op) {
    case SUM:
      return all ? mlx_sum(out, x, kd, S) : mlx_sum_axes(out, x, ax, n, kd, S);
    case PROD:
      return all ? mlx_prod(out, x, kd, S) : mlx_prod_axes(out, x, ax, n, kd, S);
    case MAX:
      return all ? mlx_max(out, x, kd, S) : mlx_max_axes(out, x, ax, n, kd, S);
    case MIN:
      return all ? mlx_min(out, x, kd, S) : mlx_min_axes(out, x, ax, n, kd, S);
    case ALL:
      return all ? mlx_all(out, x, kd, S) : mlx_all_axes(out, x, ax, n, kd, S);
    case ANY:
      return all ? mlx_any(out, x, kd, S) : mlx_any_axes(out, x, ax, n, kd, S);
    case MEAN:
      return all ? mlx_mean(out, x, kd, S) : mlx_mean_axes(out, x, ax, n, kd, S);
    case VAR:
      return all ? mlx_var(out, x, kd, c->ddof, S) : mlx_var_axes(out, x, ax, n, kd, c->ddof, S);
    case STD:
      return all ? mlx_std(out, x, kd, c->ddof, S) : mlx_std_axes(out, x, ax, n, kd, c->ddof, S);
    case LSE:
      return all ? mlx_logsumexp(out, x, kd, S) : mlx_logsumexp_axes(out, x, ax, n, kd, S);
    case SOFTMAX:
      return all ? mlx_softmax(out, x, 0, S) : mlx_softmax_axes(out, x, ax, n, 0, S);
    case ARGMAX:
      return all ? mlx_argmax(out, x, kd, S) : mlx_argmax_axis(out, x, ax[0], kd, S);
    default:
      return all ? mlx_argmin(out, x, kd, S) : mlx_argmin_axis(out, x, ax[0], kd, S);
  }
}

/* A float64 array of the given shape with distinct values in [-1, 1)
 * (no ties, so max/min and argmax are smooth), or, with zero_every > 0,
 * every zero_every-th element exactly 0 (for all/any). */
static mlx_array make_input(const int64_t* shape, int ndim, unsigned seed, int zero_every) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  double* v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0;
    if (zero_every > 0 && i % zero_every == 0) v[i] = 0;
  }
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_FLOAT64);
  free(v);
  return a;
}

static mlx_array from_f32(const float* v, const int64_t* shape, int ndim, mlx_dtype dt) {
  mlx_array a = arr_f32(v, shape, ndim), b = mlx_array_new();
  if (dt == MLX_FLOAT32) return a;
  mlx_astype(&b, a, dt, S);
  mlx_array_free(a);
  return b;
}

/* The table: every op over the axis sets of a (2, 3, 4) input. */
typedef struct {
  int naxes;
  int axes[3];
} axis_set;

static const axis_set sets[] = {{-1, {0}}, {1, {1}}, {1, {-1}}, {2, {0, 2}}, {3, {2, 0, 1}}};
static const axis_set arg_sets[] = {{-1, {0}}, {1, {1}}, {1, {-1}}, {1, {0}}};

static int spec_count(int op) {
  if (op == ARGMAX || op == ARGMIN) return (int)(sizeof arg_sets / sizeof arg_sets[0]);
  return (int)(sizeof sets / sizeof sets[0]);
}

static void describe(char* buf, size_t n, const red_spec* c) {
  int k = snprintf(buf, n, "%s axes=", op_names[c->op]);
  if (c->naxes < 0) k += snprintf(buf + k, n - (size_t)k, "all");
  for (int i = 0; i < c->naxes; i++) k += snprintf(buf + k, n - (size_t)k, "%s%d", i ? "," : "", c->axes[i]);
  snprintf(buf + k, n - (size_t)k, " keepdims=%d ddof=%d", c->keepdims, c->ddof);
}

/* Runs f(spec) over the table. */
static void for_each_spec(void (*f)(const red_spec*)) {
  for (int op = 0; op < NOPS; op++)
    for (int si = 0; si < spec_count(op); si++)
      for (int kd = 0; kd <= (op == SOFTMAX ? 0 : 1); kd++)
        for (int ddof = 0; ddof <= (op == VAR || op == STD ? 1 : 0); ddof++) {
          const axis_set* as = op == ARGMAX || op == ARGMIN ? &arg_sets[si] : &sets[si];
          red_spec c = {op, as->naxes, {as->axes[0], as->axes[1], as->axes[2]}, kd, ddof};
          f(&c);
        }
}

static void grad_one(const red_spec* c) {
  int64_t shape[3] = {2, 3, 4};
  /* prod of values in [-1, 1) is tiny: shift them to [0.5, 2.5) */
  mlx_array x = make_input(shape, 3, 7u + (unsigned)c->op, 0);
  if (c->op == PROD) {
    mlx_array off = mlx_array_new(), y = mlx_array_new();
    mlx_array_new_float(&off, 1.5, MLX_FLOAT64);
    mlx_add(&y, x, off, S);
    mlx_array_set(&x, y);
    mlx_array_free(off), mlx_array_free(y);
  }
  char name[96];
  describe(name, sizeof name, c);
  check_grad(name, apply, (void*)c, &x, 1);
  mlx_array_free(x);
}

TEST(grad_table) {
  for_each_spec(grad_one);
}

static void vmap_one(const red_spec* c) {
  /* batch of 3 around a (2, 3, 4) example, at axes 0, 1 and last */
  static const int64_t shapes[3][4] = {{3, 2, 3, 4}, {2, 3, 3, 4}, {2, 3, 4, 3}};
  static const int in_axes[3] = {0, 1, -1};
  char name[128];
  for (int k = 0; k < 3; k++) {
    int zeros = c->op == ALL || c->op == ANY ? 5 : 0;
    mlx_array x = make_input(shapes[k], 4, 11u + (unsigned)c->op, zeros);
    describe(name, sizeof name, c);
    int len = (int)strlen(name);
    snprintf(name + len, sizeof name - (size_t)len, " in_axis=%d", in_axes[k]);
    check_vmap(name, apply, (void*)c, &x, &in_axes[k], 1);
    mlx_array_free(x);
  }
}

TEST(vmap_table) {
  for_each_spec(vmap_one);
}

/* ---- values at ties, zeros and edges (from Python mlx 0.32) -------------- */

/* vjp of apply(spec) at x with cotangent cot into *g. */
static int vjp_of(mlx_array* g, red_spec* c, mlx_array x, mlx_array cot) {
  op_closure oc = {apply, c, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), cots = mlx_vector_array_new(), outs = mlx_vector_array_new(),
                   vjps = mlx_vector_array_new();
  mlx_vector_array_append(prim, x);
  mlx_vector_array_append(cots, cot);
  int rc = mlx_vjp(outs, vjps, f, prim, cots);
  if (!rc) rc = mlx_vector_array_get(g, vjps, 0);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_closure_free(f);
  return rc;
}

/* jvp of apply(spec) at x along t into *j. */
static int jvp_of(mlx_array* j, red_spec* c, mlx_array x, mlx_array t) {
  op_closure oc = {apply, c, 1};
  mlx_closure f = mlx_closure_new(op_closure_call, &oc, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), tans = mlx_vector_array_new(), outs = mlx_vector_array_new(),
                   jvps = mlx_vector_array_new();
  mlx_vector_array_append(prim, x);
  mlx_vector_array_append(tans, t);
  int rc = mlx_jvp(outs, jvps, f, prim, tans);
  if (!rc) rc = mlx_vector_array_get(j, jvps, 0);
  mlx_vector_array_free(prim), mlx_vector_array_free(tans), mlx_vector_array_free(outs), mlx_vector_array_free(jvps);
  mlx_closure_free(f);
  return rc;
}

/* The cotangent of all ones shaped like apply(spec, x). */
static mlx_array ones_out(red_spec* c, mlx_array x) {
  mlx_array y = mlx_array_new(), o = mlx_array_new();
  apply(&y, &x, c);
  mlx_ones_like(&o, y, S);
  mlx_array_free(y);
  return o;
}

TEST(max_min_ties) {
  int64_t s23[2] = {2, 3};
  float xv[6] = {1, 3, 3, 2, 0, 2}, tv[6] = {1, 2, 3, 4, 5, 6};
  mlx_array x = arr_f32(xv, s23, 2), t = arr_f32(tv, s23, 2);
  red_spec mx1 = {MAX, 1, {1}, 0, 0}, mn1 = {MIN, 1, {1}, 0, 0};
  mlx_array g = mlx_array_new(), j = mlx_array_new(), cot = ones_out(&mx1, x);
  /* mx.grad(lambda x: mx.max(x, axis=1).sum())(x): ties share evenly */
  CHECK_OK(vjp_of(&g, &mx1, x, cot));
  double eg[6] = {0, 0.5, 0.5, 0.5, 0, 0.5};
  CHECK_VALUES(g, eg, 6, 1e-7);
  /* mx.jvp(lambda x: mx.max(x, axis=1), [x], [t]): the first maximum */
  CHECK_OK(jvp_of(&j, &mx1, x, t));
  double ej[2] = {2, 4};
  CHECK_VALUES(j, ej, 2, 1e-7);
  CHECK_OK(jvp_of(&j, &mn1, x, t));
  double ejn[2] = {1, 5};
  CHECK_VALUES(j, ejn, 2, 1e-7);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(cot);

  /* several axes: the first maximum in row-major order over them */
  int64_t s222[3] = {2, 2, 2};
  float x3v[8] = {5, 1, 5, 5, 0, 2, 2, 0}, t3v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  x = arr_f32(x3v, s222, 3), t = arr_f32(t3v, s222, 3);
  red_spec a02 = {MAX, 2, {0, 2}, 0, 0}, a12 = {MAX, 2, {1, 2}, 0, 0}, a01 = {MAX, 2, {0, 1}, 1, 0},
           all = {MAX, -1, {0}, 0, 0};
  double e02[2] = {1, 3}, e12[2] = {1, 6}, e01[2] = {1, 4};
  CHECK_OK(jvp_of(&j, &a02, x, t));
  CHECK_VALUES(j, e02, 2, 1e-7);
  CHECK_OK(jvp_of(&j, &a12, x, t));
  CHECK_VALUES(j, e12, 2, 1e-7);
  CHECK_OK(jvp_of(&j, &a01, x, t));
  CHECK(mlx_array_ndim(j) == 3 && mlx_array_dim(j, 2) == 2);
  CHECK_VALUES(j, e01, 2, 1e-7);
  /* mx.grad(lambda x: mx.max(x, axis=(0, 1)).sum())(x3) */
  cot = ones_out(&a01, x);
  CHECK_OK(vjp_of(&g, &a01, x, cot));
  double eg01[8] = {0.5, 0, 0.5, 1, 0, 0, 0, 0};
  CHECK_VALUES(g, eg01, 8, 1e-7);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(cot);
  int64_t s22[2] = {2, 2};
  float x2v[4] = {1, 3, 3, 0}, t2v[4] = {1, 2, 3, 4};
  x = arr_f32(x2v, s22, 2), t = arr_f32(t2v, s22, 2);
  double eall[1] = {2};
  CHECK_OK(jvp_of(&j, &all, x, t));
  CHECK_VALUES(j, eall, 1, 1e-7);
  /* an inf tangent elsewhere in the group does not leak into the picked one */
  float tinf[4] = {INFINITY, 2, NAN, 4};
  mlx_array ti = arr_f32(tinf, s22, 2);
  CHECK_OK(jvp_of(&j, &all, x, ti));
  CHECK_VALUES(j, eall, 1, 1e-7);
  mlx_array_free(ti);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(g), mlx_array_free(j);
}

TEST(prod_zeros) {
  int64_t s23[2] = {2, 3};
  float xv[6] = {1, 3, 3, 2, 0, 2}, yv[6] = {0, 0, 3, 2, 0, 2}, tv[6] = {1, 2, 3, 4, 5, 6};
  mlx_array x = arr_f32(xv, s23, 2), y = arr_f32(yv, s23, 2), t = arr_f32(tv, s23, 2);
  red_spec p1 = {PROD, 1, {1}, 0, 0}, pall = {PROD, -1, {0}, 0, 0};
  mlx_array g = mlx_array_new(), j = mlx_array_new(), cot = ones_out(&p1, x);
  /* mx.grad(lambda x: mx.prod(x, axis=1).sum())(x): one zero in row 1 */
  CHECK_OK(vjp_of(&g, &p1, x, cot));
  double eg[6] = {9, 3, 3, 0, 4, 0};
  CHECK_VALUES(g, eg, 6, 1e-7);
  /* two zeros in row 0 of y: its gradient vanishes */
  CHECK_OK(vjp_of(&g, &p1, y, cot));
  double egy[6] = {0, 0, 0, 0, 4, 0};
  CHECK_VALUES(g, egy, 6, 1e-7);
  mlx_array_free(cot);
  cot = ones_out(&pall, y);
  CHECK_OK(vjp_of(&g, &pall, y, cot));
  double ez[6] = {0};
  CHECK_VALUES(g, ez, 6, 0);
  /* mx.jvp(lambda x: mx.prod(x, axis=1), [y], [t]) */
  CHECK_OK(jvp_of(&j, &p1, y, t));
  double ej[2] = {0, 20};
  CHECK_VALUES(j, ej, 2, 1e-7);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(t), mlx_array_free(g), mlx_array_free(j), mlx_array_free(cot);

  /* prod is a polynomial: finite differences are exact enough at zeros */
  int64_t s34[2] = {3, 4};
  double zv[12] = {0, 0.5, -1.5, 2, 0, 0, 1.25, 3, 0.75, -2, 0, 1.5};
  mlx_array z = mlx_array_new();
  mlx_array_new_data(&z, zv, s34, 2, MLX_FLOAT64);
  red_spec cases[4] = {{PROD, 1, {1}, 0, 0}, {PROD, 1, {0}, 1, 0}, {PROD, -1, {0}, 0, 0}, {PROD, 2, {0, 1}, 1, 0}};
  for (int k = 0; k < 4; k++) check_grad("prod with zeros", apply, &cases[k], &z, 1);
  mlx_array_free(z);
}

TEST(var_std_edges) {
  int64_t s23[2] = {2, 3};
  float xv[6] = {1, 3, 3, 2, 0, 2}, tv[6] = {1, 2, 3, 4, 5, 6};
  mlx_array x = arr_f32(xv, s23, 2), t = arr_f32(tv, s23, 2);
  mlx_array g = mlx_array_new(), j = mlx_array_new();
  red_spec v3 = {VAR, -1, {0}, 0, 3}, v6 = {VAR, -1, {0}, 0, 6}, v7 = {VAR, -1, {0}, 0, 7};
  mlx_array cot = ones_out(&v3, x);
  /* mx.grad(lambda x: mx.var(x, ddof=3))(x) */
  CHECK_OK(vjp_of(&g, &v3, x, cot));
  double e3[6] = {-0.555556, 0.777778, 0.777778, 0.111111, -1.22222, 0.111111};
  CHECK_VALUES(g, e3, 6, 1e-5);
  /* ddof >= n: upstream divides by max(n - ddof, 0): NaN gradients, and
   * mx.jvp(lambda x: mx.var(x, ddof=6), [x], [t]) is -inf */
  double enan[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, eminf[1] = {-INFINITY};
  CHECK_OK(vjp_of(&g, &v6, x, cot));
  CHECK_VALUES(g, enan, 6, 0);
  CHECK_OK(vjp_of(&g, &v7, x, cot));
  CHECK_VALUES(g, enan, 6, 0);
  CHECK_OK(jvp_of(&j, &v6, x, t));
  CHECK_VALUES(j, eminf, 1, 0);
  /* std of a constant: 0/0 (mx.grad(lambda x: mx.std(x))(ones) is NaN) */
  float cv[6] = {2, 2, 2, 2, 2, 2};
  mlx_array c = arr_f32(cv, s23, 2);
  red_spec sd = {STD, 1, {1}, 1, 0};
  mlx_array_free(cot);
  cot = ones_out(&sd, c);
  CHECK_OK(vjp_of(&g, &sd, c, cot));
  CHECK_VALUES(g, enan, 6, 0);
  mlx_array_free(c), mlx_array_free(cot), mlx_array_free(x), mlx_array_free(t), mlx_array_free(g), mlx_array_free(j);
}

TEST(logsumexp_softmax_values) {
  int64_t s23[2] = {2, 3}, s22[2] = {2, 2};
  float xv[6] = {1, 3, 3, 2, 0, 2}, tv[6] = {1, 2, 3, 4, 5, 6};
  mlx_array x = arr_f32(xv, s23, 2), t = arr_f32(tv, s23, 2), two = mlx_array_new();
  mlx_array g = mlx_array_new(), j = mlx_array_new();
  mlx_array_new_float(&two, 2.0, MLX_FLOAT32);
  /* mx.vjp(lambda x: mx.logsumexp(x, axis=(0, 1)), [x], [mx.array(2.)]) */
  red_spec l01 = {LSE, 2, {0, 1}, 0, 0};
  CHECK_OK(vjp_of(&g, &l01, x, two));
  double el[6] = {0.0926674, 0.684725, 0.684725, 0.251896, 0.0340904, 0.251896};
  CHECK_VALUES(g, el, 6, 1e-5);
  /* mx.vjp(lambda x: mx.softmax(x, axis=0), [x], [t]) */
  red_spec s0 = {SOFTMAX, 1, {0}, 0, 0};
  CHECK_OK(vjp_of(&g, &s0, x, t));
  double es[6] = {-0.589836, -0.13553, -0.589836, 0.589836, 0.13553, 0.589836};
  CHECK_VALUES(g, es, 6, 1e-5);
  mlx_array_free(x), mlx_array_free(t);
  /* jvps along axis 0 of [[1, 3], [3, 0]] with t = [[1, 2], [3, 4]] */
  float x2v[4] = {1, 3, 3, 0}, t2v[4] = {1, 2, 3, 4};
  x = arr_f32(x2v, s22, 2), t = arr_f32(t2v, s22, 2);
  red_spec l0 = {LSE, 1, {0}, 0, 0};
  CHECK_OK(jvp_of(&j, &l0, x, t));
  double ejl[2] = {2.76159, 2.09485};
  CHECK_VALUES(j, ejl, 2, 1e-5);
  CHECK_OK(jvp_of(&j, &s0, x, t));
  double ejs[4] = {-0.209987, -0.0903534, 0.209987, 0.0903533};
  CHECK_VALUES(j, ejs, 4, 1e-5);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(two), mlx_array_free(g), mlx_array_free(j);
}

TEST(non_differentiable_zero) {
  int64_t s23[2] = {2, 3};
  float xv[6] = {1, 3, 3, 2, 0, 2}, tv[6] = {1, 2, 3, 4, 5, 6};
  mlx_array x = arr_f32(xv, s23, 2), t = arr_f32(tv, s23, 2);
  red_spec specs[4] = {{ALL, 1, {0}, 0, 0}, {ANY, -1, {0}, 1, 0}, {ARGMAX, 1, {0}, 0, 0}, {ARGMIN, -1, {0}, 0, 0}};
  double zeros[6] = {0};
  for (int k = 0; k < 4; k++) {
    mlx_array g = mlx_array_new(), j = mlx_array_new(), cot = ones_out(&specs[k], x);
    CHECK_OK(vjp_of(&g, &specs[k], x, cot));
    CHECK(mlx_array_ndim(g) == 2 && mlx_array_dim(g, 0) == 2 && mlx_array_dim(g, 1) == 3);
    CHECK_VALUES(g, zeros, 6, 0);
    CHECK_OK(jvp_of(&j, &specs[k], x, t));
    mlx_array y = mlx_array_new();
    apply(&y, &x, &specs[k]);
    /* zero tangents of the output's shape and dtype (uint32 for argmax, as upstream) */
    CHECK(mlx_array_size(j) == mlx_array_size(y) && mlx_array_dtype(j) == mlx_array_dtype(y));
    CHECK_VALUES(j, zeros, (int)mlx_array_size(y), 0);
    mlx_array_free(g), mlx_array_free(j), mlx_array_free(cot), mlx_array_free(y);
  }
  mlx_array_free(x), mlx_array_free(t);
}

/* Gradients keep the half-precision dtypes (no promotion through the
 * scalars and counts the rules use). */
TEST(gradient_dtypes) {
  int64_t s23[2] = {2, 3};
  float xv[6] = {1, 3, 3, 2, 0.5f, 2};
  mlx_dtype dts[2] = {MLX_FLOAT16, MLX_BFLOAT16};
  int ops[7] = {SUM, MEAN, PROD, MAX, VAR, STD, LSE};
  for (int d = 0; d < 2; d++) {
    mlx_array x = from_f32(xv, s23, 2, dts[d]);
    for (int k = 0; k < 7; k++) {
      red_spec c = {ops[k], 1, {1}, 0, 0};
      mlx_array g = mlx_array_new(), cot = ones_out(&c, x);
      CHECK_OK(vjp_of(&g, &c, x, cot));
      CHECK(mlx_array_dtype(g) == dts[d]);
      mlx_array_free(g), mlx_array_free(cot);
    }
    mlx_array_free(x);
  }
  /* mean of integers: a float32 gradient, 1/n each */
  int64_t s4[1] = {4};
  int32_t iv[4] = {1, 2, 3, 4};
  mlx_array xi = mlx_array_new(), g = mlx_array_new();
  mlx_array_new_data(&xi, iv, s4, 1, MLX_INT32);
  red_spec m = {MEAN, -1, {0}, 0, 0};
  mlx_array cot = ones_out(&m, xi);
  CHECK_OK(vjp_of(&g, &m, xi, cot));
  double eq[4] = {0.25, 0.25, 0.25, 0.25};
  CHECK(mlx_array_dtype(g) == MLX_FLOAT32);
  CHECK_VALUES(g, eq, 4, 0);
  mlx_array_free(xi), mlx_array_free(g), mlx_array_free(cot);
}

TEST(empty_arrays) {
  int64_t s03[2] = {0, 3};
  mlx_array x = mlx_array_new(), t = mlx_array_new();
  mlx_zeros(&x, s03, 2, MLX_FLOAT32, S);
  mlx_zeros(&t, s03, 2, MLX_FLOAT32, S);
  /* sum/mean over the empty axis: (3,) outputs, empty gradients */
  red_spec specs[4] = {{SUM, 1, {0}, 0, 0}, {MEAN, 1, {0}, 1, 0}, {PROD, 1, {0}, 0, 0}, {MAX, 1, {1}, 0, 0}};
  for (int k = 0; k < 4; k++) {
    mlx_array g = mlx_array_new(), j = mlx_array_new(), y = mlx_array_new(), cot = ones_out(&specs[k], x);
    CHECK_OK(vjp_of(&g, &specs[k], x, cot));
    CHECK(mlx_array_ndim(g) == 2 && mlx_array_dim(g, 0) == 0 && mlx_array_dim(g, 1) == 3);
    CHECK_OK(jvp_of(&j, &specs[k], x, t));
    apply(&y, &x, &specs[k]);
    CHECK(mlx_array_ndim(j) == mlx_array_ndim(y) && mlx_array_size(j) == mlx_array_size(y));
    /* the tangent of an empty sum or product is 0 (mean's is NaN, max's empty) */
    double zero3[3] = {0, 0, 0};
    if (specs[k].op == SUM || specs[k].op == PROD) CHECK_VALUES(j, zero3, (int)mlx_array_size(y), 0);
    mlx_array_free(g), mlx_array_free(j), mlx_array_free(y), mlx_array_free(cot);
  }
  mlx_array_free(x), mlx_array_free(t);
}

/* vmap: output dtypes match the per-example op, and the batch axis lands
 * where the out_axes ask. */
static int identity_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  red_spec* c = payload;
  mlx_array x = mlx_array_new(), y = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = apply(&y, &x, c);
  if (!rc) rc = mlx_vector_array_append(outputs, y);
  mlx_array_free(x), mlx_array_free(y);
  return rc;
}

TEST(vmap_dtypes_and_axes) {
  /* softmax over the last axis of int32 examples is float32; with the
   * batch axis last the rule keeps it a last-axis softmax */
  int64_t s[3] = {2, 3, 4};
  int32_t v[24];
  for (int i = 0; i < 24; i++) v[i] = (i * 7) % 5;
  mlx_array x = mlx_array_new();
  mlx_array_new_data(&x, v, s, 3, MLX_INT32);
  red_spec sm = {SOFTMAX, 1, {-1}, 0, 0};
  mlx_closure f = mlx_closure_new(identity_closure, &sm, NULL);
  mlx_vector_array in = mlx_vector_array_new(), outs = mlx_vector_array_new();
  mlx_vector_array_append(in, x);
  int in_axis = -1, out_axis = -1;
  CHECK_OK(mlx_vmap(outs, f, in, &in_axis, 1, &out_axis, 1));
  mlx_array o = mlx_array_new();
  mlx_vector_array_get(&o, outs, 0);
  CHECK(mlx_array_dtype(o) == MLX_FLOAT32);
  CHECK(mlx_array_ndim(o) == 3 && mlx_array_dim(o, 0) == 2 && mlx_array_dim(o, 1) == 3 && mlx_array_dim(o, 2) == 4);
  /* o[0, :, 0] is the softmax of x[0, :, 0] = (0, 3, 1): python mx.softmax(mx.array([0, 3, 1])) */
  double row[24];
  CHECK(read_f64(row, 24, o) == 24);
  CHECK(fabs(row[0] - 0.0420101) < 1e-6 && fabs(row[4] - 0.843795) < 1e-6 && fabs(row[8] - 0.114195) < 1e-6);
  mlx_array_free(o);
  o = mlx_array_new();
  mlx_closure_free(f);
  /* argmax over the flattened example, keepdims: batch axis 1 of a
   * (2, 3, 4) input gives a (3, 1, 1) result */
  red_spec am = {ARGMAX, -1, {0}, 1, 0};
  f = mlx_closure_new(identity_closure, &am, NULL);
  mlx_vector_array_clear(outs);
  in_axis = 1, out_axis = 0;
  CHECK_OK(mlx_vmap(outs, f, in, &in_axis, 1, &out_axis, 1));
  mlx_vector_array_get(&o, outs, 0);
  CHECK(mlx_array_dtype(o) == MLX_UINT32 && mlx_array_ndim(o) == 3 && mlx_array_dim(o, 0) == 3 &&
        mlx_array_dim(o, 1) == 1 && mlx_array_dim(o, 2) == 1);
  mlx_array_free(o);
  o = mlx_array_new();
  mlx_closure_free(f);
  /* sum over axis 0 without keepdims and the batch axis after it: the
   * output keeps the example axes in order, out_axes -1 puts the batch last */
  red_spec su = {SUM, 1, {0}, 0, 0};
  f = mlx_closure_new(identity_closure, &su, NULL);
  mlx_vector_array_clear(outs);
  in_axis = 1, out_axis = -1;
  CHECK_OK(mlx_vmap(outs, f, in, &in_axis, 1, &out_axis, 1));
  mlx_vector_array_get(&o, outs, 0);
  CHECK(mlx_array_ndim(o) == 2 && mlx_array_dim(o, 0) == 4 && mlx_array_dim(o, 1) == 3);
  /* o[k, b] = sum_i x[i, b, k]: o[0, 0] = x[0,0,0] + x[1,0,0] */
  double sv[12];
  CHECK(read_f64(sv, 12, o) == 12);
  CHECK(sv[0] == v[0] + v[12] && sv[1] == v[4] + v[16]);
  mlx_array_free(o);
  o = mlx_array_new();
  mlx_closure_free(f);
  mlx_vector_array_free(in), mlx_vector_array_free(outs);
  mlx_array_free(x);
}

/* Scalar examples: 0-d inputs (var/std/logsumexp/softmax still record a
 * node with no reduced axes) and vmap over a (3,) batch of scalars. */
TEST(scalar_examples) {
  red_spec specs[6] = {{VAR, -1, {0}, 0, 0},    {STD, -1, {0}, 1, 0},    {LSE, -1, {0}, 0, 0},
                       {SOFTMAX, -1, {0}, 0, 0}, {ARGMAX, -1, {0}, 1, 0}, {MEAN, -1, {0}, 0, 0}};
  mlx_array x0 = mlx_array_new();
  mlx_array_new_float(&x0, 0.75, MLX_FLOAT64);
  int64_t s3[1] = {3};
  mlx_array xb = make_input(s3, 1, 5u, 0);
  int in_axis = 0;
  for (int k = 0; k < 6; k++) {
    char name[96];
    describe(name, sizeof name, &specs[k]);
    /* std of a scalar is 0, whose derivative is NaN (upstream too) */
    if (specs[k].op != STD) check_grad(name, apply, &specs[k], &x0, 1);
    check_vmap(name, apply, &specs[k], &xb, &in_axis, 1);
  }
  mlx_array_free(x0), mlx_array_free(xb);
}

/* Rules see strided inputs: the reduction of a transposed view. */
static int transposed_apply(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array t = mlx_array_new();
  int rc = mlx_transpose(&t, in[0], NULL, 0, S);
  if (!rc) rc = apply(out, &t, ctx);
  mlx_array_free(t);
  return rc;
}

TEST(strided_inputs) {
  int64_t shape[3] = {4, 3, 2};
  red_spec specs[6] = {{SUM, 1, {1}, 0, 0}, {MAX, 2, {0, 2}, 1, 0}, {VAR, 1, {1}, 0, 1},
                       {LSE, 1, {0}, 0, 0}, {SOFTMAX, 1, {1}, 0, 0}, {PROD, -1, {0}, 0, 0}};
  mlx_array x = make_input(shape, 3, 3u, 0);
  for (int k = 0; k < 6; k++) {
    char name[96];
    describe(name, sizeof name, &specs[k]);
    check_grad(name, transposed_apply, &specs[k], &x, 1);
  }
  mlx_array_free(x);
}

/* ---- grad of grad ---------------------------------------------------------- */

/* G(x), a scalar built around one reduction, whose Hessian is not zero:
 *   sum:       sum(sum(x, axis 1)^2)
 *   mean:      sum(mean(x, axes 0, 2)^2)
 *   logsumexp: sum(logsumexp(x, axis 1))
 *   softmax:   sum(softmax(x, axis -1) * w)
 *   var:       sum(var(x, axis 1, ddof 1) * w)
 *   prod:      sum(prod(x, axis 0))  */
static int second_order_g(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  int op = *(int*)payload;
  mlx_array x = mlx_array_new(), r = mlx_array_new(), q = mlx_array_new(), w = mlx_array_new(), y = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  int ax1 = 1, ax02[2] = {0, 2}, last = -1, ax0 = 0;
  if (!rc) {
    switch (op) {
      case SUM:
        rc = mlx_sum_axes(&r, x, &ax1, 1, 0, S);
        if (!rc) rc = mlx_square(&q, r, S);
        break;
      case MEAN:
        rc = mlx_mean_axes(&r, x, ax02, 2, 0, S);
        if (!rc) rc = mlx_square(&q, r, S);
        break;
      case LSE:
        rc = mlx_logsumexp_axes(&q, x, &ax1, 1, 0, S);
        break;
      case SOFTMAX: {
        rc = mlx_softmax_axes(&r, x, &last, 1, 0, S);
        if (!rc) rc = mlx_arange(&w, 1, 1 + (double)mlx_array_dim(x, -1), 1, MLX_FLOAT64, S);
        if (!rc) rc = mlx_multiply(&q, r, w, S);
        break;
      }
      case VAR:
        rc = mlx_var_axes(&r, x, &ax1, 1, 0, 1, S);
        if (!rc) rc = mlx_arange(&w, 1, 1 + (double)mlx_array_dim(x, -1), 1, MLX_FLOAT64, S);
        if (!rc) rc = mlx_multiply(&q, r, w, S);
        break;
      default:
        rc = mlx_prod_axes(&q, x, &ax0, 1, 0, S);
    }
  }
  if (!rc) rc = mlx_sum(&y, q, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, y);
  mlx_array_free(x), mlx_array_free(r), mlx_array_free(q), mlx_array_free(w), mlx_array_free(y);
  return rc;
}

/* grad G (x): what check_grad differentiates again. */
static int grad_of_g(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_closure g = mlx_closure_new(second_order_g, ctx, NULL);
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
  int64_t shape[3] = {2, 3, 4};
  int ops[6] = {SUM, MEAN, LSE, SOFTMAX, VAR, PROD};
  for (int k = 0; k < 6; k++) {
    mlx_array x = make_input(shape, 3, 31u + (unsigned)k, 0);
    char name[64];
    snprintf(name, sizeof name, "grad of grad of %s", op_names[ops[k]]);
    check_grad(name, grad_of_g, &ops[k], &x, 1);
    mlx_array_free(x);
  }
}

int main(void) {
  RUN(grad_table);
  RUN(vmap_table);
  RUN(max_min_ties);
  RUN(prod_zeros);
  RUN(var_std_edges);
  RUN(logsumexp_softmax_values);
  RUN(non_differentiable_zero);
  RUN(gradient_dtypes);
  RUN(empty_arrays);
  RUN(vmap_dtypes_and_axes);
  RUN(scalar_examples);
  RUN(strided_inputs);
  RUN(grad_of_grad);
  return harness_report();
}
