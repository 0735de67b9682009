/* Shared machinery of the kernel families: threading, SIMD dispatch, deterministic reductions, RNG.
 * Header-only (static) so every family compiles standalone into its own extension module. */
#ifndef FASTNN_COMMON_H
#define FASTNN_COMMON_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fastnn.h"

#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
#endif

/* Subnormal floats (weights that decayed towards zero) make x86 arithmetic 10-100x slower. Kernels that
 * multiply (products, convolutions) take an `ftz` argument and flush them to zero while they run --
 * FTZ/DAZ in each working thread's MXCSR, restored afterwards (fastnn.set_flush_denormal). */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FNN_FTZ_BEGIN(on) unsigned int fnn_csr_ = _mm_getcsr(); if (on) _mm_setcsr(fnn_csr_ | 0x8040u)
#define FNN_FTZ_END() _mm_setcsr(fnn_csr_)
#else
#define FNN_FTZ_BEGIN(on) (void)(on)
#define FNN_FTZ_END() ((void)0)
#endif

#define FNN_CAT_(a, b) a##b
#define FNN_CAT(a, b) FNN_CAT_(a, b)
#define FNN_MIN(a, b) ((a) < (b) ? (a) : (b))

/* for (size_t var = lo; var < hi; var++) BODY, vectorized as wide as the trip count allows: rows of
 * small images (8-30 elements) would otherwise run as scalar remainders of a 16-wide clone's loop. */
#define FNN_SIMD_FOR(var, lo, hi, BODY)                                                          \
  do {                                                                                         \
    size_t fnn_lo_ = (lo), fnn_hi_ = (hi), fnn_n_ = fnn_hi_ > fnn_lo_ ? fnn_hi_ - fnn_lo_ : 0; \
    if (fnn_n_ >= 32) {                                                                        \
      _Pragma("omp simd") for (size_t var = fnn_lo_; var < fnn_hi_; var++) BODY                \
    } else if (fnn_n_ >= 8) {                                                                  \
      _Pragma("omp simd simdlen(8)") for (size_t var = fnn_lo_; var < fnn_hi_; var++) BODY     \
    } else {                                                                                   \
      _Pragma("omp simd simdlen(4)") for (size_t var = fnn_lo_; var < fnn_hi_; var++) BODY     \
    }                                                                                          \
  } while (0)

/* The same for a reduction loop over 0..C: FNN_SIMD_RED(+ : s, c, C, { s += x[c]; }). */
#define FNN_STR(x) #x
#define FNN_SIMD_RED(RED, var, C, BODY)                                                            \
  do {                                                                                         \
    if ((C) >= 32) {                                                                           \
      _Pragma(FNN_STR(omp simd reduction(RED))) for (size_t var = 0; var < (C); var++) BODY      \
    } else if ((C) >= 8) {                                                                     \
      _Pragma(FNN_STR(omp simd simdlen(8) reduction(RED))) for (size_t var = 0; var < (C); var++) BODY \
    } else {                                                                                   \
      _Pragma(FNN_STR(omp simd simdlen(4) reduction(RED))) for (size_t var = 0; var < (C); var++) BODY \
    }                                                                                          \
  } while (0)

/* Runtime SIMD dispatch: one clone per x86-64 level, chosen once at load time by an ifunc.
 * FASTNN_NATIVE builds use -march=native instead. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(FASTNN_NATIVE)
#define FNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define FNN_HAVE_CLONES 1
#else
#define FNN_CLONES
#define FNN_HAVE_CLONES 0
#endif

/* The x86-64 level this CPU runs (4: x86-64-v4, AVX-512; 3: x86-64-v3, AVX2+FMA; 0: older or not
 * x86-64), asked once per translation unit: the order of FNN_CLONES, which kernels written per
 * instruction set (gemm, Philox) follow too. */
static inline int fnn_cpu_level(void) {
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
  static int level = -1;
  if (level < 0) {
    __builtin_cpu_init();
    level = __builtin_cpu_supports("x86-64-v4") ? 4 : (__builtin_cpu_supports("x86-64-v3") ? 3 : 0);
  }
  return level;
#else
  return 0;
#endif
}

