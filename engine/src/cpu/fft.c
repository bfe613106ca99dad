/* CPU kernel of the "fft" primitive: complex-to-complex, real-to-complex
 * and complex-to-real transforms of any length along any axes.
 *
 * Lines along a transformed axis are gathered VL at a time into scratch
 * where element j holds VL complex values (VL reals, then VL imaginaries),
 * so every butterfly works on VL lines at once with SIMD vectors whatever
 * the line length or stride. Lengths whose prime factors are at most
 * GENERIC_MAX use a mixed-radix (8, 4, 2, 3, 5, generic odd) Stockham
 * autosort FFT with twiddles computed in double; others use Bluestein's
 * chirp-z convolution through a smooth (2, 3, 5) length. Only the forward
 * (e^{-i}) transform is planned: the inverse conjugates on the way in and
 * out. Real transforms pack two real lines into one complex line (x + iy),
 * so they cost half a complex transform of the same length. A few long
 * lines of composite length run as the four-step algorithm on top of the
 * same machinery instead (run_long).
 *
 * Plans are built once per length and cached for the life of the process
 * (a mutex guards the cache; plans are immutable once published). */
#include "fft.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define VL 8
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
/* One element of VL lines. */
typedef struct cv {
  vf re, im;
} cv;

/* Largest prime handled by a direct radix pass; larger ones go through
 * Bluestein, whose cost grows like log n instead of p. */
#define GENERIC_MAX 61
#define MAX_STAGES 64
/* Most dimensions of an array the kernel handles. */
#define MAX_DIMS 96

typedef struct stage {
  int radix;
  int64_t ns;      /* product of the radices of the earlier stages */
  float* tw;       /* ns * (radix - 1) (re, im) pairs: e^{-2 pi i r k / (ns radix)} */
  float* cs;       /* generic radix: cos and sin of 2 pi q / radix, q < radix */
} stage;

typedef struct plan {
  int64_t n;
  int nstages;
  stage st[MAX_STAGES];
  int64_t m;         /* Bluestein: the convolution length (0: direct) */
  struct plan* sub;  /* Bluestein: the direct plan of length m */
  float* chirp;      /* Bluestein: n pairs e^{-i pi k^2 / n} */
  float* kern;       /* Bluestein: m pairs, DFT of the conjugate chirp / m */
  struct plan* next; /* the cache list */
} plan;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static plan* cache;

/* ---- butterflies -------------------------------------------------------- */

static inline cv cmul(cv a, float wr, float wi) {
  cv r;
  r.re = a.re * wr - a.im * wi;
  r.im = a.re * wi + a.im * wr;
  return r;
}

static inline cv cadd(cv a, cv b) {
  cv r = {a.re + b.re, a.im + b.im};
  return r;
}

static inline cv csub(cv a, cv b) {
  cv r = {a.re - b.re, a.im - b.im};
  return r;
}

/* One Stockham pass of radix R on sub-transforms of size ns: reads x at
 * stride n / R, writes y in blocks of ns. */
static void pass2(int64_t n, int64_t ns, const float* restrict tw, const cv* restrict x, cv* restrict y) {
  int64_t m = n / 2, nq = m / ns;
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * 2;
    for (int64_t k = 0; k < ns; k++) {
      cv a0 = xs[k], a1 = cmul(xs[k + m], tw[2 * k], tw[2 * k + 1]);
      o[k] = cadd(a0, a1);
      o[k + ns] = csub(a0, a1);
    }
  }
}

static void pass4(int64_t n, int64_t ns, const float* restrict tw, const cv* restrict x, cv* restrict y) {
  int64_t m = n / 4, nq = m / ns;
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * 4;
    for (int64_t k = 0; k < ns; k++) {
      const float* w = tw + 6 * k;
      cv a0 = xs[k];
      cv a1 = cmul(xs[k + m], w[0], w[1]);
      cv a2 = cmul(xs[k + 2 * m], w[2], w[3]);
      cv a3 = cmul(xs[k + 3 * m], w[4], w[5]);
      cv t0 = cadd(a0, a2), t1 = csub(a0, a2), t2 = cadd(a1, a3), t3 = csub(a1, a3);
      o[k] = cadd(t0, t2);
      o[k + 2 * ns] = csub(t0, t2);
      cv y1 = {t1.re + t3.im, t1.im - t3.re}, y3 = {t1.re - t3.im, t1.im + t3.re};
      o[k + ns] = y1;
      o[k + 3 * ns] = y3;
    }
  }
}

/* Forward radix-4 DFT of four values. */
static inline void dft4(cv b0, cv b1, cv b2, cv b3, cv* y0, cv* y1, cv* y2, cv* y3) {
  cv t0 = cadd(b0, b2), t1 = csub(b0, b2), t2 = cadd(b1, b3), t3 = csub(b1, b3);
  *y0 = cadd(t0, t2);
  *y2 = csub(t0, t2);
  y1->re = t1.re + t3.im, y1->im = t1.im - t3.re;
  y3->re = t1.re - t3.im, y3->im = t1.im + t3.re;
}

/* Radix 8 as two radix-4 DFTs (even and odd inputs) joined by the
 * eighth roots of unity; the first pass (ns == 1) skips the twiddles. */
static void pass8(int64_t n, int64_t ns, const float* restrict tw, const cv* restrict x, cv* restrict y) {
  const float h = 0.707106781186547524400844362104849039f;
  int64_t m = n / 8, nq = m / ns;
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * 8;
    for (int64_t k = 0; k < ns; k++) {
      cv a[8];
      a[0] = xs[k];
      if (ns == 1) {
        for (int r = 1; r < 8; r++) a[r] = xs[k + r * m];
      } else {
        const float* w = tw + 14 * k;
        for (int r = 1; r < 8; r++) a[r] = cmul(xs[k + r * m], w[2 * (r - 1)], w[2 * (r - 1) + 1]);
      }
      cv e0, e1, e2, e3, o0, o1, o2, o3;
      dft4(a[0], a[2], a[4], a[6], &e0, &e1, &e2, &e3);
      dft4(a[1], a[3], a[5], a[7], &o0, &o1, &o2, &o3);
      cv w1 = {(o1.re + o1.im) * h, (o1.im - o1.re) * h};
      cv w2 = {o2.im, -o2.re};
      cv w3 = {(o3.im - o3.re) * h, -(o3.re + o3.im) * h};
      o[k] = cadd(e0, o0);
      o[k + 4 * ns] = csub(e0, o0);
      o[k + ns] = cadd(e1, w1);
      o[k + 5 * ns] = csub(e1, w1);
      o[k + 2 * ns] = cadd(e2, w2);
      o[k + 6 * ns] = csub(e2, w2);
      o[k + 3 * ns] = cadd(e3, w3);
      o[k + 7 * ns] = csub(e3, w3);
    }
  }
}

