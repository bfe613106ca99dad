/* File I/O tests: .npy, .npz, .gguf and .safetensors round trips for every dtype and
 * for 0-d, empty and 3-d shapes; files written by NumPy (np.save,
 * np.lib.format.write_array for versions 2.0 and 3.0) and by Python MLX
 * 0.32.4 (mx.save for bfloat16, mx.save_safetensors), embedded below as
 * bytes printed once with Python; and a corpus of corrupted files (every
 * truncation of the fixtures, flipped bytes, hand-made bad headers) that
 * must all fail with MLX_ERROR_FILE and never crash; the same over every
 * file of test/fixtures/files (NumPy / Python MLX .npz, .gguf, ...). */
#include <dirent.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[256];

/* A path inside the test's temporary directory (static storage, 4 slots). */
static const char* tmp_path(const char* name) {
  static char buf[4][512];
  static int slot;
  char* p = buf[slot++ % 4];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

static void write_bytes(const char* path, const void* data, size_t n) {
  FILE* f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  if (n) fwrite(data, 1, n, f);
  fclose(f);
}

static size_t read_bytes(const char* path, void* data, size_t cap) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(data, 1, cap, f);
  fclose(f);
  return n;
}

/* Loads bytes written to a .npy file; returns the status. */
static int load_npy_bytes(mlx_array* res, const void* data, size_t n) {
  const char* p = tmp_path("in.npy");
  write_bytes(p, data, n);
  return mlx_load(res, p);
}

static int load_st_bytes(mlx_named_arrays* res, mlx_string_map* meta, const void* data, size_t n) {
  const char* p = tmp_path("in.safetensors");
  write_bytes(p, data, n);
  return mlx_load_safetensors(res, meta, p);
}

static int shape_is(mlx_array a, int ndim, const int64_t* shape) {
  if (mlx_array_ndim(a) != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (mlx_array_dim(a, i) != shape[i]) return 0;
  return 1;
}

/* Entries in the temporary directory (to spot leftover temporary files). */
static int dir_entries(void) {
  DIR* d = opendir(tmpdir);
  int n = 0;
  struct dirent* e;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

static void clear_dir(void) {
  DIR* d = opendir(tmpdir);
  struct dirent* e;
  while (d && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
}

/* Bytes printed once by the Python script below (NumPy 2.4.6, MLX 0.32.4):
 *
 *   # Generates the byte fixtures embedded in engine/tests/test_io.c.
 *   import numpy as np, mlx.core as mx, io, struct
 *   out=[]
 *   def carr(name, b):
 *       lines=[]
 *       for i in range(0,len(b),16):
 *           lines.append("    " + ", ".join(f"0x{x:02x}" for x in b[i:i+16]) + ",")
 *       out.append(f"static const unsigned char {name}[{len(b)}] = {{\n" + "\n".join(lines) + "\n};")
 *   def npy(a, version=None):
 *       f=io.BytesIO()
 *       if version: np.lib.format.write_array(f, a, version=version)
 *       else: np.save(f, a)
 *       return f.getvalue()
 *   # numpy files
 *   carr("NP_F32_2x3", npy(np.array([[1.5,-2,3],[4,5.25,-6]],dtype=np.float32)))
 *   carr("NP_I16_BE", npy(np.array([1,-2,300],dtype='>i2')))
 *   carr("NP_I32_FORTRAN", npy(np.asfortranarray(np.arange(6,dtype=np.int32).reshape(2,3))))
 *   carr("NP_BOOL", npy(np.array([True,False,True])))
 *   carr("NP_C64_BE", npy(np.array([1+2j,-3.5+0.25j],dtype='>c8')))
 *   carr("NP_F16", npy(np.array([0.5,-1.25,65504],dtype=np.float16)))
 *   carr("NP_U64", npy(np.array([0,2**64-1,12345678901234],dtype=np.uint64)))
 *   carr("NP_F64_0D", npy(np.float64(-0.1)))
 *   carr("NP_EMPTY", npy(np.zeros((0,3),dtype=np.int8)))
 *   carr("NP_V2", npy(np.array([7,8,9],dtype=np.uint16), version=(2,0)))
 *   carr("NP_V3", npy(np.array([[1.0],[2.0]],dtype=np.float64), version=(3,0)))
 *   carr("NP_F64_BE_3D", npy(np.arange(8,dtype='>f8').reshape(2,2,2)/4))
 *   # mlx files
 *   mx.save("/tmp/rio/fx/bf.npy", mx.array([1.0,-2.5,3.0]).astype(mx.bfloat16))
 *   carr("MX_BF16", open("/tmp/rio/fx/bf.npy","rb").read())
 *   mx.save_safetensors("/tmp/rio/fx/t.safetensors", {"w": mx.array([[1,2],[3,4]]).astype(mx.float16), "b": mx.array([True,False]), "c": mx.array([1+2j]), "s": mx.array(7,dtype=mx.int64)}, metadata={"format":"mlx","note":"caf\u00e9 \"q\"\n"})
 *   carr("MX_SAFETENSORS", open("/tmp/rio/fx/t.safetensors","rb").read())
 *   print("\n\n".join(out))
 */
static const unsigned char NP_F32_2x3[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40,
    0x00, 0x00, 0xa8, 0x40, 0x00, 0x00, 0xc0, 0xc0,
};

static const unsigned char NP_I16_BE[134] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3e, 0x69, 0x32, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x01, 0xff, 0xfe, 0x01, 0x2c,
};

static const unsigned char NP_I32_FORTRAN[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x69, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54, 0x72, 0x75, 0x65,
    0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33,
    0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
};

static const unsigned char NP_BOOL[131] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x7c, 0x62, 0x31, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x01, 0x00, 0x01,
};

static const unsigned char NP_C64_BE[144] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3e, 0x63, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x3f, 0x80, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xc0, 0x60, 0x00, 0x00, 0x3e, 0x80, 0x00, 0x00,
};

static const unsigned char NP_F16[134] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x32, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x38, 0x00, 0xbd, 0xff, 0x7b,
};

static const unsigned char NP_U64[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x75, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xf2, 0x2f, 0xce, 0x73, 0x3a, 0x0b, 0x00, 0x00,
};

static const unsigned char NP_F64_0D[136] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x29, 0x2c, 0x20,
    0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0xbf,
};

static const unsigned char NP_EMPTY[128] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x7c, 0x69, 0x31, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x30, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
};

static const unsigned char NP_V2[134] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64, 0x65,
    0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x75, 0x32, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33,
    0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x07, 0x00, 0x08, 0x00, 0x09, 0x00,
};

static const unsigned char NP_V3[144] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x03, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64, 0x65,
    0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32,
    0x2c, 0x20, 0x31, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
};

static const unsigned char NP_F64_BE_3D[192] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x32, 0x2c, 0x20, 0x32, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf4, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfc, 0x3f,
};

static const unsigned char MX_BF16[76] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x3c, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x56, 0x32, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54, 0x72, 0x75, 0x65,
    0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x20, 0x29,
    0x7d, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x80, 0x3f, 0x20, 0xc0, 0x40, 0x40,
};

