/* .mlxfn files: functions traced into a graph of primitives and read
 * back (docs/mlxfn.md has the byte layout).
 *
 * Export traces the function like compile does: tracer copies of the
 * arguments, the function called on them (tracing depth raised, so
 * compiled functions inside run uncompiled), then the tape of ops between
 * the tracers and the results (mlx_trace_tape_). Each op is written as its
 * primitive's registered name, its params bytes, the ids of its inputs
 * and the dtype and shape of each output; arrays the function closed over
 * (and results of ops that do not depend on the arguments) are evaluated
 * and written as constants. Values are numbered in order of definition:
 * the arguments, then each constant or op output as it appears, so every
 * reference points backwards.
 *
 * Import checks every count against the bytes left, every id against the
 * values defined so far, every dtype, rank and shape (overflow-checked
 * sizes, constant data sizes), and looks primitives up by name; ops whose
 * primitive has an output_shapes rule must have the shapes it computes. A
 * call picks the trace whose arguments match and records its ops on the
 * caller's arrays with mlx_op_record_. */
#include <stdio.h>
#include <stdlib.h>

#include "mlx/export.h"
#include "io.h"

static const char MAGIC[8] = {'M', 'L', 'X', 'F', 'N', 0, 0, 0};
#define VERSION 1u
#define ENTRY_CONST 1
#define ENTRY_NODE 2
#define MAX_NDIM 64
#define MAX_NAME 256
#define MAX_PARAMS 65536
#define MAX_OUTS 4096
/* Imported params are zero-padded to at least this many bytes, so a
 * kernel reading its params struct never reads past a short blob. */
#define PARAMS_PAD 1024

/* ---- a pointer -> id map ------------------------------------------------------ */

typedef struct {
  const void** keys;
  int64_t* vals;
  size_t cap, n;
} pmap;

static size_t phash(const void* p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

static int64_t pmap_get(const pmap* m, const void* p) {
  if (!m->cap) return -1;
  for (size_t i = phash(p, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i]) return -1;
    if (m->keys[i] == p) return m->vals[i];
  }
}

static int pmap_put(pmap* m, const void* p, int64_t v) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    pmap g = {calloc(cap, sizeof *g.keys), malloc(cap * sizeof *g.vals), cap, 0};
    if (!g.keys || !g.vals) {
      free(g.keys);
      free(g.vals);
      return mlx_error_(MLX_ERROR_MEMORY, "[export_function] out of memory");
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) pmap_put(&g, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = g;
  }
  size_t i = phash(p, m->cap);
  while (m->keys[i] && m->keys[i] != p) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->n++;
  m->keys[i] = p;
  m->vals[i] = v;
  return MLX_OK;
}

static void pmap_free(pmap* m) {
  free(m->keys);
  free(m->vals);
}

/* ---- writing --------------------------------------------------------------------- */

static void put_u32(mlx_sbuf_* b, uint32_t v) {
  unsigned char p[4];
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
  mlx_sbuf_append_(b, p, 4);
}

static void put_i64(mlx_sbuf_* b, int64_t v) {
  unsigned char p[8];
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)((uint64_t)v >> (8 * k));
  mlx_sbuf_append_(b, p, 8);
}

static void put_str(mlx_sbuf_* b, const char* s) {
  size_t n = strlen(s);
  put_u32(b, (uint32_t)n);
  mlx_sbuf_append_(b, s, n);
}

static void put_desc(mlx_sbuf_* b, mlx_dtype dt, const int64_t* shape, int ndim) {
  put_u32(b, (uint32_t)dt);
  put_u32(b, (uint32_t)ndim);
  for (int i = 0; i < ndim; i++) put_i64(b, shape[i]);
}

typedef struct {
  mlx_sbuf_ body; /* entries */
  uint32_t nentries;
  int64_t nvals;
  pmap ids;
} writer;

