/* GEMM family: row-major C = alpha op(A) op(B) + beta C.
 *
 * fastnn's own kernels (gemm.inc, one body instantiated per dtype and instruction set: AVX-512,
 * AVX2+FMA, baseline) run the products of training's shapes -- 32-1024 rows, 10-4096 columns --
 * at 1.2-2x the rate of scipy's OpenBLAS on them (bench/gemm.py): a product never re-packs a
 * weight per block, and its split between threads is free. Each element is one multiply-add chain
 * over k whatever the split (see gemm.inc), so a product is bitwise the same for any thread count
 * and can use every thread of a 16-core machine.
 *
 * `fn` non-NULL selects the BLAS path instead (fastnn._ext._blas.set_backend("blas")): scipy's
 * sgemm/dgemm, run single-threaded, on blocks fixed by the shape (one pool: BLAS threads and
 * fastnn's OpenMP team alternating on the same cores cost up to 2x a training step). */
#include "common.h"

typedef struct {
  const void *P, *Q, *bias; /* bias: one value per column of D, added once (beta = 0 only) */
  const void *qpk;          /* or NULL: Q already packed (fnn_gemm_pack_b), npad columns a k-block row */
  void *D;
  ptrdiff_t prs, pcs, qrs, qcs, ldd, npad;
  double alpha, beta;
  int K;
} fnn_gemm_job;

typedef struct {
  int nr, mr, kcb;                              /* micro-tile columns and rows, k-block */
  size_t (*ws_bytes)(int rows, int cols);       /* workspace of a rows x cols tile */
  void (*tile)(const fnn_gemm_job *, int m0, int m1, int n0, int n1, void *ws);
  void (*pack)(const fnn_gemm_job *, int N, void *out); /* all of Q as tile reads it (NULL: none) */
} fnn_gemm_impl;

#if FNN_HAVE_CLONES
#define GEMM_X86_CLONES 1
#endif

/* ---- the instantiations: gemm.inc for float and double (instantiate.h), per instruction set ---- */
#define FNN_TEMPLATE "gemm.inc"
#ifdef GEMM_X86_CLONES
/* AVX-512: 32 registers hold a 12 x 32 float (12 x 16 double) tile of D in 24 of them */
#define ISA _v4
#define GEMM_TARGET __attribute__((target("arch=x86-64-v4")))
#define VB 64
#define MRL 12
#define MRM 8
#define MRS 4
#define KCB 384
#include "instantiate.h"
#include "gemm_isa_end.h"
/* AVX2 + FMA: 16 registers, a 6 x 16 float (6 x 8 double) tile in 12 */
#define ISA _v3
#define GEMM_TARGET __attribute__((target("arch=x86-64-v3")))
#define VB 32
#define MRL 6
#define MRM 4
#define MRS 2
#define KCB 512
#include "instantiate.h"
#include "gemm_isa_end.h"
#endif

/* The build's own target (baseline x86-64 in a release build, the CPU with FASTNN_NATIVE=1, any
 * other architecture): its widest vectors, as the compiler was told. */
#define ISA _base
#define GEMM_TARGET
#if defined(__AVX512F__)
#define VB 64
#define MRL 12
#define MRM 8
#define MRS 4
#define KCB 384
#elif defined(__AVX2__) && defined(__FMA__)
#define VB 32
#define MRL 6
#define MRM 4
#define MRS 2
#define KCB 512
#else
#define VB 16
#define MRL 6
#define MRM 4
#define MRS 2
#define KCB 512
#endif
#include "instantiate.h"
#include "gemm_isa_end.h"

/* ---- bf16 products of float32 arrays (gemm_bf16.inc): AVX512_BF16 where the CPU has it, else its
 * emulation, bit for bit the same ---- */

/* float -> bf16, nearest even, as vcvtneps2bf16: NaN stays a quiet NaN, denormals become signed zero. */
static inline uint32_t fnn_bf16_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16; /* branch-free: the packing loops vectorize */
  r = (u & 0x7f800000u) == 0 ? (u >> 16) & 0x8000u : r;
  return (u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r;
}

