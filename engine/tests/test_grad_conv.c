/* Transform rules of the conv primitive: vjp and jvp of both operands
 * against finite differences (check_grad) over strides, paddings (in
 * dilated coordinates too), dilations, groups, flips and 1-3 spatial
 * dims, conv_transpose and convolve built on it, grad of grad, and vmap
 * against a loop (check_vmap) with the input, the weight or both batched,
 * on axes other than 0. */
#include "gradcheck.h"
#include "mlx/conv.h"

static unsigned seed_state = 11;

static mlx_array rnd(const int64_t* shape, int ndim) {
  mlx_array z = mlx_array_new();
  mlx_zeros(&z, shape, ndim, MLX_FLOAT64, S);
  mlx_array r = gc_random_like(z, &seed_state);
  mlx_array_free(z);
  return r;
}
#define RND(...) rnd((const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

typedef struct {
  int nsp;
  int stride[3], lo[3], hi[3], kd[3], id[3];
  int groups, flip;
} conv_ctx;

static int fn_conv(mlx_array* out, const mlx_array* in, void* ctx) {
  conv_ctx* c = ctx;
  size_t n = (size_t)c->nsp;
  return mlx_conv_general(out, in[0], in[1], c->stride, n, c->lo, n, c->hi, n, c->kd, n, c->id, n, c->groups,
                          c->flip, S);
}

typedef struct {
  int stride, padding, dilation, output_padding, groups;
} ct_ctx;

static int fn_conv_transpose1d(mlx_array* out, const mlx_array* in, void* ctx) {
  ct_ctx* c = ctx;
  return mlx_conv_transpose1d(out, in[0], in[1], c->stride, c->padding, c->dilation, c->output_padding, c->groups, S);
}

static int fn_convolve(mlx_array* out, const mlx_array* in, void* ctx) {
  return mlx_convolve(out, in[0], in[1], (const char*)ctx, S);
}

/* sum(grad_x(sum(conv(x, w)^2))): second derivatives through the rules. */
static int grad_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array in[2] = {mlx_array_new(), mlx_array_new()}, y = mlx_array_new(), sq = mlx_array_new(),
            tot = mlx_array_new();
  mlx_vector_array_get(&in[0], inputs, 0);
  mlx_vector_array_get(&in[1], inputs, 1);
  int rc = fn_conv(&y, in, payload);
  if (!rc) rc = mlx_square(&sq, y, S);
  if (!rc) rc = mlx_sum(&tot, sq, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, tot);
  mlx_array_free(in[0]), mlx_array_free(in[1]), mlx_array_free(y), mlx_array_free(sq), mlx_array_free(tot);
  return rc;
}

static int fn_grad_of_conv(mlx_array* out, const mlx_array* in, void* ctx) {
  mlx_closure f = mlx_closure_new(grad_closure, ctx, NULL);
  mlx_vector_array args = mlx_vector_array_new(), vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  mlx_vector_array_append(args, in[0]);
  mlx_vector_array_append(args, in[1]);
  int argnums[2] = {0, 1};
  int rc = mlx_value_and_grad(vals, grads, f, args, argnums, 2);
  mlx_array gx = mlx_array_new(), gw = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new();
  if (!rc) rc = mlx_vector_array_get(&gx, grads, 0);
  if (!rc) rc = mlx_vector_array_get(&gw, grads, 1);
  if (!rc) rc = mlx_sum(&a, gx, 0, S);
  if (!rc) rc = mlx_sum(&b, gw, 0, S);
  if (!rc) rc = mlx_add(out, a, b, S);
  mlx_array_free(gx), mlx_array_free(gw), mlx_array_free(a), mlx_array_free(b);
  mlx_vector_array_free(args), mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  mlx_closure_free(f);
  return rc;
}

typedef struct {
  const char* name;
  conv_ctx c;
  int64_t xs[5], ws[5];
} grad_case;