/* The instruction set of fastnn's hand-dispatched kernels (products, Philox): the CPU's level, or a
 * narrower one named by FASTNN_ISA ("v3", "base"), so tests run the AVX2 and portable forms on any
 * x86-64 machine. Asked once per translation unit. */
static inline int fnn_isa_level(void) {
  static int level = -1;
  if (level < 0) {
    int l = fnn_cpu_level();
    const char *e = getenv("FASTNN_ISA");
    if (e && strcmp(e, "v3") == 0 && l > 3) l = 3;
    if (e && strcmp(e, "base") == 0) l = 0;
    level = l;
  }
  return level;
}

/* Below these sizes a thread team costs more than it saves (measured: bench/kernels.py --threshold). */
#define FNN_PAR_MIN_CHEAP ((size_t)32768) /* one or two flops per element */
#define FNN_PAR_MIN_EXP ((size_t)8192)    /* exp/log/erf per element */
#define FNN_PAR_MIN_RED ((size_t)32768)   /* reductions */
/* per-channel reductions (batch norm, bias gradients): their neighbours in a training step run on
 * the team from 8192 elements on, and a serial reduction between them would pull the data to one core */
#define FNN_PAR_MIN_CHAN ((size_t)8192)

/* Threads worth starting for `work` elements: never more than nt, at least parmin elements each. */
static inline int fnn_team(size_t work, int nt, size_t parmin) {
  if (nt <= 1 || work < 2 * parmin) return 1;
  size_t k = work / parmin;
  return k < (size_t)nt ? (int)k : nt;
}

/* Run CALL on [lo, hi) blocks covering [0, n), one per thread, bounds multiples of 16 items; the
 * team size comes from `work` (elements touched), so rows of C elements count C times. */
#ifdef _OPENMP
#define FNN_PARALLEL_RANGE_W(n, work, nt, parmin, CALL)                                           \
  do {                                                                                           \
    size_t n_ = (n);                                                                             \
    int nt_ = fnn_team((work), (nt), (parmin));                                                  \
    if ((size_t)nt_ > (n_ + 15) / 16) nt_ = (int)((n_ + 15) / 16);                               \
    if (nt_ <= 1) {                                                                              \
      size_t lo = 0, hi = n_;                                                                    \
      if (lo < hi) { CALL; }                                                                     \
    } else {                                                                                     \
      _Pragma("omp parallel num_threads(nt_)") {                                                 \
        size_t T_ = (size_t)omp_get_num_threads(), t_ = (size_t)omp_get_thread_num();            \
        size_t blk_ = ((n_ + T_ - 1) / T_ + 15) & ~(size_t)15;                                   \
        size_t lo = t_ * blk_ < n_ ? t_ * blk_ : n_;                                             \
        size_t hi = lo + blk_ < n_ ? lo + blk_ : n_;                                             \
        if (lo < hi) { CALL; }                                                                   \
      }                                                                                          \
    }                                                                                            \
  } while (0)
#else
#define FNN_PARALLEL_RANGE_W(n, work, nt, parmin, CALL)                                           \
  do {                                                                                           \
    size_t lo = 0, hi = (n);                                                                     \
    (void)(nt);                                                                                  \
    if (lo < hi) { CALL; }                                                                       \
  } while (0)
#endif
#define FNN_PARALLEL_RANGE(n, nt, parmin, CALL) FNN_PARALLEL_RANGE_W(n, n, nt, parmin, CALL)

/* ---- scratch memory: a caller's stack buffer when the request fits (every step of a small or
 * medium model), the heap otherwise; a training step then touches no allocator ---- */
#define FNN_STACK_DOUBLES 4096
static inline double *fnn_scratch(double *stackbuf, size_t n) {
  return n <= FNN_STACK_DOUBLES ? stackbuf : (double *)malloc(n * sizeof(double) + 1);
}
static inline void fnn_scratch_free(double *p, double *stackbuf) {
  if (p != stackbuf) free(p);
}

/* ---- deterministic reductions ----
 * Work is cut into pieces whose bounds depend only on the shape, each piece's partial sums land in
 * their own slot, and slots are added in a fixed order: bitwise the same result for any thread count. */

