/* vjp, jvp and vmap of the binary elementwise ops and of where, built
 * from public ops so that they compose (grad of grad).
 *
 * Our binary primitives broadcast inside the kernel, so their inputs keep
 * their own shapes (upstream MLX broadcasts them first, and its Broadcast
 * primitive sums the cotangent back). Here each input's cotangent is
 * summed over the axes that input was broadcast along, and a tangent that
 * does not reach the output's shape is broadcast to it. The per-input
 * derivatives are upstream MLX's; like upstream, multiply and divide
 * conjugate the other operand for complex cotangents, and power does not. */
#include "../cpu/elementwise.h"
#include "elementwise_rules.h"

static int op_of(const void* params) {
  return ((const mlx_elem_params_*)params)->op;
}

/* Ops upstream MLX gives a zero derivative: floor_divide (floor of a
 * quotient) and the ops with boolean or integer results. */
static int zero_derivative(int op) {
  switch (op) {
    case MLX_BOP_FLOOR_DIVIDE:
    case MLX_BOP_EQUAL:
    case MLX_BOP_NOT_EQUAL:
    case MLX_BOP_GREATER:
    case MLX_BOP_GREATER_EQUAL:
    case MLX_BOP_LESS:
    case MLX_BOP_LESS_EQUAL:
    case MLX_BOP_LOGICAL_AND:
    case MLX_BOP_LOGICAL_OR:
    case MLX_BOP_BITWISE_AND:
    case MLX_BOP_BITWISE_OR:
    case MLX_BOP_BITWISE_XOR:
    case MLX_BOP_LEFT_SHIFT:
    case MLX_BOP_RIGHT_SHIFT:
      return 1;
    default:
      return 0;
  }
}

static int same_shape(const mlx_node_* a, const mlx_node_* b) {
  return a->ndim == b->ndim && (a->ndim == 0 || !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim));
}

/* g (shaped like the output) summed down to the shape of `like`: over the
 * leading axes `like` lacks and the axes where it has size 1. */
static int unbroadcast(mlx_array* res, const mlx_array g, const mlx_node_* like, mlx_stream s) {
  const mlx_node_* gn = MLX_NODE(g);
  if (same_shape(gn, like)) return mlx_array_set(res, g);
  int diff = gn->ndim - like->ndim;
  int axes[gn->ndim > 0 ? gn->ndim : 1], n = 0;
  for (int i = 0; i < gn->ndim; i++)
    if (i < diff || (like->shape[i - diff] == 1 && gn->shape[i] != 1)) axes[n++] = i;
  mlx_array sum = mlx_array_new();
  int rc = n ? mlx_sum_axes(&sum, g, axes, (size_t)n, 1, s) : mlx_array_set(&sum, g);
  if (!rc) rc = mlx_reshape(res, sum, like->shape, like->ndim, s);
  mlx_array_free(sum);
  return rc;
}

/* *res = v broadcast to the shape of `like` when it is not that shape. */
static int fit_output(mlx_array* res, const mlx_array v, const mlx_node_* like, mlx_stream s) {
  if (same_shape(MLX_NODE(v), like)) return mlx_array_set(res, v);
  return mlx_broadcast_to(res, v, like->shape, like->ndim, s);
}

/* conj(a) when conj is set and a is complex, else a (as a new handle). */
static int maybe_conj(mlx_array* res, const mlx_array a, int conj, mlx_stream s) {
  if (conj && MLX_NODE(a)->dtype == MLX_COMPLEX64) return mlx_conjugate(res, a, s);
  return mlx_array_set(res, a);
}

/* v (a cotangent, or a tangent) through input `arg` of op at (a, b) with
 * output y, at the broadcast shape. conj: the vjp side of the complex
 * convention. */
