/* Zip archives, the container of .npz files (PKWARE APPNOTE 6.3).
 *
 * Writing: each member goes out whole as a local header and its data
 * (stored, or raw deflate via zlib), then the central directory and the
 * end record. Offsets and sizes must fit 32 bits (archives over 4 GiB are
 * refused rather than written as zip64).
 *
 * Reading trusts only the central directory (NumPy writes local headers
 * with zip64 placeholder sizes): the end record is searched in the last
 * 64 KiB, zip64 end records and zip64 extra fields are understood, and
 * every count, size and offset is checked against the file before use.
 * Deflated members are inflated into a buffer of the declared size, which
 * must be reached exactly, and their CRC-32 must match. Encrypted members
 * and other compression methods are refused. */
#include <stdlib.h>
#include <zlib.h>

#include "io.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define DOS_DATE ((0u << 9) | (1u << 5) | 1u) /* 1980-01-01, for reproducible files */
/* zlib's deflate cannot expand data by more than this ratio. */
#define MAX_INFLATE_RATIO 1032u

static void put16(unsigned char* p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char* p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static uint32_t get16(const unsigned char* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const unsigned char* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char* p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* CRC-32 of n bytes, in zlib's 32-bit-length chunks. */
static uint32_t crc_of(const unsigned char* p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
}

/* ---- writing ------------------------------------------------------------ */

int mlx_zipw_open_(mlx_zipw_* w, const char* path, const char* op) {
  memset(w, 0, sizeof *w);
  w->op = op;
  return mlx_wfile_open_(&w->f, path, op);
}

void mlx_zipw_abort_(mlx_zipw_* w) {
  mlx_wfile_abort_(&w->f);
  mlx_sbuf_free_(&w->central);
}

/* Raw deflate of n bytes into a malloc'ed buffer. */
static int deflate_all(unsigned char** out, size_t* out_n, const unsigned char* in, size_t n, const char* op) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] cannot start the compressor", op);
  uLong bound = deflateBound(&z, (uLong)n);
  unsigned char* buf = malloc(bound ? bound : 1);
  if (!buf) {
    deflateEnd(&z);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for %lu compressed bytes", op, (unsigned long)bound);
  }
  size_t in_left = n, done = 0;
  const unsigned char* ip = in;
  int zrc;
  do {
    uInt chunk = in_left > (1u << 30) ? 1u << 30 : (uInt)in_left;
    z.next_in = (Bytef*)ip;
    z.avail_in = chunk;
    ip += chunk;
    in_left -= chunk;
    int flush = in_left ? Z_NO_FLUSH : Z_FINISH;
    do {
      size_t room = bound - done;
      z.next_out = buf + done;
      z.avail_out = room > (1u << 30) ? 1u << 30 : (uInt)room;
      uInt before = z.avail_out;
      zrc = deflate(&z, flush);
      done += before - z.avail_out;
    } while (zrc == Z_OK && (z.avail_in > 0 || flush == Z_FINISH));
  } while (in_left > 0 && zrc == Z_OK);
  deflateEnd(&z);
  if (zrc != Z_STREAM_END) {
    free(buf);
    return mlx_error_(MLX_ERROR_MEMORY, "[%s] compression failed (zlib status %d)", op, zrc);
  }
  *out = buf;
  *out_n = done;
  return MLX_OK;
}