/* The id of node n: known, or a new constant (evaluated and written). */
static int value_id(writer* w, mlx_node_* n, int64_t* id) {
  *id = pmap_get(&w->ids, n);
  if (*id >= 0) return MLX_OK;
  MLX_TRY(mlx_eval_node_(n));
  mlx_sbuf_append_(&w->body, (unsigned char[]){ENTRY_CONST}, 1);
  put_desc(&w->body, n->dtype, n->shape, n->ndim);
  size_t nbytes = (size_t)n->size * mlx_dtype_size(n->dtype);
  if (nbytes) {
    if (n->flags & MLX_FLAG_ROW_CONTIG) {
      mlx_sbuf_append_(&w->body, MLX_DATA(n, char), nbytes);
    } else {
      void* tmp = malloc(nbytes);
      if (!tmp) return mlx_error_(MLX_ERROR_MEMORY, "[export_function] out of memory");
      mlx_node_copy_to_(tmp, n->dtype, n);
      mlx_sbuf_append_(&w->body, tmp, nbytes);
      free(tmp);
    }
  }
  w->nentries++;
  *id = w->nvals++;
  return pmap_put(&w->ids, n, *id);
}

static int write_op(writer* w, mlx_op_* op) {
  const mlx_prim_* pr = op->prim;
  if (pr->params_free || strcmp(pr->name, "compiled") == 0 || mlx_prim_find_(pr->name) != pr)
    return mlx_error_(MLX_ERROR_UNSUPPORTED,
                      "[export_function] the primitive '%s' cannot be exported (custom functions and fused kernels "
                      "hold resources a file cannot carry)",
                      pr->name);
  if (op->params_size > MAX_PARAMS)
    return mlx_error_(MLX_ERROR_UNSUPPORTED, "[export_function] parameters of '%s' are too large", pr->name);
  int64_t ins[op->ninputs > 0 ? op->ninputs : 1];
  for (int k = 0; k < op->ninputs; k++) MLX_TRY(value_id(w, op->inputs[k], &ins[k]));
  mlx_sbuf_append_(&w->body, (unsigned char[]){ENTRY_NODE}, 1);
  put_str(&w->body, pr->name);
  put_u32(&w->body, (uint32_t)op->params_size);
  mlx_sbuf_append_(&w->body, op->params, op->params_size);
  put_u32(&w->body, (uint32_t)op->ninputs);
  for (int k = 0; k < op->ninputs; k++) put_u32(&w->body, (uint32_t)ins[k]);
  put_u32(&w->body, (uint32_t)op->noutputs);
  for (int k = 0; k < op->noutputs; k++) {
    mlx_node_* o = op->noutputs == 1 ? op->outputs[0] : op->outputs[k];
    if (o) {
      put_desc(&w->body, o->dtype, o->shape, o->ndim);
      MLX_TRY(pmap_put(&w->ids, o, w->nvals));
    } else {
      put_desc(&w->body, op->out_dtypes[k], op->out_shapes[k], op->out_ndims[k]);
    }
    w->nvals++;
  }
  w->nentries++;
  return MLX_OK;
}