static void pass3(int64_t n, int64_t ns, const float* restrict tw, const cv* restrict x, cv* restrict y) {
  const float s3 = 0.866025403784438646763723170752936183f;
  int64_t m = n / 3, nq = m / ns;
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * 3;
    for (int64_t k = 0; k < ns; k++) {
      const float* w = tw + 4 * k;
      cv a0 = xs[k];
      cv a1 = cmul(xs[k + m], w[0], w[1]);
      cv a2 = cmul(xs[k + 2 * m], w[2], w[3]);
      cv t1 = cadd(a1, a2), d = csub(a1, a2);
      cv t2 = {a0.re - 0.5f * t1.re, a0.im - 0.5f * t1.im};
      o[k] = cadd(a0, t1);
      cv y1 = {t2.re + s3 * d.im, t2.im - s3 * d.re}, y2 = {t2.re - s3 * d.im, t2.im + s3 * d.re};
      o[k + ns] = y1;
      o[k + 2 * ns] = y2;
    }
  }
}

static void pass5(int64_t n, int64_t ns, const float* restrict tw, const cv* restrict x, cv* restrict y) {
  const float c1 = 0.309016994374947424102293417182819059f, c2 = -0.809016994374947424102293417182819059f;
  const float s1 = 0.951056516295153572116439333379382143f, s2 = 0.587785252292473129168705954639072769f;
  int64_t m = n / 5, nq = m / ns;
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * 5;
    for (int64_t k = 0; k < ns; k++) {
      const float* w = tw + 8 * k;
      cv a0 = xs[k];
      cv a1 = cmul(xs[k + m], w[0], w[1]);
      cv a2 = cmul(xs[k + 2 * m], w[2], w[3]);
      cv a3 = cmul(xs[k + 3 * m], w[4], w[5]);
      cv a4 = cmul(xs[k + 4 * m], w[6], w[7]);
      cv b1 = cadd(a1, a4), b2 = cadd(a2, a3), d1 = csub(a1, a4), d2 = csub(a2, a3);
      cv y0 = {a0.re + b1.re + b2.re, a0.im + b1.im + b2.im};
      cv m1 = {a0.re + c1 * b1.re + c2 * b2.re, a0.im + c1 * b1.im + c2 * b2.im};
      cv m2 = {a0.re + c2 * b1.re + c1 * b2.re, a0.im + c2 * b1.im + c1 * b2.im};
      cv n1 = {s1 * d1.re + s2 * d2.re, s1 * d1.im + s2 * d2.im};
      cv n2 = {s2 * d1.re - s1 * d2.re, s2 * d1.im - s1 * d2.im};
      o[k] = y0;
      cv y1 = {m1.re + n1.im, m1.im - n1.re}, y4 = {m1.re - n1.im, m1.im + n1.re};
      cv y2 = {m2.re + n2.im, m2.im - n2.re}, y3 = {m2.re - n2.im, m2.im + n2.re};
      o[k + ns] = y1;
      o[k + 2 * ns] = y2;
      o[k + 3 * ns] = y3;
      o[k + 4 * ns] = y4;
    }
  }
}

/* Any odd radix p <= GENERIC_MAX: pairs r, p - r share cosines, so each
 * output pair costs (p - 1) / 2 real multiply-adds per input pair. */
static void passg(int64_t n, int64_t ns, int p, const float* restrict tw, const float* restrict cs,
                  const cv* restrict x, cv* restrict y) {
  int64_t m = n / p, nq = m / ns;
  int h = (p - 1) / 2;
  cv a[GENERIC_MAX], b[GENERIC_MAX / 2 + 1], d[GENERIC_MAX / 2 + 1];
  for (int64_t q = 0; q < nq; q++) {
    const cv* xs = x + q * ns;
    cv* o = y + q * ns * p;
    for (int64_t k = 0; k < ns; k++) {
      const float* w = tw + 2 * (p - 1) * k;
      a[0] = xs[k];
      for (int r = 1; r < p; r++) a[r] = cmul(xs[k + r * m], w[2 * (r - 1)], w[2 * (r - 1) + 1]);
      cv y0 = a[0];
      for (int r = 1; r <= h; r++) {
        b[r] = cadd(a[r], a[p - r]);
        d[r] = csub(a[r], a[p - r]);
        y0 = cadd(y0, b[r]);
      }
      o[k] = y0;
      for (int qq = 1; qq <= h; qq++) {
        cv mm = a[0], nn = {{0}, {0}};
        for (int r = 1; r <= h; r++) {
          int idx = (int)(((int64_t)qq * r) % p);
          float c = cs[2 * idx], s = cs[2 * idx + 1];
          mm.re += c * b[r].re;
          mm.im += c * b[r].im;
          nn.re += s * d[r].re;
          nn.im += s * d[r].im;
        }
        cv yq = {mm.re + nn.im, mm.im - nn.re}, yp = {mm.re - nn.im, mm.im + nn.re};
        o[k + qq * ns] = yq;
        o[k + (p - qq) * ns] = yp;
      }
    }
  }
}

/* Runs a direct plan on a (n elements) with scratch b; returns the buffer
 * (a or b) that holds the result. */
static cv* run_direct(const plan* p, cv* a, cv* b) {
  cv *x = a, *y = b;
  for (int s = 0; s < p->nstages; s++) {
    const stage* st = &p->st[s];
    switch (st->radix) {
      case 2: pass2(p->n, st->ns, st->tw, x, y); break;
      case 3: pass3(p->n, st->ns, st->tw, x, y); break;
      case 4: pass4(p->n, st->ns, st->tw, x, y); break;
      case 5: pass5(p->n, st->ns, st->tw, x, y); break;
      case 8: pass8(p->n, st->ns, st->tw, x, y); break;
      default: passg(p->n, st->ns, st->radix, st->tw, st->cs, x, y); break;
    }
    cv* t = x;
    x = y;
    y = t;
  }
  return x;
}

/* The forward DFT of a[0..n) (a and b hold scratch_len(p) elements);
 * returns the buffer holding the n results. */
static cv* run_plan(const plan* p, cv* a, cv* b) {
  if (!p->m) return run_direct(p, a, b);
  int64_t n = p->n, m = p->m;
  const float* ch = p->chirp;
  for (int64_t j = 0; j < n; j++) a[j] = cmul(a[j], ch[2 * j], ch[2 * j + 1]);
  memset(a + n, 0, sizeof(cv) * (size_t)(m - n));
  cv* r = run_direct(p->sub, a, b);
  cv* o = r == a ? b : a;
  /* The convolution's inverse DFT as conj(DFT(conj(.))). */
  const float* kf = p->kern;
  for (int64_t k = 0; k < m; k++) {
    cv t = cmul(r[k], kf[2 * k], kf[2 * k + 1]);
    t.im = -t.im;
    r[k] = t;
  }
  cv* r2 = run_direct(p->sub, r, o);
  for (int64_t k = 0; k < n; k++) {
    cv t = r2[k];
    t.im = -t.im;
    r2[k] = cmul(t, ch[2 * k], ch[2 * k + 1]);
  }
  return r2;
}

static int64_t scratch_len(const plan* p) {
  return p->m ? p->m : p->n;
}

/* ---- planning ----------------------------------------------------------- */

