/* Run-time code generation for fused elementwise groups.
 *
 * A group becomes a shared object whose entry point (mlx_fused_kernel)
 * runs the group's ops block by block: each op is the engine's own row
 * function for that op and dtype, taken from the kernel files themselves
 * (cpu/unary.c, cpu/binary.c, cpu/copy.c, included by the generated
 * source with their kernel entry points made static and so dropped, which
 * leaves only the row functions the group uses to compile). The results
 * are therefore the unfused kernels' bits by construction, whatever those
 * files compute, while every intermediate value stays in a block-sized
 * buffer in cache instead of a full array in memory. Each kernel file is
 * included in its own translation unit (their static helpers share
 * names); blocks are long enough that the calls between them cost
 * nothing.
 *
 * The sources are compiled by the system C compiler ($CC, else cc on
 * PATH) with the engine's flags into a shared object in the cache
 * directory, named by a hash of the sources, the flags, the compiler, the
 * CPU and the engine files they include; an existing file of that name is
 * reused. Each build runs in its own temporary directory and its object is
 * renamed into place, so processes that build the same kernel at once
 * each get a whole file. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cpu/elementwise.h"
#include "compile.h"
#include "mlx/compile.h"

extern char** environ;

/* The flags of the engine's own build (engine/Makefile: CFLAGS_BASE and
 * the default OPT) that decide the values computed; -ffp-contract=off is
 * the ISO C default already, spelled out because a fused multiply-add
 * would change the bits. Hidden symbols and section GC keep the object to
 * the kernel and the row functions it calls. */
static const char* const compile_flags[] = {"-std=c11",
                                            "-D_GNU_SOURCE",
                                            "-O3",
                                            "-march=native",
                                            "-fno-math-errno",
                                            "-ffp-contract=off",
                                            "-fPIC",
                                            "-fvisibility=hidden",
                                            "-ffunction-sections",
                                            "-w"};
static const char* const link_flags[] = {"-shared", "-Wl,--gc-sections"};
#define NCFLAGS (sizeof compile_flags / sizeof compile_flags[0])
#define NLFLAGS (sizeof link_flags / sizeof link_flags[0])

/* Elements per block: every intermediate value of a block fits in L1/L2. */
#define BLOCK 1024

int mlx_fused_supported_(const mlx_finstr_* in) {
  if ((unsigned)in->dtype >= MLX_NUM_DTYPES || (unsigned)in->in_dtype >= MLX_NUM_DTYPES) return 0;
  switch (in->kind) {
    case MLX_FI_UNARY: return (unsigned)in->op < MLX_UOP_COUNT;
    case MLX_FI_BINARY: return (unsigned)in->op < MLX_BOP_COUNT;
    case MLX_FI_SELECT: {
      size_t z = mlx_dtype_size(in->dtype);
      return z == 1 || z == 2 || z == 4 || z == 8;
    }
    case MLX_FI_CAST: return 1;
    default: return 0;
  }
}

