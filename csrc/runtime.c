/* Runtime facts for `fastnn info`, the memory-bandwidth yardstick of the benchmarks, and the adaptive
   team: how many threads the kernels may use on a machine other processes share. */
#define _GNU_SOURCE
#include <math.h>
#include <time.h>
#include "common.h"
#ifdef __linux__
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#endif

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

/* ---- the adaptive team ----
   A parallel region ends when its slowest thread does. When another process holds one of the cores, the
   team's thread that shares it arrives a scheduler slice (milliseconds) late at every region, so a
   static team of all cores runs the many short kernels of a training step at a fraction of one thread's
   speed (4x below it measured on 2 cores with one busy). So the team cedes a core for each core other
   processes keep busy: every FNN_ADAPT_PERIOD seconds the caller that finds the period over reads how much
   CPU time the CPUs this process may run on spent busy (/proc/stat, steal included: a vCPU the hypervisor
   gives away is not ours either) less this process's own CPU time; that load of the others, smoothed,
   decides. Ceding starts above FNN_ADAPT_CEDE of a core beyond those ceded (at a 12% duty another process
   already costs a 2-thread team more than one thread loses) and a core comes back only below
   FNN_ADAPT_TAKE, so a load between the two does not make the team flap. Results do not depend on the
   team's size (every kernel splits its work in fixed chunks combined in a fixed order): only speed does. */
#define FNN_ADAPT_PERIOD 0.1
#define FNN_ADAPT_CEDE 0.2
#define FNN_ADAPT_TAKE 0.1

static struct {
  int lock;          /* one caller samples at a time; the others read the current decision */
  int ok;            /* -1: not yet tried, 0: no /proc/stat (not Linux, a sandbox), 1: sampling */
  int ceded, ncpu;   /* cores ceded to other processes; CPUs this process may run on */
  double next, t, busy, own, others;
} fnn_ad = {0, -1, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0};

/* How many cores to cede, from the others' load (cores) and those ceded so far. */
int fnn_adapt_decide(int ncpu, double others, int ceded) {
  int cede = (int)ceil(others - FNN_ADAPT_CEDE), take = (int)ceil(others - FNN_ADAPT_TAKE);
  if (cede > ceded) ceded = cede;
  else if (take < ceded) ceded = take;
  if (ceded > ncpu - 1) ceded = ncpu - 1;
  return ceded < 0 ? 0 : ceded;
}

#ifdef __linux__
static double fnn_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds the CPUs of this process's affinity mask spent busy since boot (-1: cannot tell); *ncpu their
   count. /proc/stat's lines "cpuN user nice system idle iowait irq softirq steal ..." count USER_HZ ticks. */
static double fnn_busy_seconds(int *ncpu) {
  static char buf[1 << 16];
  cpu_set_t mask;
  ssize_t len = 0, r;
  int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1.0;
  while (len < (ssize_t)sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0) len += r;
  close(fd);
  buf[len] = 0;
  if (sched_getaffinity(0, sizeof(mask), &mask) != 0) CPU_ZERO(&mask);
  double ticks = 0.0;
  int n = 0;
  for (char *line = strstr(buf, "\ncpu"); line; line = strstr(line + 1, "\ncpu")) {
    unsigned long long v[8] = {0};
    int cpu;
    if (sscanf(line + 1, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 8 || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &mask))
      continue;
    ticks += (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]); /* idle (v[3]) and iowait (v[4]) are free */
    n++;
  }
  long hz = sysconf(_SC_CLK_TCK);
  *ncpu = n;
  return n > 0 && hz > 0 ? ticks / (double)hz : -1.0;
}

/* Take a sample when the period is over (one caller at a time) and update the decision. */
static void fnn_adapt_sample(void) {
  double now = fnn_clock(CLOCK_MONOTONIC);
  if (now < fnn_ad.next || __atomic_exchange_n(&fnn_ad.lock, 1, __ATOMIC_ACQUIRE)) return;
  int ncpu = 0;
  double busy = fnn_busy_seconds(&ncpu), own = fnn_clock(CLOCK_PROCESS_CPUTIME_ID);
  if (busy < 0.0) {
    fnn_ad.ok = 0;
  } else {
    if (fnn_ad.ok == 1 && now > fnn_ad.t) {
      double load = ((busy - fnn_ad.busy) - (own - fnn_ad.own)) / (now - fnn_ad.t);
      load = load < 0.0 ? 0.0 : (load > ncpu ? ncpu : load);
      fnn_ad.others = 0.5 * fnn_ad.others + 0.5 * load;
      fnn_ad.ceded = fnn_adapt_decide(ncpu, fnn_ad.others, fnn_ad.ceded);
    }
    fnn_ad.ok = 1;
    fnn_ad.ncpu = ncpu;
    fnn_ad.t = now, fnn_ad.busy = busy, fnn_ad.own = own;
  }
  fnn_ad.next = now + FNN_ADAPT_PERIOD;
  __atomic_store_n(&fnn_ad.lock, 0, __ATOMIC_RELEASE);
}
/* The cores other processes keep busy over the next `seconds` (a sleep; -1: cannot tell): what
   `fastnn info` and `fastnn bench` report. */
double fnn_others_load(double seconds, int *ncpu) {
  double t0 = fnn_clock(CLOCK_MONOTONIC), own0 = fnn_clock(CLOCK_PROCESS_CPUTIME_ID);
  double busy0 = fnn_busy_seconds(ncpu);
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  if (busy0 < 0.0) return -1.0;
  nanosleep(&ts, NULL);
  double busy1 = fnn_busy_seconds(ncpu), dt = fnn_clock(CLOCK_MONOTONIC) - t0;
  double load = ((busy1 - busy0) - (fnn_clock(CLOCK_PROCESS_CPUTIME_ID) - own0)) / (dt > 0.0 ? dt : 1.0);
  return busy1 < 0.0 ? -1.0 : (load < 0.0 ? 0.0 : (load > *ncpu ? *ncpu : load));
}
#else
static void fnn_adapt_sample(void) { fnn_ad.ok = 0; }
double fnn_others_load(double seconds, int *ncpu) {
  (void)seconds;
  *ncpu = 0;
  return -1.0;
}
#endif

/* The team for a kernel: at most nmax threads, fewer while other processes keep cores busy. */
int fnn_adaptive_threads(int nmax) {
  if (nmax <= 1 || fnn_ad.ok == 0) return nmax;
  fnn_adapt_sample();
  int team = fnn_ad.ncpu - __atomic_load_n(&fnn_ad.ceded, __ATOMIC_RELAXED);
  return team < 1 ? 1 : (team < nmax ? team : nmax);
}

/* What the adaptive team knows: CPUs, cores ceded, the others' smoothed load (cores); 0 if it cannot
   sample this machine. */
int fnn_adapt_state(int *ncpu, int *ceded, double *others) {
  *ncpu = fnn_ad.ncpu, *ceded = fnn_ad.ceded, *others = fnn_ad.others;
  return fnn_ad.ok == 1;
}
