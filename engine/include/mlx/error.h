/* Error reporting of the MLX C engine.
 *
 * Every public function returns an int status: MLX_OK (0) on success, one of
 * the mlx_error_code values otherwise. On failure a message, prefixed with the
 * operation name ("[matmul] inner dimensions 3 and 4 differ"), is stored in a
 * thread-local buffer that mlx_last_error() returns. Nothing a user or a file
 * controls ever aborts the process. */
#ifndef MLX_ERROR_H
#define MLX_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlx_error_code {
  MLX_OK = 0,
  MLX_ERROR_ARGUMENT = 1,    /* a bad value: an axis, an option, a range */
  MLX_ERROR_SHAPE = 2,       /* shapes that do not fit together */
  MLX_ERROR_DTYPE = 3,       /* a dtype the op does not support */
  MLX_ERROR_INDEX = 4,       /* an index out of range */
  MLX_ERROR_MEMORY = 5,      /* out of memory or over the memory limit */
  MLX_ERROR_FILE = 6,        /* I/O failure or a malformed file */
  MLX_ERROR_DEVICE = 7,      /* a device that is not available */
  MLX_ERROR_INTERRUPTED = 8, /* evaluation stopped by mlx_eval_interrupt */
  MLX_ERROR_UNSUPPORTED = 9, /* not implemented (for this device or dtype) */
  MLX_ERROR_INTERNAL = 10    /* a broken invariant: a bug in the engine */
} mlx_error_code;

/* The message of the last failed call on this thread ("" if none). The
 * pointer stays valid until the next failing call on the same thread. */
const char* mlx_last_error(void);

/* The code of the last failed call on this thread (MLX_OK if none). */
int mlx_last_error_code(void);

/* Clears this thread's last error. */
void mlx_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
