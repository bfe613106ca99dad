/* The "compiled" primitive: one node in place of a group of elementwise
 * ops, computed in one pass by a kernel generated for the group
 * (codegen.c). Inputs broadcast as in the binary kernels (stride 0), so
 * the driver has the same two layouts: one flat run when every input is
 * row-contiguous or a single element, else rows of the collapsed
 * broadcast layout. When the kernel cannot be built (no compiler), or
 * outputs differ in shape, the group runs op by op on the original
 * kernels, which gives the same bits.
 *
 * Descriptors are interned here and never freed: a node recorded from a
 * compiled function may be evaluated after the function is gone. */
#include <stdlib.h>

#include "compile.h"

#define GRAIN (1 << 14)
#define MAXDIM 64
#define MAXIO 64 /* inputs or outputs of the fast paths */

/* ---- shape rules ------------------------------------------------------------ */

int mlx_elementwise_shapes_(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                            const void* params) {
  (void)params;
  for (int o = 0; o < nout; o++) {
    int nd = 0;
    for (int k = 0; k < nin; k++) {
      if (ins[k]->ndim > cap) return mlx_error_(MLX_ERROR_INTERNAL, "[compile] shape capacity %d too small", cap);
      MLX_TRY(mlx_broadcast_shape_(shapes[o], &nd, shapes[o], nd, ins[k]->shape, ins[k]->ndim, "compile"));
    }
    ndims[o] = nd;
  }
  return MLX_OK;
}

/* Shapes of every instruction (the broadcast of its operands), into
 * shapes[j * cap ...], ranks into nds[j]. cap >= every input's rank. */
static int instr_shapes(const mlx_fused_* k, int64_t* shapes, int* nds, int cap, mlx_node_* const* ins) {
  for (int j = 0; j < k->ninstr; j++) {
    const mlx_finstr_* in = &k->instrs[j];
    int64_t* s = shapes + (size_t)j * (size_t)cap;
    int nd = 0;
    for (int a = 0; a < in->nargs; a++) {
      int r = in->args[a];
      const int64_t* as = r < 0 ? ins[-1 - r]->shape : shapes + (size_t)r * (size_t)cap;
      int and = r < 0 ? ins[-1 - r]->ndim : nds[r];
      MLX_TRY(mlx_broadcast_shape_(s, &nd, s, nd, as, and, "compile"));
    }
    nds[j] = nd;
  }
  return MLX_OK;
}

static int max_rank(mlx_node_* const* ins, int nin) {
  int cap = 1;
  for (int i = 0; i < nin; i++)
    if (ins[i]->ndim > cap) cap = ins[i]->ndim;
  return cap;
}

static int fused_shapes(int64_t* const* shapes, int* ndims, int nout, int cap, mlx_node_* const* ins, int nin,
                        const void* params) {
  const mlx_fused_* k = ((const mlx_fused_params_*)params)->k;
  int c = max_rank(ins, nin);
  if (c > cap) return mlx_error_(MLX_ERROR_INTERNAL, "[compile] shape capacity %d too small", cap);
  int64_t* s = malloc(sizeof(int64_t) * (size_t)c * (size_t)k->ninstr);
  int* nds = malloc(sizeof(int) * (size_t)k->ninstr);
  int rc = (s && nds) ? instr_shapes(k, s, nds, c, ins) : mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
  for (int o = 0; o < nout && rc == MLX_OK; o++) {
    int j = k->outs[o];
    ndims[o] = nds[j];
    memcpy(shapes[o], s + (size_t)j * (size_t)c, sizeof(int64_t) * (size_t)nds[j]);
  }
  free(s);
  free(nds);
  return rc;
}

/* ---- op by op ----------------------------------------------------------------- */

/* Runs the group on the original kernels. Every node passed as an input
 * holds an extra reference meanwhile, so no kernel donates a buffer that a
 * later instruction still reads. */
