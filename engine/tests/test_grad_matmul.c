/* Transform rules of the matmul family (mlx/matmul.h): vjp and jvp against
 * finite differences (check_grad) and vmap against a loop over the batch
 * (check_vmap) for addmm, inner, outer, tensordot, kron, einsum,
 * block_masked_mm, gather_mm, segmented_mm and the Hadamard transform,
 * with the batch on axis 0, on other axes and unbatched operands; grad of
 * grad for gather_mm, the Hadamard transform and einsum. The composites
 * get their rules from the ops they are built of; gather_mm, segmented_mm
 * and the Hadamard transform are primitives with rules of their own. */
#include "gradcheck.h"
#include "mlx/matmul.h"

static unsigned seed_state = 11;

/* A float64 array of the given shape, values in [-1, 1). */
static mlx_array rnd(const int64_t* shape, int ndim) {
  mlx_array z = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  mlx_array r = gc_random_like(z, &seed_state);
  mlx_array_free(z);
  return r;
}

#define SHP(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define RND(...) rnd(SHP(__VA_ARGS__))

static mlx_array ints(const int64_t* v, const int64_t* shape, int ndim) {
  mlx_array a = mlx_array_new();
  mlx_array_new_data(&a, v, shape, ndim, MLX_INT64);
  return a;
}

static void free_all(mlx_array* a, int n) {
  for (int i = 0; i < n; i++) mlx_array_free(a[i]);
}

/* ---- the ops as op_fn ------------------------------------------------------ */

typedef struct {
  float alpha, beta;
} addmm_ctx;

static int fn_addmm(mlx_array* out, const mlx_array* in, void* ctx) {
  addmm_ctx* c = ctx;
  return mlx_addmm(out, in[0], in[1], in[2], c->alpha, c->beta, S);
}

static int fn_inner(mlx_array* out, const mlx_array* in, void* ctx) { return mlx_inner(out, in[0], in[1], S); }
static int fn_outer(mlx_array* out, const mlx_array* in, void* ctx) { return mlx_outer(out, in[0], in[1], S); }
static int fn_kron(mlx_array* out, const mlx_array* in, void* ctx) { return mlx_kron(out, in[0], in[1], S); }

typedef struct {
  int n;
  int xa[3], xb[3];
} td_ctx;

static int fn_tensordot(mlx_array* out, const mlx_array* in, void* ctx) {
  td_ctx* c = ctx;
  return mlx_tensordot_axes(out, in[0], in[1], c->xa, c->xb, (size_t)c->n, S);
}

typedef struct {
  const char* sub;
  int n;
} ein_ctx;

static int fn_einsum(mlx_array* out, const mlx_array* in, void* ctx) {
  ein_ctx* c = ctx;
  return mlx_einsum(out, c->sub, in, (size_t)c->n, S);
}

/* block_masked_mm with inputs a, b and the masks the ctx names (the
 * following inputs, in the order out, lhs, rhs). */
typedef struct {
  int has_out, has_lhs, has_rhs;
} bm_ctx;

static int fn_block_masked(mlx_array* out, const mlx_array* in, void* ctx) {
  bm_ctx* c = ctx;
  int k = 2;
  mlx_array mo = c->has_out ? in[k++] : mlx_array_new();
  mlx_array ml = c->has_lhs ? in[k++] : mlx_array_new();
  mlx_array mr = c->has_rhs ? in[k++] : mlx_array_new();
  return mlx_block_masked_mm(out, in[0], in[1], 32, mo, ml, mr, S);
}

/* gather_mm(a, b, in[2], in[3]); has_rhs 0: no rhs indices. */
typedef struct {
  int has_rhs, sorted;
} gm_ctx;

static int fn_gather_mm(mlx_array* out, const mlx_array* in, void* ctx) {
  gm_ctx* c = ctx;
  return mlx_gather_mm(out, in[0], in[1], in[2], c->has_rhs ? in[3] : mlx_array_new(), c->sorted, S);
}

/* gather_mm with b first: in[0] = b, in[1] = a (for grads wrt b). */
static int fn_gather_mm_b(mlx_array* out, const mlx_array* in, void* ctx) {
  gm_ctx* c = ctx;
  return mlx_gather_mm(out, in[1], in[0], in[2], in[3], c->sorted, S);
}

static int fn_segmented(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_segmented_mm(out, in[0], in[1], in[2], S);
}