/* ---- a growable string ---------------------------------------------------- */
typedef struct {
  char* p;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_printf(sbuf* b, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf* b, const char* fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (w < 0) {
      b->oom = 1;
      return;
    }
    if (b->p && b->n + (size_t)w < b->cap) {
      b->n += (size_t)w;
      return;
    }
    size_t cap = (b->cap ? b->cap : 4096);
    while (cap <= b->n + (size_t)w) cap *= 2;
    char* p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

/* ---- source ------------------------------------------------------------------ */

/* The translation units of a kernel: the kernel, then the wrappers of the
 * unary, binary and conversion row functions (NULL when unused). */
enum { TU_KERNEL, TU_UNARY, TU_BINARY, TU_COPY, NTU };
static const char* const tu_names[NTU] = {"kernel.c", "unary.c", "binary.c", "copy.c"};
static const char* const tu_files[NTU] = {NULL, "cpu/unary.c", "cpu/binary.c", "cpu/copy.c"};

/* Makes the kernel files' entry points static: unused, they are dropped
 * with everything only they reach (the drivers, the tables' other rows),
 * so the object needs nothing from the engine and compiles fast. The
 * headers' extern declarations are read under throwaway names first;
 * static prototypes then give the definitions internal linkage. */
static const char* const neutralize =
    "#define mlx_cpu_unary_ mlx_k_decl_unary_\n"
    "#define mlx_cpu_binary_ mlx_k_decl_binary_\n"
    "#define mlx_cpu_select_ mlx_k_decl_select_\n"
    "#define mlx_cpu_copy_ mlx_k_decl_copy_\n"
    "#define mlx_copy_cast_ mlx_k_decl_copy_cast_\n"
    "#define mlx_node_copy_to_ mlx_k_decl_copy_to_\n"
    "#include \"cpu/elementwise.h\"\n"
    "#include \"cpu/kernels.h\"\n"
    "#undef mlx_cpu_unary_\n"
    "#undef mlx_cpu_binary_\n"
    "#undef mlx_cpu_select_\n"
    "#undef mlx_cpu_copy_\n"
    "#undef mlx_copy_cast_\n"
    "#undef mlx_node_copy_to_\n"
    "#define mlx_cpu_unary_ mlx_k_unary_\n"
    "#define mlx_cpu_binary_ mlx_k_binary_\n"
    "#define mlx_cpu_select_ mlx_k_select_\n"
    "#define mlx_cpu_copy_ mlx_k_copy_\n"
    "#define mlx_copy_cast_ mlx_k_copy_cast_\n"
    "#define mlx_node_copy_to_ mlx_k_copy_to_\n"
    "static int mlx_k_unary_(mlx_node_**, int, mlx_node_**, int, const void*);\n"
    "static int mlx_k_binary_(mlx_node_**, int, mlx_node_**, int, const void*);\n"
    "static int mlx_k_select_(mlx_node_**, int, mlx_node_**, int, const void*);\n"
    "static int mlx_k_copy_(mlx_node_**, int, mlx_node_**, int, const void*);\n"
    "static void mlx_k_copy_cast_(void*, mlx_dtype, const void*, mlx_dtype, const int64_t*, const int64_t*, int);\n"
    "static void mlx_k_copy_to_(void*, mlx_dtype, const mlx_node_*);\n";

/* Where a value of the block lives: a pointer expression and its element
 * stride. */
typedef struct {
  char ptr[24];
  char stride[16];
} loc;

/* The row-function wrappers a kernel already has: (kind, a, b) triples. */
typedef struct {
  int (*keys)[3];
  int n, cap;
  int oom;
} wrapper_set;

/* 1 if (kind, a, b) was seen before; records it otherwise. */
static int seen_once(wrapper_set* w, int kind, int a, int b) {
  for (int i = 0; i < w->n; i++)
    if (w->keys[i][0] == kind && w->keys[i][1] == a && w->keys[i][2] == b) return 1;
  if (w->n == w->cap) {
    int cap = w->cap ? w->cap * 2 : 16;
    int(*keys)[3] = realloc(w->keys, sizeof *keys * (size_t)cap);
    if (!keys) {
      w->oom = 1;
      return 1;
    }
    w->keys = keys;
    w->cap = cap;
  }
  w->keys[w->n][0] = kind;
  w->keys[w->n][1] = a;
  w->keys[w->n][2] = b;
  w->n++;
  return 0;
}

/* Writes the kernel's translation units into tu[] (new strings, NULL when
 * unused); 0 when out of memory. */
static int kernel_sources(const mlx_fused_* k, char** tu) {
  int nj = k->ninstr;
  sbuf b[NTU];
  memset(b, 0, sizeof b);
  loc* at = calloc((size_t)nj, sizeof *at);
  int* slot = malloc(sizeof(int) * (size_t)nj);
  int* last = malloc(sizeof(int) * (size_t)nj);
  int* out_of = malloc(sizeof(int) * (size_t)nj);
  int* root = malloc(sizeof(int) * (size_t)nj);
  unsigned char* used = calloc((size_t)nj + 1, 1);
  if (!at || !slot || !last || !out_of || !root || !used) {
    free(at), free(slot), free(last), free(out_of), free(root), free(used);
    return 0;
  }
  /* Same-dtype casts pass their operand through: root[j] is the value j
   * really is (an instruction, or -1 - input). */
  for (int j = 0; j < nj; j++) {
    const mlx_finstr_* in = &k->instrs[j];
    int alias = in->kind == MLX_FI_CAST && in->dtype == in->in_dtype;
    int a = in->args[0];
    root[j] = alias ? (a < 0 ? a : root[a]) : j;
    last[j] = -1;
    out_of[j] = -1;
  }
  for (int o = 0; o < k->nout; o++) out_of[k->outs[o]] = o;
  for (int j = 0; j < nj; j++)
    for (int a = 0; a < k->instrs[j].nargs; a++) {
      int r = k->instrs[j].args[a];
      if (r >= 0 && root[r] >= 0) last[root[r]] = j;
    }

  sbuf* kb = &b[TU_KERNEL];
  sb_printf(kb, "/* Generated by mlx compile: %d inputs, %d outputs, %d ops. */\n", k->nin, k->nout, nj);
  sb_printf(kb, "#include <stdint.h>\n#include <string.h>\n\n");
  sb_printf(kb,
            "static void copy_elems(char* o, const char* x, int64_t m, int64_t s, size_t z) {\n"
            "  for (int64_t i = 0; i < m; i++) memcpy(o + i * z, x + i * s * (int64_t)z, z);\n}\n\n");
  sbuf body = {0};
  wrapper_set seen = {NULL, 0, 0, 0};
  int nslots = 0;
  for (int j = 0; j < nj; j++) {
    const mlx_finstr_* in = &k->instrs[j];
    loc arg[3];
    for (int a = 0; a < in->nargs; a++) {
      int r = in->args[a];
      if (r < 0) {
        snprintf(arg[a].ptr, sizeof arg[a].ptr, "i%d", -1 - r);
        snprintf(arg[a].stride, sizeof arg[a].stride, "s[%d]", -1 - r);
      } else {
        arg[a] = at[r];
      }
    }
    size_t oz = mlx_dtype_size(in->dtype);
    if (root[j] != j) {
      /* A pass-through: the operand's location, copied if it is an output. */
      at[j] = arg[0];
      if (out_of[j] >= 0) {
        sb_printf(&body, "    copy_elems(o%d, %s, m, %s, %zu);\n", out_of[j], arg[0].ptr, arg[0].stride, oz);
        snprintf(at[j].ptr, sizeof at[j].ptr, "o%d", out_of[j]);
        snprintf(at[j].stride, sizeof at[j].stride, "1");
      }
      continue;
    }
    if (out_of[j] >= 0) {
      snprintf(at[j].ptr, sizeof at[j].ptr, "o%d", out_of[j]);
    } else {
      int t = 0;
      while (used[t]) t++;
      used[t] = 1;
      slot[j] = t;
      if (t + 1 > nslots) nslots = t + 1;
      snprintf(at[j].ptr, sizeof at[j].ptr, "t%d", t);
    }
    snprintf(at[j].stride, sizeof at[j].stride, "1");
    const loc* d = &at[j];
    /* One wrapper per row function, named after what it computes, shared
     * by every instruction that calls it. */
    int ti = (int)in->in_dtype, to = (int)in->dtype;
    switch (in->kind) {
      case MLX_FI_UNARY:
        sb_printf(&body, "    mlx_k_u%d_%d(%s, %s, m, %s);\n", in->op, ti, d->ptr, arg[0].ptr, arg[0].stride);
        if (seen_once(&seen, 0, in->op, ti)) break;
        sb_printf(&b[TU_UNARY],
                  "void mlx_k_u%d_%d(void* o, const void* x, int64_t n, int64_t s) {\n"
                  "  int f = fill_value(%d, %d);\n"
                  "  if (f >= 0) {\n    memset(o, f, (size_t)n * %zu);\n    return;\n  }\n"
                  "  unary_table[%d][%d](o, x, n, s);\n}\n",
                  in->op, ti, in->op, ti, oz, in->op, ti);
        sb_printf(kb, "void mlx_k_u%d_%d(void*, const void*, int64_t, int64_t);\n", in->op, ti);
        break;
      case MLX_FI_BINARY:
        sb_printf(&body, "    mlx_k_b%d_%d(%s, %s, %s, m, %s, %s);\n", in->op, ti, d->ptr, arg[0].ptr, arg[1].ptr,
                  arg[0].stride, arg[1].stride);
        if (seen_once(&seen, 1, in->op, ti)) break;
        sb_printf(&b[TU_BINARY],
                  "void mlx_k_b%d_%d(void* o, const void* x, const void* y, int64_t n, int64_t sx, int64_t sy) {\n"
                  "  binary_table[%d][%d](o, x, y, n, sx, sy);\n}\n",
                  in->op, ti, in->op, ti);
        sb_printf(kb, "void mlx_k_b%d_%d(void*, const void*, const void*, int64_t, int64_t, int64_t);\n", in->op, ti);
        break;
      case MLX_FI_SELECT:
        sb_printf(&body, "    mlx_k_s%zu(%s, %s, %s, %s, m, %s, %s, %s);\n", oz, d->ptr, arg[0].ptr, arg[1].ptr,
                  arg[2].ptr, arg[0].stride, arg[1].stride, arg[2].stride);
        if (seen_once(&seen, 2, (int)oz, 0)) break;
        sb_printf(&b[TU_BINARY],
                  "void mlx_k_s%zu(void* o, const void* c, const void* x, const void* y, int64_t n, int64_t sc, "
                  "int64_t sx, int64_t sy) {\n  select_%zu(o, c, x, y, n, sc, sx, sy);\n}\n",
                  oz, oz);
        sb_printf(
            kb, "void mlx_k_s%zu(void*, const void*, const void*, const void*, int64_t, int64_t, int64_t, int64_t);\n",
            oz);
        break;
      default:
        sb_printf(&body, "    mlx_k_c%d_%d(%s, %s, m, %s);\n", ti, to, d->ptr, arg[0].ptr, arg[0].stride);
        if (seen_once(&seen, 3, ti, to)) break;
        sb_printf(&b[TU_COPY],
                  "void mlx_k_c%d_%d(void* o, const void* x, int64_t n, int64_t s) {\n"
                  "  conv_table[%d][%d](o, x, n, s);\n}\n",
                  ti, to, ti, to);
        sb_printf(kb, "void mlx_k_c%d_%d(void*, const void*, int64_t, int64_t);\n", ti, to);
        break;
    }
    /* Blocks whose last reader this was are free again (after the result
     * took its own, so no op writes over its operand). */
    for (int a = 0; a < in->nargs; a++) {
      int r = in->args[a];
      if (r >= 0 && root[r] >= 0 && last[root[r]] == j && out_of[root[r]] < 0) used[slot[root[r]]] = 0;
    }
  }
  sb_printf(kb, "\n__attribute__((visibility(\"default\")))\n");
  sb_printf(kb, "void mlx_fused_kernel(char* const* outs, const char* const* ins, const int64_t* s, int64_t n) {\n");
  for (int t = 0; t < nslots; t++) sb_printf(kb, "  _Alignas(64) char t%d[%d * 8];\n", t, BLOCK);
  sb_printf(kb, "  for (int64_t b = 0; b < n; b += %d) {\n    const int64_t m = n - b < %d ? n - b : %d;\n", BLOCK,
            BLOCK, BLOCK);
  for (int i = 0; i < k->nin; i++)
    sb_printf(kb, "    const char* i%d = ins[%d] + b * s[%d] * %zu;\n", i, i, i, mlx_dtype_size(k->in_dtypes[i]));
  for (int o = 0; o < k->nout; o++)
    sb_printf(kb, "    char* o%d = outs[%d] + b * %zu;\n", o, o, mlx_dtype_size(k->instrs[k->outs[o]].dtype));
  sb_printf(kb, "%s  }\n}\n", body.p ? body.p : "");
  int ok = !body.oom && !seen.oom;
  free(body.p);
  free(seen.keys);
  /* The one engine function the unary driver's fill_value calls; hidden,
   * so it binds here and not to the engine's. */
  if (b[TU_UNARY].p)
    sb_printf(&b[TU_UNARY],
              "int mlx_dtype_is_inexact(mlx_dtype t) {\n  return t == %d || t == %d || t == %d || t == %d || "
              "t == %d;\n}\n",
              MLX_FLOAT16, MLX_FLOAT32, MLX_FLOAT64, MLX_BFLOAT16, MLX_COMPLEX64);
  for (int t = TU_UNARY; t < NTU; t++) {
    if (!b[t].p) continue;
    sbuf w = {0};
    sb_printf(&w, "%s#include \"%s\"\n\n%s", neutralize, tu_files[t], b[t].p);
    free(b[t].p);
    b[t] = w;
  }
  for (int t = 0; t < NTU; t++) {
    ok = ok && !b[t].oom;
    tu[t] = b[t].p;
  }
  if (!ok)
    for (int t = 0; t < NTU; t++) {
      free(tu[t]);
      tu[t] = NULL;
    }
  free(at), free(slot), free(last), free(out_of), free(root), free(used);
  return ok;
}

/* ---- hashing --------------------------------------------------------------- */
static uint64_t hash_bytes(const void* p, size_t n, uint64_t h) {
  const unsigned char* s = p;
  h ^= 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* ---- the environment a kernel depends on ------------------------------------ */

/* The engine's source directory (baked in by the Makefile), where the
 * generated sources find the kernel files they include. */
static const char* src_dir(void) {
#ifdef MLX_ENGINE_SRC_DIR
  return MLX_ENGINE_SRC_DIR;
#else
  return NULL;
#endif
}

/* Appends the contents of a file to b; 0 if it cannot be read. */
static int append_file(sbuf* b, const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  char chunk[4096];
  size_t r;
  while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) sb_printf(b, "%.*s", (int)r, chunk);
  fclose(f);
  return 1;
}

/* The compiler command ($CC split at spaces, else "cc") as argv words in
 * words (capacity cap); returns the count. buf holds the strings. */
static int compiler_words(char** words, int cap, char* buf, size_t bufcap) {
  const char* cc = getenv("CC");
  if (!cc || !*cc) cc = "cc";
  snprintf(buf, bufcap, "%s", cc);
  int n = 0;
  char* save = NULL;
  for (char* p = strtok_r(buf, " \t", &save); p && n < cap; p = strtok_r(NULL, " \t", &save)) words[n++] = p;
  return n;
}

/* Everything besides the source that decides a kernel's machine code: the
 * compiler command, the flags, the CPU's features and the headers the
 * source includes. Appended to b; 0 if the headers are missing. */
static int fingerprint(sbuf* b, const char* dir) {
  char ccbuf[1024];
  char* words[16];
  int nw = compiler_words(words, 16, ccbuf, sizeof ccbuf);
  sb_printf(b, "cc:");
  for (int i = 0; i < nw; i++) sb_printf(b, " %s", words[i]);
  sb_printf(b, "\nflags:");
  for (size_t i = 0; i < NCFLAGS; i++) sb_printf(b, " %s", compile_flags[i]);
  for (size_t i = 0; i < NLFLAGS; i++) sb_printf(b, " %s", link_flags[i]);
  sb_printf(b, "\n");
  /* -march=native: the object is only valid on CPUs with these features. */
  FILE* f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[8192];
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "flags", 5) || !strncmp(line, "model name", 10) || !strncmp(line, "Features", 8)) {
        sb_printf(b, "%s", line);
        if (line[0] == 'f' || line[0] == 'F') break;
      }
    fclose(f);
  }
  /* The engine files the sources include: their text decides the bits. */
  static const char* const files[] = {"cpu/unary.c",           "cpu/binary.c", "cpu/copy.c",
                                      "cpu/elementwise.h",     "cpu/half.h",   "internal.h",
                                      "../include/mlx/dtype.h"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    if (!append_file(b, path)) return 0;
  }
  return 1;
}