static int interpret(const mlx_fused_* k, mlx_node_** outs, int nout, mlx_node_** ins, int nin) {
  int cap = max_rank(ins, nin);
  int64_t* shapes = malloc(sizeof(int64_t) * (size_t)cap * (size_t)k->ninstr);
  int* nds = malloc(sizeof(int) * (size_t)k->ninstr);
  mlx_node_** vals = calloc((size_t)k->ninstr, sizeof *vals);
  int rc = (shapes && nds && vals) ? instr_shapes(k, shapes, nds, cap, ins)
                                   : mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
  for (int i = 0; i < nin; i++) mlx_node_retain_(ins[i]);
  for (int j = 0; j < k->ninstr && rc == MLX_OK; j++) {
    const mlx_finstr_* in = &k->instrs[j];
    mlx_node_* args[3];
    for (int a = 0; a < in->nargs; a++) args[a] = in->args[a] < 0 ? ins[-1 - in->args[a]] : vals[in->args[a]];
    vals[j] = mlx_node_new_(in->dtype, shapes + (size_t)j * (size_t)cap, nds[j]);
    if (!vals[j]) {
      rc = mlx_last_error_code();
      break;
    }
    mlx_node_retain_(vals[j]);
    rc = in->prim->cpu(&vals[j], 1, args, in->nargs, in->params);
  }
  for (int o = 0; o < nout && rc == MLX_OK; o++) {
    mlx_node_ *v = vals[k->outs[o]], *out = outs[o];
    /* The output's shape is the instruction's, or a broadcast of it. */
    int64_t st[out->ndim > 0 ? out->ndim : 1];
    for (int d = 0; d < out->ndim; d++) {
      int vd = d - (out->ndim - v->ndim);
      st[d] = (vd < 0 || v->shape[vd] != out->shape[d]) ? 0 : v->strides[vd];
    }
    mlx_node_set_view_(out, v, v->offset, st);
  }
  for (int j = 0; j < k->ninstr && vals; j++) {
    if (!vals[j]) continue;
    mlx_node_release_(vals[j]);
    mlx_node_release_(vals[j]);
  }
  for (int i = 0; i < nin; i++) mlx_node_release_(ins[i]);
  free(vals);
  free(nds);
  free(shapes);
  return rc;
}

/* ---- the generated kernel ---------------------------------------------------- */

typedef struct {
  mlx_fused_fn_ fn;
  int nin, nout;
  char* out[MAXIO];
  const char* in[MAXIO];
  size_t osize[MAXIO], isize[MAXIO];
  int ndim; /* collapsed; the last dim is the row */
  int64_t shape[MAXDIM];
  int64_t strides[MAXIO][MAXDIM]; /* per input, in elements; 0 where broadcast */
} fused_job;

/* Elements [begin, end) when every input is row-contiguous (stride 1) or a
 * single element (stride 0). */
static void run_flat(void* ctx, int64_t begin, int64_t end) {
  const fused_job* j = ctx;
  char* out[MAXIO];
  const char* in[MAXIO];
  int64_t s[MAXIO];
  for (int k = 0; k < j->nin; k++) {
    s[k] = j->strides[k][0];
    in[k] = j->in[k] + begin * s[k] * (int64_t)j->isize[k];
  }
  for (int o = 0; o < j->nout; o++) out[o] = j->out[o] + begin * (int64_t)j->osize[o];
  j->fn(out, in, s, end - begin);
}

/* Rows [begin, end) of the collapsed layout, input offsets kept by an
 * odometer over the outer dims. */
static void run_rows(void* ctx, int64_t begin, int64_t end) {
  const fused_job* j = ctx;
  int nd = j->ndim, nin = j->nin;
  int64_t inner = j->shape[nd - 1];
  int64_t idx[MAXDIM], off[MAXIO], s[MAXIO];
  char* out[MAXIO];
  const char* in[MAXIO];
  for (int k = 0; k < nin; k++) {
    off[k] = 0;
    s[k] = j->strides[k][nd - 1];
  }
  int64_t rem = begin;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rem % j->shape[d];
    rem /= j->shape[d];
    for (int k = 0; k < nin; k++) off[k] += idx[d] * j->strides[k][d];
  }
  for (int64_t r = begin; r < end; r++) {
    for (int k = 0; k < nin; k++) in[k] = j->in[k] + off[k] * (int64_t)j->isize[k];
    for (int o = 0; o < j->nout; o++) out[o] = j->out[o] + r * inner * (int64_t)j->osize[o];
    j->fn(out, in, s, inner);
    for (int d = nd - 2; d >= 0; d--) {
      for (int k = 0; k < nin; k++) off[k] += j->strides[k][d];
      if (++idx[d] < j->shape[d]) break;
      for (int k = 0; k < nin; k++) off[k] -= j->shape[d] * j->strides[k][d];
      idx[d] = 0;
    }
  }
}

