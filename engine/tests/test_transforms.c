/* Transform drivers (vjp, jvp, value_and_grad, vmap) exercised through a
 * test-local primitive, twice(x) = 2x, whose rules are written here, so
 * these tests check the drivers independently of every op family's rules.
 * The families' rules have their own finite-difference tests. */
#include "harness.h"
#include "internal.h"

static int twice_kernel(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  MLX_TRY(mlx_node_alloc_(outs[0]));
  mlx_node_copy_to_(outs[0]->buf->data, MLX_FLOAT32, ins[0]);
  float* d = outs[0]->buf->data;
  for (int64_t i = 0; i < outs[0]->size; i++) d[i] *= 2;
  return MLX_OK;
}

static int times_two(mlx_array* res, const mlx_array x, mlx_stream s) {
  mlx_array two = mlx_array_new();
  MLX_TRY(mlx_array_new_float(&two, 2.0, MLX_FLOAT32));
  int rc = mlx_multiply(res, x, two, s);
  mlx_array_free(two);
  return rc;
}

static int twice_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  return times_two(&in_cots[0], cots[0], s);
}

static int twice_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  return times_two(&out_tans[0], tangents[0], s);
}

static int twice(mlx_array* res, const mlx_array x);

static int twice_vmap(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s) {
  out_axes[0] = in_axes[0];
  return twice(&outs[0], inputs[0]);
}

static const mlx_prim_ prim_twice = {.name = "twice", .cpu = twice_kernel, .vjp = twice_vjp, .jvp = twice_jvp, .vmap = twice_vmap};

static int twice(mlx_array* res, const mlx_array x) {
  mlx_node_* n = MLX_NODE(x);
  return mlx_op1_(res, &prim_twice, NULL, 0, &n, 1, MLX_FLOAT32, n->shape, n->ndim, S);
}

/* plus(a, b) = a + b, with its own rules (the add family's rules are
 * tested elsewhere). */
static int plus_kernel(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  MLX_TRY(mlx_node_alloc_(outs[0]));
  float* d = outs[0]->buf->data;
  mlx_node_copy_to_(d, MLX_FLOAT32, ins[0]);
  float tmp[outs[0]->size > 0 ? outs[0]->size : 1];
  mlx_node_copy_to_(tmp, MLX_FLOAT32, ins[1]);
  for (int64_t i = 0; i < outs[0]->size; i++) d[i] += tmp[i];
  return MLX_OK;
}

static int plus_vjp(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  for (int k = 0; k < nargs; k++) MLX_TRY(mlx_array_set(&in_cots[k], cots[0]));
  return MLX_OK;
}

static int plus(mlx_array* res, const mlx_array a, const mlx_array b);

static int plus_jvp(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  if (nargs == 1) return mlx_array_set(&out_tans[0], tangents[0]);
  return plus(&out_tans[0], tangents[0], tangents[1]);
}

static const mlx_prim_ prim_plus = {.name = "plus", .cpu = plus_kernel, .vjp = plus_vjp, .jvp = plus_jvp};

static int plus(mlx_array* res, const mlx_array a, const mlx_array b) {
  mlx_node_* n[2] = {MLX_NODE(a), MLX_NODE(b)};
  return mlx_op1_(res, &prim_plus, NULL, 0, n, 2, MLX_FLOAT32, n[0]->shape, n[0]->ndim, S);
}

/* f(x) = twice(twice(x)) + twice(x): df/dx = 6. Also returns twice(x). */
static int f_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  (*(int*)payload)++;
  mlx_array x = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = twice(&a, x);
  if (!rc) rc = twice(&b, a);
  if (!rc) rc = mlx_eval(&b, 1); /* evaluating inside a traced function keeps the graph */
  if (!rc) rc = plus(&c, b, a);
  if (!rc) rc = mlx_vector_array_append(outputs, c);
  if (!rc) rc = mlx_vector_array_append(outputs, a);
  mlx_array_free(x), mlx_array_free(a), mlx_array_free(b), mlx_array_free(c);
  return rc;
}

static mlx_vector_array list1(mlx_array a) {
  mlx_vector_array v = mlx_vector_array_new();
  mlx_vector_array_append(v, a);
  return v;
}

