/* Instantiates a family's kernel template (FNN_TEMPLATE, a ".inc" file) for float and for double:
 * every kernel body is written once. Per dtype it defines T, SUF (the name suffix, via FN(name)) and the
 * math the bodies use: float gets the vectorizable approximations of simd_math.h, double gets libm
 * (accuracy for gradient checks). Usage: #define FNN_TEMPLATE "norm.inc" then #include "instantiate.h". */
#include "simd_math.h"

#define FN(name) FNN_CAT(name, SUF)

#define T float
#define SUF _f32
#define EXP fnn_expf
#define EXPM1 fnn_expm1f
#define TANH fnn_tanhf
#define PHI fnn_phif
#define SOFTPLUS fnn_softplusf
#define SQRT sqrtf
#include FNN_TEMPLATE
#undef T
#undef SUF
#undef EXP
#undef EXPM1
#undef TANH
#undef PHI
#undef SOFTPLUS
#undef SQRT

#define T double
#define SUF _f64
#define EXP exp
#define EXPM1 expm1
#define TANH tanh
#define PHI fnn_phi
#define SOFTPLUS fnn_softplus
#define SQRT sqrt
#include FNN_TEMPLATE
#undef T
#undef SUF
#undef EXP
#undef EXPM1
#undef TANH
#undef PHI
#undef SOFTPLUS
#undef SQRT
