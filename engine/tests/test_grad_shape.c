/* Transform rules of the shapes family (reshape, transpose, broadcast_to,
 * slice, slice_update, split, concatenate, pad), the creation ops that
 * take an array (full, tril, triu), matmul and random bits/split: vjp and
 * jvp against finite differences (check_grad), vmap against a loop over
 * the batch (check_vmap) with the batch on axis 0, on other axes and with
 * unbatched operands, grad of grad for matmul, and a few gradients with
 * values printed once with Python mlx 0.32.4 (marked "mlx"). */
#include "gradcheck.h"

static unsigned seed_state = 7;

/* A float64 array of the given shape, values in [-1, 1). */
static mlx_array rnd(const int64_t* shape, int ndim) {
  mlx_array z = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  mlx_array r = gc_random_like(z, &seed_state);
  mlx_array_free(z);
  return r;
}

#define RND(...) rnd((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

static void free_all(mlx_array* a, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(a[i]);
}

/* ---- the ops as op_fn ------------------------------------------------------ */

typedef struct {
  int ndim;
  int64_t shape[8];
} shape_ctx;

static int fn_reshape(mlx_array* out, const mlx_array* in, void* ctx) {
  shape_ctx* c = ctx;
  return mlx_reshape(out, in[0], c->shape, c->ndim, S);
}

static int fn_broadcast(mlx_array* out, const mlx_array* in, void* ctx) {
  shape_ctx* c = ctx;
  return mlx_broadcast_to(out, in[0], c->shape, c->ndim, S);
}

static int fn_full(mlx_array* out, const mlx_array* in, void* ctx) {
  shape_ctx* c = ctx;
  return mlx_full(out, c->shape, c->ndim, in[0], MLX_FLOAT64, S);
}

typedef struct {
  int n;
  int perm[8];
} perm_ctx;

static int fn_transpose(mlx_array* out, const mlx_array* in, void* ctx) {
  perm_ctx* c = ctx;
  return mlx_transpose(out, in[0], c->perm, (size_t)c->n, S);
}

typedef struct {
  int ndim;
  int64_t start[6], stop[6], step[6];
} slice_ctx;

static int fn_slice(mlx_array* out, const mlx_array* in, void* ctx) {
  slice_ctx* c = ctx;
  return mlx_slice(out, in[0], c->start, c->stop, c->step, c->ndim, S);
}

static int fn_slice_update(mlx_array* out, const mlx_array* in, void* ctx) {
  slice_ctx* c = ctx;
  return mlx_slice_update(out, in[0], in[1], c->start, c->stop, c->step, c->ndim, S);
}

/* split, then the pieces listed in `order` concatenated along the axis
 * (pieces left out get no cotangent). */
typedef struct {
  int nidx, axis, norder;
  int64_t idx[4];
  int order[5];
} split_ctx;

static int fn_split(mlx_array* out, const mlx_array* in, void* ctx) {
  split_ctx* c = ctx;
  mlx_array pieces[5], picked[5];
  for (int i = 0; i < 5; i++) pieces[i] = mlx_array_new();
  int rc = mlx_split(pieces, in[0], c->idx, (size_t)c->nidx, c->axis, S);
  for (int i = 0; i < c->norder; i++) picked[i] = pieces[c->order[i]];
  if (!rc) rc = mlx_concatenate(out, picked, (size_t)c->norder, c->axis, S);
  free_all(pieces, 5);
  return rc;
}

typedef struct {
  int axis, n;
} cat_ctx;

static int fn_concat(mlx_array* out, const mlx_array* in, void* ctx) {
  cat_ctx* c = ctx;
  return mlx_concatenate(out, in, (size_t)c->n, c->axis, S);
}

/* pad; with value_input the constant comes from in[1]. */
typedef struct {
  int naxes;
  int axes[4];
  int64_t lo[4], hi[4];
  const char* mode;
  int value_input;
} pad_ctx;

static int fn_pad(mlx_array* out, const mlx_array* in, void* ctx) {
  pad_ctx* c = ctx;
  mlx_array v = mlx_array_new();
  int rc = c->value_input ? mlx_array_set(&v, in[1]) : mlx_array_new_float(&v, 0.5, MLX_FLOAT64);
  if (!rc) rc = mlx_pad(out, in[0], c->axes, c->lo, c->hi, (size_t)c->naxes, v, c->mode, S);
  mlx_array_free(v);
  return rc;
}

typedef struct {
  int64_t k;
  int upper;
} tri_ctx;

static int fn_tri(mlx_array* out, const mlx_array* in, void* ctx) {
  tri_ctx* c = ctx;
  return c->upper ? mlx_triu(out, in[0], c->k, S) : mlx_tril(out, in[0], c->k, S);
}

static int fn_matmul(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_matmul(out, in[0], in[1], S);
}

/* ---- vjp / jvp against finite differences --------------------------------- */

