/* custom_function, checkpoint and depends. The functions here are built
 * from multiply/add/sum, whose rules have their own tests; the custom
 * rules are deliberately different from the true derivatives (10 * cot,
 * 7 * tangent) so a test can tell which rule ran. Expected values are
 * worked out by hand in the comments. */
#include "harness.h"
#include "internal.h"

static mlx_vector_array list1(mlx_array a) {
  mlx_vector_array v = mlx_vector_array_new();
  mlx_vector_array_append(v, a);
  return v;
}

static mlx_vector_array list2(mlx_array a, mlx_array b) {
  mlx_vector_array v = list1(a);
  mlx_vector_array_append(v, b);
  return v;
}

static mlx_array get(mlx_vector_array v, size_t i) {
  mlx_array a = mlx_array_new();
  mlx_vector_array_get(&a, v, i);
  return a;
}

static mlx_array scalar(double v) {
  mlx_array a = mlx_array_new();
  mlx_array_new_float(&a, v, MLX_FLOAT32);
  return a;
}

/* Returns x * k (a new handle; empty on error). */
static mlx_array times(mlx_array x, double k) {
  mlx_array c = scalar(k), r = mlx_array_new();
  mlx_multiply(&r, x, c, S);
  mlx_array_free(c);
  return r;
}

/* Counts calls and payload destructions of the closures below. */
typedef struct {
  int calls;
  int freed;
} counter;

static void count_free(void* p) {
  ((counter*)p)->freed++;
}

/* square(x) = x * x. */
static int square_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  if (payload) ((counter*)payload)->calls++;
  mlx_array x = get(inputs, 0), y = mlx_array_new();
  int rc = mlx_multiply(&y, x, x, S);
  if (!rc) rc = mlx_vector_array_append(outputs, y);
  mlx_array_free(x), mlx_array_free(y);
  return rc;
}

/* vjp rule of square: [x, cot, out] -> [10 * cot] (not 2x: a marker). */
static int square_vjp10(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  if (payload) ((counter*)payload)->calls++;
  if (mlx_vector_array_size(inputs) != 3) return MLX_ERROR_INTERNAL;
  mlx_array cot = get(inputs, 1), r = times(cot, 10);
  int rc = mlx_vector_array_append(outputs, r);
  mlx_array_free(cot), mlx_array_free(r);
  return rc;
}

/* jvp rule of square: [x, t] -> [7 * t]. */
static int square_jvp7(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  if (mlx_vector_array_size(inputs) != 2) return MLX_ERROR_INTERNAL;
  mlx_array t = get(inputs, 1), r = times(t, 7);
  int rc = mlx_vector_array_append(outputs, r);
  mlx_array_free(t), mlx_array_free(r);
  return rc;
}

/* vmap rule of square: [x, axes] -> [x * x * 100, out_axes] where the
 * output keeps x's batch axis; records the axis it was given. */
static int square_vmap(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  int* seen = payload;
  mlx_array x = get(inputs, 0), axes = get(inputs, 1), y = mlx_array_new();
  int32_t ax = -5;
  int rc = mlx_array_copy_to(&ax, sizeof ax, axes);
  *seen = ax;
  if (!rc) rc = mlx_multiply(&y, x, x, S);
  mlx_array y100 = times(y, 100);
  mlx_array oax = mlx_array_new();
  int64_t one = 1;
  if (!rc) rc = mlx_array_new_data(&oax, &ax, &one, 1, MLX_INT32);
  if (!rc) rc = mlx_vector_array_append(outputs, y100);
  if (!rc) rc = mlx_vector_array_append(outputs, oax);
  mlx_array_free(x), mlx_array_free(axes), mlx_array_free(y), mlx_array_free(y100), mlx_array_free(oax);
  return rc;
}

