/* prep.c — `ntron prep`: tokenize text or JSON lines with MPI ranks in
 * parallel and write one HDF5 dataset file collectively through MPI-IO.
 *
 * Every rank maps the input and takes a contiguous byte range, moved to
 * record boundaries by a rule that depends only on the file (line starts;
 * for blank-line separated text, starts of documents), so the ranges tile
 * the file the same way whatever the rank count.  Line numbers come from an
 * exclusive prefix sum of each range's newline count.  A bad record stops
 * its rank; the ranks agree (nt_comm_agree: the lowest rank with an error
 * holds the first bad line of the file), its owner prints `file:line:
 * reason`, and all exit 2 together before any file is created.  Output rows are placed at offsets from exclusive prefix
 * sums (tokens, samples), every rank writes its hyperslab of every dataset
 * with a collective H5Dwrite (an empty selection when it has none), into
 * OUT.tmp.PID, renamed to OUT on success.  The datasets are therefore
 * identical for any number of ranks.  Layout (DESIGN.md, HDF5 files):
 *   all:        /tokens uint32, /doc_offsets uint64 (samples+1)
 *   sft:        /loss_mask uint8 (per token)
 *   preference: /ranges uint64 [n,4] (prompt, chosen, rejected starts, end),
 *               /rewards float32 [n,2] (chosen, rejected; NaN if absent)
 *   reward:     /labels int8 [n,5] (HelpSteer2 attributes, 0-4)
 *   attributes: kind, format, tokenizer, tokenizer_hash, vocab_size, bos_id,
 *               eod_id, source, template (chat formats)
 */
#include "prep/prep.h"
#include "ckpt/ckpt.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "cli/cli_flags.h"
#include "parallel/comm.h"
#include "prep/prep_format.h"
#include "util/sys.h"
#include "tokenizer/tokenizer.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* first record start at or after b */
static size_t boundary(const char *m, size_t size, size_t b, int by_doc)
{
    if (b == 0) return 0;
    if (b >= size) return size;
    size_t p = b;
    while (p < size && m[p - 1] != '\n') p++;
    if (!by_doc) return p;
    for (;;) { /* advance until the line before p is blank */
        if (p >= size) return size;
        size_t q = p - 1; /* m[q] == '\n'; find its line start */
        size_t s = q;
        while (s > 0 && m[s - 1] != '\n') s--;
        if (is_blank(m + s, q - s + 1)) return p;
        while (p < size && m[p] != '\n') p++;
        if (p < size) p++;
    }
}

typedef struct { long line; char msg[1024]; } prep_error;

/* Renders every record of m[b0..b1) (its first line is line0). Returns 0 or -1 (err set). */
static int tokenize_range(const char *m, size_t b0, size_t b1, long line0, nt_prep_format fmt, int by_line,
                          const nt_tokenizer *t, nt_prep_out *out, prep_error *e)
{
    long line = line0;
    size_t doc = SIZE_MAX; /* start of the open text document */
    size_t p = b0;
    char why[1024];
    while (p < b1) {
        const char *nl = memchr(m + p, '\n', b1 - p);
        size_t end = nl ? (size_t)(nl - m) + 1 : b1; /* one past the line, newline included */
        size_t len = end - p;
        if (!nt_utf8_check(m + p, len, why, sizeof why)) { e->line = line; snprintf(e->msg, sizeof e->msg, "%s", why); return -1; }
        int blank = is_blank(m + p, len);
        if (fmt == NT_FMT_TEXT && !by_line) {
            if (blank && doc != SIZE_MAX) {
                if (nt_prep_record(fmt, t, m + doc, p - doc, out, why, sizeof why)) goto bad;
                doc = SIZE_MAX;
            } else if (!blank && doc == SIZE_MAX) {
                doc = p;
            }
        } else if (!blank) {
            size_t l = fmt == NT_FMT_TEXT ? len : len - (nl ? 1 : 0);
            if (nt_prep_record(fmt, t, m + p, l, out, why, sizeof why)) goto bad;
        }
        p = end;
        line++;
        continue;
    bad:
        e->line = line;
        snprintf(e->msg, sizeof e->msg, "%s", why);
        return -1;
    }
    if (doc != SIZE_MAX && nt_prep_record(fmt, t, m + doc, b1 - doc, out, why, sizeof why)) {
        e->line = line - 1;
        snprintf(e->msg, sizeof e->msg, "%s", why);
        return -1;
    }
    return 0;
}