static int partial(mlx_array* res, int op, int arg, const mlx_array a, const mlx_array b, const mlx_array y,
                   const mlx_array v, int conj, mlx_stream s) {
  mlx_array p = mlx_array_new(), q = mlx_array_new();
  int rc = MLX_OK;
  switch (op) {
    case MLX_BOP_ADD:
      rc = mlx_array_set(res, v);
      break;
    case MLX_BOP_SUBTRACT:
      rc = arg == 0 ? mlx_array_set(res, v) : mlx_negative(res, v, s);
      break;
    case MLX_BOP_MULTIPLY:
      rc = maybe_conj(&p, arg == 0 ? b : a, conj, s);
      if (!rc) rc = mlx_multiply(res, v, p, s);
      break;
    case MLX_BOP_DIVIDE: /* v / b and -v a / b^2 */
      rc = maybe_conj(&q, b, conj, s);
      if (arg == 0) {
        if (!rc) rc = mlx_divide(res, v, q, s);
        break;
      }
      if (!rc) rc = maybe_conj(&p, a, conj, s);
      if (!rc) rc = mlx_multiply(&p, v, p, s);
      if (!rc) rc = mlx_square(&q, q, s);
      if (!rc) rc = mlx_divide(&p, p, q, s);
      if (!rc) rc = mlx_negative(res, p, s);
      break;
    case MLX_BOP_POWER: /* b a^(b-1), and log(a) y where y != 0 (0 log 0 = 0) */
      if (arg == 0) {
        rc = mlx_array_new_float(&p, 1.0, MLX_NODE(b)->dtype);
        if (!rc) rc = mlx_subtract(&p, b, p, s);
        if (!rc) rc = mlx_power(&p, a, p, s);
        if (!rc) rc = mlx_multiply(&p, p, b, s);
      } else {
        rc = mlx_log(&p, a, s);
        if (!rc) rc = mlx_multiply(&p, p, y, s);
        if (!rc) rc = mlx_array_new_float(&q, 0.0, MLX_NODE(y)->dtype);
        if (!rc) rc = mlx_where(&p, y, p, q, s);
      }
      if (!rc) rc = mlx_multiply(res, v, p, s);
      break;
    case MLX_BOP_REMAINDER: /* v and -floor(a / b) v */
      if (arg == 0) {
        rc = mlx_array_set(res, v);
        break;
      }
      rc = mlx_divide(&p, a, b, s);
      if (!rc) rc = mlx_floor(&p, p, s);
      if (!rc) rc = mlx_multiply(&p, p, v, s);
      if (!rc) rc = mlx_negative(res, p, s);
      break;
    case MLX_BOP_MAXIMUM: /* ties go to b, as upstream */
      rc = arg == 0 ? mlx_greater(&p, a, b, s) : mlx_less_equal(&p, a, b, s);
      if (!rc) rc = mlx_multiply(res, v, p, s);
      break;
    case MLX_BOP_MINIMUM:
      rc = arg == 0 ? mlx_less(&p, a, b, s) : mlx_greater_equal(&p, a, b, s);
      if (!rc) rc = mlx_multiply(res, v, p, s);
      break;
    case MLX_BOP_LOGADDEXP: /* sigmoid(a - b) and 1 - sigmoid(a - b) */
      rc = mlx_subtract(&p, a, b, s);
      if (!rc) rc = mlx_sigmoid(&p, p, s);
      if (!rc && arg == 1) {
        rc = mlx_array_new_float(&q, 1.0, MLX_NODE(p)->dtype);
        if (!rc) rc = mlx_subtract(&p, q, p, s);
      }
      if (!rc) rc = mlx_multiply(res, v, p, s);
      break;
    case MLX_BOP_ARCTAN2: /* atan2(a, b): b / (a^2 + b^2) and -a / (a^2 + b^2) */
      rc = mlx_square(&p, a, s);
      if (!rc) rc = mlx_square(&q, b, s);
      if (!rc) rc = mlx_add(&q, p, q, s);
      if (!rc) rc = arg == 0 ? mlx_array_set(&p, b) : mlx_negative(&p, a, s);
      if (!rc) rc = mlx_multiply(&p, v, p, s);
      if (!rc) rc = mlx_divide(res, p, q, s);
      break;
    default:
      rc = mlx_error_(MLX_ERROR_INTERNAL, "[transform] binary op %d has no derivative rule", op);
  }
  mlx_array_free(p);
  mlx_array_free(q);
  return rc;
}

