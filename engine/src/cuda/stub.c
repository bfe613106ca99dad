/* The GPU backend when the engine was built without CUDA. */
#include "../gpu_backend.h"

int mlx_gpu_backend_available_(void) {
  return 0;
}

const char* mlx_gpu_backend_unavailable_reason_(void) {
  return "this build of the engine has no GPU backend (the CUDA backend is built only with MLX_CUDA=1 "
         "and nvcc: see docs/cuda.md)";
}

int mlx_gpu_backend_device_count_(void) {
  return 0;
}