/* sum(f(x)) for a closure f given as payload: a scalar loss for grad. */
static int sum_of(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_closure* f = payload;
  mlx_vector_array o = mlx_vector_array_new();
  int rc = mlx_closure_apply(o, *f, inputs);
  mlx_array y = rc ? mlx_array_new() : get(o, 0), s = mlx_array_new();
  if (!rc) rc = mlx_sum(&s, y, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(y), mlx_array_free(s);
  mlx_vector_array_free(o);
  return rc;
}

static const float XV[3] = {1, 2, 3};
static const int64_t XS[1] = {3};

TEST(custom_vjp_is_used) {
  counter fc = {0}, vc = {0};
  mlx_closure fun = mlx_closure_new(square_fn, &fc, count_free);
  mlx_closure vjp = mlx_closure_new(square_vjp10, &vc, count_free);
  mlx_closure none = {NULL}, cf = {NULL};
  CHECK_OK(mlx_custom_function(&cf, fun, vjp, none, none));
  mlx_closure_free(fun);
  mlx_closure_free(vjp);
  CHECK(fc.freed == 0 && vc.freed == 0); /* cf holds them */

  mlx_array x = arr_f32(XV, XS, 1);
  float cv[3] = {1, 2, -1};
  mlx_array c = arr_f32(cv, XS, 1);
  mlx_vector_array prim = list1(x), cots = list1(c), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(outs, vjps, cf, prim, cots));
  mlx_array o = get(outs, 0), g = get(vjps, 0);
  double eo[3] = {1, 4, 9}, eg[3] = {10, 20, -10};
  CHECK_VALUES(o, eo, 3, 0);
  CHECK_VALUES(g, eg, 3, 0);
  CHECK(fc.calls == 1 && vc.calls == 1);
  mlx_array_free(o), mlx_array_free(g);

  /* Plain call outside a transform: the values of fun. */
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_closure_apply(outs, cf, prim));
  o = get(outs, 0);
  CHECK_VALUES(o, eo, 3, 0);
  mlx_array_free(o);

  /* The closures live while an op recorded by a call does (until it is
   * evaluated or released). */
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_closure_apply(outs, cf, prim));
  mlx_closure_free(cf);
  CHECK(fc.freed == 0 && vc.freed == 0);
  mlx_vector_array_clear(outs);
  CHECK(fc.freed == 1 && vc.freed == 1);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_array_free(x), mlx_array_free(c);
}

