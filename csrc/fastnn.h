/* fastnn kernel layer: the public C entry points.
 *
 * Every kernel exists for float and double; the body is written once in a family's `.inc` template
 * (included twice), and the entry point below takes a dtype code and void pointers, so bindings
 * declare each kernel once. Sizes are element counts. `nt` is the thread count the caller resolved.
 * Return value: FNN_OK or a negative FNN_E* code (never an abort).
 */
#ifndef FASTNN_H
#define FASTNN_H
#include <stddef.h>
#include <stdint.h>

#define FNN_F32 0
#define FNN_F64 1
/* float32 arrays whose products run in bf16 with float32 accumulation (gemm and conv only) */
#define FNN_BF16 2

#define FNN_OK 0
#define FNN_ENOMEM (-1)
#define FNN_EINDEX (-2)
#define FNN_EVALUE (-3)

/* ---- activation family (activation.c) ---- */
/* The element-wise activations, one line each: X(CODE, name, parallel threshold: FNN_PAR_MIN_EXP for ops
 * with exp/tanh/erf, FNN_PAR_MIN_CHEAP for a compare). Adding one: a line here, its forward and backward
 * formulas in activation.inc (FNN_UNARY / FNN_GRAD); the code tables follow from this list. */
#define FNN_UNARY_OPS(X)                                                                           \
  X(SIGMOID, sigmoid, FNN_PAR_MIN_EXP) X(TANH, tanh, FNN_PAR_MIN_EXP) X(RELU, relu, FNN_PAR_MIN_CHEAP) \
  X(LEAKY_RELU, leaky_relu, FNN_PAR_MIN_CHEAP) X(ELU, elu, FNN_PAR_MIN_EXP) X(SELU, selu, FNN_PAR_MIN_EXP) \
  X(GELU, gelu, FNN_PAR_MIN_EXP) X(GELU_TANH, gelu_tanh, FNN_PAR_MIN_EXP) X(SILU, silu, FNN_PAR_MIN_EXP)  \
  X(SOFTPLUS, softplus, FNN_PAR_MIN_EXP)
enum {
#define FNN_UNARY_ENUM(code, name, parmin) FNN_##code,
  FNN_UNARY_OPS(FNN_UNARY_ENUM)
#undef FNN_UNARY_ENUM
  FNN_N_UNARY
};
/* The op's name ("relu", ...), or NULL for a code out of range. */
const char *fnn_unary_name(int op);
/* y = f(x; a, b). a, b: the op's parameters (slope, alpha, beta, threshold) or unused. */
int fnn_unary(int op, int dtype, const void *x, void *y, size_t n, double a, double b, int nt);
/* dx = g * f'(.; a, b); `xy` is the forward output for sigmoid/tanh, the input otherwise. */
int fnn_unary_backward(int op, int dtype, const void *g, const void *xy, void *dx, size_t n,
                       double a, double b, int nt);
/* PReLU on an (N, C, S) view; weight has C values, or 1 shared (wc == 1). */
int fnn_prelu(int dtype, const void *x, const void *w, void *y, size_t N, size_t C, size_t S,
              size_t wc, int nt);
int fnn_prelu_backward(int dtype, const void *g, const void *x, const void *w, void *dx, void *dw,
                       size_t N, size_t C, size_t S, size_t wc, int accumulate, int nt);
/* RReLU: slope drawn from U(lower, upper) per element from (seed, index) in training; mean in eval. */
int fnn_rrelu(int dtype, const void *x, void *y, size_t n, double lower, double upper, int training,
              uint64_t seed, int nt);
int fnn_rrelu_backward(int dtype, const void *g, const void *x, void *dx, size_t n, double lower,
                       double upper, int training, uint64_t seed, int nt);
/* Inverted dropout y = x * keep / (1 - p), keep drawn from (seed, index); its backward is the same map. */
int fnn_dropout(int dtype, const void *x, void *y, size_t n, double p, uint64_t seed, int nt);

/* ---- norm family (norm.c): (N, C, S) views, statistics per channel c ---- */
int fnn_bn_stats(int dtype, const void *x, size_t N, size_t C, size_t S, double *mean, double *var,
                 int nt);
int fnn_bn_forward(int dtype, const void *x, const void *gamma, const void *beta, void *rmean,
                   void *rvar, void *y, void *save_mean, void *save_invstd, size_t N, size_t C,
                   size_t S, int training, double momentum, double eps, int nt);
int fnn_bn_backward(int dtype, const void *g, const void *x, const void *gamma, const void *mean,
                    const void *invstd, void *dx, void *dgamma, void *dbeta, size_t N, size_t C,
                    size_t S, int training, int accumulate, int nt);
/* Per-channel sums of an (N, C, S) view (bias gradients). */
int fnn_channel_sum(int dtype, const void *x, void *out, size_t N, size_t C, size_t S,
                    int accumulate, int nt);