TEST(reshape_transpose_broadcast_grad) {
  mlx_array x = RND(2, 3, 4);
  shape_ctx r1 = {2, {6, 4}}, r2 = {4, {4, 1, 3, 2}}, r3 = {1, {24}};
  check_grad("reshape (2,3,4)->(6,4)", fn_reshape, &r1, &x, 1);
  check_grad("reshape (2,3,4)->(4,1,3,2)", fn_reshape, &r2, &x, 1);
  check_grad("reshape flat", fn_reshape, &r3, &x, 1);
  perm_ctx p1 = {3, {2, 0, 1}}, p2 = {3, {1, 0, 2}};
  check_grad("transpose (2,0,1)", fn_transpose, &p1, &x, 1);
  check_grad("transpose (1,0,2)", fn_transpose, &p2, &x, 1);
  mlx_array y = RND(3, 1), z = RND(4);
  shape_ctx b1 = {3, {2, 3, 5}}, b2 = {2, {3, 4}};
  check_grad("broadcast (3,1)->(2,3,5)", fn_broadcast, &b1, &y, 1);
  check_grad("broadcast (4)->(3,4)", fn_broadcast, &b2, &z, 1);
  /* a non-contiguous input: the transpose of y */
  mlx_array yt = mlx_array_new();
  CHECK_OK(mlx_transpose(&yt, y, NULL, 0, S));
  shape_ctx b3 = {3, {2, 5, 3}};
  check_grad("broadcast transposed (1,3)->(2,5,3)", fn_broadcast, &b3, &yt, 1);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(z), mlx_array_free(yt);
}