typedef struct {
  int has_scale;
  float scale;
} had_ctx;

static int fn_hadamard(mlx_array* out, const mlx_array* in, void* ctx) {
  had_ctx* c = ctx;
  return mlx_hadamard_transform(out, in[0], c->has_scale, c->scale, S);
}

/* ---- vjp / jvp ---------------------------------------------------------------- */

TEST(products_grad) {
  addmm_ctx a1 = {1, 1}, a2 = {2.5f, -0.5f};
  mlx_array in1[3] = {RND(4), RND(2, 3), RND(3, 4)}, in2[3] = {RND(2, 1, 4), RND(2, 2, 3), RND(1, 3, 4)};
  mlx_array in3[3] = {RND(1), RND(3), RND(3, 2)};
  check_grad("addmm", fn_addmm, &a1, in1, 3);
  check_grad("addmm alpha beta batched", fn_addmm, &a2, in2, 3);
  check_grad("addmm 1-D", fn_addmm, &a2, in3, 3);
  mlx_array p1[2] = {RND(2, 3), RND(4, 3)}, p2[2] = {RND(3), RND(2, 2)}, p3[2] = {RND(2, 2), RND(3, 1, 2)};
  check_grad("inner", fn_inner, NULL, p1, 2);
  check_grad("outer", fn_outer, NULL, p2, 2);
  check_grad("kron", fn_kron, NULL, p3, 2);
  td_ctx t1 = {2, {1, 2}, {0, 1}}, t2 = {2, {2, 0}, {0, 2}}, t0 = {0, {0}, {0}};
  mlx_array q1[2] = {RND(2, 3, 4), RND(3, 4, 2)}, q2[2] = {RND(2, 3, 4), RND(4, 3, 2)}, q0[2] = {RND(2), RND(3)};
  check_grad("tensordot 2", fn_tensordot, &t1, q1, 2);
  check_grad("tensordot out of order", fn_tensordot, &t2, q2, 2);
  check_grad("tensordot 0", fn_tensordot, &t0, q0, 2);
  free_all(in1, 3), free_all(in2, 3), free_all(in3, 3);
  free_all(p1, 2), free_all(p2, 2), free_all(p3, 2), free_all(q1, 2), free_all(q2, 2), free_all(q0, 2);
}

