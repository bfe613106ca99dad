/* export_to_dot: the un-evaluated graph behind some arrays as Graphviz
 * DOT text, in the layout upstream MLX writes (mlx/graph_utils.cpp): a
 * depth-first walk from the outputs, inputs before the op that uses them;
 * value names A, B, ..., Z, AA, ... in the order they first appear; ops as
 * rectangles. The walk is iterative (deep graphs do not recurse) and keeps
 * its visited sets in pointer hash tables. */
#include <stdio.h>
#include <stdlib.h>

#include "mlx/export.h"
#include "io.h"

/* An open-addressing map from a pointer to a number (its name index). */
typedef struct {
  const void** keys;
  int64_t* vals;
  size_t cap, n;
} ptr_map;

static size_t ptr_hash(const void* p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

static int64_t map_get(const ptr_map* m, const void* p) {
  if (!m->cap) return -1;
  for (size_t i = ptr_hash(p, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i]) return -1;
    if (m->keys[i] == p) return m->vals[i];
  }
}

static int map_put(ptr_map* m, const void* p, int64_t v) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    ptr_map g = {calloc(cap, sizeof *g.keys), malloc(cap * sizeof *g.vals), cap, 0};
    if (!g.keys || !g.vals) {
      free(g.keys);
      free(g.vals);
      return mlx_error_(MLX_ERROR_MEMORY, "[export_to_dot] out of memory");
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) map_put(&g, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = g;
  }
  size_t i = ptr_hash(p, m->cap);
  while (m->keys[i] && m->keys[i] != p) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->n++;
  m->keys[i] = p;
  m->vals[i] = v;
  return MLX_OK;
}

static void map_free(ptr_map* m) {
  free(m->keys);
  free(m->vals);
}

typedef struct {
  ptr_map names, visited, outputs;
  int64_t next_name;
  int64_t next_op;
  mlx_sbuf_ out;
} dot_state;

/* Appends the quoted name of node n, naming it on first use. */
static int put_name(dot_state* st, const mlx_node_* n) {
  int64_t k = map_get(&st->names, n);
  if (k < 0) {
    k = st->next_name++;
    MLX_TRY(map_put(&st->names, n, k));
  }
  char letters[24];
  int len = 0;
  for (uint64_t v = (uint64_t)k + 1; v > 0; v = (v - 1) / 26) letters[len++] = (char)('A' + (v - 1) % 26);
  mlx_sbuf_append_(&st->out, "\"", 1);
  while (len > 0) mlx_sbuf_append_(&st->out, &letters[--len], 1);
  mlx_sbuf_append_(&st->out, "\"", 1);
  return MLX_OK;
}

/* The primitive's name in CamelCase ("stop_gradient" -> "StopGradient"). */
static void put_label(mlx_sbuf_* b, const char* name) {
  int up = 1;
  for (const char* c = name; *c; c++) {
    if (*c == '_') {
      up = 1;
      continue;
    }
    char ch = up && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
    if (ch == '"' || ch == '\\') mlx_sbuf_append_(b, "\\", 1);
    mlx_sbuf_append_(b, &ch, 1);
    up = 0;
  }
}

/* The callback of the walk: node x, all of whose inputs were emitted. */
static int emit(dot_state* st, mlx_node_* x, mlx_op_* op) {
  if (!op) {
    mlx_sbuf_append_(&st->out, "{ rank=source; ", 15);
    MLX_TRY(put_name(st, x));
    mlx_sbuf_append_(&st->out, "; }\n", 4);
    return MLX_OK;
  }
  int64_t id = st->next_op++;
  mlx_sbuf_printf_(&st->out, "{ %lld [label =\"", (long long)id);
  put_label(&st->out, op->prim->name);
  mlx_sbuf_append_(&st->out, "\", shape=rectangle]; }\n", 23);
  for (int i = 0; i < op->ninputs; i++) {
    MLX_TRY(put_name(st, op->inputs[i]));
    mlx_sbuf_printf_(&st->out, " -> %lld\n", (long long)id);
  }
  for (int i = 0; i < op->noutputs; i++) {
    mlx_node_* o = op->noutputs == 1 ? x : op->outputs[i];
    if (!o) continue; /* a sibling already dropped */
    mlx_sbuf_append_(&st->out, "{ ", 2);
    if (map_get(&st->outputs, o) >= 0) mlx_sbuf_append_(&st->out, "rank=sink; ", 11);
    MLX_TRY(put_name(st, o));
    mlx_sbuf_printf_(&st->out, "; }\n%lld -> ", (long long)id);
    MLX_TRY(put_name(st, o));
    mlx_sbuf_append_(&st->out, "\n", 1);
  }
  return MLX_OK;
}

