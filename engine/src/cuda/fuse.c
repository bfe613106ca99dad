/* GPU peepholes at evaluation (mlx_cuda_plan_fusions_, called by eval.c
 * on each tape): add(matmul(a, b), c), where nothing else holds the
 * product, becomes one cuBLASLt product c + a @ b (mlx_cuda_addmm_), as
 * every Linear layer with a bias and every recurrent step records it;
 * a tanh or relu (maximum with 0) of such a sum joins it (for a few
 * rows, one kernel: cuda/gemv.cu, which also stores the sum when
 * something else holds it; more rows only when nothing does); and
 * runs of consecutive float32 elementwise ops of one size (inputs of
 * one value, or broadcast to it: a bias row) run as one kernel
 * (cuda/ewvm.cu).
 * The graph stays as built (transforms see matmul and add); only the
 * kernels run differently. Float32 only, so results are those of the two
 * kernels: the product's float32 sum plus c, rounded once either way.
 * MLX_CUDA_FUSE=0 turns the peepholes off. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* The elementwise op the VM runs: (binary, op code), or 0. */
static int vm_op(const mlx_op_* op, int* binary, int* code) {
  if (op->noutputs != 1 || op->stream.device.type != MLX_GPU) return 0;
  if (op->prim->gpu == mlx_cuda_binary_ && op->ninputs == 2) *binary = 1;
  else if (op->prim->gpu == mlx_cuda_unary_ && op->ninputs == 1) *binary = 0;
  else return 0;
  *code = ((const mlx_elem_params_*)op->params)->op;
  if (!mlx_cu_vm_supports_(*binary, *code)) return 0;
  mlx_node_* out = op->outputs[0];
  if (!out || out->dtype != MLX_FLOAT32 || mlx_keeps_graph_(out)) return 0;
  for (int k = 0; k < op->ninputs; k++)
    if (op->inputs[k]->dtype != MLX_FLOAT32) return 0;
  return 1;
}

/* Whether node x is the output of one of ops[0..n). */
static int made_in(const mlx_node_* x, mlx_op_* const* ops, int n) {
  if (mlx_node_evaluated_(x)) return 0;
  mlx_op_* p = atomic_load(&x->op);
  for (int k = 0; k < n; k++)
    if (ops[k] == p) return 1;
  return 0;
}

/* Whether op i can join the run tape[start..i): same stream, every size
 * the run's n or 1, within the VM's limits (inputs counted loosely; an
 * input broadcast to the op's shape, a bias row, is read through
 * strides). */
static int joins(mlx_op_* const* tape, int start, int i, int64_t* n, int* nin) {
  const mlx_op_* op = tape[i];
  if (i - start >= MLX_CU_VM_MAX_OPS || op->stream.index != tape[start]->stream.index) return 0;
  int64_t sz = op->outputs[0]->size;
  if (sz != 1 && *n != 1 && sz != *n) return 0;
  int ext = 0;
  for (int k = 0; k < op->ninputs; k++) {
    const mlx_node_* x = op->inputs[k];
    if (x->size != 1 && x->size != sz && x->ndim > MLX_CU_MAXDIM) return 0;
    if (!made_in(x, tape + start, i - start)) ext++;
  }
  if (*nin + ext > MLX_CU_VM_MAX_IN) return 0;
  *nin += ext;
  if (sz != 1) *n = sz;
  return 1;
}

/* Marks runs of at least two consecutive VM-able ops (not otherwise
 * planned): role 3, the last role 4 naming the first. */
static int plan_runs(mlx_op_* const* tape, int n, mlx_cuda_fusion_* plan) {
  int runs = 0, binary, code;
  for (int i = 0; i < n;) {
    if (plan[i].role != 0 || !vm_op(tape[i], &binary, &code)) {
      i++;
      continue;
    }
    int start = i, nin = 0;
    int64_t size = 1;
    while (i < n && plan[i].role == 0 && vm_op(tape[i], &binary, &code) && joins(tape, start, i, &size, &nin)) i++;
    if (i == start) i++; /* an op that cannot start a run (a broadcast input) */
    if (i - start < 2) continue;
    for (int k = start; k < i - 1; k++) plan[k].role = 3;
    plan[i - 1] = (mlx_cuda_fusion_){4, start, 0, 0};
    runs++;
  }
  return runs;
}

