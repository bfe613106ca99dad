/* Devices and streams. The GPU backend plugs in through gpu_backend.h; when
 * it was not built (or finds no usable GPU) the GPU slot reports why. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include "gpu_backend.h"
#include "internal.h"

#define MAX_STREAMS 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static mlx_device default_device;
static int default_stream_of[2]; /* stream index per device type */
static mlx_device stream_device[MAX_STREAMS];
static int nstreams;

static void init_devices(void) {
  stream_device[0] = mlx_device_cpu();
  nstreams = 1;
  default_stream_of[MLX_CPU] = 0;
  default_stream_of[MLX_GPU] = -1;
  if (mlx_gpu_backend_available_()) {
    stream_device[1] = mlx_device_gpu();
    default_stream_of[MLX_GPU] = 1;
    nstreams = 2;
  }
  default_device = mlx_device_cpu();
  const char* env = getenv("MLX_DEFAULT_DEVICE");
  if (!env || !*env) env = getenv("DEVICE");
  if (env && (strcasecmp(env, "gpu") == 0 || strcasecmp(env, "metal") == 0 || strcasecmp(env, "cuda") == 0) &&
      mlx_gpu_backend_available_())
    default_device = mlx_device_gpu();
}

mlx_device mlx_device_cpu(void) {
  mlx_device d = {MLX_CPU, 0};
  return d;
}

mlx_device mlx_device_gpu(void) {
  mlx_device d = {MLX_GPU, 0};
  return d;
}

int mlx_gpu_is_available(void) {
  return mlx_gpu_backend_available_();
}

const char* mlx_gpu_unavailable_reason(void) {
  return mlx_gpu_backend_unavailable_reason_();
}

int mlx_device_count(mlx_device_type type) {
  if (type == MLX_CPU) return 1;
  return mlx_gpu_backend_available_() ? mlx_gpu_backend_device_count_() : 0;
}

int mlx_device_is_available(mlx_device d) {
  if (d.type == MLX_CPU) return d.index == 0;
  if (d.type == MLX_GPU) return d.index >= 0 && d.index < mlx_device_count(MLX_GPU);
  return 0;
}

int mlx_check_device_(mlx_device d, const char* op) {
  if (d.type == MLX_CPU) {
    if (d.index != 0) return mlx_error_(MLX_ERROR_DEVICE, "[%s] there is only one cpu device (index 0)", op);
    return MLX_OK;
  }
  if (d.type != MLX_GPU) return mlx_error_(MLX_ERROR_DEVICE, "[%s] unknown device type %d", op, (int)d.type);
  if (!mlx_gpu_backend_available_())
    return mlx_error_(MLX_ERROR_DEVICE, "[%s] the gpu is not available: %s", op, mlx_gpu_backend_unavailable_reason_());
  if (d.index < 0 || d.index >= mlx_gpu_backend_device_count_())
    return mlx_error_(MLX_ERROR_DEVICE, "[%s] gpu index %d out of range", op, d.index);
  return MLX_OK;
}

mlx_device mlx_get_default_device(void) {
  pthread_once(&once, init_devices);
  pthread_mutex_lock(&lock);
  mlx_device d = default_device;
  pthread_mutex_unlock(&lock);
  return d;
}

int mlx_set_default_device(mlx_device d) {
  pthread_once(&once, init_devices);
  MLX_TRY(mlx_check_device_(d, "set_default_device"));
  pthread_mutex_lock(&lock);
  default_device = d;
  pthread_mutex_unlock(&lock);
  return MLX_OK;
}

int mlx_get_default_stream(mlx_stream* res, mlx_device d) {
  pthread_once(&once, init_devices);
  MLX_TRY(mlx_check_device_(d, "default_stream"));
  pthread_mutex_lock(&lock);
  res->index = default_stream_of[d.type];
  res->device = d;
  pthread_mutex_unlock(&lock);
  return MLX_OK;
}

int mlx_set_default_stream(mlx_stream s) {
  pthread_once(&once, init_devices);
  MLX_TRY(mlx_check_device_(s.device, "set_default_stream"));
  pthread_mutex_lock(&lock);
  int ok = s.index >= 0 && s.index < nstreams && stream_device[s.index].type == s.device.type;
  if (ok) default_stream_of[s.device.type] = s.index;
  pthread_mutex_unlock(&lock);
  if (!ok) return mlx_error_(MLX_ERROR_ARGUMENT, "[set_default_stream] unknown stream %d", s.index);
  return MLX_OK;
}

int mlx_stream_new(mlx_stream* res, mlx_device d) {
  pthread_once(&once, init_devices);
  MLX_TRY(mlx_check_device_(d, "new_stream"));
  pthread_mutex_lock(&lock);
  if (nstreams >= MAX_STREAMS) {
    pthread_mutex_unlock(&lock);
    return mlx_error_(MLX_ERROR_ARGUMENT, "[new_stream] too many streams (limit %d)", MAX_STREAMS);
  }
  res->index = nstreams;
  res->device = d;
  stream_device[nstreams++] = d;
  pthread_mutex_unlock(&lock);
  return MLX_OK;
}

mlx_stream mlx_default_stream_now(void) {
  pthread_once(&once, init_devices);
  pthread_mutex_lock(&lock);
  mlx_stream s = {default_stream_of[default_device.type], default_device};
  pthread_mutex_unlock(&lock);
  return s;
}

int mlx_resolve_stream_(mlx_stream* out, mlx_stream s, const char* op) {
  if (s.index < 0) {
    *out = mlx_default_stream_now();
    return MLX_OK;
  }
  pthread_once(&once, init_devices);
  MLX_TRY(mlx_check_device_(s.device, op));
  pthread_mutex_lock(&lock);
  int ok = s.index < nstreams && stream_device[s.index].type == s.device.type;
  pthread_mutex_unlock(&lock);
  if (!ok) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] unknown stream %d", op, s.index);
  *out = s;
  return MLX_OK;
}

int mlx_synchronize(mlx_stream s) {
  mlx_stream r;
  MLX_TRY(mlx_resolve_stream_(&r, s, "synchronize"));
#ifdef MLX_HAVE_CUDA
  MLX_TRY(mlx_eval_wait_idle_());
  if (r.device.type == MLX_GPU) return mlx_cuda_synchronize_(r.index, r.device.index);
  return MLX_OK;
#else
  return mlx_eval_wait_idle_();
#endif
}
