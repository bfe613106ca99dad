/* compile: trace a closure once per input signature, keep the graph it
 * builds as a program of ops, simplify it and record it again for later
 * calls.
 *
 * Tracing calls the function on tracer copies of the inputs (as the
 * transforms do) and walks the ops between them and the outputs. Each op
 * becomes a program node that keeps its primitive and a copy of its
 * params; its inputs are program values: a compile input, a constant the
 * function closed over (kept by reference), a key drawn from the global
 * random sequence, or an earlier node's output. Then:
 *   - equal single-element constants are merged;
 *   - nodes with the same primitive, params bytes and inputs are merged
 *     (common subexpressions);
 *   - groups of elementwise nodes whose intermediate values nothing else
 *     needs become one "compiled" node (fused.c) with a generated kernel,
 *     built right away; a group whose kernel does not build (no
 *     compiler) stays as it was.
 * The first call's results are the program recorded on its inputs. A call
 * with a known signature records the program's nodes with the actual
 * inputs (mlx_op_record_), so it costs one node per program node and does
 * not call the function.
 *
 * Functions the program cannot stand for are called directly from then
 * on: one that reseeds the random sequence, or that uses ops whose params
 * own resources (they cannot be copied into new ops).
 *
 * Random keys: while tracing, every key drawn from the global sequence is
 * replaced by a traced input (ops/random.c reports each draw), so the
 * random ops land in the program instead of being baked in as constants.
 * A later call draws as many keys as the trace did, in the same order, so
 * the sequence advances and the numbers match the uncompiled function.
 *
 * Shapeless: when every node's primitive has an output_shapes rule, the
 * program is kept by input dtypes and ranks and replayed with shapes
 * computed by those rules; otherwise new shapes trace again. */
#include "compile.h"

#include <stdlib.h>

#include "../cpu/elementwise.h"
#include "../cpu/kernels.h"
#include "mlx/compile.h"

/* ---- switches ----------------------------------------------------------------- */

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static atomic_int compile_off;
static atomic_uint_fast64_t cache_generation;

static void read_env(void) {
  const char* e = getenv("MLX_DISABLE_COMPILE");
  atomic_store(&compile_off, e && *e && strcmp(e, "0") != 0);
}

static int compile_disabled(void) {
  pthread_once(&env_once, read_env);
  return atomic_load(&compile_off);
}

int mlx_disable_compile(void) {
  pthread_once(&env_once, read_env);
  atomic_store(&compile_off, 1);
  return MLX_OK;
}

int mlx_enable_compile(void) {
  pthread_once(&env_once, read_env);
  atomic_store(&compile_off, 0);
  return MLX_OK;
}

int mlx_compile_clear_cache(void) {
  atomic_fetch_add(&cache_generation, 1);
  mlx_fused_reset_all_();
  mlx_compile_cache_remove_files_();
  return MLX_OK;
}

/* ---- programs ----------------------------------------------------------------- */

enum { V_INPUT, V_CONST, V_KEY, V_NODE };

typedef struct {
  int kind;
  int index;       /* input index, key slot or node index */
  int out;         /* output index of the node */
  mlx_node_* node; /* V_CONST: the captured array (a reference) */
  mlx_dtype dtype;
  int ndim;
  int64_t* shape;
} cval;

typedef struct {
  const mlx_prim_* prim;
  mlx_stream stream;
  void* params;
  size_t params_size;
  int nin, nout;
  int* ins;  /* value ids */
  int* outs; /* value ids */
} cnode;

typedef struct {
  atomic_int refcount;
  int nin, nkeys;
  cval* vals;
  int nvals, cap_vals;
  cnode* nodes;
  int nnodes, cap_nodes;
  int* outs;
  int nout;
  int shape_free; /* every node's primitive has an output_shapes rule */
} program;

static void node_free(cnode* n) {
  free(n->params);
  free(n->ins);
  free(n->outs);
}

static void program_release(program* p) {
  if (!p || atomic_fetch_sub(&p->refcount, 1) != 1) return;
  for (int v = 0; v < p->nvals; v++) {
    if (p->vals[v].kind == V_CONST) mlx_node_release_(p->vals[v].node);
    free(p->vals[v].shape);
  }
  for (int i = 0; i < p->nnodes; i++) node_free(&p->nodes[i]);
  free(p->vals);
  free(p->nodes);
  free(p->outs);
  free(p);
}

static int oom(void) {
  return mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
}

/* Adds a value; its id through *id. */
static int add_val(program* p, int kind, int index, int out, mlx_dtype dtype, const int64_t* shape, int ndim, int* id) {
  if (p->nvals == p->cap_vals) {
    int cap = p->cap_vals ? p->cap_vals * 2 : 32;
    cval* v = realloc(p->vals, sizeof *v * (size_t)cap);
    if (!v) return oom();
    p->vals = v;
    p->cap_vals = cap;
  }
  cval* v = &p->vals[p->nvals];
  memset(v, 0, sizeof *v);
  v->shape = malloc(sizeof(int64_t) * (size_t)(ndim > 0 ? ndim : 1));
  if (!v->shape) return oom();
  if (ndim) memcpy(v->shape, shape, sizeof(int64_t) * (size_t)ndim);
  v->kind = kind;
  v->index = index;
  v->out = out;
  v->dtype = dtype;
  v->ndim = ndim;
  *id = p->nvals++;
  return MLX_OK;
}

