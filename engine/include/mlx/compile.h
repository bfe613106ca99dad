/* Compilation of functions over arrays.
 *
 *   mlx_closure fast;
 *   if (mlx_compile(&fast, fun, 0)) goto fail;
 *   mlx_closure_apply(outputs, fast, inputs);  // traces fun on first use
 *   mlx_closure_apply(outputs, fast, inputs);  // replays: fun is not called
 *   mlx_closure_free(fast);
 *
 * A compiled function traces fun once per input signature (the number of
 * inputs, their dtypes and shapes, or only dtypes and ranks when
 * shapeless), simplifies the traced graph (equal scalar constants merged,
 * common subexpressions removed) and fuses chains of elementwise ops into
 * one kernel, generated as C source and built by the system C compiler
 * ($CC, else cc) into a shared object cached on disk. Later calls with the
 * same signature record the simplified graph directly. Results are
 * bit-identical to calling fun. Without a working compiler the graph runs
 * unfused (MLX_COMPILE_VERBOSE=1 prints the compiler's complaints).
 *
 * fun must be a pure function of its inputs: arrays it closes over are
 * captured as constants at trace time, and values it reads (item, data)
 * are baked in. Keys it draws from the global random sequence are not
 * baked in: each call draws as many keys as fun did, so the sequence
 * advances and the numbers come out as without compile. Called inside a
 * transform (grad, vjp, jvp, vmap), a compiled function runs fun itself. */
#ifndef MLX_COMPILE_H
#define MLX_COMPILE_H

#include "mlx/transforms.h"

#ifdef __cplusplus
extern "C" {
#endif

/* *res gets a new closure that behaves like fun (its previous content is
 * not freed; free the new one with mlx_closure_free). It keeps its own
 * reference to fun. shapeless != 0: a trace is reused for inputs of other
 * shapes with the same dtypes and ranks when every op in it can compute
 * its output shapes (elementwise ops can); otherwise fun is traced again
 * for the new shapes. */
int mlx_compile(mlx_closure* res, const mlx_closure fun, int shapeless);

/* Compiled functions call fun directly until mlx_enable_compile. The
 * environment variable MLX_DISABLE_COMPILE (non-empty, not "0") starts the
 * process in this mode. */
int mlx_disable_compile(void);
/* Undoes mlx_disable_compile (and MLX_DISABLE_COMPILE). */
int mlx_enable_compile(void);

/* Directory of the compiled kernels (created when first needed). NULL or
 * "" restores the default: $MLX_COMPILE_CACHE_DIR, else
 * $XDG_CACHE_HOME/mlx-ruby/kernels, else ~/.cache/mlx-ruby/kernels. The
 * string is copied. */
int mlx_set_compile_cache_dir(const char* dir);

/* Forgets every compiled function's traces (the next call traces again)
 * and which kernels were built (each is loaded or built again when next
 * needed; one whose build failed is tried again), and removes the kernel
 * files of the current cache directory. */
int mlx_compile_clear_cache(void);

#ifdef __cplusplus
}
#endif
#endif