/* ---- the cache directory ------------------------------------------------------ */
static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static char* dir_override;

int mlx_set_compile_cache_dir(const char* dir) {
  char* copy = NULL;
  if (dir && *dir) {
    copy = strdup(dir);
    if (!copy) return mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
  }
  pthread_mutex_lock(&dir_lock);
  free(dir_override);
  dir_override = copy;
  pthread_mutex_unlock(&dir_lock);
  return MLX_OK;
}

char* mlx_compile_cache_dir_(void) {
  char buf[4096];
  pthread_mutex_lock(&dir_lock);
  const char* env;
  if (dir_override)
    snprintf(buf, sizeof buf, "%s", dir_override);
  else if ((env = getenv("MLX_COMPILE_CACHE_DIR")) && *env)
    snprintf(buf, sizeof buf, "%s", env);
  else if ((env = getenv("XDG_CACHE_HOME")) && *env)
    snprintf(buf, sizeof buf, "%s/mlx-ruby/kernels", env);
  else if ((env = getenv("HOME")) && *env)
    snprintf(buf, sizeof buf, "%s/.cache/mlx-ruby/kernels", env);
  else
    snprintf(buf, sizeof buf, "/tmp/mlx-ruby-kernels-%ld", (long)getuid());
  pthread_mutex_unlock(&dir_lock);
  char* r = strdup(buf);
  if (!r) mlx_error_(MLX_ERROR_MEMORY, "[compile] out of memory");
  return r;
}

