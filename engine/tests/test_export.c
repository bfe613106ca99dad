/* Export tests: export_to_dot text; .mlxfn export/import round trips
 * (positional and keyword arguments, constants, multi-output ops, several
 * traces, shapeless replay), call-time mismatches, functions that cannot
 * be exported, and a corrupted-file corpus (every truncation and byte
 * flips of an exported file) that must fail with MLX_ERROR_FILE. */
#include <unistd.h>

#include "harness.h"
#include "mlx/export.h"

static char tmpdir[256];

static const char* tmp_path(const char* name) {
  static char buf[4][512];
  static int slot;
  char* p = buf[slot++ % 4];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

TEST(dot) {
  float v[2] = {1, 2};
  int64_t sh[1] = {2};
  mlx_array a = arr_f32(v, sh, 1), e = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  CHECK_OK(mlx_exp(&e, a, S));
  CHECK_OK(mlx_add(&b, e, a, S));
  CHECK_OK(mlx_multiply(&c, b, b, S));
  mlx_array outs[2] = {c, b};
  char* text = NULL;
  size_t len = 0;
  CHECK_OK(mlx_export_to_dot(&text, &len, outs, 2));
  /* Names in order of appearance: A (a), B (exp), C (add), D (multiply). */
  const char* want =
      "digraph {\n"
      "{ rank=source; \"A\"; }\n"
      "{ 0 [label =\"Exp\", shape=rectangle]; }\n"
      "\"A\" -> 0\n"
      "{ \"B\"; }\n"
      "0 -> \"B\"\n"
      "{ 1 [label =\"Add\", shape=rectangle]; }\n"
      "\"B\" -> 1\n"
      "\"A\" -> 1\n"
      "{ rank=sink; \"C\"; }\n"
      "1 -> \"C\"\n"
      "{ 2 [label =\"Multiply\", shape=rectangle]; }\n"
      "\"C\" -> 2\n"
      "\"C\" -> 2\n"
      "{ rank=sink; \"D\"; }\n"
      "2 -> \"D\"\n"
      "}";
  CHECK(text && strcmp(text, want) == 0 && len == strlen(want));
  if (text && strcmp(text, want) != 0) fprintf(stderr, "got:\n%s\n", text);
  free(text);
  CHECK_ERR(mlx_export_to_dot(&text, &len, outs, 0), MLX_ERROR_ARGUMENT);
  /* A long chain: the walk does not recurse. */
  mlx_array x = mlx_array_new();
  CHECK_OK(mlx_array_set(&x, a));
  for (int i = 0; i < 100000; i++) CHECK_OK(mlx_exp(&x, x, S));
  CHECK_OK(mlx_export_to_dot(&text, &len, &x, 1));
  CHECK(len > 100000 * 20);
  free(text);
  mlx_array_free(x);
  mlx_array_free(a);
  mlx_array_free(e);
  mlx_array_free(b);
  mlx_array_free(c);
}

/* f(x, y, z=) = [exp(x) * y + z + k, sum(x) (when payload)] with a
 * closed-over k. */
static mlx_array K;

static int fun(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = mlx_array_new(), y = mlx_array_new(), z = mlx_array_new(), t = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_vector_array_get(&y, inputs, 1);
  if (!rc) rc = mlx_vector_array_get(&z, inputs, 2);
  if (!rc) rc = mlx_exp(&t, x, S);
  if (!rc) rc = mlx_multiply(&t, t, y, S);
  if (!rc) rc = mlx_add(&t, t, z, S);
  if (!rc) rc = mlx_add(&t, t, K, S);
  if (!rc) rc = mlx_vector_array_append(outputs, t);
  if (!rc && payload) {
    mlx_array s = mlx_array_new();
    rc = mlx_sum(&s, x, 0, S);
    if (!rc) rc = mlx_vector_array_append(outputs, s);
    mlx_array_free(s);
  }
  mlx_array_free(x);
  mlx_array_free(y);
  mlx_array_free(z);
  mlx_array_free(t);
  return rc;
}

static mlx_vector_array vec3(mlx_array a, mlx_array b, mlx_array c) {
  mlx_vector_array v = mlx_vector_array_new();
  mlx_vector_array_append(v, a);
  mlx_vector_array_append(v, b);
  mlx_vector_array_append(v, c);
  return v;
}

static double first(mlx_vector_array v, size_t i, int64_t k) {
  mlx_array a = mlx_array_new();
  double out[64] = {0};
  mlx_vector_array_get(&a, v, i);
  int64_t n = read_f64(out, 64, a);
  mlx_array_free(a);
  return n > k ? out[k] : NAN;
}

TEST(round_trip) {
  float kv[1] = {10}, xv[3] = {0, 1, 2}, yv[3] = {1, 2, 3}, zv[3] = {0.5f, 0.25f, 0};
  int64_t s1[1] = {1}, s3[1] = {3};
  K = arr_f32(kv, s1, 1);
  mlx_array x = arr_f32(xv, s3, 1), y = arr_f32(yv, s3, 1), z = arr_f32(zv, s3, 1);
  mlx_closure f = mlx_closure_new(fun, (void*)1, NULL);
  mlx_vector_array args = vec3(x, y, z), outs = mlx_vector_array_new();
  const char* kw[1] = {"z"};
  CHECK_OK(mlx_export_function(tmp_path("f"), f, args, kw, 1, 0));
  mlx_imported_function g = NULL;
  CHECK_OK(mlx_import_function(&g, tmp_path("f.mlxfn")));
  CHECK_OK(mlx_imported_function_call(outs, g, args, kw, 1));
  CHECK(mlx_vector_array_size(outs) == 2);
  for (int k = 0; k < 3; k++) CHECK(fabs(first(outs, 0, k) - (exp(xv[k]) * yv[k] + zv[k] + 10)) < 1e-4);
  CHECK(first(outs, 1, 0) == 3);
  /* Keyword names must match; shapes must match (not shapeless). */
  const char* bad_kw[1] = {"w"};
  mlx_vector_array_clear(outs);
  CHECK_ERR(mlx_imported_function_call(outs, g, args, bad_kw, 1), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_imported_function_call(outs, g, args, NULL, 0), MLX_ERROR_ARGUMENT);
  float x2v[2] = {1, 2};
  int64_t s2[1] = {2};
  mlx_array x2 = arr_f32(x2v, s2, 1);
  mlx_vector_array args2 = vec3(x2, x2, x2);
  CHECK_ERR(mlx_imported_function_call(outs, g, args2, kw, 1), MLX_ERROR_ARGUMENT);
  mlx_imported_function_free(g);
  /* Shapeless: elementwise ops (and sum) replay on other shapes. */
  CHECK_OK(mlx_export_function(tmp_path("s.mlxfn"), f, args, kw, 1, 1));
  CHECK_OK(mlx_import_function(&g, tmp_path("s.mlxfn")));
  mlx_vector_array_clear(outs);
  int rc = mlx_imported_function_call(outs, g, args2, kw, 1);
  CHECK(rc == MLX_OK || rc == MLX_ERROR_ARGUMENT); /* sum may lack a shape rule */
  if (rc == MLX_OK) CHECK(fabs(first(outs, 0, 1) - (exp(2.0) * 2 + 2 + 10)) < 1e-4);
  mlx_imported_function_free(g);
  /* An exporter with two traces. */
  mlx_function_exporter e = NULL;
  CHECK_OK(mlx_function_exporter_new(&e, tmp_path("m"), f, 0));
  CHECK_OK(mlx_function_exporter_add(e, args, kw, 1));
  CHECK_OK(mlx_function_exporter_add(e, args2, kw, 1));
  CHECK_OK(mlx_function_exporter_close(e));
  CHECK_ERR(mlx_function_exporter_add(e, args2, kw, 1), MLX_ERROR_ARGUMENT);
  mlx_function_exporter_free(e);
  CHECK_OK(mlx_import_function(&g, tmp_path("m.mlxfn")));
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_imported_function_call(outs, g, args2, kw, 1));
  CHECK(fabs(first(outs, 0, 0) - (exp(1.0) * 1 + 1 + 10)) < 1e-4);
  mlx_vector_array_clear(outs);
  CHECK_OK(mlx_imported_function_call(outs, g, args, kw, 1));
  CHECK(fabs(first(outs, 0, 2) - (exp(2.0) * 3 + 0 + 10)) < 1e-4);
  mlx_imported_function_free(g);
  mlx_vector_array_free(args);
  mlx_vector_array_free(args2);
  mlx_vector_array_free(outs);
  mlx_closure_free(f);
  mlx_array_free(x);
  mlx_array_free(y);
  mlx_array_free(z);
  mlx_array_free(x2);
  mlx_array_free(K);
}