static mlx_array get(mlx_vector_array v, size_t i) {
  mlx_array a = mlx_array_new();
  mlx_vector_array_get(&a, v, i);
  return a;
}

TEST(vjp_and_value_and_grad) {
  int calls = 0;
  mlx_closure f = mlx_closure_new(f_closure, &calls, NULL);
  float xv[3] = {1, 2, 3}, cv[3] = {1, 10, 100}, zv[3] = {0, 0, 0};
  int64_t shape[1] = {3};
  mlx_array x = arr_f32(xv, shape, 1), c = arr_f32(cv, shape, 1), z = arr_f32(zv, shape, 1);
  mlx_vector_array prim = list1(x), cots = mlx_vector_array_new(), outs = mlx_vector_array_new(),
                   vjps = mlx_vector_array_new();
  mlx_vector_array_append(cots, c);
  mlx_vector_array_append(cots, z);
  CHECK_OK(mlx_vjp(outs, vjps, f, prim, cots));
  CHECK(mlx_vector_array_size(outs) == 2 && mlx_vector_array_size(vjps) == 1);
  mlx_array o = get(outs, 0), g = get(vjps, 0);
  double eo[3] = {6, 12, 18}, eg[3] = {6, 60, 600};
  CHECK_VALUES(o, eo, 3, 0);
  CHECK_VALUES(g, eg, 3, 0);
  mlx_array_free(o), mlx_array_free(g);

  /* value_and_grad needs a scalar: sum the first output. */
  mlx_array one = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&one, 3.0, MLX_FLOAT32));
  mlx_vector_array in1 = list1(one), vo = mlx_vector_array_new(), vg = mlx_vector_array_new();
  int argnum = 0;
  CHECK_OK(mlx_value_and_grad(vo, vg, f, in1, &argnum, 1));
  mlx_array v0 = get(vo, 0), v1 = get(vo, 1), g0 = get(vg, 0);
  double e18[1] = {18}, e6[1] = {6}, e6b[1] = {6};
  CHECK_VALUES(v0, e18, 1, 0);
  CHECK_VALUES(v1, e6, 1, 0);
  CHECK_VALUES(g0, e6b, 1, 0);
  CHECK_ERR(mlx_value_and_grad(vo, vg, f, prim, &argnum, 1), MLX_ERROR_ARGUMENT); /* non-scalar output */
  int bad = 3;
  CHECK_ERR(mlx_value_and_grad(vo, vg, f, in1, &bad, 1), MLX_ERROR_ARGUMENT);
  mlx_array_free(v0), mlx_array_free(v1), mlx_array_free(g0), mlx_array_free(one);
  mlx_vector_array_free(in1), mlx_vector_array_free(vo), mlx_vector_array_free(vg);
  mlx_vector_array_free(prim), mlx_vector_array_free(cots), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_array_free(x), mlx_array_free(c), mlx_array_free(z);
  mlx_closure_free(f);
}

TEST(jvp) {
  int calls = 0;
  mlx_closure f = mlx_closure_new(f_closure, &calls, NULL);
  float xv[2] = {1, 2}, tv[2] = {1, -1};
  int64_t shape[1] = {2};
  mlx_array x = arr_f32(xv, shape, 1), t = arr_f32(tv, shape, 1);
  mlx_vector_array prim = list1(x), tans = list1(t), outs = mlx_vector_array_new(), jvps = mlx_vector_array_new();
  CHECK_OK(mlx_jvp(outs, jvps, f, prim, tans));
  mlx_array j0 = get(jvps, 0), j1 = get(jvps, 1);
  double e0[2] = {6, -6}, e1[2] = {2, -2};
  CHECK_VALUES(j0, e0, 2, 0);
  CHECK_VALUES(j1, e1, 2, 0);
  mlx_array_free(j0), mlx_array_free(j1);
  mlx_vector_array_free(prim), mlx_vector_array_free(tans), mlx_vector_array_free(outs), mlx_vector_array_free(jvps);
  mlx_array_free(x), mlx_array_free(t);
  mlx_closure_free(f);
}

