/* Random family tests. Expected values were printed once with Python MLX
 * 0.32.4 (mx.random.key / split / uniform / normal / randint / bernoulli)
 * and pasted here; floats are compared as exact bit patterns. Raw bits of
 * widths 1 and 2 and of odd sizes, which Python does not expose, come from
 * a Python model of upstream's RandomBits::eval_cpu that reproduces
 * mx.random.split and mx.random.uniform bit for bit. */
#include "harness.h"

static mlx_array key_of(uint64_t seed) {
  mlx_array k = mlx_array_new();
  if (mlx_random_key(&k, seed)) fprintf(stderr, "key: %s\n", mlx_last_error());
  return k;
}

/* Checks that the integer array a holds exactly the n values e. */
static void check_u(int line, mlx_array a, const uint64_t* e, size_t n) {
  uint64_t got[64];
  mlx_array c = mlx_array_new();
  harness_checks++;
  if (n > 64 || mlx_astype(&c, a, MLX_UINT64, S) || mlx_array_size(c) != (int64_t)n ||
      mlx_array_copy_to(got, sizeof got, c)) {
    harness_failures++;
    fprintf(stderr, "%s:%d: cannot read %zu values (%s)\n", __FILE__, line, n, mlx_last_error());
  } else {
    for (size_t i = 0; i < n; i++) {
      if (got[i] != e[i]) {
        harness_failures++;
        fprintf(stderr, "%s:%d: element %zu: got %llu expected %llu\n", __FILE__, line, i,
                (unsigned long long)got[i], (unsigned long long)e[i]);
        break;
      }
    }
  }
  mlx_array_free(c);
}
#define CHECK_U(a, e) check_u(__LINE__, (a), (e), sizeof(e) / sizeof((e)[0]))

TEST(key) {
  mlx_array k = key_of(0x10000000005ull);
  static const uint64_t e[] = {256u, 5u};
  CHECK(mlx_array_dtype(k) == MLX_UINT32);
  CHECK(mlx_array_ndim(k) == 1 && mlx_array_dim(k, 0) == 2);
  CHECK_U(k, e);
  mlx_array_free(k);
}

TEST(split) {
  mlx_array k = key_of(0), a = mlx_array_new(), b = mlx_array_new(), m = mlx_array_new();
  /* mx.random.split(mx.random.key(0)) */
  static const uint64_t e2a[] = {4146024105u, 967050713u}, e2b[] = {2718843009u, 1272950319u};
  CHECK_OK(mlx_random_split(&a, &b, k, S));
  CHECK(mlx_array_ndim(a) == 1 && mlx_array_dim(a, 0) == 2 && mlx_array_dtype(a) == MLX_UINT32);
  CHECK_U(a, e2a);
  CHECK_U(b, e2b);
  /* mx.random.split(mx.random.key(0), 3) */
  static const uint64_t e3[] = {2467461003u, 428148500u, 3186719485u, 3840466878u, 2562233961u, 1946702221u};
  CHECK_OK(mlx_random_split_num(&m, k, 3, S));
  CHECK(mlx_array_ndim(m) == 2 && mlx_array_dim(m, 0) == 3 && mlx_array_dim(m, 1) == 2);
  CHECK_U(m, e3);
  /* split(key, 2) agrees with the pair form. */
  static const uint64_t e22[] = {4146024105u, 967050713u, 2718843009u, 1272950319u};
  CHECK_OK(mlx_random_split_num(&m, k, 2, S));
  CHECK_U(m, e22);
  /* mx.random.split(mx.random.key(42), 1) */
  mlx_array k42 = key_of(42);
  static const uint64_t e1[] = {64467757u, 2916123636u};
  CHECK_OK(mlx_random_split_num(&m, k42, 1, S));
  CHECK_U(m, e1);
  CHECK_OK(mlx_random_split_num(&m, k42, 0, S));
  CHECK(mlx_array_size(m) == 0 && mlx_array_dim(m, 1) == 2);
  CHECK_ERR(mlx_random_split_num(&m, k42, -1, S), MLX_ERROR_ARGUMENT);
  /* Splitting a lazily split key chains without evaluating. */
  mlx_array c = mlx_array_new(), d = mlx_array_new();
  CHECK_OK(mlx_random_split(&a, &b, k, S));
  CHECK_OK(mlx_random_split(&c, &d, b, S));
  static const uint64_t chained[] = {2718843009u, 1272950319u};
  CHECK_U(b, chained);
  CHECK(!mlx_array_is_evaluated(c));
  mlx_array_free(c);
  mlx_array_free(d);
  mlx_array_free(k42);
  mlx_array_free(k);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(m);
}

/* bits(shape (n,), width) under key(42). */
static void check_bits(int line, int64_t n, int width, const uint64_t* e) {
  mlx_array k = key_of(42), r = mlx_array_new();
  int64_t shape[1] = {n};
  int rc = mlx_random_bits(&r, shape, 1, width, k, S);
  harness_checks++;
  if (rc) {
    harness_failures++;
    fprintf(stderr, "%s:%d: bits failed: %s\n", __FILE__, line, mlx_last_error());
  } else {
    mlx_dtype want = width == 1 ? MLX_UINT8 : width == 2 ? MLX_UINT16 : MLX_UINT32;
    harness_checks++;
    if (mlx_array_dtype(r) != want) harness_failures++;
    check_u(line, r, e, (size_t)n);
  }
  mlx_array_free(k);
  mlx_array_free(r);
}

TEST(bits_layout) {
  /* Even and odd word counts, and the byte tails of narrow widths. */
  static const uint64_t w4n1[] = {1832780943u};
  static const uint64_t w4n5[] = {3134548294u, 3733159049u, 843694964u, 894150801u, 801545058u};
  static const uint64_t w4n6[] = {3134548294u, 3733159049u, 3746501087u, 894150801u, 801545058u, 2363201431u};
  static const uint64_t w1n1[] = {143u}, w1n2[] = {143u, 4u}, w1n3[] = {143u, 4u, 62u}, w1n4[] = {143u, 4u, 62u, 109u};
  static const uint64_t w1n5[] = {45u, 179u, 215u, 3u, 244u};
  static const uint64_t w1n7[] = {45u, 179u, 215u, 3u, 244u, 131u, 208u};
  static const uint64_t w1n9[] = {234u, 32u, 251u, 146u, 111u, 248u, 163u, 25u, 19u};
  static const uint64_t w2n3[] = {45869u, 983u, 33780u}, w2n4[] = {45869u, 983u, 33780u, 44496u};
  static const uint64_t w2n5[] = {8426u, 37627u, 63599u, 6563u, 55571u};
  check_bits(__LINE__, 1, 4, w4n1);
  check_bits(__LINE__, 5, 4, w4n5);
  check_bits(__LINE__, 6, 4, w4n6);
  check_bits(__LINE__, 1, 1, w1n1);
  check_bits(__LINE__, 2, 1, w1n2);
  check_bits(__LINE__, 3, 1, w1n3);
  check_bits(__LINE__, 4, 1, w1n4);
  check_bits(__LINE__, 5, 1, w1n5);
  check_bits(__LINE__, 7, 1, w1n7);
  check_bits(__LINE__, 9, 1, w1n9);
  check_bits(__LINE__, 3, 2, w2n3);
  check_bits(__LINE__, 4, 2, w2n4);
  check_bits(__LINE__, 5, 2, w2n5);
}