static const unsigned char MX_SAFETENSORS[309] = {
    0x13, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x22, 0x5f, 0x5f, 0x6d, 0x65, 0x74, 0x61,
    0x64, 0x61, 0x74, 0x61, 0x5f, 0x5f, 0x22, 0x3a, 0x7b, 0x22, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74,
    0x22, 0x3a, 0x22, 0x6d, 0x6c, 0x78, 0x22, 0x2c, 0x22, 0x6e, 0x6f, 0x74, 0x65, 0x22, 0x3a, 0x22,
    0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0x5c, 0x22, 0x71, 0x5c, 0x22, 0x5c, 0x6e, 0x22, 0x7d, 0x2c,
    0x22, 0x62, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65,
    0x74, 0x73, 0x22, 0x3a, 0x5b, 0x31, 0x36, 0x2c, 0x31, 0x38, 0x5d, 0x2c, 0x22, 0x64, 0x74, 0x79,
    0x70, 0x65, 0x22, 0x3a, 0x22, 0x42, 0x4f, 0x4f, 0x4c, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x22, 0x3a, 0x5b, 0x32, 0x5d, 0x7d, 0x2c, 0x22, 0x63, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x61,
    0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x38, 0x2c, 0x31,
    0x36, 0x5d, 0x2c, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x43, 0x36, 0x34, 0x22,
    0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x31, 0x5d, 0x7d, 0x2c, 0x22, 0x73,
    0x22, 0x3a, 0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73,
    0x22, 0x3a, 0x5b, 0x30, 0x2c, 0x38, 0x5d, 0x2c, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a,
    0x22, 0x49, 0x36, 0x34, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x5d,
    0x7d, 0x2c, 0x22, 0x77, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66,
    0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x31, 0x38, 0x2c, 0x32, 0x36, 0x5d, 0x2c, 0x22, 0x64,
    0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x31, 0x36, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61,
    0x70, 0x65, 0x22, 0x3a, 0x5b, 0x32, 0x2c, 0x32, 0x5d, 0x7d, 0x7d, 0x07, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x00,
    0x40, 0x00, 0x42, 0x00, 0x44,
};

/* ---- files written by NumPy and Python MLX -------------------------------- */

TEST(numpy_files) {
  mlx_array a = mlx_array_new();
  {
    CHECK_OK(load_npy_bytes(&a, NP_F32_2x3, sizeof NP_F32_2x3));
    const int64_t s[2] = {2, 3};
    const double e[6] = {1.5, -2, 3, 4, 5.25, -6};
    CHECK(mlx_array_dtype(a) == MLX_FLOAT32 && shape_is(a, 2, s));
    CHECK_VALUES(a, e, 6, 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_I16_BE, sizeof NP_I16_BE));
    const int64_t s[1] = {3};
    const double e[3] = {1, -2, 300};
    CHECK(mlx_array_dtype(a) == MLX_INT16 && shape_is(a, 1, s));
    CHECK_VALUES(a, e, 3, 0);
  }
  {
    /* Fortran order: a column-major view of the same logical array. */
    CHECK_OK(load_npy_bytes(&a, NP_I32_FORTRAN, sizeof NP_I32_FORTRAN));
    const int64_t s[2] = {2, 3};
    const double e[6] = {0, 1, 2, 3, 4, 5};
    CHECK(mlx_array_dtype(a) == MLX_INT32 && shape_is(a, 2, s));
    const int64_t* st = mlx_array_strides(a);
    CHECK(st && st[0] == 1 && st[1] == 2);
    CHECK_VALUES(a, e, 6, 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_BOOL, sizeof NP_BOOL));
    const double e[3] = {1, 0, 1};
    CHECK(mlx_array_dtype(a) == MLX_BOOL);
    CHECK_VALUES(a, e, 3, 0);
  }
  {
    /* Big-endian complex64: each float32 half is swapped on its own. */
    CHECK_OK(load_npy_bytes(&a, NP_C64_BE, sizeof NP_C64_BE));
    float v[4] = {0};
    CHECK(mlx_array_dtype(a) == MLX_COMPLEX64 && mlx_array_size(a) == 2);
    CHECK_OK(mlx_array_copy_to(v, sizeof v, a));
    CHECK(v[0] == 1 && v[1] == 2 && v[2] == -3.5f && v[3] == 0.25f);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_F16, sizeof NP_F16));
    const double e[3] = {0.5, -1.25, 65504};
    CHECK(mlx_array_dtype(a) == MLX_FLOAT16);
    CHECK_VALUES(a, e, 3, 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_U64, sizeof NP_U64));
    uint64_t v[3] = {1, 1, 1};
    CHECK(mlx_array_dtype(a) == MLX_UINT64);
    CHECK_OK(mlx_array_copy_to(v, sizeof v, a));
    CHECK(v[0] == 0 && v[1] == UINT64_MAX && v[2] == 12345678901234ull);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_F64_0D, sizeof NP_F64_0D));
    double x = 0;
    CHECK(mlx_array_dtype(a) == MLX_FLOAT64 && mlx_array_ndim(a) == 0);
    CHECK_OK(mlx_array_item_float64(&x, a));
    CHECK(x == -0.1);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_EMPTY, sizeof NP_EMPTY));
    const int64_t s[2] = {0, 3};
    CHECK(mlx_array_dtype(a) == MLX_INT8 && shape_is(a, 2, s) && mlx_array_size(a) == 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_V2, sizeof NP_V2));
    const double e[3] = {7, 8, 9};
    CHECK(mlx_array_dtype(a) == MLX_UINT16);
    CHECK_VALUES(a, e, 3, 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_V3, sizeof NP_V3));
    const int64_t s[2] = {2, 1};
    const double e[2] = {1, 2};
    CHECK(mlx_array_dtype(a) == MLX_FLOAT64 && shape_is(a, 2, s));
    CHECK_VALUES(a, e, 2, 0);
  }
  {
    CHECK_OK(load_npy_bytes(&a, NP_F64_BE_3D, sizeof NP_F64_BE_3D));
    const int64_t s[3] = {2, 2, 2};
    const double e[8] = {0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75};
    CHECK(mlx_array_dtype(a) == MLX_FLOAT64 && shape_is(a, 3, s));
    CHECK_VALUES(a, e, 8, 0);
  }
  {
    /* bfloat16 as upstream MLX writes it: descr '<V2'. */
    CHECK_OK(load_npy_bytes(&a, MX_BF16, sizeof MX_BF16));
    const double e[3] = {1, -2.5, 3};
    CHECK(mlx_array_dtype(a) == MLX_BFLOAT16);
    CHECK_VALUES(a, e, 3, 0);
  }
  mlx_array_free(a);
}

