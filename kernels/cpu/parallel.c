/* parallel.c — cpu_parallel_for: splits a range of independent work items
 * (elements, rows) of the non-GEMM CPU kernels over a small persistent pool
 * of worker threads, so that elementwise ops, LayerNorm rows and the AdamW
 * update use the same cores as the OpenBLAS GEMMs instead of one.
 *
 * Each item is computed by exactly one thread with the same code as the
 * serial loop, so results are bitwise identical to the serial kernels (the
 * callers only split work whose items are independent: no cross-item
 * reduction is split).  Threads: NT_CPU_THREADS, else OMP_NUM_THREADS, else
 * OPENBLAS_NUM_THREADS, else the online CPU count divided by the ranks on
 * this node (OMPI_COMM_WORLD_LOCAL_SIZE / MPI_LOCALNRANKS, so that
 * oversubscribed multi-rank CPU runs do not multiply spinning threads); at
 * most CPU_PAR_MAX_THREADS.  1 (or a range below the caller's grain) runs
 * serially on the calling thread.  Workers are started on first use; after
 * a job they poll for the next one with sched_yield for CPU_PAR_SPIN_MS
 * (as OpenBLAS's own workers do: a worker that sleeps is woken onto the
 * caller's busy core and the split gains nothing), then sleep on a
 * condition variable.  One job runs at a time (the kernels are called from
 * one thread per rank; a call from a second thread while a job runs runs
 * serially). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kernels_cpu.h"

#define CPU_PAR_MAX_THREADS 64
#define CPU_PAR_SPIN_MS 20

static pthread_once_t par_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t par_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t par_go = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t par_busy = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static int par_threads = 1;         /* including the caller */
static atomic_ulong par_gen;        /* job generation, bumped per job */
static atomic_int par_pending;      /* workers not yet finished with this job */
static int par_sleeping;            /* workers in pthread_cond_wait (under par_mu) */
static cpu_par_fn par_fn;
static void *par_ctx;
static size_t par_n;

static int env_threads(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    long v = strtol(s, NULL, 10);
    return v > 0 ? (int)(v > CPU_PAR_MAX_THREADS ? CPU_PAR_MAX_THREADS : v) : 0;
}

static void chunk(int k, int nt, size_t n, size_t *i0, size_t *i1)
{
    *i0 = n * (size_t)k / (size_t)nt;
    *i1 = n * (size_t)(k + 1) / (size_t)nt;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static void *worker(void *arg)
{
    int k = (int)(size_t)arg;
    unsigned long seen = 0;
    for (;;) {
        /* poll (yielding) for a while, then sleep until the next job */
        double t0 = now_ms();
        for (unsigned it = 1; atomic_load_explicit(&par_gen, memory_order_acquire) == seen; it++) {
            if ((it & 63) == 0 && now_ms() - t0 > CPU_PAR_SPIN_MS) {
                pthread_mutex_lock(&par_mu);
                par_sleeping++;
                while (atomic_load(&par_gen) == seen)
                    pthread_cond_wait(&par_go, &par_mu);
                par_sleeping--;
                pthread_mutex_unlock(&par_mu);
                break;
            }
            sched_yield();
        }
        seen = atomic_load_explicit(&par_gen, memory_order_acquire);
        size_t i0, i1;
        chunk(k, par_threads, par_n, &i0, &i1);
        if (i1 > i0)
            par_fn(par_ctx, i0, i1);
        atomic_fetch_sub_explicit(&par_pending, 1, memory_order_release);
    }
    return NULL;
}

static void par_init(void)
{
    int nt = env_threads("NT_CPU_THREADS");
    if (!nt) nt = env_threads("OMP_NUM_THREADS");
    if (!nt) nt = env_threads("OPENBLAS_NUM_THREADS");
    if (!nt) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        int local = env_threads("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (!local) local = env_threads("MPI_LOCALNRANKS");
        if (local > 1)
            c /= local;
        nt = c > 0 ? (int)(c > CPU_PAR_MAX_THREADS ? CPU_PAR_MAX_THREADS : c) : 1;
    }
    int started = 1;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (int k = 1; k < nt; k++) {
        pthread_t th;
        if (pthread_create(&th, &at, worker, (void *)(size_t)k) != 0)
            break;
        started++;
    }
    pthread_attr_destroy(&at);
    par_threads = started;
}

int cpu_parallel_threads(void)
{
    pthread_once(&par_once, par_init);
    return par_threads;
}

void cpu_parallel_for(size_t n, size_t grain, cpu_par_fn fn, void *ctx)
{
    if (n == 0)
        return;
    if (grain < 1)
        grain = 1;
    int nt = n >= 2 * grain ? cpu_parallel_threads() : 1;
    if (nt > 1 && (size_t)nt > n / grain)
        nt = (int)(n / grain);
    if (nt <= 1 || pthread_mutex_trylock(&par_busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    if (nt < par_threads) { /* fewer chunks than workers: run serially rather than reshape the pool */
        pthread_mutex_unlock(&par_busy);
        fn(ctx, 0, n);
        return;
    }
    par_fn = fn;
    par_ctx = ctx;
    par_n = n;
    atomic_store_explicit(&par_pending, par_threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&par_mu);
    atomic_fetch_add_explicit(&par_gen, 1, memory_order_release);
    if (par_sleeping)
        pthread_cond_broadcast(&par_go);
    pthread_mutex_unlock(&par_mu);
    size_t i0, i1;
    chunk(0, par_threads, n, &i0, &i1);
    fn(ctx, i0, i1);
    while (atomic_load_explicit(&par_pending, memory_order_acquire) > 0)
        sched_yield();
    pthread_mutex_unlock(&par_busy);
}
