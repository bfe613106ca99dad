/* Transform rules of gather and scatter (and take, take_along_axis,
 * put_along_axis built on them): vjp and jvp against finite differences
 * (check_grad), vmap against a loop over the batch (check_vmap) with
 * batched and unbatched sources, indices and updates, batch axes other
 * than 0, and grad of grad through take. */
#include "gradcheck.h"
#include "mlx/indexing.h"

static unsigned seed_state = 11;

static mlx_array rnd(const int64_t* shape, int ndim) {
  mlx_array z = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  mlx_array r = gc_random_like(z, &seed_state);
  mlx_array_free(z);
  return r;
}
#define RND(...) rnd((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

/* Integer index array from values. */
static mlx_array idx_of(const int32_t* v, const int64_t* shape, int nd) {
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, nd, MLX_INT32);
  return a;
}
#define IDX1(n, ...) idx_of((const int32_t[]){__VA_ARGS__}, (const int64_t[]){n}, 1)
#define IDX2(r, c, ...) idx_of((const int32_t[]){__VA_ARGS__}, (const int64_t[]){r, c}, 2)
#define IDX3(r, c, d, ...) idx_of((const int32_t[]){__VA_ARGS__}, (const int64_t[]){r, c, d}, 3)

/* ---- ops with constant indices (ctx) ------------------------------------- */

typedef struct {
  mlx_array idx[3];
  int nidx, axis;
  int axes[3];
  int64_t sizes[4];
  int mode; /* scatter: 0 none, 1 add, 2 prod, 3 max, 4 min */
} ictx;

static int fn_take(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_take(out, in[0], c->idx[0], c->axis, S);
}

static int fn_gather(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_gather(out, in[0], c->idx, (size_t)c->nidx, c->axes, c->sizes, S);
}

static int fn_take_along(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_take_along_axis(out, in[0], c->idx[0], c->axis, S);
}

static int fn_put_along(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_put_along_axis(out, in[0], c->idx[0], in[1], c->axis, S);
}

static int do_scatter(mlx_array* out, const mlx_array a, const mlx_array* idx, int nidx, const mlx_array u,
                      const int* axes, int mode) {
  switch (mode) {
    case 0: return mlx_scatter(out, a, idx, (size_t)nidx, u, axes, S);
    case 1: return mlx_scatter_add(out, a, idx, (size_t)nidx, u, axes, S);
    case 2: return mlx_scatter_prod(out, a, idx, (size_t)nidx, u, axes, S);
    case 3: return mlx_scatter_max(out, a, idx, (size_t)nidx, u, axes, S);
    default: return mlx_scatter_min(out, a, idx, (size_t)nidx, u, axes, S);
  }
}

static int fn_scatter(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return do_scatter(out, in[0], c->idx, c->nidx, in[1], c->axes, c->mode);
}

/* ---- ops with the indices as inputs (for vmap over indices) -------------- */

static int fn_take_in(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_take(out, in[0], in[1], c->axis, S);
}

static int fn_gather_in(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_gather(out, in[0], in + 1, (size_t)c->nidx, c->axes, c->sizes, S);
}

static int fn_take_along_in(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_take_along_axis(out, in[0], in[1], c->axis, S);
}

static int fn_put_along_in(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return mlx_put_along_axis(out, in[0], in[1], in[2], c->axis, S);
}

/* in: a, indices, updates. */
static int fn_scatter_in(mlx_array* out, const mlx_array* in, void* ctx) {
  ictx* c = ctx;
  return do_scatter(out, in[0], in + 1, 1, in[2], c->axes, c->mode);
}

static void free_ctx(ictx* c) {
  for (int i = 0; i < c->nidx; i++) mlx_array_free(c->idx[i]);
}