static void free_plan(plan* p) {
  if (!p) return;
  for (int s = 0; s < p->nstages; s++) {
    free(p->st[s].tw);
    free(p->st[s].cs);
  }
  free(p->chirp);
  free(p->kern);
  free(p);
}

/* Radices of n, 8s and 4s first; 0 when a prime factor exceeds
 * GENERIC_MAX. */
static int factorize(int64_t n, int* f) {
  int k = 0;
  while (n % 8 == 0) f[k++] = 8, n /= 8;
  while (n % 4 == 0) f[k++] = 4, n /= 4;
  while (n % 2 == 0) f[k++] = 2, n /= 2;
  for (int64_t p = 3; p * p <= n; p += 2)
    while (n % p == 0) {
      if (p > GENERIC_MAX) return 0;
      f[k++] = (int)p, n /= p;
    }
  if (n > 1) {
    if (n > GENERIC_MAX) return 0;
    f[k++] = (int)n;
  }
  return k;
}

/* e^{-2 pi i num / den} in double, rounded to float pairs. */
static void twiddle(float* out, int64_t num, int64_t den) {
  num %= den;
  double a = -2.0 * M_PI * ((double)num / (double)den);
  out[0] = (float)cos(a);
  out[1] = (float)sin(a);
}

static plan* build_direct(int64_t n) {
  int f[MAX_STAGES];
  int nf = n == 1 ? 0 : factorize(n, f);
  if (n > 1 && nf == 0) return NULL;
  plan* p = calloc(1, sizeof(plan));
  if (!p) return NULL;
  p->n = n;
  int64_t ns = 1;
  for (int s = 0; s < nf; s++) {
    stage* st = &p->st[p->nstages++];
    int r = f[s];
    st->radix = r;
    st->ns = ns;
    st->tw = malloc(sizeof(float) * 2 * (size_t)(ns * (r - 1)));
    if (!st->tw) goto fail;
    for (int64_t k = 0; k < ns; k++)
      for (int q = 1; q < r; q++) twiddle(st->tw + 2 * (k * (r - 1) + q - 1), q * k, ns * r);
    if (r > 5) {
      st->cs = malloc(sizeof(float) * 2 * (size_t)r);
      if (!st->cs) goto fail;
      for (int q = 0; q < r; q++) {
        double a = 2.0 * M_PI * q / r;
        st->cs[2 * q] = (float)cos(a);
        st->cs[2 * q + 1] = (float)sin(a);
      }
    }
    ns *= r;
  }
  return p;
fail:
  free_plan(p);
  return NULL;
}

/* Smallest 2^a 3^b 5^c >= n. */
static int64_t smooth_at_least(int64_t n) {
  int64_t best = INT64_MAX;
  for (int64_t f5 = 1; f5 < best; f5 *= 5)
    for (int64_t f35 = f5; f35 < best; f35 *= 3) {
      int64_t v = f35;
      while (v < n) v *= 2;
      if (v < best) best = v;
      if (f35 > INT64_MAX / 3) break;
    }
  return best;
}

static plan* build_plan(int64_t n) {
  plan* p = build_direct(n);
  if (p) return p;
  /* Bluestein: X_k = w_k sum_j (x_j w_j) conj(w_{k-j}), w_j = e^{-i pi j^2 / n}. */
  p = calloc(1, sizeof(plan));
  if (!p) return NULL;
  p->n = n;
  p->m = smooth_at_least(2 * n - 1);
  int64_t m = p->m;
  p->sub = build_direct(m);
  p->chirp = malloc(sizeof(float) * 2 * (size_t)n);
  p->kern = malloc(sizeof(float) * 2 * (size_t)m);
  cv* a = aligned_alloc(64, sizeof(cv) * (size_t)m);
  cv* b = aligned_alloc(64, sizeof(cv) * (size_t)m);
  if (!p->sub || !p->chirp || !p->kern || !a || !b) {
    free(a), free(b);
    free_plan(p->sub);
    p->sub = NULL;
    free_plan(p);
    return NULL;
  }
  for (int64_t j = 0; j < n; j++) {
    /* j^2 mod 2n exactly, so the angle keeps full precision. */
    unsigned __int128 sq = (unsigned __int128)j * (unsigned __int128)j;
    int64_t r = (int64_t)(sq % (unsigned __int128)(2 * n));
    double ang = -M_PI * ((double)r / (double)n);
    p->chirp[2 * j] = (float)cos(ang);
    p->chirp[2 * j + 1] = (float)sin(ang);
  }
  memset(a, 0, sizeof(cv) * (size_t)m);
  float inv_m = (float)(1.0 / (double)m);
  for (int64_t j = 0; j < n; j++) {
    float re = p->chirp[2 * j], im = -p->chirp[2 * j + 1];
    a[j].re[0] = re, a[j].im[0] = im;
    if (j) a[m - j].re[0] = re, a[m - j].im[0] = im;
  }
  cv* r = run_direct(p->sub, a, b);
  for (int64_t k = 0; k < m; k++) {
    p->kern[2 * k] = r[k].re[0] * inv_m;
    p->kern[2 * k + 1] = r[k].im[0] * inv_m;
  }
  free(a), free(b);
  return p;
}

/* The cached plan of length n (built on first use), or NULL when out of
 * memory. */
static const plan* get_plan(int64_t n) {
  pthread_mutex_lock(&cache_lock);
  plan* p = cache;
  while (p && p->n != n) p = p->next;
  if (!p) {
    p = build_plan(n);
    if (p) {
      p->next = cache;
      cache = p;
    }
  }
  pthread_mutex_unlock(&cache_lock);
  return p;
}

/* ---- passes over lines -------------------------------------------------- */

enum { PASS_C2C, PASS_R2C, PASS_C2R };

typedef struct pass {
  int kind;
  int inverse;
  int64_t n;       /* logical transform size */
  int64_t in_len;  /* source elements along the axis */
  int64_t out_len; /* destination elements along the axis */
  int64_t in_step, out_step; /* element strides along the axis */
  int nd;          /* the other axes */
  int64_t dims[MAX_DIMS];
  int64_t in_str[MAX_DIMS];
  int64_t out_str[MAX_DIMS];
  int64_t lines;
  const float* src; /* complex as (re, im) floats, or real floats */
  float* dst;
  float scale;
  const plan* p;
  atomic_int failed;
} pass;

static void line_offsets(const pass* ps, int64_t li, int64_t* in_off, int64_t* out_off) {
  int64_t io = 0, oo = 0;
  for (int d = ps->nd - 1; d >= 0; d--) {
    int64_t i = li % ps->dims[d];
    li /= ps->dims[d];
    io += i * ps->in_str[d];
    oo += i * ps->out_str[d];
  }
  *in_off = io;
  *out_off = oo;
}

/* ---- gathering lines into lanes and back ---------------------------------
 * Fast paths for full groups: lines contiguous along the axis (a row each:
 * an 8x8 transpose moves 4 complex or 8 real values of 8 lines at once),
 * and lines adjacent in memory (a strided axis: one lane per neighbour,
 * plain vector loads). Anything else goes element by element. */

typedef int vi __attribute__((vector_size(VL * sizeof(int))));