/* Flat: items [0, n) in chunks of `chunk`; fn adds its chunk's K sums into acc[0..K). */
typedef void (*fnn_flat_fn)(const void *ctx, size_t lo, size_t hi, double *acc);

static inline int fnn_flat_reduce(size_t n, size_t chunk, int K, int nt, size_t parmin, fnn_flat_fn fn,
                           const void *ctx, double *out) {
  size_t nc = n ? (n + chunk - 1) / chunk : 0;
  double stackbuf[FNN_STACK_DOUBLES];
  double *part = fnn_scratch(stackbuf, nc * (size_t)K);
  if (!part) return FNN_ENOMEM;
  memset(part, 0, nc * (size_t)K * sizeof(double));
  int team = fnn_team(n, nt, parmin);
  if (team > (int)nc) team = (int)nc;
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1)
  for (ptrdiff_t c = 0; c < (ptrdiff_t)nc; c++) {
    size_t lo = (size_t)c * chunk, hi = FNN_MIN(n, lo + chunk);
    fn(ctx, lo, hi, part + (size_t)c * K);
  }
  for (int k = 0; k < K; k++) {
    double s = 0.0;
    for (size_t c = 0; c < nc; c++) s += part[c * K + k];
    out[k] = s;
  }
  fnn_scratch_free(part, stackbuf);
  return FNN_OK;
}

/* Per channel, over an (N, C, S) view: rows cut into at most 16 fixed blocks, channels into groups.
 * fn(ctx, n0, n1, c0, c1, acc) adds into acc[k * C + c] for c in [c0, c1), k < K. out is K x C. */
typedef void (*fnn_chan_fn)(const void *ctx, size_t n0, size_t n1, size_t c0, size_t c1, double *acc);

static inline int fnn_chan_reduce(size_t N, size_t C, size_t S, int K, int nt, fnn_chan_fn fn,
                           const void *ctx, double *out) {
  size_t KC = (size_t)K * C;
  memset(out, 0, KC * sizeof(double));
  if (N == 0 || C == 0 || S == 0) return FNN_OK;
  size_t total = N * C * S;
  size_t nb = total < FNN_PAR_MIN_RED ? 1 : FNN_MIN(N, (size_t)16);
  size_t rb = (N + nb - 1) / nb;
  nb = (N + rb - 1) / rb;
  size_t cg = S >= 2048 ? 1 : (2048 + S - 1) / S;
  if (cg > C) cg = C;
  size_t ng = (C + cg - 1) / cg;
  double stackbuf[FNN_STACK_DOUBLES];
  double *part = fnn_scratch(stackbuf, nb * KC);
  if (!part) return FNN_ENOMEM;
  memset(part, 0, nb * KC * sizeof(double));
  size_t ntask = nb * ng;
  int team = fnn_team(total, nt, FNN_PAR_MIN_CHAN);
  if ((size_t)team > ntask) team = (int)ntask;
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1)
  for (ptrdiff_t t = 0; t < (ptrdiff_t)ntask; t++) {
    size_t b = (size_t)t / ng, gi = (size_t)t % ng;
    size_t n0 = b * rb, n1 = FNN_MIN(N, n0 + rb), c0 = gi * cg, c1 = FNN_MIN(C, c0 + cg);
    fn(ctx, n0, n1, c0, c1, part + b * KC);
  }
  for (size_t b = 0; b < nb; b++)
    for (size_t i = 0; i < KC; i++) out[i] += part[b * KC + i];
  fnn_scratch_free(part, stackbuf);
  return FNN_OK;
}

/* ---- counter-based RNG: Philox4x32-10 (Salmon et al. 2011) ----
 * Element i of a stream gets word i % 4 of philox(counter = (i / 4, stream), key = seed): the same
 * numbers whatever the thread count or dtype. fastnn.reference reproduces it in NumPy. */
static inline void fnn_philox(uint64_t ctr, uint32_t stream, uint64_t seed, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = stream, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}
/* 16 consecutive Philox blocks j0 .. j0+15 at once; out[4 l + k] = word k of block j0 + l, i.e. out[i]
 * is the word of element 4 j0 + i. Portable form: one lane per block (GCC vectorizes it, but with a
 * 64-bit multiply, vpmullq, 3 uops: 2.6 ns per element on AVX-512). */