/* Appends a node (taking its arrays); its index through *idx. */
static int add_node(program* p, cnode* n, int* idx) {
  if (p->nnodes == p->cap_nodes) {
    int cap = p->cap_nodes ? p->cap_nodes * 2 : 32;
    cnode* v = realloc(p->nodes, sizeof *v * (size_t)cap);
    if (!v) return oom();
    p->nodes = v;
    p->cap_nodes = cap;
  }
  p->nodes[p->nnodes] = *n;
  *idx = p->nnodes++;
  return MLX_OK;
}

static int64_t val_size(const cval* v) {
  int64_t s = 1;
  for (int d = 0; d < v->ndim; d++) s *= v->shape[d];
  return s;
}

static int same_shape(const cval* a, const cval* b) {
  return a->ndim == b->ndim && (a->ndim == 0 || !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim));
}

/* ---- a pointer -> int map --------------------------------------------------------- */
typedef struct {
  const void** keys;
  int* vals;
  size_t cap, n;
} imap;

static size_t hash_ptr(const void* p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x;
}

static int* imap_find(const imap* m, const void* key) {
  if (!m->cap) return NULL;
  for (size_t i = hash_ptr(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) return &m->vals[i];
    if (!m->keys[i]) return NULL;
  }
}

static int imap_put(imap* m, const void* key, int val) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    const void** keys = calloc(cap, sizeof *keys);
    int* vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
      free(keys);
      free(vals);
      return oom();
    }
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->keys[i]) continue;
      size_t j = hash_ptr(m->keys[i]) & (cap - 1);
      while (keys[j]) j = (j + 1) & (cap - 1);
      keys[j] = m->keys[i];
      vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
  }
  size_t i = hash_ptr(key) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
  return MLX_OK;
}

static void imap_free(imap* m) {
  free(m->keys);
  free(m->vals);
}

/* ---- from the trace to a program ---------------------------------------------------- */

/* The value of node n: known, or a new constant (kept by reference). */
static int value_of(program* p, imap* m, mlx_node_* n, int* id) {
  int* f = imap_find(m, n);
  if (f) {
    *id = *f;
    return MLX_OK;
  }
  MLX_TRY(add_val(p, V_CONST, 0, 0, n->dtype, n->shape, n->ndim, id));
  mlx_node_retain_(n);
  p->vals[*id].node = n;
  return imap_put(m, n, *id);
}

/* Builds the program of the traced graph: sources are the input tracers
 * then the key tracers. *replayable is 0 when an op's params own
 * resources (they cannot be copied into new ops). */
static int build_program(program* p, mlx_node_* const* sources, int nsrc, mlx_node_* const* outs, int nout,
                         int* replayable) {
  imap m = {0};
  mlx_op_** ops = NULL;
  size_t nops = 0;
  int rc = MLX_OK;
  *replayable = 1;
  for (int i = 0; i < nsrc && rc == MLX_OK; i++) {
    mlx_node_* s = sources[i];
    int id, key = i >= p->nin;
    rc = add_val(p, key ? V_KEY : V_INPUT, key ? i - p->nin : i, 0, s->dtype, s->shape, s->ndim, &id);
    if (rc == MLX_OK) rc = imap_put(&m, s, id);
  }
  if (rc == MLX_OK) rc = mlx_trace_tape_(&ops, &nops, sources, (size_t)nsrc, outs, (size_t)nout);
  for (size_t t = 0; t < nops && rc == MLX_OK; t++) {
    mlx_op_* op = ops[t];
    if (op->prim->params_free) *replayable = 0;
    cnode n = {op->prim, op->stream, NULL, op->params_size, op->ninputs, op->noutputs, NULL, NULL};
    n.params = malloc(op->params_size ? op->params_size : 1);
    n.ins = malloc(sizeof(int) * (size_t)(op->ninputs ? op->ninputs : 1));
    n.outs = malloc(sizeof(int) * (size_t)op->noutputs);
    int idx = 0;
    if (!n.params || !n.ins || !n.outs || (rc = add_node(p, &n, &idx))) {
      node_free(&n);
      if (!rc) rc = oom();
      break;
    }
    if (op->params_size) memcpy(n.params, op->params, op->params_size);
    for (int k = 0; k < op->ninputs && rc == MLX_OK; k++) rc = value_of(p, &m, op->inputs[k], &p->nodes[idx].ins[k]);
    for (int k = 0; k < op->noutputs && rc == MLX_OK; k++) {
      mlx_node_* o = op->outputs[k];
      int id;
      if (o)
        rc = add_val(p, V_NODE, idx, k, o->dtype, o->shape, o->ndim, &id);
      else
        rc = add_val(p, V_NODE, idx, k, op->out_dtypes[k], op->out_shapes[k], op->out_ndims[k], &id);
      if (rc == MLX_OK) p->nodes[idx].outs[k] = id;
      if (rc == MLX_OK && o) rc = imap_put(&m, o, id);
    }
  }
  p->outs = malloc(sizeof(int) * (size_t)(nout ? nout : 1));
  if (rc == MLX_OK && !p->outs) rc = oom();
  p->nout = nout;
  for (int j = 0; j < nout && rc == MLX_OK; j++) rc = value_of(p, &m, outs[j], &p->outs[j]);
  free(ops);
  imap_free(&m);
  return rc;
}

