/* Compile family internals: the fused elementwise primitive ("compiled")
 * that compile.c puts in place of a group of elementwise ops, its kernel
 * descriptor, and the run-time code generator behind it (codegen.c). */
#ifndef MLX_COMPILE_INTERNAL_H
#define MLX_COMPILE_INTERNAL_H

#include <pthread.h>

#include "../internal.h"

/* What one instruction of a fused group computes. */
enum {
  MLX_FI_UNARY = 0, /* op: an mlx_unary_op_ on args[0] */
  MLX_FI_BINARY,    /* op: an mlx_binary_op_ on args[0], args[1] */
  MLX_FI_SELECT,    /* args[0] ? args[1] : args[2] (where) */
  MLX_FI_CAST       /* args[0] converted to dtype (astype, contiguous, stop_gradient) */
};

/* One op of a fused group. args[k] < 0 names external input -1 - args[k],
 * otherwise an earlier instruction. prim and params are the original op's,
 * so the group can also run op by op with the original kernels. */
typedef struct {
  int kind;
  int op;
  mlx_dtype dtype;    /* of the result */
  mlx_dtype in_dtype; /* of args[0] (SELECT: of args[1] and args[2]) */
  int nargs;
  int args[3];
  const mlx_prim_* prim;
  size_t params_size;
  unsigned char params[16];
} mlx_finstr_;

/* The generated kernel: n elements; input k is read at ins[k] + i * strides[k]
 * (elements, of its dtype), outputs are written at outs[j] + i. */
typedef void (*mlx_fused_fn_)(char* const* outs, const char* const* ins, const int64_t* strides, int64_t n);

/* A fused group, interned (one per distinct program, never freed: nodes
 * recorded from a compiled function may outlive it). */
typedef struct mlx_fused_ {
  int nin, nout, ninstr;
  mlx_dtype* in_dtypes;
  /* 1 if input k was a single element when traced: the kernel then reads
   * it once per row instead of once per element (a hint; any layout runs). */
  unsigned char* in_scalar;
  int* outs; /* instruction index of each output */
  mlx_finstr_* instrs;
  /* The canonical bytes of all of the above: the interning key. */
  unsigned char* key;
  size_t key_size;
  uint64_t key_hash;
  /* Generated code, built at first use under lock. */
  pthread_mutex_t lock;
  int state; /* 0: not tried, 1: fn is valid, 2: no compiler or the build failed */
  mlx_fused_fn_ fn;
  struct mlx_fused_* next;
} mlx_fused_;

/* Params of the "compiled" primitive. */
typedef struct {
  mlx_fused_* k;
} mlx_fused_params_;

extern const mlx_prim_ mlx_prim_compiled_;

/* The interned descriptor of a program (the fields up to instrs filled by
 * the caller, arrays borrowed: the registry copies them), or NULL with the
 * error set. */
mlx_fused_* mlx_fused_intern_(const mlx_fused_* proto);
/* 1 if k's kernel is built (building it now if it was not tried yet); 0
 * when it cannot be (no compiler, or the build failed). */
int mlx_fused_ready_(mlx_fused_* k);
/* Forgets every built kernel so the next use builds (or loads) it again. */
void mlx_fused_reset_all_(void);

/* 1 if the code generator can emit this instruction (its op, dtypes). */
int mlx_fused_supported_(const mlx_finstr_* in);
/* Generates the kernel's C source, compiles it with the system compiler
 * into the cache directory (or loads it from there) and returns its entry
 * point; NULL when no compiler is usable or the build fails (the caller
 * runs the group op by op instead). Not thread-safe per descriptor: the
 * caller holds k->lock. */
mlx_fused_fn_ mlx_fused_build_(const mlx_fused_* k);
/* The kernel cache directory now in use (a new string to free), or NULL
 * with the error set. */
char* mlx_compile_cache_dir_(void);
/* Removes the kernel files of the cache directory. */
void mlx_compile_cache_remove_files_(void);

#endif
