# Declarations of csrc/fastnn.h: every kernel once, dtype chosen by a code (FNN_F32 / FNN_F64).
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "fastnn.h" nogil:
    int FNN_F32, FNN_F64, FNN_BF16, FNN_OK, FNN_ENOMEM, FNN_EINDEX, FNN_EVALUE
    int FNN_SIGMOID, FNN_TANH, FNN_RELU, FNN_LEAKY_RELU, FNN_ELU, FNN_SELU, FNN_GELU, FNN_GELU_TANH
    int FNN_SILU, FNN_SOFTPLUS, FNN_N_UNARY
    const char *fnn_unary_name(int op)
    int FNN_MSE, FNN_L1, FNN_BCE_LOGITS

    int fnn_unary(int op, int dtype, const void *x, void *y, size_t n, double a, double b, int nt)
    int fnn_unary_backward(int op, int dtype, const void *g, const void *xy, void *dx, size_t n,
                           double a, double b, int nt)
    int fnn_prelu(int dtype, const void *x, const void *w, void *y, size_t N, size_t C, size_t S,
                  size_t wc, int nt)
    int fnn_prelu_backward(int dtype, const void *g, const void *x, const void *w, void *dx, void *dw,
                           size_t N, size_t C, size_t S, size_t wc, int accumulate, int nt)
    int fnn_rrelu(int dtype, const void *x, void *y, size_t n, double lower, double upper,
                  int training, uint64_t seed, int nt)
    int fnn_rrelu_backward(int dtype, const void *g, const void *x, void *dx, size_t n, double lower,
                           double upper, int training, uint64_t seed, int nt)
    int fnn_dropout(int dtype, const void *x, void *y, size_t n, double p, uint64_t seed, int nt)

    int fnn_bn_stats(int dtype, const void *x, size_t N, size_t C, size_t S, double *mean,
                     double *var, int nt)
    int fnn_bn_forward(int dtype, const void *x, const void *gamma, const void *beta, void *rmean,
                       void *rvar, void *y, void *save_mean, void *save_invstd, size_t N, size_t C,
                       size_t S, int training, double momentum, double eps, int nt)
    int fnn_bn_backward(int dtype, const void *g, const void *x, const void *gamma,
                        const void *mean, const void *invstd, void *dx, void *dgamma, void *dbeta,
                        size_t N, size_t C, size_t S, int training, int accumulate, int nt)
    int fnn_channel_sum(int dtype, const void *x, void *out, size_t N, size_t C, size_t S,
                        int accumulate, int nt)

    int fnn_softmax(int dtype, const void *x, void *y, size_t N, size_t C, int log, int nt)
    int fnn_softmax_backward(int dtype, const void *g, const void *y, void *dx, size_t N, size_t C,
                             int log, int nt)
    int fnn_cross_entropy(int dtype, const void *logits, const int64_t *target, size_t N, size_t C,
                          int reduction, double label_smoothing, double *loss, void *loss_rows,
                          void *grad, int nt)
    int fnn_pair_loss(int op, int dtype, const void *pred, const void *target, size_t n,
                      int reduction, double *loss, void *loss_elems, void *grad, int nt)

    int fnn_sgd_step(int dtype, void *p, const void *g, void *buf, size_t n, long step, double lr,
                     double momentum, double dampening, double wd, int nesterov, double l1, int nt)
    int fnn_adagrad_step(int dtype, void *p, const void *g, void *sum, size_t n, long step,
                         double lr, double lr_decay, double wd, double eps, double l1, int nt)
    int fnn_rmsprop_step(int dtype, void *p, const void *g, void *sq, void *mbuf, void *gavg,
                         size_t n, double lr, double alpha, double eps, double wd, double momentum,
                         double l1, int nt)
    int fnn_adam_step(int dtype, void *p, const void *g, void *m, void *v, void *vmax, size_t n,
                      long step, double lr, double beta1, double beta2, double eps, double wd,
                      int decoupled, double l1, double l2, int nt)
    int fnn_adamax_step(int dtype, void *p, const void *g, void *m, void *u, size_t n, long step,
                        double lr, double beta1, double beta2, double eps, double wd, double l1, int nt)
    int fnn_nadam_step(int dtype, void *p, const void *g, void *m, void *v, size_t n, double beta1,
                       double beta2, double bc2, double cg, double cm, double eps, double wd,
                       int decoupled, double lr, double l1, double l2, int nt)

    int fnn_norm_pow(int dtype, const void *x, size_t n, double p, double *out, int nt)
    int fnn_scale_(int dtype, void *x, size_t n, double s, int nt)
    int fnn_clamp_(int dtype, void *x, size_t n, double lo, double hi, int nt)

    int fnn_affine_sample(int dtype, const void *x, void *y, size_t N, size_t C, size_t H, size_t W,
                          size_t OH, size_t OW, const double *A, int nearest, int edge, double fill, int nt)
    int fnn_color_jitter(int dtype, const void *x, void *y, size_t N, size_t C, size_t HW,
                         const double *factors, const int *order, int nt)

    int fnn_gemm(int dtype, void *fn, int ta, int tb, int M, int N, int K, double alpha, const void *A,
                 int lda, const void *B, int ldb, double beta, void *C, int ldc, int nt, int ftz)
    int fnn_gemm_bias(int dtype, void *fn, int ta, int tb, int M, int N, int K, const void *A, int lda,
                      const void *B, int ldb, void *C, int ldc, const void *bias, int nt, int ftz)
    void fnn_gemm_describe(int *level, int *mr, int *nr)
    int fnn_gemm_bf16_path()
    size_t fnn_gemm_packed_bytes(int dtype, int N, int K)
    int fnn_gemm_pack_b(int dtype, int tb, int N, int K, const void *B, int ldb, void *out)
    int fnn_gemm_bias_pk(int dtype, int tb, int M, int N, int K, const void *A, int lda, const void *B, int ldb,
                         const void *bpk, void *C, int ldc, const void *bias, int nt, int ftz)
    int fnn_gemm_bf16_path()

    ctypedef struct fnn_conv_t:
        size_t N, C, H, W, OC, KH, KW, OH, OW, groups
        long sh, sw, ph, pw, dh, dw
        int bf16
    void fnn_conv_set_algorithm(int algo)
    int fnn_conv_get_algorithm()
    int fnn_conv2d(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w,
                   const void *b, void *y, int nt, int ftz)
    int fnn_conv2d_backward(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w,
                            const void *gy, void *gx, void *gw, int accumulate, int nt, int ftz)

    ctypedef struct fnn_rbm_t:
        size_t V, H, P
        int k, persistent, gaussian
        double lr, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay
        uint64_t seed
    size_t fnn_rbm_work_size(const fnn_rbm_t *c, size_t batch)
    int fnn_rbm_train(int dtype, void *gemm, const fnn_rbm_t *c, const void *X, size_t n, size_t batch,
                      const int64_t *order, void *W, void *bh, void *bv, void *chain, void *Winc, void *bhinc,
                      void *bvinc, void *q, uint64_t *calls, const void *inj, void *work, int nt, int ftz)

    int FNN_POOL_MAX, FNN_POOL_AVG
    int fnn_pool2d(int op, int dtype, const void *x, void *y, int32_t *idx, size_t P, size_t H, size_t W,
                   size_t OH, size_t OW, const int64_t *hs, const int64_t *hn, long dh, const int64_t *ws,
                   const int64_t *wn, long dw, const double *div, int nt)
    int fnn_pool2d_backward(int op, int dtype, const void *gy, void *gx, const int32_t *idx, size_t P,
                            size_t H, size_t W, size_t OH, size_t OW, const int64_t *hs, const int64_t *hn,
                            long dh, const int64_t *ws, const int64_t *wn, long dw, const double *div,
                            int nt)

    int fnn_has_openmp()
    int fnn_omp_max_threads()
    int fnn_simd_level()
    int fnn_clones_enabled()
    const char *fnn_compiler()
    double fnn_triad(size_t n, int reps, int nt)
    int fnn_adapt_decide(int ncpu, double others, int ceded) nogil
    int fnn_adaptive_threads(int nmax) nogil
    int fnn_adapt_state(int *ncpu, int *ceded, double *others)
    double fnn_others_load(double seconds, int *ncpu) nogil