/* r[k][l] = r[l][k] for 8 vectors of 8 floats. */
static inline void transpose8(vf* r) {
  const vi lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
  const vi s0 = {0, 1, 8, 9, 4, 5, 12, 13}, s1 = {2, 3, 10, 11, 6, 7, 14, 15};
  const vi p0 = {0, 1, 2, 3, 8, 9, 10, 11}, p1 = {4, 5, 6, 7, 12, 13, 14, 15};
  vf t0 = __builtin_shuffle(r[0], r[1], lo), t1 = __builtin_shuffle(r[0], r[1], hi);
  vf t2 = __builtin_shuffle(r[2], r[3], lo), t3 = __builtin_shuffle(r[2], r[3], hi);
  vf t4 = __builtin_shuffle(r[4], r[5], lo), t5 = __builtin_shuffle(r[4], r[5], hi);
  vf t6 = __builtin_shuffle(r[6], r[7], lo), t7 = __builtin_shuffle(r[6], r[7], hi);
  vf u0 = __builtin_shuffle(t0, t2, s0), u1 = __builtin_shuffle(t0, t2, s1);
  vf u2 = __builtin_shuffle(t1, t3, s0), u3 = __builtin_shuffle(t1, t3, s1);
  vf u4 = __builtin_shuffle(t4, t6, s0), u5 = __builtin_shuffle(t4, t6, s1);
  vf u6 = __builtin_shuffle(t5, t7, s0), u7 = __builtin_shuffle(t5, t7, s1);
  r[0] = __builtin_shuffle(u0, u4, p0);
  r[1] = __builtin_shuffle(u1, u5, p0);
  r[2] = __builtin_shuffle(u2, u6, p0);
  r[3] = __builtin_shuffle(u3, u7, p0);
  r[4] = __builtin_shuffle(u0, u4, p1);
  r[5] = __builtin_shuffle(u1, u5, p1);
  r[6] = __builtin_shuffle(u2, u6, p1);
  r[7] = __builtin_shuffle(u3, u7, p1);
}

