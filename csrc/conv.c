/* Convolution family: 2-D convolution (a 1-D one is H = 1), forward and backward, over BLAS. */
#include "common.h"

/* Unfolded columns per work unit: at most this many bytes (a few output rows), so the scratch of a
 * thread stays in its L2 and never grows with the batch or the image. */
#define FNN_CONV_TILE_BYTES ((size_t)1 << 20)
/* Below this many multiply-adds a convolution runs on one thread (a team costs more than it saves). */
#define FNN_CONV_PAR_MIN 1000000.0
/* Weight-gradient partials: at most this many chunks, and this many bytes for all of them. */
#define FNN_CONV_MAX_CHUNKS 16
#define FNN_CONV_PART_BYTES ((size_t)64 << 20)

/* Products narrower than this many columns run below BLAS's peak: small images group samples, at
 * most N / 8 of them per unit, so that a batch still gives a team 8 units. */
#define FNN_CONV_MIN_COLS 512
#define FNN_CONV_GROUP_CAP(N) (((N) + 7) / 8)

/* How a convolution is cut into work units (fixed by the shapes, never by the thread count). */
typedef struct {
  size_t Cg, OCg, K, P;  /* channels per group, columns' height K = Cg KH KW, output pixels per sample */
  size_t rows, ntiles;   /* output rows per unit of one sample, and units per sample */
  size_t S, units;       /* samples per unit (> 1: whole samples side by side), units in all */
  int direct;            /* 1x1, unit stride, no padding: columns are the input rows */
} fnn_conv_plan_t;

static void fnn_conv_plan(const fnn_conv_t *c, size_t es, fnn_conv_plan_t *p) {
  p->Cg = c->C / c->groups;
  p->OCg = c->OC / c->groups;
  p->K = p->Cg * c->KH * c->KW;
  p->P = c->OH * c->OW;
  p->direct = c->KH == 1 && c->KW == 1 && c->sh == 1 && c->sw == 1 && c->ph == 0 && c->pw == 0 &&
              c->OH == c->H && c->OW == c->W;
  size_t per_row = p->K * es * c->OW;
  p->rows = per_row ? FNN_CONV_TILE_BYTES / per_row : c->OH;
  if (p->rows < 1) p->rows = 1;
  if (c->OH && p->rows > c->OH) p->rows = c->OH;
  p->ntiles = c->OH ? (c->OH + p->rows - 1) / p->rows : 0;
  p->S = 1;
  if (!p->direct && p->ntiles == 1 && p->P && p->K && p->P < FNN_CONV_MIN_COLS) {
    size_t want = (FNN_CONV_MIN_COLS + p->P - 1) / p->P, fit = FNN_CONV_TILE_BYTES / (p->K * es * p->P);
    p->S = FNN_MIN(FNN_MIN(want, fit), FNN_CONV_GROUP_CAP(c->N));
    if (p->S < 1) p->S = 1;
  }
  p->units = p->S > 1 ? (c->N + p->S - 1) / p->S : c->N * p->ntiles;
}

/* Unit u: samples [n0, n0 + S), output rows [oy0, oy1). */
static void fnn_conv_unit(const fnn_conv_plan_t *p, const fnn_conv_t *c, size_t u, size_t *n0, size_t *S,
                          size_t *oy0, size_t *oy1) {
  if (p->S > 1) {
    *n0 = u * p->S;
    *S = c->N - *n0 < p->S ? c->N - *n0 : p->S;
    *oy0 = 0;
    *oy1 = c->OH;
    return;
  }
  *n0 = u / p->ntiles;
  *S = 1;
  *oy0 = (u % p->ntiles) * p->rows;
  *oy1 = *oy0 + p->rows < c->OH ? *oy0 + p->rows : c->OH;
}

static int fnn_conv_team(const fnn_conv_t *c, size_t units, int nt) {
  double macs = (double)c->N * c->OC * c->OH * c->OW * (double)(c->C / (c->groups ? c->groups : 1)) * c->KH * c->KW;
  if (nt <= 1 || macs < FNN_CONV_PAR_MIN || units < 2) return 1;
  return units < (size_t)nt ? (int)units : nt;
}

static size_t fnn_conv_chunks(size_t N, size_t part_bytes) {
  size_t k = N < FNN_CONV_MAX_CHUNKS ? N : FNN_CONV_MAX_CHUNKS;
  while (k > 1 && k * part_bytes > FNN_CONV_PART_BYTES) k /= 2;
  return k ? k : 1;
}

/* Three scratch buffers per thread, kept between calls (OpenMP's threads persist): a steady training
 * step allocates nothing here. */
static __thread void *fnn_scr[3];
static __thread size_t fnn_scr_cap[3];
static void *fnn_thread_scratch(int which, size_t bytes) {
  if (fnn_scr_cap[which] < bytes) {
    free(fnn_scr[which]);
    fnn_scr[which] = malloc(bytes ? bytes : 1);
    fnn_scr_cap[which] = fnn_scr[which] ? bytes : 0;
  }
  return fnn_scr[which];
}