TEST(mlx_safetensors_file) {
  mlx_named_arrays t = {0};
  mlx_string_map m = {0};
  CHECK_OK(load_st_bytes(&t, &m, MX_SAFETENSORS, sizeof MX_SAFETENSORS));
  CHECK(t.n == 4);
  if (t.n == 4) {
    /* Header order: b, c, s, w. */
    CHECK(!strcmp(t.names[0], "b") && !strcmp(t.names[1], "c") && !strcmp(t.names[2], "s") && !strcmp(t.names[3], "w"));
    const double eb[2] = {1, 0};
    CHECK(mlx_array_dtype(t.arrays[0]) == MLX_BOOL);
    CHECK_VALUES(t.arrays[0], eb, 2, 0);
    float c[2] = {0};
    CHECK(mlx_array_dtype(t.arrays[1]) == MLX_COMPLEX64);
    CHECK_OK(mlx_array_copy_to(c, sizeof c, t.arrays[1]));
    CHECK(c[0] == 1 && c[1] == 2);
    int64_t sv = 0;
    CHECK(mlx_array_dtype(t.arrays[2]) == MLX_INT64 && mlx_array_ndim(t.arrays[2]) == 0);
    CHECK_OK(mlx_array_item_int64(&sv, t.arrays[2]));
    CHECK(sv == 7);
    const int64_t ws[2] = {2, 2};
    const double ew[4] = {1, 2, 3, 4};
    CHECK(mlx_array_dtype(t.arrays[3]) == MLX_FLOAT16 && shape_is(t.arrays[3], 2, ws));
    CHECK_VALUES(t.arrays[3], ew, 4, 0);
  }
  CHECK(m.n == 2);
  if (m.n == 2) {
    CHECK(!strcmp(m.keys[0], "format") && !strcmp(m.values[0], "mlx"));
    CHECK(!strcmp(m.keys[1], "note") && !strcmp(m.values[1], "caf\xc3\xa9 \"q\"\n"));
  }
  mlx_named_arrays_free(&t);
  mlx_string_map_free(&m);
  /* Without a metadata out-pointer. */
  CHECK_OK(load_st_bytes(&t, NULL, MX_SAFETENSORS, sizeof MX_SAFETENSORS));
  CHECK(t.n == 4);
  mlx_named_arrays_free(&t);
  mlx_named_arrays_free(&t); /* freeing twice is harmless */
}

/* ---- round trips ---------------------------------------------------------- */

/* An array of the dtype and shape with deterministic bytes (bools 0/1). */
static mlx_array pattern(mlx_dtype dt, const int64_t* shape, int ndim, unsigned seed) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  size_t bytes = (size_t)n * mlx_dtype_size(dt);
  unsigned char* buf = malloc(bytes + 1);
  for (size_t i = 0; i < bytes; i++) buf[i] = dt == MLX_BOOL ? (unsigned char)((i * 7 + seed) % 3 == 0) : (unsigned char)(i * 37 + seed * 11 + 5);
  mlx_array a = mlx_array_new();
  if (mlx_array_new_data(&a, buf, shape, ndim, dt)) fprintf(stderr, "pattern: %s\n", mlx_last_error());
  free(buf);
  return a;
}

/* 1 if a and b have the same dtype, shape and bytes. */
static int same_array(mlx_array a, mlx_array b) {
  if (mlx_array_dtype(a) != mlx_array_dtype(b) || !shape_is(b, mlx_array_ndim(a), mlx_array_shape(a))) return 0;
  size_t n = mlx_array_nbytes(a);
  unsigned char* x = malloc(n + 1);
  unsigned char* y = malloc(n + 1);
  int ok = !mlx_array_copy_to(x, n, a) && !mlx_array_copy_to(y, n, b) && memcmp(x, y, n) == 0;
  free(x);
  free(y);
  return ok;
}

static const int64_t SHAPES[3][3] = {{0, 0, 0}, {0, 3, 0}, {2, 3, 4}};
static const int NDIMS[3] = {0, 2, 3};

TEST(npy_round_trip_all_dtypes) {
  const char* p = tmp_path("rt.npy");
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++) {
    for (int s = 0; s < 3; s++) {
      mlx_array a = pattern((mlx_dtype)dt, SHAPES[s], NDIMS[s], (unsigned)(dt * 3 + s)), b = mlx_array_new();
      CHECK_OK(mlx_save(p, a));
      CHECK_OK(mlx_load(&b, p));
      if (!same_array(a, b)) {
        CHECK(0);
        fprintf(stderr, "  npy round trip differs: dtype %s shape #%d\n", mlx_dtype_name((mlx_dtype)dt), s);
      }
      mlx_array_free(a);
      mlx_array_free(b);
    }
  }
  /* Bytes as NumPy expects them: magic, version 1.0, data 64-aligned. */
  unsigned char buf[256];
  int64_t sh[1] = {3};
  mlx_array a = pattern(MLX_BFLOAT16, sh, 1, 1);
  CHECK_OK(mlx_save(p, a));
  size_t n = read_bytes(p, buf, sizeof buf);
  CHECK(n == 128 + 6 && buf[6] == 1 && buf[7] == 0 && buf[8] == 118 && buf[9] == 0);
  CHECK(memcmp(buf + 10, "{'descr': '<V2', 'fortran_order': False, 'shape': (3,), }", 57) == 0);
  CHECK(buf[127] == '\n' && buf[126] == ' ');
  mlx_array_free(a);
  clear_dir();
}

TEST(npy_views_and_names) {
  int32_t v[6] = {0, 1, 2, 3, 4, 5};
  int64_t s23[2] = {2, 3};
  mlx_array a = mlx_array_new(), t = mlx_array_new(), b = mlx_array_new(), c = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, s23, 2, MLX_INT32));
  /* A transposed view is column-major: written as it lies with
   * fortran_order True, read back as the same logical array. */
  CHECK_OK(mlx_transpose(&t, a, NULL, 0, S));
  CHECK_OK(mlx_eval(&t, 1));
  const char* p = tmp_path("t.npy");
  CHECK_OK(mlx_save(p, t));
  char buf[128];
  CHECK(read_bytes(p, buf, sizeof buf) > 64);
  CHECK(memcmp(buf + 10, "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 2), }", 58) == 0);
  CHECK_OK(mlx_load(&b, p));
  const double et[6] = {0, 3, 1, 4, 2, 5};
  CHECK_VALUES(b, et, 6, 0);
  /* A strided slice (every other column) is copied to row-major. */
  int64_t start[2] = {0, 0}, stop[2] = {2, 3}, step[2] = {1, 2};
  CHECK_OK(mlx_slice(&c, a, start, stop, step, 2, S));
  CHECK_OK(mlx_save(p, c));
  CHECK_OK(mlx_load(&b, p));
  const double es[4] = {0, 2, 3, 5};
  const int64_t s22[2] = {2, 2};
  CHECK(shape_is(b, 2, s22));
  CHECK_VALUES(b, es, 4, 0);
  /* A lazy array is evaluated first. */
  CHECK_OK(mlx_astype(&c, a, MLX_FLOAT16, S));
  CHECK_OK(mlx_save(p, c));
  CHECK_OK(mlx_load(&b, p));
  const double ea[6] = {0, 1, 2, 3, 4, 5};
  CHECK(mlx_array_dtype(b) == MLX_FLOAT16);
  CHECK_VALUES(b, ea, 6, 0);
  /* ".npy" is appended when missing, as upstream does. */
  CHECK_OK(mlx_save(tmp_path("noext"), a));
  CHECK_OK(mlx_load(&b, tmp_path("noext.npy")));
  CHECK(same_array(a, b));
  CHECK_ERR(mlx_load(&b, tmp_path("noext")), MLX_ERROR_FILE);
  CHECK_ERR(mlx_load(&b, tmpdir), MLX_ERROR_FILE);
  CHECK_ERR(mlx_save(p, mlx_array_new()), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_save("", a), MLX_ERROR_ARGUMENT);
  mlx_array_free(a);
  mlx_array_free(t);
  mlx_array_free(b);
  mlx_array_free(c);
  clear_dir();
}