TEST(gather_grads) {
  mlx_array x = RND(4, 3);
  ictx t0 = {.idx = {IDX1(4, 2, 0, 2, -1)}, .nidx = 1, .axis = 0};
  check_grad("take axis 0 repeated", fn_take, &t0, &x, 1);
  ictx t1 = {.idx = {IDX2(2, 2, 1, 0, 2, 2)}, .nidx = 1, .axis = 1};
  check_grad("take axis 1, 2-d indices", fn_take, &t1, &x, 1);
  mlx_array y = RND(3, 4, 2);
  ictx g = {.idx = {IDX2(2, 1, 0, 2), IDX1(3, 1, 0, 1)},
            .nidx = 2,
            .axes = {0, 2},
            .sizes = {1, 2, 1}};
  check_grad("gather 2 index arrays, slice (1,2,1)", fn_gather, &g, &y, 1);
  ictx ta = {.idx = {IDX2(3, 2, 0, 3, 1, 1, 2, 0)}, .nidx = 1, .axis = 1};
  mlx_array z = RND(3, 4);
  check_grad("take_along_axis", fn_take_along, &ta, &z, 1);
  ictx ta3 = {.idx = {IDX3(2, 2, 1, 0, 3, -1, 3)}, .nidx = 1, .axis = 1};
  mlx_array w = RND(2, 4, 3);
  check_grad("take_along_axis middle axis, broadcast last", fn_take_along, &ta3, &w, 1);
  mlx_array_free(w);
  free_ctx(&ta3);
  mlx_array xt = mlx_array_new();
  mlx_transpose(&xt, z, NULL, 0, S);
  check_grad("take of a transposed input", fn_take, &t0, &xt, 1);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(z), mlx_array_free(xt);
  free_ctx(&t0), free_ctx(&t1), free_ctx(&g), free_ctx(&ta);
}

TEST(scatter_grads) {
  /* none (unique indices, as its vjp assumes), add (repeated), max/min
   * (random values: no ties). */
  mlx_array in[2] = {RND(5, 3), RND(2, 1, 3)};
  ictx none = {.idx = {IDX1(2, 3, 0)}, .nidx = 1, .axes = {0}, .mode = 0};
  check_grad("scatter rows", fn_scatter, &none, in, 2);
  mlx_array in2[2] = {RND(5, 3), RND(4, 1, 3)};
  ictx add = {.idx = {IDX1(4, 1, 4, 1, -1)}, .nidx = 1, .axes = {0}, .mode = 1};
  check_grad("scatter_add repeated rows", fn_scatter, &add, in2, 2);
  ictx mx = {.idx = {IDX1(4, 1, 4, 1, 0)}, .nidx = 1, .axes = {0}, .mode = 3};
  check_grad("scatter_max", fn_scatter, &mx, in2, 2);
  ictx mn = {.idx = {IDX1(4, 2, 2, 3, 0)}, .nidx = 1, .axes = {0}, .mode = 4};
  check_grad("scatter_min", fn_scatter, &mn, in2, 2);
  /* Element scatter over both axes with a (2,1,1) update block. */
  mlx_array in3[2] = {RND(3, 4), RND(2, 1, 1)};
  ictx el = {.idx = {IDX1(2, 0, 2), IDX1(2, 3, 1)}, .nidx = 2, .axes = {0, 1}, .mode = 1};
  check_grad("scatter_add elements", fn_scatter, &el, in3, 2);
  mlx_array pin[2] = {RND(3, 4), RND(3, 1)};
  ictx pa = {.idx = {IDX2(3, 1, 0, 1, 3)}, .nidx = 1, .axis = 1};
  check_grad("put_along_axis", fn_put_along, &pa, pin, 2);
  for (int i = 0; i < 2; i++) {
    mlx_array_free(in[i]), mlx_array_free(in2[i]);
    mlx_array_free(in3[i]), mlx_array_free(pin[i]);
  }
  free_ctx(&none), free_ctx(&add), free_ctx(&mx), free_ctx(&mn), free_ctx(&el), free_ctx(&pa);
}