/* Makes input k read through strides: element i of the run (row-major
 * over shape) at strides . index. 1 when the dims collapse to
 * MLX_CU_VM_STRIDED_DIMS and a strided slot is free, else 0. */
static int strided_slot(mlx_cu_vm_* p, const int64_t* shape_in, const int64_t* strides_in, int ndim, int k) {
  if (p->nstrided == MLX_CU_VM_MAX_STRIDED || ndim > MLX_CU_MAXDIM) return 0;
  int64_t shape[MLX_CU_MAXDIM], strides[MLX_CU_MAXDIM];
  memcpy(shape, shape_in, sizeof(int64_t) * (size_t)ndim);
  memcpy(strides, strides_in, sizeof(int64_t) * (size_t)ndim);
  int nd = mlx_cuda_collapse_(shape, strides, ndim);
  if (nd > MLX_CU_VM_STRIDED_DIMS) return 0;
  int s = p->nstrided++;
  p->sidx[k] = (signed char)s;
  p->sin[s] = (unsigned char)k;
  p->sdim[s] = (unsigned char)nd;
  memcpy(p->sshape[s], shape, sizeof(int64_t) * (size_t)nd);
  memcpy(p->sstride[s], strides, sizeof(int64_t) * (size_t)nd);
  return 1;
}

/* Makes input k, x, readable by the run: as it is (row-contiguous, or
 * one value), through its own strides (a transposed gradient), or
 * broadcast to out's shape (a bias row: stride 0 along the dims it
 * lacks). 1 when it can, else 0. */
static int place_input(mlx_cu_vm_* p, const mlx_node_* x, const mlx_node_* out, int k) {
  p->sidx[k] = -1;
  if (x->size == 1) return 1;
  if (x->size == out->size) return (x->flags & MLX_FLAG_ROW_CONTIG) || strided_slot(p, x->shape, x->strides, x->ndim, k);
  if (out->ndim > MLX_CU_MAXDIM || x->ndim > out->ndim) return 0;
  int64_t strides[MLX_CU_MAXDIM];
  int lead = out->ndim - x->ndim;
  for (int d = 0; d < out->ndim; d++) {
    int xd = d - lead;
    strides[d] = xd >= 0 && x->shape[xd] != 1 ? x->strides[xd] : 0;
  }
  return strided_slot(p, out->shape, strides, out->ndim, k);
}

/* Whether two nodes have the same shape. */
static int same_shape(const mlx_node_* a, const mlx_node_* b) {
  return a->ndim == b->ndim && memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
}

