/* Core engine tests: dtypes and promotion, array creation and reading,
 * astype across dtypes, lazy evaluation, memory statistics and limits,
 * devices, deep graphs. */
#include "harness.h"

TEST(dtype_promotion) {
  CHECK(mlx_dtype_promote(MLX_UINT8, MLX_INT8) == MLX_INT16);
  CHECK(mlx_dtype_promote(MLX_UINT64, MLX_INT32) == MLX_FLOAT32);
  CHECK(mlx_dtype_promote(MLX_FLOAT16, MLX_BFLOAT16) == MLX_FLOAT32);
  CHECK(mlx_dtype_promote(MLX_INT64, MLX_FLOAT16) == MLX_FLOAT16);
  CHECK(mlx_dtype_promote(MLX_FLOAT64, MLX_COMPLEX64) == MLX_COMPLEX64);
  CHECK(mlx_dtype_promote(MLX_BOOL, MLX_BOOL) == MLX_BOOL);
  CHECK(mlx_dtype_weak_scalar(MLX_SCALAR_INT, MLX_INT8) == MLX_INT8);
  CHECK(mlx_dtype_weak_scalar(MLX_SCALAR_INT, MLX_BOOL) == MLX_INT32);
  CHECK(mlx_dtype_weak_scalar(MLX_SCALAR_FLOAT, MLX_INT32) == MLX_FLOAT32);
  CHECK(mlx_dtype_weak_scalar(MLX_SCALAR_FLOAT, MLX_BFLOAT16) == MLX_BFLOAT16);
  mlx_dtype d;
  CHECK_OK(mlx_dtype_from_name(&d, "bfloat16"));
  CHECK(d == MLX_BFLOAT16);
  CHECK_ERR(mlx_dtype_from_name(&d, "float8"), MLX_ERROR_ARGUMENT);
  CHECK(mlx_dtype_size(MLX_COMPLEX64) == 8);
  CHECK(mlx_dtype_issubdtype(MLX_UINT16, MLX_UNSIGNEDINTEGER));
  CHECK(!mlx_dtype_issubdtype(MLX_UINT16, MLX_SIGNEDINTEGER));
  CHECK(mlx_dtype_issubdtype(MLX_BFLOAT16, MLX_FLOATING));
}

TEST(create_and_read) {
  float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  mlx_array a = arr_f32(v, shape, 2);
  CHECK(mlx_array_ndim(a) == 2);
  CHECK(mlx_array_size(a) == 6);
  CHECK(mlx_array_dim(a, -1) == 3);
  CHECK(mlx_array_is_evaluated(a));
  double e[6] = {1, 2, 3, 4, 5, 6};
  CHECK_VALUES(a, e, 6, 0);
  double x;
  CHECK_ERR(mlx_array_item_float64(&x, a), MLX_ERROR_ARGUMENT);
  int64_t bad[1] = {-2};
  mlx_array b = mlx_array_new();
  CHECK_ERR(mlx_array_new_data(&b, v, bad, 1, MLX_FLOAT32), MLX_ERROR_ARGUMENT);
  CHECK(b.ctx == NULL);
  mlx_array_free(a);
}