/* ---- loss family (loss.c): rows of length C ---- */
int fnn_softmax(int dtype, const void *x, void *y, size_t N, size_t C, int log, int nt);
int fnn_softmax_backward(int dtype, const void *g, const void *y, void *dx, size_t N, size_t C,
                         int log, int nt);
/* reduction: 0 none (row losses into `loss_rows`), 1 mean, 2 sum. grad may be NULL. */
int fnn_cross_entropy(int dtype, const void *logits, const int64_t *target, size_t N, size_t C,
                      int reduction, double label_smoothing, double *loss, void *loss_rows,
                      void *grad, int nt);
enum { FNN_MSE = 0, FNN_L1, FNN_BCE_LOGITS, FNN_N_PAIRLOSS };
int fnn_pair_loss(int op, int dtype, const void *pred, const void *target, size_t n, int reduction,
                  double *loss, void *loss_elems, void *grad, int nt);

/* ---- optim family (optim.c): fused in-place updates, PyTorch's formulas ---- */
int fnn_sgd_step(int dtype, void *p, const void *g, void *buf, size_t n, long step, double lr,
                 double momentum, double dampening, double wd, int nesterov, double l1, int nt);
int fnn_adagrad_step(int dtype, void *p, const void *g, void *sum, size_t n, long step, double lr,
                     double lr_decay, double wd, double eps, double l1, int nt);
int fnn_rmsprop_step(int dtype, void *p, const void *g, void *sq, void *mbuf, void *gavg, size_t n,
                     double lr, double alpha, double eps, double wd, double momentum, double l1,
                     int nt);
int fnn_adam_step(int dtype, void *p, const void *g, void *m, void *v, void *vmax, size_t n,
                  long step, double lr, double beta1, double beta2, double eps, double wd,
                  int decoupled, double l1, double l2, int nt);
int fnn_adamax_step(int dtype, void *p, const void *g, void *m, void *u, size_t n, long step, double lr,
                    double beta1, double beta2, double eps, double wd, double l1, int nt);
/* NAdam: the step's scalar coefficients (cg for the gradient, cm for the momentum) come from Python. */
int fnn_nadam_step(int dtype, void *p, const void *g, void *m, void *v, size_t n, double beta1,
                   double beta2, double bc2, double cg, double cm, double eps, double wd,
                   int decoupled, double lr, double l1, double l2, int nt);

/* ---- reduce family (reduce.c) ---- */
/* sum |x|^p (p = 2: squares; p = inf: max |x|), deterministic. Also counts non-finite values. */
int fnn_norm_pow(int dtype, const void *x, size_t n, double p, double *out, int nt);
int fnn_scale_(int dtype, void *x, size_t n, double s, int nt);
int fnn_clamp_(int dtype, void *x, size_t n, double lo, double hi, int nt);

/* ---- augment (augment.c): (N, C, H, W) image batches ---- */
/* y (N, C, OH, OW) = x sampled at A_n (i, j, 1) per sample (6 doubles), bilinear or nearest, fill outside */
int fnn_affine_sample(int dtype, const void *x, void *y, size_t N, size_t C, size_t H, size_t W,
                      size_t OH, size_t OW, const double *A, int nearest, int edge, double fill, int nt);
/* torchvision's ColorJitter: per sample factors (b, c, s, h) and an op order; y may be x */
int fnn_color_jitter(int dtype, const void *x, void *y, size_t N, size_t C, size_t HW,
                     const double *factors, const int *order, int nt);

/* ---- gemm (gemm.c): row-major C = alpha op(A) op(B) + beta C over nt threads: fastnn's own kernels
 * when fn is NULL, else blocks fixed by the shape, each one call of `fn` (sgemm/dgemm from scipy's
 * BLAS, which must then run single-threaded) ---- */
int fnn_gemm(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
             int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz);
/* the same with the smallest product (multiply-adds) worth a team given: the blocks depend on it, so a
 * caller passes a constant (fnn_gemm: 1M, measured on MLP steps) */
int fnn_gemm_ex(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
                int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz, double par_min);
/* C = op(A) op(B) + bias, bias[j] added to column j (C is not read): a linear layer's forward */
int fnn_gemm_bias(int dtype, void *fn, int ta, int tb, int M, int N, int K, const void *A, int lda,
                  const void *B, int ldb, void *C, int ldc, const void *bias, int nt, int ftz);
/* op(B) (K x N) packed once into the panels the kernels read (bytes: fnn_gemm_packed_bytes, 0 where the
 * kernels take none: bf16), and C = A op(B) + bias (bias may be NULL) reading it: the same bits as
 * fnn_gemm_bias, without packing B per product (inference reuses a layer's weight). */
size_t fnn_gemm_packed_bytes(int dtype, int N, int K);
int fnn_gemm_pack_b(int dtype, int tb, int N, int K, const void *B, int ldb, void *out);
int fnn_gemm_bias_pk(int dtype, int tb, int M, int N, int K, const void *A, int lda, const void *B, int ldb,
                     const void *bpk, void *C, int ldc, const void *bias, int nt, int ftz);
