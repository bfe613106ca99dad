/* Random numbers: keys, splitting and the samplers. A nil key draws from
 * the engine's global key sequence (reset by seed). */
#include "mlx_ext.h"

static mlx_array key_of(VALUE key) {
  return NIL_P(key) ? mlx_array_new() : mlxrb_get(key);
}

static uint64_t to_seed(VALUE v) {
  if (!RB_INTEGER_TYPE_P(v)) rb_raise(rb_eTypeError, "seed must be an Integer, got %" PRIsVALUE, rb_obj_class(v));
  if (rb_funcall(v, '<', 1, INT2FIX(0)) == Qtrue) rb_raise(mlxrb_eArgumentError, "seed must be non-negative");
  return NUM2ULL(v);
}

static VALUE n_seed(VALUE mod, VALUE seed) {
  mlxrb_check(mlx_random_seed(to_seed(seed)));
  return Qnil;
}

static VALUE n_key(VALUE mod, VALUE seed) {
  uint64_t sd = to_seed(seed);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_key(slot, sd));
  return mlxrb_result_ready(out);
}

/* Native.random_split(key, num_or_nil, stream): nil -> [k1, k2], else a
 * [num, 2] array of keys. */
static VALUE n_split(VALUE mod, VALUE key, VALUE num, VALUE s) {
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array k = mlxrb_get(key);
  if (NIL_P(num)) {
    mlx_array *s1, *s2;
    VALUE o1 = mlxrb_new_result(&s1), o2 = mlxrb_new_result(&s2);
    mlxrb_check(mlx_random_split(s1, s2, k, st));
    return rb_assoc_new(mlxrb_result_ready(o1), mlxrb_result_ready(o2));
  }
  int n = mlxrb_to_int(num);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_split_num(slot, k, n, st));
  return mlxrb_result_ready(out);
}