TEST(atomic_writes) {
  int64_t sh[1] = {4};
  mlx_array a = pattern(MLX_FLOAT32, sh, 1, 1), b = pattern(MLX_INT64, sh, 1, 2), c = mlx_array_new();
  const char* p = tmp_path("x.npy");
  CHECK_OK(mlx_save(p, a));
  CHECK_OK(mlx_save(p, b)); /* replaces the file */
  CHECK_OK(mlx_load(&c, p));
  CHECK(same_array(b, c));
  CHECK(dir_entries() == 1); /* no temporary file left behind */
  /* A directory that does not exist: an error, and nothing created. */
  char missing[600];
  snprintf(missing, sizeof missing, "%s/no/such/dir/x.npy", tmpdir);
  CHECK_ERR(mlx_save(missing, a), MLX_ERROR_FILE);
  mlx_named_arrays t = {1, (char*[]){"a"}, &a};
  snprintf(missing, sizeof missing, "%s/no/x.safetensors", tmpdir);
  CHECK_ERR(mlx_save_safetensors(missing, &t, NULL), MLX_ERROR_FILE);
  CHECK(dir_entries() == 1);
  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(c);
  clear_dir();
}

TEST(safetensors_round_trip_all_dtypes) {
  /* Every dtype in every shape, in one file, with metadata. */
  enum { N = MLX_NUM_DTYPES * 3 };
  mlx_array arrs[N];
  char* names[N];
  char namebuf[N][32];
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++) {
    for (int s = 0; s < 3; s++) {
      int i = dt * 3 + s;
      arrs[i] = pattern((mlx_dtype)dt, SHAPES[s], NDIMS[s], (unsigned)i);
      snprintf(namebuf[i], sizeof namebuf[i], "layer.%d.%s", s, mlx_dtype_name((mlx_dtype)dt));
      names[i] = namebuf[i];
    }
  }
  char* keys[3] = {"format", "quote\"back\\slash", "\xe6\x97\xa5\x01"};
  char* vals[3] = {"mlx", "tab\there", ""};
  mlx_named_arrays in = {N, names, arrs};
  mlx_string_map meta = {3, keys, vals};
  const char* p = tmp_path("rt.safetensors");
  CHECK_OK(mlx_save_safetensors(p, &in, &meta));
  mlx_named_arrays out = {0};
  mlx_string_map mout = {0};
  CHECK_OK(mlx_load_safetensors(&out, &mout, p));
  CHECK(out.n == N);
  for (size_t i = 0; i < out.n && i < N; i++) {
    CHECK(!strcmp(out.names[i], names[i]));
    if (!same_array(arrs[i], out.arrays[i])) {
      CHECK(0);
      fprintf(stderr, "  safetensors round trip differs: %s\n", names[i]);
    }
  }
  CHECK(mout.n == 3);
  for (size_t i = 0; i < mout.n && i < 3; i++) CHECK(!strcmp(mout.keys[i], keys[i]) && !strcmp(mout.values[i], vals[i]));
  mlx_named_arrays_free(&out);
  mlx_string_map_free(&mout);
  /* The data section starts 8-aligned. */
  unsigned char hdr[8];
  CHECK(read_bytes(p, hdr, 8) == 8 && hdr[0] % 8 == 0);
  /* No metadata: none comes back. Suffix appended when missing. */
  mlx_named_arrays one = {1, names, arrs};
  CHECK_OK(mlx_save_safetensors(tmp_path("plain"), &one, NULL));
  mout.n = 99;
  CHECK_OK(mlx_load_safetensors(&out, &mout, tmp_path("plain.safetensors")));
  CHECK(out.n == 1 && mout.n == 0);
  mlx_named_arrays_free(&out);
  /* No tensors at all. */
  mlx_named_arrays none = {0, NULL, NULL};
  CHECK_OK(mlx_save_safetensors(p, &none, NULL));
  CHECK_OK(mlx_load_safetensors(&out, NULL, p));
  CHECK(out.n == 0);
  mlx_named_arrays_free(&out);
  /* A non-contiguous view is written row-major. */
  mlx_array tr = mlx_array_new();
  CHECK_OK(mlx_transpose(&tr, arrs[3 * MLX_FLOAT32 + 2], NULL, 0, S));
  mlx_named_arrays view = {1, names, &tr};
  CHECK_OK(mlx_save_safetensors(p, &view, NULL));
  CHECK_OK(mlx_load_safetensors(&out, NULL, p));
  CHECK(out.n == 1 && same_array(tr, out.arrays[0]));
  mlx_named_arrays_free(&out);
  mlx_array_free(tr);
  /* Argument errors. */
  char* dup[2] = {"a", "a"};
  mlx_named_arrays d = {2, dup, arrs};
  CHECK_ERR(mlx_save_safetensors(p, &d, NULL), MLX_ERROR_ARGUMENT);
  char* reserved[1] = {"__metadata__"};
  mlx_named_arrays r = {1, reserved, arrs};
  CHECK_ERR(mlx_save_safetensors(p, &r, NULL), MLX_ERROR_ARGUMENT);
  char* badutf[1] = {"\xff"};
  mlx_named_arrays u = {1, badutf, arrs};
  CHECK_ERR(mlx_save_safetensors(p, &u, NULL), MLX_ERROR_ARGUMENT);
  char* nul[1] = {NULL};
  mlx_named_arrays z = {1, nul, arrs};
  CHECK_ERR(mlx_save_safetensors(p, &z, NULL), MLX_ERROR_ARGUMENT);
  mlx_string_map dupmeta = {2, dup, dup};
  CHECK_ERR(mlx_save_safetensors(p, &one, &dupmeta), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_save_safetensors(p, NULL, NULL), MLX_ERROR_ARGUMENT);
  CHECK_ERR(mlx_load_safetensors(NULL, NULL, p), MLX_ERROR_ARGUMENT);
  for (int i = 0; i < N; i++) mlx_array_free(arrs[i]);
  clear_dir();
}

/* ---- corrupted inputs ---------------------------------------------------- */

/* The load of these bytes must fail with MLX_ERROR_FILE. */
static void expect_bad_npy(int line, const void* data, size_t n) {
  mlx_array a = mlx_array_new();
  int rc = load_npy_bytes(&a, data, n);
  harness_checks++;
  if (rc != MLX_ERROR_FILE || a.ctx) {
    harness_failures++;
    fprintf(stderr, "%s:%d: corrupt .npy (%zu bytes) gave %d: %s\n", __FILE__, line, n, rc, mlx_last_error());
  }
  mlx_array_free(a);
}

static void expect_bad_st(int line, const void* data, size_t n) {
  mlx_named_arrays t = {0};
  mlx_string_map m = {0};
  int rc = load_st_bytes(&t, &m, data, n);
  harness_checks++;
  if (rc != MLX_ERROR_FILE || t.n || m.n) {
    harness_failures++;
    fprintf(stderr, "%s:%d: corrupt .safetensors (%zu bytes) gave %d: %s\n", __FILE__, line, n, rc, mlx_last_error());
  }
  mlx_named_arrays_free(&t);
  mlx_string_map_free(&m);
}