TEST(vmaps) {
  /* take: source batched on axis 0 / 1, indices batched, both. */
  mlx_array a = RND(3, 5, 4), ab1 = RND(5, 3, 4);
  mlx_array i = IDX2(3, 2, 0, 4, 2, 2, -1, 1);
  ictx tk = {.nidx = 1, .axis = 0};
  mlx_array in1[2] = {a, i};
  check_vmap("take: a batched", fn_take_in, &tk, in1, (const int[]){0, MLX_VMAP_NONE}, 2);
  mlx_array in2[2] = {ab1, i};
  check_vmap("take: a batched on axis 1", fn_take_in, &tk, in2, (const int[]){1, MLX_VMAP_NONE}, 2);
  mlx_array a2 = RND(5, 4);
  mlx_array in3[2] = {a2, i};
  check_vmap("take: indices batched", fn_take_in, &tk, in3, (const int[]){MLX_VMAP_NONE, 0}, 2);
  check_vmap("take: both batched", fn_take_in, &tk, in1, (const int[]){0, 0}, 2);
  mlx_array it = mlx_array_new();
  mlx_transpose(&it, i, NULL, 0, S); /* (2,3): batch on axis 1 */
  mlx_array in4[2] = {ab1, it};
  check_vmap("take: both batched, axes 1 and 1", fn_take_in, &tk, in4, (const int[]){1, 1}, 2);
  ictx tk1 = {.nidx = 1, .axis = 1};
  check_vmap("take axis 1: both batched", fn_take_in, &tk1, in1, (const int[]){0, 0}, 2);
  /* gather with two index arrays, one batched. */
  ictx g = {.nidx = 2, .axes = {0, 1}, .sizes = {1, 1, 4}};
  mlx_array j = IDX2(3, 2, 1, 0, 2, 2, 0, 1);
  mlx_array gin[3] = {a, i, j};
  check_vmap("gather: a and first index batched", fn_gather_in, &g, gin, (const int[]){0, 0, MLX_VMAP_NONE}, 3);
  ictx g2 = {.nidx = 2, .axes = {0, 1}, .sizes = {1, 1}};
  mlx_array gin2[3] = {a2, i, j};
  check_vmap("gather: a unbatched", fn_gather_in, &g2, gin2, (const int[]){MLX_VMAP_NONE, 0, 0}, 3);
  /* take_along_axis. */
  mlx_array ta_i = IDX3(3, 5, 2, 0, 1, 2, 3, 0, 0, 1, 1, 3, 2, 2, 2, 0, 1, 3, 3, 1, 0, 0, 0, 2, 2, 1, 1,
                       3, 0, 1, 2, 3, 3);
  ictx tal = {.nidx = 1, .axis = 1};
  mlx_array tin[2] = {a, ta_i};
  check_vmap("take_along_axis: both batched", fn_take_along_in, &tal, tin, (const int[]){0, 0}, 2);
  mlx_array ta_1 = IDX2(5, 2, 0, 1, 2, 3, 0, 0, 1, 1, 3, 2);
  mlx_array tin2[2] = {a, ta_1};
  check_vmap("take_along_axis: a batched", fn_take_along_in, &tal, tin2, (const int[]){0, MLX_VMAP_NONE}, 2);
  mlx_array tin3[2] = {a2, ta_i};
  check_vmap("take_along_axis: indices batched", fn_take_along_in, &tal, tin3, (const int[]){MLX_VMAP_NONE, 0}, 2);
  /* put_along_axis: values batched only; all batched on axis 1. */
  mlx_array pa = RND(5, 4), pi = IDX2(5, 1, 0, 3, 3, 1, 2), pv = RND(3, 5, 1);
  mlx_array pin[3] = {pa, pi, pv};
  check_vmap("put_along_axis: values batched", fn_put_along_in, &tal, pin,
             (const int[]){MLX_VMAP_NONE, MLX_VMAP_NONE, 0}, 3);
  mlx_array pab = RND(5, 3, 4), pvb = RND(5, 3, 1);
  mlx_array pin2[3] = {pab, pi, pvb};
  ictx pal0 = {.nidx = 1, .axis = 1};
  check_vmap("put_along_axis: a and values batched on axis 1", fn_put_along_in, &pal0, pin2,
             (const int[]){1, MLX_VMAP_NONE, 1}, 3);
  mlx_array_free(pa), mlx_array_free(pi), mlx_array_free(pv), mlx_array_free(pab), mlx_array_free(pvb);
  /* scatter_add: a unbatched + updates batched; all batched; indices on
   * axis 1. */
  mlx_array sa = RND(5, 4), si = IDX2(3, 2, 0, 4, 4, 4, 1, 0), su = RND(3, 2, 1, 4);
  ictx sc = {.nidx = 1, .axes = {0}, .mode = 1};
  mlx_array sin1[3] = {sa, si, su};
  check_vmap("scatter_add: indices and updates batched", fn_scatter_in, &sc, sin1,
             (const int[]){MLX_VMAP_NONE, 0, 0}, 3);
  mlx_array sab = RND(3, 5, 4);
  mlx_array sin2[3] = {sab, si, su};
  check_vmap("scatter_add: all batched", fn_scatter_in, &sc, sin2, (const int[]){0, 0, 0}, 3);
  mlx_array su1 = RND(2, 1, 4);
  mlx_array i1 = IDX1(2, 1, 3);
  mlx_array sin3[3] = {sab, i1, su1};
  ictx sn = {.nidx = 1, .axes = {0}, .mode = 0};
  check_vmap("scatter: only a batched", fn_scatter_in, &sn, sin3, (const int[]){0, MLX_VMAP_NONE, MLX_VMAP_NONE}, 3);
  ictx sp = {.nidx = 1, .axes = {0}, .mode = 2};
  check_vmap("scatter_prod: all batched", fn_scatter_in, &sp, sin2, (const int[]){0, 0, 0}, 3);
  ictx smx = {.nidx = 1, .axes = {0}, .mode = 3};
  mlx_array sit = mlx_array_new();
  mlx_transpose(&sit, si, NULL, 0, S);
  mlx_array sin4[3] = {sab, sit, su};
  check_vmap("scatter_max: indices batched on axis 1", fn_scatter_in, &smx, sin4, (const int[]){0, 1, 0}, 3);
  mlx_array_free(a), mlx_array_free(ab1), mlx_array_free(i), mlx_array_free(a2), mlx_array_free(it);
  mlx_array_free(j), mlx_array_free(ta_i), mlx_array_free(ta_1);
  mlx_array_free(sa), mlx_array_free(si), mlx_array_free(su);
  mlx_array_free(sab), mlx_array_free(su1), mlx_array_free(i1), mlx_array_free(sit);
}