/* Traces fun on args and appends the trace to out. */
static int trace_into(mlx_sbuf_* out, const mlx_closure fun, const mlx_vector_array args, const char* const* kw_names,
                      size_t nkw) {
  size_t n = mlx_vector_array_size(args);
  if (nkw > n) return mlx_error_(MLX_ERROR_ARGUMENT, "[export_function] more keyword names than arguments");
  if (n > 1u << 20) return mlx_error_(MLX_ERROR_ARGUMENT, "[export_function] too many arguments");
  for (size_t i = 0; i < nkw; i++) {
    if (!kw_names || !kw_names[i] || !*kw_names[i] || strlen(kw_names[i]) > MAX_NAME)
      return mlx_error_(MLX_ERROR_ARGUMENT, "[export_function] keyword names must be 1 to %d bytes", MAX_NAME);
    for (size_t j = 0; j < i; j++)
      if (strcmp(kw_names[i], kw_names[j]) == 0)
        return mlx_error_(MLX_ERROR_ARGUMENT, "[export_function] keyword '%s' given twice", kw_names[i]);
  }
  mlx_vector_array tracers = mlx_vector_array_new(), res = mlx_vector_array_new();
  writer w;
  memset(&w, 0, sizeof w);
  mlx_op_** ops = NULL;
  size_t nops = 0;
  int rc = tracers.ctx && res.ctx ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[export_function] out of memory");
  atomic_fetch_add(&mlx_tracing_depth_, 1);
  for (size_t i = 0; i < n && !rc; i++) {
    mlx_array t = mlx_array_new();
    rc = mlx_make_tracer_(&t, mlx_vector_node_(args, i));
    if (!rc) rc = mlx_vector_array_append(tracers, t);
    mlx_array_free(t);
    if (!rc) rc = pmap_put(&w.ids, mlx_vector_node_(tracers, i), (int64_t)i);
  }
  w.nvals = (int64_t)n;
  if (!rc) rc = mlx_closure_apply(res, fun, tracers);
  size_t nres = mlx_vector_array_size(res);
  if (!rc && nres == 0) rc = mlx_error_(MLX_ERROR_ARGUMENT, "[export_function] the function returned no arrays");
  if (!rc) {
    mlx_node_* src[n + 1];
    mlx_node_* outs[nres + 1];
    for (size_t i = 0; i < n; i++) src[i] = mlx_vector_node_(tracers, i);
    for (size_t j = 0; j < nres; j++) outs[j] = mlx_vector_node_(res, j);
    rc = mlx_trace_tape_(&ops, &nops, src, n, outs, nres);
  }
  for (size_t t = 0; t < nops && !rc; t++) rc = write_op(&w, ops[t]);
  int64_t out_ids[nres + 1];
  for (size_t j = 0; j < nres && !rc; j++) rc = value_id(&w, mlx_vector_node_(res, j), &out_ids[j]);
  atomic_fetch_sub(&mlx_tracing_depth_, 1);
  if (!rc) {
    put_u32(out, (uint32_t)n);
    put_u32(out, (uint32_t)nkw);
    for (size_t i = 0; i < nkw; i++) put_str(out, kw_names[i]);
    for (size_t i = 0; i < n; i++) {
      mlx_node_* a = mlx_vector_node_(args, i);
      put_desc(out, a->dtype, a->shape, a->ndim);
    }
    put_u32(out, w.nentries);
    mlx_sbuf_append_(out, w.body.data, w.body.len);
    put_u32(out, (uint32_t)nres);
    for (size_t j = 0; j < nres; j++) put_u32(out, (uint32_t)out_ids[j]);
    if (out->failed || w.body.failed) rc = mlx_error_(MLX_ERROR_MEMORY, "[export_function] out of memory");
  }
  free(ops);
  pmap_free(&w.ids);
  mlx_sbuf_free_(&w.body);
  mlx_vector_array_free(tracers);
  mlx_vector_array_free(res);
  return rc;
}

/* ---- exporters ------------------------------------------------------------------ */

struct mlx_function_exporter_ {
  char* path;
  mlx_closure fun;
  int shapeless, closed;
  uint32_t ntraces;
  mlx_sbuf_ traces;
};

int mlx_function_exporter_new(mlx_function_exporter* res, const char* path, const mlx_closure fun, int shapeless) {
  if (!res || !fun.ctx) return mlx_error_(MLX_ERROR_ARGUMENT, "[exporter] no function given");
  char* file = mlx_path_with_suffix_(path, ".mlxfn", "exporter");
  if (!file) return mlx_last_error_code();
  mlx_function_exporter e = calloc(1, sizeof *e);
  if (!e) {
    free(file);
    return mlx_error_(MLX_ERROR_MEMORY, "[exporter] out of memory");
  }
  e->path = file;
  e->fun = fun;
  mlx_closure_retain_(fun);
  e->shapeless = shapeless != 0;
  *res = e;
  return MLX_OK;
}

int mlx_function_exporter_add(mlx_function_exporter e, const mlx_vector_array args, const char* const* kw_names,
                              size_t nkw) {
  const char* op = "export_function";
  if (!e) return mlx_error_(MLX_ERROR_ARGUMENT, "[exporter] no exporter given");
  if (e->closed) return mlx_error_(MLX_ERROR_ARGUMENT, "[exporter] the exporter is closed");
  size_t mark = e->traces.len;
  int rc = trace_into(&e->traces, e->fun, args, kw_names, nkw);
  if (rc) {
    e->traces.len = mark; /* the failed trace is dropped */
    e->traces.failed = 0;
    return rc;
  }
  mlx_sbuf_ head = {0};
  mlx_sbuf_append_(&head, MAGIC, sizeof MAGIC);
  put_u32(&head, VERSION);
  put_u32(&head, (uint32_t)e->shapeless);
  put_u32(&head, e->ntraces + 1);
  rc = head.failed ? mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", op) : MLX_OK;
  mlx_wfile_ f;
  if (!rc) rc = mlx_wfile_open_(&f, e->path, op);
  if (!rc) {
    rc = mlx_wfile_write_(&f, head.data, head.len, op);
    if (!rc) rc = mlx_wfile_write_(&f, e->traces.data, e->traces.len, op);
    if (!rc) rc = mlx_wfile_commit_(&f, op);
    else mlx_wfile_abort_(&f);
  }
  mlx_sbuf_free_(&head);
  if (rc) {
    e->traces.len = mark; /* the failed trace is dropped */
    return rc;
  }
  e->ntraces++;
  return MLX_OK;
}

