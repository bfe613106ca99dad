/* GPU peepholes at evaluation (mlx_cuda_plan_fusions_, called by eval.c
 * on each tape): add(matmul(a, b), c), where nothing else holds the
 * product, becomes one cuBLASLt product c + a @ b (mlx_cuda_addmm_), as
 * every Linear layer with a bias and every recurrent step records it.
 * The graph stays as built (transforms see matmul and add); only the
 * kernels run differently. Float32 only, so results are those of the two
 * kernels: the product's float32 sum plus c, rounded once either way.
 * MLX_CUDA_FUSE=0 turns the peepholes off. */
#include <pthread.h>
#include <stdlib.h>

#include "../cpu/elementwise.h"
#include "../internal.h"

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static int enabled = 1;

static void read_env(void) {
  const char* e = getenv("MLX_CUDA_FUSE");
  enabled = !(e && e[0] == '0');
}

/* The matmul op whose output node n is, when it can be fused into its
 * one reader on stream s: unevaluated, float32, held by that reader
 * alone, made by a single-output matmul of this tape not yet planned. */
static mlx_op_* fusable_product(mlx_node_* n, mlx_op_* const* tape, int count, const int* plan, mlx_stream s) {
  if (mlx_node_evaluated_(n) || n->dtype != MLX_FLOAT32 || atomic_load(&n->refcount) != 1 || mlx_keeps_graph_(n))
    return NULL;
  mlx_op_* p = atomic_load(&n->op);
  if (!p || p->prim->gpu != mlx_cuda_matmul_ || p->noutputs != 1) return NULL;
  if (p->tape_pos < 0 || p->tape_pos >= count || tape[p->tape_pos] != p || plan[p->tape_pos] != -1) return NULL;
  if (p->stream.device.type != MLX_GPU || p->stream.index != s.index) return NULL;
  return p;
}

int mlx_cuda_plan_fusions_(mlx_op_* const* tape, int n, int* plan) {
  pthread_once(&env_once, read_env);
  if (!enabled) return 0;
  int fused = 0;
  for (int i = 0; i < n; i++) {
    tape[i]->tape_pos = i;
    plan[i] = -1;
  }
  for (int i = 0; i < n; i++) {
    mlx_op_* op = tape[i];
    if (op->stream.device.type != MLX_GPU || op->prim->gpu != mlx_cuda_binary_ || op->ninputs != 2 ||
        op->noutputs != 1 || ((const mlx_elem_params_*)op->params)->op != MLX_BOP_ADD)
      continue;
    mlx_node_* out = op->outputs[0];
    if (!out || out->dtype != MLX_FLOAT32 || mlx_keeps_graph_(out)) continue;
    for (int k = 0; k < 2; k++) {
      mlx_node_* prod = op->inputs[k];
      mlx_node_* c = op->inputs[1 - k];
      if (c->dtype != MLX_FLOAT32 || prod->ndim != out->ndim) continue;
      int same = 1;
      for (int d = 0; d < out->ndim && same; d++) same = prod->shape[d] == out->shape[d];
      mlx_op_* p = same ? fusable_product(prod, tape, n, plan, op->stream) : NULL;
      if (!p || p->tape_pos >= i) continue;
      plan[p->tape_pos] = -2;
      plan[i] = p->tape_pos;
      fused++;
      break;
    }
  }
  return fused;
}