int mlx_zipw_add_(mlx_zipw_* w, const char* name, const void* data, size_t n, int compress) {
  size_t name_len = strlen(name);
  if (name_len == 0 || name_len > 0xFFFF)
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] member name of %zu bytes cannot be stored", w->op, name_len);
  if (w->count >= 0xFFFF) return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] too many members for a zip archive", w->op);
  uint32_t crc = crc_of(data, n);
  unsigned char* packed = NULL;
  size_t csize = n;
  if (compress) MLX_TRY(deflate_all(&packed, &csize, data, n, w->op));
  uint64_t end = w->offset + 30 + name_len + csize;
  if (n >= 0xFFFFFFFFu || csize >= 0xFFFFFFFFu || end >= 0xFFFFFFFFu) {
    free(packed);
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] archives over 4 GiB are not supported by this writer", w->op);
  }
  unsigned char h[30];
  put32(h, SIG_LOCAL);
  put16(h + 4, 20);
  put16(h + 6, 0);
  put16(h + 8, compress ? 8 : 0);
  put16(h + 10, 0);
  put16(h + 12, DOS_DATE);
  put32(h + 14, crc);
  put32(h + 18, (uint32_t)csize);
  put32(h + 22, (uint32_t)n);
  put16(h + 26, (uint32_t)name_len);
  put16(h + 28, 0);
  int rc = mlx_wfile_write_(&w->f, h, 30, w->op);
  if (!rc) rc = mlx_wfile_write_(&w->f, name, name_len, w->op);
  if (!rc) rc = mlx_wfile_write_(&w->f, packed ? packed : data, csize, w->op);
  free(packed);
  MLX_TRY(rc);
  unsigned char c[46];
  put32(c, SIG_CENTRAL);
  put16(c + 4, 3u << 8 | 20); /* made by: Unix, so the attributes below mean Unix modes */
  memcpy(c + 6, h + 4, 26);   /* version needed .. extra length, as in the local header */
  put16(c + 32, 0);         /* comment length */
  put16(c + 34, 0);         /* disk */
  put16(c + 36, 0);         /* internal attributes */
  put32(c + 38, 0600u << 16); /* external: a regular file, rw for its owner (as Python writes) */
  put32(c + 42, (uint32_t)w->offset);
  mlx_sbuf_append_(&w->central, c, 46);
  mlx_sbuf_append_(&w->central, name, name_len);
  if (w->central.failed) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for the directory", w->op);
  w->offset = end;
  w->count++;
  return MLX_OK;
}

int mlx_zipw_close_(mlx_zipw_* w) {
  if (w->offset + w->central.len >= 0xFFFFFFFFu) {
    mlx_zipw_abort_(w);
    return mlx_error_(MLX_ERROR_ARGUMENT, "[%s] archives over 4 GiB are not supported by this writer", w->op);
  }
  unsigned char e[22];
  put32(e, SIG_END);
  put16(e + 4, 0);
  put16(e + 6, 0);
  put16(e + 8, (uint32_t)w->count);
  put16(e + 10, (uint32_t)w->count);
  put32(e + 12, (uint32_t)w->central.len);
  put32(e + 16, (uint32_t)w->offset);
  put16(e + 20, 0);
  int rc = w->central.len ? mlx_wfile_write_(&w->f, w->central.data, w->central.len, w->op) : MLX_OK;
  if (!rc) rc = mlx_wfile_write_(&w->f, e, 22, w->op);
  mlx_sbuf_free_(&w->central);
  if (rc) {
    mlx_wfile_abort_(&w->f);
    return rc;
  }
  return mlx_wfile_commit_(&w->f, w->op);
}

/* ---- reading ------------------------------------------------------------ */

static int bad(const mlx_zipr_* r, const char* what) {
  return mlx_error_(MLX_ERROR_FILE, "[%s] %s is not a valid zip archive: %s", r->op, r->path, what);
}

void mlx_zipr_close_(mlx_zipr_* r) {
  for (size_t i = 0; i < r->n; i++) free(r->entries[i].name);
  free(r->entries);
  r->entries = NULL;
  r->n = 0;
  mlx_rfile_close_(&r->f);
}

/* Finds the end record: the last signature in the final 64 KiB + 22 bytes
 * whose comment length reaches exactly the end of the file. */
static int find_end(mlx_zipr_* r, int64_t* at, unsigned char* rec) {
  int64_t size = r->f.size;
  if (size < 22) return bad(r, "too small");
  int64_t span = size < 22 + 65535 ? size : 22 + 65535;
  unsigned char* tail = malloc((size_t)span);
  if (!tail) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", r->op);
  int rc = mlx_rfile_read_(&r->f, tail, size - span, span, r->op);
  if (rc) {
    free(tail);
    return rc;
  }
  for (int64_t i = span - 22; i >= 0; i--) {
    if (get32(tail + i) == SIG_END && i + 22 + (int64_t)get16(tail + i + 20) == span) {
      memcpy(rec, tail + i, 22);
      *at = size - span + i;
      free(tail);
      return MLX_OK;
    }
  }
  free(tail);
  return bad(r, "no end of central directory record");
}

