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

#ifdef __cplusplus
}
#endif
#endif