static VALUE n_bits(VALUE mod, VALUE shape, VALUE width, VALUE key, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  int w = mlxrb_to_int(width);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array k = key_of(key);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_bits(slot, sh, nd, w, k, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

typedef int (*bounded_sampler)(mlx_array*, const mlx_array, const mlx_array, const int64_t*, int, mlx_dtype,
                               const mlx_array, const mlx_stream);

/* The samplers drawn between low and high (uniform, randint):
 * (low, high, shape, dtype, key, stream). */
static VALUE bounded(int argc, VALUE* argv, bounded_sampler sample) {
  rb_check_arity(argc, 6, 6);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(argv[2], &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(argv[3]);
  mlx_array k = key_of(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[5]);
  VALUE lo = mlxrb_to_array_value(argv[0], 0, MLX_FLOAT32);
  VALUE hi = mlxrb_to_array_value(argv[1], 0, MLX_FLOAT32);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(sample(slot, mlxrb_get(lo), mlxrb_get(hi), sh, nd, t, k, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(lo);
  RB_GC_GUARD(hi);
  return mlxrb_result_ready(out);
}

/* Native.uniform(low, high, shape, dtype, key, stream) */
static VALUE n_uniform(int argc, VALUE* argv, VALUE mod) {
  return bounded(argc, argv, mlx_random_uniform);
}

/* Native.normal(shape, dtype, loc, scale, key, stream): loc and scale are
 * Floats (lib/ handles array-valued ones). */
static VALUE n_normal(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 6, 6);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(argv[0], &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(argv[1]);
  double loc = NUM2DBL(argv[2]), scale = NUM2DBL(argv[3]);
  mlx_array k = key_of(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[5]);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_normal(slot, sh, nd, t, loc, scale, k, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

/* Native.randint(low, high, shape, dtype, key, stream) */
static VALUE n_randint(int argc, VALUE* argv, VALUE mod) {
  return bounded(argc, argv, mlx_random_randint);
}

/* Native.bernoulli(p, shape_or_nil, key, stream): nil shape = p's shape. */
static VALUE n_bernoulli(VALUE mod, VALUE p, VALUE shape, VALUE key, VALUE s) {
  VALUE pv = mlxrb_to_array_value(p, 0, MLX_FLOAT32);
  mlx_array pa = mlxrb_get(pv);
  int nd;
  VALUE keep = Qnil;
  const int64_t* sh;
  if (NIL_P(shape)) {
    nd = mlx_array_ndim(pa);
    sh = mlx_array_shape(pa);
  } else {
    sh = mlxrb_shape(shape, &nd, &keep);
  }
  mlx_array k = key_of(key);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_bernoulli(slot, pa, sh, nd, k, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(pv);
  return mlxrb_result_ready(out);
}

/* Native.truncated_normal(lower, upper, shape_or_nil, dtype, key, stream):
 * nil shape = the bounds' broadcast shape. */
static VALUE n_truncated_normal(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 6, 6);
  int nd = -1;
  VALUE keep = Qnil;
  int64_t* sh = NIL_P(argv[2]) ? NULL : mlxrb_shape(argv[2], &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(argv[3]);
  mlx_array k = key_of(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[5]);
  VALUE lo = mlxrb_to_array_value(argv[0], 0, MLX_FLOAT32);
  VALUE hi = mlxrb_to_array_value(argv[1], 0, MLX_FLOAT32);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_truncated_normal(slot, mlxrb_get(lo), mlxrb_get(hi), sh, nd, t, k, st));
  RB_GC_GUARD(keep);
  RB_GC_GUARD(lo);
  RB_GC_GUARD(hi);
  return mlxrb_result_ready(out);
}

/* Native.gumbel(shape, dtype, key, stream) */
static VALUE n_gumbel(VALUE mod, VALUE shape, VALUE dtype, VALUE key, VALUE s) {
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(shape, &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(dtype);
  mlx_array k = key_of(key);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_gumbel(slot, sh, nd, t, k, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

/* Native.categorical(logits, axis, shape_or_num_samples, key, stream):
 * an Integer is a number of samples, an Array a shape, nil neither. */
static VALUE n_categorical(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 5, 5);
  int axis = mlxrb_to_int(argv[1]);
  mlx_array k = key_of(argv[3]);
  mlx_stream st = mlxrb_to_stream(argv[4]);
  VALUE lv = mlxrb_to_array_value(argv[0], 0, MLX_FLOAT32), keep = Qnil;
  mlx_array logits = mlxrb_get(lv);
  int nd = 0, num = 0, kind = 0;
  int64_t* sh = NULL;
  if (RB_INTEGER_TYPE_P(argv[2])) {
    num = mlxrb_to_int(argv[2]);
    kind = 1;
  } else if (!NIL_P(argv[2])) {
    sh = mlxrb_shape(argv[2], &nd, &keep);
    kind = 2;
  }
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  int rc = kind == 1   ? mlx_random_categorical_num_samples(slot, logits, axis, num, k, st)
           : kind == 2 ? mlx_random_categorical_shape(slot, logits, axis, sh, nd, k, st)
                       : mlx_random_categorical(slot, logits, axis, k, st);
  mlxrb_check(rc);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(lv);
  return mlxrb_result_ready(out);
}

/* Native.laplace(shape, dtype, loc, scale, key, stream) */
static VALUE n_laplace(int argc, VALUE* argv, VALUE mod) {
  rb_check_arity(argc, 6, 6);
  int nd;
  VALUE keep;
  int64_t* sh = mlxrb_shape(argv[0], &nd, &keep);
  mlx_dtype t = mlxrb_to_dtype(argv[1]);
  float loc = (float)NUM2DBL(argv[2]), scale = (float)NUM2DBL(argv[3]);
  mlx_array k = key_of(argv[4]);
  mlx_stream st = mlxrb_to_stream(argv[5]);
  mlx_array* slot;
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_laplace(slot, sh, nd, t, loc, scale, k, st));
  RB_GC_GUARD(keep);
  return mlxrb_result_ready(out);
}

/* Native.permutation(x, axis, key, stream): an Integer x permutes
 * 0...x. */
static VALUE n_permutation(VALUE mod, VALUE x, VALUE axis, VALUE key, VALUE s) {
  int ax = mlxrb_to_int(axis);
  mlx_array k = key_of(key);
  mlx_stream st = mlxrb_to_stream(s);
  mlx_array* slot;
  if (RB_INTEGER_TYPE_P(x)) {
    int n = mlxrb_to_int(x);
    VALUE out = mlxrb_new_result(&slot);
    mlxrb_check(mlx_random_permutation_arange(slot, n, k, st));
    return mlxrb_result_ready(out);
  }
  VALUE xv = mlxrb_to_array_value(x, 0, MLX_FLOAT32);
  VALUE out = mlxrb_new_result(&slot);
  mlxrb_check(mlx_random_permutation(slot, mlxrb_get(xv), ax, k, st));
  RB_GC_GUARD(xv);
  return mlxrb_result_ready(out);
}

void mlxrb_init_random(void) {
  MLXRB_DEF("random_seed", n_seed, 1);
  MLXRB_DEF("key", n_key, 1);
  MLXRB_DEF("random_split", n_split, 3);
  MLXRB_DEF("random_bits", n_bits, 4);
  MLXRB_DEF("uniform", n_uniform, -1);
  MLXRB_DEF("normal", n_normal, -1);
  MLXRB_DEF("randint", n_randint, -1);
  MLXRB_DEF("bernoulli", n_bernoulli, 4);
  MLXRB_DEF("truncated_normal", n_truncated_normal, -1);
  MLXRB_DEF("gumbel", n_gumbel, 4);
  MLXRB_DEF("categorical", n_categorical, -1);
  MLXRB_DEF("laplace", n_laplace, -1);
  MLXRB_DEF("permutation", n_permutation, 4);
}