/* A version-1.0 .npy with the given header text and `data` zero bytes. */
static size_t make_npy(unsigned char* out, const char* header, size_t data) {
  size_t h = strlen(header);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (unsigned char)(h & 0xff);
  out[9] = (unsigned char)(h >> 8);
  memcpy(out + 10, header, h);
  memset(out + 10 + h, 0, data);
  return 10 + h + data;
}

#define BAD_NPY(header, data)                             \
  do {                                                    \
    size_t n_ = make_npy(buf, (header), (data));          \
    expect_bad_npy(__LINE__, buf, n_);                    \
  } while (0)

TEST(npy_truncations_and_flips) {
  static const struct {
    const unsigned char* data;
    size_t n;
  } files[] = {{NP_F32_2x3, sizeof NP_F32_2x3}, {NP_I32_FORTRAN, sizeof NP_I32_FORTRAN},
               {NP_C64_BE, sizeof NP_C64_BE},   {NP_F64_0D, sizeof NP_F64_0D},
               {NP_EMPTY, sizeof NP_EMPTY},     {NP_V2, sizeof NP_V2},
               {NP_V3, sizeof NP_V3},           {MX_BF16, sizeof MX_BF16}};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
    for (size_t len = 0; len < files[f].n; len++) expect_bad_npy(__LINE__, files[f].data, len);
  /* Flipped bytes: loading may succeed (a flipped data byte is still a
   * valid file) but must never fail otherwise or crash. */
  unsigned char buf[512];
  static const unsigned char flips[3] = {0xff, 0x01, 0x20};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    for (size_t i = 0; i < files[f].n; i++) {
      for (int k = 0; k < 3; k++) {
        memcpy(buf, files[f].data, files[f].n);
        buf[i] ^= flips[k];
        mlx_array a = mlx_array_new();
        int rc = load_npy_bytes(&a, buf, files[f].n);
        harness_checks++;
        if (rc != MLX_OK && rc != MLX_ERROR_FILE) {
          harness_failures++;
          fprintf(stderr, "flip of byte %zu of file %zu gave %d: %s\n", i, f, rc, mlx_last_error());
        }
        mlx_array_free(a);
      }
    }
  }
}