static inline float fnn_bf16_to(uint32_t h) {
  uint32_t u = h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* A denormal result flushed to signed zero, as vdpbf16ps does. */
static inline float fnn_ftz(float x) { return __builtin_fabsf(x) < 1.17549435e-38f ? x * 0.0f : x; }

#ifdef GEMM_X86_CLONES
#include <immintrin.h>
#define BISA _hw
#define BF_TARGET __attribute__((target("arch=x86-64-v4,avx512bf16")))
#define BF_HW 1
#include "gemm_bf16.inc"
#undef BISA
#undef BF_TARGET
#undef BF_HW
#define BISA _em3
#define BF_TARGET __attribute__((target("arch=x86-64-v3")))
#define BF_HW 0
#include "gemm_bf16.inc"
#undef BISA
#undef BF_TARGET
#undef BF_HW
#endif
#define BISA _em
#define BF_TARGET
#define BF_HW 0
#include "gemm_bf16.inc"
#undef BISA
#undef BF_TARGET
#undef BF_HW

/* The bf16 path: 2 with AVX512_BF16 (unless FASTNN_ISA names a narrower set: "v4" is AVX-512 without
 * it), else 0 (emulated). */
static int fnn_bf16_level(void) {
#ifdef GEMM_X86_CLONES
  static int hw = -1;
  if (hw < 0) {
    const char *e = getenv("FASTNN_ISA");
    __builtin_cpu_init();
    hw = fnn_isa_level() == 4 && __builtin_cpu_supports("avx512bf16") && !(e && strcmp(e, "v4") == 0);
  }
  return hw ? 2 : 0;
#else
  return 0;
#endif
}

/* The kernels this CPU runs: the widest the build has that the CPU supports (or FASTNN_ISA names). */
static int fnn_gemm_level(void) {
#ifdef GEMM_X86_CLONES
  return fnn_isa_level();
#else
  return 0;
#endif
}

static const fnn_gemm_impl *fnn_gemm_pick(int dtype) {
#ifdef GEMM_X86_CLONES
  int level = fnn_gemm_level();
  if (dtype == FNN_BF16) return fnn_bf16_level() ? &bimpl_hw : level >= 3 ? &bimpl_em3 : &bimpl_em;
  if (level == 4) return dtype == FNN_F32 ? &impl_f32_v4 : &impl_f64_v4;
  if (level == 3) return dtype == FNN_F32 ? &impl_f32_v3 : &impl_f64_v3;
#else
  if (dtype == FNN_BF16) return &bimpl_em;
#endif
  return dtype == FNN_F32 ? &impl_f32_base : &impl_f64_base;
}

/* What fastnn's products run on: the instruction set (4, 3: x86-64-v4/v3; 0: the build's own
 * target) and the float micro-tile. */
void fnn_gemm_describe(int *level, int *mr, int *nr) {
  const fnn_gemm_impl *im = fnn_gemm_pick(FNN_F32);
  *level = fnn_gemm_level(), *mr = im->mr, *nr = im->nr;
}

/* The path bf16 products take: 2 AVX512_BF16's vdpbf16ps, 0 its emulation in float32 multiply-adds. */
int fnn_gemm_bf16_path(void) { return fnn_bf16_level(); }

/* Row-major op(A) op(B) as the kernels' P Q: strides of P(i, k) and Q(k, j). */
static fnn_gemm_job fnn_gemm_job_of(int ta, int tb, int K, double alpha, const void *A, int lda,
                                    const void *B, int ldb, double beta, void *C, int ldc) {
  fnn_gemm_job g;
  g.P = A, g.Q = B, g.D = C, g.bias = NULL, g.qpk = NULL, g.npad = 0;
  g.prs = ta ? 1 : lda, g.pcs = ta ? lda : 1;
  g.qrs = tb ? 1 : ldb, g.qcs = tb ? ldb : 1;
  g.ldd = ldc, g.alpha = alpha, g.beta = beta, g.K = K;
  return g;
}

/* Workspaces kept between products (allocating one per product costs page faults when the allocator
 * hands the pages back), in a pool of slots a thread claims with an atomic exchange -- starting at its
 * OpenMP thread number, so a team's threads do not contend. No thread-local storage: its glibc
 * functions would raise the release wheels' glibc floor from 2.17 to 2.34, and a workspace tied to a
 * thread is lost when the thread ends. With every slot taken, a product allocates for itself. */
#define FNN_GEMM_SLOTS 64
static struct {
  void *p;
  size_t n;
  int busy;
  char pad[64 - sizeof(void *) - sizeof(size_t) - sizeof(int)]; /* one cache line a slot */
} fnn_gemm_slot[FNN_GEMM_SLOTS];

static int fnn_gemm_take(size_t bytes, void **ws) {
  int start = omp_get_thread_num() % FNN_GEMM_SLOTS;
  for (int k = 0; k < FNN_GEMM_SLOTS; k++) {
    int i = (start + k) % FNN_GEMM_SLOTS, free_ = 0;
    if (!__atomic_compare_exchange_n(&fnn_gemm_slot[i].busy, &free_, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      continue;
    if (fnn_gemm_slot[i].n < bytes) {
      free(fnn_gemm_slot[i].p);
      fnn_gemm_slot[i].p = malloc(bytes);
      fnn_gemm_slot[i].n = fnn_gemm_slot[i].p ? bytes : 0;
    }
    *ws = fnn_gemm_slot[i].p;
    return i;
  }
  *ws = malloc(bytes);
  return -1;
}

static void fnn_gemm_give(int slot, void *ws) {
  if (slot < 0) free(ws);
  else __atomic_store_n(&fnn_gemm_slot[slot].busy, 0, __ATOMIC_RELEASE);
}

/* One tile on the calling thread, in a pooled workspace (or, without memory, the kernels' small stack
 * blocks: the same results). */
static void fnn_gemm_run_tile(const fnn_gemm_impl *im, const fnn_gemm_job *g, int m0, int m1, int n0,
                              int n1) {
  void *ws;
  int slot = fnn_gemm_take(im->ws_bytes(m1 - m0, n1 - n0), &ws);
  im->tile(g, m0, m1, n0, n1, ws);
  fnn_gemm_give(slot, ws);
}

/* Row-major C (M x N) = alpha op(A) op(B) + beta C on the calling thread. */
void fnn_gemm_serial(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                     const void *A, int lda, const void *B, int ldb, double beta, void *C, int ldc) {
  char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
  if (M <= 0 || N <= 0) return;
  if (!fn || dtype == FNN_BF16) {
    fnn_gemm_job g = fnn_gemm_job_of(ta, tb, K, alpha, A, lda, B, ldb, beta, C, ldc);
    fnn_gemm_run_tile(fnn_gemm_pick(dtype), &g, 0, M, 0, N);
    return;
  }
  /* BLAS is column-major: C^T = op(B)^T op(A)^T */
  if (dtype == FNN_F32) {
    typedef void (*sg)(const char *, const char *, const int *, const int *, const int *, const float *,
                       const float *, const int *, const float *, const int *, const float *, float *,
                       const int *);
    float fa = (float)alpha, fb = (float)beta;
    ((sg)fn)(&cb, &ca, &N, &M, &K, &fa, (const float *)B, &ldb, (const float *)A, &lda, &fb, (float *)C, &ldc);
  } else {
    typedef void (*dg)(const char *, const char *, const int *, const int *, const int *, const double *,
                       const double *, const int *, const double *, const int *, const double *, double *,
                       const int *);
    ((dg)fn)(&cb, &ca, &N, &M, &K, &alpha, (const double *)B, &ldb, (const double *)A, &lda, &beta,
             (double *)C, &ldc);
  }
}

/* No thread of a product's team gets fewer multiply-adds than this (a team costs ~1.5 us). */
#define FNN_GEMM_PAR_MIN 131072.0

int fnn_gemm(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
             int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz) {
  return fnn_gemm_ex(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt, ftz,
                     fn ? 1048576.0 : FNN_GEMM_PAR_MIN);
}

/* The split of an M x N product: a team of gm x gn threads (gm row blocks, gn blocks of whole
 * column panels), chosen by a cost model in multiply-adds (measured on 2 cores, AVX-512): a thread's
 * padded tile, plus packing its columns of B (8 per element through transposes, 3 copied; none when
 * packed beforehand), plus
 * ~3000 per row where two threads' column blocks meet in one cache line (numpy's arrays are 16-byte
 * aligned: false sharing, paid again each k-block), plus ~150k for starting a team at all. A team
 * never has threads with less than par_min multiply-adds. */
static void fnn_gemm_grid(int M, int N, int K, int nt, double par_min, const fnn_gemm_impl *im, double pack,
                          int *gm, int *gn) {
  int nr = im->nr, mr = im->mr, un = (N + nr - 1) / nr, um = (M + mr - 1) / mr;
  double work = (double)M * N * (K > 0 ? K : 1), nkb = (double)(K / im->kcb + 1);
  double best = (double)um * mr * un * nr * (K + 16) + (double)K * un * nr * pack;
  *gm = 1, *gn = 1;
  for (int team = 2; team <= nt && work / team >= par_min; team++)
    for (int cn = 1; cn <= team && cn <= un; cn++) {
      int cm = team / cn;
      if (cm * cn != team || cm > um) continue;
      double rows = (double)((um + cm - 1) / cm * mr), cols = (double)((un + cn - 1) / cn * nr);
      double cost = rows * cols * (K + 16) + (double)K * cols * pack +
                    (cn > 1 ? rows * nkb * 3000.0 : 0.0) + 150000.0;
      if (cost < best * 0.98) best = cost, *gm = cm, *gn = cn;
    }
}

static int fnn_gemm_blas_blocks(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                                const void *A, int lda, const void *B, int ldb, double beta, void *C,
                                int ldc, int nt, int ftz, double par_min);

/* fastnn's kernels over the team: the grid, then one tile per thread. */
static void fnn_gemm_own(const fnn_gemm_job *jb, int dtype, int M, int N, int K, int nt, int ftz, double par_min) {
  const fnn_gemm_impl *im = fnn_gemm_pick(dtype);
  fnn_gemm_job g = *jb;
  int gm = 1, gn = 1;
  fnn_gemm_grid(M, N, K, nt, par_min, im, g.qpk ? 0.0 : (g.qrs == 1 && g.qcs != 1 ? 8.0 : 3.0), &gm, &gn);
  int team = gm * gn;
  int un = (N + im->nr - 1) / im->nr;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    int t = omp_get_thread_num(), tn = t % gn, tm = t / gn;
    int n0 = (int)((int64_t)un * tn / gn) * im->nr, n1 = (int)((int64_t)un * (tn + 1) / gn) * im->nr;
    int m0 = (int)((int64_t)M * tm / gm), m1 = (int)((int64_t)M * (tm + 1) / gm);
    if (n1 > N) n1 = N;
    FNN_FTZ_BEGIN(ftz);
    fnn_gemm_run_tile(im, &g, m0, m1, n0, n1);
    FNN_FTZ_END();
  }
}

int fnn_gemm_ex(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
                int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz, double par_min) {
  if (M <= 0 || N <= 0) return FNN_OK;
  if (fn && dtype != FNN_BF16) return fnn_gemm_blas_blocks(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt,
                                      ftz, par_min);
  fnn_gemm_job g = fnn_gemm_job_of(ta, tb, K, alpha, A, lda, B, ldb, beta, C, ldc);
  fnn_gemm_own(&g, dtype, M, N, K, nt, ftz, par_min);
  return FNN_OK;
}

/* C = op(A) op(B) + bias (bias[j] added to column j; C is not read): a linear layer's forward. The
 * kernels start each chain from the bias; the BLAS path fills C with it first and adds onto it. */
int fnn_gemm_bias(int dtype, void *fn, int ta, int tb, int M, int N, int K, const void *A, int lda,
                  const void *B, int ldb, void *C, int ldc, const void *bias, int nt, int ftz) {
  if (M <= 0 || N <= 0) return FNN_OK;
  if (!fn || dtype == FNN_BF16) {
    fnn_gemm_job g = fnn_gemm_job_of(ta, tb, K, 1.0, A, lda, B, ldb, 0.0, C, ldc);
    g.bias = bias;
    fnn_gemm_own(&g, dtype, M, N, K, nt, ftz, FNN_GEMM_PAR_MIN);
    return FNN_OK;
  }
  size_t es = dtype == FNN_F32 ? sizeof(float) : sizeof(double);
  for (int i = 0; i < M; i++) memcpy((char *)C + (size_t)i * ldc * es, bias, (size_t)N * es);
  return fnn_gemm(dtype, fn, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 1.0, C, ldc, nt, ftz);
}

/* ---- packed weights: op(B) packed once into the panels the kernels read, for products that reuse it
 * (inference: a layer's weight across calls). The packed product is bitwise the unpacked one. ---- */
#define FNN_PACK_ALIGN(p) ((void *)(((uintptr_t)(p) + 63) & ~(uintptr_t)63))

size_t fnn_gemm_packed_bytes(int dtype, int N, int K) {
  const fnn_gemm_impl *im = fnn_gemm_pick(dtype);
  if (!im->pack || N <= 0 || K <= 0) return 0;
  size_t es = dtype == FNN_F64 ? sizeof(double) : sizeof(float);
  return (size_t)((N + im->nr - 1) / im->nr) * im->nr * (size_t)K * es + 64;
}

int fnn_gemm_pack_b(int dtype, int tb, int N, int K, const void *B, int ldb, void *out) {
  const fnn_gemm_impl *im = fnn_gemm_pick(dtype);
  if (!im->pack || N <= 0 || K <= 0) return FNN_EVALUE;
  fnn_gemm_job g = fnn_gemm_job_of(0, tb, K, 1.0, NULL, 1, B, ldb, 0.0, NULL, 1);
  g.npad = (ptrdiff_t)((N + im->nr - 1) / im->nr) * im->nr;
  im->pack(&g, N, FNN_PACK_ALIGN(out));
  return FNN_OK;
}

/* C = A op(B) + bias (bias may be NULL) with op(B) also given packed (bpk from fnn_gemm_pack_b for the
 * same dtype, tb, N, K and B, or NULL). */
int fnn_gemm_bias_pk(int dtype, int tb, int M, int N, int K, const void *A, int lda, const void *B, int ldb,
                     const void *bpk, void *C, int ldc, const void *bias, int nt, int ftz) {
  if (M <= 0 || N <= 0) return FNN_OK;
  const fnn_gemm_impl *im = fnn_gemm_pick(dtype);
  fnn_gemm_job g = fnn_gemm_job_of(0, tb, K, 1.0, A, lda, B, ldb, 0.0, C, ldc);
  g.bias = bias;
  if (bpk && im->pack) g.qpk = FNN_PACK_ALIGN(bpk), g.npad = (ptrdiff_t)((N + im->nr - 1) / im->nr) * im->nr;
  /* a packed product streams its weight from cache, and a team splits that stream: worth it from a
   * quarter of the unpacked threshold (784 x 256 at batch 1: 10 us on one thread, 7 on two) */
  fnn_gemm_own(&g, dtype, M, N, K, nt, ftz, g.qpk ? FNN_GEMM_PAR_MIN / 4 : FNN_GEMM_PAR_MIN);
  return FNN_OK;
}

/* The BLAS path: blocks of the longer side whose size depends on the shape only (BLAS results
 * differ with where a block starts), each one single-threaded BLAS call. 4 blocks for products up
 * to 256M multiply-adds, up to 8 for larger ones. */
static int fnn_gemm_blas_blocks(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                                const void *A, int lda, const void *B, int ldb, double beta, void *C,
                                int ldc, int nt, int ftz, double par_min) {
  size_t es = dtype == FNN_F32 ? sizeof(float) : sizeof(double);
  double work = (double)M * (double)N * (double)K;
  if (work < 2 * par_min) {
    FNN_FTZ_BEGIN(ftz);
    fnn_gemm_serial(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    FNN_FTZ_END();
    return FNN_OK;
  }
  int split_rows = M >= N;
  int len = split_rows ? M : N;
  int nb = (int)(work / 67108864.0);
  nb = nb < 4 ? 4 : (nb > 8 ? 8 : nb);
  int blk = ((len + nb - 1) / nb + 15) & ~15;
  if (blk < 64) blk = 64;
  int nblk = (len + blk - 1) / blk;
  int team = nt < nblk ? nt : nblk;
  if (work / par_min < team) team = (int)(work / par_min);
  if (team < 1) team = 1;
  const char *a = (const char *)A, *b = (const char *)B;
  char *c = (char *)C;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    FNN_FTZ_BEGIN(ftz);
#pragma omp for schedule(static)
    for (int k = 0; k < nblk; k++) {
      int lo = k * blk, hi = lo + blk < len ? lo + blk : len;
      if (split_rows) /* rows lo..hi of op(A) and of C */
        fnn_gemm_serial(dtype, fn, ta, tb, hi - lo, N, K, alpha,
                        a + (ta ? (size_t)lo : (size_t)lo * lda) * es, lda, B, ldb, beta,
                        c + (size_t)lo * ldc * es, ldc);
      else /* columns lo..hi of op(B) and of C */
        fnn_gemm_serial(dtype, fn, ta, tb, M, hi - lo, K, alpha, A, lda,
                        b + (tb ? (size_t)lo * ldb : (size_t)lo) * es, ldb, beta, c + (size_t)lo * es, ldc);
    }
    FNN_FTZ_END();
  }
  return FNN_OK;
}
