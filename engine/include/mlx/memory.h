/* The caching allocator's statistics and limits (bytes). */
#ifndef MLX_MEMORY_H
#define MLX_MEMORY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes in buffers currently held by arrays. */
size_t mlx_get_active_memory(void);
/* Highest active memory since start or the last reset. */
size_t mlx_get_peak_memory(void);
/* Resets the peak to the current active memory. */
void mlx_reset_peak_memory(void);
/* Bytes held in the cache of freed buffers. */
size_t mlx_get_cache_memory(void);
/* Sets the memory limit; *prev gets the previous one. An allocation that
 * would pass the limit (after the cache is emptied) fails with
 * MLX_ERROR_MEMORY. */
int mlx_set_memory_limit(size_t* prev, size_t limit);
/* Sets the cache limit (0 disables caching); *prev gets the previous one. */
int mlx_set_cache_limit(size_t* prev, size_t limit);
/* Frees every cached buffer. */
void mlx_clear_cache(void);
/* GPU `index`'s own allocator: bytes in buffers held by arrays, the
 * highest such since start or the last mlx_reset_peak_memory, bytes
 * cached for reuse, and the device's total memory (any pointer may be
 * NULL). MLX_ERROR_DEVICE when no GPU is usable, MLX_ERROR_ARGUMENT for
 * an index past the last GPU. The host-wide figures above count GPU
 * arrays too (mlx_get_cache_memory adds the GPU caches), and the limits
 * apply to every GPU: an allocation that would take a GPU's active bytes
 * past the memory limit fails after its cache is emptied, and its cache
 * keeps at most the cache limit. */
int mlx_gpu_memory_stats(int index, size_t* active, size_t* peak, size_t* cache, size_t* total);

#ifdef __cplusplus
}
#endif
#endif