TEST(slice_grad) {
  mlx_array x = RND(5, 6);
  slice_ctx cases[] = {
      {2, {1, 0}, {4, 6}, {1, 1}},          /* unit steps */
      {2, {0, 1}, {5, 6}, {2, 3}},          /* positive steps */
      {2, {4, -1}, {-6, -7}, {-2, -1}},     /* negative steps, reversed */
      {2, {-1, 5}, {0, 0}, {-3, -2}},       /* negative steps stopping early */
      {2, {2, 3}, {2, 6}, {1, 1}},          /* empty */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_grad("slice", fn_slice, &cases[i], &x, 1);
  mlx_array_free(x);
}

TEST(slice_update_grad) {
  mlx_array src = RND(4, 5), upd = RND(2, 3), row = RND(3), one = RND(1);
  slice_ctx c1 = {2, {1, 0}, {3, 5}, {1, 2}};   /* region (2, 3) */
  slice_ctx c2 = {2, {3, 4}, {-5, -6}, {-2, -2}}; /* rows 3, 1; cols 4, 2, 0 */
  mlx_array in1[2] = {src, upd}, in2[2] = {src, row}, in3[2] = {src, one};
  check_grad("slice_update", fn_slice_update, &c1, in1, 2);
  check_grad("slice_update negative steps", fn_slice_update, &c2, in1, 2);
  check_grad("slice_update broadcast row", fn_slice_update, &c2, in2, 2);
  check_grad("slice_update broadcast scalar", fn_slice_update, &c1, in3, 2);
  mlx_array_free(src), mlx_array_free(upd), mlx_array_free(row), mlx_array_free(one);
}

TEST(split_grad) {
  mlx_array x = RND(6, 4);
  split_ctx all = {2, 0, 3, {2, 5}, {0, 1, 2}};         /* pieces tile the axis */
  split_ctx swapped = {2, 1, 3, {1, 3}, {2, 0, 1}};      /* along axis 1, reordered */
  split_ctx some = {3, 0, 2, {1, 2, 4}, {3, 1}};         /* pieces without cotangent */
  split_ctx unsorted = {2, 0, 3, {4, 1}, {0, 1, 2}};     /* overlapping pieces */
  split_ctx outside = {2, -1, 2, {-3, 9}, {2, 0}};       /* negative and clamped */
  check_grad("split tiles", fn_split, &all, &x, 1);
  check_grad("split axis 1 reordered", fn_split, &swapped, &x, 1);
  check_grad("split some pieces", fn_split, &some, &x, 1);
  check_grad("split unsorted", fn_split, &unsorted, &x, 1);
  check_grad("split out of range", fn_split, &outside, &x, 1);
  mlx_array_free(x);
}

TEST(concatenate_grad) {
  mlx_array a = RND(2, 3), b = RND(2, 4), c = RND(2, 1), d = RND(3, 3);
  mlx_array in1[3] = {a, b, c}, in2[2] = {a, d};
  cat_ctx c1 = {1, 3}, c2 = {0, 2}, c3 = {-2, 2};
  check_grad("concatenate axis 1", fn_concat, &c1, in1, 3);
  check_grad("concatenate axis 0", fn_concat, &c2, in2, 2);
  check_grad("concatenate axis -2", fn_concat, &c3, in2, 2);
  /* an int input is promoted by an astype node; only a is checked */
  int64_t sh[2] = {2, 2};
  mlx_array i = mlx_array_new();
  CHECK_OK(mlx_ones(&i, sh, 2, MLX_INT32, S));
  mlx_array in3[2] = {i, a};
  cat_ctx c4 = {1, 2};
  check_grad("concatenate with int", fn_concat, &c4, in3, 2);
  /* the same array twice: cotangents accumulate */
  mlx_array in4[2] = {a, a};
  check_grad("concatenate twice", fn_concat, &c2, in4, 2);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(c), mlx_array_free(d), mlx_array_free(i);
}

TEST(pad_grad) {
  mlx_array x = RND(3, 4), v = RND(1), x1 = RND(1, 3);
  pad_ctx cst = {2, {0, 1}, {1, 0}, {2, 3}, "constant", 0};
  pad_ctx cst_v = {1, {-1}, {2}, {1}, "constant", 1};
  pad_ctx edge = {2, {0, 1}, {2, 1}, {1, 3}, "edge", 0};
  pad_ctx refl = {2, {0, 1}, {4, 1}, {5, 6}, "reflect", 0}; /* wider than the axis */
  pad_ctx sym = {2, {1, 0}, {6, 2}, {3, 4}, "symmetric", 0};
  pad_ctx refl1 = {1, {0}, {2}, {3}, "reflect", 0};           /* an axis of size 1 */
  mlx_array inv[2] = {x, v};
  check_grad("pad constant", fn_pad, &cst, &x, 1);
  check_grad("pad constant value", fn_pad, &cst_v, inv, 2);
  check_grad("pad edge", fn_pad, &edge, &x, 1);
  check_grad("pad reflect", fn_pad, &refl, &x, 1);
  check_grad("pad symmetric", fn_pad, &sym, &x, 1);
  check_grad("pad reflect size 1", fn_pad, &refl1, &x1, 1);
  mlx_array_free(x), mlx_array_free(v), mlx_array_free(x1);
}

TEST(full_tri_grad) {
  mlx_array v = RND(3), s = RND(1), m = RND(2, 4, 4), r = RND(3, 5);
  shape_ctx f1 = {2, {2, 3}}, f2 = {3, {2, 2, 3}};
  check_grad("full from row", fn_full, &f1, &v, 1);
  check_grad("full from one", fn_full, &f2, &s, 1);
  tri_ctx t[] = {{0, 0}, {-1, 0}, {2, 0}, {0, 1}, {1, 1}, {-2, 1}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    check_grad("tril/triu batched", fn_tri, &t[i], &m, 1);
    check_grad("tril/triu rectangular", fn_tri, &t[i], &r, 1);
  }
  mlx_array_free(v), mlx_array_free(s), mlx_array_free(m), mlx_array_free(r);
}

TEST(matmul_grad) {
  struct {
    const char* name;
    int64_t sa[5], sb[5];
    int na, nb;
  } cases[] = {
      {"matmul 2-D", {3, 4}, {4, 5}, 2, 2},
      {"matmul 1-D @ 2-D", {4}, {4, 5}, 1, 2},
      {"matmul 2-D @ 1-D", {3, 4}, {4}, 2, 1},
      {"matmul 1-D @ 1-D", {4}, {4}, 1, 1},
      {"matmul batched", {2, 3, 4}, {2, 4, 5}, 3, 3},
      {"matmul broadcast batch", {2, 1, 3, 4}, {5, 4, 2}, 4, 3},
      {"matmul broadcast left", {3, 4}, {2, 4, 5}, 2, 3},
      {"matmul 1-D @ batched", {4}, {2, 3, 4, 2}, 1, 4},
      {"matmul batched @ 1-D", {2, 1, 3, 4}, {4}, 4, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mlx_array in[2] = {rnd(cases[i].sa, cases[i].na), rnd(cases[i].sb, cases[i].nb)};
    check_grad(cases[i].name, fn_matmul, NULL, in, 2);
    free_all(in, 2);
  }
  /* float32 @ float64: the float32 operand's gradient comes back float32 */
  mlx_array a = RND(3, 4), a32 = mlx_array_new(), b = RND(4, 2);
  CHECK_OK(mlx_astype(&a32, a, MLX_FLOAT32, S));
  mlx_array in[2] = {a32, b};
  check_grad("matmul float32 @ float64", fn_matmul, NULL, in, 2);
  mlx_closure f = mlx_closure_new(op_closure_call, &(op_closure){fn_matmul, NULL, 2}, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new(),
                   cots = mlx_vector_array_new();
  mlx_vector_array_append(prim, a32), mlx_vector_array_append(prim, b);
  int64_t os[2] = {3, 2};
  mlx_array c = mlx_array_new(), g = mlx_array_new();
  CHECK_OK(mlx_ones(&c, os, 2, MLX_FLOAT64, S));
  mlx_vector_array_append(cots, c);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  CHECK_OK(mlx_vector_array_get(&g, vjps, 0));
  CHECK(mlx_array_dtype(g) == MLX_FLOAT32);
  mlx_array_free(g), mlx_array_free(c), mlx_array_free(a), mlx_array_free(a32), mlx_array_free(b);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
}

/* ---- gradients with known values ------------------------------------------ */

/* grads of sum(f(inputs) * w) for each input, w a constant. */
typedef struct {
  op_fn fn;
  void* ctx;
  mlx_array w;
  int nin;
} weighted;

static int weighted_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  weighted* p = payload;
  mlx_array in[4], y = mlx_array_new(), yw = mlx_array_new(), s = mlx_array_new();
  for (int i = 0; i < p->nin; i++) {
    in[i] = mlx_array_new();
    mlx_vector_array_get(&in[i], inputs, (size_t)i);
  }
  int rc = p->fn(&y, in, p->ctx);
  if (!rc) rc = mlx_multiply(&yw, y, p->w, S);
  if (!rc) rc = mlx_sum(&s, yw, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  free_all(in, p->nin);
  mlx_array_free(y), mlx_array_free(yw), mlx_array_free(s);
  return rc;
}

static void grads_of(mlx_array* grads, op_fn fn, void* ctx, const mlx_array* in, int nin, mlx_array w) {
  weighted p = {fn, ctx, w, nin};
  mlx_closure f = mlx_closure_new(weighted_call, &p, NULL);
  mlx_vector_array inputs = mlx_vector_array_new(), vals = mlx_vector_array_new(), gs = mlx_vector_array_new();
  int argnums[4] = {0, 1, 2, 3};
  for (int i = 0; i < nin; i++) mlx_vector_array_append(inputs, in[i]);
  CHECK_OK(mlx_value_and_grad(vals, gs, f, inputs, argnums, (size_t)nin));
  for (int i = 0; i < nin; i++) {
    grads[i] = mlx_array_new();
    mlx_vector_array_get(&grads[i], gs, (size_t)i);
  }
  mlx_vector_array_free(inputs), mlx_vector_array_free(vals), mlx_vector_array_free(gs);
  mlx_closure_free(f);
}

static mlx_array arange_f32(double start, int64_t n, double scale, const int64_t* shape, int ndim) {
  mlx_array r = mlx_array_new(), t = mlx_array_new(), c = mlx_array_new(), out = mlx_array_new();
  mlx_arange(&r, start, start + (double)n, 1, MLX_FLOAT32, S);
  mlx_array_new_float(&c, scale, MLX_FLOAT32);
  mlx_multiply(&t, r, c, S);
  mlx_reshape(&out, t, shape, ndim, S);
  mlx_array_free(r), mlx_array_free(t), mlx_array_free(c);
  return out;
}

TEST(known_gradients) {
  /* mlx: a = arange(6).reshape(2,1,1,3) * 0.5, b = arange(12).reshape(2,3,2) - 3,
   * grad of sum(a @ b * arange(8).reshape(2,2,1,2)) */
  int64_t sa[4] = {2, 1, 1, 3}, sb[3] = {2, 3, 2}, sw[4] = {2, 2, 1, 2};
  mlx_array ab[2] = {arange_f32(0, 6, 0.5, sa, 4), arange_f32(-3, 12, 1, sb, 3)}, g[2];
  mlx_array w = arange_f32(0, 8, 1, sw, 4);
  grads_of(g, fn_matmul, NULL, ab, 2, w);
  double ga[6] = {16, 28, 40, 24, 68, 112}, gb[12] = {6, 7.5, 8, 10.5, 10, 13.5, 9, 10.5, 13, 15.5, 17, 20.5};
  CHECK(mlx_array_ndim(g[0]) == 4 && mlx_array_dim(g[0], 2) == 1 && mlx_array_ndim(g[1]) == 3);
  CHECK_VALUES(g[0], ga, 6, 1e-6);
  CHECK_VALUES(g[1], gb, 12, 1e-6);
  free_all(g, 2), free_all(ab, 2), mlx_array_free(w);

  /* mlx: v = [1,2,3] (1-D) @ m = arange(12).reshape(2,3,2), weights [[1,-1],[2,3]] */
  int64_t s3[1] = {3}, sm[3] = {2, 3, 2}, s22[2] = {2, 2};
  float wv[4] = {1, -1, 2, 3};
  mlx_array vm[2] = {arange_f32(1, 3, 1, s3, 1), arange_f32(0, 12, 1, sm, 3)};
  w = arr_f32(wv, s22, 2);
  grads_of(g, fn_matmul, NULL, vm, 2, w);
  double gv[3] = {32, 42, 52}, gm[12] = {1, -1, 2, -2, 3, -3, 2, 3, 4, 6, 6, 9};
  CHECK(mlx_array_ndim(g[0]) == 1);
  CHECK_VALUES(g[0], gv, 3, 1e-6);
  CHECK_VALUES(g[1], gm, 12, 1e-6);
  free_all(g, 2), free_all(vm, 2), mlx_array_free(w);

  /* mlx: grad of sum(x[::-2] * [1, 10, 100]) for x = arange(5) */
  int64_t s5[1] = {5};
  float w3[3] = {1, 10, 100};
  mlx_array x = arange_f32(0, 5, 1, s5, 1);
  w = arr_f32(w3, s3, 1);
  slice_ctx rev = {1, {-1}, {-6}, {-2}};
  grads_of(g, fn_slice, &rev, &x, 1, w);
  double gs[5] = {100, 0, 10, 0, 1};
  CHECK_VALUES(g[0], gs, 5, 0);
  mlx_array_free(g[0]), mlx_array_free(w);

  /* mlx: grad of sum(pad(x, (4, 3), mode) * arange(12)) */
  int64_t s12[1] = {12};
  w = arange_f32(0, 12, 1, s12, 1);
  pad_ctx refl = {1, {0}, {4}, {3}, "reflect", 0}, sym = {1, {0}, {4}, {3}, "symmetric", 0};
  double grefl[5] = {4, 19, 18, 17, 8}, gsym[5] = {7, 7, 18, 17, 17};
  grads_of(g, fn_pad, &refl, &x, 1, w);
  CHECK_VALUES(g[0], grefl, 5, 0);
  mlx_array_free(g[0]);
  grads_of(g, fn_pad, &sym, &x, 1, w);
  CHECK_VALUES(g[0], gsym, 5, 0);
  mlx_array_free(g[0]), mlx_array_free(w);

  /* mlx: grad of sum(pad([1,2,3], (2,3), "edge")) = [3, 1, 4] */
  mlx_array ones = mlx_array_new();
  int64_t s8[1] = {8};
  CHECK_OK(mlx_ones(&ones, s8, 1, MLX_FLOAT32, S));
  pad_ctx edge = {1, {0}, {2}, {3}, "edge", 0};
  double gedge[3] = {3, 1, 4};
  mlx_array v3 = arange_f32(1, 3, 1, s3, 1);
  grads_of(g, fn_pad, &edge, &v3, 1, ones);
  CHECK_VALUES(g[0], gedge, 3, 0);
  mlx_array_free(g[0]), mlx_array_free(ones), mlx_array_free(v3), mlx_array_free(x);
}

/* ---- grad of grad ------------------------------------------------------------ */

/* h(a, b) = sum((a @ b) * (a @ b)) */
static int h_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array a = mlx_array_new(), b = mlx_array_new(), p = mlx_array_new(), sq = mlx_array_new(), s = mlx_array_new();
  int rc = mlx_vector_array_get(&a, inputs, 0);
  if (!rc) rc = mlx_vector_array_get(&b, inputs, 1);
  if (!rc) rc = mlx_matmul(&p, a, b, S);
  if (!rc && *(int*)payload) rc = mlx_multiply(&sq, p, p, S);
  else if (!rc) rc = mlx_array_set(&sq, p); /* a 1-D @ 1-D product is already a scalar */
  if (!rc) rc = *(int*)payload ? mlx_sum(&s, sq, 0, S) : mlx_array_set(&s, sq);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(p), mlx_array_free(sq), mlx_array_free(s);
  return rc;
}

/* The gradient of h in input ctx->which (0: a, 1: b). */
typedef struct {
  int which, squared;
} gg_ctx;

static int fn_grad_h(mlx_array* out, const mlx_array* in, void* ctx) {
  gg_ctx* c = ctx;
  mlx_closure h = mlx_closure_new(h_closure, &c->squared, NULL);
  mlx_vector_array inputs = mlx_vector_array_new(), vals = mlx_vector_array_new(), gs = mlx_vector_array_new();
  mlx_vector_array_append(inputs, in[0]), mlx_vector_array_append(inputs, in[1]);
  int argnums[2] = {0, 1};
  int rc = mlx_value_and_grad(vals, gs, h, inputs, argnums, 2);
  if (!rc) rc = mlx_vector_array_get(out, gs, (size_t)c->which);
  mlx_vector_array_free(inputs), mlx_vector_array_free(vals), mlx_vector_array_free(gs);
  mlx_closure_free(h);
  return rc;
}

TEST(matmul_grad_of_grad) {
  /* dot of two vectors: only matmul, reshape and transpose rules on the way */
  mlx_array dot[2] = {RND(4), RND(4)};
  gg_ctx d0 = {0, 0}, d1 = {1, 0};
  check_grad("grad of grad: dot, d/da", fn_grad_h, &d0, dot, 2);
  check_grad("grad of grad: dot, d/db", fn_grad_h, &d1, dot, 2);
  /* squared products with broadcast batch dims and a 1-D operand */
  mlx_array bat[2] = {RND(2, 1, 3, 4), RND(5, 4, 2)}, vec[2] = {RND(4), RND(2, 4, 3)};
  gg_ctx s0 = {0, 1}, s1 = {1, 1};
  check_grad("grad of grad: batched, d/da", fn_grad_h, &s0, bat, 2);
  check_grad("grad of grad: batched, d/db", fn_grad_h, &s1, bat, 2);
  check_grad("grad of grad: 1-D @ batched, d/da", fn_grad_h, &s0, vec, 2);
  check_grad("grad of grad: 1-D @ batched, d/db", fn_grad_h, &s1, vec, 2);
  free_all(dot, 2), free_all(bat, 2), free_all(vec, 2);
}

/* ---- vmap against a loop ------------------------------------------------------ */

#define NONE MLX_VMAP_NONE

TEST(vmap_views) {
  mlx_array x0 = RND(3, 2, 4), x1 = RND(2, 3, 4);
  int ax0 = 0, ax1 = 1, ax2 = 2;
  shape_ctx r = {2, {4, 2}};
  check_vmap("reshape axis 0", fn_reshape, &r, &x0, &ax0, 1);
  check_vmap("reshape axis 1", fn_reshape, &r, &x1, &ax1, 1);
  perm_ctx p = {2, {1, 0}};
  check_vmap("transpose axis 0", fn_transpose, &p, &x0, &ax0, 1);
  check_vmap("transpose axis 1", fn_transpose, &p, &x1, &ax1, 1);
  check_vmap("transpose axis 2", fn_transpose, &p, &x1, &ax2, 1);
  mlx_array y0 = RND(3, 2, 1), y1 = RND(2, 3, 1);
  shape_ctx b = {3, {5, 2, 4}};
  check_vmap("broadcast axis 0", fn_broadcast, &b, &y0, &ax0, 1);
  check_vmap("broadcast axis 1", fn_broadcast, &b, &y1, &ax1, 1);
  slice_ctx s = {2, {1, 3}, {-6, 0}, {-1, -2}};
  check_vmap("slice axis 0", fn_slice, &s, &x0, &ax0, 1);
  check_vmap("slice axis 1", fn_slice, &s, &x1, &ax1, 1);
  split_ctx sp0 = {1, 1, 2, {1}, {1, 0}}, sp1 = {2, 0, 2, {1, 1}, {2, 0}};
  check_vmap("split axis 0", fn_split, &sp0, &x0, &ax0, 1);
  check_vmap("split axis 1", fn_split, &sp1, &x1, &ax1, 1);
  mlx_array_free(x0), mlx_array_free(x1), mlx_array_free(y0), mlx_array_free(y1);
}

TEST(vmap_slice_update) {
  slice_ctx c = {2, {3, 0}, {-5, 4}, {-2, 3}}; /* region (2, 2) of (4, 4) */
  mlx_array src0 = RND(3, 4, 4), src = RND(4, 4), src2 = RND(4, 3, 4);
  mlx_array upd0 = RND(3, 2, 2), upd = RND(2, 2), upd1 = RND(2, 3, 2), row = RND(3, 2);
  int both[2] = {0, 0}, src_only[2] = {0, NONE}, upd_only[2] = {NONE, 1}, mixed[2] = {1, 1}, rows[2] = {NONE, 0};
  mlx_array in1[2] = {src0, upd0}, in2[2] = {src0, upd}, in3[2] = {src, upd1}, in4[2] = {src2, upd1},
            in5[2] = {src, row};
  check_vmap("slice_update both batched", fn_slice_update, &c, in1, both, 2);
  check_vmap("slice_update src batched", fn_slice_update, &c, in2, src_only, 2);
  check_vmap("slice_update update batched", fn_slice_update, &c, in3, upd_only, 2);
  check_vmap("slice_update axes 1, 1", fn_slice_update, &c, in4, mixed, 2);
  check_vmap("slice_update broadcast update batched", fn_slice_update, &c, in5, rows, 2);
  mlx_array_free(src0), mlx_array_free(src), mlx_array_free(src2);
  mlx_array_free(upd0), mlx_array_free(upd), mlx_array_free(upd1), mlx_array_free(row);
}

TEST(vmap_concatenate_pad) {
  mlx_array a0 = RND(3, 2, 2), b = RND(2, 4), c1 = RND(2, 3, 1);
  mlx_array in[3] = {a0, b, c1};
  int axes[3] = {0, NONE, 1};
  cat_ctx cat1 = {1, 3}, cat0 = {-1, 3};
  check_vmap("concatenate mixed axes", fn_concat, &cat1, in, axes, 3);
  check_vmap("concatenate axis -1", fn_concat, &cat0, in, axes, 3);
  mlx_array x0 = RND(3, 2, 4), x1 = RND(2, 3, 4), v = RND(3), v1 = RND(1);
  int ax0 = 0, ax1 = 1;
  pad_ctx cst = {2, {0, 1}, {1, 0}, {0, 2}, "constant", 0};
  pad_ctx edge = {1, {1}, {2}, {1}, "edge", 0};
  pad_ctx refl = {1, {-2}, {1}, {3}, "reflect", 0};
  pad_ctx val = {1, {1}, {1}, {2}, "constant", 1};
  check_vmap("pad constant axis 0", fn_pad, &cst, &x0, &ax0, 1);
  check_vmap("pad constant axis 1", fn_pad, &cst, &x1, &ax1, 1);
  check_vmap("pad edge axis 1", fn_pad, &edge, &x1, &ax1, 1);
  check_vmap("pad reflect axis 0", fn_pad, &refl, &x0, &ax0, 1);
  mlx_array vin[2] = {x0, v}, vin1[2] = {x1, v}, vin2[2] = {b, v}, vin3[2] = {x1, v1};
  int both[2] = {0, 0}, mixed[2] = {1, 0}, val_only[2] = {NONE, 0}, arr_only[2] = {1, NONE};
  check_vmap("pad batched value", fn_pad, &val, vin, both, 2);
  check_vmap("pad batched value, array axis 1", fn_pad, &val, vin1, mixed, 2);
  check_vmap("pad batched value only", fn_pad, &val, vin2, val_only, 2);
  check_vmap("pad unbatched value", fn_pad, &val, vin3, arr_only, 2);
  mlx_array_free(a0), mlx_array_free(b), mlx_array_free(c1);
  mlx_array_free(x0), mlx_array_free(x1), mlx_array_free(v), mlx_array_free(v1);
}

TEST(vmap_full_tri) {
  mlx_array v0 = RND(4, 3), v1 = RND(1, 4), m0 = RND(3, 4, 4), m2 = RND(4, 5, 3), m1 = RND(2, 3, 4, 4);
  int ax0 = 0, ax1 = 1, ax2 = 2;
  shape_ctx f = {2, {2, 3}}, f3 = {3, {2, 2, 3}};
  check_vmap("full axis 0", fn_full, &f, &v0, &ax0, 1);
  check_vmap("full axis 1", fn_full, &f3, &v1, &ax1, 1);
  tri_ctx lo = {0, 0}, up = {1, 1};
  check_vmap("tril axis 0", fn_tri, &lo, &m0, &ax0, 1);
  check_vmap("triu axis 2 (a matrix axis)", fn_tri, &up, &m2, &ax2, 1);
  check_vmap("tril axis 1 of a batched input", fn_tri, &lo, &m1, &ax1, 1);
  mlx_array_free(v0), mlx_array_free(v1), mlx_array_free(m0), mlx_array_free(m2), mlx_array_free(m1);
}

TEST(vmap_matmul) {
  struct {
    const char* name;
    int64_t sa[5], sb[5];
    int na, nb, axes[2];
  } cases[] = {
      {"matmul a batched", {3, 2, 4}, {4, 5}, 3, 2, {0, NONE}},
      {"matmul b batched axis 1", {2, 4}, {4, 3, 5}, 2, 3, {NONE, 1}},
      {"matmul both, axes 1 and 0", {2, 3, 4}, {3, 4, 5}, 3, 3, {1, 0}},
      {"matmul 1-D a", {3, 4}, {4, 5}, 2, 2, {0, NONE}},
      {"matmul 1-D b", {2, 4}, {4, 3}, 2, 2, {NONE, 1}},
      {"matmul 1-D both", {3, 4}, {4, 3}, 2, 2, {0, 1}},
      {"matmul broadcast batch", {3, 2, 1, 2, 4}, {5, 4, 2}, 5, 3, {0, NONE}},
      {"matmul unbatched has more batch dims", {3, 2, 4}, {2, 4, 5}, 3, 3, {0, NONE}},
      {"matmul batched 1-D against batch dims", {4, 3}, {2, 5, 4, 2}, 2, 4, {1, NONE}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mlx_array in[2] = {rnd(cases[i].sa, cases[i].na), rnd(cases[i].sb, cases[i].nb)};
    check_vmap(cases[i].name, fn_matmul, NULL, in, cases[i].axes, 2);
    free_all(in, 2);
  }
}

/* ---- random ----------------------------------------------------------------- */

static int fn_bits(mlx_array* out, const mlx_array* in, void* ctx) {
  int64_t shape[2] = {3, 5};
  return mlx_random_bits(out, shape, 2, *(int*)ctx, in[0], S);
}

static int fn_rsplit(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array k[2] = {mlx_array_new(), mlx_array_new()};
  int rc = mlx_random_split(&k[0], &k[1], in[0], S);
  if (!rc) rc = mlx_concatenate(out, k, 2, 0, S);
  free_all(k, 2);
  return rc;
}

/* x * bits(key) / 2^32: differentiable in x, not in the key. */
static int fn_scaled_bits(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_array k = mlx_array_new(), other = mlx_array_new(), b = mlx_array_new(), f = mlx_array_new(),
            c = mlx_array_new(), t = mlx_array_new();
  int64_t shape[1] = {3};
  int rc = mlx_random_split(&k, &other, in[0], S);
  if (!rc) rc = mlx_random_bits(&b, shape, 1, 4, k, S);
  if (!rc) rc = mlx_astype(&f, b, MLX_FLOAT64, S);
  if (!rc) rc = mlx_array_new_float(&c, 1.0 / 4294967296.0, MLX_FLOAT64);
  if (!rc) rc = mlx_multiply(&t, f, c, S);
  if (!rc) rc = mlx_multiply(out, t, in[1], S);
  mlx_array_free(k), mlx_array_free(other), mlx_array_free(b), mlx_array_free(f), mlx_array_free(c), mlx_array_free(t);
  return rc;
}

/* normal samples; complex ones pass through the pairs-to-complex node. */
static int fn_normal(mlx_array* out, const mlx_array* in, void* ctx) {
  int64_t shape[2] = {2, 3};
  return mlx_random_normal(out, shape, 2, *(mlx_dtype*)ctx, 0.5, 2.0, in[0], S);
}

TEST(random_rules) {
  mlx_array key = mlx_array_new(), keys = mlx_array_new(), keys_t = mlx_array_new(), x = RND(3);
  CHECK_OK(mlx_random_key(&key, 42));
  CHECK_OK(mlx_random_split_num(&keys, key, 4, S));
  CHECK_OK(mlx_transpose(&keys_t, keys, NULL, 0, S));
  int ax0 = 0, ax1 = 1, w4 = 4, w1 = 1, w2 = 2;
  check_vmap("random bits keys axis 0", fn_bits, &w4, &keys, &ax0, 1);
  check_vmap("random bits keys axis 1", fn_bits, &w4, &keys_t, &ax1, 1);
  check_vmap("random bits uint8", fn_bits, &w1, &keys, &ax0, 1);
  check_vmap("random bits uint16", fn_bits, &w2, &keys_t, &ax1, 1);
  check_vmap("random split axis 0", fn_rsplit, NULL, &keys, &ax0, 1);
  check_vmap("random split axis 1", fn_rsplit, NULL, &keys_t, &ax1, 1);
  mlx_dtype c64 = MLX_COMPLEX64, f32 = MLX_FLOAT32;
  check_vmap("random normal complex64", fn_normal, &c64, &keys, &ax0, 1);
  check_vmap("random normal float32", fn_normal, &f32, &keys_t, &ax1, 1);
  /* bits and split give zero gradients: x's is checked, the key's is 0 */
  mlx_array in[2] = {key, x};
  check_grad("random bits, no gradient to the key", fn_scaled_bits, NULL, in, 2);
  mlx_closure f = mlx_closure_new(op_closure_call, &(op_closure){fn_scaled_bits, NULL, 2}, NULL);
  mlx_vector_array prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new(),
                   cots = mlx_vector_array_new();
  mlx_vector_array_append(prim, key), mlx_vector_array_append(prim, x);
  mlx_array c = RND(3), g = mlx_array_new();
  mlx_vector_array_append(cots, c);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  CHECK_OK(mlx_vector_array_get(&g, vjps, 0));
  double zero[2] = {0, 0};
  CHECK(mlx_array_dtype(g) == MLX_UINT32);
  CHECK_VALUES(g, zero, 2, 0);
  mlx_array_free(g), mlx_array_free(c);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
  /* complex normal samples pulled back to the key: zeros, and no
   * primitive on the way lacks a rule */
  f = mlx_closure_new(op_closure_call, &(op_closure){fn_normal, &c64, 1}, NULL);
  prim = mlx_vector_array_new(), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  cots = mlx_vector_array_new();
  mlx_vector_array_append(prim, key);
  int64_t s23[2] = {2, 3};
  c = mlx_array_new(), g = mlx_array_new();
  CHECK_OK(mlx_ones(&c, s23, 2, MLX_COMPLEX64, S));
  mlx_vector_array_append(cots, c);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  CHECK_OK(mlx_vector_array_get(&g, vjps, 0));
  CHECK_VALUES(g, zero, 2, 0);
  mlx_array_free(g), mlx_array_free(c);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps), mlx_vector_array_free(cots);
  mlx_closure_free(f);
  mlx_array_free(key), mlx_array_free(keys), mlx_array_free(keys_t), mlx_array_free(x);
}

/* ---- slice_update as an op ------------------------------------------------------ */

TEST(slice_update_op) {
  float sv[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, uv[4] = {-1, -2, -3, -4};
  int64_t s34[2] = {3, 4}, s22[2] = {2, 2}, s2[1] = {2};
  mlx_array src = arr_f32(sv, s34, 2), upd = arr_f32(uv, s22, 2), row = arr_f32(uv, s2, 1), r = mlx_array_new();
  /* src[0:3:2, 3:0:-2] = upd: rows 0, 2; cols 3, 1 */
  int64_t st[2] = {0, 3}, sp[2] = {3, 0}, step[2] = {2, -2};
  CHECK_OK(mlx_slice_update(&r, src, upd, st, sp, step, 2, S));
  double e1[12] = {0, -2, 2, -1, 4, 5, 6, 7, 8, -4, 10, -3};
  CHECK_VALUES(r, e1, 12, 0);
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  /* broadcast row, int update cast to float */
  int64_t st2[2] = {1, 0}, sp2[2] = {3, 2}, one[2] = {1, 1};
  CHECK_OK(mlx_slice_update(&r, src, row, st2, sp2, one, 2, S));
  double e2[12] = {0, 1, 2, 3, -1, -2, 6, 7, -1, -2, 10, 11};
  CHECK_VALUES(r, e2, 12, 0);
  mlx_array iv = mlx_array_new();
  CHECK_OK(mlx_array_new_int(&iv, 7, MLX_INT32));
  CHECK_OK(mlx_slice_update(&r, src, iv, st2, sp2, one, 2, S));
  double e3[12] = {0, 1, 2, 3, 7, 7, 6, 7, 7, 7, 10, 11};
  CHECK_VALUES(r, e3, 12, 0);
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  /* a transposed (non-contiguous) source; src is left unchanged */
  mlx_array t = mlx_array_new();
  CHECK_OK(mlx_transpose(&t, src, NULL, 0, S));
  int64_t st3[2] = {0, 0}, sp3[2] = {1, 3};
  CHECK_OK(mlx_slice_update(&r, t, iv, st3, sp3, one, 2, S));
  double e4[12] = {7, 7, 7, 1, 5, 9, 2, 6, 10, 3, 7, 11};
  CHECK_VALUES(r, e4, 12, 0);
  CHECK_VALUES(src, ((double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), 12, 0);
  /* the whole array: the update broadcast */
  int64_t st4[2] = {0, 0}, sp4[2] = {3, 4};
  CHECK_OK(mlx_slice_update(&r, src, iv, st4, sp4, one, 2, S));
  CHECK(mlx_array_ndim(r) == 2 && mlx_array_dim(r, 1) == 4);
  double e5[12] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  CHECK_VALUES(r, e5, 12, 0);
  /* an empty region leaves src as it is */
  int64_t st5[2] = {2, 0}, sp5[2] = {1, 4};
  mlx_array empty = mlx_array_new();
  int64_t s04[2] = {0, 4};
  CHECK_OK(mlx_zeros(&empty, s04, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_slice_update(&r, src, empty, st5, sp5, one, 2, S));
  CHECK_VALUES(r, sv, 12, 0);
  /* errors */
  int64_t zero_step[2] = {1, 0};
  CHECK_ERR(mlx_slice_update(&r, src, upd, st, sp, step, 1, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_slice_update(&r, src, upd, st, sp, zero_step, 2, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_slice_update(&r, src, upd, st2, sp4, one, 2, S), MLX_ERROR_SHAPE); /* (2,2) into (2,4) */
  mlx_array_free(src), mlx_array_free(upd), mlx_array_free(row), mlx_array_free(r), mlx_array_free(iv);
  mlx_array_free(t), mlx_array_free(empty);
}

int main(void) {
  RUN(reshape_transpose_broadcast_grad);
  RUN(slice_grad);
  RUN(slice_update_grad);
  RUN(split_grad);
  RUN(concatenate_grad);
  RUN(pad_grad);
  RUN(full_tri_grad);
  RUN(matmul_grad);
  RUN(known_gradients);
  RUN(matmul_grad_of_grad);
  RUN(vmap_views);
  RUN(vmap_slice_update);
  RUN(vmap_concatenate_pad);
  RUN(vmap_full_tri);
  RUN(vmap_matmul);
  RUN(random_rules);
  RUN(slice_update_op);
  return harness_report();
}