static int g_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  /* g(x, y) = twice(x) * y, with y unbatched or batched. */
  mlx_array x = mlx_array_new(), y = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_vector_array_get(&y, inputs, 1);
  if (!rc) rc = twice(&a, x);
  if (!rc) rc = mlx_vector_array_append(outputs, a);
  if (!rc) rc = mlx_vector_array_append(outputs, y);
  mlx_array_free(x), mlx_array_free(y), mlx_array_free(a), mlx_array_free(b);
  return rc;
}

TEST(vmap) {
  mlx_closure g = mlx_closure_new(g_closure, NULL, NULL);
  float xv[6] = {1, 2, 3, 4, 5, 6}, yv[2] = {7, 8};
  int64_t xs[2] = {2, 3}, ys[1] = {2};
  mlx_array x = arr_f32(xv, xs, 2), y = arr_f32(yv, ys, 1);
  mlx_vector_array in = mlx_vector_array_new(), outs = mlx_vector_array_new();
  mlx_vector_array_append(in, x);
  mlx_vector_array_append(in, y);
  /* x mapped over axis 1 (3 columns), y not mapped; outputs at axis 0. */
  int in_axes[2] = {1, MLX_VMAP_NONE}, out_axes[2] = {0, 0};
  CHECK_OK(mlx_vmap(outs, g, in, in_axes, 2, out_axes, 2));
  mlx_array o0 = get(outs, 0), o1 = get(outs, 1);
  CHECK(mlx_array_ndim(o0) == 2 && mlx_array_dim(o0, 0) == 3 && mlx_array_dim(o0, 1) == 2);
  double e0[6] = {2, 8, 4, 10, 6, 12}, e1[6] = {7, 8, 7, 8, 7, 8};
  CHECK_VALUES(o0, e0, 6, 0);
  CHECK_VALUES(o1, e1, 6, 0); /* unbatched output broadcast along the new axis */
  mlx_array_free(o0), mlx_array_free(o1);
  mlx_vector_array_clear(outs);
  int none_out[2] = {0, MLX_VMAP_NONE};
  CHECK_OK(mlx_vmap(outs, g, in, in_axes, 2, none_out, 2));
  o1 = get(outs, 1);
  CHECK(mlx_array_ndim(o1) == 1);
  mlx_array_free(o1);
  int bad_axes[2] = {2, MLX_VMAP_NONE};
  mlx_vector_array_clear(outs);
  CHECK_ERR(mlx_vmap(outs, g, in, bad_axes, 2, out_axes, 2), MLX_ERROR_ARGUMENT);
  int mismatch[2] = {0, 0}; /* 2 vs 2: fine; {1, 0}: 3 vs 2 */
  CHECK_OK(mlx_vmap(outs, g, in, mismatch, 2, out_axes, 2));
  int mismatch2[2] = {1, 0};
  mlx_vector_array_clear(outs);
  CHECK_ERR(mlx_vmap(outs, g, in, mismatch2, 2, out_axes, 2), MLX_ERROR_SHAPE);
  mlx_vector_array_free(in), mlx_vector_array_free(outs);
  mlx_array_free(x), mlx_array_free(y);
  mlx_closure_free(g);
}

static int failing_closure(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  return MLX_ERROR_CALLBACK;
}

TEST(closure_errors_propagate) {
  mlx_closure f = mlx_closure_new(failing_closure, NULL, NULL);
  float xv[1] = {1};
  int64_t shape[1] = {1};
  mlx_array x = arr_f32(xv, shape, 1);
  mlx_vector_array prim = list1(x), outs = mlx_vector_array_new(), vjps = mlx_vector_array_new();
  CHECK_ERR(mlx_vjp(outs, vjps, f, prim, prim), MLX_ERROR_CALLBACK);
  mlx_vector_array_free(prim), mlx_vector_array_free(outs), mlx_vector_array_free(vjps);
  mlx_array_free(x);
  mlx_closure_free(f);
}

int main(void) {
  RUN(vjp_and_value_and_grad);
  RUN(jvp);
  RUN(vmap);
  RUN(closure_errors_propagate);
  return harness_report();
}