static inline void fnn_philox16_c(uint64_t j0, uint32_t stream, uint64_t seed, uint32_t out[64]) {
  uint32_t c0[16], c1[16], c2[16], c3[16];
  for (int l = 0; l < 16; l++) {
    uint64_t j = j0 + (uint64_t)l;
    c0[l] = (uint32_t)j; c1[l] = (uint32_t)(j >> 32); c2[l] = stream; c3[l] = 0;
  }
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
#pragma omp simd
    for (int l = 0; l < 16; l++) {
      uint64_t p0 = (uint64_t)0xD2511F53u * c0[l], p1 = (uint64_t)0xCD9E8D57u * c2[l];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
      c1[l] = (uint32_t)p1;
      c3[l] = (uint32_t)p0;
      c0[l] = n0;
      c2[l] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int l = 0; l < 16; l++) {
    out[4 * l] = c0[l]; out[4 * l + 1] = c1[l]; out[4 * l + 2] = c2[l]; out[4 * l + 3] = c3[l];
  }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#include <immintrin.h>
/* The same with 32 x 32 -> 64-bit multiplies (vpmuludq) on even and odd lanes: 8x faster. */
#define FNN_PHILOX_ROUND(MUL, SRL, SLL, BLEND, XOR, ADD)                                               \
  do {                                                                                              \
    __typeof__(c0) e0 = MUL(c0, m0), o0 = MUL(SRL(c0, 32), m0), e1 = MUL(c2, m1), o1 = MUL(SRL(c2, 32), m1); \
    __typeof__(c0) hi0 = BLEND(SRL(e0, 32), o0), lo0 = BLEND(e0, SLL(o0, 32));                       \
    __typeof__(c0) hi1 = BLEND(SRL(e1, 32), o1), lo1 = BLEND(e1, SLL(o1, 32));                       \
    __typeof__(c0) n0 = XOR(XOR(hi1, c1), k0), n2 = XOR(XOR(hi0, c3), k1);                          \
    c1 = lo1, c3 = lo0, c0 = n0, c2 = n2;                                                           \
    k0 = ADD(k0, w0), k1 = ADD(k1, w1);                                                             \
  } while (0)

#define FNN_B512(a, b) _mm512_mask_blend_epi32((__mmask16)0xAAAA, a, b)
__attribute__((target("avx512f"))) static void fnn_philox16_avx512(uint64_t j0, uint32_t stream, uint64_t seed,
                                                                   uint32_t out[64]) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i lo = _mm512_set1_epi32((int)(uint32_t)j0);
  __m512i c0 = _mm512_add_epi32(lo, iota);
  __mmask16 carry = _mm512_cmplt_epu32_mask(c0, lo); /* j0 + l crossed a multiple of 2^32 */
  __m512i c1 = _mm512_set1_epi32((int)(uint32_t)(j0 >> 32));
  c1 = _mm512_mask_add_epi32(c1, carry, c1, _mm512_set1_epi32(1));
  __m512i c2 = _mm512_set1_epi32((int)stream), c3 = _mm512_setzero_si512();
  __m512i k0 = _mm512_set1_epi32((int)(uint32_t)seed), k1 = _mm512_set1_epi32((int)(uint32_t)(seed >> 32));
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53u), m1 = _mm512_set1_epi64(0xCD9E8D57u);
  const __m512i w0 = _mm512_set1_epi32((int)0x9E3779B9u), w1 = _mm512_set1_epi32((int)0xBB67AE85u);
  for (int r = 0; r < 10; r++)
    FNN_PHILOX_ROUND(_mm512_mul_epu32, _mm512_srli_epi64, _mm512_slli_epi64, FNN_B512, _mm512_xor_si512,
                     _mm512_add_epi32);
  /* interleave: out = c0[0] c1[0] c2[0] c3[0] c0[1] ... */
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i qlo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), qhi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  __m512i a = _mm512_permutex2var_epi32(c0, ilo, c1), b = _mm512_permutex2var_epi32(c2, ilo, c3);
  _mm512_storeu_si512(out, _mm512_permutex2var_epi64(a, qlo, b));
  _mm512_storeu_si512(out + 16, _mm512_permutex2var_epi64(a, qhi, b));
  a = _mm512_permutex2var_epi32(c0, ihi, c1), b = _mm512_permutex2var_epi32(c2, ihi, c3);
  _mm512_storeu_si512(out + 32, _mm512_permutex2var_epi64(a, qlo, b));
  _mm512_storeu_si512(out + 48, _mm512_permutex2var_epi64(a, qhi, b));
}
#undef FNN_B512