int mlx_function_exporter_close(mlx_function_exporter e) {
  if (!e) return mlx_error_(MLX_ERROR_ARGUMENT, "[exporter] no exporter given");
  e->closed = 1;
  mlx_sbuf_free_(&e->traces);
  return MLX_OK;
}

void mlx_function_exporter_free(mlx_function_exporter e) {
  if (!e) return;
  mlx_closure_free(e->fun);
  mlx_sbuf_free_(&e->traces);
  free(e->path);
  free(e);
}

int mlx_export_function(const char* path, const mlx_closure fun, const mlx_vector_array args,
                        const char* const* kw_names, size_t nkw, int shapeless) {
  mlx_function_exporter e = NULL;
  MLX_TRY(mlx_function_exporter_new(&e, path, fun, shapeless));
  int rc = mlx_function_exporter_add(e, args, kw_names, nkw);
  mlx_function_exporter_free(e);
  return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

typedef struct {
  mlx_dtype dtype;
  int ndim;
  int64_t* shape;
} vdesc;

typedef struct {
  int kind;
  mlx_array value; /* constants */
  const mlx_prim_* prim;
  void* params;
  size_t params_size; /* padded */
  int nin, nout;
  int64_t* ins;
  vdesc* outs;
} ientry;

typedef struct {
  int nargs, nkw;
  char** kw;
  vdesc* args;
  int nentries;
  ientry* entries;
  int64_t nvals;
  int nout;
  int64_t* outs;
  int shape_free; /* every op has an output_shapes rule */
} itrace;

struct mlx_imported_function_ {
  int shapeless;
  int ntraces;
  itrace* traces;
};

typedef struct {
  const unsigned char* p;
  size_t n, i;
  const char* path;
} reader;

static int rbad(reader* r, const char* what) {
  return mlx_error_(MLX_ERROR_FILE, "[import_function] %s is not a valid .mlxfn file: %s (at byte %zu)", r->path, what,
                    r->i);
}

static int get_u32(reader* r, uint32_t* v) {
  if (r->n - r->i < 4) return rbad(r, "truncated");
  const unsigned char* p = r->p + r->i;
  *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  r->i += 4;
  return MLX_OK;
}

static int get_i64(reader* r, int64_t* v) {
  if (r->n - r->i < 8) return rbad(r, "truncated");
  uint64_t x = 0;
  for (int k = 7; k >= 0; k--) x = x << 8 | r->p[r->i + (size_t)k];
  r->i += 8;
  *v = (int64_t)x;
  return MLX_OK;
}

/* A count of items of at least min_bytes each that must fit the rest. */
static int get_count(reader* r, uint32_t* v, size_t min_bytes, uint32_t max) {
  MLX_TRY(get_u32(r, v));
  if (*v > max || (min_bytes && *v > (r->n - r->i) / min_bytes)) return rbad(r, "count larger than the file allows");
  return MLX_OK;
}

static int get_str(reader* r, char** s) {
  uint32_t len = 0;
  MLX_TRY(get_u32(r, &len));
  if (len == 0 || len > MAX_NAME || len > r->n - r->i) return rbad(r, "bad name length");
  if (memchr(r->p + r->i, 0, len)) return rbad(r, "NUL byte in a name");
  *s = strndup((const char*)r->p + r->i, len);
  if (!*s) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  r->i += len;
  return MLX_OK;
}

static int get_desc(reader* r, vdesc* d, int64_t* size) {
  uint32_t dt = 0, nd = 0;
  MLX_TRY(get_u32(r, &dt));
  if (dt >= MLX_NUM_DTYPES) return rbad(r, "unknown dtype");
  MLX_TRY(get_u32(r, &nd));
  if (nd > MAX_NDIM || (size_t)nd * 8 > r->n - r->i) return rbad(r, "bad rank");
  d->dtype = (mlx_dtype)dt;
  d->ndim = (int)nd;
  d->shape = malloc(sizeof(int64_t) * (nd ? nd : 1));
  if (!d->shape) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  int64_t sz = 1;
  for (uint32_t k = 0; k < nd; k++) {
    MLX_TRY(get_i64(r, &d->shape[k]));
    if (d->shape[k] < 0) return rbad(r, "negative dimension");
    if (d->shape[k] && sz > INT64_MAX / 16 / d->shape[k]) return rbad(r, "shape overflows");
    sz *= d->shape[k];
  }
  if (size) *size = sz;
  return MLX_OK;
}

static void trace_free(itrace* t) {
  for (int i = 0; t->kw && i < t->nkw; i++) free(t->kw[i]);
  free(t->kw);
  for (int i = 0; t->args && i < t->nargs; i++) free(t->args[i].shape);
  free(t->args);
  for (int e = 0; t->entries && e < t->nentries; e++) {
    ientry* en = &t->entries[e];
    mlx_array_free(en->value);
    free(en->params);
    free(en->ins);
    for (int k = 0; en->outs && k < en->nout; k++) free(en->outs[k].shape);
    free(en->outs);
  }
  free(t->entries);
  free(t->outs);
}

void mlx_imported_function_free(mlx_imported_function f) {
  if (!f) return;
  for (int i = 0; i < f->ntraces; i++) trace_free(&f->traces[i]);
  free(f->traces);
  free(f);
}

/* Checks an op's recorded output shapes against its output_shapes rule,
 * with placeholder nodes standing for its inputs. */
static int check_shapes(reader* r, const ientry* en, mlx_node_* const* ins) {
  if (!en->prim->output_shapes) return MLX_OK;
  int cap = 1;
  for (int k = 0; k < en->nin; k++)
    if (ins[k]->ndim > cap) cap = ins[k]->ndim;
  for (int k = 0; k < en->nout; k++)
    if (en->outs[k].ndim > cap) cap = en->outs[k].ndim;
  cap = cap * 2 + 8;
  int64_t* buf = malloc(sizeof(int64_t) * (size_t)cap * (size_t)en->nout);
  int64_t** rows = malloc(sizeof *rows * (size_t)en->nout);
  int* ndims = malloc(sizeof(int) * (size_t)en->nout);
  int rc = buf && rows && ndims ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  for (int k = 0; k < en->nout && !rc; k++) rows[k] = buf + (size_t)k * (size_t)cap;
  if (!rc && en->prim->output_shapes(rows, ndims, en->nout, cap, ins, en->nin, en->params)) {
    mlx_clear_error();
    rc = rbad(r, "an op's inputs do not fit its primitive");
  }
  for (int k = 0; k < en->nout && !rc; k++)
    if (ndims[k] != en->outs[k].ndim || memcmp(rows[k], en->outs[k].shape, sizeof(int64_t) * (size_t)ndims[k]) != 0)
      rc = rbad(r, "an op's output shape differs from what its primitive computes");
  free(buf);
  free(rows);
  free(ndims);
  return rc;
}

static int read_entry(reader* r, itrace* t, ientry* en, mlx_node_*** holders, int64_t* nholders, int64_t* cap) {
  unsigned char kind;
  if (r->i >= r->n) return rbad(r, "truncated");
  kind = r->p[r->i++];
  en->value = mlx_array_new();
  if (kind == ENTRY_CONST) {
    vdesc d = {0};
    int64_t size = 0;
    int rc = get_desc(r, &d, &size);
    int64_t nbytes = size * (int64_t)mlx_dtype_size(d.dtype);
    if (!rc && (uint64_t)nbytes > r->n - r->i) rc = rbad(r, "constant data runs past the end");
    if (!rc) rc = mlx_array_new_data(&en->value, r->p + r->i, d.shape, d.ndim, d.dtype);
    free(d.shape);
    MLX_TRY(rc);
    r->i += (size_t)nbytes;
    en->kind = ENTRY_CONST;
    en->nout = 1;
  } else if (kind == ENTRY_NODE) {
    char* name = NULL;
    MLX_TRY(get_str(r, &name));
    en->prim = mlx_prim_find_(name);
    int known = en->prim && !en->prim->params_free && strcmp(name, "compiled") != 0;
    if (!known) {
      int rc = mlx_error_(MLX_ERROR_FILE, "[import_function] %s uses the primitive '%.100s', %s", r->path, name,
                          en->prim ? "which cannot be imported" : "which this engine does not have");
      free(name);
      return rc;
    }
    free(name);
    uint32_t ps = 0;
    MLX_TRY(get_u32(r, &ps));
    if (ps > MAX_PARAMS || ps > r->n - r->i) return rbad(r, "bad params size");
    size_t padded = ps > PARAMS_PAD ? ps : PARAMS_PAD;
    en->params = calloc(1, padded);
    if (!en->params) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
    memcpy(en->params, r->p + r->i, ps);
    en->params_size = padded;
    r->i += ps;
    uint32_t nin = 0, nout = 0;
    MLX_TRY(get_count(r, &nin, 4, 1u << 20));
    en->ins = malloc(sizeof(int64_t) * (nin ? nin : 1));
    if (!en->ins) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
    en->nin = (int)nin;
    for (uint32_t k = 0; k < nin; k++) {
      uint32_t id = 0;
      MLX_TRY(get_u32(r, &id));
      if ((int64_t)id >= t->nvals) return rbad(r, "an op refers to a value not defined before it");
      en->ins[k] = id;
    }
    MLX_TRY(get_count(r, &nout, 8, MAX_OUTS));
    if (nout == 0) return rbad(r, "an op without outputs");
    en->outs = calloc(nout, sizeof *en->outs);
    if (!en->outs) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
    en->nout = (int)nout;
    for (uint32_t k = 0; k < nout; k++) MLX_TRY(get_desc(r, &en->outs[k], NULL));
    en->kind = ENTRY_NODE;
    mlx_node_* ins[nin + 1];
    for (uint32_t k = 0; k < nin; k++) ins[k] = (*holders)[en->ins[k]];
    MLX_TRY(check_shapes(r, en, ins));
  } else {
    return rbad(r, "unknown entry kind");
  }
  /* Placeholder nodes of the new values, for the shape checks of later ops. */
  if (*nholders + en->nout > *cap) {
    int64_t c = (*cap + en->nout) * 2;
    mlx_node_** g = realloc(*holders, sizeof **holders * (size_t)c);
    if (!g) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
    *holders = g;
    *cap = c;
  }
  for (int k = 0; k < en->nout; k++) {
    mlx_node_* h;
    if (en->kind == ENTRY_CONST) {
      h = MLX_NODE(en->value);
      mlx_node_retain_(h);
    } else {
      h = mlx_node_new_(en->outs[k].dtype, en->outs[k].shape, en->outs[k].ndim);
      if (!h) return mlx_last_error_code();
    }
    (*holders)[(*nholders)++] = h;
  }
  t->nvals += en->nout;
  return MLX_OK;
}

static int read_trace(reader* r, itrace* t) {
  uint32_t nargs = 0, nkw = 0, nent = 0, nout = 0;
  MLX_TRY(get_count(r, &nargs, 8, 1u << 20));
  MLX_TRY(get_count(r, &nkw, 5, nargs));
  t->kw = calloc(nkw ? nkw : 1, sizeof *t->kw);
  t->args = calloc(nargs ? nargs : 1, sizeof *t->args);
  if (!t->kw || !t->args) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  t->nkw = (int)nkw;
  for (uint32_t i = 0; i < nkw; i++) {
    MLX_TRY(get_str(r, &t->kw[i]));
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(t->kw[i], t->kw[j]) == 0) return rbad(r, "a keyword appears twice");
  }
  t->nargs = (int)nargs;
  for (uint32_t i = 0; i < nargs; i++) MLX_TRY(get_desc(r, &t->args[i], NULL));
  t->nvals = nargs;
  MLX_TRY(get_count(r, &nent, 9, 1u << 30));
  t->entries = calloc(nent ? nent : 1, sizeof *t->entries);
  if (!t->entries) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  int64_t nh = 0, cap = (int64_t)nargs + 16;
  mlx_node_** holders = malloc(sizeof *holders * (size_t)cap);
  int rc = holders ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  for (uint32_t i = 0; i < nargs && !rc; i++) {
    holders[nh] = mlx_node_new_(t->args[i].dtype, t->args[i].shape, t->args[i].ndim);
    if (!holders[nh]) rc = mlx_last_error_code();
    else nh++;
  }
  t->shape_free = 1;
  for (uint32_t e = 0; e < nent && !rc; e++) {
    t->nentries = (int)e + 1;
    rc = read_entry(r, t, &t->entries[e], &holders, &nh, &cap);
    if (!rc && t->entries[e].kind == ENTRY_NODE && !t->entries[e].prim->output_shapes) t->shape_free = 0;
  }
  for (int64_t i = 0; i < nh; i++) mlx_node_release_(holders[i]);
  free(holders);
  MLX_TRY(rc);
  MLX_TRY(get_count(r, &nout, 4, 1u << 20));
  if (nout == 0) return rbad(r, "a trace without outputs");
  t->outs = malloc(sizeof(int64_t) * nout);
  if (!t->outs) return mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  t->nout = (int)nout;
  for (uint32_t j = 0; j < nout; j++) {
    uint32_t id = 0;
    MLX_TRY(get_u32(r, &id));
    if ((int64_t)id >= t->nvals) return rbad(r, "an output refers to an undefined value");
    t->outs[j] = id;
  }
  return MLX_OK;
}