TEST(defaults_go_through_fun) {
  int seen = -5;
  mlx_closure fun = mlx_closure_new(square_fn, NULL, NULL);
  mlx_closure jvp = mlx_closure_new(square_jvp7, NULL, NULL);
  mlx_closure none = {NULL}, cf = {NULL};
  /* Only a jvp: vjp and vmap go through fun. */
  CHECK_OK(mlx_custom_function(&cf, fun, none, jvp, none));
  mlx_array x = arr_f32(XV, XS, 1), t = arr_f32(XV, XS, 1);
  mlx_vector_array prim = list1(x), tans = list1(t), outs = mlx_vector_array_new(), res = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(outs, res, cf, prim, tans));
  mlx_array g = get(res, 0);
  double eg[3] = {2, 8, 18}; /* 2x * cot with cot = x */
  CHECK_VALUES(g, eg, 3, 0);
  mlx_array_free(g);
  mlx_vector_array_clear(outs), mlx_vector_array_clear(res);
  CHECK_OK(mlx_jvp(outs, res, cf, prim, tans));
  mlx_array j = get(res, 0);
  double ej[3] = {7, 14, 21}; /* the custom jvp: 7t */
  CHECK_VALUES(j, ej, 3, 0);
  mlx_array_free(j);

  /* vmap through fun, input batched along axis 1 of a [2, 3] array. */
  float bv[6] = {1, 2, 3, 4, 5, 6};
  int64_t bs[2] = {2, 3};
  mlx_array b = arr_f32(bv, bs, 2);
  mlx_vector_array bin = list1(b);
  mlx_vector_array_clear(outs);
  int in_ax = 1, out_ax = 0;
  CHECK_OK(mlx_vmap(outs, cf, bin, &in_ax, 1, &out_ax, 1));
  mlx_array v = get(outs, 0);
  CHECK(mlx_array_ndim(v) == 2 && mlx_array_dim(v, 0) == 3 && mlx_array_dim(v, 1) == 2);
  double ev[6] = {1, 16, 4, 25, 9, 36};
  CHECK_VALUES(v, ev, 6, 0);
  mlx_array_free(v);

  /* A custom vmap: sees axis 1, returns 100 x^2 on that same axis. */
  mlx_closure vm = mlx_closure_new(square_vmap, &seen, NULL), cf2 = {NULL};
  CHECK_OK(mlx_custom_function(&cf2, fun, none, none, vm));
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_vmap(outs, cf2, bin, &in_ax, 1, &out_ax, 1));
  CHECK(seen == 1);
  v = get(outs, 0);
  CHECK(mlx_array_ndim(v) == 2 && mlx_array_dim(v, 0) == 3 && mlx_array_dim(v, 1) == 2);
  double ev100[6] = {100, 1600, 400, 2500, 900, 3600};
  CHECK_VALUES(v, ev100, 6, 0);
  mlx_array_free(v);

  /* No rule at all: the function itself. */
  mlx_closure same = {NULL};
  CHECK_OK(mlx_custom_function(&same, fun, none, none, none));
  CHECK(same.ctx == fun.ctx);
  mlx_closure_free(same);

  mlx_vector_array_free(prim), mlx_vector_array_free(tans), mlx_vector_array_free(outs), mlx_vector_array_free(res);
  mlx_vector_array_free(bin);
  mlx_array_free(x), mlx_array_free(t), mlx_array_free(b);
  mlx_closure_free(cf), mlx_closure_free(cf2), mlx_closure_free(fun), mlx_closure_free(jvp), mlx_closure_free(vm);
}

/* two(x, y) = (x * y, x + y), and its vjp [x, y, c1, c2, o1, o2] ->
 * [c1 * y + c2, c1 * x + c2] (the true one). */
static int two_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = get(inputs, 0), y = get(inputs, 1), p = mlx_array_new(), s = mlx_array_new();
  int rc = mlx_multiply(&p, x, y, S);
  if (!rc) rc = mlx_add(&s, x, y, S);
  if (!rc) rc = mlx_vector_array_append(outputs, p);
  if (!rc) rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(p), mlx_array_free(s);
  return rc;
}

static int two_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  if (mlx_vector_array_size(inputs) != 6) return MLX_ERROR_INTERNAL;
  mlx_array x = get(inputs, 0), y = get(inputs, 1), c1 = get(inputs, 2), c2 = get(inputs, 3);
  mlx_array a = mlx_array_new(), b = mlx_array_new(), ga = mlx_array_new(), gb = mlx_array_new();
  int rc = mlx_multiply(&a, c1, y, S);
  if (!rc) rc = mlx_add(&ga, a, c2, S);
  if (!rc) rc = mlx_multiply(&b, c1, x, S);
  if (!rc) rc = mlx_add(&gb, b, c2, S);
  if (!rc) rc = mlx_vector_array_append(outputs, ga);
  if (!rc) rc = mlx_vector_array_append(outputs, gb);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(c1), mlx_array_free(c2);
  mlx_array_free(a), mlx_array_free(b), mlx_array_free(ga), mlx_array_free(gb);
  return rc;
}