/* ---- simplification ------------------------------------------------------------------ */

/* Merges equal single-element evaluated constants: alias[v] gets the
 * value to use for v. */
static void dedupe_constants(const program* p, int* alias) {
  for (int v = 0; v < p->nvals; v++) {
    const cval* a = &p->vals[v];
    if (a->kind != V_CONST || alias[v] != v || val_size(a) != 1 || !mlx_node_evaluated_(a->node)) continue;
    size_t item = mlx_dtype_size(a->dtype);
    for (int w = v + 1; w < p->nvals; w++) {
      const cval* b = &p->vals[w];
      if (b->kind != V_CONST || alias[w] != w || b->dtype != a->dtype || !same_shape(a, b) ||
          !mlx_node_evaluated_(b->node))
        continue;
      if (!memcmp(MLX_DATA(a->node, char), MLX_DATA(b->node, char), item)) alias[w] = v;
    }
  }
}

static uint64_t node_hash(const cnode* n) {
  uint64_t h = (uint64_t)(uintptr_t)n->prim * 0x9e3779b97f4a7c15ULL;
  const unsigned char* b = n->params;
  for (size_t i = 0; i < n->params_size; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  for (int k = 0; k < n->nin; k++) h = (h ^ (uint64_t)n->ins[k]) * 0x100000001b3ULL;
  return h ^ (uint64_t)n->stream.index;
}

static int node_equal(const cnode* a, const cnode* b) {
  return a->prim == b->prim && a->stream.index == b->stream.index && a->stream.device.type == b->stream.device.type &&
         a->nin == b->nin && a->nout == b->nout && a->params_size == b->params_size &&
         (a->params_size == 0 || !memcmp(a->params, b->params, a->params_size)) &&
         (a->nin == 0 || !memcmp(a->ins, b->ins, sizeof(int) * (size_t)a->nin));
}

/* Constant dedupe and common-subexpression elimination, in one pass over
 * the nodes in order (inputs are rewritten through alias before a node is
 * compared). Removed nodes are freed. */
static int simplify(program* p) {
  int* alias = malloc(sizeof(int) * (size_t)(p->nvals ? p->nvals : 1));
  size_t cap = 16;
  while (cap < (size_t)p->nnodes * 2) cap *= 2;
  int* table = malloc(sizeof(int) * cap);
  if (!alias || !table) {
    free(alias);
    free(table);
    return oom();
  }
  for (int v = 0; v < p->nvals; v++) alias[v] = v;
  for (size_t i = 0; i < cap; i++) table[i] = -1;
  dedupe_constants(p, alias);
  int kept = 0;
  for (int i = 0; i < p->nnodes; i++) {
    cnode* n = &p->nodes[i];
    for (int k = 0; k < n->nin; k++) n->ins[k] = alias[n->ins[k]];
    size_t s = node_hash(n) & (cap - 1);
    int same = -1;
    for (; table[s] >= 0; s = (s + 1) & (cap - 1))
      if (node_equal(&p->nodes[table[s]], n)) {
        same = table[s];
        break;
      }
    if (same >= 0) {
      for (int k = 0; k < n->nout; k++) alias[n->outs[k]] = p->nodes[same].outs[k];
      node_free(n);
      continue;
    }
    p->nodes[kept] = *n;
    for (int k = 0; k < n->nout; k++) p->vals[n->outs[k]].index = kept;
    table[s] = kept++;
  }
  p->nnodes = kept;
  for (int j = 0; j < p->nout; j++) p->outs[j] = alias[p->outs[j]];
  free(alias);
  free(table);
  return MLX_OK;
}

/* ---- fusion --------------------------------------------------------------------------- */

/* The fused instruction node n computes, if it is an elementwise op the
 * code generator handles; args are left for the caller. */
static int elementwise(const program* p, const cnode* n, mlx_finstr_* fi) {
  if (n->nout != 1 || n->stream.device.type != MLX_CPU || n->params_size > sizeof fi->params) return 0;
  memset(fi, 0, sizeof *fi);
  const cval* out = &p->vals[n->outs[0]];
  const mlx_prim_* pr = n->prim;
  fi->dtype = out->dtype;
  fi->in_dtype = n->nin ? p->vals[n->ins[0]].dtype : out->dtype;
  fi->nargs = n->nin;
  if (pr->cpu == mlx_cpu_unary_ && n->nin == 1 && n->params_size == sizeof(mlx_elem_params_)) {
    fi->kind = MLX_FI_UNARY;
    fi->op = ((const mlx_elem_params_*)n->params)->op;
  } else if (pr->cpu == mlx_cpu_binary_ && n->nin == 2 && n->params_size == sizeof(mlx_elem_params_) &&
             p->vals[n->ins[1]].dtype == fi->in_dtype) {
    fi->kind = MLX_FI_BINARY;
    fi->op = ((const mlx_elem_params_*)n->params)->op;
  } else if (pr->cpu == mlx_cpu_select_ && n->nin == 3 && fi->in_dtype == MLX_BOOL &&
             p->vals[n->ins[1]].dtype == out->dtype && p->vals[n->ins[2]].dtype == out->dtype) {
    fi->kind = MLX_FI_SELECT;
    fi->in_dtype = out->dtype;
  } else if (pr->cpu == mlx_cpu_copy_ && n->nin == 1 && same_shape(&p->vals[n->ins[0]], out) &&
             (!strcmp(pr->name, "astype") || !strcmp(pr->name, "contiguous") || !strcmp(pr->name, "stop_gradient"))) {
    fi->kind = MLX_FI_CAST;
  } else {
    return 0;
  }
  fi->prim = pr;
  fi->params_size = n->params_size;
  if (n->params_size) memcpy(fi->params, n->params, n->params_size);
  return mlx_fused_supported_(fi);
}

typedef struct {
  int* nodes; /* members, in program order */
  int n, cap;
  int root;
} group;

static int group_add(group* g, int node) {
  if (g->n == g->cap) {
    int cap = g->cap ? g->cap * 2 : 8;
    int* v = realloc(g->nodes, sizeof(int) * (size_t)cap);
    if (!v) return oom();
    g->nodes = v;
    g->cap = cap;
  }
  g->nodes[g->n++] = node;
  return MLX_OK;
}

/* Builds the fused node of group g into *out (its outputs: the root's
 * value first, then members' values that are program outputs). */
static int make_fused(program* p, const group* g, const mlx_finstr_* fis, const int* gid, int gi,
                      const unsigned char* is_output, cnode* out) {
  int nm = g->n;
  mlx_finstr_* instrs = malloc(sizeof *instrs * (size_t)nm);
  int* ext = malloc(sizeof(int) * (size_t)nm * 3); /* external input value ids */
  int* outs = malloc(sizeof(int) * (size_t)nm);    /* output value ids */
  int* oinstr = malloc(sizeof(int) * (size_t)nm);
  int next = 0, nouts = 0, rc = MLX_OK;
  if (!instrs || !ext || !outs || !oinstr) rc = oom();
  for (int m = 0; m < nm && rc == MLX_OK; m++) {
    const cnode* n = &p->nodes[g->nodes[m]];
    instrs[m] = fis[g->nodes[m]];
    for (int a = 0; a < n->nin; a++) {
      const cval* v = &p->vals[n->ins[a]];
      if (v->kind == V_NODE && gid[v->index] == gi) {
        int j = 0;
        while (g->nodes[j] != v->index) j++;
        instrs[m].args[a] = j;
        continue;
      }
      int e = 0;
      while (e < next && ext[e] != n->ins[a]) e++;
      if (e == next) ext[next++] = n->ins[a];
      instrs[m].args[a] = -1 - e;
    }
  }
  if (rc == MLX_OK) {
    outs[nouts] = p->nodes[g->root].outs[0];
    oinstr[nouts++] = nm - 1;
    for (int m = 0; m < nm - 1; m++) {
      int v = p->nodes[g->nodes[m]].outs[0];
      if (is_output[v]) {
        outs[nouts] = v;
        oinstr[nouts++] = m;
      }
    }
  }
  mlx_dtype* in_dtypes = malloc(sizeof(mlx_dtype) * (size_t)(next ? next : 1));
  unsigned char* in_scalar = malloc((size_t)(next ? next : 1));
  if (rc == MLX_OK && (!in_dtypes || !in_scalar)) rc = oom();
  mlx_fused_* k = NULL;
  if (rc == MLX_OK) {
    for (int e = 0; e < next; e++) {
      in_dtypes[e] = p->vals[ext[e]].dtype;
      in_scalar[e] = val_size(&p->vals[ext[e]]) == 1;
    }
    mlx_fused_ proto;
    memset(&proto, 0, sizeof proto);
    proto.nin = next;
    proto.nout = nouts;
    proto.ninstr = nm;
    proto.in_dtypes = in_dtypes;
    proto.in_scalar = in_scalar;
    proto.outs = oinstr;
    proto.instrs = instrs;
    k = mlx_fused_intern_(&proto);
    if (!k) rc = mlx_last_error_code();
  }
  if (rc == MLX_OK) {
    const cnode* root = &p->nodes[g->root];
    mlx_fused_params_ fp = {k};
    out->prim = &mlx_prim_compiled_;
    out->stream = root->stream;
    out->params = malloc(sizeof fp);
    out->params_size = sizeof fp;
    out->nin = next;
    out->nout = nouts;
    out->ins = malloc(sizeof(int) * (size_t)(next ? next : 1));
    out->outs = malloc(sizeof(int) * (size_t)nouts);
    if (!out->params || !out->ins || !out->outs) {
      node_free(out);
      rc = oom();
    } else {
      memcpy(out->params, &fp, sizeof fp);
      memcpy(out->ins, ext, sizeof(int) * (size_t)next);
      memcpy(out->outs, outs, sizeof(int) * (size_t)nouts);
    }
  }
  free(instrs);
  free(ext);
  free(outs);
  free(oinstr);
  free(in_dtypes);
  free(in_scalar);
  return rc;
}

/* Groups elementwise nodes, walking from the outputs back: a node joins
 * the group of its consumers when all of them are in one group of its
 * shape (so the group has one root and no value leaves it halfway), or
 * when it is also a program output (then the group writes it too). */
static int fuse(program* p) {
  int nn = p->nnodes, rc = MLX_OK;
  if (nn < 2) return MLX_OK;
  mlx_finstr_* fis = malloc(sizeof *fis * (size_t)nn);
  int* gid = malloc(sizeof(int) * (size_t)nn);
  /* Consumers of each value, as ranges of cons: [start[v], start[v + 1]). */
  int* start = calloc((size_t)p->nvals + 1, sizeof(int));
  int* fill = calloc((size_t)p->nvals, sizeof(int));
  int nuses = 0;
  for (int i = 0; i < nn; i++) nuses += p->nodes[i].nin;
  int* cons = malloc(sizeof(int) * (size_t)(nuses ? nuses : 1));
  unsigned char* is_output = calloc((size_t)p->nvals, 1);
  unsigned char* fusable = calloc((size_t)nn, 1);
  group* groups = calloc((size_t)nn, sizeof *groups);
  int ngroups = 0;
  if (!fis || !gid || !start || !fill || !cons || !is_output || !fusable || !groups) rc = oom();
  for (int j = 0; rc == MLX_OK && j < p->nout; j++) is_output[p->outs[j]] = 1;
  for (int i = 0; rc == MLX_OK && i < nn; i++) {
    gid[i] = -1;
    fusable[i] = (unsigned char)elementwise(p, &p->nodes[i], &fis[i]);
    for (int k = 0; k < p->nodes[i].nin; k++) start[p->nodes[i].ins[k] + 1]++;
  }
  for (int v = 0; rc == MLX_OK && v < p->nvals; v++) start[v + 1] += start[v];
  for (int i = 0; rc == MLX_OK && i < nn; i++)
    for (int k = 0; k < p->nodes[i].nin; k++) {
      int v = p->nodes[i].ins[k];
      cons[start[v] + fill[v]++] = i;
    }
  for (int i = nn - 1; rc == MLX_OK && i >= 0; i--) {
    if (!fusable[i]) continue;
    const cnode* n = &p->nodes[i];
    int v = n->outs[0];
    /* The group every consumer of v is in: -1 none, -2 several or an
     * unfused consumer. Consumers come after i, so they are assigned. */
    int g = -1;
    for (int u = start[v]; u < start[v + 1] && g != -2; u++) {
      int c = cons[u];
      g = (gid[c] < 0 || (g >= 0 && g != gid[c])) ? -2 : gid[c];
    }
    if (g >= 0) {
      const cnode* root = &p->nodes[groups[g].root];
      if (!same_shape(&p->vals[v], &p->vals[root->outs[0]]) || root->stream.index != n->stream.index) g = -1;
    }
    if (g < 0) {
      g = ngroups++;
      groups[g].root = i;
    }
    gid[i] = g;
    rc = group_add(&groups[g], i);
  }
  /* Members were added from the root backwards: put them in program order. */
  for (int g = 0; rc == MLX_OK && g < ngroups; g++)
    for (int a = 0, b = groups[g].n - 1; a < b; a++, b--) {
      int t = groups[g].nodes[a];
      groups[g].nodes[a] = groups[g].nodes[b];
      groups[g].nodes[b] = t;
    }
  /* Each group of two or more becomes one node, if its kernel builds
   * (without a compiler the group stays as it was). */
  cnode* made = rc == MLX_OK ? calloc((size_t)ngroups + 1, sizeof *made) : NULL;
  unsigned char* use = rc == MLX_OK ? calloc((size_t)ngroups + 1, 1) : NULL;
  cnode* nodes = rc == MLX_OK ? malloc(sizeof *nodes * (size_t)nn) : NULL;
  if (rc == MLX_OK && (!made || !use || !nodes)) rc = oom();
  for (int g = 0; rc == MLX_OK && g < ngroups; g++) {
    if (groups[g].n < 2) continue;
    rc = make_fused(p, &groups[g], fis, gid, g, is_output, &made[g]);
    if (rc) break;
    use[g] = (unsigned char)mlx_fused_ready_(((const mlx_fused_params_*)made[g].params)->k);
    if (!use[g]) node_free(&made[g]);
  }
  int kept = 0;
  for (int i = 0; rc == MLX_OK && i < nn; i++) {
    int g = gid[i];
    if (g < 0 || !use[g])
      nodes[kept++] = p->nodes[i];
    else if (groups[g].root == i)
      nodes[kept++] = made[g];
  }
  if (rc == MLX_OK) {
    /* Values name their producers by position: renumber them. */
    for (int i = 0; i < kept; i++)
      for (int k = 0; k < nodes[i].nout; k++) {
        p->vals[nodes[i].outs[k]].index = i;
        p->vals[nodes[i].outs[k]].out = k;
      }
    for (int i = 0; i < nn; i++)
      if (gid[i] >= 0 && use[gid[i]]) node_free(&p->nodes[i]);
    free(p->nodes);
    p->nodes = nodes;
    p->nnodes = kept;
    p->cap_nodes = nn;
  } else {
    /* The program is dropped on error: free the fused nodes made. */
    for (int g = 0; use && g < ngroups; g++)
      if (use[g]) node_free(&made[g]);
    free(nodes);
  }
  free(made);
  free(use);
  for (int g = 0; groups && g < ngroups; g++) free(groups[g].nodes);
  free(groups);
  free(fis);
  free(gid);
  free(start);
  free(fill);
  free(cons);
  free(is_output);
  free(fusable);
  return rc;
}

/* ---- replay ------------------------------------------------------------------------------ */

/* Records the program on inputs (and keys, one per key slot) into
 * outputs. rules: compute shapes with the primitives' output_shapes
 * rules instead of taking the traced ones. */
static int replay(const program* p, mlx_vector_array outputs, const mlx_vector_array inputs, mlx_node_* const* keys,
                  int rules) {
  mlx_node_** cur = calloc((size_t)(p->nvals ? p->nvals : 1), sizeof *cur);
  if (!cur) return oom();
  int rc = MLX_OK;
  for (int v = 0; v < p->nvals; v++) {
    const cval* c = &p->vals[v];
    if (c->kind == V_INPUT)
      cur[v] = mlx_vector_node_(inputs, (size_t)c->index);
    else if (c->kind == V_CONST)
      cur[v] = c->node;
    else if (c->kind == V_KEY)
      cur[v] = keys[c->index];
  }
  for (int i = 0; i < p->nnodes && rc == MLX_OK; i++) {
    const cnode* n = &p->nodes[i];
    int no = n->nout, ni = n->nin;
    mlx_node_* ins[ni > 0 ? ni : 1];
    mlx_array res[no];
    mlx_dtype dtypes[no];
    int ndims[no], cap = 1;
    const int64_t* shapes[no];
    for (int k = 0; k < ni; k++) {
      ins[k] = cur[n->ins[k]];
      if (ins[k]->ndim > cap) cap = ins[k]->ndim;
    }
    for (int k = 0; k < no; k++) {
      const cval* c = &p->vals[n->outs[k]];
      res[k] = mlx_array_new();
      dtypes[k] = c->dtype;
      ndims[k] = c->ndim;
      shapes[k] = c->shape;
      if (c->ndim > cap) cap = c->ndim;
    }
    int64_t buf[rules ? no * cap : 1];
    if (rules) {
      int64_t* rows[no];
      for (int k = 0; k < no; k++) rows[k] = buf + k * cap;
      rc = n->prim->output_shapes(rows, ndims, no, cap, ins, ni, n->params);
      for (int k = 0; k < no; k++) shapes[k] = rows[k];
    }
    if (rc == MLX_OK)
      rc = mlx_op_record_(res, no, n->prim, n->params, n->params_size, ins, ni, dtypes, shapes, ndims, n->stream);
    for (int k = 0; k < no && rc == MLX_OK; k++) cur[n->outs[k]] = MLX_NODE(res[k]);
  }
  for (int j = 0; j < p->nout && rc == MLX_OK; j++) rc = mlx_vector_array_append(outputs, mlx_wrap_(cur[p->outs[j]]));
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].nout; k++) mlx_node_release_(cur[p->nodes[i].outs[k]]);
  free(cur);
  return rc;
}

