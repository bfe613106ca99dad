/* MLX C engine: the umbrella header.
 *
 * A short tour:
 *
 *   mlx_array a = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
 *   float data[3] = {1, 2, 3};
 *   int64_t shape[1] = {3};
 *   if (mlx_array_new_data(&a, data, shape, 1, MLX_FLOAT32)) goto fail;
 *   if (mlx_array_new_float(&b, 1.0, MLX_FLOAT32)) goto fail;
 *   if (mlx_add(&c, a, b, MLX_DEFAULT_STREAM)) goto fail;   // records a node
 *   if (mlx_eval(&c, 1)) goto fail;                          // computes it
 *   ...
 * fail:
 *   fprintf(stderr, "%s\n", mlx_last_error());
 *   mlx_array_free(a); mlx_array_free(b); mlx_array_free(c);
 *
 * Arrays are lazy: ops record graph nodes, mlx_eval computes them. Every
 * function returns 0 or an error code, with a message in mlx_last_error().
 */
#ifndef MLX_MLX_H
#define MLX_MLX_H

#include "mlx/error.h"
#include "mlx/dtype.h"
#include "mlx/device.h"
#include "mlx/memory.h"
#include "mlx/array.h"
#include "mlx/ops.h"
#include "mlx/random.h"
#include "mlx/io.h"
#include "mlx/transforms.h"
#include "mlx/compile.h"
#include "mlx/indexing.h"
#include "mlx/sort.h"
#include "mlx/matmul.h"
#include "mlx/conv.h"
#include "mlx/linalg.h"
#include "mlx/fft.h"
#include "mlx/fast.h"
#include "mlx/quantize.h"
#include "mlx/export.h"

#define MLX_ENGINE_VERSION "0.1.0"

/* The engine version string. */
const char* mlx_version(void);
/* Number of threads of the CPU pool (MLX_NUM_THREADS, else the core count). */
int mlx_cpu_thread_count(void);

#endif
