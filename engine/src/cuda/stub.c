/* The GPU backend when the engine was built without CUDA. */
#include "../gpu_backend.h"

int mlx_gpu_backend_available_(void) {
  return 0;
}

const char* mlx_gpu_backend_unavailable_reason_(void) {
  return "this build of the engine has no GPU backend (the CUDA backend was not compiled: nvcc was "
         "not found or MLX_NO_CUDA was set)";
}

int mlx_gpu_backend_device_count_(void) {
  return 0;
}