static const grad_case cases[] = {
    {"1d plain", {1, {1}, {0}, {0}, {1}, {1}, 1, 0}, {2, 7, 3}, {4, 3, 3}},
    {"1d stride 2 pad (1,2)", {1, {2}, {1}, {2}, {1}, {1}, 1, 0}, {2, 8, 2}, {3, 3, 2}},
    {"1d stride 3 uneven", {1, {3}, {0}, {1}, {1}, {1}, 1, 0}, {1, 10, 2}, {2, 2, 2}},
    {"1d kernel dilation", {1, {1}, {2}, {1}, {2}, {1}, 1, 0}, {2, 7, 2}, {3, 3, 2}},
    {"1d input dilation + flip", {1, {1}, {2}, {1}, {1}, {2}, 1, 1}, {1, 5, 2}, {2, 3, 2}},
    {"1d groups 2", {1, {2}, {1}, {1}, {1}, {1}, 2, 0}, {2, 7, 4}, {6, 3, 2}},
    {"1d groups + flip + dilations", {1, {2}, {1}, {0}, {2}, {2}, 2, 1}, {1, 6, 4}, {4, 2, 2}},
    {"1d padding > kernel", {1, {1}, {4}, {3}, {1}, {1}, 1, 0}, {1, 3, 2}, {2, 2, 2}},
    {"1d negative padding", {1, {1}, {-1}, {-2}, {1}, {1}, 1, 0}, {2, 8, 2}, {2, 3, 2}},
    {"1x1", {1, {1}, {0}, {0}, {1}, {1}, 1, 0}, {2, 5, 3}, {4, 1, 3}},
    {"2d pad 1", {2, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, 0}, {2, 5, 4, 3}, {4, 3, 3, 3}},
    {"2d strides dilations groups", {2, {2, 1}, {1, 0}, {0, 2}, {1, 2}, {1, 1}, 2, 0}, {1, 6, 5, 4}, {2, 2, 2, 2}},
    {"2d flip input dilation", {2, {1, 2}, {1, 1}, {0, 1}, {1, 1}, {2, 1}, 1, 1}, {1, 3, 5, 2}, {2, 2, 3, 2}},
    {"3d", {3, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 2}, {1, 1, 1}, 1, 0}, {1, 3, 4, 4, 2}, {2, 2, 2, 2, 2}},
};

TEST(conv_grad) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const grad_case* g = &cases[i];
    int nd = g->c.nsp + 2;
    mlx_array in[2] = {rnd(g->xs, nd), rnd(g->ws, nd)};
    check_grad(g->name, fn_conv, (void*)&g->c, in, 2);
    mlx_array_free(in[0]), mlx_array_free(in[1]);
  }
}

TEST(transpose_and_convolve_grad) {
  ct_ctx c1 = {2, 1, 1, 1, 1}, c2 = {3, 0, 2, 0, 2};
  mlx_array a[2] = {RND(2, 4, 3), RND(5, 3, 3)}, b[2] = {RND(1, 4, 4), RND(4, 2, 2)};
  check_grad("conv_transpose1d stride 2 output_padding", fn_conv_transpose1d, &c1, a, 2);
  check_grad("conv_transpose1d groups dilation", fn_conv_transpose1d, &c2, b, 2);
  mlx_array u[2] = {RND(7), RND(3)}, v[2] = {RND(2), RND(6)};
  check_grad("convolve full", fn_convolve, "full", u, 2);
  check_grad("convolve same (swapped)", fn_convolve, "same", v, 2);
  check_grad("convolve valid", fn_convolve, "valid", u, 2);
  for (int i = 0; i < 2; i++) mlx_array_free(a[i]), mlx_array_free(b[i]), mlx_array_free(u[i]), mlx_array_free(v[i]);
}

