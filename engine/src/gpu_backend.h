/* The seam between the engine and the optional GPU backend. cuda/stub.c
 * implements it when the CUDA backend is not built. */
#ifndef MLX_GPU_BACKEND_H
#define MLX_GPU_BACKEND_H

/* 1 when a usable GPU exists. */
int mlx_gpu_backend_available_(void);
/* Why not ("" when available). Static storage. */
const char* mlx_gpu_backend_unavailable_reason_(void);
/* Number of usable GPUs. */
int mlx_gpu_backend_device_count_(void);

#endif
