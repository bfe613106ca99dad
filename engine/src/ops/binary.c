/* Binary elementwise ops, where and clip: dtype promotion and rejected
 * dtypes as upstream MLX. Inputs are cast to the computing dtype (a node
 * only when the dtype differs) but not broadcast: the kernel broadcasts
 * with zero strides, so the recorded inputs keep their own shapes. */
#include "../cpu/elementwise.h"
#include "elementwise_rules.h"

static const mlx_prim_ prim_where = {
    .name = "where", .cpu = mlx_cpu_select_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_select_), .vjp = mlx_where_vjp_, .jvp = mlx_where_jvp_, .vmap = mlx_where_vmap_,
    .output_shapes = mlx_elementwise_shapes_};
MLX_REGISTER_PRIM(prim_where);

/* Records op over inputs cast to dtype `in`, with output dtype out and
 * the broadcast shape of all inputs. */
static int record(mlx_array* res, const mlx_prim_* prim, const void* params, size_t params_size,
                  const mlx_array* inputs, int nin, mlx_dtype const* in, mlx_dtype out, const mlx_stream s) {
  int nd = 0;
  for (int k = 0; k < nin; k++)
    if (MLX_NODE(inputs[k])->ndim > nd) nd = MLX_NODE(inputs[k])->ndim;
  int64_t shape[nd > 0 ? nd : 1];
  int ond = MLX_NODE(inputs[0])->ndim;
  if (ond) memcpy(shape, MLX_NODE(inputs[0])->shape, sizeof(int64_t) * (size_t)ond);
  for (int k = 1; k < nin; k++) {
    const mlx_node_* n = MLX_NODE(inputs[k]);
    MLX_TRY(mlx_broadcast_shape_(shape, &ond, shape, ond, n->shape, n->ndim, prim->name));
  }
  mlx_array cast[3] = {mlx_array_new(), mlx_array_new(), mlx_array_new()};
  mlx_node_* nodes[3];
  int rc = MLX_OK;
  for (int k = 0; k < nin && !rc; k++) {
    nodes[k] = MLX_NODE(inputs[k]);
    if (nodes[k]->dtype != in[k]) {
      rc = mlx_astype(&cast[k], inputs[k], in[k], s);
      nodes[k] = MLX_NODE(cast[k]);
    }
  }
  if (!rc) rc = mlx_op1_(res, prim, params, params_size, nodes, nin, out, shape, ond, s);
  for (int k = 0; k < nin; k++) mlx_array_free(cast[k]);
  return rc;
}

static int binary(mlx_array* res, const mlx_prim_* prim, int op, const mlx_array a, const mlx_array b, mlx_dtype in,
                  mlx_dtype out, const mlx_stream s) {
  mlx_array inputs[2] = {a, b};
  mlx_dtype ins[2] = {in, in};
  mlx_elem_params_ p = {op};
  return record(res, prim, &p, sizeof p, inputs, 2, ins, out, s);
}

static int check2(const mlx_array a, const mlx_array b, const char* name) {
  MLX_TRY(mlx_check_array_(a, name));
  return mlx_check_array_(b, name);
}