TEST(several_inputs_and_outputs) {
  mlx_closure fun = mlx_closure_new(two_fn, NULL, NULL), vjp = mlx_closure_new(two_vjp, NULL, NULL);
  mlx_closure none = {NULL}, cf = {NULL};
  CHECK_OK(mlx_custom_function(&cf, fun, vjp, none, none));
  float yv[3] = {4, 5, 6}, c1v[3] = {1, 1, 2}, c2v[3] = {0, 1, 1};
  mlx_array x = arr_f32(XV, XS, 1), y = arr_f32(yv, XS, 1), c1 = arr_f32(c1v, XS, 1), c2 = arr_f32(c2v, XS, 1);
  mlx_vector_array prim = list2(x, y), cots = list2(c1, c2), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  CHECK_OK(mlx_vjp(outs, vjps, cf, prim, cots));
  CHECK(mlx_vector_array_size(outs) == 2 && mlx_vector_array_size(vjps) == 2);
  mlx_array o0 = get(outs, 0), o1 = get(outs, 1), g0 = get(vjps, 0), g1 = get(vjps, 1);
  double eo0[3] = {4, 10, 18}, eo1[3] = {5, 7, 9};
  double eg0[3] = {4, 6, 13}, eg1[3] = {1, 3, 7}; /* c1*y + c2, c1*x + c2 */
  CHECK_VALUES(o0, eo0, 3, 0);
  CHECK_VALUES(o1, eo1, 3, 0);
  CHECK_VALUES(g0, eg0, 3, 0);
  CHECK_VALUES(g1, eg1, 3, 0);
  mlx_array_free(o0), mlx_array_free(o1), mlx_array_free(g0), mlx_array_free(g1);

  /* jvp through fun (no custom jvp): tangents (1, 0) give (y, 1). */
  float ov[3] = {1, 1, 1}, zv[3] = {0, 0, 0};
  mlx_array one = arr_f32(ov, XS, 1), zero = arr_f32(zv, XS, 1);
  mlx_vector_array tans = list2(one, zero);
  mlx_vector_array_clear(outs), mlx_vector_array_clear(vjps);
  CHECK_OK(mlx_jvp(outs, vjps, cf, prim, tans));
  mlx_array j0 = get(vjps, 0), j1 = get(vjps, 1);
  double ej0[3] = {4, 5, 6}, ej1[3] = {1, 1, 1};
  CHECK_VALUES(j0, ej0, 3, 0);
  CHECK_VALUES(j1, ej1, 3, 0);
  mlx_array_free(j0), mlx_array_free(j1);

  /* vmap through fun with y unbatched: outputs batched on axis 0. */
  float bv[6] = {1, 2, 3, 4, 5, 6};
  int64_t bs[2] = {2, 3};
  mlx_array b = arr_f32(bv, bs, 2);
  mlx_vector_array bin = list2(b, y);
  int in_axes[2] = {0, MLX_VMAP_NONE}, out_axes[2] = {0, 0};
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_vmap(outs, cf, bin, in_axes, 2, out_axes, 2));
  mlx_array v0 = get(outs, 0), v1 = get(outs, 1);
  double ev0[6] = {4, 10, 18, 16, 25, 36}, ev1[6] = {5, 7, 9, 8, 10, 12};
  CHECK_VALUES(v0, ev0, 6, 0);
  CHECK_VALUES(v1, ev1, 6, 0);
  mlx_array_free(v0), mlx_array_free(v1);

  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_vector_array_free(tans), mlx_vector_array_free(bin);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(c1), mlx_array_free(c2), mlx_array_free(one);
  mlx_array_free(zero), mlx_array_free(b);
  mlx_closure_free(cf), mlx_closure_free(fun), mlx_closure_free(vjp);
}

/* cube(x) = x * x * x with the true vjp 3 x^2 cot built from public ops,
 * so grad of grad goes through the custom rule: d2/dx2 sum(x^3) = 6x. */
static int cube_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = get(inputs, 0), a = mlx_array_new(), b = mlx_array_new();
  int rc = mlx_multiply(&a, x, x, S);
  if (!rc) rc = mlx_multiply(&b, a, x, S);
  if (!rc) rc = mlx_vector_array_append(outputs, b);
  mlx_array_free(x), mlx_array_free(a), mlx_array_free(b);
  return rc;
}