static inline vf loadv(const float* p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void storev(float* p, vf v) {
  memcpy(p, &v, sizeof v);
}

/* 1 when the VL lines at offs[0..VL) are neighbours in memory. */
static int adjacent(const int64_t* offs) {
  for (int l = 1; l < VL; l++)
    if (offs[l] != offs[0] + l) return 0;
  return 1;
}

static void offsets(const pass* ps, int64_t l0, int cnt, int64_t* in_offs, int64_t* out_offs) {
  for (int l = 0; l < cnt; l++) line_offsets(ps, l0 + l, &in_offs[l], &out_offs[l]);
}

/* Complex lines [l0, l0 + cnt) into a, conjugated for the inverse. */
static void gather_c(const pass* ps, int64_t l0, int cnt, cv* a, int64_t* out_offs) {
  int64_t io[VL];
  offsets(ps, l0, cnt, io, out_offs);
  float* fa = (float*)a;
  int64_t n = ps->n, len = ps->in_len < n ? ps->in_len : n, st = ps->in_step, j = 0;
  if (cnt < VL) memset(a, 0, sizeof(cv) * (size_t)n);
  else if (len < n) memset(a + len, 0, sizeof(cv) * (size_t)(n - len));
  const float* src = ps->src;
  vf sg = {1, 1, 1, 1, 1, 1, 1, 1};
  if (ps->inverse) sg = -sg;
  if (cnt == VL && st == 1) {
    for (; j + 4 <= len; j += 4) {
      vf r[8];
      for (int l = 0; l < VL; l++) r[l] = loadv(src + 2 * (io[l] + j));
      transpose8(r);
      for (int t = 0; t < 4; t++) a[j + t].re = r[2 * t], a[j + t].im = r[2 * t + 1] * sg;
    }
  } else if (cnt == VL && adjacent(io)) {
    const vi ev = {0, 2, 4, 6, 8, 10, 12, 14}, od = {1, 3, 5, 7, 9, 11, 13, 15};
    for (; j < len; j++) {
      const float* p = src + 2 * (io[0] + j * st);
      vf v0 = loadv(p), v1 = loadv(p + VL);
      a[j].re = __builtin_shuffle(v0, v1, ev);
      a[j].im = __builtin_shuffle(v0, v1, od) * sg;
    }
  }
  float s = ps->inverse ? -1.0f : 1.0f;
  for (; j < len; j++)
    for (int l = 0; l < cnt; l++) {
      const float* p = src + 2 * (io[l] + j * st);
      fa[j * 2 * VL + l] = p[0];
      fa[j * 2 * VL + VL + l] = s * p[1];
    }
}

static void scatter_c(const pass* ps, int cnt, const cv* r, const int64_t* out_offs) {
  const float* fr = (const float*)r;
  int64_t n = ps->n, st = ps->out_step, j = 0;
  float sc = ps->scale, si = ps->inverse ? -sc : sc;
  float* dst = ps->dst;
  if (cnt == VL && st == 1) {
    for (; j + 4 <= n; j += 4) {
      vf v[8];
      for (int t = 0; t < 4; t++) v[2 * t] = r[j + t].re * sc, v[2 * t + 1] = r[j + t].im * si;
      transpose8(v);
      for (int l = 0; l < VL; l++) storev(dst + 2 * (out_offs[l] + j), v[l]);
    }
  } else if (cnt == VL && adjacent(out_offs)) {
    const vi lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
    for (; j < n; j++) {
      vf re = r[j].re * sc, im = r[j].im * si;
      float* p = dst + 2 * (out_offs[0] + j * st);
      storev(p, __builtin_shuffle(re, im, lo));
      storev(p + VL, __builtin_shuffle(re, im, hi));
    }
  }
  for (; j < n; j++)
    for (int l = 0; l < cnt; l++) {
      float* d = dst + 2 * (out_offs[l] + j * st);
      d[0] = fr[j * 2 * VL + l] * sc;
      d[1] = fr[j * 2 * VL + VL + l] * si;
    }
}

/* Two real lines per lane: line l0 + l as the real part, l0 + VL + l as
 * the imaginary part. */
static void gather_r(const pass* ps, int64_t l0, int cnt, cv* a, int64_t* out_offs) {
  int64_t io[2 * VL];
  offsets(ps, l0, cnt, io, out_offs);
  float* fa = (float*)a;
  int64_t n = ps->n, len = ps->in_len < n ? ps->in_len : n, st = ps->in_step, j = 0;
  if (cnt < 2 * VL) memset(a, 0, sizeof(cv) * (size_t)n);
  else if (len < n) memset(a + len, 0, sizeof(cv) * (size_t)(n - len));
  const float* src = ps->src;
  if (cnt == 2 * VL && st == 1) {
    for (; j + 8 <= len; j += 8) {
      vf re[8], im[8];
      for (int l = 0; l < VL; l++) re[l] = loadv(src + io[l] + j), im[l] = loadv(src + io[VL + l] + j);
      transpose8(re);
      transpose8(im);
      for (int t = 0; t < 8; t++) a[j + t].re = re[t], a[j + t].im = im[t];
    }
  } else if (cnt == 2 * VL && adjacent(io) && io[VL] == io[0] + VL) {
    for (; j < len; j++) {
      const float* p = src + io[0] + j * st;
      a[j].re = loadv(p);
      a[j].im = loadv(p + VL);
    }
  }
  for (; j < len; j++)
    for (int l = 0; l < cnt; l++) fa[j * 2 * VL + l] = src[io[l] + j * st]; /* re lanes, then im lanes */
}

/* The half spectra of the two real lines of each lane from Z = X + iY:
 * X_k = (Z_k + conj Z_{n-k}) / 2, Y_k = (Z_k - conj Z_{n-k}) / 2i. */
static inline void unpack_r2c(const cv* r, int64_t n, int64_t k, float h, cv* x, cv* y) {
  cv z = r[k], c = r[k ? n - k : 0];
  x->re = (z.re + c.re) * h;
  x->im = (z.im - c.im) * h;
  y->re = (z.im + c.im) * h;
  y->im = (c.re - z.re) * h;
}

static void scatter_r2c(const pass* ps, int cnt, const cv* r, const int64_t* out_offs) {
  int64_t n = ps->n, m = ps->out_len, st = ps->out_step, k = 0;
  float h = 0.5f * ps->scale;
  float* dst = ps->dst;
  if (cnt == 2 * VL && st == 1) {
    for (; k + 4 <= m; k += 4) {
      vf xs[8], ys[8];
      for (int t = 0; t < 4; t++) {
        cv x, y;
        unpack_r2c(r, n, k + t, h, &x, &y);
        xs[2 * t] = x.re, xs[2 * t + 1] = x.im, ys[2 * t] = y.re, ys[2 * t + 1] = y.im;
      }
      transpose8(xs);
      transpose8(ys);
      for (int l = 0; l < VL; l++) {
        storev(dst + 2 * (out_offs[l] + k), xs[l]);
        storev(dst + 2 * (out_offs[VL + l] + k), ys[l]);
      }
    }
  } else if (cnt == 2 * VL && adjacent(out_offs) && adjacent(out_offs + VL)) {
    const vi lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
    for (; k < m; k++) {
      cv x, y;
      unpack_r2c(r, n, k, h, &x, &y);
      float* p = dst + 2 * (out_offs[0] + k * st);
      float* q = dst + 2 * (out_offs[VL] + k * st);
      storev(p, __builtin_shuffle(x.re, x.im, lo));
      storev(p + VL, __builtin_shuffle(x.re, x.im, hi));
      storev(q, __builtin_shuffle(y.re, y.im, lo));
      storev(q + VL, __builtin_shuffle(y.re, y.im, hi));
    }
  }
  for (; k < m; k++) {
    cv x, y;
    unpack_r2c(r, n, k, h, &x, &y);
    for (int l = 0; l < cnt; l++) {
      float* d = dst + 2 * (out_offs[l] + k * st);
      const cv* v = l < VL ? &x : &y;
      int lane = l < VL ? l : l - VL;
      d[0] = v->re[lane];
      d[1] = v->im[lane];
    }
  }
}

/* Two Hermitian half spectra per lane, X (line l0 + l) and Y (l0 + VL + l),
 * gathered into tx and ty (m elements each), then extended to n points as
 * conj(X + iY) in a, ready for the forward transform. */
static void gather_c2r(const pass* ps, int64_t l0, int cnt, cv* a, cv* tx, int64_t* out_offs) {
  int64_t io[2 * VL];
  offsets(ps, l0, cnt, io, out_offs);
  int64_t n = ps->n, m = n / 2 + 1, st = ps->in_step, k = 0;
  int64_t len = ps->in_len < m ? ps->in_len : m;
  cv* ty = tx + m;
  const float* src = ps->src;
  if (cnt < 2 * VL) memset(tx, 0, sizeof(cv) * (size_t)(2 * m));
  else if (len < m) memset(tx + len, 0, sizeof(cv) * (size_t)(m - len)), memset(ty + len, 0, sizeof(cv) * (size_t)(m - len));
  if (cnt == 2 * VL && st == 1) {
    for (; k + 4 <= len; k += 4) {
      vf xs[8], ys[8];
      for (int l = 0; l < VL; l++) xs[l] = loadv(src + 2 * (io[l] + k)), ys[l] = loadv(src + 2 * (io[VL + l] + k));
      transpose8(xs);
      transpose8(ys);
      for (int t = 0; t < 4; t++) {
        tx[k + t].re = xs[2 * t], tx[k + t].im = xs[2 * t + 1];
        ty[k + t].re = ys[2 * t], ty[k + t].im = ys[2 * t + 1];
      }
    }
  }
  for (; k < len; k++)
    for (int l = 0; l < cnt; l++) {
      const float* p = src + 2 * (io[l] + k * st);
      cv* t = l < VL ? &tx[k] : &ty[k];
      int lane = l < VL ? l : l - VL;
      t->re[lane] = p[0];
      t->im[lane] = p[1];
    }
  const vf zero = {0};
  for (k = 0; k < n; k++) {
    int64_t kk = k < m ? k : n - k;
    cv x = tx[kk], y = ty[kk];
    if (kk == 0 || 2 * kk == n) x.im = zero, y.im = zero; /* parts a real signal's spectrum cannot have */
    if (k >= m) x.im = -x.im, y.im = -y.im;
    a[k].re = x.re - y.im;
    a[k].im = -(x.im + y.re);
  }
}

static void scatter_c2r(const pass* ps, int cnt, const cv* r, const int64_t* out_offs) {
  const float* fr = (const float*)r;
  int64_t n = ps->n, st = ps->out_step, j = 0;
  float sc = ps->scale;
  float* dst = ps->dst;
  if (cnt == 2 * VL && st == 1) {
    for (; j + 8 <= n; j += 8) {
      vf xs[8], ys[8];
      for (int t = 0; t < 8; t++) xs[t] = r[j + t].re * sc, ys[t] = r[j + t].im * -sc;
      transpose8(xs);
      transpose8(ys);
      for (int l = 0; l < VL; l++) {
        storev(dst + out_offs[l] + j, xs[l]);
        storev(dst + out_offs[VL + l] + j, ys[l]);
      }
    }
  } else if (cnt == 2 * VL && adjacent(out_offs) && out_offs[VL] == out_offs[0] + VL) {
    for (; j < n; j++) {
      float* p = dst + out_offs[0] + j * st;
      storev(p, r[j].re * sc);
      storev(p + VL, r[j].im * -sc);
    }
  }
  for (; j < n; j++)
    for (int l = 0; l < cnt; l++)
      dst[out_offs[l] + j * st] = l < VL ? fr[j * 2 * VL + l] * sc : -fr[j * 2 * VL + l] * sc;
}

static int lines_per_group(const pass* ps) {
  return ps->kind == PASS_C2C ? VL : 2 * VL;
}

/* SUPER consecutive groups of a complex pass along a strided axis whose
 * lines are all neighbours in memory, in the source and the destination:
 * each row is then touched once per SUPER * VL lines instead of once per
 * VL, and with rows pages apart every touch costs a TLB miss. as[0..SUPER)
 * hold scratch_len elements each. Returns 0 when the lines do not
 * qualify (the caller then takes them group by group). */
#define SUPER 4
static int super_c2c(const pass* ps, int64_t g, cv* const* as, cv* b) {
  int64_t io[SUPER * VL], oo[SUPER * VL];
  int64_t l0 = g * VL;
  if (ps->lines - l0 < SUPER * VL) return 0;
  for (int l = 0; l < SUPER * VL; l++) {
    line_offsets(ps, l0 + l, &io[l], &oo[l]);
    if (io[l] != io[0] + l || oo[l] != oo[0] + l) return 0;
  }
  int64_t n = ps->n, len = ps->in_len < n ? ps->in_len : n, st = ps->in_step, ost = ps->out_step;
  const vi ev = {0, 2, 4, 6, 8, 10, 12, 14}, od = {1, 3, 5, 7, 9, 11, 13, 15};
  const vi lo = {0, 8, 1, 9, 2, 10, 3, 11}, hi = {4, 12, 5, 13, 6, 14, 7, 15};
  vf sg = {1, 1, 1, 1, 1, 1, 1, 1};
  if (ps->inverse) sg = -sg;
  for (int64_t j = 0; j < len; j++) {
    const float* p = ps->src + 2 * (io[0] + j * st);
    for (int q = 0; q < SUPER; q++) {
      vf v0 = loadv(p + 2 * VL * q), v1 = loadv(p + 2 * VL * q + VL);
      as[q][j].re = __builtin_shuffle(v0, v1, ev);
      as[q][j].im = __builtin_shuffle(v0, v1, od) * sg;
    }
  }
  for (int q = 0; q < SUPER; q++) {
    if (len < n) memset(as[q] + len, 0, sizeof(cv) * (size_t)(n - len));
    cv* r = run_plan(ps->p, as[q], b);
    if (r != as[q]) memcpy(as[q], r, sizeof(cv) * (size_t)n);
  }
  float sc = ps->scale, si = ps->inverse ? -sc : sc;
  for (int64_t j = 0; j < n; j++) {
    float* p = ps->dst + 2 * (oo[0] + j * ost);
    for (int q = 0; q < SUPER; q++) {
      vf re = as[q][j].re * sc, im = as[q][j].im * si;
      storev(p + 2 * VL * q, __builtin_shuffle(re, im, lo));
      storev(p + 2 * VL * q + VL, __builtin_shuffle(re, im, hi));
    }
  }
  return 1;
}

static void run_groups(void* ctx, int64_t g0, int64_t g1) {
  pass* ps = ctx;
  int64_t len = scratch_len(ps->p);
  cv* a = aligned_alloc(64, sizeof(cv) * (size_t)len);
  /* b also holds the two half spectra of a complex-to-real pass. */
  cv* b = aligned_alloc(64, sizeof(cv) * (size_t)(len + 2));
  if (!a || !b) {
    free(a), free(b);
    atomic_store(&ps->failed, 1);
    return;
  }
  int per = lines_per_group(ps);
  int64_t offs[2 * VL];
  /* Extra scratch for super_c2c along a strided axis. */
  cv* as[SUPER] = {a};
  int super = ps->kind == PASS_C2C && ps->in_step != 1 && ps->out_step != 1 && g1 - g0 >= SUPER;
  for (int q = 1; q < SUPER && super; q++)
    if (!(as[q] = aligned_alloc(64, sizeof(cv) * (size_t)len))) super = 0;
  for (int64_t g = g0; g < g1; g++) {
    if (super && g + SUPER <= g1 && super_c2c(ps, g, as, b)) {
      g += SUPER - 1;
      continue;
    }
    int64_t l0 = g * per;
    int cnt = (int)(ps->lines - l0 < per ? ps->lines - l0 : per);
    switch (ps->kind) {
      case PASS_C2C: {
        gather_c(ps, l0, cnt, a, offs);
        cv* r = run_plan(ps->p, a, b);
        scatter_c(ps, cnt, r, offs);
        break;
      }
      case PASS_R2C: {
        gather_r(ps, l0, cnt, a, offs);
        cv* r = run_plan(ps->p, a, b);
        scatter_r2c(ps, cnt, r, offs);
        break;
      }
      default: {
        gather_c2r(ps, l0, cnt, a, b, offs);
        cv* r = run_plan(ps->p, a, b);
        scatter_c2r(ps, cnt, r, offs);
        break;
      }
    }
  }
  for (int q = 1; q < SUPER; q++) free(as[q]);
  free(a), free(b);
}

static float scale_of(int scale, int64_t n) {
  if (scale == MLX_FFT_SCALE_SQRT) return (float)(1.0 / sqrt((double)n));
  if (scale == MLX_FFT_SCALE_FULL) return (float)(1.0 / (double)n);
  return 1.0f;
}

/* ---- long lines: the four-step algorithm ----------------------------------
 * A few lines of a long composite length n = n1 * n2 would leave most
 * lanes idle and need scratch of VL * n elements. Instead each line runs as
 * a [n1, n2] array: n2 transforms of length n1 (adjacent lines: full
 * lanes), a twiddle e^{-2 pi i k1 j2 / n}, n1 transforms of length n2, and
 * X[k1 + n1 k2] read back transposed. Real lines go through the complex
 * transform. */

/* Lengths at least this long, in fewer than VL lines, take this path. */
#define LONG_MIN_N 16384

typedef struct longplan {
  int64_t n, n1, n2; /* n = n1 * n2 (direct), or n1 = n2 = 0 (Bluestein) */
  float* tw;         /* direct: n (re, im) pairs e^{-2 pi i t / n} */
  int64_t m;         /* Bluestein: the convolution length (composite) */
  const struct longplan* sub; /* Bluestein: the plan of length m */
  float* chirp;      /* Bluestein: n pairs e^{-i pi k^2 / n} */
  float* kern;       /* Bluestein: DFT of the conjugate chirp / m, in the
                        order four_step leaves its results */
  struct longplan* next;
} longplan;

static longplan* long_cache;

static int run_pass(int kind, int inverse, int64_t n, int scale, const float* src, const int64_t* shape,
                    const int64_t* strides, int ndim, int axis, float* dst, int64_t out_len);
static int four_step(const longplan* lp, float* buf, float* tmp);
static const longplan* get_longplan(int64_t n);

/* Where four_step leaves X[k]: buf[k1 n2 + k2] for k = k1 + n1 k2. */
static inline int64_t four_step_pos(const longplan* lp, int64_t k) {
  return (k % lp->n1) * lp->n2 + k / lp->n1;
}

static void free_longplan(longplan* p) {
  if (!p) return;
  free(p->tw), free(p->chirp), free(p->kern);
  free(p);
}

/* A new plan of n (not yet published), or NULL when n is too short to
 * split well or memory ran out (the lane path then takes it, and reports
 * a lack of memory). */
static longplan* build_longplan(int64_t n) {
  int64_t n1 = 0;
  for (int64_t d = (int64_t)sqrt((double)n); d >= 16; d--)
    if (n % d == 0) {
      n1 = d;
      break;
    }
  longplan* p = calloc(1, sizeof(longplan));
  if (!p) return NULL;
  p->n = n;
  if (n1) {
    p->n1 = n1, p->n2 = n / n1;
    p->tw = malloc(sizeof(float) * 2 * (size_t)n);
    if (!p->tw) goto fail;
    for (int64_t t = 0; t < n; t++) twiddle(p->tw + 2 * t, t, n);
    return p;
  }
  /* No useful split (a prime, or a large prime factor): Bluestein's
   * convolution through a smooth length, itself split in four steps. */
  int64_t m = smooth_at_least(2 * n - 1);
  p->m = m;
  p->chirp = malloc(sizeof(float) * 2 * (size_t)n);
  p->kern = malloc(sizeof(float) * 2 * (size_t)m);
  float* tmp = malloc(sizeof(float) * 2 * (size_t)m);
  if (!p->chirp || !p->kern || !tmp) {
    free(tmp);
    goto fail;
  }
  for (int64_t j = 0; j < n; j++) {
    unsigned __int128 sq = (unsigned __int128)j * (unsigned __int128)j;
    int64_t r = (int64_t)(sq % (unsigned __int128)(2 * n));
    double ang = -M_PI * ((double)r / (double)n);
    p->chirp[2 * j] = (float)cos(ang);
    p->chirp[2 * j + 1] = (float)sin(ang);
  }
  float* b = p->kern;
  memset(b, 0, sizeof(float) * 2 * (size_t)m);
  for (int64_t j = 0; j < n; j++) {
    b[2 * j] = p->chirp[2 * j], b[2 * j + 1] = -p->chirp[2 * j + 1];
    if (j) b[2 * (m - j)] = b[2 * j], b[2 * (m - j) + 1] = b[2 * j + 1];
  }
  p->sub = get_longplan(m);
  int rc = p->sub && !p->sub->m ? four_step(p->sub, b, tmp) : MLX_ERROR_MEMORY;
  free(tmp);
  if (rc) goto fail;
  float inv_m = (float)(1.0 / (double)m);
  for (int64_t i = 0; i < 2 * m; i++) b[i] *= inv_m;
  return p;
fail:
  free_longplan(p);
  return NULL;
}

/* The cached four-step plan of n, built on first use (outside the lock:
 * building runs transforms, which plan too), or NULL (see build_longplan). */
static const longplan* get_longplan(int64_t n) {
  pthread_mutex_lock(&cache_lock);
  longplan* p = long_cache;
  while (p && p->n != n) p = p->next;
  pthread_mutex_unlock(&cache_lock);
  if (p) return p;
  longplan* fresh = build_longplan(n);
  if (!fresh) return NULL;
  pthread_mutex_lock(&cache_lock);
  p = long_cache;
  while (p && p->n != n) p = p->next;
  if (p) {
    free_longplan(fresh);
  } else {
    fresh->next = long_cache;
    long_cache = p = fresh;
  }
  pthread_mutex_unlock(&cache_lock);
  return p;
}

/* Bluestein on buf[0..n) (buf and tmp hold m elements); X[k] is left in
 * natural order in buf. */
static int bluestein_long(const longplan* lp, float* buf, float* tmp) {
  int64_t n = lp->n, m = lp->m;
  const float* ch = lp->chirp;
  const float* kf = lp->kern;
  for (int64_t j = 0; j < n; j++) {
    float re = buf[2 * j], im = buf[2 * j + 1];
    buf[2 * j] = re * ch[2 * j] - im * ch[2 * j + 1];
    buf[2 * j + 1] = re * ch[2 * j + 1] + im * ch[2 * j];
  }
  memset(buf + 2 * n, 0, sizeof(float) * 2 * (size_t)(m - n));
  MLX_TRY(four_step(lp->sub, buf, tmp));
  /* conj(A K), back in natural order, for the inverse as a forward DFT. */
  for (int64_t k = 0; k < m; k++) {
    int64_t q = four_step_pos(lp->sub, k);
    float re = buf[2 * q], im = buf[2 * q + 1];
    tmp[2 * k] = re * kf[2 * q] - im * kf[2 * q + 1];
    tmp[2 * k + 1] = -(re * kf[2 * q + 1] + im * kf[2 * q]);
  }
  MLX_TRY(four_step(lp->sub, tmp, buf));
  for (int64_t k = 0; k < n; k++) {
    int64_t q = four_step_pos(lp->sub, k);
    float re = tmp[2 * q], im = -tmp[2 * q + 1];
    buf[2 * k] = re * ch[2 * k] - im * ch[2 * k + 1];
    buf[2 * k + 1] = re * ch[2 * k + 1] + im * ch[2 * k];
  }
  return MLX_OK;
}

/* The forward DFT of buf (n complex, contiguous) with scratch tmp; the
 * result stays in buf as [n1, n2], X[k1 + n1 k2] at buf[k1 n2 + k2]. */
static int four_step(const longplan* lp, float* buf, float* tmp) {
  int64_t n = lp->n, n1 = lp->n1, n2 = lp->n2;
  int64_t sh[2] = {n1, n2}, st[2] = {n2, 1};
  MLX_TRY(run_pass(PASS_C2C, 0, n1, MLX_FFT_SCALE_NONE, buf, sh, st, 2, 0, tmp, n1));
  const float* tw = lp->tw;
  for (int64_t k1 = 0; k1 < n1; k1++) {
    float* row = tmp + 2 * k1 * n2;
    int64_t idx = 0;
    for (int64_t j2 = 0; j2 < n2; j2++) {
      float re = row[2 * j2], im = row[2 * j2 + 1], wr = tw[2 * idx], wi = tw[2 * idx + 1];
      row[2 * j2] = re * wr - im * wi;
      row[2 * j2 + 1] = re * wi + im * wr;
      idx += k1;
      if (idx >= n) idx -= n;
    }
  }
  return run_pass(PASS_C2C, 0, n2, MLX_FFT_SCALE_NONE, tmp, sh, st, 2, 1, buf, n2);
}

static int run_long(const pass* ps, const longplan* lp) {
  int64_t n = ps->n, m = n / 2 + 1, st = ps->in_step, ost = ps->out_step, len_buf = lp->m ? lp->m : n;
  float* buf = malloc(sizeof(float) * 2 * (size_t)len_buf);
  float* tmp = malloc(sizeof(float) * 2 * (size_t)len_buf);
  int rc = MLX_OK;
  if (!buf || !tmp) rc = mlx_error_(MLX_ERROR_MEMORY, "[fft] out of memory for a transform of size %lld", (long long)n);
  float sc = ps->scale, sgn = ps->inverse ? -1.0f : 1.0f;
  for (int64_t li = 0; li < ps->lines && !rc; li++) {
    int64_t io, oo;
    line_offsets(ps, li, &io, &oo);
    memset(buf, 0, sizeof(float) * 2 * (size_t)n);
    if (ps->kind == PASS_C2C) {
      int64_t len = ps->in_len < n ? ps->in_len : n;
      for (int64_t j = 0; j < len; j++) {
        const float* p = ps->src + 2 * (io + j * st);
        buf[2 * j] = p[0];
        buf[2 * j + 1] = sgn * p[1];
      }
    } else if (ps->kind == PASS_R2C) {
      int64_t len = ps->in_len < n ? ps->in_len : n;
      for (int64_t j = 0; j < len; j++) buf[2 * j] = ps->src[io + j * st];
    } else {
      /* conj of the Hermitian extension: the inverse as a forward DFT. */
      int64_t len = ps->in_len < m ? ps->in_len : m;
      for (int64_t k = 0; k < n; k++) {
        int64_t kk = k < m ? k : n - k;
        if (kk >= len) continue;
        const float* p = ps->src + 2 * (io + kk * st);
        float im = kk == 0 || 2 * kk == n ? 0.0f : p[1];
        buf[2 * k] = p[0];
        buf[2 * k + 1] = k < m ? -im : im;
      }
    }
    rc = lp->m ? bluestein_long(lp, buf, tmp) : four_step(lp, buf, tmp);
    if (rc) break;
    float* d = ps->dst;
    int64_t outs = ps->kind == PASS_R2C ? m : n;
    for (int64_t k = 0; k < outs; k++) {
      const float* x = buf + 2 * (lp->m ? k : four_step_pos(lp, k));
      if (ps->kind == PASS_C2R) {
        d[oo + k * ost] = x[0] * sc;
      } else {
        d[2 * (oo + k * ost)] = x[0] * sc;
        d[2 * (oo + k * ost) + 1] = sgn * x[1] * sc;
      }
    }
  }
  free(buf), free(tmp);
  return rc;
}

/* Transforms src (shape, element strides) along axis into dst (row-major,
 * shape with out_len on axis). */
static int run_pass(int kind, int inverse, int64_t n, int scale, const float* src, const int64_t* shape,
                    const int64_t* strides, int ndim, int axis, float* dst, int64_t out_len) {
  pass* ps = calloc(1, sizeof(pass));
  if (!ps) return mlx_error_(MLX_ERROR_MEMORY, "[fft] out of memory");
  ps->kind = kind;
  ps->inverse = inverse;
  ps->n = n;
  ps->in_len = shape[axis];
  ps->out_len = out_len;
  ps->in_step = strides[axis];
  ps->scale = scale_of(scale, n);
  int64_t oshape[ndim], ostr[ndim];
  memcpy(oshape, shape, sizeof(int64_t) * (size_t)ndim);
  oshape[axis] = out_len;
  mlx_row_strides_(ostr, oshape, ndim);
  ps->out_step = ostr[axis];
  ps->lines = 1;
  for (int d = 0; d < ndim; d++) {
    if (d == axis) continue;
    ps->dims[ps->nd] = shape[d];
    ps->in_str[ps->nd] = strides[d];
    ps->out_str[ps->nd] = ostr[d];
    ps->nd++;
    ps->lines *= shape[d];
  }
  ps->src = src;
  ps->dst = dst;
  if (ps->lines == 0) {
    free(ps);
    return MLX_OK;
  }
  if (ps->lines < VL && n >= LONG_MIN_N) {
    const longplan* lp = get_longplan(n);
    if (lp) {
      int rc = run_long(ps, lp);
      free(ps);
      return rc;
    }
  }
  ps->p = get_plan(n);
  if (!ps->p) {
    free(ps);
    return mlx_error_(MLX_ERROR_MEMORY, "[fft] out of memory planning a transform of size %lld", (long long)n);
  }
  int per = lines_per_group(ps);
  int64_t groups = (ps->lines + per - 1) / per;
  int64_t work = n * per;
  int64_t grain = work >= (1 << 15) ? 1 : (1 << 15) / work;
  mlx_parallel_for_(groups, grain, run_groups, ps);
  int failed = atomic_load(&ps->failed);
  free(ps);
  if (failed) return mlx_error_(MLX_ERROR_MEMORY, "[fft] out of memory for scratch of size %lld", (long long)n);
  return MLX_OK;
}

int mlx_cpu_fft_(mlx_node_** outs, int nout, mlx_node_** ins, int nin, const void* params) {
  (void)nout, (void)nin;
  const mlx_fft_params_* p = params;
  mlx_node_* in = ins[0];
  mlx_node_* out = outs[0];
  MLX_TRY(mlx_node_alloc_(out));
  int nd = in->ndim;
  if (nd > MAX_DIMS) return mlx_error_(MLX_ERROR_UNSUPPORTED, "[fft] too many dimensions (%d)", nd);
  /* The passes: one axis each, the real one first (forward) or last. */
  int order[MLX_FFT_MAX_AXES], kinds[MLX_FFT_MAX_AXES];
  int np = p->naxes, last = np - 1;
  for (int i = 0; i < np; i++) {
    if (!p->real) order[i] = np - 1 - i, kinds[i] = PASS_C2C;
    else if (!p->inverse) order[i] = i == 0 ? last : i - 1, kinds[i] = i == 0 ? PASS_R2C : PASS_C2C;
    else order[i] = i, kinds[i] = i == last ? PASS_C2R : PASS_C2C;
  }
  int64_t shape[nd], strides[nd];
  memcpy(shape, in->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(strides, in->strides, sizeof(int64_t) * (size_t)nd);
  const float* cur = MLX_DATA(in, float);
  mlx_buffer_* tmp = NULL;
  float* outp = MLX_DATA(out, float);
  int rc = MLX_OK;
  for (int i = 0; i < np && !rc; i++) {
    int ax = p->axes[order[i]];
    int64_t n = p->n[order[i]];
    int64_t out_len = kinds[i] == PASS_R2C ? n / 2 + 1 : n;
    int64_t nshape[nd];
    memcpy(nshape, shape, sizeof(int64_t) * (size_t)nd);
    nshape[ax] = out_len;
    int to_out = i == np - 1 || (out->dtype == MLX_COMPLEX64 && memcmp(nshape, out->shape, sizeof(int64_t) * (size_t)nd) == 0);
    float* dst;
    mlx_buffer_* nb = NULL;
    if (to_out) {
      dst = outp;
    } else {
      int64_t cnt = 1;
      for (int d = 0; d < nd; d++) cnt *= nshape[d];
      nb = mlx_buffer_alloc_((size_t)cnt * 8);
      if (!nb) {
        rc = mlx_last_error_code();
        break;
      }
      dst = nb->data;
    }
    int inv = kinds[i] == PASS_R2C ? 0 : kinds[i] == PASS_C2R ? 1 : p->inverse;
    rc = run_pass(kinds[i], inv, n, p->scale, cur, shape, strides, nd, ax, dst, out_len);
    if (tmp && (float*)tmp->data != dst) {
      mlx_buffer_release_(tmp);
      tmp = NULL;
    }
    if (nb) tmp = nb;
    cur = dst;
    memcpy(shape, nshape, sizeof(int64_t) * (size_t)nd);
    mlx_row_strides_(strides, shape, nd);
  }
  if (tmp) mlx_buffer_release_(tmp);
  return rc;
}