/* ---- collective HDF5 writes -------------------------------------------------------- */

/* Writes this rank's rows [row0, row0+nrows) of a [total, cols] dataset. */
static void write_rows(hid_t f, const char *name, hid_t ftype, hid_t mtype, const void *buf, uint64_t nrows,
                       uint64_t cols, uint64_t row0, uint64_t total, hid_t dxpl)
{
    hsize_t dims[2] = {total, cols}, start[2] = {row0, 0}, count[2] = {nrows, cols};
    int rank = cols > 1 ? 2 : 1;
    hid_t fs = H5Screate_simple(rank, dims, NULL);
    NT_CHECK_H5(fs);
    hid_t d = H5Dcreate2(f, name, ftype, fs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    hsize_t one = 1;
    hid_t ms = H5Screate_simple(1, nrows ? (hsize_t[]){nrows * cols} : &one, NULL);
    NT_CHECK_H5(ms);
    if (nrows) {
        NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
    } else {
        NT_CHECK_H5(H5Sselect_none(fs));
        NT_CHECK_H5(H5Sselect_none(ms));
    }
    NT_CHECK_H5(H5Dwrite(d, mtype, ms, fs, dxpl, buf));
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Dclose(d));
    NT_CHECK_H5(H5Sclose(fs));
}

/* ---- input and output paths, checked before anything is written -------------- */

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) || S_ISBLK(m) ? "a device"
         : S_ISSOCK(m) ? "a socket" : "not a file";
}

/* The input, mapped: stat first, so a FIFO or device is refused instead of
 * blocking in open(); *st = the input's (for the output check). */
static const char *map_input(const char *in, size_t *size, struct stat *st)
{
    if (stat(in, st) != 0) nt_input_error("%s: cannot open: %s", in, strerror(errno));
    if (!S_ISREG(st->st_mode)) nt_input_error("%s: not a regular file (%s)", in, file_kind(st->st_mode));
    int fd = open(in, O_RDONLY | O_NONBLOCK);
    if (fd < 0) nt_input_error("%s: cannot open: %s", in, strerror(errno));
    NT_CHECK_SYS(fstat(fd, st));
    if (!S_ISREG(st->st_mode)) nt_input_error("%s: not a regular file (%s)", in, file_kind(st->st_mode));
    *size = (size_t)st->st_size;
    if (*size == 0) nt_input_error("%s: no documents (empty input)", in);
    const char *m = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) nt_die(NT_EXIT_FAIL, "%s: mmap: %s", in, strerror(errno));
    close(fd);
    return m;
}

/* -o OUT: not the input (same inode, by any path), not a checkpoint, not a
 * directory, in an existing writable directory.  Bad paths exit 2; a
 * directory we may not write in (permissions, read-only file system) is
 * the environment's failure: exit 1. */