#define PRIM(NAME)                                                                                   \
  static const mlx_prim_ prim_##NAME = {.name = #NAME, .cpu = mlx_cpu_binary_, .gpu = MLX_GPU_KERNEL_(mlx_cuda_binary_), .vjp = mlx_binary_vjp_, \
                                        .jvp = mlx_binary_jvp_, .vmap = mlx_binary_vmap_,            \
                                        .output_shapes = mlx_elementwise_shapes_}; \
  MLX_REGISTER_PRIM(prim_##NAME)

/* Arithmetic in the promoted dtype. */
#define ARITH_OP(NAME, OP)                                                                   \
  PRIM(NAME)                                                                                 \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) { \
    MLX_TRY(check2(a, b, #NAME));                                                            \
    mlx_dtype t = mlx_dtype_promote(MLX_NODE(a)->dtype, MLX_NODE(b)->dtype);                 \
    return binary(res, &prim_##NAME, OP, a, b, t, t, s);                                     \
  }

ARITH_OP(add, MLX_BOP_ADD)
ARITH_OP(subtract, MLX_BOP_SUBTRACT)
ARITH_OP(multiply, MLX_BOP_MULTIPLY)
ARITH_OP(power, MLX_BOP_POWER)
ARITH_OP(maximum, MLX_BOP_MAXIMUM)
ARITH_OP(minimum, MLX_BOP_MINIMUM)
/* Integer floor division stays integer; complex gives the quotient. */
ARITH_OP(floor_divide, MLX_BOP_FLOOR_DIVIDE)

PRIM(remainder)
int mlx_remainder(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) {
  MLX_TRY(check2(a, b, "remainder"));
  mlx_dtype t = mlx_dtype_promote(MLX_NODE(a)->dtype, MLX_NODE(b)->dtype);
  if (t == MLX_COMPLEX64) return mlx_error_(MLX_ERROR_DTYPE, "[remainder] complex64 is not supported");
  return binary(res, &prim_remainder, MLX_BOP_REMAINDER, a, b, t, t, s);
}

/* Ops in at least float32: integer inputs divide to float32. */
#define FLOAT_OP(NAME, OP, COMPLEX)                                                          \
  PRIM(NAME)                                                                                 \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) { \
    MLX_TRY(check2(a, b, #NAME));                                                            \
    mlx_dtype t = mlx_at_least_float_(mlx_dtype_promote(MLX_NODE(a)->dtype, MLX_NODE(b)->dtype)); \
    if (!(COMPLEX) && t == MLX_COMPLEX64)                                                    \
      return mlx_error_(MLX_ERROR_DTYPE, "[" #NAME "] complex64 is not supported");          \
    return binary(res, &prim_##NAME, OP, a, b, t, t, s);                                     \
  }

FLOAT_OP(divide, MLX_BOP_DIVIDE, 1)
FLOAT_OP(logaddexp, MLX_BOP_LOGADDEXP, 1)
FLOAT_OP(arctan2, MLX_BOP_ARCTAN2, 0)

/* Comparisons in the promoted dtype, bool out. */
#define CMP_OP(NAME, OP)                                                                     \
  PRIM(NAME)                                                                                 \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) { \
    MLX_TRY(check2(a, b, #NAME));                                                            \
    mlx_dtype t = mlx_dtype_promote(MLX_NODE(a)->dtype, MLX_NODE(b)->dtype);                 \
    return binary(res, &prim_##NAME, OP, a, b, t, MLX_BOOL, s);                              \
  }

CMP_OP(equal, MLX_BOP_EQUAL)
CMP_OP(not_equal, MLX_BOP_NOT_EQUAL)
CMP_OP(greater, MLX_BOP_GREATER)
CMP_OP(greater_equal, MLX_BOP_GREATER_EQUAL)
CMP_OP(less, MLX_BOP_LESS)
CMP_OP(less_equal, MLX_BOP_LESS_EQUAL)

/* Logical ops: each input cast to bool (nonzero is true), bool out. */
#define LOGICAL_OP(NAME, OP)                                                                 \
  PRIM(NAME)                                                                                 \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) { \
    MLX_TRY(check2(a, b, #NAME));                                                            \
    return binary(res, &prim_##NAME, OP, a, b, MLX_BOOL, MLX_BOOL, s);                       \
  }

LOGICAL_OP(logical_and, MLX_BOP_LOGICAL_AND)
LOGICAL_OP(logical_or, MLX_BOP_LOGICAL_OR)

/* Bitwise ops: integer or bool dtypes only. Shifts of two bools compute
 * in uint8, as upstream. */
#define BITWISE_OP(NAME, OP, SHIFT)                                                          \
  PRIM(NAME)                                                                                 \
  int mlx_##NAME(mlx_array* res, const mlx_array a, const mlx_array b, const mlx_stream s) { \
    MLX_TRY(check2(a, b, #NAME));                                                            \
    mlx_dtype ta = MLX_NODE(a)->dtype, tb = MLX_NODE(b)->dtype;                              \
    mlx_dtype t = mlx_dtype_promote(ta, tb);                                                 \
    if (mlx_dtype_is_inexact(t))                                                             \
      return mlx_error_(MLX_ERROR_DTYPE,                                                     \
                        "[" #NAME "] only allowed on integer or boolean types but got types %s and %s", \
                        mlx_dtype_name(ta), mlx_dtype_name(tb));                             \
    if ((SHIFT) && t == MLX_BOOL) t = MLX_UINT8;                                             \
    return binary(res, &prim_##NAME, OP, a, b, t, t, s);                                     \
  }

BITWISE_OP(bitwise_and, MLX_BOP_BITWISE_AND, 0)
BITWISE_OP(bitwise_or, MLX_BOP_BITWISE_OR, 0)
BITWISE_OP(bitwise_xor, MLX_BOP_BITWISE_XOR, 0)
BITWISE_OP(left_shift, MLX_BOP_LEFT_SHIFT, 1)
BITWISE_OP(right_shift, MLX_BOP_RIGHT_SHIFT, 1)

int mlx_where(mlx_array* res, const mlx_array cond, const mlx_array x, const mlx_array y, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(cond, "where"));
  MLX_TRY(check2(x, y, "where"));
  mlx_dtype t = mlx_dtype_promote(MLX_NODE(x)->dtype, MLX_NODE(y)->dtype);
  mlx_array inputs[3] = {cond, x, y};
  mlx_dtype ins[3] = {MLX_BOOL, t, t};
  return record(res, &prim_where, NULL, 0, inputs, 3, ins, t, s);
}

/* maximum with a_min, then minimum with a_max, as upstream composes it
 * (so the result dtype promotes with the bounds' dtypes). */
int mlx_clip(mlx_array* res, const mlx_array a, const mlx_array a_min, const mlx_array a_max, const mlx_stream s) {
  MLX_TRY(mlx_check_array_(a, "clip"));
  if (!a_min.ctx && !a_max.ctx) return mlx_error_(MLX_ERROR_ARGUMENT, "[clip] a_min and a_max cannot both be empty");
  mlx_array r = mlx_array_new();
  int rc = mlx_array_set(&r, a);
  if (!rc && a_min.ctx) rc = mlx_maximum(&r, r, a_min, s);
  if (!rc && a_max.ctx) rc = mlx_minimum(&r, r, a_max, s);
  if (!rc) rc = mlx_array_set(res, r);
  mlx_array_free(r);
  return rc;
}