/* Declared in hooks.h. */
int mlx_cuda_run_group_(mlx_op_* const* ops, int n, unsigned char* escapes, int* declined) {
  *declined = 1;
  mlx_cu_vm_ p;
  memset(&p, 0, sizeof p);
  const mlx_node_* ext[MLX_CU_VM_MAX_IN];
  const mlx_node_* ext_out[MLX_CU_VM_MAX_IN]; /* the output a broadcast input was placed for */
  int uses[MLX_CU_VM_MAX_OPS] = {0};
  mlx_stream s = ops[0]->stream;
  for (int i = 0; i < n; i++) {
    const mlx_op_* op = ops[i];
    int binary = 0, code = 0;
    if (!vm_op(op, &binary, &code)) return MLX_OK;
    p.binary[i] = (unsigned char)binary;
    p.op[i] = (unsigned char)code;
    if (op->outputs[0]->size > p.n) p.n = op->outputs[0]->size;
    for (int k = 0; k < op->ninputs; k++) {
      const mlx_node_* x = op->inputs[k];
      int r = -1;
      for (int j = 0; j < i && r < 0; j++)
        if (ops[j]->outputs[0] == x && !mlx_node_evaluated_(x)) r = j;
      if (r >= 0) {
        uses[r]++;
      } else {
        const mlx_node_* out = op->outputs[0];
        int broadcast = x->size != 1 && x->size != out->size;
        for (int e = 0; e < p.nin && r < 0; e++)
          if (ext[e] == x && (!broadcast || same_shape(ext_out[e], out))) r = MLX_CU_VM_MAX_OPS + e;
        if (r < 0) {
          if (p.nin == MLX_CU_VM_MAX_IN || !mlx_node_evaluated_(x) || !place_input(&p, x, out, p.nin)) return MLX_OK;
          ext_out[p.nin] = out;
          ext[p.nin] = x;
          r = MLX_CU_VM_MAX_OPS + p.nin++;
        }
        r = -1 - (r - MLX_CU_VM_MAX_OPS);
      }
      if (k == 0) p.a[i] = (signed char)r;
      else p.b[i] = (signed char)r;
    }
  }
  p.nops = n;
  if (p.n == 0) return MLX_OK;
  for (int e = 0; e < p.nin; e++)
    if (ext[e]->size != 1 && ext_out[e]->size != p.n) return MLX_OK;
  /* Outputs held beyond the run: the last op's, and any other whose
   * references (less the caller's) outnumber its uses inside the run. */
  int nout = 0;
  for (int i = 0; i < n; i++) {
    escapes[i] = i == n - 1 || atomic_load(&ops[i]->outputs[0]->refcount) - 1 > uses[i];
    nout += escapes[i];
  }
  if (nout > MLX_CU_VM_MAX_OUT) return MLX_OK;
  cudaStream_t st;
  MLX_TRY(mlx_cuda_stream_(s, &st));
  for (int e = 0; e < p.nin; e++) {
    const mlx_node_* x = ext[e];
    p.one[e] = x->size == 1;
    if (p.one[e] && mlx_cuda_host_scalar_(x, &p.val[e])) continue;
    const void* ptr;
    MLX_TRY(mlx_cuda_in_(x, s, &ptr));
    p.in[e] = (const float*)ptr;
  }
  for (int i = 0; i < n; i++) {
    if (!escapes[i]) continue;
    void* dst;
    MLX_TRY(mlx_cuda_out_(ops[i]->outputs[0], s, &dst));
    p.out[p.nout] = (float*)dst;
    p.oreg[p.nout] = (unsigned char)i;
    p.size1[p.nout++] = ops[i]->outputs[0]->size == 1 && p.n != 1;
  }
  *declined = 0;
  int rc = mlx_cu_vm_launch_(&p, st);
  return rc ? mlx_cuda_check_((cudaError_t)rc, "elementwise run") : MLX_OK;
}

/* Whether an op strictly between tape positions first and last reads x
 * (it would run before the fused kernel that computes x). */
static int read_between(mlx_op_* const* tape, const mlx_node_* x, int first, int last) {
  for (int j = first + 1; j < last; j++)
    for (int k = 0; k < tape[j]->ninputs; k++)
      if (tape[j]->inputs[k] == x) return 1;
  return 0;
}

int mlx_cuda_plan_fusions_(mlx_op_* const* tape, int n, mlx_cuda_fusion_* plan) {
  pthread_once(&env_once, read_env);
  if (!enabled) return 0;
  int fused = 0;
  for (int i = 0; i < n; i++) {
    tape[i]->tape_pos = i;
    plan[i] = (mlx_cuda_fusion_){0, -1, 0, 0};
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
      /* Held elsewhere too (often only by a Ruby wrapper not yet
       * collected): the few-row kernel stores it as well; a product of
       * more rows is not fused with its activation then. */
      int held = atomic_load(&x->refcount) != 1;
      int few = x->ndim == 2 && x->shape[0] <= MLX_CU_GEMV_MAX_ROWS;
      mlx_op_* add = mlx_node_evaluated_(x) || (held && !few) || mlx_keeps_graph_(x) ? NULL : atomic_load(&x->op);
      if (add && add->tape_pos >= 0 && add->tape_pos < i && tape[add->tape_pos] == add &&
          plan[add->tape_pos].role == 2 && !plan[add->tape_pos].act && add->stream.index == op->stream.index &&
          !(held && read_between(tape, x, add->tape_pos, i))) {
        plan[add->tape_pos].role = 1;
        plan[i] = (mlx_cuda_fusion_){2, add->tape_pos, act, held};
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
      plan[i] = (mlx_cuda_fusion_){2, p->tape_pos, 0, 0};
      fused++;
      break;
    }
  }
  return fused + plan_runs(tape, n, plan);
}
