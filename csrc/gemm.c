/* GEMM family: BLAS matrix products split across fastnn's own OpenMP team.
 *
 * Two thread pools (libgomp for fastnn's kernels, the BLAS library's own) fight over the cores when
 * their calls alternate, as they do in every training step (measured on 2 cores: a whole step slower
 * with 2 threads than with 1). So BLAS runs single-threaded and each product is cut into independent
 * blocks of output rows (or columns) handed to the threads: one pool, no reduction across threads,
 * and block bounds fixed by the shape, so each output element comes from the same BLAS call whatever
 * the thread count. */
#include "common.h"

typedef void (*fnn_sgemm_t)(const char *, const char *, const int *, const int *, const int *,
                            const float *, const float *, const int *, const float *, const int *,
                            const float *, float *, const int *);
typedef void (*fnn_dgemm_t)(const char *, const char *, const int *, const int *, const int *,
                            const double *, const double *, const int *, const double *, const int *,
                            const double *, double *, const int *);

/* Below this many multiply-adds a product runs on one thread (measured on the 784-256-128-10 MLP at
 * batch 32, 2 threads: 0.26M -> 390 us/step, 1M -> 290, 2M -> 295, 4M -> 398). */
#define FNN_GEMM_PAR_MIN 1048576.0

/* Row-major C (M x N) = alpha op(A) op(B) + beta C, as the column-major C^T = op(B)^T op(A)^T, on
 * the calling thread (one BLAS call). */
void fnn_gemm_serial(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                     const void *A, int lda, const void *B, int ldb, double beta, void *C, int ldc) {
  char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
  if (M <= 0 || N <= 0) return;
  if (dtype == FNN_F32) {
    float fa = (float)alpha, fb = (float)beta;
    ((fnn_sgemm_t)fn)(&cb, &ca, &N, &M, &K, &fa, (const float *)B, &ldb, (const float *)A, &lda, &fb,
                      (float *)C, &ldc);
  } else {
    ((fnn_dgemm_t)fn)(&cb, &ca, &N, &M, &K, &alpha, (const double *)B, &ldb, (const double *)A, &lda,
                      &beta, (double *)C, &ldc);
  }
}

int fnn_gemm(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
             int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz) {
  return fnn_gemm_ex(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt, ftz, FNN_GEMM_PAR_MIN);
}

int fnn_gemm_ex(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
                int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz, double par_min) {
  size_t es = dtype == FNN_F32 ? sizeof(float) : sizeof(double);
  double work = (double)M * (double)N * (double)K;
  if (work < 2 * par_min || M <= 0 || N <= 0) {
    FNN_FTZ_BEGIN(ftz);
    fnn_gemm_serial(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    FNN_FTZ_END();
    return FNN_OK;
  }
  /* Blocks of the longer side whose size depends on the shape only: BLAS results differ with where a
   * block starts (its edge tiles), so fixed blocks make the product bitwise the same for any thread
   * count, 1 included. 4 blocks for products up to 256M multiply-adds, up to 8 for larger ones (each
   * block re-packs the other operand: on 2 cores, 16 blocks of a 32x784x256 product cost 35% more
   * than 4; big products afford more blocks and so more threads). */
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