TEST(grad_of_grad) {
  conv_ctx c = {1, {2}, {1}, {1}, {1}, {1}, 2, 0};
  mlx_array in[2] = {RND(1, 6, 4), RND(4, 3, 2)};
  check_grad("grad of conv", fn_grad_of_conv, &c, in, 2);
  conv_ctx c2 = {2, {1, 1}, {1, 0}, {0, 1}, {1, 1}, {1, 2}, 1, 1};
  mlx_array in2[2] = {RND(1, 3, 3, 2), RND(2, 2, 2, 2)};
  check_grad("grad of conv 2d flip input dilation", fn_grad_of_conv, &c2, in2, 2);
  mlx_array_free(in[0]), mlx_array_free(in[1]), mlx_array_free(in2[0]), mlx_array_free(in2[1]);
}

TEST(conv_vmap) {
  conv_ctx c1 = {1, {2}, {1}, {0}, {1}, {1}, 1, 0}, cg = {1, {1}, {1}, {1}, {2}, {1}, 2, 1};
  conv_ctx c2 = {2, {1, 2}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, 2, 0};
  /* input batched (axis 0 and 2), weight unbatched */
  mlx_array x0 = RND(3, 2, 7, 4), x2 = RND(2, 7, 3, 4), w = RND(4, 3, 4), wg = RND(4, 3, 2);
  mlx_array in_a[2] = {x0, w}, in_b[2] = {x2, w}, in_g[2] = {x0, wg};
  check_vmap("vmap input axis 0", fn_conv, &c1, in_a, (int[]){0, MLX_VMAP_NONE}, 2);
  check_vmap("vmap input axis 2", fn_conv, &c1, in_b, (int[]){2, MLX_VMAP_NONE}, 2);
  check_vmap("vmap input groups", fn_conv, &cg, in_g, (int[]){0, MLX_VMAP_NONE}, 2);
  /* weight batched (axis 0 and last), input unbatched */
  mlx_array x = RND(2, 7, 4), wb0 = RND(3, 4, 3, 4), wbl = RND(4, 3, 4, 3), wbg = RND(3, 4, 3, 2);
  mlx_array in_c[2] = {x, wb0}, in_d[2] = {x, wbl}, in_e[2] = {x, wbg};
  check_vmap("vmap weight axis 0", fn_conv, &c1, in_c, (int[]){MLX_VMAP_NONE, 0}, 2);
  check_vmap("vmap weight last axis", fn_conv, &c1, in_d, (int[]){MLX_VMAP_NONE, 3}, 2);
  check_vmap("vmap weight groups", fn_conv, &cg, in_e, (int[]){MLX_VMAP_NONE, 0}, 2);
  /* both batched */
  mlx_array in_f[2] = {x0, wb0}, in_h[2] = {x2, wbg};
  check_vmap("vmap both", fn_conv, &c1, in_f, (int[]){0, 0}, 2);
  check_vmap("vmap both groups, input axis 2", fn_conv, &cg, in_h, (int[]){2, 0}, 2);
  /* 2-D with groups, both batched */
  mlx_array x2d = RND(2, 1, 5, 6, 4), w2d = RND(2, 4, 3, 2, 2);
  mlx_array in_2d[2] = {x2d, w2d};
  check_vmap("vmap 2d groups both", fn_conv, &c2, in_2d, (int[]){0, 0}, 2);
  mlx_array w2u = RND(4, 3, 2, 2), in_2u[2] = {x2d, w2u};
  check_vmap("vmap 2d input", fn_conv, &c2, in_2u, (int[]){0, MLX_VMAP_NONE}, 2);
  mlx_array_free(w2u);
  mlx_array_free(x0), mlx_array_free(x2), mlx_array_free(w), mlx_array_free(wg), mlx_array_free(x);
  mlx_array_free(wb0), mlx_array_free(wbl), mlx_array_free(wbg), mlx_array_free(x2d), mlx_array_free(w2d);
}

int main(void) {
  RUN(conv_grad);
  RUN(transpose_and_convolve_grad);
  RUN(grad_of_grad);
  RUN(conv_vmap);
  return harness_report();
}