int mlx_import_function(mlx_imported_function* res, const char* path) {
  if (!res) return mlx_error_(MLX_ERROR_ARGUMENT, "[import_function] no output given");
  mlx_rfile_ f;
  MLX_TRY(mlx_rfile_open_(&f, path, "import_function"));
  unsigned char* data = NULL;
  int rc = MLX_OK;
  if ((uint64_t)f.size > SIZE_MAX / 2) rc = mlx_error_(MLX_ERROR_FILE, "[import_function] %s is too large", path);
  if (!rc) {
    data = malloc(f.size ? (size_t)f.size : 1);
    if (!data) rc = mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory for %s", path);
  }
  if (!rc) rc = mlx_rfile_read_(&f, data, 0, f.size, "import_function");
  mlx_rfile_close_(&f);
  mlx_imported_function fn = calloc(1, sizeof *fn);
  if (!rc && !fn) rc = mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  reader r = {data, data ? (size_t)f.size : 0, 0, path};
  uint32_t version = 0, flags = 0, ntr = 0;
  if (!rc && (r.n < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC) != 0))
    rc = mlx_error_(MLX_ERROR_FILE, "[import_function] %s is not a .mlxfn file (bad magic)", path);
  r.i = sizeof MAGIC;
  if (!rc) rc = get_u32(&r, &version);
  if (!rc && version != VERSION)
    rc = mlx_error_(MLX_ERROR_FILE, "[import_function] unsupported .mlxfn version %u in %s", version, path);
  if (!rc) rc = get_u32(&r, &flags);
  if (!rc && flags > 1) rc = rbad(&r, "unknown flags");
  if (!rc) rc = get_count(&r, &ntr, 16, 1u << 20);
  if (!rc && ntr == 0) rc = rbad(&r, "no traces");
  if (!rc) {
    fn->shapeless = (int)flags;
    fn->traces = calloc(ntr, sizeof *fn->traces);
    if (!fn->traces) rc = mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  }
  for (uint32_t i = 0; i < ntr && !rc; i++) {
    fn->ntraces = (int)i + 1;
    rc = read_trace(&r, &fn->traces[i]);
  }
  if (!rc && r.i != r.n) rc = rbad(&r, "trailing bytes");
  free(data);
  if (rc) {
    mlx_imported_function_free(fn);
    return rc;
  }
  *res = fn;
  return MLX_OK;
}