TEST(astype_all_pairs) {
  /* Every pair of dtypes: 1 and 0 survive any round trip. */
  for (int s = 0; s < MLX_NUM_DTYPES; s++) {
    for (int t = 0; t < MLX_NUM_DTYPES; t++) {
      mlx_array a = mlx_array_new(), b = mlx_array_new();
      CHECK_OK(mlx_array_new_int(&a, 1, (mlx_dtype)s));
      CHECK_OK(mlx_astype(&b, a, (mlx_dtype)t, S));
      double got = -1;
      CHECK_OK(mlx_array_item_float64(&got, b));
      CHECK(got == 1.0);
      CHECK(mlx_array_dtype(b) == (mlx_dtype)t);
      mlx_array_free(a);
      mlx_array_free(b);
    }
  }
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&a, -2.75, MLX_FLOAT64));
  CHECK_OK(mlx_astype(&b, a, MLX_INT32, S));
  int64_t i;
  CHECK_OK(mlx_array_item_int64(&i, b));
  CHECK(i == -2);
  CHECK_OK(mlx_astype(&b, a, MLX_BFLOAT16, S));
  double f;
  CHECK_OK(mlx_array_item_float64(&f, b));
  CHECK(f == -2.75);
  CHECK_OK(mlx_array_new_float(&a, 1.0 / 3.0, MLX_FLOAT32));
  CHECK_OK(mlx_astype(&b, a, MLX_BFLOAT16, S));
  CHECK_OK(mlx_array_item_float64(&f, b));
  CHECK(f == 0.333984375); /* round to nearest even of 0x3eaaaaab */
  CHECK_OK(mlx_astype(&b, a, MLX_FLOAT16, S));
  CHECK_OK(mlx_array_item_float64(&f, b));
  CHECK(f == 0.333251953125);
  CHECK_OK(mlx_array_new_complex(&a, 3.5f, -1.0f));
  CHECK_OK(mlx_astype(&b, a, MLX_FLOAT32, S));
  CHECK_OK(mlx_array_item_float64(&f, b));
  CHECK(f == 3.5);
  CHECK_OK(mlx_astype(&b, a, MLX_BOOL, S));
  int t;
  CHECK_OK(mlx_array_item_bool(&t, b));
  CHECK(t == 1);
  mlx_array_free(a);
  mlx_array_free(b);
}

TEST(lazy_until_eval) {
  float v[3] = {1, 2, 3};
  int64_t shape[1] = {3};
  mlx_array a = arr_f32(v, shape, 1), b = mlx_array_new();
  CHECK_OK(mlx_astype(&b, a, MLX_INT32, S));
  CHECK(!mlx_array_is_evaluated(b));
  CHECK_OK(mlx_eval(&b, 1));
  CHECK(mlx_array_is_evaluated(b));
  CHECK(mlx_array_strides(b)[0] == 1);
  mlx_array empty = mlx_array_new();
  CHECK_ERR(mlx_eval(&empty, 1), MLX_ERROR_ARGUMENT);
  mlx_array_free(a);
  mlx_array_free(b);
}

TEST(deep_chain_no_stack_overflow) {
  /* 1,000,000 ops in a chain: building, evaluating and freeing must not
   * recurse. Alternate casts so no op is elided. */
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_array_new_float(&a, 7.0, MLX_FLOAT32));
  for (int i = 0; i < 1000000; i++) {
    mlx_array b = mlx_array_new();
    if (mlx_astype(&b, a, (i & 1) ? MLX_FLOAT32 : MLX_FLOAT64, S)) break;
    mlx_array_free(a);
    a = b;
  }
  double x = 0;
  CHECK_OK(mlx_array_item_float64(&x, a));
  CHECK(x == 7.0);
  mlx_array_free(a);
  a = mlx_array_new();
  /* An unevaluated chain freed without evaluation. */
  CHECK_OK(mlx_array_new_float(&a, 1.0, MLX_FLOAT32));
  for (int i = 0; i < 1000000; i++) {
    mlx_array b = mlx_array_new();
    if (mlx_astype(&b, a, (i & 1) ? MLX_FLOAT32 : MLX_FLOAT64, S)) break;
    mlx_array_free(a);
    a = b;
  }
  mlx_array_free(a);
}

TEST(memory_stats_and_limits) {
  mlx_clear_cache();
  size_t base = mlx_get_active_memory();
  mlx_reset_peak_memory();
  int64_t shape[1] = {1 << 20};
  mlx_array a = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, NULL, shape, 1, MLX_FLOAT32));
  CHECK(mlx_get_active_memory() >= base + (4u << 20));
  CHECK(mlx_get_peak_memory() >= base + (4u << 20));
  mlx_array_free(a);
  a = mlx_array_new();
  CHECK(mlx_get_active_memory() == base);
  CHECK(mlx_get_cache_memory() >= (4u << 20));
  mlx_clear_cache();
  CHECK(mlx_get_cache_memory() == 0);
  size_t prev;
  CHECK_OK(mlx_set_memory_limit(&prev, base + (1u << 20)));
  CHECK_ERR(mlx_array_new_data(&a, NULL, shape, 1, MLX_FLOAT32), MLX_ERROR_MEMORY);
  CHECK(a.ctx == NULL);
  CHECK_OK(mlx_set_memory_limit(NULL, prev));
  CHECK_OK(mlx_set_cache_limit(&prev, 0));
  CHECK_OK(mlx_array_new_data(&a, NULL, shape, 1, MLX_FLOAT32));
  mlx_array_free(a);
  CHECK(mlx_get_cache_memory() == 0);
  CHECK_OK(mlx_set_cache_limit(NULL, prev));
}

