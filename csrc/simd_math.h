/* Branch-free float math that GCC vectorizes (glibc's vector libm needs -ffast-math, which we refuse
 * because it breaks NaN/Inf handling). Accuracy ~1-2 ulp (expf), 1.2e-7 relative (erfc); NaN in, NaN out.
 * The double kernels call libm instead: they serve gradient checks, where accuracy beats speed. */
#ifndef FASTNN_SIMD_MATH_H
#define FASTNN_SIMD_MATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float fnn_bits_f(int32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline int32_t fnn_f_bits(float f) { int32_t u; memcpy(&u, &f, 4); return u; }

/* exp: Cody-Waite reduction x = n ln2 + r, Cephes polynomial for e^r, 2^n applied in two halves so
 * results degrade gracefully to subnormals, 0 and Inf. */
static inline float fnn_expf(float x) {
  float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  int32_t ni = (int32_t)n, h = ni / 2;
  float s1 = fnn_bits_f((h + 127) << 23), s2 = fnn_bits_f((ni - h + 127) << 23);
  float res = p * s1 * s2;
  return x != x ? x : res;
}

/* double exp, vectorizable (for kernels where a vector of doubles must be fast: RBM sampling): the same
 * reduction with fdlibm's split ln2, degree-13 Taylor polynomial for e^r (|r| <= ln2 / 2: truncation
 * < 1e-17), 2^n in two halves. ~1-2 ulp; NaN in, NaN out; 0 and Inf at the ends. */
static inline double fnn_bits_d(int64_t u) { double f; memcpy(&f, &u, 8); return f; }
static inline int64_t fnn_d_bits(double f) { int64_t u; memcpy(&u, &f, 8); return u; }
static inline double fnn_expd(double x) {
  double xc = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
  double t = xc * 1.4426950408889634 + 6755399441055744.0; /* + 1.5 * 2^52: round to nearest */
  double n = t - 6755399441055744.0;
  int64_t ni = fnn_d_bits(t) - fnn_d_bits(6755399441055744.0), h = ni >> 1;
  double r = xc - n * 6.93147180369123816490e-01;
  r = r - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  double res = p * fnn_bits_d((h + 1023) << 52) * fnn_bits_d((ni - h + 1023) << 52);
  return x != x ? x : res;
}

/* expm1: Taylor series near 0 (where exp(x) - 1 cancels), exp(x) - 1 elsewhere. */
static inline float fnn_expm1f(float x) {
  float t = x * (1.0f + x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 +
            x * (1.0f / 720 + x * (1.0f / 5040 + x * (1.0f / 40320))))))));
  float e = fnn_expf(x) - 1.0f;
  return (x > -0.35f && x < 0.35f) ? t : e;
}

/* log for positive normal x (Cephes logf). */
static inline float fnn_logf_pos(float x) {
  int32_t b = fnn_f_bits(x);
  float e = (float)(((b >> 23) & 0xff) - 126);
  float m = fnn_bits_f((b & 0x007fffff) | 0x3f000000); /* [0.5, 1) */
  int small = m < 0.707106781186547524f;
  e = small ? e - 1.0f : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  float z = m * m;
  float y = 7.0376836292E-2f;
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  y += e * -2.12194440e-4f;
  y += -0.5f * z;
  return m + y + e * 0.693359375f;
}

/* log1p(u) for u in [0, 1] (Goldberg's trick: exact correction of the rounding of 1 + u). */
static inline float fnn_log1pf_unit(float u) {
  float w = 1.0f + u;
  float d = w - 1.0f;
  float l = fnn_logf_pos(w) * (u / (d == 0.0f ? 1.0f : d));
  return d == 0.0f ? u : l;
}

/* log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
static inline float fnn_softplusf(float x) {
  float ax = fabsf(x);
  float r = (x > 0.0f ? x : 0.0f) + fnn_log1pf_unit(fnn_expf(-ax));
  return x != x ? x : r;
}

/* tanh: odd/even rational minimax fit on [-7.9, 7.9] (the form Eigen uses), one division and no
 * exp; |x| < 4e-4 returns x, where tanh x = x to float precision. */
static inline float fnn_tanhf(float x) {
  float c = x < -7.90531110763549805f ? -7.90531110763549805f
                                      : (x > 7.90531110763549805f ? 7.90531110763549805f : x);
  float x2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 - 8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * c;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  float r = p / q;
  r = fabsf(x) < 0.0004f ? x : r;
  return x != x ? x : r;
}

/* erf: odd/even rational minimax fit on [-4, 4] (Eigen's float erf), +-1 beyond; no exp. */
static inline float fnn_erff(float x) {
  float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  float x2 = c * c;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  p = p * c;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  float r = p / q;
  return x != x ? x : r;
}

/* Standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2. Max abs error of x Phi(x) on [-10, 10]:
 * 1.4e-6, PyTorch's float GELU 1.2e-6 (measured against scipy in float64). */
static inline float fnn_phif(float x) { return 0.5f + 0.5f * fnn_erff(x * 0.70710678118654752f); }
static inline double fnn_phi(double x) { return 0.5 * erfc(-x * 0.70710678118654752); }
static inline double fnn_softplus(double x) {
  return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x))) + (x != x ? x : 0.0);
}

#endif
