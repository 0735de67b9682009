/* The machine's bf16 multiply-add peak: independent vdpbf16ps chains in registers (no memory), one
 * thread per core; prints GFLOP/s over all threads (2 flops per bf16 pair product), or nothing where
 * the CPU has no AVX512_BF16. Built and run by bench/bf16.py. */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>

__attribute__((target("avx512f,avx512bf16"))) static double run(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
  __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  __asm__ volatile("" : "+v"(a), "+v"(b)); /* unknown to the compiler: nothing folds */
  for (long k = 0; k < iters; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  float s = 0;
  for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(acc[i]);
  return s;
}

int main(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) return 0;
  long iters = 20000000;
  double sink = 0, best = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
    sink += run(iters);
    double t = omp_get_wtime() - t0;
    double gf = (double)omp_get_max_threads() * iters * 12 * 32 * 2 / t / 1e9;
    if (gf > best) best = gf;
  }
  printf("%.1f %g\n", best, sink * 0);
  return 0;
}