int mlx_binary_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int op = op_of(params);
  if (zero_derivative(op))
    return mlx_vjp_zero_(in_cots, argnums, nargs, inputs, nin, outputs, nout, cots, params, s);
  int rc = MLX_OK;
  for (int k = 0; k < nargs && !rc; k++) {
    mlx_array g = mlx_array_new();
    rc = partial(&g, op, argnums[k], inputs[0], inputs[1], outputs[0], cots[0], op != MLX_BOP_POWER, s);
    if (!rc) rc = unbroadcast(&in_cots[k], g, MLX_NODE(inputs[argnums[k]]), s);
    mlx_array_free(g);
  }
  return rc;
}

int mlx_binary_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                    const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  int op = op_of(params);
  if (zero_derivative(op))
    return mlx_jvp_zero_(out_tans, argnums, nargs, inputs, nin, outputs, nout, tangents, params, s);
  mlx_array sum = mlx_array_new(), g = mlx_array_new();
  int rc = MLX_OK;
  for (int k = 0; k < nargs && !rc; k++) {
    rc = partial(&g, op, argnums[k], inputs[0], inputs[1], outputs[0], tangents[k], 0, s);
    if (!rc) rc = k ? mlx_add(&sum, sum, g, s) : mlx_array_set(&sum, g);
  }
  if (!rc) rc = fit_output(&out_tans[0], sum, MLX_NODE(outputs[0]), s);
  mlx_array_free(sum);
  mlx_array_free(g);
  return rc;
}

/* Lines up batched inputs for an elementwise op: each batched input gets
 * its batch axis at 0 and, when it has fewer dims than the widest input
 * (not counting batch axes), size-1 axes after it, so the batch axes meet
 * and the other axes broadcast as they did per slice. Unbatched inputs
 * stay: they broadcast from the right. */
static int align_batch(mlx_array* out, const mlx_array* inputs, const int* in_axes, int n, mlx_stream s) {
  int width = 0;
  for (int k = 0; k < n; k++) {
    int logical = MLX_NODE(inputs[k])->ndim - (in_axes[k] >= 0);
    if (logical > width) width = logical;
  }
  int rc = MLX_OK;
  for (int k = 0; k < n && !rc; k++) {
    if (in_axes[k] < 0) {
      rc = mlx_array_set(&out[k], inputs[k]);
      continue;
    }
    rc = mlx_moveaxis(&out[k], inputs[k], in_axes[k], 0, s);
    const mlx_node_* m = rc ? NULL : MLX_NODE(out[k]);
    if (m && m->ndim - 1 < width) {
      int pad = width - (m->ndim - 1), nd = width + 1;
      int64_t shape[nd];
      shape[0] = m->shape[0];
      for (int i = 0; i < pad; i++) shape[1 + i] = 1;
      for (int i = 1; i < m->ndim; i++) shape[pad + i] = m->shape[i];
      rc = mlx_reshape(&out[k], out[k], shape, nd, s);
    }
  }
  return rc;
}

typedef int (*binary_fn)(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s);

