/* GPU peepholes at evaluation (mlx_cuda_plan_fusions_, called by eval.c
 * on each tape): add(matmul(a, b), c), where nothing else holds the
 * product, becomes one cuBLASLt product c + a @ b (mlx_cuda_addmm_), as
 * every Linear layer with a bias and every recurrent step records it;
 * a tanh or relu (maximum with 0) of such a sum, nothing else holding
 * the sum, joins it (for a few rows, one kernel: cuda/gemv.cu).
 * The graph stays as built (transforms see matmul and add); only the
 * kernels run differently. Float32 only, so results are those of the two
 * kernels: the product's float32 sum plus c, rounded once either way.
 * MLX_CUDA_FUSE=0 turns the peepholes off. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "../cpu/elementwise.h"
#include "../internal.h"
#include "backend.h"
#include "launch.h"

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static int enabled = 1;

static void read_env(void) {
  const char* e = getenv("MLX_CUDA_FUSE");
  enabled = !(e && e[0] == '0');
}

/* The matmul op whose output node n is, when it can be fused into its
 * one reader on stream s: unevaluated, float32, held by that reader
 * alone, made by a single-output matmul of this tape not yet planned. */
static mlx_op_* fusable_product(mlx_node_* n, mlx_op_* const* tape, int count, const mlx_cuda_fusion_* plan,
                                mlx_stream s) {
  if (mlx_node_evaluated_(n) || n->dtype != MLX_FLOAT32 || atomic_load(&n->refcount) != 1 || mlx_keeps_graph_(n))
    return NULL;
  mlx_op_* p = atomic_load(&n->op);
  if (!p || p->prim->gpu != mlx_cuda_matmul_ || p->noutputs != 1) return NULL;
  if (p->tape_pos < 0 || p->tape_pos >= count || tape[p->tape_pos] != p || plan[p->tape_pos].role != 0) return NULL;
  if (p->stream.device.type != MLX_GPU || p->stream.index != s.index) return NULL;
  return p;
}

/* The activation op applies to its input: MLX_CU_ACT_* (0: none it
 * can fuse). tanh, or maximum against a float32 host constant 0 (relu). */
static int activation(const mlx_op_* op, int* input) {
  if (op->prim->gpu == mlx_cuda_unary_ && op->ninputs == 1 &&
      ((const mlx_elem_params_*)op->params)->op == MLX_UOP_TANH) {
    *input = 0;
    return MLX_CU_ACT_TANH;
  }
  if (op->prim->gpu != mlx_cuda_binary_ || op->ninputs != 2 ||
      ((const mlx_elem_params_*)op->params)->op != MLX_BOP_MAXIMUM)
    return 0;
  for (int k = 0; k < 2; k++) {
    mlx_node_* z = op->inputs[k];
    float v;
    if (z->dtype == MLX_FLOAT32 && mlx_node_evaluated_(z) && mlx_cuda_host_scalar_(z, &v) && v == 0.0f &&
        !signbit(v)) {
      *input = 1 - k;
      return k == 1 ? MLX_CU_ACT_MAX0_RIGHT : MLX_CU_ACT_MAX0_LEFT;
    }
  }
  return 0;
}

int mlx_cuda_plan_fusions_(mlx_op_* const* tape, int n, mlx_cuda_fusion_* plan) {
  pthread_once(&env_once, read_env);
  if (!enabled) return 0;
  int fused = 0;
  for (int i = 0; i < n; i++) {
    tape[i]->tape_pos = i;
    plan[i] = (mlx_cuda_fusion_){0, -1, 0};
  }
  for (int i = 0; i < n; i++) {
    mlx_op_* op = tape[i];
    if (op->stream.device.type != MLX_GPU || op->noutputs != 1) continue;
    mlx_node_* out = op->outputs[0];
    if (!out || out->dtype != MLX_FLOAT32 || mlx_keeps_graph_(out)) continue;
    /* an activation of an add already fused with its product */
    int in = 0, act = activation(op, &in);
    if (act) {
      mlx_node_* x = op->inputs[in];
      mlx_op_* add = mlx_node_evaluated_(x) || atomic_load(&x->refcount) != 1 || mlx_keeps_graph_(x)
                         ? NULL
                         : atomic_load(&x->op);
      if (add && add->tape_pos >= 0 && add->tape_pos < i && tape[add->tape_pos] == add &&
          plan[add->tape_pos].role == 2 && !plan[add->tape_pos].act && add->stream.index == op->stream.index) {
        plan[add->tape_pos].role = 1;
        plan[i] = (mlx_cuda_fusion_){2, add->tape_pos, act};
        continue;
      }
    }
    if (op->prim->gpu != mlx_cuda_binary_ || op->ninputs != 2 ||
        ((const mlx_elem_params_*)op->params)->op != MLX_BOP_ADD)
      continue;
    for (int k = 0; k < 2; k++) {
      mlx_node_* prod = op->inputs[k];
      mlx_node_* c = op->inputs[1 - k];
      if (c->dtype != MLX_FLOAT32 || prod->ndim != out->ndim) continue;
      int same = 1;
      for (int d = 0; d < out->ndim && same; d++) same = prod->shape[d] == out->shape[d];
      mlx_op_* p = same ? fusable_product(prod, tape, n, plan, op->stream) : NULL;
      if (!p || p->tape_pos >= i) continue;
      plan[p->tape_pos].role = 1;
      plan[i] = (mlx_cuda_fusion_){2, p->tape_pos, 0};
      fused++;
      break;
    }
  }
  return fused;
}