#define FNN_B256(a, b) _mm256_blend_epi32(a, b, 0xAA)
__attribute__((target("avx2"))) static void fnn_philox8_avx2(uint64_t j0, uint32_t stream, uint64_t seed,
                                                             uint32_t out[32]) {
  __m256i lo = _mm256_set1_epi32((int)(uint32_t)j0);
  __m256i c0 = _mm256_add_epi32(lo, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i sign = _mm256_set1_epi32((int)0x80000000u); /* unsigned compare: carry where c0 < lo */
  __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, sign), _mm256_xor_si256(c0, sign));
  __m256i c1 = _mm256_sub_epi32(_mm256_set1_epi32((int)(uint32_t)(j0 >> 32)), carry);
  __m256i c2 = _mm256_set1_epi32((int)stream), c3 = _mm256_setzero_si256();
  __m256i k0 = _mm256_set1_epi32((int)(uint32_t)seed), k1 = _mm256_set1_epi32((int)(uint32_t)(seed >> 32));
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53u), m1 = _mm256_set1_epi64x(0xCD9E8D57u);
  const __m256i w0 = _mm256_set1_epi32((int)0x9E3779B9u), w1 = _mm256_set1_epi32((int)0xBB67AE85u);
  for (int r = 0; r < 10; r++)
    FNN_PHILOX_ROUND(_mm256_mul_epu32, _mm256_srli_epi64, _mm256_slli_epi64, FNN_B256, _mm256_xor_si256,
                     _mm256_add_epi32);
  /* interleave: unpack pairs, then 64-bit pairs, then the 128-bit halves in order */
  __m256i a = _mm256_unpacklo_epi32(c0, c1), b = _mm256_unpacklo_epi32(c2, c3);
  __m256i c = _mm256_unpackhi_epi32(c0, c1), d = _mm256_unpackhi_epi32(c2, c3);
  __m256i r0 = _mm256_unpacklo_epi64(a, b), r1 = _mm256_unpackhi_epi64(a, b);
  __m256i r2 = _mm256_unpacklo_epi64(c, d), r3 = _mm256_unpackhi_epi64(c, d);
  _mm256_storeu_si256((__m256i *)out, _mm256_permute2x128_si256(r0, r1, 0x20));
  _mm256_storeu_si256((__m256i *)(out + 8), _mm256_permute2x128_si256(r2, r3, 0x20));
  _mm256_storeu_si256((__m256i *)(out + 16), _mm256_permute2x128_si256(r0, r1, 0x31));
  _mm256_storeu_si256((__m256i *)(out + 24), _mm256_permute2x128_si256(r2, r3, 0x31));
}
#undef FNN_B256
#undef FNN_PHILOX_ROUND

static inline void fnn_philox16(uint64_t j0, uint32_t stream, uint64_t seed, uint32_t out[64]) {
  int level = fnn_isa_level();
  if (level == 4) {
    fnn_philox16_avx512(j0, stream, seed, out);
  } else if (level == 3) {
    fnn_philox8_avx2(j0, stream, seed, out);
    fnn_philox8_avx2(j0 + 8, stream, seed, out + 32);
  } else {
    fnn_philox16_c(j0, stream, seed, out);
  }
}
#else
#define fnn_philox16 fnn_philox16_c
#endif
/* 24 random bits as a uniform in [0, 1), exact in float and double. */
#define FNN_U24(r) ((double)((r) >> 8) * (1.0 / 16777216.0))

/* dtype dispatch: NAME##_f32 or NAME##_f64 with the same arguments. */
#define FNN_DISPATCH(dtype, NAME, ARGS) ((dtype) == FNN_F32 ? NAME##_f32 ARGS : NAME##_f64 ARGS)

#endif