/* ---- calling ------------------------------------------------------------------------- */

/* 1 if trace t takes these arguments; order[i] gets the argument index
 * for the trace's input i. */
static int trace_matches(const mlx_imported_function f, const itrace* t, const mlx_vector_array args,
                         const char* const* kw_names, size_t nkw, size_t* order, int* by_rules) {
  size_t n = mlx_vector_array_size(args);
  if ((size_t)t->nargs != n || (size_t)t->nkw != nkw) return 0;
  size_t npos = n - nkw;
  for (size_t i = 0; i < npos; i++) order[i] = i;
  for (int k = 0; k < t->nkw; k++) {
    size_t j = 0;
    while (j < nkw && strcmp(kw_names[j], t->kw[k]) != 0) j++;
    if (j == nkw) return 0;
    order[npos + (size_t)k] = npos + j;
  }
  int exact = 1;
  for (size_t i = 0; i < n; i++) {
    const mlx_node_* a = mlx_vector_node_(args, order[i]);
    const vdesc* d = &t->args[i];
    if (a->dtype != d->dtype || a->ndim != d->ndim) return 0;
    if (memcmp(a->shape, d->shape, sizeof(int64_t) * (size_t)d->ndim) != 0) exact = 0;
  }
  if (exact) {
    *by_rules = 0;
    return 1;
  }
  if (f->shapeless && t->shape_free) {
    *by_rules = 1;
    return 1;
  }
  return 0;
}