static int split_fun(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = mlx_array_new(), parts[2] = {mlx_array_new(), mlx_array_new()};
  int64_t idx[1] = {1};
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_split(parts, x, idx, 1, 0, S);
  if (!rc) rc = mlx_vector_array_append(outputs, parts[1]);
  if (!rc) rc = mlx_vector_array_append(outputs, x); /* an input as an output */
  mlx_array_free(x);
  mlx_array_free(parts[0]);
  mlx_array_free(parts[1]);
  return rc;
}

static int custom_inner(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array x = mlx_array_new();
  int rc = mlx_vector_array_get(&x, inputs, 0);
  if (!rc) rc = mlx_exp(&x, x, S);
  if (!rc) rc = mlx_vector_array_append(outputs, x);
  mlx_array_free(x);
  return rc;
}

static int ident_vjp(mlx_vector_array outputs, const mlx_vector_array inputs, void* payload) {
  mlx_array c = mlx_array_new();
  int rc = mlx_vector_array_get(&c, inputs, 1);
  if (!rc) rc = mlx_vector_array_append(outputs, c);
  mlx_array_free(c);
  return rc;
}

TEST(multi_output_and_unsupported) {
  float xv[3] = {4, 5, 6};
  int64_t s3[1] = {3};
  mlx_array x = arr_f32(xv, s3, 1);
  mlx_closure f = mlx_closure_new(split_fun, NULL, NULL);
  mlx_vector_array args = mlx_vector_array_new(), outs = mlx_vector_array_new();
  mlx_vector_array_append(args, x);
  CHECK_OK(mlx_export_function(tmp_path("split"), f, args, NULL, 0, 0));
  mlx_imported_function g = NULL;
  CHECK_OK(mlx_import_function(&g, tmp_path("split.mlxfn")));
  CHECK_OK(mlx_imported_function_call(outs, g, args, NULL, 0));
  CHECK(mlx_vector_array_size(outs) == 2 && first(outs, 0, 0) == 5 && first(outs, 0, 1) == 6 && first(outs, 1, 2) == 6);
  mlx_imported_function_free(g);
  /* A custom function's op holds closures: refused, no file left. */
  mlx_closure inner = mlx_closure_new(custom_inner, NULL, NULL), vjp = mlx_closure_new(ident_vjp, NULL, NULL);
  mlx_closure none = {NULL}, custom = {NULL};
  CHECK_OK(mlx_custom_function(&custom, inner, vjp, none, none));
  CHECK_ERR(mlx_export_function(tmp_path("custom"), custom, args, NULL, 0, 0), MLX_ERROR_UNSUPPORTED);
  CHECK(access(tmp_path("custom.mlxfn"), F_OK) != 0);
  mlx_closure_free(custom);
  mlx_closure_free(inner);
  mlx_closure_free(vjp);
  mlx_closure_free(f);
  mlx_vector_array_free(args);
  mlx_vector_array_free(outs);
  mlx_array_free(x);
}