TEST(npy_bad_headers) {
  unsigned char buf[4096];
  const char* ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  mlx_array a = mlx_array_new();
  size_t n = make_npy(buf, ok, 8);
  CHECK_OK(load_npy_bytes(&a, buf, n)); /* the control case loads */
  /* Trailing bytes after the data are tolerated, as NumPy does. */
  n = make_npy(buf, ok, 9);
  CHECK_OK(load_npy_bytes(&a, buf, n));
  mlx_array_free(a);
  BAD_NPY(ok, 7); /* one data byte short */
  n = make_npy(buf, ok, 8);
  buf[0] = 0x92;
  expect_bad_npy(__LINE__, buf, n); /* bad magic */
  n = make_npy(buf, ok, 8);
  buf[6] = 4;
  expect_bad_npy(__LINE__, buf, n); /* version 4.0 */
  n = make_npy(buf, ok, 8);
  buf[7] = 1;
  expect_bad_npy(__LINE__, buf, n); /* version 1.1 */
  n = make_npy(buf, ok, 8);
  buf[8] = 0xff, buf[9] = 0xff;
  expect_bad_npy(__LINE__, buf, n); /* header length past the end */
  /* Version 2.0 with a 4 GiB header length. */
  memcpy(buf, "\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14);
  expect_bad_npy(__LINE__, buf, 14);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 2), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 3037000500), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2, }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8);
  BAD_NPY("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8);
  BAD_NPY("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32);
  BAD_NPY("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }", 16);
  BAD_NPY("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16);
  BAD_NPY("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': 1, 'shape': (2,), }", 8);
  BAD_NPY("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", 8);
  BAD_NPY("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", 8);
  BAD_NPY("{'descr': '<f\\4', 'fortran_order': False, 'shape': (2,), }", 8);
  BAD_NPY("", 8);
  BAD_NPY("{}", 8);
  BAD_NPY("\xff\xfe", 8);
}

/* Ranks beyond NumPy's 64 are fine here (upstream MLX has no limit): a
 * header too long for version 1.0's 16-bit length is written as 2.0. */
TEST(npy_many_dims) {
  enum { RANK = 22000 };
  int64_t* shape = malloc(sizeof(int64_t) * RANK);
  for (int i = 0; i < RANK; i++) shape[i] = 1;
  shape[RANK / 2] = 3;
  const float v[3] = {1, 2, 3};
  mlx_array a = mlx_array_new(), b = mlx_array_new();
  CHECK_OK(mlx_array_new_data(&a, v, shape, RANK, MLX_FLOAT32));
  const char* p = tmp_path("deep.npy");
  CHECK_OK(mlx_save(p, a));
  unsigned char pre[12];
  CHECK(read_bytes(p, pre, sizeof pre) == sizeof pre && pre[6] == 2 && pre[7] == 0);
  uint32_t hlen = pre[8] | pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
  CHECK(hlen > 65535 && (hlen + 12) % 64 == 0);
  CHECK_OK(mlx_load(&b, p));
  CHECK(mlx_array_ndim(b) == RANK && mlx_array_dim(b, RANK / 2) == 3);
  const double e[3] = {1, 2, 3};
  CHECK_VALUES(b, e, 3, 0);
  free(shape);
  mlx_array_free(a);
  mlx_array_free(b);
  clear_dir();
}

/* A .safetensors file: 8-byte length, the JSON text, then data bytes. */
static size_t make_st(unsigned char* out, const char* json, const void* data, size_t n) {
  size_t h = strlen(json);
  for (int k = 0; k < 8; k++) out[k] = (unsigned char)((uint64_t)h >> (8 * k));
  memcpy(out + 8, json, h);
  if (n) memcpy(out + 8 + h, data, n);
  return 8 + h + n;
}

#define BAD_ST(json, data, n)                         \
  do {                                                \
    size_t n_ = make_st(buf, (json), (data), (n));    \
    expect_bad_st(__LINE__, buf, n_);                 \
  } while (0)

TEST(safetensors_corruptions) {
  for (size_t len = 0; len < sizeof MX_SAFETENSORS; len++) expect_bad_st(__LINE__, MX_SAFETENSORS, len);
  unsigned char buf[8192];
  static const unsigned char flips[3] = {0xff, 0x01, 0x20};
  for (size_t i = 0; i < sizeof MX_SAFETENSORS; i++) {
    for (int k = 0; k < 3; k++) {
      memcpy(buf, MX_SAFETENSORS, sizeof MX_SAFETENSORS);
      buf[i] ^= flips[k];
      mlx_named_arrays t = {0};
      mlx_string_map m = {0};
      int rc = load_st_bytes(&t, &m, buf, sizeof MX_SAFETENSORS);
      harness_checks++;
      if (rc != MLX_OK && rc != MLX_ERROR_FILE) {
        harness_failures++;
        fprintf(stderr, "flip of byte %zu gave %d: %s\n", i, rc, mlx_last_error());
      }
      mlx_named_arrays_free(&t);
      mlx_string_map_free(&m);
    }
  }
  const float one[4] = {1, 2, 0, 0};
  mlx_named_arrays t = {0};
  mlx_string_map m = {0};
  /* Control cases that load: trailing spaces, null metadata, an unknown
   * field, an empty tensor sharing an offset, escapes in names. */
  size_t n = make_st(buf, "{\"__metadata__\":null,\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":[1,{\"y\":null}]},"
                          "\"e\":{\"dtype\":\"I8\",\"shape\":[0,5],\"data_offsets\":[8,8]},"
                          "\"\\u00e9\\ud83d\\ude00\\/\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[8,10]}}   ",
                     one, 10);
  CHECK_OK(load_st_bytes(&t, &m, buf, n));
  CHECK(t.n == 3 && m.n == 0);
  if (t.n == 3) CHECK(!strcmp(t.names[2], "\xc3\xa9\xf0\x9f\x98\x80/"));
  mlx_named_arrays_free(&t);

  /* Header length: zero, huge, past the end. */
  memset(buf, 0, 16);
  expect_bad_st(__LINE__, buf, 16);
  memcpy(buf, "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  expect_bad_st(__LINE__, buf, 10);
  memcpy(buf, "\x03\x00\x00\x00\x00\x00\x00\x00{}", 10);
  expect_bad_st(__LINE__, buf, 10);
  memcpy(buf, "\x00\xe1\xf5\x05\x00\x00\x00\x00{}", 10); /* 10^8 */
  expect_bad_st(__LINE__, buf, 10);
  /* JSON syntax. */
  BAD_ST("{", NULL, 0);
  BAD_ST("[]", NULL, 0);
  BAD_ST("\"x\"", NULL, 0);
  BAD_ST("{\"a\":1,}", NULL, 0);
  BAD_ST("{\"a\" 1}", NULL, 0);
  BAD_ST("{'a':1}", NULL, 0);
  BAD_ST("{\"a\":[1,]}", NULL, 0);
  BAD_ST("{\"a\":01}", NULL, 0);
  BAD_ST("{\"a\":1.}", NULL, 0);
  BAD_ST("{\"a\":-}", NULL, 0);
  BAD_ST("{\"a\":1e}", NULL, 0);
  BAD_ST("{\"a\":tru}", NULL, 0);
  BAD_ST("{\"a\":\"\xff\"}", NULL, 0);
  BAD_ST("{\"a\":\"\xc0\x80\"}", NULL, 0);
  BAD_ST("{\"a\":\"\xed\xa0\x80\"}", NULL, 0);
  BAD_ST("{\"a\":\"\\ud800\"}", NULL, 0);
  BAD_ST("{\"a\":\"\\udc00\"}", NULL, 0);
  BAD_ST("{\"a\":\"\\ud800\\u0041\"}", NULL, 0);
  BAD_ST("{\"a\":\"\\u12g4\"}", NULL, 0);
  BAD_ST("{\"a\":\"\\q\"}", NULL, 0);
  BAD_ST("{\"a\":\"tab\there\"}", NULL, 0);
  BAD_ST("{\"a\":\"open}", NULL, 0);
  BAD_ST("{\"a\":1} x", NULL, 0);
  BAD_ST("{\"a\":1}{}", NULL, 0);
  BAD_ST("{\"a\":1,\"a\":2}", NULL, 0);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", one, 8);
  char deep[300] = "{\"a\":";
  for (int i = 0; i < 100; i++) strcat(deep, "[");
  for (int i = 0; i < 100; i++) strcat(deep, "]");
  strcat(deep, "}");
  BAD_ST(deep, NULL, 0);
  /* Tensor entries. */
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", one, 8);   /* past the end */
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", one, 8);    /* reversed */
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", one, 8);    /* size mismatch */
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
         one, 8); /* overlap */
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
         one, 8); /* same range twice */
  BAD_ST("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-0,8.0]}}", one, 8);
  BAD_ST("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", one, 8);
  BAD_ST("{\"x\":[0,8]}", one, 8);
  BAD_ST("{\"x\\u0000y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", one, 8);
  /* Metadata. */
  BAD_ST("{\"__metadata__\":{\"a\":1}}", NULL, 0);
  BAD_ST("{\"__metadata__\":[\"a\"]}", NULL, 0);
  BAD_ST("{\"__metadata__\":\"a\"}", NULL, 0);
  BAD_ST("{\"__metadata__\":{\"a\":\"b\\u0000c\"}}", NULL, 0);
  /* 100 dimensions load. */
  char many[512] = "{\"x\":{\"dtype\":\"U8\",\"shape\":[";
  for (int i = 0; i < 100; i++) strcat(many, i ? ",1" : "1");
  strcat(many, "],\"data_offsets\":[0,1]}}");
  n = make_st(buf, many, one, 1);
  CHECK_OK(load_st_bytes(&t, NULL, buf, n));
  CHECK(t.n == 1 && mlx_array_ndim(t.arrays[0]) == 100);
  mlx_named_arrays_free(&t);
}

/* ---- .npz ------------------------------------------------------------------ */

TEST(npz_round_trips) {
  mlx_array arrs[MLX_NUM_DTYPES * 3];
  char* names[MLX_NUM_DTYPES * 3];
  char name_buf[MLX_NUM_DTYPES * 3][32];
  size_t n = 0;
  for (int dt = 0; dt < MLX_NUM_DTYPES; dt++)
    for (int s = 0; s < 3; s++, n++) {
      arrs[n] = pattern((mlx_dtype)dt, SHAPES[s], NDIMS[s], (unsigned)(n + 5));
      snprintf(name_buf[n], 32, "%s_%d", mlx_dtype_name((mlx_dtype)dt), s);
      names[n] = name_buf[n];
    }
  mlx_named_arrays m = {n, names, arrs};
  for (int compressed = 0; compressed < 2; compressed++) {
    const char* p = tmp_path(compressed ? "c.npz" : "s");
    CHECK_OK(mlx_savez(p, &m, compressed));
    mlx_named_arrays got = {0};
    CHECK_OK(mlx_load_npz(&got, compressed ? p : tmp_path("s.npz")));
    CHECK(got.n == n);
    for (size_t i = 0; i < got.n && i < n; i++) {
      CHECK(strcmp(got.names[i], names[i]) == 0);
      if (!same_array(arrs[i], got.arrays[i])) {
        CHECK(0);
        fprintf(stderr, "  npz round trip differs: %s (compressed %d)\n", names[i], compressed);
      }
    }
    mlx_named_arrays_free(&got);
  }
  /* A transposed view goes out row-major, deflate shrinks repeated data. */
  int64_t sh[2] = {64, 64};
  mlx_array z = mlx_array_new(), t = mlx_array_new();
  CHECK_OK(mlx_zeros(&z, sh, 2, MLX_FLOAT32, S));
  CHECK_OK(mlx_transpose(&t, arrs[3 * MLX_INT32 + 2], NULL, 0, S));
  char* zn[2] = {"z", "t"};
  mlx_array za[2] = {z, t};
  mlx_named_arrays zm = {2, zn, za};
  CHECK_OK(mlx_savez(tmp_path("z.npz"), &zm, 1));
  unsigned char buf[4096];
  size_t len = read_bytes(tmp_path("z.npz"), buf, sizeof buf);
  CHECK(len > 100 && len < 1000);
  mlx_named_arrays got = {0};
  CHECK_OK(mlx_load_npz(&got, tmp_path("z.npz")));
  CHECK(got.n == 2 && same_array(t, got.arrays[1]) && same_array(z, got.arrays[0]));
  mlx_named_arrays_free(&got);
  /* Names must be unique and non-empty; a failed save leaves no file. */
  char* dup[2] = {"a", "a"};
  mlx_named_arrays dm = {2, dup, za};
  CHECK_ERR(mlx_savez(tmp_path("d.npz"), &dm, 0), MLX_ERROR_ARGUMENT);
  char* empty[1] = {""};
  mlx_named_arrays em = {1, empty, za};
  CHECK_ERR(mlx_savez(tmp_path("d.npz"), &em, 0), MLX_ERROR_ARGUMENT);
  CHECK(access(tmp_path("d.npz"), F_OK) != 0);
  CHECK_ERR(mlx_load_npz(&got, tmp_path("missing.npz")), MLX_ERROR_FILE);
  /* An empty archive is valid. */
  mlx_named_arrays none = {0, NULL, NULL};
  CHECK_OK(mlx_savez(tmp_path("none.npz"), &none, 0));
  CHECK_OK(mlx_load_npz(&got, tmp_path("none.npz")));
  CHECK(got.n == 0);
  mlx_named_arrays_free(&got);
  mlx_array_free(z);
  mlx_array_free(t);
  for (size_t i = 0; i < n; i++) mlx_array_free(arrs[i]);
  clear_dir();
}

/* ---- GGUF ------------------------------------------------------------------ */

TEST(gguf_round_trips) {
  const mlx_dtype ok[5] = {MLX_FLOAT32, MLX_FLOAT16, MLX_INT8, MLX_INT16, MLX_INT32};
  mlx_array arrs[15];
  char* names[15];
  char name_buf[15][32];
  size_t n = 0;
  for (int d = 0; d < 5; d++)
    for (int s = 0; s < 3; s++, n++) {
      arrs[n] = pattern(ok[d], SHAPES[s], NDIMS[s], (unsigned)n);
      snprintf(name_buf[n], 32, "t.%zu", n);
      names[n] = name_buf[n];
    }
  mlx_named_arrays m = {n, names, arrs};
  /* Metadata of every kind: 0-d and 1-d arrays, a string with a NUL
   * byte, a list of strings. */
  int64_t v3 = 3;
  float fl[2] = {0.5f, -1.5f};
  int64_t s2[1] = {2};
  mlx_gguf_value vals[4] = {{0}};
  CHECK_OK(mlx_array_new_data(&vals[0].array, &v3, NULL, 0, MLX_INT64));
  vals[0].kind = MLX_GGUF_ARRAY;
  CHECK_OK(mlx_array_new_data(&vals[1].array, fl, s2, 1, MLX_FLOAT32));
  vals[1].kind = MLX_GGUF_ARRAY;
  char* str[1] = {"a\0b"};
  size_t str_len[1] = {3};
  vals[2] = (mlx_gguf_value){MLX_GGUF_STRING, mlx_array_new(), 1, str, str_len};
  char* list[3] = {"x", "", "yz"};
  size_t list_len[3] = {1, 0, 2};
  vals[3] = (mlx_gguf_value){MLX_GGUF_STRINGS, mlx_array_new(), 3, list, list_len};
  char* keys[4] = {"n", "fl", "s", "l"};
  mlx_gguf_metadata meta = {4, keys, vals};
  CHECK_OK(mlx_save_gguf(tmp_path("g"), &m, &meta));
  mlx_named_arrays got = {0};
  mlx_gguf_metadata gm = {0};
  CHECK_OK(mlx_load_gguf(&got, &gm, tmp_path("g.gguf")));
  CHECK(got.n == n);
  for (size_t i = 0; i < got.n && i < n; i++) {
    CHECK(strcmp(got.names[i], names[i]) == 0);
    CHECK(same_array(arrs[i], got.arrays[i]));
  }
  CHECK(gm.n == 4);
  if (gm.n == 4) {
    CHECK(gm.values[0].kind == MLX_GGUF_ARRAY && mlx_array_ndim(gm.values[0].array) == 0);
    CHECK(mlx_array_dtype(gm.values[0].array) == MLX_INT64);
    CHECK(same_array(vals[1].array, gm.values[1].array));
    CHECK(gm.values[2].kind == MLX_GGUF_STRING && gm.values[2].string_lens[0] == 3 &&
          memcmp(gm.values[2].strings[0], "a\0b", 3) == 0);
    CHECK(gm.values[3].kind == MLX_GGUF_STRINGS && gm.values[3].nstrings == 3 && gm.values[3].string_lens[1] == 0 &&
          strcmp(gm.values[3].strings[2], "yz") == 0);
  }
  mlx_named_arrays_free(&got);
  mlx_gguf_metadata_free(&gm);
  /* Without metadata output; unsupported dtypes and metadata are refused. */
  CHECK_OK(mlx_load_gguf(&got, NULL, tmp_path("g.gguf")));
  mlx_named_arrays_free(&got);
  mlx_array b = pattern(MLX_BFLOAT16, SHAPES[1], 1, 1);
  char* bn[1] = {"b"};
  mlx_named_arrays bm = {1, bn, &b};
  CHECK_ERR(mlx_save_gguf(tmp_path("bad"), &bm, NULL), MLX_ERROR_ARGUMENT);
  mlx_named_arrays empty = {0, NULL, NULL};
  mlx_gguf_value bv = {MLX_GGUF_ARRAY, b, 0, NULL, NULL};
  char* bk[1] = {"k"};
  mlx_gguf_metadata bmeta = {1, bk, &bv};
  CHECK_ERR(mlx_save_gguf(tmp_path("bad"), &empty, &bmeta), MLX_ERROR_ARGUMENT);
  bv.array = arrs[2]; /* 3-d */
  CHECK_ERR(mlx_save_gguf(tmp_path("bad"), &empty, &bmeta), MLX_ERROR_ARGUMENT);
  CHECK(access(tmp_path("bad.gguf"), F_OK) != 0);
  mlx_array_free(b);
  for (int i = 0; i < 2; i++) mlx_array_free(vals[i].array);
  for (size_t i = 0; i < n; i++) mlx_array_free(arrs[i]);
  clear_dir();
}

/* ---- fixture files (test/fixtures/files, written by NumPy / Python MLX) ---- */

#define FIXTURES MLX_ENGINE_SRC_DIR "/../../test/fixtures/files"

/* Loads path by its extension; frees what loaded; returns the status. */
static int load_any(const char* path) {
  size_t n = strlen(path);
  int rc;
  if (n > 4 && strcmp(path + n - 4, ".npy") == 0) {
    mlx_array a = mlx_array_new();
    rc = mlx_load(&a, path);
    mlx_array_free(a);
    return rc;
  }
  mlx_named_arrays m = {0};
  if (n > 4 && strcmp(path + n - 4, ".npz") == 0) {
    rc = mlx_load_npz(&m, path);
  } else if (n > 5 && strcmp(path + n - 5, ".gguf") == 0) {
    mlx_gguf_metadata g = {0};
    rc = mlx_load_gguf(&m, &g, path);
    mlx_gguf_metadata_free(&g);
  } else {
    mlx_string_map s = {0};
    rc = mlx_load_safetensors(&m, &s, path);
    mlx_string_map_free(&s);
  }
  mlx_named_arrays_free(&m);
  return rc;
}

static const char* const FIXTURE_FILES[] = {"numpy.npy", "numpy.npz", "numpy_compressed.npz", "mlx.npz",
                                            "mlx_compressed.npz", "zip64.npz", "mlx.safetensors", "mlx.gguf",
                                            "quantized.gguf", "f64array.gguf", "f64scalar.gguf", "ours.npz",
                                            "ours_compressed.npz", "ours.gguf", "ours.safetensors"};

static const mlx_array* find_named(const mlx_named_arrays* m, const char* name) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->names[i], name) == 0) return &m->arrays[i];
  return NULL;
}

