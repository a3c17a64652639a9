/* ckpt_bench.c — checkpoint write/read throughput (a benchmark, not a test;
 * postprocess/bench_ckpt.sh runs it for 1, 2, 4, 8 ranks).  Builds the
 * deck's model under the launch's layout (no training), saves it with
 * nt_ckpt_save (collective MPI-IO, fsync, rename; each round a new
 * iteration, the oldest beyond checkpoint.keep removed as in training, in
 * the background; the bench waits for that removal outside the timings),
 * loads it back with
 * nt_ckpt_load (checksums verified), and on rank 0 writes and reads the same
 * number of bytes as one plain sequential file (write + fsync, read).
 * Each of the four is measured --reps times (default 4), interleaved, and
 * the median of all but the first round printed, because one plain write on
 * a shared disk varies by +-15% from run to run; the first checkpoint a
 * process writes (page cache and MPI-IO set-up) is printed on its own.
 * Prints one line: ranks layout bytes write_s read_s plain_write_s
 * plain_read_s first_write_s.
 * Usage: ckpt_bench DECK DIR [--reps N] [--set section.key=value ...] */
#include "backend/backend.h"
#include "util/check.h"
#include "ckpt/ckpt.h"
#include "deck/deck.h"
#include "util/sys.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* the checkpoint's size in bytes written (write + fsync) and read back as
 * one plain sequential file in the same directory */
static void plain_io(const char *dir, long step, size_t *bytes_out, double *pw, double *pr)
{
    char file[4096];
    snprintf(file, sizeof file, "%s/iter_%07ld/%s", dir, step, NT_CKPT_FILE);
    struct stat st;
    NT_CHECK_SYS(stat(file, &st));
    size_t bytes = (size_t)st.st_size, chunk = (size_t)8 << 20;
    char *buf = nt_malloc(chunk, "plain buffer");
    memset(buf, 0x5a, chunk);
    char plain[4200];
    snprintf(plain, sizeof plain, "%s/plain.bin", dir);
    double p0 = nt_now();
    int fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    NT_CHECK_SYS(fd);
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < chunk ? bytes - done : chunk;
        ssize_t w = write(fd, buf, n);
        NT_CHECK_SYS(w);
        done += (size_t)w;
    }
    NT_CHECK_SYS(fsync(fd));
    NT_CHECK_SYS(close(fd));
    *pw = nt_now() - p0;
    p0 = nt_now();
    fd = open(plain, O_RDONLY);
    NT_CHECK_SYS(fd);
    for (;;) {
        ssize_t r = read(fd, buf, chunk);
        NT_CHECK_SYS(r);
        if (r == 0) break;
    }
    NT_CHECK_SYS(close(fd));
    *pr = nt_now() - p0;
    NT_CHECK_SYS(unlink(plain));
    free(buf);
    *bytes_out = bytes;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: ckpt_bench DECK DIR [--reps N] [--set section.key=value ...]\n"); return 2; }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    char **sets = nt_calloc((size_t)argc, sizeof(char *), "sets");
    int nset = 0, reps = 4;
    for (int i = 3; i < argc; i++)
        if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nset++] = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], nset, sets);
    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, nt_backend_cpu(), MPI_COMM_WORLD);
    int rank0 = tr.ms.grid.world.rank == 0;
    nt_ckpt_meta meta = {.deck_text = "", .deck_sha256 = ""};
    if (reps < 2 || reps > 15) { fprintf(stderr, "ckpt_bench: --reps must be 2..15\n"); return 2; }
    double ws[15], rs[15], pws[15], prs[15];
    size_t bytes = 0;
    for (int r = 0; r < reps; r++) {
        /* as in training: each save is a new iteration, and the deck's
         * checkpoint.keep (default 2) removes the oldest inside the save */
        tr.step = 100 * (r + 1);
        NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
        ws[r] = nt_ckpt_save(&tr, argv[2], cfg.ckpt_keep, &meta);
        nt_ckpt_reap_wait();   /* the pruned one's removal (background in training) stays out of the reads */
        NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
        double t0 = nt_now();
        nt_ckpt_load(&tr.ms, &tr.opt, argv[2], NULL);
        NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
        rs[r] = nt_now() - t0;
        if (rank0) plain_io(argv[2], tr.step, &bytes, &pws[r], &prs[r]);
        NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
    }
    if (rank0)
        printf("ranks %d layout TP%d_PP%d_DP%d bytes %zu write_s %.3f read_s %.3f plain_write_s %.3f plain_read_s %.3f "
               "first_write_s %.3f\n", tr.ms.grid.world.size, tr.ms.grid.TP, tr.ms.grid.PP, tr.ms.grid.DP, bytes,
               median(ws + 1, reps - 1), median(rs + 1, reps - 1), median(pws + 1, reps - 1), median(prs + 1, reps - 1),
               ws[0]);
    nt_trainer_free(&tr);
    free(sets);
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