static size_t slurp(const char* path, unsigned char** out) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc(n > 0 ? (size_t)n : 1);
  size_t got = *out ? fread(*out, 1, (size_t)n, f) : 0;
  fclose(f);
  return got;
}

static void spill(const char* path, const unsigned char* d, size_t n) {
  FILE* f = fopen(path, "wb");
  if (n) fwrite(d, 1, n, f);
  fclose(f);
}

/* Every truncation of an exported file (two traces, constants, a split)
 * fails with MLX_ERROR_FILE; flipped bytes load or fail with it. An
 * unknown primitive name is MLX_ERROR_FILE too. */
TEST(corrupt_files) {
  float kv[1] = {10}, xv[3] = {0, 1, 2};
  int64_t s1[1] = {1}, s3[1] = {3};
  K = arr_f32(kv, s1, 1);
  mlx_array x = arr_f32(xv, s3, 1);
  mlx_closure f = mlx_closure_new(fun, NULL, NULL), sf = mlx_closure_new(split_fun, NULL, NULL);
  mlx_vector_array args = vec3(x, x, x), one = mlx_vector_array_new();
  mlx_vector_array_append(one, x);
  mlx_function_exporter e = NULL;
  CHECK_OK(mlx_function_exporter_new(&e, tmp_path("c.mlxfn"), f, 0));
  CHECK_OK(mlx_function_exporter_add(e, args, NULL, 0));
  mlx_function_exporter_free(e);
  CHECK_OK(mlx_export_function(tmp_path("s.mlxfn"), sf, one, NULL, 0, 0));
  const char* files[2] = {"c.mlxfn", "s.mlxfn"};
  for (int fi = 0; fi < 2; fi++) {
    unsigned char* data = NULL;
    size_t n = slurp(tmp_path(files[fi]), &data);
    CHECK(n > 40);
    mlx_imported_function g = NULL;
    for (size_t len = 0; len < n; len++) {
      spill(tmp_path("x.mlxfn"), data, len);
      int rc = mlx_import_function(&g, tmp_path("x.mlxfn"));
      harness_checks++;
      if (rc != MLX_ERROR_FILE) {
        harness_failures++;
        fprintf(stderr, "%s cut to %zu gave %d: %s\n", files[fi], len, rc, mlx_last_error());
        if (!rc) mlx_imported_function_free(g);
      }
    }
    static const unsigned char flips[3] = {0xff, 0x01, 0x80};
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 3; k++) {
        data[i] ^= flips[k];
        spill(tmp_path("x.mlxfn"), data, n);
        data[i] ^= flips[k];
        int rc = mlx_import_function(&g, tmp_path("x.mlxfn"));
        harness_checks++;
        if (rc == MLX_OK) mlx_imported_function_free(g);
        else if (rc != MLX_ERROR_FILE) {
          harness_failures++;
          fprintf(stderr, "%s byte %zu ^ %02x gave %d: %s\n", files[fi], i, flips[k], rc, mlx_last_error());
        }
      }
    /* The first op's name ("exp" / "split") renamed to an unknown one. */
    unsigned char* p = memmem(data, n, fi ? "split" : "exp", fi ? 5 : 3);
    CHECK(p != NULL);
    if (p) {
      p[0] = 'Q';
      spill(tmp_path("x.mlxfn"), data, n);
      CHECK_ERR(mlx_import_function(&g, tmp_path("x.mlxfn")), MLX_ERROR_FILE);
    }
    free(data);
  }
  CHECK_ERR(mlx_import_function(NULL, tmp_path("c.mlxfn")), MLX_ERROR_ARGUMENT);
  mlx_imported_function g = NULL;
  CHECK_ERR(mlx_import_function(&g, tmp_path("missing.mlxfn")), MLX_ERROR_FILE);
  unlink(tmp_path("c.mlxfn"));
  unlink(tmp_path("s.mlxfn"));
  unlink(tmp_path("x.mlxfn"));
  mlx_closure_free(f);
  mlx_closure_free(sf);
  mlx_vector_array_free(args);
  mlx_vector_array_free(one);
  mlx_array_free(x);
  mlx_array_free(K);
}

int main(void) {
  const char* base = getenv("TMPDIR");
  if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/mlx_test_export_XXXXXX", base);
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(dot);
  RUN(round_trip);
  RUN(multi_output_and_unsupported);
  RUN(corrupt_files);
  const char* left[] = {"f.mlxfn", "s.mlxfn", "m.mlxfn", "split.mlxfn"};
  for (size_t i = 0; i < 4; i++) unlink(tmp_path(left[i]));
  rmdir(tmpdir);
  return harness_report();
}