static void check_output(const char *out, const char *in, const struct stat *ist)
{
    struct stat st;
    if (stat(out, &st) == 0) {
        if (st.st_dev == ist->st_dev && st.st_ino == ist->st_ino)
            nt_input_error("prep: -o %s is the input %s (the same file): refusing to overwrite it", out, in);
        if (S_ISDIR(st.st_mode)) nt_input_error("prep: -o %s: %s (-o names the file to write)", out, strerror(EISDIR));
        if (!S_ISREG(st.st_mode)) nt_input_error("prep: -o %s: not a regular file (%s)", out, file_kind(st.st_mode));
        if (nt_ckpt_is_file(out))
            nt_input_error("prep: -o %s is a ntron checkpoint: refusing to replace it with a dataset", out);
    } else if (errno != ENOENT) {
        nt_input_error("prep: -o %s: %s", out, strerror(errno));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    struct stat ds;
    if (stat(dir, &ds) != 0) nt_input_error("prep: -o %s: directory %s: %s", out, dir, strerror(errno));
    if (!S_ISDIR(ds.st_mode)) nt_input_error("prep: -o %s: %s is not a directory", out, dir);
    if (access(dir, W_OK | X_OK) != 0)
        nt_die(NT_EXIT_FAIL, "prep: -o %s: cannot write in directory %s: %s", out, dir, strerror(errno));
}

int nt_prep_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *tokspec = NULL, *sep = "blank", *format = "text", *inspect = NULL;
    const nt_flag flags[] = {
        {.name = "--tokenizer", .kind = NT_FLAG_STRING, .dest = &tokspec, .arg = "byte|MODEL",
         .help = "byte, or a SentencePiece .model file (required)"},
        {.name = "--format", .kind = NT_FLAG_CHOICE, .dest = &format, .help = "input format (see above)",
         .choices = "text|jsonl|chat|preference|reward"},
        {.name = "--doc-sep", .kind = NT_FLAG_CHOICE, .dest = &sep,
         .help = "text: documents end at a blank line, or at every line",
         .choices = "blank|line"},
        {.name = "-o", .kind = NT_FLAG_STRING, .dest = &out, .arg = "OUT.h5",
         .help = "the dataset file to write (required)"},
        {.name = "--inspect", .kind = NT_FLAG_STRING, .dest = &inspect, .arg = "FILE.h5",
         .help = "instead: a dataset's kind, sizes, statistics and a decoded sample (--tokenizer to decode)"},
    };
    const nt_cli cli = {
        "prep", "INPUT", 0, 1,
        "Tokenize INPUT into an HDF5 token dataset.  Run under mpirun/srun to tokenize with several\n"
        "ranks; the output is the same for any count.  FORMAT:\n"
        "  text        documents separated by blank lines, or one per line (--doc-sep line)\n"
        "  jsonl       {\"text\": ...} per line\n"
        "  chat        {\"messages\": [{\"role\", \"content\"}...]}\n"
        "  preference  {\"prompt\", \"chosen\", \"rejected\", [chosen_reward, rejected_reward]}\n"
        "  reward      HelpSteer2: {\"prompt\", \"response\", helpfulness, correctness, coherence,\n"
        "              complexity, verbosity}\n"
        "Also: ntron prep --inspect FILE.h5 [--tokenizer byte|MODEL]",
        flags, (int)(sizeof flags / sizeof *flags)};
    nt_cli_parse(&cli, argc, argv, &in);
    if (inspect) return nt_prep_inspect(inspect, tokspec);
    if (!in || !out) nt_cli_error(&cli, "need INPUT and -o OUT.h5 (see ntron prep --help)");
    if (!tokspec) nt_cli_error(&cli, "--tokenizer is required (byte, or a SentencePiece .model file)");
    return nt_prep_file(in, out, tokspec, format, sep);
}

/* everything that can fail on input or the output path, before MPI
 * starts and before anything is written; every rank checks alike, the
 * ranks agree once MPI is up (c->status, c->msg): printed once, all exit
 * together.  Its own function: nothing of the caller's lives across the
 * longjmp. */
static void prep_open(nt_catch *c, nt_tokenizer *tok, const char *tokspec, nt_prep_format fmt, const char *format,
                      const char *in, const char *out, const char **m, size_t *size)
{
    if (NT_TRY(c)) {
        nt_tokenizer_open(tok, tokspec);
        if (fmt >= NT_FMT_CHAT && (tok->sys_id < 0 || tok->user_id < 0 || tok->asst_id < 0))
            nt_input_error("prep: --format %s needs a SentencePiece model with the chat tokens %s %s %s "
                           "(`ntron tokenizer train` adds them); %s has none", format, NT_CHAT_SYSTEM, NT_CHAT_USER,
                           NT_CHAT_ASSISTANT, tokspec);
        struct stat ist;
        *m = map_input(in, size, &ist);
        check_output(out, in, &ist);
        nt_catch_end(c);
    }
}