/* The kernel of k, built on first use; NULL if it cannot be built. */
static mlx_fused_fn_ kernel_of(mlx_fused_* k) {
  pthread_mutex_lock(&k->lock);
  if (k->state == 0) {
    k->fn = mlx_fused_build_(k);
    k->state = k->fn ? 1 : 2;
  }
  mlx_fused_fn_ fn = k->state == 1 ? k->fn : NULL;
  pthread_mutex_unlock(&k->lock);
  return fn;
}

int mlx_fused_ready_(mlx_fused_* k) {
  return kernel_of(k) != NULL;
}

static int same_shape(const mlx_node_* a, const mlx_node_* b) {
  return a->ndim == b->ndim && (a->ndim == 0 || !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim));
}

/* 1 if n covers out densely in row-major order. */
static int row_full(const mlx_node_* n, const mlx_node_* out) {
  return n->size == out->size && (n->flags & MLX_FLAG_ROW_CONTIG);
}

/* Gives output 0 the buffer of an input that dies with this op (row-major,
 * full size, same item size, referenced only by this op), else a new one;
 * the other outputs get new buffers. */
static int alloc_outputs(mlx_node_** outs, int nout, mlx_node_** ins, int nin) {
  mlx_node_* d = NULL;
  for (int k = 0; k < nin && !d; k++) {
    mlx_node_* n = ins[k];
    if (row_full(n, outs[0]) && mlx_dtype_size(n->dtype) == mlx_dtype_size(outs[0]->dtype) &&
        atomic_load(&n->refcount) == 1 && atomic_load(&n->buf->refcount) == 1)
      d = n;
  }
  int donated;
  if (d)
    MLX_TRY(mlx_node_donate_or_alloc_(outs[0], d, &donated));
  else
    MLX_TRY(mlx_node_alloc_(outs[0]));
  for (int o = 1; o < nout; o++) MLX_TRY(mlx_node_alloc_(outs[o]));
  return MLX_OK;
}

static int fused_cpu(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  mlx_fused_* k = ((const mlx_fused_params_*)params)->k;
  mlx_node_* out = outs[0];
  int same = nin <= MAXIO && nout <= MAXIO;
  for (int o = 1; o < nout && same; o++) same = same_shape(outs[o], out);
  mlx_fused_fn_ fn = same ? kernel_of(k) : NULL;
  if (!fn) return interpret(k, outs, nout, ins, nin);
  if (out->size == 0) {
    for (int o = 0; o < nout; o++) MLX_TRY(mlx_node_alloc_(outs[o]));
    return MLX_OK;
  }
  fused_job j;
  j.fn = fn;
  j.nin = nin;
  j.nout = nout;
  for (int kk = 0; kk < nin; kk++) j.isize[kk] = mlx_dtype_size(ins[kk]->dtype);
  for (int o = 0; o < nout; o++) j.osize[o] = mlx_dtype_size(outs[o]->dtype);

  int flat = 1;
  for (int kk = 0; kk < nin; kk++) flat &= row_full(ins[kk], out) || ins[kk]->size == 1;
  /* Broadcast strides, collapsed: size-1 dims dropped, a dim merged into
   * the previous one when every input steps through both as one. */
  int nd = 0;
  if (!flat) {
    for (int i = 0; i < out->ndim; i++) {
      int64_t len = out->shape[i];
      if (len == 1) continue;
      int64_t st[MAXIO];
      for (int kk = 0; kk < nin; kk++) {
        const mlx_node_* n = ins[kk];
        int ax = i - (out->ndim - n->ndim);
        st[kk] = (ax < 0 || n->shape[ax] == 1) ? 0 : n->strides[ax];
      }
      int merge = nd > 0;
      for (int kk = 0; kk < nin && merge; kk++) merge = j.strides[kk][nd - 1] == st[kk] * len;
      if (merge) {
        j.shape[nd - 1] *= len;
        for (int kk = 0; kk < nin; kk++) j.strides[kk][nd - 1] = st[kk];
      } else {
        if (nd == MAXDIM) return interpret(k, outs, nout, ins, nin);
        j.shape[nd] = len;
        for (int kk = 0; kk < nin; kk++) j.strides[kk][nd] = st[kk];
        nd++;
      }
    }
  }
  MLX_TRY(alloc_outputs(outs, nout, ins, nin));
  for (int kk = 0; kk < nin; kk++) j.in[kk] = MLX_DATA(ins[kk], char);
  for (int o = 0; o < nout; o++) j.out[o] = MLX_DATA(outs[o], char);
  if (flat) {
    for (int kk = 0; kk < nin; kk++) j.strides[kk][0] = ins[kk]->size == 1 && out->size != 1 ? 0 : 1;
    mlx_parallel_for_(out->size, GRAIN, run_flat, &j);
    return MLX_OK;
  }
  j.ndim = nd;
  int64_t inner = j.shape[nd - 1];
  mlx_parallel_for_(out->size / inner, GRAIN / inner + 1, run_rows, &j);
  return MLX_OK;
}