/* mkdir -p. */
static int make_dirs(const char* path) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
  for (char* p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(buf, 0755) && errno != EEXIST) return -1;
  return 0;
}

/* Kernel files are "mlxk-<hash>.so" (and the ".c" it came from);
 * builds in progress are dot files that this never touches. */
void mlx_compile_cache_remove_files_(void) {
  char* dir = mlx_compile_cache_dir_();
  if (!dir) return;
  DIR* d = opendir(dir);
  if (d) {
    struct dirent* e;
    while ((e = readdir(d))) {
      if (strncmp(e->d_name, "mlxk-", 5)) continue;
      char path[4096];
      if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path) unlink(path);
    }
    closedir(d);
  }
  free(dir);
}

/* ---- building ------------------------------------------------------------------- */

/* Starts argv; its output is discarded unless MLX_COMPILE_VERBOSE is set
 * (then the compiler's diagnostics go to stderr, to see why kernels do
 * not build). Returns the pid, or -1. */
static pid_t spawn(char* const* argv) {
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa)) return -1;
  const char* verbose = getenv("MLX_COMPILE_VERBOSE");
  if (!verbose || !*verbose) {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc ? -1 : pid;
}

/* Waits for pid; 0 if it exited with status 0. */
static int finish(pid_t pid) {
  if (pid < 0) return -1;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static mlx_fused_fn_ load(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* verbose = getenv("MLX_COMPILE_VERBOSE");
    if (verbose && *verbose) fprintf(stderr, "[compile] %s\n", dlerror());
    return NULL;
  }
  mlx_fused_fn_ fn;
  void* sym = dlsym(h, "mlx_fused_kernel");
  /* Object pointer to function pointer, as POSIX dlsym requires. */
  memcpy(&fn, &sym, sizeof fn);
  if (!fn) dlclose(h);
  return fn;
}