/* Applies a zip64 extra field (id 1) to the fields saturated at 0xFFFFFFFF. */
static int read_extra(const mlx_zipr_* r, mlx_zip_entry_* e, const unsigned char* x, size_t n, int need_u, int need_c,
                      int need_o) {
  size_t i = 0;
  while (i + 4 <= n) {
    uint32_t id = get16(x + i), len = get16(x + i + 2);
    if (len > n - i - 4) return bad(r, "extra field runs past its entry");
    if (id == 1) {
      const unsigned char* p = x + i + 4;
      size_t left = len;
      if (need_u) {
        if (left < 8) return bad(r, "short zip64 extra field");
        e->usize = get64(p), p += 8, left -= 8;
      }
      if (need_c) {
        if (left < 8) return bad(r, "short zip64 extra field");
        e->csize = get64(p), p += 8, left -= 8;
      }
      if (need_o) {
        if (left < 8) return bad(r, "short zip64 extra field");
        e->local_offset = get64(p);
      }
      return MLX_OK;
    }
    i += 4 + len;
  }
  if (need_u || need_c || need_o) return bad(r, "missing zip64 extra field");
  return MLX_OK;
}

static int parse_directory(mlx_zipr_* r, const unsigned char* cd, uint64_t cd_size, uint64_t count) {
  r->entries = calloc(count ? count : 1, sizeof *r->entries);
  if (!r->entries) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", r->op);
  uint64_t at = 0;
  for (uint64_t k = 0; k < count; k++) {
    if (cd_size - at < 46 || get32(cd + at) != SIG_CENTRAL) return bad(r, "bad central directory entry");
    const unsigned char* c = cd + at;
    uint32_t flags = get16(c + 8), method = get16(c + 10);
    uint32_t nlen = get16(c + 28), xlen = get16(c + 30), clen = get16(c + 32);
    if ((uint64_t)nlen + xlen + clen > cd_size - at - 46) return bad(r, "central directory entry runs past its end");
    if (flags & 1u) return bad(r, "encrypted members are not supported");
    if (method != 0 && method != 8) return bad(r, "unsupported compression method (only stored and deflate)");
    mlx_zip_entry_* e = &r->entries[k];
    r->n = k + 1;
    e->method = (int)method;
    e->crc = get32(c + 16);
    e->csize = get32(c + 20);
    e->usize = get32(c + 24);
    e->local_offset = get32(c + 42);
    MLX_TRY(read_extra(r, e, c + 46 + nlen, xlen, e->usize == 0xFFFFFFFFu, e->csize == 0xFFFFFFFFu,
                       e->local_offset == 0xFFFFFFFFu));
    if (nlen == 0 || memchr(c + 46, 0, nlen)) return bad(r, "empty member name or a NUL in it");
    e->name = malloc(nlen + 1);
    if (!e->name) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", r->op);
    memcpy(e->name, c + 46, nlen);
    e->name[nlen] = '\0';
    if (e->method == 0 && e->csize != e->usize) return bad(r, "stored member with different sizes");
    if (e->local_offset > r->cd_offset || e->csize > r->cd_offset - e->local_offset)
      return bad(r, "member data outside the archive");
    if (e->method == 8 && e->usize / MAX_INFLATE_RATIO > e->csize + 1) return bad(r, "impossible compression ratio");
    at += 46 + (uint64_t)nlen + xlen + clen;
  }
  return MLX_OK;
}

static int open_archive(mlx_zipr_* r) {
  unsigned char e[22] = {0};
  int64_t end_at = 0;
  MLX_TRY(find_end(r, &end_at, e));
  if (get16(e + 4) != 0 || get16(e + 6) != 0) return bad(r, "multi-disk archives are not supported");
  uint64_t count = get16(e + 10), cd_size = get32(e + 12), cd_offset = get32(e + 16);
  int64_t cd_limit = end_at;
  if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
    unsigned char loc[20], e64[56];
    if (end_at < 20) return bad(r, "missing zip64 locator");
    MLX_TRY(mlx_rfile_read_(&r->f, loc, end_at - 20, 20, r->op));
    if (get32(loc) != SIG_LOC64) return bad(r, "missing zip64 locator");
    uint64_t at = get64(loc + 8);
    if (at > (uint64_t)(end_at - 20) || (uint64_t)(end_at - 20) - at < 56) return bad(r, "bad zip64 end record offset");
    MLX_TRY(mlx_rfile_read_(&r->f, e64, (int64_t)at, 56, r->op));
    if (get32(e64) != SIG_END64) return bad(r, "bad zip64 end record");
    count = get64(e64 + 32);
    cd_size = get64(e64 + 40);
    cd_offset = get64(e64 + 48);
    cd_limit = (int64_t)at;
  }
  if (cd_offset > (uint64_t)cd_limit || cd_size > (uint64_t)cd_limit - cd_offset)
    return bad(r, "central directory outside the file");
  if (count > cd_size / 46) return bad(r, "more entries than the central directory can hold");
  r->cd_offset = cd_offset;
  unsigned char* cd = malloc(cd_size ? cd_size : 1);
  if (!cd) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory", r->op);
  int rc = mlx_rfile_read_(&r->f, cd, (int64_t)cd_offset, (int64_t)cd_size, r->op);
  if (!rc) rc = parse_directory(r, cd, cd_size, count);
  free(cd);
  return rc;
}

