/* GEMM family: BLAS matrix products split across fastnn's own OpenMP team.
 *
 * Two thread pools (libgomp for fastnn's kernels, the BLAS library's own) fight over the cores when
 * their calls alternate, as they do in every training step (measured on 2 cores: a whole step slower
 * with 2 threads than with 1). So BLAS runs single-threaded and each product is cut into independent
 * blocks of output rows (or columns), one BLAS call per thread: one pool, no reduction across threads,
 * and each output element is the same K-ordered sum whatever the thread count. */
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

/* Row-major C (M x N) = alpha op(A) op(B) + beta C, as the column-major C^T = op(B)^T op(A)^T. */
static void fnn_gemm_block(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                           const void *A, int lda, const void *B, int ldb, double beta, void *C,
                           int ldc) {
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
             int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt) {
  size_t es = dtype == FNN_F32 ? sizeof(float) : sizeof(double);
  double work = (double)M * (double)N * (double)K;
  int team = nt;
  if (work < 2 * FNN_GEMM_PAR_MIN) team = 1;
  else if (work / FNN_GEMM_PAR_MIN < team) team = (int)(work / FNN_GEMM_PAR_MIN);
  int split_rows = M >= N; /* cut the longer side, in blocks that are multiples of 16 */
  int len = split_rows ? M : N;
  if (team > (len + 15) / 16) team = (len + 15) / 16;
  if (team <= 1) {
    fnn_gemm_block(dtype, fn, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return FNN_OK;
  }
#pragma omp parallel num_threads(team)
  {
    int T = omp_get_num_threads(), t = omp_get_thread_num();
    int blk = ((len + T - 1) / T + 15) & ~15;
    int lo = t * blk < len ? t * blk : len, hi = lo + blk < len ? lo + blk : len;
    if (lo < hi) {
      const char *a = (const char *)A, *b = (const char *)B;
      char *c = (char *)C;
      if (split_rows) /* rows lo..hi of op(A) and of C */
        fnn_gemm_block(dtype, fn, ta, tb, hi - lo, N, K, alpha,
                       a + (ta ? (size_t)lo : (size_t)lo * lda) * es, lda, B, ldb, beta,
                       c + (size_t)lo * ldc * es, ldc);
      else /* columns lo..hi of op(B) and of C */
        fnn_gemm_block(dtype, fn, ta, tb, M, hi - lo, K, alpha, A, lda,
                       b + (tb ? (size_t)lo * ldb : (size_t)lo) * es, ldb, beta, c + (size_t)lo * es,
                       ldc);
    }
  }
  return FNN_OK;
}