static int cube_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  (*(int*)payload)++;
  mlx_array x = get(inputs, 0), c = get(inputs, 1), a = mlx_array_new(), b = mlx_array_new();
  int rc = mlx_multiply(&a, x, x, S);
  mlx_array a3 = times(a, 3);
  if (!rc) rc = mlx_multiply(&b, a3, c, S);
  if (!rc) rc = mlx_vector_array_append(outputs, b);
  mlx_array_free(x), mlx_array_free(c), mlx_array_free(a), mlx_array_free(a3), mlx_array_free(b);
  return rc;
}

/* grad of sum(f(x)) as a closure: payload is the closure sum_of uses. */
static int grad_of_sum(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_closure loss = mlx_closure_new(sum_of, payload, NULL);
  mlx_vector_array vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  int argnum = 0;
  int rc = mlx_value_and_grad(vals, grads, loss, inputs, &argnum, 1);
  if (!rc) rc = mlx_vector_array_append(outputs, mlx_wrap_(mlx_vector_node_(grads, 0)));
  mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  mlx_closure_free(loss);
  return rc;
}

TEST(grad_of_grad_through_custom_vjp) {
  int vjp_calls = 0;
  mlx_closure fun = mlx_closure_new(cube_fn, NULL, NULL), vjp = mlx_closure_new(cube_vjp, &vjp_calls, NULL);
  mlx_closure none = {NULL}, cf = {NULL};
  CHECK_OK(mlx_custom_function(&cf, fun, vjp, none, none));
  mlx_closure g = mlx_closure_new(grad_of_sum, &cf, NULL);
  mlx_array x = arr_f32(XV, XS, 1);
  mlx_vector_array in = list1(x), outs = mlx_vector_array_new();
  CHECK_OK(mlx_closure_apply(outs, g, in));
  mlx_array g1 = get(outs, 0);
  double e1[3] = {3, 12, 27};
  CHECK_VALUES(g1, e1, 3, 0);
  mlx_array_free(g1);
  CHECK(vjp_calls == 1);

  /* Second derivative: sum of the gradient, differentiated again. */
  mlx_closure gg = mlx_closure_new(grad_of_sum, &g, NULL);
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_closure_apply(outs, gg, in));
  mlx_array g2 = get(outs, 0);
  double e2[3] = {6, 12, 18};
  CHECK_VALUES(g2, e2, 3, 1e-6);
  mlx_array_free(g2);
  mlx_vector_array_free(in), mlx_vector_array_free(outs);
  mlx_array_free(x);
  mlx_closure_free(gg), mlx_closure_free(g), mlx_closure_free(cf), mlx_closure_free(fun), mlx_closure_free(vjp);
}

TEST(checkpoint_recomputes) {
  counter plain = {0}, ck = {0};
  mlx_closure f_plain = mlx_closure_new(cube_fn, NULL, NULL);
  mlx_closure counted = mlx_closure_new(square_fn, &ck, NULL), cp = {NULL};
  CHECK_OK(mlx_checkpoint(&cp, counted));
  mlx_array x = arr_f32(XV, XS, 1);
  mlx_vector_array in = list1(x), vals = mlx_vector_array_new(), grads = mlx_vector_array_new();
  int argnum = 0;
  mlx_closure loss = mlx_closure_new(sum_of, &cp, NULL);
  CHECK_OK(mlx_value_and_grad(vals, grads, loss, in, &argnum, 1));
  mlx_array v = get(vals, 0), g = get(grads, 0);
  double ev[1] = {14}, eg[3] = {2, 4, 6};
  CHECK_VALUES(v, ev, 1, 0);
  CHECK_VALUES(g, eg, 3, 0);
  CHECK(ck.calls == 2); /* forward, then the recomputation in the vjp */
  mlx_array_free(v), mlx_array_free(g);

  /* Same gradient as without checkpointing, also for a longer function. */
  mlx_closure cp3 = {NULL};
  CHECK_OK(mlx_checkpoint(&cp3, f_plain));
  mlx_closure loss3 = mlx_closure_new(sum_of, &cp3, NULL);
  mlx_vector_array_clear(vals), mlx_vector_array_clear(grads);
  CHECK_OK(mlx_value_and_grad(vals, grads, loss3, in, &argnum, 1));
  g = get(grads, 0);
  double eg3[3] = {3, 12, 27};
  CHECK_VALUES(g, eg3, 3, 0);
  mlx_array_free(g);
  (void)plain;
  mlx_vector_array_free(in), mlx_vector_array_free(vals), mlx_vector_array_free(grads);
  mlx_array_free(x);
  mlx_closure_free(loss), mlx_closure_free(loss3), mlx_closure_free(cp), mlx_closure_free(cp3);
  mlx_closure_free(counted), mlx_closure_free(f_plain);
}