TEST(einsum_grad) {
  struct {
    ein_ctx c;
    int64_t shapes[4][4];
    int ndims[4];
  } cases[] = {
      {{"ij,jk->ik", 2}, {{2, 3}, {3, 4}}, {2, 2}},
      {{"ii->i", 1}, {{3, 3}}, {2}},
      {{"ii", 1}, {{3, 3}}, {2}},
      {{"iji->j", 1}, {{3, 2, 3}}, {3}},
      {{"ijk,jil->kl", 2}, {{2, 3, 4}, {3, 2, 5}}, {3, 3}},
      {{"...ij,...jk", 2}, {{2, 1, 3, 4}, {5, 4, 2}}, {4, 3}},
      {{"ij,jk,kl->il", 3}, {{2, 3}, {3, 4}, {4, 2}}, {2, 2, 2}},
      {{"i,j,k->ijk", 3}, {{2}, {3}, {2}}, {1, 1, 1}},
      {{"i,i", 2}, {{1}, {3}}, {1, 1}},
      {{"ij->ji", 1}, {{2, 3}}, {2}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mlx_array in[4];
    for (int k = 0; k < cases[i].c.n; k++) in[k] = rnd(cases[i].shapes[k], cases[i].ndims[k]);
    check_grad(cases[i].c.sub, fn_einsum, &cases[i].c, in, cases[i].c.n);
    free_all(in, cases[i].c.n);
  }
}

TEST(masked_gathered_segmented_grad) {
  /* block masks: bool masks select, float masks scale (and get gradients) */
  uint8_t ml[2][1] = {{1}, {0}};
  mlx_array lhs = mlx_array_new();
  mlx_array_new_data(&lhs, ml, SHP(2, 1), MLX_BOOL);
  mlx_array in[5] = {RND(40, 20), RND(20, 36), RND(2, 2), lhs};
  bm_ctx c1 = {1, 1, 0};
  check_grad("block_masked_mm", fn_block_masked, &c1, in, 4);
  free_all(in, 4);
  /* gather_mm: cotangents summed into the picked batch entries */
  int64_t li[4] = {2, 0, 2, 1}, ri[4] = {1, 1, 0, 1};
  mlx_array g[4] = {RND(3, 2, 4), RND(2, 4, 3), ints(li, SHP(4)), ints(ri, SHP(4))};
  gm_ctx both = {1, 0}, lhs_only = {0, 0}, sorted = {1, 1};
  check_grad("gather_mm", fn_gather_mm, &both, g, 4);
  /* sorted rhs indices: d b by segmented_mm (index 1 unused) */
  int64_t rs[5] = {0, 0, 2, 2, 2}, ls[5] = {1, 0, 2, 2, 1};
  mlx_array gs[4] = {RND(3, 2, 4), RND(3, 4, 3), ints(ls, SHP(5)), ints(rs, SHP(5))};
  check_grad("gather_mm sorted rhs", fn_gather_mm, &sorted, gs, 4);
  free_all(gs, 4);
  mlx_array g2[3] = {RND(3, 2, 4), RND(4, 3), ints(li, SHP(2, 2))};
  check_grad("gather_mm lhs only, 2-D b", fn_gather_mm, &lhs_only, g2, 3);
  int64_t zero[4] = {0, 0, 0, 0};
  mlx_array g3[4] = {RND(4), RND(2, 4, 3), ints(zero, SHP(4)), ints(ri, SHP(4))};
  check_grad("gather_mm 1-D a", fn_gather_mm, &both, g3, 4);
  /* segmented_mm */
  int64_t seg[3][2] = {{0, 2}, {1, 5}, {3, 3}};
  mlx_array s[3] = {RND(3, 5), RND(5, 2), ints(&seg[0][0], SHP(3, 2))};
  check_grad("segmented_mm", fn_segmented, NULL, s, 3);
  int64_t seg2[2][2][2] = {{{-2, 3}, {4, 9}}, {{2, 0}, {0, 5}}};
  mlx_array s2[3] = {RND(2, 5), RND(5, 3), ints(&seg2[0][0][0], SHP(2, 2, 2))};
  check_grad("segmented_mm clamped, 2-D segments", fn_segmented, NULL, s2, 3);
  free_all(s2, 3);
  free_all(g, 4), free_all(g2, 3), free_all(g3, 4), free_all(s, 3);
}

TEST(hadamard_grad) {
  had_ctx dflt = {0, 0}, two = {1, 2.0f};
  mlx_array x8 = RND(3, 8), x12 = RND(2, 12), x20 = RND(20), x28 = RND(2, 28), x40 = RND(40);
  check_grad("hadamard 8", fn_hadamard, &dflt, &x8, 1);
  check_grad("hadamard 12", fn_hadamard, &two, &x12, 1);
  /* H_20 and H_28 are not symmetric: the vjp must use the transpose */
  check_grad("hadamard 20", fn_hadamard, &dflt, &x20, 1);
  check_grad("hadamard 28", fn_hadamard, &two, &x28, 1);
  check_grad("hadamard 40", fn_hadamard, &dflt, &x40, 1);
  mlx_array xs[5] = {x8, x12, x20, x28, x40};
  free_all(xs, 5);
}

/* ---- vmap ---------------------------------------------------------------------- */

TEST(family_vmap) {
  addmm_ctx a2 = {2.5f, -0.5f};
  mlx_array am[3] = {RND(5, 4), RND(5, 2, 3), RND(3, 4)};
  int ax_am[3] = {0, 0, MLX_VMAP_NONE};
  check_vmap("addmm", fn_addmm, &a2, am, ax_am, 3);
  ein_ctx e1 = {"ij,jk->ik", 2}, e2 = {"ii->i", 1}, e3 = {"ij,jk,kl->il", 3};
  mlx_array ea[2] = {RND(2, 5, 3), RND(3, 4)};
  int ax_ea[2] = {1, MLX_VMAP_NONE};
  check_vmap("einsum batch axis 1", fn_einsum, &e1, ea, ax_ea, 2);
  mlx_array eb = RND(3, 3, 4);
  int ax_eb[1] = {2};
  check_vmap("einsum diagonal", fn_einsum, &e2, &eb, ax_eb, 1);
  mlx_array ec[3] = {RND(4, 2, 3), RND(3, 4, 4), RND(4, 2)};
  int ax_ec[3] = {0, 2, MLX_VMAP_NONE};
  check_vmap("einsum three operands", fn_einsum, &e3, ec, ax_ec, 3);
  td_ctx t1 = {1, {1}, {0}};
  mlx_array td[2] = {RND(2, 3, 4), RND(3, 4, 5)};
  int ax_td[2] = {2, 1};
  check_vmap("tensordot", fn_tensordot, &t1, td, ax_td, 2);
  mlx_array kr[2] = {RND(3, 2), RND(2, 2)};
  int ax_kr[2] = {0, MLX_VMAP_NONE};
  check_vmap("kron", fn_kron, NULL, kr, ax_kr, 2);
  /* gather_mm: each operand batched or not, the indices batched too */
  int64_t li[4] = {2, 0, 2, 1}, ri[4] = {1, 1, 0, 1}, lb[12] = {0, 1, 2, 2, 1, 0, 1, 1, 1, 0, 0, 2};
  gm_ctx both = {1, 0}, sorted = {1, 1};
  mlx_array g1[4] = {RND(5, 3, 2, 4), RND(2, 4, 3), ints(li, SHP(4)), ints(ri, SHP(4))};
  int ax1[4] = {0, MLX_VMAP_NONE, MLX_VMAP_NONE, MLX_VMAP_NONE};
  check_vmap("gather_mm batched a", fn_gather_mm, &both, g1, ax1, 4);
  mlx_array g2[4] = {RND(3, 2, 4), RND(2, 4, 3, 5), ints(li, SHP(4)), ints(ri, SHP(4))};
  int ax2[4] = {MLX_VMAP_NONE, 3, MLX_VMAP_NONE, MLX_VMAP_NONE};
  check_vmap("gather_mm batched b on the last axis", fn_gather_mm, &both, g2, ax2, 4);
  mlx_array g3[4] = {RND(3, 2, 4), RND(2, 4, 3), ints(lb, SHP(4, 3)), ints(ri, SHP(4))};
  int ax3[4] = {MLX_VMAP_NONE, MLX_VMAP_NONE, 1, MLX_VMAP_NONE};
  check_vmap("gather_mm batched indices", fn_gather_mm, &both, g3, ax3, 4);
  mlx_array g4[4] = {RND(3, 3, 2, 4), RND(3, 2, 4, 3), ints(lb, SHP(3, 4)), ints(ri, SHP(4))};
  int ax4[4] = {0, 0, 0, MLX_VMAP_NONE};
  check_vmap("gather_mm all batched", fn_gather_mm, &both, g4, ax4, 4);
  check_vmap("gather_mm sorted, batched a", fn_gather_mm, &sorted, g1, ax1, 4);
  /* Hadamard: batch on the transformed axis, and elsewhere */
  had_ctx dflt = {0, 0};
  mlx_array h1 = RND(4, 12), h2 = RND(3, 8);
  int axh1[1] = {1}, axh0[1] = {0};
  check_vmap("hadamard batch on last axis", fn_hadamard, &dflt, &h1, axh1, 1);
  check_vmap("hadamard batch in front", fn_hadamard, &dflt, &h2, axh0, 1);
  int64_t seg[2][2] = {{0, 2}, {1, 5}};
  mlx_array sg[3] = {RND(3, 4, 5), RND(5, 2), ints(&seg[0][0], SHP(2, 2))};
  int axs[3] = {0, MLX_VMAP_NONE, MLX_VMAP_NONE};
  check_vmap("segmented_mm", fn_segmented, NULL, sg, axs, 3);
  int64_t segb[3][2][2] = {{{0, 2}, {1, 5}}, {{3, 3}, {-1, 9}}, {{4, 1}, {2, 4}}};
  mlx_array sg2[3] = {RND(4, 5), RND(5, 2, 3), ints(&segb[0][0][0], SHP(3, 2, 2))};
  int axs2[3] = {MLX_VMAP_NONE, 2, 0}, axs3[3] = {MLX_VMAP_NONE, MLX_VMAP_NONE, 0}, axs4[3] = {1, MLX_VMAP_NONE, 0};
  check_vmap("segmented_mm batched b and segments", fn_segmented, NULL, sg2, axs2, 3);
  mlx_array sg3[3] = {RND(4, 5), RND(5, 2), ints(&segb[0][0][0], SHP(3, 2, 2))};
  check_vmap("segmented_mm batched segments", fn_segmented, NULL, sg3, axs3, 3);
  mlx_array sg4[3] = {RND(4, 3, 5), RND(5, 2), ints(&segb[0][0][0], SHP(3, 2, 2))};
  check_vmap("segmented_mm batched a (axis 1) and segments", fn_segmented, NULL, sg4, axs4, 3);
  free_all(sg2, 3), free_all(sg3, 3), free_all(sg4, 3);
  free_all(am, 3), free_all(ea, 2), mlx_array_free(eb), free_all(ec, 3), free_all(td, 2), free_all(kr, 2);
  free_all(g1, 4), free_all(g2, 4), free_all(g3, 4), free_all(g4, 4), mlx_array_free(h1), mlx_array_free(h2);
  free_all(sg, 3);
}

/* ---- grad of grad ---------------------------------------------------------------- */

/* sum(f(x, ...)^2)'s gradient wrt x, as a function (so its own vjp runs
 * the rules of the rules). */
typedef struct {
  op_fn fn;
  void* ctx;
  int nin;
  const mlx_array* rest; /* inputs after x, fixed */
} inner_ctx;

static int sq_sum(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  inner_ctx* c = payload;
  mlx_array in[4], y = mlx_array_new(), y2 = mlx_array_new(), s = mlx_array_new();
  in[0] = mlx_array_new();
  mlx_vector_array_get(&in[0], inputs, 0);
  for (int i = 1; i < c->nin; i++) in[i] = c->rest[i - 1];
  int rc = c->fn(&y, in, c->ctx);
  if (!rc) rc = mlx_square(&y2, y, S);
  if (!rc) rc = mlx_sum(&s, y2, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(in[0]), mlx_array_free(y), mlx_array_free(y2), mlx_array_free(s);
  return rc;
}

static int fn_grad_of(mlx_array* out, const mlx_array* in, void* ctx) {
  inner_ctx* c = ctx;
  mlx_closure f = mlx_closure_new(sq_sum, c, NULL);
  mlx_vector_array xs = mlx_vector_array_new(), vals = mlx_vector_array_new(), gs = mlx_vector_array_new();
  int arg = 0;
  mlx_vector_array_append(xs, in[0]);
  int rc = mlx_value_and_grad(vals, gs, f, xs, &arg, 1);
  if (!rc) rc = mlx_vector_array_get(out, gs, 0);
  mlx_vector_array_free(xs), mlx_vector_array_free(vals), mlx_vector_array_free(gs);
  mlx_closure_free(f);
  return rc;
}

TEST(grad_of_grad) {
  int64_t li[3] = {1, 0, 1}, ri[3] = {0, 1, 1};
  mlx_array rest[3] = {RND(2, 4, 3), ints(li, SHP(3)), ints(ri, SHP(3))};
  gm_ctx both = {1, 0}, sorted = {1, 1};
  inner_ctx gm = {fn_gather_mm, &both, 4, rest};
  mlx_array a = RND(2, 2, 4);
  check_grad("grad of gather_mm grad", fn_grad_of, &gm, &a, 1);
  /* wrt b with sorted rhs indices: the segmented_mm path's own rules */
  int64_t rs[3] = {0, 1, 1};
  mlx_array rest2[3] = {RND(2, 2, 4), ints(li, SHP(3)), ints(rs, SHP(3))};
  mlx_array bb = RND(2, 4, 3);
  /* x is b here: in[0] = a, in[1] = b, so wrap with the operands swapped */
  inner_ctx gs = {fn_gather_mm_b, &sorted, 4, rest2};
  check_grad("grad of sorted gather_mm grad wrt b", fn_grad_of, &gs, &bb, 1);
  free_all(rest2, 3), mlx_array_free(bb);
  had_ctx dflt = {0, 0};
  inner_ctx hd = {fn_hadamard, &dflt, 1, NULL};
  mlx_array x = RND(2, 20);
  check_grad("grad of hadamard grad", fn_grad_of, &hd, &x, 1);
  ein_ctx e = {"ij,jk->ik", 2};
  mlx_array w = RND(3, 2);
  inner_ctx ei = {fn_einsum, &e, 2, &w};
  mlx_array y = RND(4, 3);
  check_grad("grad of einsum grad", fn_grad_of, &ei, &y, 1);
  free_all(rest, 3), mlx_array_free(a), mlx_array_free(x), mlx_array_free(w), mlx_array_free(y);
}

int main(void) {
  RUN(products_grad);
  RUN(einsum_grad);
  RUN(masked_gathered_segmented_grad);
  RUN(hadamard_grad);
  RUN(family_vmap);
  RUN(grad_of_grad);
  return harness_report();
}