TEST(bits_shapes_and_errors) {
  mlx_array k = key_of(42), r = mlx_array_new();
  /* A 2-d shape is the same stream as the flat one. */
  int64_t shape[2] = {2, 3};
  static const uint64_t w4n6[] = {3134548294u, 3733159049u, 3746501087u, 894150801u, 801545058u, 2363201431u};
  CHECK_OK(mlx_random_bits(&r, shape, 2, 4, k, S));
  CHECK(mlx_array_ndim(r) == 2);
  CHECK_U(r, w4n6);
  /* 0-d: one word. */
  static const uint64_t w4n1[] = {1832780943u};
  CHECK_OK(mlx_random_bits(&r, NULL, 0, 4, k, S));
  CHECK(mlx_array_ndim(r) == 0);
  CHECK_U(r, w4n1);
  /* Empty. */
  int64_t empty[2] = {3, 0};
  CHECK_OK(mlx_random_bits(&r, empty, 2, 2, k, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  int64_t neg[1] = {-1};
  CHECK_ERR(mlx_random_bits(&r, neg, 1, 4, k, S), MLX_ERROR_ARGUMENT);
  int64_t huge[2] = {1ll << 31, 1ll << 31};
  CHECK_ERR(mlx_random_bits(&r, huge, 2, 4, k, S), MLX_ERROR_MEMORY);
  CHECK_ERR(mlx_random_bits(&r, shape, 2, 3, k, S), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_random_bits(&r, shape, 2, 8, k, S), MLX_ERROR_ARGUMENT);
  /* Keys must be uint32 of shape (2). */
  mlx_array bad = mlx_array_new();
  CHECK_OK(mlx_astype(&bad, k, MLX_INT32, S));
  CHECK_ERR(mlx_random_bits(&r, shape, 2, 4, bad, S), MLX_ERROR_DTYPE);
  uint32_t three[3] = {1, 2, 3};
  int64_t s3[1] = {3};
  CHECK_OK(mlx_array_new_data(&bad, three, s3, 1, MLX_UINT32));
  CHECK_ERR(mlx_random_bits(&r, shape, 2, 4, bad, S), MLX_ERROR_SHAPE);
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  CHECK_ERR(mlx_random_split(&a, &b, bad, S), MLX_ERROR_SHAPE);
  CHECK(a.ctx == NULL && b.ctx == NULL);
  mlx_array_free(bad);
  mlx_array_free(k);
  mlx_array_free(r);
}

/* A large output fills its word pairs on the thread pool. Words at the
 * ends of both halves (and one in the middle) of bits(2^20) under key(7)
 * come from the Python model of upstream's layout, which agrees with
 * mx.random.uniform(shape=(2**20,), key=mx.random.key(7)) there. */
TEST(bits_large) {
  mlx_array k = key_of(7), r = mlx_array_new(), r2 = mlx_array_new();
  int64_t n = 1 << 20, h = n / 2;
  int64_t shape[1] = {n};
  CHECK_OK(mlx_random_bits(&r, shape, 1, 4, k, S));
  uint32_t* v = malloc((size_t)n * 4);
  CHECK_OK(mlx_array_copy_to(v, (size_t)n * 4, r));
  const int64_t at[7] = {0, 1, h - 1, h, h + 1, n - 1, 300001};
  const uint32_t want[7] = {1661387094u, 3248347608u, 4043196016u, 1646586998u, 883684914u, 2309558213u, 1423123979u};
  for (int i = 0; i < 7; i++) CHECK(v[at[i]] == want[i]);
  /* Width 1 over 4n bytes is the byte view of the same word stream. */
  int64_t shape8[1] = {4 * n};
  CHECK_OK(mlx_random_bits(&r2, shape8, 1, 1, k, S));
  uint8_t* b = malloc((size_t)n * 4);
  CHECK_OK(mlx_array_copy_to(b, (size_t)n * 4, r2));
  CHECK(memcmp(v, b, (size_t)n * 4) == 0);
  free(v);
  free(b);
  mlx_array_free(k);
  mlx_array_free(r);
  mlx_array_free(r2);
}

/* A key that is a view (a row of split(key, 3), or a strided column of
 * split(key, 2)) hashes like the same key made from scratch. */
TEST(key_views) {
  mlx_array k = key_of(0), m = mlx_array_new(), row = mlx_array_new(), t = mlx_array_new(), r = mlx_array_new();
  mlx_array fresh = mlx_array_new(), want = mlx_array_new();
  CHECK_OK(mlx_random_split_num(&m, k, 3, S));
  int64_t start[2] = {1, 0}, stop[2] = {2, 2}, step[2] = {1, 1}, two[1] = {2}, shape[1] = {5};
  CHECK_OK(mlx_slice(&row, m, start, stop, step, 2, S));
  CHECK_OK(mlx_reshape(&row, row, two, 1, S));
  uint32_t kv[2] = {3186719485u, 3840466878u};
  CHECK_OK(mlx_array_new_data(&fresh, kv, two, 1, MLX_UINT32));
  CHECK_OK(mlx_random_bits(&want, shape, 1, 4, fresh, S));
  uint32_t x[5], y[5];
  CHECK_OK(mlx_array_copy_to(y, sizeof y, want));
  CHECK_OK(mlx_random_bits(&r, shape, 1, 4, row, S));
  CHECK_OK(mlx_array_copy_to(x, sizeof x, r));
  CHECK(memcmp(x, y, sizeof x) == 0);
  /* Column 0 of split(key, 2): elements 2 apart in memory. */
  int64_t cs[2] = {0, 0}, ce[2] = {2, 1};
  int ax[1] = {1};
  CHECK_OK(mlx_random_split_num(&m, k, 2, S));
  CHECK_OK(mlx_slice(&t, m, cs, ce, step, 2, S));
  CHECK_OK(mlx_squeeze_axes(&t, t, ax, 1, S));
  CHECK_OK(mlx_eval(&t, 1));
  CHECK(mlx_array_strides(t)[0] == 2);
  uint32_t kc[2] = {4146024105u, 2718843009u};
  CHECK_OK(mlx_array_new_data(&fresh, kc, two, 1, MLX_UINT32));
  CHECK_OK(mlx_random_bits(&want, shape, 1, 4, fresh, S));
  CHECK_OK(mlx_array_copy_to(y, sizeof y, want));
  CHECK_OK(mlx_random_bits(&r, shape, 1, 4, t, S));
  CHECK_OK(mlx_array_copy_to(x, sizeof x, r));
  CHECK(memcmp(x, y, sizeof x) == 0);
  mlx_array_free(k);
  mlx_array_free(m);
  mlx_array_free(row);
  mlx_array_free(t);
  mlx_array_free(r);
  mlx_array_free(fresh);
  mlx_array_free(want);
}

TEST(global_sequence_keys) {
  /* mx.random.seed(42) then next(): split(key(42)) keeps the first half
   * as the state and hands out the second. */
  CHECK_OK(mlx_random_seed(42));
  mlx_array r = mlx_array_new(), a = mlx_array_new(), b = mlx_array_new(), k = key_of(42);
  int64_t shape[1] = {3};
  CHECK_OK(mlx_random_bits(&r, shape, 1, 4, mlx_array_new(), S));
  /* The same as bits under the second half of split(key(42)). */
  CHECK_OK(mlx_random_split(&a, &b, k, S));
  mlx_array r2 = mlx_array_new();
  CHECK_OK(mlx_random_bits(&r2, shape, 1, 4, b, S));
  uint32_t x[3], y[3];
  CHECK_OK(mlx_array_copy_to(x, sizeof x, r));
  CHECK_OK(mlx_array_copy_to(y, sizeof y, r2));
  CHECK(memcmp(x, y, sizeof x) == 0);
  /* The next draw uses the second half of split(first half). */
  mlx_array c = mlx_array_new(), d = mlx_array_new();
  CHECK_OK(mlx_random_split(&c, &d, a, S));
  CHECK_OK(mlx_random_bits(&r, shape, 1, 4, mlx_array_new(), S));
  CHECK_OK(mlx_random_bits(&r2, shape, 1, 4, d, S));
  CHECK_OK(mlx_array_copy_to(x, sizeof x, r));
  CHECK_OK(mlx_array_copy_to(y, sizeof y, r2));
  CHECK(memcmp(x, y, sizeof x) == 0);
  mlx_array_free(c);
  mlx_array_free(d);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(k);
  mlx_array_free(r);
  mlx_array_free(r2);
}

/* ---- distributions --------------------------------------------------------- */

/* Checks the raw bytes of a, read as `word`-byte unsigned integers,
 * against e (floats compared bit for bit; complex as float pairs). */
static void check_raw(int line, mlx_array a, int word, const uint64_t* e, size_t n) {
  unsigned char buf[512];
  size_t nbytes = mlx_array_nbytes(a);
  harness_checks++;
  if (nbytes != n * (size_t)word || nbytes > sizeof buf || mlx_array_copy_to(buf, sizeof buf, a)) {
    harness_failures++;
    fprintf(stderr, "%s:%d: cannot read %zu words (%zu bytes): %s\n", __FILE__, line, n, nbytes, mlx_last_error());
    return;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t v = 0;
    memcpy(&v, buf + i * (size_t)word, (size_t)word); /* little-endian */
    if (v != e[i]) {
      harness_failures++;
      fprintf(stderr, "%s:%d: word %zu: got %llu expected %llu\n", __FILE__, line, i, (unsigned long long)v,
              (unsigned long long)e[i]);
      return;
    }
  }
}
#define CHECK_RAW(a, word, e) check_raw(__LINE__, (a), (word), (e), sizeof(e) / sizeof((e)[0]))

static mlx_array scalar_f32(double v) {
  mlx_array a = mlx_array_new();
  mlx_array_new_float(&a, v, MLX_FLOAT32);
  return a;
}

static mlx_array scalar_i32(int64_t v) {
  mlx_array a = mlx_array_new();
  mlx_array_new_int(&a, v, MLX_INT32);
  return a;
}

/* Values printed once with Python MLX 0.32.4, key(n) = mx.random.key(n):
 * floats as their bit patterns, integers as values (negative ones as
 * uint64 two's complement). */
/* U1: mx.random.uniform(shape=(5,), key=key(0)) */
static const uint64_t U1[] = {1058214520u, 1036789817u, 1053379662u, 1063577824u, 1058584726u};
/* U2: mx.random.uniform(-2.5, mx.array([1.0, 2.0, 3.0]), shape=(2, 3), key=key(1)) */
static const uint64_t U2[] = {1053870168u, 3219151940u, 1074315468u, 3196052272u, 1030844032u, 1063330652u};
/* U3: mx.random.uniform(shape=(4,), dtype=mx.float16, key=key(2))  (float16 bits) */
static const uint64_t U3[] = {14676u, 12784u, 14469u, 10975u};
/* U4: mx.random.uniform(shape=(4,), dtype=mx.bfloat16, key=key(2))  (bfloat16 bits) */
static const uint64_t U4[] = {16170u, 15934u, 16145u, 15708u};
/* U5: mx.random.uniform(mx.array(0), mx.array(10), shape=(4,), key=key(2)) */
static const uint64_t U5[] = {1087705960u, 1072526430u, 1085586435u, 1057582468u};
/* G1a: mx.random.seed(42); mx.random.uniform(shape=(5,)) */
static const uint64_t G1a[] = {1049918143u, 1062458936u, 1047174445u, 1049649000u, 1063167899u};
/* G1b: then mx.random.uniform(shape=(3,)) */
static const uint64_t G1b[] = {1061183100u, 1038324138u, 1062469309u};
/* N1: mx.random.normal(shape=(6,), key=key(0)) */
static const uint64_t N1[] = {1044404792u, 3215213710u, 1059471431u, 1067442482u, 1048204889u, 3186657618u};
/* N2: mx.random.normal(shape=(2, 2), loc=1.5, scale=0.3, key=key(5)) */
static const uint64_t N2[] = {1072018228u, 1066646762u, 1069010674u, 1072606717u};
/* N3: mx.random.normal(shape=(4,), dtype=mx.float16, key=key(3)) */
static const uint64_t N3[] = {47536u, 49298u, 13392u, 46804u};
/* N4: mx.random.normal(shape=(4,), dtype=mx.bfloat16, scale=2.0, key=key(3)) */
static const uint64_t N4[] = {49078u, 49298u, 16138u, 48986u};
/* N5: mx.random.normal(shape=(3,), dtype=mx.float64, key=key(4)) */
static const uint64_t N5[] = {4598591622227127245u, 4612136937379171086u, 4603426541525917316u};
/* N6: mx.random.normal(shape=(3,), dtype=mx.complex64, loc=1.0, scale=2.0, key=key(3))  (float32 pairs) */
static const uint64_t N6[] = {3190621232u, 3202677971u, 1062614292u, 1067072306u, 1070162454u, 1067899344u};
/* N7: mx.random.normal(shape=(3,), dtype=mx.float64, loc=0.5, scale=1.7, key=key(4)) */
static const uint64_t N7[] = {4606860821135485038u, 4616460309173089842u, 4609394242669876925u};
/* N8: v = 1 + 2**-11 + 2**-40; mx.random.normal(shape=(4,), dtype=mx.float16, loc=v, scale=v, key=key(6)) */
static const uint64_t N8[] = {45152u, 45608u, 10608u, 12640u};
/* G2: mx.random.seed(7); mx.random.normal(shape=(3,)) */
static const uint64_t G2[] = {3216363422u, 3211775003u, 1064760571u};
/* R1: mx.random.randint(-50, 37, shape=(8,), key=key(11)) */
static const uint64_t R1[] = {35u, (uint64_t)-20, 7u, 35u, (uint64_t)-15, (uint64_t)-7, (uint64_t)-28, (uint64_t)-2};
/* R2: mx.random.randint(0, 300, shape=(6,), dtype=mx.uint8, key=key(11)) */
static const uint64_t R2[] = {43u, 43u, 43u, 43u, 43u, 43u};
/* R3: mx.random.randint(0, 2, shape=(5,), dtype=mx.bool_, key=key(11)) */
static const uint64_t R3[] = {1u, 1u, 0u, 1u, 0u};
/* R4: mx.random.randint(-3, 3, shape=(6,), dtype=mx.int8, key=key(11)) */
static const uint64_t R4[] = {1u, 2u, (uint64_t)-2, 0u, (uint64_t)-2, (uint64_t)-2};
/* R5: mx.random.randint(-100000, 100000, shape=(4,), dtype=mx.int64, key=key(11)) */
static const uint64_t R5[] = {61483u, (uint64_t)-88796, (uint64_t)-8953, (uint64_t)-92298};
/* R6: mx.random.randint(0, 1000, shape=(4,), dtype=mx.uint64, key=key(12)) */
static const uint64_t R6[] = {94u, 239u, 574u, 137u};
/* R7: mx.random.randint(mx.array([0, 10, 100]), mx.array([5, 20, 1000]), shape=(2, 3), key=key(13)) */
static const uint64_t R7[] = {0u, 17u, 887u, 4u, 19u, 431u};
/* R8: mx.random.randint(mx.array(-1.5), mx.array(4.5), shape=(6,), key=key(14)) */
static const uint64_t R8[] = {3u, 3u, (uint64_t)-1, 3u, 2u, 3u};
/* G3: mx.random.seed(3); mx.random.randint(0, 10, shape=(5,)) */
static const uint64_t G3[] = {8u, 2u, 3u, 5u, 0u};
/* B1: mx.random.bernoulli(0.3, shape=(10,), key=key(9)) */
static const uint64_t B1[] = {0u, 1u, 0u, 0u, 1u, 0u, 0u, 0u, 0u, 0u};
/* B2: mx.random.bernoulli(mx.array([0.0, 0.5, 1.0, 0.25]), key=key(9)) */
static const uint64_t B2[] = {0u, 0u, 1u, 0u};
/* B3: mx.random.bernoulli(mx.array([0.1, 0.9], dtype=mx.float16), shape=(3, 2), key=key(10)) */
static const uint64_t B3[] = {0u, 1u, 1u, 1u, 0u, 1u};
/* G4: mx.random.seed(1); mx.random.bernoulli(0.5, shape=(8,)) */
static const uint64_t G4[] = {0u, 0u, 0u, 0u, 0u, 1u, 0u, 1u};

TEST(uniform) {
  mlx_array r = mlx_array_new(), k = mlx_array_new(), lo = scalar_f32(0), hi = scalar_f32(1);
  int64_t s5[1] = {5}, s23[2] = {2, 3}, s4[1] = {4};
  /* mx.random.uniform(shape=(5,), key=key(0)) */
  k = key_of(0);
  CHECK_OK(mlx_random_uniform(&r, lo, hi, s5, 1, MLX_FLOAT32, k, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT32);
  CHECK_RAW(r, 4, U1);
  /* mx.random.uniform(-2.5, mx.array([1.0, 2.0, 3.0]), shape=(2, 3), key=key(1)) */
  mlx_array lo2 = scalar_f32(-2.5), hi2 = mlx_array_new(), k1 = key_of(1);
  const float hv[3] = {1, 2, 3};
  int64_t s3[1] = {3};
  CHECK_OK(mlx_array_new_data(&hi2, hv, s3, 1, MLX_FLOAT32));
  CHECK_OK(mlx_random_uniform(&r, lo2, hi2, s23, 2, MLX_FLOAT32, k1, S));
  CHECK_RAW(r, 4, U2);
  /* dtype float16 / bfloat16, shape (4,), key(2) */
  mlx_array k2 = key_of(2);
  CHECK_OK(mlx_random_uniform(&r, lo, hi, s4, 1, MLX_FLOAT16, k2, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT16);
  CHECK_RAW(r, 2, U3);
  CHECK_OK(mlx_random_uniform(&r, lo, hi, s4, 1, MLX_BFLOAT16, k2, S));
  CHECK(mlx_array_dtype(r) == MLX_BFLOAT16);
  CHECK_RAW(r, 2, U4);
  /* Integer bounds: mx.random.uniform(mx.array(0), mx.array(10), (4,), key=key(2)) */
  mlx_array ilo = scalar_i32(0), ihi = scalar_i32(10);
  CHECK_OK(mlx_random_uniform(&r, ilo, ihi, s4, 1, MLX_FLOAT32, k2, S));
  CHECK_RAW(r, 4, U5);
  /* Errors: non-floating or float64 dtype, bounds that do not broadcast
   * to the shape, a bad key. */
  CHECK_ERR(mlx_random_uniform(&r, lo, hi, s4, 1, MLX_INT32, k, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_uniform(&r, lo, hi, s4, 1, MLX_FLOAT64, k, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_uniform(&r, lo2, hi2, s4, 1, MLX_FLOAT32, k, S), MLX_ERROR_SHAPE);
  int64_t s13[2] = {1, 3};
  CHECK_ERR(mlx_random_uniform(&r, lo2, hi2, s13 + 1, 0, MLX_FLOAT32, k, S), MLX_ERROR_SHAPE);
  CHECK_ERR(mlx_random_uniform(&r, lo, hi, s4, 1, MLX_FLOAT32, lo, S), MLX_ERROR_DTYPE);
  int64_t neg[1] = {-1};
  CHECK_ERR(mlx_random_uniform(&r, lo, hi, neg, 1, MLX_FLOAT32, k, S), MLX_ERROR_ARGUMENT);
  /* Empty and 0-d outputs. */
  int64_t e0[2] = {0, 4};
  CHECK_OK(mlx_random_uniform(&r, lo, hi, e0, 2, MLX_FLOAT32, k, S));
  CHECK_OK(mlx_eval(&r, 1));
  CHECK(mlx_array_size(r) == 0);
  CHECK_OK(mlx_random_uniform(&r, lo, hi, NULL, 0, MLX_FLOAT32, k, S));
  double x;
  CHECK_OK(mlx_array_item_float64(&x, r));
  CHECK(x >= 0 && x < 1);
  /* Large: every value in [low, high), mean near the middle. */
  int64_t big[1] = {1 << 18};
  CHECK_OK(mlx_random_uniform(&r, lo2, hi, big, 1, MLX_FLOAT32, k, S));
  float* v = malloc(sizeof(float) << 18);
  CHECK_OK(mlx_array_copy_to(v, sizeof(float) << 18, r));
  double mean = 0;
  int in_range = 1;
  for (int i = 0; i < 1 << 18; i++) {
    mean += v[i];
    in_range &= v[i] >= -2.5f && v[i] < 1.0f;
  }
  CHECK(in_range);
  CHECK(fabs(mean / (1 << 18) + 0.75) < 0.01);
  free(v);
  mlx_array arrs[] = {r, k, lo, hi, lo2, hi2, k1, k2, ilo, ihi};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

TEST(uniform_global) {
  /* mx.random.seed(42); mx.random.uniform(shape=(5,)); then (3,) */
  mlx_array r = mlx_array_new(), lo = scalar_f32(0), hi = scalar_f32(1), none = mlx_array_new();
  int64_t s5[1] = {5}, s3[1] = {3};
  CHECK_OK(mlx_random_seed(42));
  CHECK_OK(mlx_random_uniform(&r, lo, hi, s5, 1, MLX_FLOAT32, none, S));
  CHECK_RAW(r, 4, G1a);
  CHECK_OK(mlx_random_uniform(&r, lo, hi, s3, 1, MLX_FLOAT32, none, S));
  CHECK_RAW(r, 4, G1b);
  mlx_array_free(r);
  mlx_array_free(lo);
  mlx_array_free(hi);
}

TEST(normal) {
  mlx_array r = mlx_array_new(), none = mlx_array_new();
  mlx_array k0 = key_of(0), k3 = key_of(3), k4 = key_of(4), k5 = key_of(5);
  int64_t s6[1] = {6}, s22[2] = {2, 2}, s4[1] = {4}, s3[1] = {3};
  /* mx.random.normal(shape=(6,), key=key(0)) */
  CHECK_OK(mlx_random_normal(&r, s6, 1, MLX_FLOAT32, 0, 1, k0, S));
  CHECK_RAW(r, 4, N1);
  /* mx.random.normal(shape=(2, 2), loc=1.5, scale=0.3, key=key(5)) */
  CHECK_OK(mlx_random_normal(&r, s22, 2, MLX_FLOAT32, 1.5f, 0.3f, k5, S));
  CHECK_RAW(r, 4, N2);
  /* float16; bfloat16 with scale=2.0 (key(3)); float64 (key(4)) */
  CHECK_OK(mlx_random_normal(&r, s4, 1, MLX_FLOAT16, 0, 1, k3, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT16);
  CHECK_RAW(r, 2, N3);
  CHECK_OK(mlx_random_normal(&r, s4, 1, MLX_BFLOAT16, 0, 2, k3, S));
  CHECK(mlx_array_dtype(r) == MLX_BFLOAT16);
  CHECK_RAW(r, 2, N4);
  CHECK_OK(mlx_random_normal(&r, s3, 1, MLX_FLOAT64, 0, 1, k4, S));
  CHECK(mlx_array_dtype(r) == MLX_FLOAT64);
  CHECK_RAW(r, 8, N5);
  /* float64 keeps loc and scale as doubles; float16 rounds them through
   * float32 (tie becomes 1, not 1 + 2^-10). */
  mlx_array k6 = key_of(6);
  CHECK_OK(mlx_random_normal(&r, s3, 1, MLX_FLOAT64, 0.5, 1.7, k4, S));
  CHECK_RAW(r, 8, N7);
  const double tie = 1 + ldexp(1, -11) + ldexp(1, -40);
  CHECK_OK(mlx_random_normal(&r, s4, 1, MLX_FLOAT16, tie, tie, k6, S));
  CHECK_RAW(r, 2, N8);
  mlx_array_free(k6);
  /* complex64, loc=1.0, scale=2.0, key(3): real/imaginary float32 pairs */
  CHECK_OK(mlx_random_normal(&r, s3, 1, MLX_COMPLEX64, 1, 2, k3, S));
  CHECK(mlx_array_dtype(r) == MLX_COMPLEX64 && mlx_array_ndim(r) == 1);
  CHECK_RAW(r, 4, N6);
  /* mx.random.seed(7); mx.random.normal(shape=(3,)) */
  CHECK_OK(mlx_random_seed(7));
  CHECK_OK(mlx_random_normal(&r, s3, 1, MLX_FLOAT32, 0, 1, none, S));
  CHECK_RAW(r, 4, G2);
  CHECK_ERR(mlx_random_normal(&r, s3, 1, MLX_INT32, 0, 1, k0, S), MLX_ERROR_DTYPE);
  /* Many samples: mean ~ loc, standard deviation ~ scale. */
  int64_t big[1] = {1 << 18};
  CHECK_OK(mlx_random_normal(&r, big, 1, MLX_FLOAT32, 2.0f, 3.0f, k0, S));
  float* v = malloc(sizeof(float) << 18);
  CHECK_OK(mlx_array_copy_to(v, sizeof(float) << 18, r));
  double m = 0, m2 = 0;
  for (int i = 0; i < 1 << 18; i++) m += v[i], m2 += (double)v[i] * v[i];
  m /= 1 << 18;
  m2 = sqrt(m2 / (1 << 18) - m * m);
  CHECK(fabs(m - 2) < 0.03 && fabs(m2 - 3) < 0.03);
  free(v);
  mlx_array arrs[] = {r, k0, k3, k4, k5};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

TEST(randint) {
  mlx_array r = mlx_array_new(), none = mlx_array_new(), lo = mlx_array_new(), hi = mlx_array_new();
  mlx_array k11 = key_of(11), k12 = key_of(12), k13 = key_of(13), k14 = key_of(14);
  int64_t s8[1] = {8}, s6[1] = {6}, s5[1] = {5}, s4[1] = {4}, s23[2] = {2, 3};
#define BOUNDS(l, h)               \
  do {                             \
    mlx_array_free(lo);            \
    mlx_array_free(hi);            \
    lo = scalar_i32(l);            \
    hi = scalar_i32(h);            \
  } while (0)
  /* mx.random.randint(-50, 37, shape=(8,), key=key(11)) */
  BOUNDS(-50, 37);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s8, 1, MLX_INT32, k11, S));
  CHECK(mlx_array_dtype(r) == MLX_INT32);
  CHECK_U(r, R1);
  /* (0, 300) as uint8: the bounds wrap to uint8 first, as upstream does. */
  BOUNDS(0, 300);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s6, 1, MLX_UINT8, k11, S));
  CHECK_U(r, R2);
  BOUNDS(0, 2);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s5, 1, MLX_BOOL, k11, S));
  CHECK(mlx_array_dtype(r) == MLX_BOOL);
  CHECK_U(r, R3);
  BOUNDS(-3, 3);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s6, 1, MLX_INT8, k11, S));
  CHECK_U(r, R4);
  BOUNDS(-100000, 100000);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s4, 1, MLX_INT64, k11, S));
  CHECK_U(r, R5);
  BOUNDS(0, 1000);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s4, 1, MLX_UINT64, k12, S));
  CHECK_U(r, R6);
  /* Array bounds broadcast to (2, 3): low [0, 10, 100], high [5, 20, 1000] */
  int32_t lv[3] = {0, 10, 100}, hv[3] = {5, 20, 1000};
  int64_t s3[1] = {3};
  CHECK_OK(mlx_array_new_data(&lo, lv, s3, 1, MLX_INT32));
  CHECK_OK(mlx_array_new_data(&hi, hv, s3, 1, MLX_INT32));
  CHECK_OK(mlx_random_randint(&r, lo, hi, s23, 2, MLX_INT32, k13, S));
  CHECK_U(r, R7);
  /* Float bounds: mx.random.randint(mx.array(-1.5), mx.array(4.5), (6,), key=key(14)) */
  mlx_array_free(lo);
  mlx_array_free(hi);
  lo = scalar_f32(-1.5);
  hi = scalar_f32(4.5);
  CHECK_OK(mlx_random_randint(&r, lo, hi, s6, 1, MLX_INT32, k14, S));
  CHECK_U(r, R8);
  /* mx.random.seed(3); mx.random.randint(0, 10, shape=(5,)) */
  BOUNDS(0, 10);
  CHECK_OK(mlx_random_seed(3));
  CHECK_OK(mlx_random_randint(&r, lo, hi, s5, 1, MLX_INT32, none, S));
  CHECK_U(r, G3);
  CHECK_ERR(mlx_random_randint(&r, lo, hi, s5, 1, MLX_FLOAT32, k11, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_randint(&r, lo, hi, s5, 1, MLX_COMPLEX64, k11, S), MLX_ERROR_DTYPE);
#undef BOUNDS
  mlx_array arrs[] = {r, lo, hi, k11, k12, k13, k14};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

TEST(bernoulli) {
  mlx_array r = mlx_array_new(), none = mlx_array_new(), p = scalar_f32(0.3);
  mlx_array k9 = key_of(9), k10 = key_of(10);
  int64_t s10[1] = {10}, s4[1] = {4}, s32[2] = {3, 2}, s8[1] = {8};
  /* mx.random.bernoulli(0.3, shape=(10,), key=key(9)) */
  CHECK_OK(mlx_random_bernoulli(&r, p, s10, 1, k9, S));
  CHECK(mlx_array_dtype(r) == MLX_BOOL);
  CHECK_U(r, B1);
  /* p = [0, 0.5, 1, 0.25] in p's own shape */
  const float pv[4] = {0, 0.5f, 1, 0.25f};
  mlx_array pa = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&pa, pv, s4, 1, MLX_FLOAT32));
  CHECK_OK(mlx_random_bernoulli(&r, pa, s4, 1, k9, S));
  CHECK_U(r, B2);
  /* float16 p = [0.1, 0.9] broadcast to (3, 2), key(10) */
  mlx_array ph = mlx_array_new();
  const float hv[2] = {0.1f, 0.9f};
  int64_t s2[1] = {2};
  CHECK_OK(mlx_array_new_data(&ph, hv, s2, 1, MLX_FLOAT32));
  CHECK_OK(mlx_astype(&ph, ph, MLX_FLOAT16, S));
  CHECK_OK(mlx_random_bernoulli(&r, ph, s32, 2, k10, S));
  CHECK_U(r, B3);
  /* mx.random.seed(1); mx.random.bernoulli(0.5, shape=(8,)) */
  mlx_array half = scalar_f32(0.5);
  CHECK_OK(mlx_random_seed(1));
  CHECK_OK(mlx_random_bernoulli(&r, half, s8, 1, none, S));
  CHECK_U(r, G4);
  /* Errors: integer p; p that does not broadcast to the shape. */
  mlx_array ip = scalar_i32(1);
  CHECK_ERR(mlx_random_bernoulli(&r, ip, s8, 1, k9, S), MLX_ERROR_DTYPE);
  CHECK(mlx_random_bernoulli(&r, pa, s8, 1, k9, S) == MLX_ERROR_SHAPE);
  int64_t s14[2] = {1, 4};
  CHECK_ERR(mlx_random_bernoulli(&r, pa, s14 + 1, 0, k9, S), MLX_ERROR_SHAPE);
  mlx_array arrs[] = {r, p, k9, k10, pa, ph, half, ip};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