int nt_prep_file(const char *in, const char *out, const char *tokspec, const char *format, const char *sep)
{
    nt_prep_format fmt;
    if (!strcmp(format, "text")) fmt = NT_FMT_TEXT;
    else if (!strcmp(format, "jsonl")) fmt = NT_FMT_JSONL;
    else if (!strcmp(format, "chat")) fmt = NT_FMT_CHAT;
    else if (!strcmp(format, "preference")) fmt = NT_FMT_PREF;
    else fmt = NT_FMT_RM;
    int by_line = !strcmp(sep, "line");
    if (fmt != NT_FMT_TEXT) by_line = 1;

    nt_tokenizer tok;
    size_t size = 0;
    const char *m = NULL;
    nt_catch c;
    prep_open(&c, &tok, tokspec, fmt, format, in, out, &m, &size);

    int was_init = 0;
    NT_CHECK_MPI(MPI_Initialized(&was_init));
    if (!was_init) NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_comm_agree(&world, c.status ? c.status : NT_EXIT_INPUT, c.msg);
    int rank = world.rank, nranks = world.size;
    double t0 = nt_now();

    int by_doc = fmt == NT_FMT_TEXT && !by_line;
    size_t b0 = boundary(m, size, (size_t)((double)size * rank / nranks), by_doc);
    size_t b1 = boundary(m, size, (size_t)((double)size * (rank + 1) / nranks), by_doc);
    if (rank == nranks - 1) b1 = size;
    if (rank == 0) b0 = 0;
    int64_t nl = 0, nl_before = 0;
    for (const char *p = m + b0; p < m + b1 && (p = memchr(p, '\n', (size_t)(m + b1 - p))); p++) nl++;
    nt_comm_exscan(&world, &nl, &nl_before, 1, NT_I64);

    nt_prep_out o;
    memset(&o, 0, sizeof o);
    prep_error e = {LONG_MAX, ""};
    tokenize_range(m, b0, b1, 1 + nl_before, fmt, by_line, &tok, &o, &e);
    /* the first bad line of the file: ranks hold increasing line ranges, so
     * it is the lowest rank's with an error; printed once, all exit 2 */
    char bad[1200] = "";
    if (e.line != LONG_MAX) snprintf(bad, sizeof bad, "%s:%ld: %s", in, e.line, e.msg);
    nt_comm_agree(&world, NT_EXIT_INPUT, bad);
    double t1 = nt_now();

    uint64_t loc[2] = {o.tok.n, o.ends.n / sizeof(uint64_t)}, tot[2] = {loc[0], loc[1]}, pre[2] = {0, 0};
    nt_comm_allreduce(&world, tot, 2, NT_U64, NT_SUM);
    nt_comm_exscan(&world, loc, pre, 2, NT_U64);
    /* every rank has the same totals: rank 0 says it, all exit 2 */
    if (tot[1] == 0) nt_exit_agreed(NT_EXIT_INPUT, rank == 0, "%s: no documents (no non-blank record)", in);
    uint64_t nsamp = loc[1];
    /* offsets: rank 0 writes the leading 0 */
    uint64_t *ends = nt_malloc((nsamp + 1) * sizeof(uint64_t), "doc offsets");
    uint64_t nrow_off = 0;
    if (rank == 0) ends[nrow_off++] = 0;
    for (uint64_t i = 0; i < nsamp; i++) ends[nrow_off++] = ((uint64_t *)o.ends.p)[i] + pre[0];
    uint64_t *ranges = (uint64_t *)o.ranges.p;
    for (size_t i = 0; i < o.ranges.n / sizeof(uint64_t); i++) ranges[i] += pre[0];

    char tmp[4200];
    int pid = (int)getpid();
    nt_comm_bcast_i32(&world, &pid, 1, 0);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, pid);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    NT_CHECK_H5(fapl);
    NT_CHECK_H5(H5Pset_fapl_mpio(fapl, world.mpi, MPI_INFO_NULL));
    /* the paths were checked; should the create fail after all, one line, no HDF5 stack */
    H5E_auto2_t efn;
    void *edata;
    NT_CHECK_H5(H5Eget_auto2(H5E_DEFAULT, &efn, &edata));
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    errno = 0;
    hid_t h = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    int cerr = errno;
    (void)efn;   /* HDF5's printing stays off through the writes: failures are reported once */
    (void)edata;
    char cmsg[4400] = "";
    if (h < 0) snprintf(cmsg, sizeof cmsg, "prep: -o %s: cannot create %s: %s", out, tmp,
                        cerr ? strerror(cerr) : "HDF5 could not create the file");
    nt_comm_agree(&world, NT_EXIT_FAIL, cmsg);
    /* reserve the file's blocks before HDF5 writes: a full disk or quota
     * fails here, where the ranks stop together, the .tmp removed */
    double want = (double)tot[0] * 5 + (double)tot[1] * 53 + 8 + (double)(1 << 20);
    off_t reserved = 0;
    if (rank == 0) {
        int fd = open(tmp, O_WRONLY);
        if (fd >= 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)want) == 0) reserved = (off_t)want;
        else if (fd < 0 || (errno != EOPNOTSUPP && errno != ENOSYS))
            snprintf(cmsg, sizeof cmsg, "prep: -o %s: cannot reserve %.4g MB for %s: %s", out, want / 1e6, tmp,
                     strerror(errno));
        if (fd >= 0) close(fd);
    }
    int who = nt_comm_first_error(&world, cmsg);
    if (who >= 0) {
        if (rank == 0 && truncate(tmp, 0) != 0) { /* nothing to free */ }
        nt_comm_barrier(&world);
        int closed = H5Fclose(h) >= 0;
        if (rank == 0) unlink(tmp);
        if (closed) nt_exit_agreed(NT_EXIT_FAIL, rank == who, "%s (nothing written)", cmsg);
        nt_die(NT_EXIT_FAIL, "%s (nothing written)", cmsg);
    }
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    NT_CHECK_H5(dxpl);
    NT_CHECK_H5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
    write_rows(h, "/tokens", H5T_STD_U32LE, H5T_NATIVE_UINT32, o.tok.v, o.tok.n, 1, pre[0], tot[0], dxpl);
    write_rows(h, "/doc_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, ends, nrow_off, 1,
               rank == 0 ? 0 : 1 + pre[1], tot[1] + 1, dxpl);
    if (fmt == NT_FMT_CHAT)
        write_rows(h, "/loss_mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, o.mask.p, o.mask.n, 1, pre[0], tot[0], dxpl);
    if (fmt == NT_FMT_PREF) {
        write_rows(h, "/ranges", H5T_STD_U64LE, H5T_NATIVE_UINT64, o.ranges.p, nsamp, 4, pre[1], tot[1], dxpl);
        write_rows(h, "/rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, o.rewards.p, nsamp, 2, pre[1], tot[1], dxpl);
    }
    if (fmt == NT_FMT_RM) {
        write_rows(h, "/labels", H5T_STD_I8LE, H5T_NATIVE_INT8, o.labels.p, nsamp, 5, pre[1], tot[1], dxpl);
        nt_h5attr_write_str(h, "label_names", "helpfulness correctness coherence complexity verbosity");
    }
    nt_h5attr_write_i64(h, "vocab_size", tok.vocab);
    nt_h5attr_write_i64(h, "eod_id", tok.eod);
    nt_h5attr_write_i64(h, "bos_id", tok.bos);
    nt_h5attr_write_str(h, "kind", nt_prep_kind(fmt));
    nt_h5attr_write_str(h, "format", format);
    nt_h5attr_write_str(h, "tokenizer", tokspec);
    nt_h5attr_write_str(h, "tokenizer_hash", tok.hash);
    nt_h5attr_write_str(h, "source", in);
    if (fmt >= NT_FMT_CHAT) nt_h5attr_write_str(h, "template", "nemotron");
    NT_CHECK_H5(H5Pclose(dxpl));
    NT_CHECK_H5(H5Pclose(fapl));
    NT_CHECK_H5(H5Fclose(h));
    nt_comm_barrier(&world);
    struct stat fst;
    if (rank == 0 && reserved && stat(tmp, &fst) == 0 && fst.st_size < reserved) {   /* give back the rest */
        int fd = open(tmp, O_WRONLY);
        if (fd >= 0) {
            if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, fst.st_size, reserved - fst.st_size) != 0) {
                /* not supported: the blocks stay with the file */
            }
            close(fd);
        }
    }
    if (rank == 0 && rename(tmp, out) != 0) {
        int err = errno;
        unlink(tmp);
        nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, out, strerror(err));
    }
    double t2 = nt_now();
    if (rank == 0)
        printf("prep: %s -> %s: %s, %llu samples, %llu tokens (tokenizer %s, vocab %d), %d rank%s: "
               "tokenize %.3f s (%.0f tokens/s), write %.3f s (%.1f MB/s), total %.3f s\n",
               in, out, nt_prep_kind(fmt), (unsigned long long)tot[1], (unsigned long long)tot[0], tokspec,
               tok.vocab, nranks, nranks > 1 ? "s" : "", t1 - t0, (double)tot[0] / (t1 - t0 > 0 ? t1 - t0 : 1e-9),
               t2 - t1, (double)tot[0] * 4 / 1e6 / (t2 - t1 > 0 ? t2 - t1 : 1e-9), t2 - t0);
    free(ends);
    free(o.tok.v);
    free(o.mask.p);
    free(o.ends.p);
    free(o.ranges.p);
    free(o.rewards.p);
    free(o.labels.p);
    munmap((void *)m, size);
    nt_tokenizer_close(&tok);
    if (!was_init) NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