/* ---- tracing -------------------------------------------------------------------------------- */

typedef struct {
  mlx_vector_array keys;  /* traced copies, in draw order */
  mlx_vector_array drawn; /* the keys themselves */
  int reseeded;
} trace_ctx;

static int on_key(void* ctx, mlx_array* key) {
  trace_ctx* t = ctx;
  if (!key) {
    t->reseeded = 1;
    return MLX_OK;
  }
  mlx_array tr = mlx_array_new();
  MLX_TRY(mlx_make_tracer_(&tr, MLX_NODE(*key)));
  int rc = mlx_vector_array_append(t->drawn, *key);
  if (rc == MLX_OK) rc = mlx_vector_array_append(t->keys, tr);
  if (rc == MLX_OK) rc = mlx_array_set(key, tr);
  mlx_array_free(tr);
  return rc;
}

typedef enum { TRACE_PROGRAM, TRACE_PASSTHROUGH } trace_kind;

/* Traces fun on inputs. On TRACE_PROGRAM *prog gets the simplified program
 * and outputs fun's results computed by it; on TRACE_PASSTHROUGH (fun
 * reseeds the random sequence or uses ops that cannot be replayed)
 * outputs gets the traced results themselves and fun must be called
 * directly from now on. */
static int trace(const mlx_closure fun, mlx_vector_array outputs, const mlx_vector_array inputs, program** prog,
                 trace_kind* kind) {
  size_t nin = mlx_vector_array_size(inputs);
  mlx_vector_array tracers = mlx_vector_array_new(), res = mlx_vector_array_new();
  trace_ctx tc = {mlx_vector_array_new(), mlx_vector_array_new(), 0};
  program* p = calloc(1, sizeof *p);
  if (p) atomic_init(&p->refcount, 1);
  int rc = (tracers.ctx && res.ctx && tc.keys.ctx && tc.drawn.ctx && p) ? MLX_OK : oom();
  atomic_fetch_add(&mlx_tracing_depth_, 1);
  for (size_t i = 0; i < nin && rc == MLX_OK; i++) {
    mlx_array t = mlx_array_new();
    rc = mlx_make_tracer_(&t, mlx_vector_node_(inputs, i));
    if (rc == MLX_OK) rc = mlx_vector_array_append(tracers, t);
    mlx_array_free(t);
  }
  if (rc == MLX_OK) {
    mlx_random_key_hook_ prev;
    void* prev_ctx;
    mlx_random_set_key_hook_(on_key, &tc, &prev, &prev_ctx);
    rc = mlx_closure_apply(res, fun, tracers);
    mlx_random_set_key_hook_(prev, prev_ctx, &prev, &prev_ctx);
  }
  int replayable = 0;
  size_t nkeys = mlx_vector_array_size(tc.keys), nres = mlx_vector_array_size(res);
  if (rc == MLX_OK) {
    p->nin = (int)nin;
    p->nkeys = (int)nkeys;
    mlx_node_* src[nin + nkeys + 1];
    mlx_node_* outs[nres + 1];
    for (size_t i = 0; i < nin; i++) src[i] = mlx_vector_node_(tracers, i);
    for (size_t i = 0; i < nkeys; i++) src[nin + i] = mlx_vector_node_(tc.keys, i);
    for (size_t j = 0; j < nres; j++) outs[j] = mlx_vector_node_(res, j);
    rc = build_program(p, src, (int)(nin + nkeys), outs, (int)nres, &replayable);
  }
  if (rc == MLX_OK && replayable && !tc.reseeded) {
    rc = simplify(p);
    if (rc == MLX_OK) rc = fuse(p);
    p->shape_free = 1;
    for (int i = 0; i < p->nnodes; i++)
      if (!p->nodes[i].prim->output_shapes) p->shape_free = 0;
    if (rc == MLX_OK) {
      mlx_node_* keys[nkeys + 1];
      for (size_t i = 0; i < nkeys; i++) keys[i] = mlx_vector_node_(tc.drawn, i);
      rc = replay(p, outputs, inputs, keys, 0);
    }
    *kind = TRACE_PROGRAM;
  } else if (rc == MLX_OK) {
    for (size_t j = 0; j < nres && rc == MLX_OK; j++)
      rc = mlx_vector_array_append(outputs, mlx_wrap_(mlx_vector_node_(res, j)));
    *kind = TRACE_PASSTHROUGH;
  }
  atomic_fetch_sub(&mlx_tracing_depth_, 1);
  if (rc == MLX_OK && *kind == TRACE_PROGRAM)
    *prog = p;
  else
    program_release(p);
  mlx_vector_array_free(tracers);
  mlx_vector_array_free(res);
  mlx_vector_array_free(tc.keys);
  mlx_vector_array_free(tc.drawn);
  return rc;
}