/* Rules that break the conventions. */
static int wrong_count_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  return MLX_OK; /* no arrays */
}

static int wrong_shape_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array s = scalar(1);
  int rc = mlx_vector_array_append(outputs, s);
  mlx_array_free(s);
  return rc;
}

static int raising_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  return MLX_ERROR_CALLBACK;
}

static int empty_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  return MLX_OK;
}

static int bad_axes_vmap(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = get(inputs, 0), ax = scalar(0.5);
  int rc = mlx_vector_array_append(outputs, x);
  if (!rc) rc = mlx_vector_array_append(outputs, ax);
  mlx_array_free(x), mlx_array_free(ax);
  return rc;
}

TEST(errors) {
  mlx_closure fun = mlx_closure_new(square_fn, NULL, NULL), none = {NULL}, cf = {NULL};
  mlx_array x = arr_f32(XV, XS, 1);
  mlx_vector_array prim = list1(x), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  mlx_closure_fn bad[3] = {wrong_count_vjp, wrong_shape_vjp, raising_vjp};
  int codes[3] = {MLX_ERROR_ARGUMENT, MLX_ERROR_SHAPE, MLX_ERROR_CALLBACK};
  for (int i = 0; i < 3; i++) {
    mlx_closure vjp = mlx_closure_new(bad[i], NULL, NULL);
    CHECK_OK(mlx_custom_function(&cf, fun, vjp, none, none)); /* releases the previous cf */
    mlx_closure_free(vjp);
    mlx_vector_array_clear(outs), mlx_vector_array_clear(vjps);
    CHECK_ERR(mlx_vjp(outs, vjps, cf, prim, prim), codes[i]);
  }
  mlx_closure vm = mlx_closure_new(bad_axes_vmap, NULL, NULL);
  CHECK_OK(mlx_custom_function(&cf, fun, none, none, vm));
  int ax = 0;
  mlx_vector_array_clear(outs);
  CHECK_ERR(mlx_vmap(outs, cf, prim, &ax, 1, &ax, 1), MLX_ERROR_ARGUMENT);

  mlx_closure empty = mlx_closure_new(empty_fn, NULL, NULL);
  CHECK_OK(mlx_custom_function(&cf, empty, vm, none, none));
  mlx_vector_array_clear(outs);
  CHECK_ERR(mlx_closure_apply(outs, cf, prim), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_custom_function(&cf, none, vm, none, none), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_checkpoint(NULL, fun), MLX_ERROR_ARGUMENT);
  mlx_vector_array nil_list = {NULL};
  CHECK_ERR(mlx_depends(outs, nil_list, prim), MLX_ERROR_ARGUMENT);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_array_free(x);
  mlx_closure_free(cf), mlx_closure_free(fun), mlx_closure_free(vm), mlx_closure_free(empty);
}