const mlx_prim_ mlx_prim_compiled_ = {.name = "compiled", .cpu = fused_cpu, .output_shapes = fused_shapes};
MLX_REGISTER_PRIM(mlx_prim_compiled_);

/* ---- interning ------------------------------------------------------------------ */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mlx_fused_* registry;

typedef struct {
  unsigned char* p;
  size_t n;
} bytes;

static void put(bytes* b, const void* v, size_t n) {
  if (b->p) memcpy(b->p + b->n, v, n);
  b->n += n;
}

/* The canonical bytes of a program (b->p NULL: just count them). */
static void serialize(bytes* b, const mlx_fused_* k) {
  put(b, &k->nin, sizeof k->nin);
  put(b, &k->nout, sizeof k->nout);
  put(b, &k->ninstr, sizeof k->ninstr);
  for (int i = 0; i < k->nin; i++) {
    int t = k->in_dtypes[i];
    put(b, &t, sizeof t);
    put(b, &k->in_scalar[i], 1);
  }
  put(b, k->outs, sizeof(int) * (size_t)k->nout);
  for (int j = 0; j < k->ninstr; j++) {
    const mlx_finstr_* in = &k->instrs[j];
    int f[8] = {in->kind, in->op, (int)in->dtype, (int)in->in_dtype, in->nargs, in->args[0], in->args[1], in->args[2]};
    uintptr_t prim = (uintptr_t)in->prim;
    put(b, f, sizeof f);
    put(b, &prim, sizeof prim);
    put(b, &in->params_size, sizeof in->params_size);
    put(b, in->params, in->params_size);
  }
}

mlx_fused_* mlx_fused_intern_(const mlx_fused_* proto) {
  bytes key = {NULL, 0};
  serialize(&key, proto);
  key.p = malloc(key.n);
  if (!key.p) {
    mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
    return NULL;
  }
  key.n = 0;
  serialize(&key, proto);
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < key.n; i++) h = (h ^ key.p[i]) * 1099511628211ULL;

  pthread_mutex_lock(&registry_lock);
  mlx_fused_* k = registry;
  while (k && !(k->key_hash == h && k->key_size == key.n && !memcmp(k->key, key.p, key.n))) k = k->next;
  if (!k) {
    size_t ni = (size_t)proto->nin, no = (size_t)proto->nout, nj = (size_t)proto->ninstr;
    k = calloc(1, sizeof *k);
    char* mem = k ? malloc(sizeof(mlx_finstr_) * nj + sizeof(mlx_dtype) * ni + sizeof(int) * no + ni + 1) : NULL;
    if (!mem) {
      free(k);
      k = NULL;
      mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
    } else {
      *k = *proto;
      k->instrs = (mlx_finstr_*)mem;
      memcpy(k->instrs, proto->instrs, sizeof(mlx_finstr_) * nj);
      k->in_dtypes = (mlx_dtype*)(k->instrs + nj);
      memcpy(k->in_dtypes, proto->in_dtypes, sizeof(mlx_dtype) * ni);
      k->outs = (int*)(k->in_dtypes + ni);
      memcpy(k->outs, proto->outs, sizeof(int) * no);
      k->in_scalar = (unsigned char*)(k->outs + no);
      memcpy(k->in_scalar, proto->in_scalar, ni);
      k->key = key.p;
      k->key_size = key.n;
      k->key_hash = h;
      key.p = NULL;
      pthread_mutex_init(&k->lock, NULL);
      k->state = 0;
      k->fn = NULL;
      k->next = registry;
      registry = k;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  free(key.p);
  return k;
}

void mlx_fused_reset_all_(void) {
  pthread_mutex_lock(&registry_lock);
  for (mlx_fused_* k = registry; k; k = k->next) {
    pthread_mutex_lock(&k->lock);
    k->state = 0;
    k->fn = NULL;
    pthread_mutex_unlock(&k->lock);
  }
  pthread_mutex_unlock(&registry_lock);
}