/* Grad of grad: g(x) = d/dx sum(take(x, idx)^3), differentiated again
 * (through scatter_add's rules). */
static int inner(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  ictx* c = payload;
  mlx_array x = mlx_array_new(), t = mlx_array_new(), p = mlx_array_new(), three = mlx_array_new(),
            s = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_take(&t, x, c->idx[0], c->axis, S);
  if (!rc) rc = mlx_array_new_float(&three, 3, MLX_FLOAT64);
  if (!rc) rc = mlx_power(&p, t, three, S);
  if (!rc) rc = mlx_sum(&s, p, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(p), mlx_array_free(three), mlx_array_free(s);
  return rc;
}

static int fn_grad_inner(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_closure f = mlx_closure_new(inner, ctx, NULL);
  mlx_vector_array inputs = mlx_vector_array_new(), vals = mlx_vector_array_new(), gs = mlx_vector_array_new();
  mlx_vector_array_append(inputs, in[0]);
  int argnums[1] = {0};
  int rc = mlx_value_and_grad(vals, gs, f, inputs, argnums, 1);
  if (!rc) rc = mlx_vector_array_get(out, gs, 0);
  mlx_vector_array_free(inputs), mlx_vector_array_free(vals), mlx_vector_array_free(gs);
  mlx_closure_free(f);
  return rc;
}

TEST(grad_of_grad) {
  mlx_array x = RND(4, 3);
  ictx t = {.idx = {IDX1(3, 1, 3, 1)}, .nidx = 1, .axis = 0};
  check_grad("grad of grad through take", fn_grad_inner, &t, &x, 1);
  mlx_array_free(x);
  free_ctx(&t);
}

int main(void) {
  RUN(gather_grads);
  RUN(scatter_grads);
  RUN(vmaps);
  RUN(grad_of_grad);
  return harness_report();
}