/* Winograd F(2x2, 3x3): a 3x3 convolution with stride 1, dilation 1 and enough channels runs as 16
 * products over transformed 4x4 input tiles (2.25x fewer multiply-adds than im2col; the transforms
 * are additions). Measured (bench/conv.py) to match im2col at 8 channels per group on both sides and beat it above. */
#define FNN_WINO_MIN_CH 8
/* transformed tiles + products of one unit: small enough to stay in L2 for the convolutions; larger
 * for the weight gradient, whose products sum over the unit's tiles (fewer, longer products) */
#define FNN_WINO_UNIT_BYTES ((size_t)512 << 10)
#define FNN_WINO_DW_UNIT_BYTES ((size_t)2 << 20)
#define FNN_WINO_MIN_TILES 64
/* tiles an output-transform pass handles at a time (its scratch: 8 rows of them on the stack) */
#define FNN_WINO_JC 64
#define FNN_WINO_MIN_UNITS 2

typedef struct {
  size_t TH, TW, tiles; /* tile rows and columns (2x2 outputs each) per image, tiles per image */
  size_t rows, nbands;  /* tile rows per unit of one image, and units per image */
  size_t S, units, TB;  /* images per unit (> 1: whole images side by side), units, most tiles in a unit */
} fnn_wino_plan_t;

/* 0: choose by shape; 1: always im2col; 2: Winograd wherever it applies (benchmarks and tests) */
static int fnn_conv_algo = 0;
void fnn_conv_set_algorithm(int algo) { fnn_conv_algo = algo; }
int fnn_conv_get_algorithm(void) { return fnn_conv_algo; }

static int fnn_wino_ok(const fnn_conv_t *c) {
  if (fnn_conv_algo == 1) return 0;
  if (fnn_conv_algo == 2 && c->KH == 3 && c->KW == 3 && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1)
    return 1;
  return c->KH == 3 && c->KW == 3 && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1 &&
         c->C / c->groups >= FNN_WINO_MIN_CH && c->OC / c->groups >= FNN_WINO_MIN_CH;
}

/* Depthwise (one input channel per group, several groups): direct loops beat products of one row. */
static int fnn_depthwise(const fnn_conv_t *c) {
  return fnn_conv_algo != 1 && c->groups > 1 && c->C == c->groups;
}

/* Depthwise rows: accumulators padded to whole vectors (OWp), the zero-padded input plane (Hp rows of Lw). */
#define FNN_DW_VEC 16
static void fnn_dw_geometry(const fnn_conv_t *c, size_t *OWp, size_t *Lw, size_t *Hp) {
  *OWp = (c->OW + FNN_DW_VEC - 1) / FNN_DW_VEC * FNN_DW_VEC;
  *Lw = (*OWp - 1) * c->sw + (c->KW - 1) * c->dw + 1;
  *Hp = (c->OH - 1) * c->sh + (c->KH - 1) * c->dh + 1;
}

/* Units of whole tile rows, fixed by the shapes (never by the thread count). */
static void fnn_wino_plan(const fnn_conv_t *c, size_t es, size_t unit_bytes, fnn_wino_plan_t *p) {
  size_t per_tile = 16 * (c->C / c->groups + c->OC / c->groups) * es;
  size_t tb = unit_bytes / per_tile;
  if (tb < FNN_WINO_MIN_TILES) tb = FNN_WINO_MIN_TILES;
  p->TH = (c->OH + 1) / 2;
  p->TW = (c->OW + 1) / 2;
  p->tiles = p->TH * p->TW;
  /* a few images: at least FNN_WINO_MIN_UNITS bands in all, so that the work spreads over a team */
  if (c->N < FNN_WINO_MIN_UNITS && p->tiles < tb * FNN_WINO_MIN_UNITS) {
    size_t per = (FNN_WINO_MIN_UNITS + c->N - 1) / (c->N ? c->N : 1);
    tb = FNN_MIN(tb, p->TW * ((p->TH + per - 1) / per));
  }
  if (p->tiles >= tb) {
    p->rows = FNN_MIN(p->TH, tb / p->TW ? tb / p->TW : 1);
    p->nbands = (p->TH + p->rows - 1) / p->rows;
    p->S = 1;
    p->units = c->N * p->nbands;
    p->TB = p->rows * p->TW;
  } else {
    p->rows = p->TH;
    p->nbands = 1;
    p->S = FNN_MIN(FNN_CONV_GROUP_CAP(c->N), tb / (p->tiles ? p->tiles : 1));
    if (p->S < 1) p->S = 1;
    p->units = (c->N + p->S - 1) / p->S;
    p->TB = p->S * p->tiles;
  }
}

#define FNN_TEMPLATE "conv.inc"
#include "instantiate.h"

int fnn_conv2d(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w, const void *b,
               void *y, int nt, int ftz) {
  return FNN_DISPATCH(dtype, conv2d, (gemm, cv, x, w, b, y, nt, ftz));
}
int fnn_conv2d_backward(int dtype, void *gemm, const fnn_conv_t *cv, const void *x, const void *w,
                        const void *gy, void *gx, void *gw, int accumulate, int nt, int ftz) {
  return FNN_DISPATCH(dtype, conv2d_backward, (gemm, cv, x, w, gy, gx, gw, accumulate, nt, ftz));
}