int mlx_zipr_open_(mlx_zipr_* r, const char* path, const char* op) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->op = op;
  MLX_TRY(mlx_rfile_open_(&r->f, path, op));
  int rc = open_archive(r);
  if (rc) mlx_zipr_close_(r);
  return rc;
}

static int inflate_all(mlx_zipr_* r, unsigned char* out, size_t n, const unsigned char* in, size_t cn, const char* name) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -15) != Z_OK) return mlx_error_(MLX_ERROR_MEMORY, "[%s] cannot start the decompressor", r->op);
  size_t in_done = 0, out_done = 0;
  int zrc = Z_OK;
  for (;;) {
    if (z.avail_in == 0 && in_done < cn) {
      size_t chunk = cn - in_done > (1u << 30) ? 1u << 30 : cn - in_done;
      z.next_in = (Bytef*)(in + in_done);
      z.avail_in = (uInt)chunk;
      in_done += chunk;
    }
    size_t room = n - out_done;
    /* One spare byte of room shows data beyond the declared size. */
    unsigned char spare;
    z.next_out = room ? out + out_done : &spare;
    z.avail_out = room ? (room > (1u << 30) ? 1u << 30 : (uInt)room) : 1;
    uInt before = z.avail_out;
    zrc = inflate(&z, Z_NO_FLUSH);
    size_t got = before - z.avail_out;
    if (!room && got) {
      zrc = Z_DATA_ERROR;
      break;
    }
    out_done += got;
    if (zrc == Z_STREAM_END) break;
    if (zrc != Z_OK) break;
    if (got == 0 && z.avail_in == 0 && in_done == cn) {
      zrc = Z_BUF_ERROR;
      break;
    }
  }
  inflateEnd(&z);
  if (zrc == Z_MEM_ERROR) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory while decompressing", r->op);
  if (zrc != Z_STREAM_END || out_done != n)
    return mlx_error_(MLX_ERROR_FILE, "[%s] member '%.200s' of %s: corrupt deflate data", r->op, name, r->path);
  return MLX_OK;
}

int mlx_zipr_read_(mlx_zipr_* r, size_t i, unsigned char** data, size_t* n) {
  mlx_zip_entry_* e = &r->entries[i];
  unsigned char h[30];
  if (r->cd_offset - e->local_offset < 30) return bad(r, "local header outside the archive");
  MLX_TRY(mlx_rfile_read_(&r->f, h, (int64_t)e->local_offset, 30, r->op));
  if (get32(h) != SIG_LOCAL) return bad(r, "bad local header signature");
  uint64_t data_at = e->local_offset + 30 + get16(h + 26) + get16(h + 28);
  if (data_at > r->cd_offset || e->csize > r->cd_offset - data_at) return bad(r, "member data outside the archive");
  if (e->usize > (uint64_t)SIZE_MAX - 1 || e->csize > (uint64_t)SIZE_MAX - 1)
    return bad(r, "member too large for this machine");
  unsigned char* packed = malloc(e->csize ? (size_t)e->csize : 1);
  if (!packed) return mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for %llu bytes", r->op, (unsigned long long)e->csize);
  int rc = mlx_rfile_read_(&r->f, packed, (int64_t)data_at, (int64_t)e->csize, r->op);
  if (rc) {
    free(packed);
    return rc;
  }
  unsigned char* out = packed;
  if (e->method == 8) {
    out = malloc(e->usize ? (size_t)e->usize : 1);
    if (!out) rc = mlx_error_(MLX_ERROR_MEMORY, "[%s] out of memory for %llu bytes", r->op, (unsigned long long)e->usize);
    else rc = inflate_all(r, out, (size_t)e->usize, packed, (size_t)e->csize, e->name);
    free(packed);
    if (rc) {
      free(out);
      return rc;
    }
  }
  if (crc_of(out, (size_t)e->usize) != e->crc) {
    free(out);
    return mlx_error_(MLX_ERROR_FILE, "[%s] member '%.200s' of %s: CRC-32 mismatch", r->op, e->name, r->path);
  }
  *data = out;
  *n = (size_t)e->usize;
  return MLX_OK;
}