/* ---- compiled closures ------------------------------------------------------------------------ */

/* One traced signature: the inputs' dtypes, ranks and (unless shape_free)
 * shapes. prog NULL: call fun directly. */
typedef struct entry {
  struct entry* next;
  int nin;
  int shape_free;
  program* prog;
  mlx_dtype* dtypes;
  int* ndims;
  int64_t* shapes; /* concatenated */
} entry;

typedef struct {
  mlx_closure fun;
  int shapeless;
  pthread_mutex_t lock;
  entry* entries;
  uint_fast64_t generation;
} compiled;

static void entry_free(entry* e) {
  program_release(e->prog);
  free(e->dtypes);
  free(e->ndims);
  free(e->shapes);
  free(e);
}

static void clear_entries(compiled* c) {
  while (c->entries) {
    entry* e = c->entries;
    c->entries = e->next;
    entry_free(e);
  }
}

static void compiled_free(void* payload) {
  compiled* c = payload;
  clear_entries(c);
  pthread_mutex_destroy(&c->lock);
  mlx_closure_free(c->fun);
  free(c);
}

/* 1 if the inputs have e's signature; *exact: the shapes match too. */
static int matches(const entry* e, const mlx_vector_array inputs, int* exact) {
  size_t n = mlx_vector_array_size(inputs);
  if ((size_t)e->nin != n) return 0;
  int same = 1;
  const int64_t* s = e->shapes;
  for (size_t i = 0; i < n; i++) {
    const mlx_node_* x = mlx_vector_node_(inputs, i);
    if (x->dtype != e->dtypes[i] || x->ndim != e->ndims[i]) return 0;
    if (x->ndim && memcmp(x->shape, s, sizeof(int64_t) * (size_t)x->ndim)) same = 0;
    s += x->ndim;
  }
  *exact = same;
  return same || e->shape_free;
}