/* f(x, d) = depends([x], [d])[0] * 2: the gradient reaches x only. */
static int dep_fn(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = get(inputs, 0), d = get(inputs, 1);
  mlx_vector_array xs = list1(x), ds = list1(d), r = mlx_vector_array_new();
  int rc = mlx_depends(r, xs, ds);
  mlx_array y = rc ? mlx_array_new() : get(r, 0), z = times(y, 2);
  if (!rc) rc = mlx_vector_array_append(outputs, z);
  mlx_array_free(x), mlx_array_free(d), mlx_array_free(y), mlx_array_free(z);
  mlx_vector_array_free(xs), mlx_vector_array_free(ds), mlx_vector_array_free(r);
  return rc;
}

TEST(depends) {
  mlx_array x = arr_f32(XV, XS, 1), base = arr_f32(XV, XS, 1);
  mlx_array d = times(base, 5); /* unevaluated */
  mlx_vector_array xs = list1(x), ds = list1(d), r = mlx_vector_array_new();
  CHECK_OK(mlx_depends(r, xs, ds));
  CHECK(mlx_vector_array_size(r) == 1);
  mlx_array y = get(r, 0);
  CHECK(!mlx_array_is_evaluated(d));
  double ex[3] = {1, 2, 3};
  CHECK_VALUES(y, ex, 3, 0);
  CHECK(mlx_array_is_evaluated(d)); /* computed as a dependency */
  mlx_array_free(y);

  /* No dependencies: the inputs themselves; no inputs: nothing. */
  mlx_vector_array empty = mlx_vector_array_new();
  mlx_vector_array_clear(r);
  CHECK_OK(mlx_depends(r, xs, empty));
  y = get(r, 0);
  CHECK(mlx_array_is_same(y, x));
  mlx_array_free(y);
  mlx_vector_array_clear(r);
  CHECK_OK(mlx_depends(r, empty, ds));
  CHECK(mlx_vector_array_size(r) == 0);

  /* Gradients: 2 for x, 0 for the dependency; jvp and vmap pass through. */
  mlx_closure f = mlx_closure_new(dep_fn, NULL, NULL);
  float ov[3] = {1, 1, 1};
  mlx_array ones = arr_f32(ov, XS, 1);
  mlx_vector_array prim = list2(x, d), cots = list1(ones), tans = list2(ones, ones), outs = mlx_vector_array_new();
  mlx_vector_array_clear(r);
  CHECK_OK(mlx_vjp(outs, r, f, prim, cots));
  mlx_array gx = get(r, 0), gd = get(r, 1);
  double e2[3] = {2, 2, 2}, e0[3] = {0, 0, 0};
  CHECK_VALUES(gx, e2, 3, 0);
  CHECK_VALUES(gd, e0, 3, 0);
  mlx_array_free(gx), mlx_array_free(gd);
  mlx_vector_array_clear(outs), mlx_vector_array_clear(r);
  CHECK_OK(mlx_jvp(outs, r, f, prim, tans));
  mlx_array j = get(r, 0);
  CHECK_VALUES(j, e2, 3, 0);
  mlx_array_free(j);
  int in_axes[2] = {0, 0}, out_ax = 0;
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_vmap(outs, f, prim, in_axes, 2, &out_ax, 1));
  mlx_array v = get(outs, 0);
  double e246[3] = {2, 4, 6};
  CHECK_VALUES(v, e246, 3, 0);
  mlx_array_free(v);

  mlx_vector_array_free(xs), mlx_vector_array_free(ds), mlx_vector_array_free(r), mlx_vector_array_free(empty);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(tans), mlx_vector_array_free(outs);
  mlx_array_free(x), mlx_array_free(base), mlx_array_free(d), mlx_array_free(ones);
  mlx_closure_free(f);
}

int main(void) {
  RUN(custom_vjp_is_used);
  RUN(defaults_go_through_fun);
  RUN(several_inputs_and_outputs);
  RUN(grad_of_grad_through_custom_vjp);
  RUN(checkpoint_recomputes);
  RUN(errors);
  RUN(depends);
  return harness_report();
}