static int run_trace(mlx_vector_array outputs, const itrace* t, const mlx_vector_array args, const size_t* order,
                     int by_rules) {
  mlx_node_** cur = calloc((size_t)(t->nvals ? t->nvals : 1), sizeof *cur);
  unsigned char* owned = calloc((size_t)(t->nvals ? t->nvals : 1), 1);
  int rc = cur && owned ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[import_function] out of memory");
  int64_t v = 0;
  for (int i = 0; i < t->nargs && !rc; i++) cur[v++] = mlx_vector_node_(args, order[i]);
  for (int e = 0; e < t->nentries && !rc; e++) {
    const ientry* en = &t->entries[e];
    if (en->kind == ENTRY_CONST) {
      cur[v++] = MLX_NODE(en->value);
      continue;
    }
    int no = en->nout, ni = en->nin, cap = 1;
    mlx_node_* ins[ni > 0 ? ni : 1];
    mlx_array res[no];
    mlx_dtype dtypes[no];
    int ndims[no];
    const int64_t* shapes[no];
    for (int k = 0; k < ni; k++) {
      ins[k] = cur[en->ins[k]];
      if (ins[k]->ndim > cap) cap = ins[k]->ndim;
    }
    for (int k = 0; k < no; k++) {
      res[k] = mlx_array_new();
      dtypes[k] = en->outs[k].dtype;
      ndims[k] = en->outs[k].ndim;
      shapes[k] = en->outs[k].shape;
      if (ndims[k] > cap) cap = ndims[k];
    }
    cap = cap * 2 + 8;
    int64_t buf[by_rules ? no * cap : 1];
    if (by_rules) {
      int64_t* rows[no];
      for (int k = 0; k < no; k++) rows[k] = buf + k * cap;
      rc = en->prim->output_shapes(rows, ndims, no, cap, ins, ni, en->params);
      for (int k = 0; k < no; k++) shapes[k] = rows[k];
    }
    if (!rc)
      rc = mlx_op_record_(res, no, en->prim, en->params, en->params_size, ins, ni, dtypes, shapes, ndims,
                          MLX_DEFAULT_STREAM);
    for (int k = 0; k < no && !rc; k++) {
      owned[v] = 1;
      cur[v++] = MLX_NODE(res[k]);
    }
  }
  for (int j = 0; j < t->nout && !rc; j++) rc = mlx_vector_array_append(outputs, mlx_wrap_(cur[t->outs[j]]));
  for (int64_t i = 0; cur && owned && i < v; i++)
    if (owned[i]) mlx_node_release_(cur[i]);
  free(cur);
  free(owned);
  return rc;
}

int mlx_imported_function_call(mlx_vector_array outputs, mlx_imported_function f, const mlx_vector_array args,
                               const char* const* kw_names, size_t nkw) {
  if (!f) return mlx_error_(MLX_ERROR_ARGUMENT, "[import_function] no function given");
  size_t n = mlx_vector_array_size(args);
  if (nkw > n || (nkw && !kw_names)) return mlx_error_(MLX_ERROR_ARGUMENT, "[import_function] bad keyword names");
  size_t order[n + 1];
  for (int i = 0; i < f->ntraces; i++) {
    int by_rules = 0;
    if (trace_matches(f, &f->traces[i], args, kw_names, nkw, order, &by_rules))
      return run_trace(outputs, &f->traces[i], args, order, by_rules);
  }
  return mlx_error_(MLX_ERROR_ARGUMENT,
                    "[import_function::call] No imported function found which matches the given inputs (%zu "
                    "positional, %zu keyword arguments)",
                    n - nkw, nkw);
}