static const binary_fn binary_ops[MLX_BOP_COUNT] = {
    [MLX_BOP_ADD] = mlx_add,
    [MLX_BOP_SUBTRACT] = mlx_subtract,
    [MLX_BOP_MULTIPLY] = mlx_multiply,
    [MLX_BOP_DIVIDE] = mlx_divide,
    [MLX_BOP_POWER] = mlx_power,
    [MLX_BOP_REMAINDER] = mlx_remainder,
    [MLX_BOP_FLOOR_DIVIDE] = mlx_floor_divide,
    [MLX_BOP_MAXIMUM] = mlx_maximum,
    [MLX_BOP_MINIMUM] = mlx_minimum,
    [MLX_BOP_LOGADDEXP] = mlx_logaddexp,
    [MLX_BOP_ARCTAN2] = mlx_arctan2,
    [MLX_BOP_EQUAL] = mlx_equal,
    [MLX_BOP_NOT_EQUAL] = mlx_not_equal,
    [MLX_BOP_GREATER] = mlx_greater,
    [MLX_BOP_GREATER_EQUAL] = mlx_greater_equal,
    [MLX_BOP_LESS] = mlx_less,
    [MLX_BOP_LESS_EQUAL] = mlx_less_equal,
    [MLX_BOP_LOGICAL_AND] = mlx_logical_and,
    [MLX_BOP_LOGICAL_OR] = mlx_logical_or,
    [MLX_BOP_BITWISE_AND] = mlx_bitwise_and,
    [MLX_BOP_BITWISE_OR] = mlx_bitwise_or,
    [MLX_BOP_BITWISE_XOR] = mlx_bitwise_xor,
    [MLX_BOP_LEFT_SHIFT] = mlx_left_shift,
    [MLX_BOP_RIGHT_SHIFT] = mlx_right_shift,
};

int mlx_binary_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                     const void* params, mlx_stream s) {
  int op = op_of(params);
  binary_fn fn = (unsigned)op < MLX_BOP_COUNT ? binary_ops[op] : NULL;
  if (!fn) return mlx_error_(MLX_ERROR_INTERNAL, "[vmap] unknown binary op %d", op);
  mlx_array in[2] = {mlx_array_new(), mlx_array_new()};
  int rc = align_batch(in, inputs, in_axes, 2, s);
  if (!rc) rc = fn(&outs[0], in[0], in[1], s);
  out_axes[0] = 0;
  mlx_array_free(in[0]);
  mlx_array_free(in[1]);
  return rc;
}

/* ---- where(cond, x, y) ---------------------------------------------------- */

/* v masked by cond (arg 1) or by its negation (arg 2), in v's dtype. */
static int where_partial(mlx_array* res, int arg, const mlx_array cond, const mlx_array v, mlx_stream s) {
  mlx_array m = mlx_array_new();
  int rc = arg == 1 ? mlx_array_set(&m, cond) : mlx_logical_not(&m, cond, s);
  if (!rc) rc = mlx_astype(&m, m, MLX_NODE(v)->dtype, s);
  if (!rc) rc = mlx_multiply(res, m, v, s);
  mlx_array_free(m);
  return rc;
}

int mlx_where_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s) {
  int rc = MLX_OK;
  for (int k = 0; k < nargs && !rc; k++) {
    if (argnums[k] == 0) continue; /* the condition: zero */
    mlx_array g = mlx_array_new();
    rc = where_partial(&g, argnums[k], inputs[0], cots[0], s);
    if (!rc) rc = unbroadcast(&in_cots[k], g, MLX_NODE(inputs[argnums[k]]), s);
    mlx_array_free(g);
  }
  return rc;
}

int mlx_where_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                   const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s) {
  mlx_array sum = mlx_array_new(), g = mlx_array_new();
  int rc = MLX_OK, have = 0;
  for (int k = 0; k < nargs && !rc; k++) {
    if (argnums[k] == 0) continue;
    rc = where_partial(&g, argnums[k], inputs[0], tangents[k], s);
    if (!rc) rc = have ? mlx_add(&sum, sum, g, s) : mlx_array_set(&sum, g);
    have = 1;
  }
  if (!rc && have) rc = fit_output(&out_tans[0], sum, MLX_NODE(outputs[0]), s);
  mlx_array_free(sum);
  mlx_array_free(g);
  return rc;
}

int mlx_where_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                    const void* params, mlx_stream s) {
  mlx_array in[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  int rc = align_batch(in, inputs, in_axes, 3, s);
  if (!rc) rc = mlx_where(&outs[0], in[0], in[1], in[2], s);
  out_axes[0] = 0;
  for (int k = 0; k < 3; k++) mlx_array_free(in[k]);
  return rc;
}