/* ---- the derived distributions (ops/random_dist.c) -------------------------
 * Bit patterns printed once with Python MLX 0.32.4 from mx.random.key(42)
 * (truncated_normal, gumbel, categorical, laplace, permutation) and
 * pasted. */
/* TN_F32: mlx.core.float32 (7,) */ static const uint32_t TN_F32[7] = {1058438558u, 1053068369u, 3198296631u, 3176600445u, 1061712150u, 3196883462u, 3210682383u};
/* TN_F16: mlx.core.float16 (2, 3) */ static const uint16_t TN_F16[6] = {14531u, 15404u, 15527u, 46973u, 45578u, 14619u};
/* TN_BF16: mlx.core.bfloat16 (5,) */ static const uint16_t TN_BF16[5] = {15600u, 16009u, 49026u, 49020u, 49030u};
/* TN_NOSHAPE: mlx.core.float32 (2, 2) */ static const uint32_t TN_NOSHAPE[4] = {1040336500u, 1062246198u, 3209745173u, 1033431486u};
/* GUMBEL_F32: mlx.core.float32 (2, 5) */ static const uint32_t GUMBEL_F32[10] = {1062343928u, 3187487876u, 3204321610u, 1074229446u, 1071736895u, 3204467608u, 3179115187u, 3198400641u, 1061639705u, 1062992017u};
/* GUMBEL_F16: mlx.core.float16 (5,) */ static const uint16_t GUMBEL_F16[5] = {15520u, 16347u, 47052u, 46902u, 47141u};
/* GUMBEL_BF16: mlx.core.bfloat16 (5,) */ static const uint16_t GUMBEL_BF16[5] = {16276u, 16382u, 48889u, 48871u, 48901u};
/* CAT: mlx.core.uint32 (2,) */ static const uint32_t CAT[2] = {2u, 2u};
/* CAT_AX0: mlx.core.uint32 (3,) */ static const uint32_t CAT_AX0[3] = {1u, 0u, 0u};
/* CAT_N: mlx.core.uint32 (2, 6) */ static const uint32_t CAT_N[12] = {2u, 1u, 2u, 0u, 2u, 2u, 2u, 1u, 2u, 1u, 0u, 0u};
/* CAT_SHAPE: mlx.core.uint32 (4, 2) */ static const uint32_t CAT_SHAPE[8] = {2u, 2u, 2u, 2u, 2u, 0u, 2u, 1u};
/* LAP_F32: mlx.core.float32 (6,) */ static const uint32_t LAP_F32[6] = {3206386287u, 3215696472u, 3215898091u, 1063275819u, 1065110125u, 3185102427u};
/* LAP_F16: mlx.core.float16 (6,) */ static const uint16_t LAP_F16[6] = {15683u, 15460u, 15452u, 16141u, 16175u, 15839u};
/* LAP_BF16: mlx.core.bfloat16 (4,) */ static const uint16_t LAP_BF16[4] = {49065u, 49248u, 16464u, 16458u};
/* LAP_F64: mlx.core.float64 (3,) */ static const uint64_t LAP_F64[3] = {4580982651649138192u, 4617679824567751600u, 4619441050336285380u};
/* PERM: mlx.core.uint32 (10,) */ static const uint32_t PERM[10] = {5u, 2u, 7u, 1u, 6u, 8u, 0u, 9u, 4u, 3u};
/* PERM_AX1: mlx.core.int32 (3, 4) */ static const uint32_t PERM_AX1[12] = {2u, 3u, 0u, 1u, 6u, 7u, 4u, 5u, 10u, 11u, 8u, 9u};