TEST(devices) {
  CHECK(mlx_device_is_available(mlx_device_cpu()));
  CHECK(mlx_device_count(MLX_CPU) == 1);
  if (!mlx_gpu_is_available()) {
    CHECK(strlen(mlx_gpu_unavailable_reason()) > 0);
    CHECK_ERR(mlx_set_default_device(mlx_device_gpu()), MLX_ERROR_DEVICE);
    mlx_stream st;
    CHECK_ERR(mlx_stream_new(&st, mlx_device_gpu()), MLX_ERROR_DEVICE);
  }
  mlx_stream s2;
  CHECK_OK(mlx_stream_new(&s2, mlx_device_cpu()));
  float v[2] = {1, 2};
  int64_t shape[1] = {2};
  mlx_array a = arr_f32(v, shape, 1), b = mlx_array_new();
  CHECK_OK(mlx_astype(&b, a, MLX_INT8, s2));
  CHECK_OK(mlx_async_eval(&b, 1));
  CHECK_OK(mlx_synchronize(s2));
  CHECK(mlx_array_is_evaluated(b));
  mlx_array_free(a);
  mlx_array_free(b);
}

#include <pthread.h>

/* Each thread builds its own chain over a shared input and evaluates it,
 * while the others do the same: results must be exact. */
static void* thread_body(void* arg) {
  mlx_array shared = *(mlx_array*)arg;
  long ok = 1;
  for (int round = 0; round < 50; round++) {
    mlx_array a = mlx_array_new();
    mlx_array_set(&a, shared);
    for (int i = 0; i < 200; i++) {
      mlx_array b = mlx_array_new();
      if (mlx_astype(&b, a, (i & 1) ? MLX_FLOAT32 : MLX_FLOAT64, S)) ok = 0;
      mlx_array_free(a);
      a = b;
    }
    double v[4];
    if (read_f64(v, 4, a) != 4 || v[0] != 1 || v[3] != 4) ok = 0;
    mlx_array_free(a);
  }
  return (void*)ok;
}

TEST(threads_build_and_eval_concurrently) {
  float v[4] = {1, 2, 3, 4};
  int64_t shape[1] = {4};
  mlx_array shared = arr_f32(v, shape, 1);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, thread_body, &shared);
  for (int i = 0; i < 4; i++) {
    void* ok;
    pthread_join(t[i], &ok);
    CHECK(ok == (void*)1);
  }
  mlx_array_free(shared);
}

TEST(cancelled_eval_leaves_arrays_unevaluated) {
  float v[2] = {1, 2};
  int64_t shape[1] = {2};
  mlx_array a = arr_f32(v, shape, 1), b = mlx_array_new();
  CHECK_OK(mlx_astype(&b, a, MLX_INT32, S));
  volatile int cancel = 1;
  CHECK_ERR(mlx_eval_cancellable(&b, 1, &cancel), MLX_ERROR_INTERRUPTED);
  CHECK(!mlx_array_is_evaluated(b));
  cancel = 0;
  CHECK_OK(mlx_eval_cancellable(&b, 1, &cancel));
  double e[2] = {1, 2};
  CHECK_VALUES(b, e, 2, 0);
  mlx_array_free(a);
  mlx_array_free(b);
}

int main(void) {
  RUN(threads_build_and_eval_concurrently);
  RUN(cancelled_eval_leaves_arrays_unevaluated);
  RUN(dtype_promotion);
  RUN(create_and_read);
  RUN(astype_all_pairs);
  RUN(lazy_until_eval);
  RUN(deep_chain_no_stack_overflow);
  RUN(memory_stats_and_limits);
  RUN(devices);
  return harness_report();
}
