/* Runtime facts for `fastnn info` and the memory-bandwidth yardstick of the benchmarks. */
#include <time.h>
#include "common.h"

int fnn_has_openmp(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}
int fnn_omp_max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
int fnn_clones_enabled(void) { return FNN_HAVE_CLONES; }
/* The clone the ifunc resolvers pick: the same order as FNN_CLONES. */
int fnn_simd_level(void) { return fnn_cpu_level(); }
const char *fnn_compiler(void) {
#ifdef __VERSION__
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

static double fnn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
FNN_CLONES static void fnn_triad_rng(double *a, const double *b, const double *c, double s,
                                     size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
}
static void fnn_init_rng(double *a, double *b, double *c, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }
}
/* STREAM triad: best of `reps`, 24 bytes per element (write-allocate traffic not counted, as STREAM). */
double fnn_triad(size_t n, int reps, int nt) {
  double *a = (double *)malloc(n * sizeof(double)), *b = (double *)malloc(n * sizeof(double)),
         *c = (double *)malloc(n * sizeof(double));
  double best = 1e300;
  if (!a || !b || !c) { free(a); free(b); free(c); return -1.0; }
  FNN_PARALLEL_RANGE(n, nt, FNN_PAR_MIN_CHEAP, fnn_init_rng(a, b, c, lo, hi)); /* first touch */
  for (int r = 0; r < reps; r++) {
    double t0 = fnn_now();
    FNN_PARALLEL_RANGE(n, nt, FNN_PAR_MIN_CHEAP, fnn_triad_rng(a, b, c, 3.0, lo, hi));
    double dt = fnn_now() - t0;
    if (dt < best) best = dt;
  }
  free(a); free(b); free(c);
  return 24.0 * (double)n / best / 1e9;
}