/* Checks that a's raw bytes are the n elements of e (itemsize bytes each). */
static void check_dist_bits(int line, mlx_array a, const void* e, size_t n, size_t itemsize) {
  harness_checks++;
  unsigned char got[512];
  if (mlx_array_size(a) != (int64_t)n || n * itemsize > sizeof got || mlx_array_itemsize(a) != itemsize ||
      mlx_array_copy_to(got, n * itemsize, a)) {
    harness_failures++;
    fprintf(stderr, "%s:%d: cannot read %zu values (%s)\n", __FILE__, line, n, mlx_last_error());
    return;
  }
  if (memcmp(got, e, n * itemsize)) {
    harness_failures++;
    fprintf(stderr, "%s:%d: bits differ from Python MLX\n", __FILE__, line);
  }
}
#define CHECK_DIST_BITS(a, e) check_dist_bits(__LINE__, (a), (e), sizeof(e) / sizeof((e)[0]), sizeof((e)[0]))

static mlx_array fscalar(double v) {
  mlx_array a = mlx_array_new();
  mlx_array_new_float(&a, v, MLX_FLOAT32);
  return a;
}

TEST(truncated_normal) {
  mlx_array k = key_of(42), y = mlx_array_new(), lo = fscalar(-1.0), hi = fscalar(2.0);
  int64_t s7[1] = {7}, s23[2] = {2, 3}, s5[1] = {5}, s2[1] = {2}, s21[2] = {2, 1}, s3[1] = {3};
  CHECK_OK(mlx_random_truncated_normal(&y, lo, hi, s7, 1, MLX_FLOAT32, k, S));
  CHECK_DIST_BITS(y, TN_F32);
  float lv[3] = {-1.0f, -0.5f, 0.0f}, l2v[2] = {-1.0f, 0.0f}, u2v[2] = {1.0f, 2.0f};
  mlx_array lo3 = arr_f32(lv, s3, 1), hi15 = fscalar(1.5), lo2 = arr_f32(l2v, s2, 1), hi2 = arr_f32(u2v, s21, 2);
  CHECK_OK(mlx_random_truncated_normal(&y, lo3, hi15, s23, 2, MLX_FLOAT16, k, S));
  CHECK_DIST_BITS(y, TN_F16);
  mlx_array lob = fscalar(-2.0), hib = fscalar(0.5);
  CHECK_OK(mlx_random_truncated_normal(&y, lob, hib, s5, 1, MLX_BFLOAT16, k, S));
  CHECK_DIST_BITS(y, TN_BF16);
  /* No shape: the bounds' broadcast shape (2, 2). */
  CHECK_OK(mlx_random_truncated_normal(&y, lo2, hi2, NULL, -1, MLX_FLOAT32, k, S));
  CHECK(mlx_array_ndim(y) == 2 && mlx_array_dim(y, 0) == 2 && mlx_array_dim(y, 1) == 2);
  CHECK_DIST_BITS(y, TN_NOSHAPE);
  CHECK_ERR(mlx_random_truncated_normal(&y, lo, hi, s7, 1, MLX_INT32, k, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_truncated_normal(&y, lo, hi, s7, 1, MLX_FLOAT64, k, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_truncated_normal(&y, lo2, hi, s3, 1, MLX_FLOAT32, k, S), MLX_ERROR_SHAPE);
  mlx_array arrs[] = {k, y, lo, hi, lo3, hi15, lo2, hi2, lob, hib};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) mlx_array_free(arrs[i]);
}

TEST(gumbel) {
  mlx_array k = key_of(42), y = mlx_array_new();
  int64_t s25[2] = {2, 5}, s5[1] = {5};
  CHECK_OK(mlx_random_gumbel(&y, s25, 2, MLX_FLOAT32, k, S));
  CHECK_DIST_BITS(y, GUMBEL_F32);
  CHECK_OK(mlx_random_gumbel(&y, s5, 1, MLX_FLOAT16, k, S));
  CHECK_DIST_BITS(y, GUMBEL_F16);
  CHECK_OK(mlx_random_gumbel(&y, s5, 1, MLX_BFLOAT16, k, S));
  CHECK_DIST_BITS(y, GUMBEL_BF16);
  CHECK_ERR(mlx_random_gumbel(&y, s5, 1, MLX_INT32, k, S), MLX_ERROR_DTYPE);
  CHECK_ERR(mlx_random_gumbel(&y, s5, 1, MLX_FLOAT64, k, S), MLX_ERROR_DTYPE);
  int64_t neg[1] = {-1};
  CHECK_ERR(mlx_random_gumbel(&y, neg, 1, MLX_FLOAT32, k, S), MLX_ERROR_ARGUMENT);
  int64_t s0[1] = {0};
  CHECK_OK(mlx_random_gumbel(&y, s0, 1, MLX_FLOAT32, k, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0);
  mlx_array_free(k), mlx_array_free(y);
}

TEST(categorical) {
  mlx_array k = key_of(42), y = mlx_array_new(), p = mlx_array_new(), logits = mlx_array_new();
  float pv[6] = {0.1f, 0.2f, 0.7f, 0.5f, 0.25f, 0.25f};
  int64_t s23[2] = {2, 3}, s42[2] = {4, 2}, s3[1] = {3};
  p = arr_f32(pv, s23, 2);
  mlx_log(&logits, p, S);
  CHECK_OK(mlx_random_categorical(&y, logits, -1, k, S));
  CHECK(mlx_array_dtype(y) == MLX_UINT32);
  CHECK_DIST_BITS(y, CAT);
  CHECK_OK(mlx_random_categorical(&y, logits, 0, k, S));
  CHECK_DIST_BITS(y, CAT_AX0);
  CHECK_OK(mlx_random_categorical_num_samples(&y, logits, -1, 6, k, S));
  CHECK(mlx_array_dim(y, 0) == 2 && mlx_array_dim(y, 1) == 6);
  CHECK_DIST_BITS(y, CAT_N);
  CHECK_OK(mlx_random_categorical_shape(&y, logits, -1, s42, 2, k, S));
  CHECK_DIST_BITS(y, CAT_SHAPE);
  CHECK_ERR(mlx_random_categorical(&y, logits, 2, k, S), MLX_ERROR_INDEX);
  CHECK_ERR(mlx_random_categorical_shape(&y, logits, -1, s3, 1, k, S), MLX_ERROR_SHAPE);
  mlx_array_free(k), mlx_array_free(y), mlx_array_free(p), mlx_array_free(logits);
}

TEST(laplace) {
  mlx_array k = key_of(42), y = mlx_array_new();
  int64_t s6[1] = {6}, s4[1] = {4}, s3[1] = {3};
  CHECK_OK(mlx_random_laplace(&y, s6, 1, MLX_FLOAT32, 0.0f, 1.0f, k, S));
  CHECK_DIST_BITS(y, LAP_F32);
  CHECK_OK(mlx_random_laplace(&y, s6, 1, MLX_FLOAT16, 1.5f, 0.3f, k, S));
  CHECK_DIST_BITS(y, LAP_F16);
  CHECK_OK(mlx_random_laplace(&y, s4, 1, MLX_BFLOAT16, -1.0f, 2.0f, k, S));
  CHECK_DIST_BITS(y, LAP_BF16);
  CHECK_OK(mlx_random_laplace(&y, s3, 1, MLX_FLOAT64, 0.5f, 3.0f, k, S));
  CHECK_DIST_BITS(y, LAP_F64);
  CHECK_ERR(mlx_random_laplace(&y, s3, 1, MLX_INT32, 0.0f, 1.0f, k, S), MLX_ERROR_DTYPE);
  mlx_array_free(k), mlx_array_free(y);
}

TEST(permutation) {
  mlx_array k = key_of(42), y = mlx_array_new(), x = mlx_array_new(), x2 = mlx_array_new();
  CHECK_OK(mlx_random_permutation_arange(&y, 10, k, S));
  CHECK(mlx_array_dtype(y) == MLX_UINT32);
  CHECK_DIST_BITS(y, PERM);
  int64_t s34[2] = {3, 4};
  mlx_arange(&x, 0, 12, 1, MLX_INT32, S);
  mlx_reshape(&x2, x, s34, 2, S);
  CHECK_OK(mlx_random_permutation(&y, x2, 1, k, S));
  CHECK(mlx_array_dtype(y) == MLX_INT32);
  CHECK_DIST_BITS(y, PERM_AX1);
  CHECK_ERR(mlx_random_permutation(&y, x2, 2, k, S), MLX_ERROR_ARGUMENT);
  CHECK_OK(mlx_random_permutation_arange(&y, 0, k, S));
  CHECK_OK(mlx_eval(&y, 1));
  CHECK(mlx_array_size(y) == 0);
  /* A permutation of 1000 has every index once. */
  CHECK_OK(mlx_random_permutation_arange(&y, 1000, mlx_array_new(), S));
  uint32_t v[1000];
  int seen[1000] = {0}, ok = 1;
  CHECK_OK(mlx_array_copy_to(v, sizeof v, y));
  for (int i = 0; i < 1000; i++) ok &= v[i] < 1000 && !seen[v[i]]++;
  CHECK(ok);
  mlx_array_free(k), mlx_array_free(y), mlx_array_free(x), mlx_array_free(x2);
}

int main(void) {
  RUN(key);
  RUN(split);
  RUN(bits_layout);
  RUN(bits_shapes_and_errors);
  RUN(bits_large);
  RUN(key_views);
  RUN(global_sequence_keys);
  RUN(uniform);
  RUN(uniform_global);
  RUN(normal);
  RUN(randint);
  RUN(bernoulli);
  RUN(truncated_normal);
  RUN(gumbel);
  RUN(categorical);
  RUN(laplace);
  RUN(permutation);
  return harness_report();
}