/* Values printed by Python MLX 0.32 (mx.load of the same files; the full
 * expectations are in test/fixtures/files/expected.json, checked by the
 * Ruby tests). */
TEST(fixture_files) {
  char p[1024];
  for (size_t f = 0; f < sizeof FIXTURE_FILES / sizeof *FIXTURE_FILES; f++) {
    snprintf(p, sizeof p, "%s/%s", FIXTURES, FIXTURE_FILES[f]);
    int rc = load_any(p);
    CHECK(rc == MLX_OK);
    if (rc) fprintf(stderr, "  %s: %s\n", FIXTURE_FILES[f], mlx_last_error());
  }
  mlx_named_arrays m = {0};
  snprintf(p, sizeof p, "%s/numpy.npz", FIXTURES);
  CHECK_OK(mlx_load_npz(&m, p));
  const mlx_array* a = find_named(&m, "f"); /* Fortran order */
  const double ef[6] = {0, 0.25, 0.5, 0.75, 1, 1.25};
  if (a) CHECK_VALUES(*a, ef, 6, 0);
  CHECK(a != NULL);
  a = find_named(&m, "be"); /* big-endian int32 */
  const double ebe[2] = {1, -2};
  if (a) CHECK_VALUES(*a, ebe, 2, 0);
  CHECK(a && find_named(&m, "arr_0") && find_named(&m, "e"));
  mlx_named_arrays_free(&m);
  snprintf(p, sizeof p, "%s/zip64.npz", FIXTURES);
  CHECK_OK(mlx_load_npz(&m, p));
  const double e64[2] = {1, 2};
  CHECK(m.n == 2);
  if (m.n == 2) CHECK_VALUES(m.arrays[0], e64, 2, 0);
  mlx_named_arrays_free(&m);
  /* Quantized GGUF tensors: (weights, scales, biases) as upstream. */
  snprintf(p, sizeof p, "%s/quantized.gguf", FIXTURES);
  CHECK_OK(mlx_load_gguf(&m, NULL, p));
  CHECK(m.n == 11);
  a = find_named(&m, "blk.q4k.weight"); /* Q4_K: dequantized to float16 */
  CHECK(a && mlx_array_dtype(*a) == MLX_FLOAT16 && mlx_array_size(*a) == 256);
  if (a) {
    double q4k[64];
    CHECK(read_f64(q4k, 64, *a) == -1); /* 256 values do not fit 64 */
    /* ggml values: the high nibbles use the second scale/min pair. */
    double all[256];
    CHECK(read_f64(all, 256, *a) == 256 && all[0] == 100.25 && all[32] == 217.0 && all[64] == 44.5);
  }
  a = find_named(&m, "blk.q4_0.weight");
  CHECK(a && mlx_array_dtype(*a) == MLX_UINT32 && mlx_array_dim(*a, 0) == 2 && mlx_array_dim(*a, 1) == 8);
  a = find_named(&m, "blk.q4_0.biases");
  const double eb[4] = {-2, -2, -2, -2};
  if (a) CHECK_VALUES(*a, eb, 4, 0);
  a = find_named(&m, "blk.q8.biases");
  const double eb8[2] = {-16, -16};
  if (a) CHECK_VALUES(*a, eb8, 2, 0);
  a = find_named(&m, "q4_1.scales");
  const double es[2] = {0.5, 0.5};
  if (a) CHECK_VALUES(*a, es, 2, 0);
  a = find_named(&m, "bf");
  const double ebf[3] = {1, -2.5, 3.140625};
  CHECK(a && mlx_array_dtype(*a) == MLX_FLOAT16);
  if (a) CHECK_VALUES(*a, ebf, 3, 0);
  mlx_named_arrays_free(&m);
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

/* Every strict prefix of every fixture fails with MLX_ERROR_FILE, and
 * every byte flipped (three ways) either still loads or fails with
 * MLX_ERROR_FILE: never another status, a crash or a sanitizer report. */
TEST(fixture_truncations_and_flips) {
  char p[1024];
  for (size_t f = 0; f < sizeof FIXTURE_FILES / sizeof *FIXTURE_FILES; f++) {
    snprintf(p, sizeof p, "%s/%s", FIXTURES, FIXTURE_FILES[f]);
    unsigned char* data = NULL;
    size_t n = slurp(p, &data);
    CHECK(n > 0);
    const char* ext = strrchr(FIXTURE_FILES[f], '.');
    char name[64];
    snprintf(name, sizeof name, "x%s", ext);
    const char* q = tmp_path(name);
    /* All prefixes of small files; a stride over bigger ones. */
    size_t step = n > 4096 ? n / 2048 : 1;
    for (size_t len = 0; len < n; len += (len < 64 || n - len < 64) ? 1 : step) {
      write_bytes(q, data, len);
      int rc = load_any(q);
      harness_checks++;
      if (rc != MLX_ERROR_FILE) {
        harness_failures++;
        fprintf(stderr, "%s cut to %zu bytes gave %d: %s\n", FIXTURE_FILES[f], len, rc, mlx_last_error());
      }
    }
    static const unsigned char flips[3] = {0xff, 0x01, 0x80};
    for (size_t i = 0; i < n; i += n > 4096 ? 3 : 1) {
      for (int k = 0; k < 3; k++) {
        data[i] ^= flips[k];
        write_bytes(q, data, n);
        data[i] ^= flips[k];
        int rc = load_any(q);
        harness_checks++;
        if (rc != MLX_OK && rc != MLX_ERROR_FILE) {
          harness_failures++;
          fprintf(stderr, "%s with byte %zu ^ 0x%02x gave %d: %s\n", FIXTURE_FILES[f], i, flips[k], rc, mlx_last_error());
        }
      }
    }
    free(data);
  }
  clear_dir();
}

int main(void) {
  /* Every save fsyncs (atomic writes); on a disk that costs ~100 ms a
   * file, so the test prefers memory-backed /dev/shm unless TMPDIR says
   * otherwise. */
  const char* base = getenv("TMPDIR");
  if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/mlx_test_io_XXXXXX", base);
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(numpy_files);
  RUN(mlx_safetensors_file);
  RUN(npy_round_trip_all_dtypes);
  RUN(npy_views_and_names);
  RUN(atomic_writes);
  RUN(safetensors_round_trip_all_dtypes);
  RUN(npy_truncations_and_flips);
  RUN(npy_bad_headers);
  RUN(npy_many_dims);
  RUN(safetensors_corruptions);
  RUN(npz_round_trips);
  RUN(gguf_round_trips);
  RUN(fixture_files);
  RUN(fixture_truncations_and_flips);
  clear_dir();
  rmdir(tmpdir);
  return harness_report();
}
