/* The fast family's transform rules (ops/fast_rules.c), shared with the
 * primitive table in ops/fast.c. */
#ifndef MLX_OPS_FAST_H
#define MLX_OPS_FAST_H

#include "../cpu/fast.h"

int mlx_fast_rms_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_fast_ln_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_fast_rope_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);
int mlx_fast_sdpa_vjp_(mlx_array* in_cots, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* cots, const void* params, mlx_stream s);

int mlx_fast_rms_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                      const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_fast_ln_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                     const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_fast_rope_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);
int mlx_fast_sdpa_jvp_(mlx_array* out_tans, const int* argnums, int nargs, const mlx_array* inputs, int nin,
                       const mlx_array* outputs, int nout, const mlx_array* tangents, const void* params, mlx_stream s);

int mlx_fast_rms_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                       const void* params, mlx_stream s);
int mlx_fast_ln_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                      const void* params, mlx_stream s);
int mlx_fast_rope_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                        const void* params, mlx_stream s);
int mlx_fast_sdpa_vmap_(mlx_array* outs, int* out_axes, const mlx_array* inputs, const int* in_axes, int nin, int nout,
                        const void* params, mlx_stream s);

/* Records the primitives directly on already prepared inputs (cast,
 * broadcast), for the rules: rms (x, w), layer norm (x, w, b), rope (x,
 * offset[, freqs]), sdpa (q, k, v[, mask][, sinks]). */
int mlx_fast_rms_record_(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s);
int mlx_fast_ln_record_(mlx_array* res, const mlx_array* in, const mlx_fast_norm_params_* p, mlx_stream s);
int mlx_fast_rope_record_(mlx_array* res, const mlx_array* in, int nin, const mlx_fast_rope_params_* p, mlx_stream s);

#endif
