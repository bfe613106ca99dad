/* The time loop of an Elman RNN with tanh (include/mlx/matmul.h,
 * mlx_rnn_tanh_steps), recorded from C: the same ops, in the same order,
 * as the Ruby layer's loop (a slice of the step, addmm, tanh; stack at
 * the end), without an interpreter round trip per op. */
#include <stdlib.h>

#include "../internal.h"
#include "mlx/indexing.h"
#include "mlx/matmul.h"
#include "mlx/ops.h"

int mlx_rnn_tanh_steps(mlx_array* res, const mlx_array xw, const mlx_array whh_t, const mlx_array* hidden,
                       const mlx_stream s) {
  MLX_TRY(mlx_check_array_(xw, "rnn"));
  MLX_TRY(mlx_check_array_(whh_t, "rnn"));
  if (hidden) MLX_TRY(mlx_check_array_(*hidden, "rnn"));
  int nd = (int)mlx_array_ndim(xw);
  if (nd < 2) return mlx_error_(MLX_ERROR_SHAPE, "[rnn] the input must have a time axis and a feature axis");
  int ax = nd - 2;
  int64_t steps = mlx_array_dim(xw, ax);
  if (steps == 0) return mlx_error_(MLX_ERROR_SHAPE, "[rnn] the input has no time steps");
  mlx_array* outs = calloc((size_t)steps, sizeof *outs);
  if (!outs) return mlx_error_(MLX_ERROR_MEMORY, "[rnn] out of memory");
  mlx_array h = mlx_array_new(), xt = mlx_array_new(), pre = mlx_array_new();
  int have_h = hidden != NULL, rc = MLX_OK;
  if (have_h) rc = mlx_array_set(&h, *hidden);
  int64_t t = 0;
  for (; t < steps && rc == MLX_OK; t++) {
    rc = mlx_take_index(&xt, xw, t, &ax, s);
    if (rc == MLX_OK) rc = have_h ? mlx_addmm(&pre, xt, h, whh_t, 1.0f, 1.0f, s) : mlx_array_set(&pre, xt);
    outs[t] = mlx_array_new();
    if (rc == MLX_OK) rc = mlx_tanh(&outs[t], pre, s);
    if (rc == MLX_OK) rc = mlx_array_set(&h, outs[t]);
    have_h = 1;
  }
  if (rc == MLX_OK) rc = mlx_stack(res, outs, (size_t)steps, -2, s);
  for (int64_t i = 0; i < t; i++) mlx_array_free(outs[i]);
  free(outs);
  mlx_array_free(h), mlx_array_free(xt), mlx_array_free(pre);
  return rc;
}