static entry* new_entry(const mlx_vector_array inputs, program* prog, int shape_free) {
  size_t n = mlx_vector_array_size(inputs), total = 0;
  for (size_t i = 0; i < n; i++) total += (size_t)mlx_vector_node_(inputs, i)->ndim;
  entry* e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->dtypes = malloc(sizeof(mlx_dtype) * (n ? n : 1));
  e->ndims = malloc(sizeof(int) * (n ? n : 1));
  e->shapes = malloc(sizeof(int64_t) * (total ? total : 1));
  if (!e->dtypes || !e->ndims || !e->shapes) {
    entry_free(e);
    return NULL;
  }
  e->nin = (int)n;
  e->shape_free = shape_free;
  int64_t* s = e->shapes;
  for (size_t i = 0; i < n; i++) {
    const mlx_node_* x = mlx_vector_node_(inputs, i);
    e->dtypes[i] = x->dtype;
    e->ndims[i] = x->ndim;
    if (x->ndim) memcpy(s, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    s += x->ndim;
  }
  e->prog = prog;
  return e;
}

static int compiled_call(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  compiled* c = payload;
  /* Inside a transform the graph must be made of the primitives the
   * transform has rules for: run fun itself. */
  if (compile_disabled() || atomic_load(&mlx_tracing_depth_) > 0) return mlx_closure_apply(outputs, c->fun, inputs);

  pthread_mutex_lock(&c->lock);
  uint_fast64_t gen = atomic_load(&cache_generation);
  if (c->generation != gen) {
    clear_entries(c);
    c->generation = gen;
  }
  program* prog = NULL;
  int found = 0, rules = 0;
  for (entry* e = c->entries; e; e = e->next) {
    int exact;
    if (!matches(e, inputs, &exact)) continue;
    found = 1;
    prog = e->prog;
    rules = !exact;
    if (exact) break;
  }
  if (prog) atomic_fetch_add(&prog->refcount, 1);
  pthread_mutex_unlock(&c->lock);

  if (found && !prog) return mlx_closure_apply(outputs, c->fun, inputs);
  if (found) {
    int nk = prog->nkeys, rc = MLX_OK;
    mlx_array keys[nk > 0 ? nk : 1];
    mlx_node_* knodes[nk > 0 ? nk : 1];
    for (int i = 0; i < nk; i++) keys[i] = mlx_array_new();
    for (int i = 0; i < nk && rc == MLX_OK; i++) {
      rc = mlx_random_next_key_(&keys[i]);
      knodes[i] = MLX_NODE(keys[i]);
    }
    if (rc == MLX_OK) rc = replay(prog, outputs, inputs, knodes, rules);
    for (int i = 0; i < nk; i++) mlx_array_free(keys[i]);
    program_release(prog);
    return rc;
  }

  trace_kind kind = TRACE_PASSTHROUGH;
  MLX_TRY(trace(c->fun, outputs, inputs, &prog, &kind));
  entry* e = new_entry(inputs, kind == TRACE_PROGRAM ? prog : NULL, c->shapeless && prog && prog->shape_free);
  if (!e) {
    program_release(prog);
    return MLX_OK; /* the results are right; the trace is just not kept */
  }
  pthread_mutex_lock(&c->lock);
  if (c->generation == atomic_load(&cache_generation)) {
    e->next = c->entries;
    c->entries = e;
    e = NULL;
  }
  pthread_mutex_unlock(&c->lock);
  if (e) entry_free(e);
  return MLX_OK;
}

int mlx_compile(mlx_closure* res, const mlx_closure fun, int shapeless) {
  if (!res) return mlx_error_(MLX_ERROR_ARGUMENT, "[compile] no result pointer");
  if (!fun.ctx) return mlx_error_(MLX_ERROR_ARGUMENT, "[compile] empty closure handle");
  compiled* c = calloc(1, sizeof *c);
  if (!c) return oom();
  c->fun = fun;
  c->shapeless = shapeless != 0;
  c->generation = atomic_load(&cache_generation);
  pthread_mutex_init(&c->lock, NULL);
  mlx_closure r = mlx_closure_new(compiled_call, c, compiled_free);
  if (!r.ctx) {
    pthread_mutex_destroy(&c->lock);
    free(c);
    return mlx_last_error_code();
  }
  mlx_closure_retain_(fun);
  *res = r;
  return MLX_OK;
}