/* the product on the calling thread (the building block of the above and of the convolutions) */
void fnn_gemm_serial(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha,
                     const void *A, int lda, const void *B, int ldb, double beta, void *C, int ldc);
/* the instruction set fastnn's own products run on (4: x86-64-v4, 3: x86-64-v3, 0: the build's target)
 * and their float micro-tile */
void fnn_gemm_describe(int *level, int *mr, int *nr);
/* the path of bf16 products (FNN_BF16): 2 AVX512_BF16 (vdpbf16ps), 0 its emulation, bit for bit the same */
int fnn_gemm_bf16_path(void);

/* ---- conv (conv.c): 2-D convolution, NCHW, weight (OC, C / groups, KH, KW); a 1-D one is H = 1 ---- */
typedef struct {
  size_t N, C, H, W, OC, KH, KW, OH, OW, groups;
  long sh, sw, ph, pw, dh, dw; /* stride, padding (top, left; the output size fixes the rest), dilation */
  int bf16;                     /* float32 only: the products in bf16 (FNN_BF16), float32 accumulation */
} fnn_conv_t;
/* the algorithm: 0 chosen by shape (default), 1 im2col everywhere, 2 Winograd wherever it applies */
void fnn_conv_set_algorithm(int algo);
int fnn_conv_get_algorithm(void);
/* y = conv(x, w) + b (b may be NULL). gemm: sgemm/dgemm (single-threaded BLAS). */
int fnn_conv2d(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w, const void *b,
               void *y, int nt, int ftz);
/* gx = d/dx (gx NULL: skipped), gw (+)= d/dw (NULL: skipped); gy the output gradient. */
int fnn_conv2d_backward(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w,
                        const void *gy, void *gx, void *gw, int accumulate, int nt, int ftz);

/* ---- pool (pool.c): windows over (P planes of H x W); per output row oh: first tap row hs[oh], hn[oh]
 * taps dh apart; per output column likewise (ws, wn, dw). op: FNN_POOL_MAX (argmax, plane-local index,
 * kept in idx) or FNN_POOL_AVG (sum / div[oh * OW + ow]). ---- */
enum { FNN_POOL_MAX = 0, FNN_POOL_AVG };
int fnn_pool2d(int op, int dtype, const void *x, void *y, int32_t *idx, size_t P, size_t H, size_t W,
               size_t OH, size_t OW, const int64_t *hs, const int64_t *hn, long dh, const int64_t *ws,
               const int64_t *wn, long dw, const double *div, int nt);
int fnn_pool2d_backward(int op, int dtype, const void *gy, void *gx, const int32_t *idx, size_t P, size_t H,
                        size_t W, size_t OH, size_t OW, const int64_t *hs, const int64_t *hn, long dh,
                        const int64_t *ws, const int64_t *wn, long dw, const double *div, int nt);

/* ---- rbm (rbm.c): restricted Boltzmann machines, W (H x V) row-major, chain (P x H) ---- */
typedef struct {
  size_t V, H, P;               /* visible and hidden units; persistent particles */
  int k, persistent, gaussian;  /* Gibbs steps; persistent chain (else CD from the batch); visible units */
  double lr, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay;
  uint64_t seed;                /* Philox key of the draws */
} fnn_rbm_t;
/* Elements of scratch (of the dtype) fnn_rbm_train needs for batches of up to `batch` rows. */
size_t fnn_rbm_work_size(const fnn_rbm_t *c, size_t batch);
/* Train on the rows of X (n x V) in batches of `batch` (in the order of `order`, n indices, or as stored);
 * calls: sampling calls so far (keyed into the draws; advanced). inj: NULL, or the draws to use in
 * order (tests). Winc/bhinc/bvinc: momentum buffers; q (H): running mean activity for sparsity. */
int fnn_rbm_train(int dtype, void *gemm, const fnn_rbm_t *c, const void *X, size_t n, size_t batch,
                  const int64_t *order, void *W, void *bh, void *bv, void *chain, void *Winc, void *bhinc,
                  void *bvinc, void *q, uint64_t *calls, const void *inj, void *work, int nt, int ftz);

/* ---- runtime (runtime.c) ---- */
int fnn_has_openmp(void);
int fnn_omp_max_threads(void);
int fnn_simd_level(void); /* 4: x86-64-v4 (AVX-512), 3: x86-64-v3 (AVX2+FMA), 0: baseline */
int fnn_clones_enabled(void);
const char *fnn_compiler(void);
double fnn_triad(size_t n, int reps, int nt); /* best GB/s of a[i] = b[i] + s*c[i], doubles */
/* the adaptive team (runtime.c): the kernels' thread count on a machine other processes share */
int fnn_adapt_decide(int ncpu, double others, int ceded);
int fnn_adaptive_threads(int nmax);
int fnn_adapt_state(int *ncpu, int *ceded, double *others);
double fnn_others_load(double seconds, int *ncpu);

#endif