/* Writes text to a new file at path; 0 on failure. */
static int write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return 0;
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  return close(fd) == 0 && off == len;
}

/* Compiles the translation units (at once, one compiler each) and links
 * them into a new object under dir named base.so, keeping their text as
 * base.c; returns its entry point or NULL. The build runs in a private
 * temporary directory. */
static mlx_fused_fn_ compile_into(const char* dir, const char* base, char* const* tu, const char* all,
                                  const char* sdir) {
  char tmp[4096], paths[NTU][4200], objs[NTU][4200], obj[4200], src[4200], final_so[4200], final_c[4200], inc_src[4200],
      inc_pub[4200];
  snprintf(tmp, sizeof tmp, "%s/.%s-XXXXXX", dir, base);
  if (!mkdtemp(tmp)) return NULL;
  snprintf(obj, sizeof obj, "%s/kernel.so", tmp);
  snprintf(src, sizeof src, "%s/kernel.txt", tmp);
  snprintf(final_so, sizeof final_so, "%s/%s.so", dir, base);
  snprintf(final_c, sizeof final_c, "%s/%s.c", dir, base);
  snprintf(inc_src, sizeof inc_src, "-I%s", sdir);
  snprintf(inc_pub, sizeof inc_pub, "-I%s/../include", sdir);
  char ccbuf[1024];
  char* argv[64];
  int ncc = compiler_words(argv, 16, ccbuf, sizeof ccbuf), ok = ncc > 0;
  pid_t pids[NTU];
  for (int t = 0; t < NTU; t++) {
    pids[t] = -1;
    if (!tu[t] || !ok) continue;
    snprintf(paths[t], sizeof paths[t], "%s/%s", tmp, tu_names[t]);
    snprintf(objs[t], sizeof objs[t], "%s/%s.o", tmp, tu_names[t]);
    ok = write_file(paths[t], tu[t]);
    int n = ncc;
    for (size_t i = 0; i < NCFLAGS; i++) argv[n++] = (char*)compile_flags[i];
    argv[n++] = inc_src;
    argv[n++] = inc_pub;
    argv[n++] = "-c";
    argv[n++] = paths[t];
    argv[n++] = "-o";
    argv[n++] = objs[t];
    argv[n] = NULL;
    if (ok) ok = (pids[t] = spawn(argv)) >= 0;
  }
  for (int t = 0; t < NTU; t++)
    if (pids[t] >= 0 && finish(pids[t])) ok = 0;
  int n = ncc;
  for (size_t i = 0; i < NLFLAGS; i++) argv[n++] = (char*)link_flags[i];
  argv[n++] = "-o";
  argv[n++] = obj;
  for (int t = 0; t < NTU; t++)
    if (tu[t]) argv[n++] = objs[t];
  argv[n++] = "-lm";
  argv[n] = NULL;
  mlx_fused_fn_ fn = NULL;
  if (ok && finish(spawn(argv)) == 0) {
    /* Loaded from the private directory, then published: a reader of the
     * final name never sees a partial file, and a file removed by a
     * concurrent cache clear cannot fail this load. */
    fn = load(obj);
    if (fn && rename(obj, final_so) == 0 && write_file(src, all)) rename(src, final_c);
  }
  unlink(obj);
  unlink(src);
  for (int t = 0; t < NTU; t++)
    if (tu[t]) {
      unlink(paths[t]);
      unlink(objs[t]);
    }
  rmdir(tmp);
  return fn;
}

