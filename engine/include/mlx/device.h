/* Devices and streams.
 *
 * The CPU device always exists. The GPU device is CUDA on NVIDIA hardware
 * when the backend was built and a usable GPU is present; otherwise every
 * attempt to use it fails with MLX_ERROR_DEVICE and mlx_gpu_unavailable_reason
 * says why. A stream is an ordered queue of work on one device. */
#ifndef MLX_DEVICE_H
#define MLX_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlx_device_type { MLX_CPU = 0, MLX_GPU = 1 } mlx_device_type;

/* A device handle: a plain value, nothing to free. */
typedef struct mlx_device {
  mlx_device_type type;
  int index;
} mlx_device;

/* A stream handle: a plain value (index into the engine's stream table). */
typedef struct mlx_stream {
  int index;
  mlx_device device;
} mlx_stream;

/* The CPU device. */
mlx_device mlx_device_cpu(void);
/* The GPU device slot (use is an error when mlx_gpu_is_available() is 0). */
mlx_device mlx_device_gpu(void);
/* 1 if the device exists and is usable, else 0. */
int mlx_device_is_available(mlx_device d);
/* Number of devices of the type (0 GPUs when unavailable). */
int mlx_device_count(mlx_device_type type);
/* 1 when a usable GPU exists. */
int mlx_gpu_is_available(void);
/* Why the GPU cannot be used ("" when it can). Static storage. */
const char* mlx_gpu_unavailable_reason(void);

/* The default device: initially from MLX_DEFAULT_DEVICE, then DEVICE
 * ("cpu", "gpu", "metal" = gpu; a GPU request falls back to the CPU when
 * no GPU is usable). */
mlx_device mlx_get_default_device(void);
/* Sets the default device. Fails with MLX_ERROR_DEVICE if unavailable. */
int mlx_set_default_device(mlx_device d);

/* The default stream of a device (through *res). */
int mlx_get_default_stream(mlx_stream* res, mlx_device d);
/* Makes s the default stream of its device. */
int mlx_set_default_stream(mlx_stream s);
/* A new stream on device d. */
int mlx_stream_new(mlx_stream* res, mlx_device d);
/* The stream ops use when they are passed MLX_DEFAULT_STREAM. */
mlx_stream mlx_default_stream_now(void);
/* Waits until all work queued on s has finished. */
int mlx_synchronize(mlx_stream s);

/* Pass as the stream argument of an op to use the default stream of the
 * default device. */
#define MLX_DEFAULT_STREAM ((mlx_stream){-1, {MLX_CPU, 0}})

#ifdef __cplusplus
}
#endif
#endif
