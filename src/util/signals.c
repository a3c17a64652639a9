/* signals.c — pre-emption flag and collective watchdog (see signals.h). */
#include "util/signals.h"
#include "util/check.h"
#include "util/sys.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal = 0;

static void on_signal(int sig) { got_signal = sig; }

void nt_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    NT_CHECK_SYS(sigemptyset(&sa.sa_mask));
    sa.sa_flags = SA_RESTART;
    NT_CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
    NT_CHECK_SYS(sigaction(SIGTERM, &sa, NULL));
}

int nt_signal_pending(void) { return (int)got_signal; }

/* ---- watchdog ------------------------------------------------------------ */

static _Atomic(const char *) wd_op = NULL;
static _Atomic long long wd_since_ms = 0;
static _Atomic int wd_run = 0;
static double wd_timeout = 0;
static int wd_rank = 0;
static pthread_t wd_thread;

static long long now_ms(void) { return (long long)(nt_now() * 1e3); }

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec nap = {0, 100 * 1000 * 1000};
    while (atomic_load(&wd_run)) {
        nanosleep(&nap, NULL);
        const char *op = atomic_load(&wd_op);
        long long since = atomic_load(&wd_since_ms);
        if (op && (double)(now_ms() - since) > wd_timeout * 1e3) {
            fprintf(stderr, "ntron: rank %d: stuck for more than %g s in %s (run.collective_timeout = %g s); aborting\n",
                    wd_rank, wd_timeout, op, wd_timeout);
            fflush(stderr);
            /* abort the job, not only this rank: a peer that is stopped
             * (SIGSTOP, a hung node) never exits by itself, and a launcher
             * that does not end a job on one rank's exit (srun without
             * --kill-on-bad-exit) would wait for it forever.  MPI_Abort has
             * the launcher kill every rank, stopped ones included (SIGKILL).
             * Called from this thread while the main one is blocked inside
             * MPI: Open MPI's abort only asks the launcher (PMIx) */
            int up = 0, down = 0, size = 1;
            if (MPI_Initialized(&up) == MPI_SUCCESS && up && MPI_Finalized(&down) == MPI_SUCCESS && !down &&
                MPI_Comm_size(MPI_COMM_WORLD, &size) == MPI_SUCCESS && size > 1)
                MPI_Abort(MPI_COMM_WORLD, NT_EXIT_FAIL);
            _exit(NT_EXIT_FAIL);
        }
    }
    return NULL;
}

void nt_watchdog_start(double timeout_s, int rank)
{
    if (timeout_s <= 0 || atomic_load(&wd_run)) return;
    wd_timeout = timeout_s;
    wd_rank = rank;
    atomic_store(&wd_run, 1);
    int rc = pthread_create(&wd_thread, NULL, watchdog, NULL);
    NT_CHECK(rc == 0, "pthread_create (watchdog) failed: %s", strerror(rc));
}

void nt_watchdog_stop(void)
{
    if (!atomic_load(&wd_run)) return;
    atomic_store(&wd_run, 0);
    int rc = pthread_join(wd_thread, NULL);
    NT_CHECK(rc == 0, "pthread_join (watchdog) failed: %s", strerror(rc));
}

/* the open regions, innermost last (main thread only); formatted names live
 * in two buffers per level, used in turn, so the watchdog thread reading
 * the previous name of a level is not overwritten by the next one */
#define WD_DEPTH 8
static const char *wd_stack[WD_DEPTH];
static char wd_text[WD_DEPTH][2][256];
static int wd_flip[WD_DEPTH];
static int wd_depth;

/* since before op: the watchdog thread reads op, then since (seq_cst), so
 * the time it sees is never older than the region it sees */
static void wd_show(const char *op)
{
    atomic_store(&wd_since_ms, now_ms());
    atomic_store(&wd_op, op);
}

void nt_watchdog_enter(const char *op)
{
    if (wd_depth < WD_DEPTH) wd_stack[wd_depth] = op;
    wd_depth++;
    wd_show(op);
}

void nt_watchdog_enterf(const char *fmt, ...)
{
    if (wd_depth >= WD_DEPTH) { nt_watchdog_enter("a blocking operation (nested too deep to be named)"); return; }
    int k = wd_flip[wd_depth] ^= 1;
    char *buf = wd_text[wd_depth][k];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof wd_text[0][0], fmt, ap);
    va_end(ap);
    nt_watchdog_enter(buf);
}

void nt_watchdog_leave(void)
{
    if (wd_depth == 0) return;
    wd_depth--;
    /* the outer region (if any) made progress: its clock restarts */
    wd_show(wd_depth == 0 ? NULL : wd_stack[wd_depth <= WD_DEPTH ? wd_depth - 1 : WD_DEPTH - 1]);
}

void nt_fault_hang(int rank, long step)
{
    const char *f = getenv("NTRON_FAULT_HANG");
    int r;
    long s;
    if (!f || sscanf(f, "%d:%ld", &r, &s) != 2 || r != rank || s != step) return;
    fprintf(stderr, "ntron: fault injection: rank %d hangs before step %ld\n", rank, step);
    fflush(stderr);
    for (;;) pause();
}