mlx_fused_fn_ mlx_fused_build_(const mlx_fused_* k) {
  const char* sdir = src_dir();
  if (!sdir) return NULL;
  char* tu[NTU] = {NULL};
  if (!kernel_sources(k, tu)) return NULL;
  sbuf all = {0}, fp = {0};
  for (int t = 0; t < NTU; t++)
    if (tu[t]) sb_printf(&all, "/* ---- %s ---- */\n%s\n", tu_names[t], tu[t]);
  mlx_fused_fn_ fn = NULL;
  char* dir = NULL;
  if (!all.oom && fingerprint(&fp, sdir) && !fp.oom) {
    uint64_t h1 = hash_bytes(fp.p, fp.n, hash_bytes(all.p, all.n, 1));
    uint64_t h2 = hash_bytes(fp.p, fp.n, hash_bytes(all.p, all.n, 0x9e3779b97f4a7c15ULL));
    char base[64], path[4200];
    snprintf(base, sizeof base, "mlxk-%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
    dir = mlx_compile_cache_dir_();
    if (dir && make_dirs(dir) == 0) {
      snprintf(path, sizeof path, "%s/%s.so", dir, base);
      if (access(path, R_OK) == 0) fn = load(path);
      if (!fn) fn = compile_into(dir, base, tu, all.p, sdir);
    }
  }
  free(dir);
  free(fp.p);
  free(all.p);
  for (int t = 0; t < NTU; t++) free(tu[t]);
  return fn;
}
