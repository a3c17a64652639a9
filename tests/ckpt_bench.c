/* ckpt_bench.c — checkpoint write/read throughput (a benchmark, not a test;
 * postprocess/bench_ckpt.sh runs it for 1, 2, 4, 8 ranks).  Builds the
 * deck's model under the launch's layout (no training), saves it with
 * nt_ckpt_save (collective MPI-IO, fsync, rename), loads it back with
 * nt_ckpt_load (checksums verified), and on rank 0 writes and reads the same
 * number of bytes as one plain sequential file (write + fsync, read).
 * Prints one line: ranks layout bytes write_s read_s plain_write_s plain_read_s.
 * Usage: ckpt_bench DECK DIR [--set section.key=value ...] */
#include "backend.h"
#include "check.h"
#include "ckpt.h"
#include "deck.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: ckpt_bench DECK DIR [--set section.key=value ...]\n"); return 2; }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    char **sets = nt_calloc((size_t)argc, sizeof(char *), "sets");
    int nset = 0;
    for (int i = 3; i < argc; i++)
        if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nset++] = argv[++i];
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], nset, sets);
    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, nt_backend_cpu(), MPI_COMM_WORLD);
    int rank0 = tr.grid.world.rank == 0;
    nt_ckpt_meta meta = {.deck_text = "", .deck_sha256 = ""};
    MPI_Barrier(MPI_COMM_WORLD);
    double ws = nt_ckpt_save(&tr, argv[2], 1, &meta);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    nt_ckpt_load(&tr, argv[2], 1, NULL);
    MPI_Barrier(MPI_COMM_WORLD);
    double rs = now() - t0;
    char file[4096];
    snprintf(file, sizeof file, "%s/iter_%07ld/%s", argv[2], tr.step, NT_CKPT_FILE);
    if (rank0) {
        struct stat st;
        NT_CHECK_SYS(stat(file, &st));
        size_t bytes = (size_t)st.st_size, chunk = (size_t)8 << 20;
        char *buf = nt_malloc(chunk, "plain buffer");
        memset(buf, 0x5a, chunk);
        char plain[4200];
        snprintf(plain, sizeof plain, "%s/plain.bin", argv[2]);
        double p0 = now();
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
        double pw = now() - p0;
        p0 = now();
        fd = open(plain, O_RDONLY);
        NT_CHECK_SYS(fd);
        for (;;) {
            ssize_t r = read(fd, buf, chunk);
            NT_CHECK_SYS(r);
            if (r == 0) break;
        }
        NT_CHECK_SYS(close(fd));
        double pr = now() - p0;
        NT_CHECK_SYS(unlink(plain));
        free(buf);
        printf("ranks %d layout TP%d_PP%d_DP%d bytes %zu write_s %.3f read_s %.3f plain_write_s %.3f plain_read_s %.3f\n",
               tr.grid.world.size, tr.grid.TP, tr.grid.PP, tr.grid.DP, bytes, ws, rs, pw, pr);
    }
    nt_trainer_free(&tr);
    free(sets);
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