typedef struct {
  mlx_node_* node;
  mlx_op_* op;
  int next; /* next input to visit */
} frame;

/* Marks x (and its op's other outputs) visited. */
static int mark(dot_state* st, mlx_node_* x, mlx_op_* op) {
  MLX_TRY(map_put(&st->visited, x, 1));
  for (int i = 0; op && op->noutputs > 1 && i < op->noutputs; i++)
    if (op->outputs[i]) MLX_TRY(map_put(&st->visited, op->outputs[i], 1));
  return MLX_OK;
}

static int walk(dot_state* st, mlx_node_* const* roots, size_t nroots) {
  size_t cap = 64, top = 0;
  frame* stack = malloc(cap * sizeof *stack);
  if (!stack) return mlx_error_(MLX_ERROR_MEMORY, "[export_to_dot] out of memory");
  int rc = MLX_OK;
  for (size_t r = 0; r < nroots && !rc; r++) {
    if (map_get(&st->visited, roots[r]) >= 0) continue;
    mlx_op_* op = atomic_load(&roots[r]->op);
    rc = mark(st, roots[r], op);
    stack[top++] = (frame){roots[r], op, 0};
    while (top > 0 && !rc) {
      frame* f = &stack[top - 1];
      if (f->op && f->next < f->op->ninputs) {
        mlx_node_* in = f->op->inputs[f->next++];
        if (map_get(&st->visited, in) >= 0) continue;
        mlx_op_* iop = atomic_load(&in->op);
        rc = mark(st, in, iop);
        if (top == cap) {
          frame* g = realloc(stack, cap * 2 * sizeof *stack);
          if (!g) {
            rc = mlx_error_(MLX_ERROR_MEMORY, "[export_to_dot] out of memory");
            break;
          }
          stack = g;
          cap *= 2;
        }
        stack[top++] = (frame){in, iop, 0};
        continue;
      }
      rc = emit(st, f->node, f->op);
      top--;
    }
  }
  free(stack);
  return rc;
}

int mlx_export_to_dot(char** out, size_t* len, const mlx_array* outputs, size_t n) {
  if (!out || !len) return mlx_error_(MLX_ERROR_ARGUMENT, "[export_to_dot] no output given");
  if (n == 0 || !outputs) return mlx_error_(MLX_ERROR_ARGUMENT, "[export_to_dot] at least one output is required");
  for (size_t i = 0; i < n; i++) MLX_TRY(mlx_check_array_(outputs[i], "export_to_dot"));
  dot_state st;
  memset(&st, 0, sizeof st);
  mlx_node_** roots = malloc(n * sizeof *roots);
  int rc = roots ? MLX_OK : mlx_error_(MLX_ERROR_MEMORY, "[export_to_dot] out of memory");
  for (size_t i = 0; i < n && !rc; i++) {
    roots[i] = MLX_NODE(outputs[i]);
    rc = map_put(&st.outputs, roots[i], 1);
  }
  mlx_sbuf_append_(&st.out, "digraph {\n", 10);
  if (!rc) rc = walk(&st, roots, n);
  mlx_sbuf_append_(&st.out, "}", 1);
  if (!rc && st.out.failed) rc = mlx_error_(MLX_ERROR_MEMORY, "[export_to_dot] out of memory");
  free(roots);
  map_free(&st.names);
  map_free(&st.visited);
  map_free(&st.outputs);
  if (rc) {
    mlx_sbuf_free_(&st.out);
    return rc;
  }
  *out = st.out.data;
  *len = st.out.len;
  return MLX_OK;
}
