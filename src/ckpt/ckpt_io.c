/* ckpt_io.c — collective hyperslab writes and reads of the checkpoint's
 * tensors (see ckpt.h, postprocess/CHECKPOINT_FORMAT.md).
 *
 * Who writes what: a tensor lives on the pipeline rank whose chunk holds
 * it; on that rank its TP shard sits at (row0, col0) of the full tensor;
 * and the distributed optimizer gives DP rank d the flat range
 * [shard_lo, shard_lo + shard_n) of the joint parameter buffer.  A rank
 * writes, for every tensor, the intersection of its flat shard with the
 * tensor (TP-replicated tensors: TP rank 0 only).  In the full tensor that
 * range is a partial first row, whole middle rows and a partial last row:
 * up to three hyperslab blocks.  Every element is written by exactly one
 * rank.  A reader of any layout reads the same intersection for its own
 * shard (every TP rank, replicated tensors included), then all-gathers the
 * master weights over DP, exactly as the optimizer step does.
 */
#include "ckpt/ckpt.h"
#include "build_config.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "util/sys.h"
#include "util/rundir.h"
#include "util/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum { K_MODEL = 0, K_MASTER, K_M, K_V, NKIND };
static const char *const kind_group[NKIND] = {"/model", "/optimizer/master", "/optimizer/adam_m", "/optimizer/adam_v"};

/* ---- which part of a tensor this rank handles ------------------------------ */

typedef struct part {
    const nt_tensor_info *t;   /* local tensor on this rank, NULL if none */
    size_t flat;               /* flat index of its element 0 in the joint buffer */
    size_t x, y;               /* local element range [x, y) */
} part;

/* the full model's tensor table at this layout's vocabulary padding */
static void full_table(const nt_modelset *ms, nt_model *full)
{
    nt_model_config fmc;
    nt_model_config_init(&fmc, &ms->cfg, ms->grid.TP, 0);
    nt_model_layout(full, ms->ops, &fmc, NULL, 0, ms->cfg.layers, 1, 1);
}

static part find_part(const nt_modelset *ms, const char *name)
{
    part p = {0};
    size_t base = 0;
    for (int c = 0; c < ms->v; c++) {
        const nt_tensor_info *t = nt_model_find(&ms->chunk[c], name);
        if (t) {
            size_t a = base + t->offset, b = a + t->numel, lo = ms->shard_lo, hi = lo + ms->shard_n;
            p.t = t;
            p.flat = a;
            size_t X = a > lo ? a : lo, Y = b < hi ? b : hi;
            if (X < Y) { p.x = X - a; p.y = Y - a; }
            return p;
        }
        base += ms->chunk[c].nparams;
    }
    return p;
}

/* Select local elements [x, y) of t in the file space (2-D: up to three
 * blocks; 1-D: one) and list the row segments as (full index, length)
 * pairs for the checksum.  Returns the number of segments. */
static size_t select_range(hid_t fs, const nt_tensor_info *t, int ndims, size_t x, size_t y, uint64_t **segs)
{
    NT_CHECK_H5(H5Sselect_none(fs));
    if (x >= y) return 0;
    size_t cols = (size_t)t->cols;
    if (ndims == 1) {
        hsize_t st = (hsize_t)t->row0 + x, cnt = y - x;
        NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &cnt, NULL));
        *segs = nt_malloc(2 * sizeof(uint64_t), "checksum segments");
        (*segs)[0] = st;
        (*segs)[1] = cnt;
        return 1;
    }
    size_t r0 = x / cols, r1 = (y - 1) / cols;   /* first and last local row */
    size_t nseg = r1 - r0 + 1;
    *segs = nt_malloc(2 * nseg * sizeof(uint64_t), "checksum segments");
    for (size_t r = r0; r <= r1; r++) {
        size_t c0 = r == r0 ? x % cols : 0, c1 = r == r1 ? (y - 1) % cols + 1 : cols;
        (*segs)[2 * (r - r0)] = ((uint64_t)t->row0 + r) * (uint64_t)t->full_cols + (uint64_t)t->col0 + c0;
        (*segs)[2 * (r - r0) + 1] = c1 - c0;
    }
    H5S_seloper_t op = H5S_SELECT_SET;
    size_t mid0 = r0, mid1 = r1 + 1;   /* whole rows [mid0, mid1) */
    if (x % cols != 0 || (r0 == r1 && y % cols != 0)) {   /* partial first row */
        size_t c0 = x % cols, c1 = r0 == r1 ? (y - 1) % cols + 1 : cols;
        hsize_t st[2] = {(hsize_t)t->row0 + r0, (hsize_t)t->col0 + c0}, cnt[2] = {1, c1 - c0};
        NT_CHECK_H5(H5Sselect_hyperslab(fs, op, st, NULL, cnt, NULL));
        op = H5S_SELECT_OR;
        mid0 = r0 + 1;
    }
    if (r1 >= mid0 && y % cols != 0) {   /* partial last row */
        hsize_t st[2] = {(hsize_t)t->row0 + r1, (hsize_t)t->col0}, cnt[2] = {1, (y - 1) % cols + 1};
        NT_CHECK_H5(H5Sselect_hyperslab(fs, op, st, NULL, cnt, NULL));
        op = H5S_SELECT_OR;
        mid1 = r1;
    }
    if (mid1 > mid0) {
        hsize_t st[2] = {(hsize_t)t->row0 + mid0, (hsize_t)t->col0}, cnt[2] = {mid1 - mid0, cols};
        NT_CHECK_H5(H5Sselect_hyperslab(fs, op, st, NULL, cnt, NULL));
    }
    return nseg;
}

static hid_t mem_space(size_t n)
{
    hsize_t d = n ? n : 1;
    hid_t ms = H5Screate_simple(1, &d, NULL);
    NT_CHECK_H5(ms);
    if (!n) NT_CHECK_H5(H5Sselect_none(ms));
    return ms;
}

/* ---- attributes ------------------------------------------------------------- */

/* reading: 0 on success, -1 if missing or of another class */
static int attr_read(hid_t loc, const char *name, hid_t mtype, void *v)
{
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    int ok = ft >= 0 && H5Tget_class(ft) == H5Tget_class(mtype) && H5Aread(a, mtype, v) >= 0;
    if (ft >= 0) NT_CHECK_H5(H5Tclose(ft));
    NT_CHECK_H5(H5Aclose(a));
    return ok ? 0 : -1;
}
static int attr_read_str(hid_t loc, const char *name, char *buf, size_t n)
{
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a);
    int ok = 0;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft)) {
        size_t sz = H5Tget_size(ft);
        char *tmp = nt_calloc(sz + 1, 1, "attribute");
        if (H5Aread(a, ft, tmp) >= 0) { snprintf(buf, n, "%s", tmp); ok = 1; }
        free(tmp);
    }
    if (ft >= 0) NT_CHECK_H5(H5Tclose(ft));
    NT_CHECK_H5(H5Aclose(a));
    return ok ? 0 : -1;
}

static void layout_string(const nt_modelset *ms, char *buf, size_t n)
{
    snprintf(buf, n, "TP%d PP%d v%d DP%d SP%d", ms->grid.TP, ms->grid.PP, ms->v, ms->grid.DP,
             ms->cfg.sequence_parallel && ms->grid.TP > 1);
}

/* ---- save -------------------------------------------------------------------- */

/* The checksum of a buffer is computed by a second thread while this one
 * hands the same (read-only) buffer to H5Dwrite: the hashing hides behind
 * the write instead of adding to it.  While the fp32 master weights are
 * written, the same thread also rounds them to the bf16 model weights and
 * hashes those, so the /model write that follows has nothing left to do.
 * Small pieces are done inline. */
typedef struct {
    const void *data;
    size_t esz, n, nseg;
    const uint64_t *segs;
    uint16_t *bf16;          /* non-NULL: also data (fp32) -> bf16, and its checksum */
    uint64_t sum, sum_bf16;
} sum_job;

static void *sum_run(void *arg)
{
    sum_job *j = arg;
    j->sum = nt_ckpt_checksum(j->data, j->esz, j->segs, j->nseg);
    if (j->bf16) {
        nt_f32_to_bf16_n(j->bf16, j->data, j->n);
        j->sum_bf16 = nt_ckpt_checksum(j->bf16, 2, j->segs, j->nseg);
    }
    return NULL;
}

#define NT_SUM_THREAD_MIN ((size_t)1 << 20)   /* elements: below this, threads cost more than they hide */

/* ---- write failures (full disk, quota, read-only, I/O error) ---------------
 * A failing raw-data write or close is noted (the first per rank) instead of
 * ending the rank at once: the other ranks may be about to enter one of the
 * save's collectives, and an MPI-IO file left open crashes MPI_Finalize.
 * Every collective call is still made; after the file is closed the ranks
 * agree, the partial NAME.tmp/ is removed and all exit 1 with one line. */
static char wfail[2048];

static herr_t h5_all(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    size_t l = strlen(out);
    (void)n;
    if (l < 1500) snprintf(out + l, 2048 - l, "%s%s", l ? "; " : "", e->desc);
    return 0;
}

/* the OS error behind a failed write of file, best effort: errno text found
 * in HDF5's stack (its MPI-IO driver passes the MPI error string), else what
 * the file system of the directory says now (read-only, no space) */
static void os_error(const char *file, char *out, size_t n)
{
    char stack[2048] = "";
    (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_all, stack);
    static const int errs[] = {ENOSPC, EDQUOT, EROFS, EACCES, EIO, EFBIG, ENOENT};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        if (strcasestr(stack, strerror(errs[i]))) { snprintf(out, n, "%s", strerror(errs[i])); return; }
    if (strstr(stack, "MPI_ERR_NO_SPACE") || strcasestr(stack, "no space")) { snprintf(out, n, "%s", strerror(ENOSPC)); return; }
    if (strstr(stack, "MPI_ERR_QUOTA")) { snprintf(out, n, "%s", strerror(EDQUOT)); return; }
    if (strstr(stack, "MPI_ERR_READ_ONLY")) { snprintf(out, n, "%s", strerror(EROFS)); return; }
    if (strstr(stack, "MPI_ERR_ACCESS")) { snprintf(out, n, "%s", strerror(EACCES)); return; }
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", file);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = 0;
    struct statvfs vf;
    if (statvfs(sl ? dir : ".", &vf) == 0) {
        if (vf.f_flag & ST_RDONLY) { snprintf(out, n, "%s", strerror(EROFS)); return; }
        if (vf.f_bavail == 0) { snprintf(out, n, "%s", strerror(ENOSPC)); return; }
    }
    snprintf(out, n, "%.400s", stack[0] ? stack : "unknown I/O error");
}

/* Fault injection for the tests: NTRON_FAULT_CKPT_EIO=RANK:STEP makes world
 * rank RANK's raw-data writes of the save of step STEP fail with EIO (the
 * write is skipped), as a disk failing after the reservation would. */
static int fault_eio(int rank, long step)
{
    const char *f = getenv("NTRON_FAULT_CKPT_EIO");
    int r = -1;
    long at = -1;
    return f && sscanf(f, "%d:%ld", &r, &at) == 2 && r == rank && at == step;
}

static void write_failed(const char *file, const char *what)
{
    if (wfail[0]) return;
    char why[512];
    os_error(file, why, sizeof why);
    snprintf(wfail, sizeof wfail, "checkpoint save failed: %s: %s: %s", file, what, why);
}

static void write_failed_injected(const char *file)
{
    if (!wfail[0])
        snprintf(wfail, sizeof wfail, "checkpoint save failed: %s: write failed: %s (fault injection)", file, strerror(EIO));
}

/* the datasets' bytes plus room for the metadata (object headers, the
 * checksum attributes, the deck): reserved before writing */
static double ckpt_bytes(const nt_modelset *ms);
static double reserve_bytes(const nt_modelset *ms, int ndatasets, size_t deck)
{
    return ckpt_bytes(ms) + (double)(1 << 20) + 4096.0 * ndatasets + 2.0 * (double)deck;
}
static double reserved;   /* bytes reserved by rank 0 for the file being written (0: none) */

static void reserve(const char *file, const nt_modelset *ms, size_t deck)
{
    nt_model full;
    full_table(ms, &full);
    int nd = full.ntensors * NKIND;
    free(full.tensors);
    double want = reserve_bytes(ms, nd, deck);
    reserved = 0;
    int fd = open(file, O_WRONLY);
    if (fd < 0) { write_failed(file, "cannot open to reserve space"); return; }
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)want) == 0) reserved = want;
    else if (errno != EOPNOTSUPP && errno != ENOSYS) {
        int e = errno;
        char what[128];
        snprintf(what, sizeof what, "cannot reserve %.4g MB for it", want / 1e6);
        snprintf(wfail, sizeof wfail, "checkpoint save failed: %s: %s: %s", file, what, strerror(e));
    }
    close(fd);
}

/* after a successful close: give back the reserved blocks past the end */
static void unreserve(const char *file)
{
    struct stat st;
    if (!reserved || stat(file, &st) != 0) return;
    if ((double)st.st_size < reserved) {
        int fd = open(file, O_WRONLY);
        if (fd >= 0) {
            if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)(reserved - (double)st.st_size)) != 0) {
                /* not supported: the blocks stay reserved until the checkpoint is removed */
            }
            close(fd);
        }
    }
    reserved = 0;
}

/* collective: if any rank noted a failure, the first one's message is
 * printed once, rank 0 removes the partial directory, all exit 1.  f: the
 * file if still open (closed here: an MPI-IO file left open crashes
 * MPI_Finalize), else -1. */
static void write_agree(const nt_grid *g, const char *file, hid_t f)
{
    int who = nt_comm_first_error(&g->world, wfail);
    if (who < 0) return;
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", file);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = 0;
    int closed = 1;
    if (f >= 0) {
        /* free the space the close's metadata flush needs (a full disk);
         * on a read-only file system there is nothing to free (ignored) */
        if (g->world.rank == 0 && truncate(file, 0) != 0) { /* nothing to free */ }
        nt_comm_barrier(&g->world);
        closed = H5Fclose(f) >= 0;
        nt_comm_allreduce_i32(&g->world, &closed, 1, NT_MIN);
    }
    if (g->world.rank == 0) nt_ckpt_discard(dir);
    nt_comm_barrier(&g->world);
    if (closed)
        nt_exit_agreed(NT_EXIT_FAIL, g->world.rank == who,
                       "%s (%s removed; the previous checkpoint and 'latest' are intact)", wfail, dir);
    /* the file could not be closed: leave without MPI_Finalize (which would
     * crash in HDF5's clean-up of it), the job ends on the abort */
    if (g->world.rank == who) {
        fprintf(stderr, "ntron: %s (%s removed; the previous checkpoint and 'latest' are intact)\n", wfail, dir);
        fflush(stderr);
    }
    if (g->world.size > 1) MPI_Abort(MPI_COMM_WORLD, NT_EXIT_FAIL);
    _exit(NT_EXIT_FAIL);
}

void nt_ckpt_write_file(nt_trainer *tr, const char *file, const nt_ckpt_meta *meta)
{
    nt_modelset *ms = &tr->ms;
    const nt_ops *o = ms->ops;
    nt_grid *g = &ms->grid;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    NT_CHECK_H5(fapl);
    NT_CHECK_H5(H5Pset_fapl_mpio(fapl, g->world.mpi, MPI_INFO_NULL));
    NT_CHECK_H5(H5Pset_coll_metadata_write(fapl, 1));
    wfail[0] = 0;
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));   /* failures are reported once, below */
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) write_failed(file, "cannot create");
    NT_CHECK_H5(H5Pclose(fapl));
    write_agree(g, file, -1);
    /* reserve the file's blocks now (fallocate beyond EOF, released past
     * the end after the close): a full disk or quota then fails here, where
     * every rank can stop cleanly, and not inside HDF5's collective metadata
     * flush, whose error paths leave the ranks in different collectives */
    if (g->world.rank == 0) reserve(file, ms, meta && meta->deck_text ? strlen(meta->deck_text) : 0);
    write_agree(g, file, f);
    nt_ckpt_fault("created", tr->step);

    hid_t grp;
    NT_CHECK_H5(grp = H5Gcreate2(f, "/model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); NT_CHECK_H5(H5Gclose(grp));
    NT_CHECK_H5(grp = H5Gcreate2(f, "/optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); NT_CHECK_H5(H5Gclose(grp));
    for (int k = K_MASTER; k < NKIND; k++) {
        NT_CHECK_H5(grp = H5Gcreate2(f, kind_group[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        NT_CHECK_H5(H5Gclose(grp));
    }
    hid_t bf16 = nt_ckpt_bf16_type();
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), dxpl = H5Pcreate(H5P_DATASET_XFER);
    NT_CHECK_H5(dcpl);
    NT_CHECK_H5(dxpl);
    NT_CHECK_H5(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
    NT_CHECK_H5(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER));
    /* raw data (checkpoint.write): independent H5Dwrite by default — every
     * dataset is created collectively with its space allocated at creation,
     * so writing raw data changes no metadata, and each rank writes its
     * pieces without a rendezvous per dataset.  Measured on the 2-core build
     * machine, 8 ranks: 2.9-3.3 s per save against 3.9-4.1 s with collective
     * calls (the oversubscribed ranks spent a quarter of the time in
     * sched_yield at the ~400 rendezvous).  "collective": two-phase
     * collective MPI-IO, for parallel file systems where aggregation wins. */
    int coll = !strcmp(ms->cfg.ckpt_write, "collective");
    /* injected: no write at all on this rank (in collective mode the others
     * then wait in the collective H5Dwrite: only independent mode can skip) */
    int eio = !coll && fault_eio(g->world.rank, tr->step);
    NT_CHECK_H5(H5Pset_dxpl_mpio(dxpl, coll ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT));

    nt_model full;
    full_table(ms, &full);
    int nt = full.ntensors;
    uint64_t *sums = nt_calloc((size_t)nt * NKIND, sizeof(uint64_t), "checksums");
    hid_t *dsets = nt_malloc((size_t)nt * NKIND * sizeof(hid_t), "dataset ids");
    /* staging: sized for the largest local piece, allocated once; a host
     * backend's fp32 buffers are written in place (no staging copy) */
    size_t nmax = 1;
    for (int i = 0; i < nt; i++) {
        part p = find_part(ms, full.tensors[i].name);
        if (p.t && !(p.t->split == NT_SPLIT_NONE && g->tp != 0) && p.y - p.x > nmax) nmax = p.y - p.x;
    }
    float *h = o->host_resident ? NULL : nt_malloc(nmax * sizeof(float), "checkpoint staging (fp32)");
    uint16_t *hb = nt_malloc(nmax * sizeof(uint16_t), "checkpoint staging (bf16)");
    nt_writeback wb;
    nt_writeback_open(&wb, file);
    for (int i = 0; i < nt; i++) {
        const nt_tensor_info *ft = &full.tensors[i];
        int ndims = ft->full_cols == 1 ? 1 : 2;
        hsize_t dims[2] = {(hsize_t)ft->full_rows, (hsize_t)ft->full_cols};
        part p = find_part(ms, ft->name);
        if (p.t && p.t->split == NT_SPLIT_NONE && g->tp != 0) p.x = p.y = 0;
        size_t n = p.y - p.x;
        hid_t fs = H5Screate_simple(ndims, dims, NULL);
        NT_CHECK_H5(fs);
        uint64_t *segs = NULL;
        size_t nseg = p.t ? select_range(fs, p.t, ndims, p.x, p.y, &segs) : (size_t)(H5Sselect_none(fs) < 0 ? 0 : 0);
        hid_t mspace = mem_space(n);
        /* master first: its job also makes (and hashes) the bf16 weights */
        static const int order[NKIND] = {K_MASTER, K_MODEL, K_M, K_V};
        uint64_t model_sum = 0;
        for (int oi = 0; oi < NKIND; oi++) {
            int k = order[oi];
            char path[256];
            snprintf(path, sizeof path, "%s/%s", kind_group[k], ft->name);
            hid_t type = k == K_MODEL ? bf16 : H5T_IEEE_F32LE;
            hid_t d = H5Dcreate2(f, path, type, fs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            NT_CHECK_H5(d);
            dsets[(size_t)i * NKIND + k] = d;
            if (k == K_MODEL) {   /* converted and hashed during the master write */
                /* memory type == file type: no conversion on the way */
                if (eio) write_failed_injected(file);
                else if ((coll || !wfail[0]) && H5Dwrite(d, type, mspace, fs, dxpl, hb) < 0) write_failed(file, "write failed");
                sums[(size_t)i * NKIND + k] = model_sum;
                continue;
            }
            const void *buf = hb;   /* any valid pointer for an empty selection */
            sum_job job = {.esz = 4, .n = n, .nseg = nseg, .segs = segs, .bf16 = k == K_MASTER ? hb : NULL};
            if (n) {
                const float *src = k == K_M ? tr->opt.adam_m + (p.flat + p.x - ms->shard_lo)
                                 : k == K_V ? tr->opt.adam_v + (p.flat + p.x - ms->shard_lo)
                                            : ms->master + p.flat + p.x;
                if (!o->host_resident) {
                    o->from_f32(h, src, n);
                    src = h;
                }
                buf = job.data = src;
            }
            pthread_t th;
            int threaded = n >= NT_SUM_THREAD_MIN && pthread_create(&th, NULL, sum_run, &job) == 0;
            if (n && !threaded) sum_run(&job);
            /* after a failure: no more independent writes (collective ones must still be made) */
            if (eio) write_failed_injected(file);
            else if ((coll || !wfail[0]) && H5Dwrite(d, type, mspace, fs, dxpl, buf) < 0) write_failed(file, "write failed");
            if (threaded) NT_CHECK(pthread_join(th, NULL) == 0, "checkpoint checksum thread: pthread_join failed");
            sums[(size_t)i * NKIND + k] = job.sum;
            if (k == K_MASTER) model_sum = job.sum_bf16;
        }
        nt_writeback_kick(&wb, n * (sizeof(uint16_t) + 3 * sizeof(float)));
        free(segs);
        NT_CHECK_H5(H5Sclose(mspace));
        NT_CHECK_H5(H5Sclose(fs));
        if (i == nt / 2) nt_ckpt_fault("tensors", tr->step);
    }
    nt_writeback_close(&wb);
    free(h);
    free(hb);
    write_agree(g, file, f);   /* a failed raw write: stop before HDF5 writes any metadata */
    nt_comm_allreduce(&g->world, sums, (size_t)nt * NKIND, NT_U64, NT_SUM);
    for (int i = 0; i < nt * NKIND; i++) {
        nt_h5attr_write_u64(dsets[i], "xxh3_sum", sums[i]);
        NT_CHECK_H5(H5Dclose(dsets[i]));
    }

    /* root attributes: what `h5dump -A` shows */
    const nt_config *cfg = &ms->cfg;
    char layout[128];
    layout_string(ms, layout, sizeof layout);
    nt_h5attr_write_str(f, "format", NT_CKPT_FORMAT);
    nt_h5attr_write_i64(f, "format_version", NT_CKPT_VERSION);
    nt_h5attr_write_str(f, "ntron_version", PACKAGE_VERSION);
    nt_h5attr_write_str(f, "deck", meta && meta->deck_text ? meta->deck_text : "");
    nt_h5attr_write_str(f, "deck_sha256", meta && meta->deck_sha256 ? meta->deck_sha256 : "");
    nt_h5attr_write_str(f, "layout", layout);
    nt_h5attr_write_i64(f, "tensor", g->TP);
    nt_h5attr_write_i64(f, "pipeline", g->PP);
    nt_h5attr_write_i64(f, "virtual_stages", ms->v);
    nt_h5attr_write_i64(f, "data_parallel", g->DP);
    nt_h5attr_write_i64(f, "iteration", tr->step);
    nt_h5attr_write_i64(f, "optimizer_step", tr->opt.step);
    nt_h5attr_write_i64(f, "skipped_steps", meta ? meta->skipped_steps : 0);
    nt_h5attr_write_u64(f, "consumed_samples", tr->consumed_samples);
    nt_h5attr_write_f64(f, "consumed_tokens", tr->consumed_tokens);
    nt_h5attr_write_u64(f, "seed", cfg->seed);
    nt_h5attr_write_str(f, "rng", "counter-based (xxh64 key of seed and name, splitmix64 of index): no state beyond seed");
    nt_h5attr_write_str(f, "data_sampler", "seeded per-epoch permutation; next sample = consumed_samples");
    nt_h5attr_write_i64(f, "has_optimizer", 1);
    nt_h5attr_write_i64(f, "layers", cfg->layers);
    nt_h5attr_write_i64(f, "hidden", cfg->hidden);
    nt_h5attr_write_i64(f, "ffn_hidden", cfg->ffn_hidden);
    nt_h5attr_write_i64(f, "heads", cfg->heads);
    nt_h5attr_write_i64(f, "kv_heads", cfg->kv_heads);
    nt_h5attr_write_i64(f, "vocab", cfg->vocab);
    nt_h5attr_write_i64(f, "seq_len", cfg->seq_len);
    nt_h5attr_write_str(f, "head", cfg->head);
    nt_h5attr_write_i64(f, "reward_outputs", !strcmp(cfg->head, "reward") ? cfg->reward_outputs : 0);
    nt_h5attr_write_str(f, "checksum", "xxh3_sum: sum mod 2^64 over elements of XXH3_64bits(value bytes, seed = row-major index)");
    nt_ckpt_attrs_stamp(f);   /* last: covers every root attribute above */

    free(sums);
    free(dsets);
    free(full.tensors);
    NT_CHECK_H5(H5Tclose(bf16));
    NT_CHECK_H5(H5Pclose(dcpl));
    NT_CHECK_H5(H5Pclose(dxpl));
    nt_watchdog_enter("flushing the checkpoint file (HDF5 collective metadata flush)");
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) write_failed(file, "metadata flush failed");
    nt_watchdog_leave();
    write_agree(g, file, f);   /* exits on a failure */
    nt_watchdog_enter("closing the checkpoint file (HDF5 collective metadata flush)");
    if (H5Fclose(f) < 0) write_failed(file, "close failed");
    nt_watchdog_leave();
    write_agree(g, file, -1);
    if (g->world.rank == 0) unreserve(file);
}

/* ---- load -------------------------------------------------------------------- */

/* All ranks reach the same verdict (they read the same metadata); the
 * lowest rank with a message prints it; everyone leaves with status 2. */
static void agree(const nt_modelset *ms, const char *err, hid_t f)
{
    int who = nt_comm_first_error(&ms->grid.world, err);
    if (who < 0) return;
    if (f >= 0) NT_CHECK_H5(H5Fclose(f));
    nt_exit_agreed(NT_EXIT_INPUT, ms->grid.world.rank == who, "%s", err);
}

#define BAD(...) do { if (!err[0]) snprintf(err, sizeof err, __VA_ARGS__); } while (0)

static int is_vocab_tensor(const nt_tensor_info *t, const nt_model *full)
{
    return t->full_rows == full->mc.vocab_padded && (strstr(t->name, "embedding") || strstr(t->name, "lm_head"));
}

/* a reward-head tensor the load adds (not in an LM checkpoint): keeps its init */
static int fresh_head(const nt_tensor_info *t, int add_reward_head)
{
    return add_reward_head && !strncmp(t->name, "reward_head.", 12);
}

/* The counters a resume continues from, range-checked and checked against
 * each other and the directory name (iter_NNNNNNN) and layout attributes:
 * every step consumes at least one sample of at least one token;
 * optimizer_step + skipped_steps = iteration.  The first problem goes into
 * err (all ranks read the same attributes: the same verdict). */
static void check_counters(hid_t f, const char *file, char *err, size_t en, long long *iter, long long *ostep,
                           long long *skipped, uint64_t *samples, double *tokens)
{
#undef BAD
#define BAD(...) do { if (!err[0]) snprintf(err, en, __VA_ARGS__); } while (0)
    *skipped = 0;
    if (attr_read(f, "iteration", H5T_NATIVE_LLONG, iter) != 0 ||
        attr_read(f, "optimizer_step", H5T_NATIVE_LLONG, ostep) != 0 ||
        attr_read(f, "consumed_samples", H5T_NATIVE_UINT64, samples) != 0 ||
        attr_read(f, "consumed_tokens", H5T_NATIVE_DOUBLE, tokens) != 0) {
        BAD("checkpoint %s: counters (iteration, optimizer_step, consumed_samples/tokens) missing", file);
        return;
    }
    if (H5Aexists(f, "skipped_steps") > 0 && attr_read(f, "skipped_steps", H5T_NATIVE_LLONG, skipped) != 0)
        BAD("checkpoint %s: root attribute skipped_steps is not an integer", file);
    /* consumed_samples is stored unsigned: a negative count written as
     * int64 reads back as a huge number; no run consumes 2^62 samples */
    if (*iter < 0) BAD("checkpoint %s: root attribute iteration = %lld is negative", file, *iter);
    else if (*ostep < 0) BAD("checkpoint %s: root attribute optimizer_step = %lld is negative", file, *ostep);
    else if (*skipped < 0) BAD("checkpoint %s: root attribute skipped_steps = %lld is negative", file, *skipped);
    else if (*ostep + *skipped != *iter)
        BAD("checkpoint %s: root attributes inconsistent: optimizer_step %lld + skipped_steps %lld != iteration %lld",
            file, *ostep, *skipped, *iter);
    else if (*samples > ((uint64_t)1 << 62))
        BAD("checkpoint %s: root attribute consumed_samples = %llu is out of range", file,
            (unsigned long long)*samples);
    else if (*samples < (uint64_t)*iter)
        BAD("checkpoint %s: root attributes inconsistent: consumed_samples %llu < iteration %lld (a step consumes at "
            "least one sample)", file, (unsigned long long)*samples, *iter);
    else if (!isfinite(*tokens) || *tokens < (double)*samples)
        BAD("checkpoint %s: root attributes inconsistent: consumed_tokens %.17g for %llu consumed samples", file,
            *tokens, (unsigned long long)*samples);
    if (err[0]) return;
    /* the directory name a commit gave it */
    const char *slash = strrchr(file, '/');
    if (slash) {
        const char *d = slash;
        while (d > file && d[-1] != '/') d--;
        long long n = -1;
        char rest[8] = "";
        if (slash - d == 12 && sscanf(d, "iter_%7lld%7[^/]", &n, rest) == 1 && n != *iter)
            BAD("checkpoint %s: root attribute iteration = %lld, but the directory is %.12s", file, *iter, d);
    }
    /* the layout attributes (informational, but a resume prints them) */
    static const char *const lay[] = {"tensor", "pipeline", "virtual_stages", "data_parallel"};
    for (int i = 0; i < 4 && !err[0]; i++) {
        long long v = 0;
        if (attr_read(f, lay[i], H5T_NATIVE_LLONG, &v) != 0 || v < 1 || v > (1 << 24))
            BAD("checkpoint %s: root attribute %s missing or out of range", file, lay[i]);
    }
#undef BAD
#define BAD(...) do { if (!err[0]) snprintf(err, sizeof err, __VA_ARGS__); } while (0)
}

void nt_ckpt_load(nt_modelset *ms, nt_optimizer *opt, const char *path, nt_ckpt_counters *cnt)
{
    const nt_ops *o = ms->ops;
    nt_grid *g = &ms->grid;
    int load_optimizer = opt != NULL;
    /* a frozen set on a bf16 backend keeps no fp32 master: stage through one */
    float *master = ms->master ? ms->master : o->alloc(ms->npadded * sizeof(float), "fp32 load staging");
    char err[8192] = "", file[2048], why[1024];
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));   /* bad input is reported by name below */
    if (nt_ckpt_resolve(path, file, sizeof file, why, sizeof why) != 0) BAD("checkpoint %s: %s", path, why);
    agree(ms, err, -1);
    htri_t is = H5Fis_hdf5(file);
    if (is <= 0) BAD("checkpoint %s: not an HDF5 file (not a ntron checkpoint)", file);
    agree(ms, err, -1);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    NT_CHECK_H5(fapl);
    NT_CHECK_H5(H5Pset_fapl_mpio(fapl, g->world.mpi, MPI_INFO_NULL));
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, fapl);
    NT_CHECK_H5(H5Pclose(fapl));
    if (f < 0) BAD("checkpoint %s: cannot open as HDF5 (truncated or damaged file?)", file);
    agree(ms, err, -1);

    char fmt[64] = "";
    long long ver = 0, has_opt = 0;
    if (attr_read_str(f, "format", fmt, sizeof fmt) != 0 || strcmp(fmt, NT_CKPT_FORMAT) != 0)
        BAD("checkpoint %s: not a ntron checkpoint (root attribute format is not '%s')", file, NT_CKPT_FORMAT);
    else if (attr_read(f, "format_version", H5T_NATIVE_LLONG, &ver) != 0 || ver < NT_CKPT_VERSION_MIN ||
             ver > NT_CKPT_VERSION)
        BAD("checkpoint %s: format_version %lld, this ntron reads versions %d to %d", file, ver, NT_CKPT_VERSION_MIN,
            NT_CKPT_VERSION);
    else {
        /* nothing below trusts a root attribute before this */
        int r = nt_ckpt_attrs_check(f, ver, why, sizeof why);
        if (r < 0) BAD("checkpoint %s: %s", file, why);
        else if (r > 0 && g->world.rank == 0) {
            fprintf(stderr, "ntron: warning: checkpoint %s: %s (the next save writes format %d)\n", file, why,
                    NT_CKPT_VERSION);
            fflush(stderr);
        }
    }
    agree(ms, err, f);
    const nt_config *cfg = &ms->cfg;
    struct { const char *name; long long want; } shape[] = {
        {"layers", cfg->layers}, {"hidden", cfg->hidden}, {"ffn_hidden", cfg->ffn_hidden},
        {"heads", cfg->heads}, {"kv_heads", cfg->kv_heads}, {"vocab", cfg->vocab}};
    for (size_t i = 0; i < sizeof shape / sizeof shape[0] && !err[0]; i++) {
        long long v = -1;
        if (attr_read(f, shape[i].name, H5T_NATIVE_LLONG, &v) != 0)
            BAD("checkpoint %s: root attribute %s missing", file, shape[i].name);
        else if (v != shape[i].want)
            BAD("checkpoint %s: model shape differs: model.%s = %lld in the checkpoint, %lld in the deck", file,
                shape[i].name, v, shape[i].want);
    }
    if (attr_read(f, "has_optimizer", H5T_NATIVE_LLONG, &has_opt) != 0) has_opt = 0;
    if (load_optimizer && !has_opt)
        BAD("checkpoint %s: holds model weights only (no optimizer state); set checkpoint.load_optimizer = false", file);
    /* the head: a later phase may change it (LM -> reward), weights only */
    char fhead[16] = "lm";
    if (H5Aexists(f, "head") > 0 && attr_read_str(f, "head", fhead, sizeof fhead) != 0) snprintf(fhead, sizeof fhead, "?");
    int add_reward_head = 0;
    if (strcmp(fhead, cfg->head) != 0) {
        if (load_optimizer)
            BAD("checkpoint %s: has a %s head, the deck model.head = %s: a phase that changes the head starts "
                "from the weights only (checkpoint.load_optimizer = false)", file, fhead, cfg->head);
        else if (!strcmp(fhead, "lm") && !strcmp(cfg->head, "reward"))
            add_reward_head = 1;
        else
            BAD("checkpoint %s: has a %s head, the deck model.head = %s: a later phase can only replace an LM head "
                "by a reward head", file, fhead, cfg->head);
    }
    agree(ms, err, f);
    long long iter = 0, ostep = 0, skipped = 0;
    uint64_t samples = 0;
    double tokens = 0;
    if (load_optimizer) check_counters(f, file, err, sizeof err, &iter, &ostep, &skipped, &samples, &tokens);
    agree(ms, err, f);

    nt_model full;
    full_table(ms, &full);
    /* kinds [k0, k1) are verified (presence, dtype, shape, checksum); a
     * resume loads the optimizer groups and verifies /model too (it is what
     * a later phase and an export read), a weights-only load reads /model */
    int nt = full.ntensors, k0 = K_MODEL, k1 = load_optimizer ? NKIND : K_MASTER;
    hid_t bf16 = nt_ckpt_bf16_type();
    hsize_t *frows = nt_calloc((size_t)nt, sizeof(hsize_t), "file rows");
    /* validate every dataset we need before reading anything */
    for (int i = 0; i < nt && !err[0]; i++) {
        const nt_tensor_info *ft = &full.tensors[i];
        int ndims = ft->full_cols == 1 ? 1 : 2;
        if (fresh_head(ft, add_reward_head)) continue;
        for (int k = k0; k < k1 && !err[0]; k++) {
            char dpath[256];
            snprintf(dpath, sizeof dpath, "%s/%s", kind_group[k], ft->name);
            if (H5Lexists(f, kind_group[k], H5P_DEFAULT) <= 0 || H5Lexists(f, dpath, H5P_DEFAULT) <= 0) {
                BAD("checkpoint %s: tensor %s missing", file, dpath);
                break;
            }
            hid_t d = H5Dopen2(f, dpath, H5P_DEFAULT);
            if (d < 0) { BAD("checkpoint %s: tensor %s cannot be opened", file, dpath); break; }
            hid_t ty = H5Dget_type(d), sp = H5Dget_space(d);
            NT_CHECK_H5(ty);
            NT_CHECK_H5(sp);
            hsize_t dims[2] = {0, 0};
            int nd = H5Sget_simple_extent_ndims(sp);
            if (nd >= 1 && nd <= 2) NT_CHECK_H5(H5Sget_simple_extent_dims(sp, dims, NULL));
            int type_ok = k == K_MODEL ? H5Tequal(ty, bf16) > 0 : H5Tequal(ty, H5T_IEEE_F32LE) > 0;
            if (!type_ok)
                BAD("checkpoint %s: tensor %s has the wrong dtype (expected %s)", file, dpath,
                    k == K_MODEL ? "bf16 (16-bit float, 8-bit exponent)" : "fp32 little-endian");
            else if (nd != ndims || (ndims == 2 && dims[1] != (hsize_t)ft->full_cols) ||
                     (dims[0] != (hsize_t)ft->full_rows && !(is_vocab_tensor(ft, &full) && dims[0] >= (hsize_t)cfg->vocab)))
                BAD("checkpoint %s: tensor %s has shape [%llu%s%llu], the model [%d%s%d]", file, dpath,
                    (unsigned long long)dims[0], nd == 2 ? "," : "", nd == 2 ? (unsigned long long)dims[1] : 0ULL,
                    ft->full_rows, ndims == 2 ? "," : "", ndims == 2 ? ft->full_cols : 0);
            frows[i] = dims[0];
            uint64_t sum;
            if (!err[0] && attr_read(d, "xxh3_sum", H5T_NATIVE_UINT64, &sum) != 0)
                BAD("checkpoint %s: tensor %s has no xxh3_sum checksum attribute", file, dpath);
            NT_CHECK_H5(H5Tclose(ty));
            NT_CHECK_H5(H5Sclose(sp));
            NT_CHECK_H5(H5Dclose(d));
        }
    }
    agree(ms, err, f);

    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    NT_CHECK_H5(dxpl);
    NT_CHECK_H5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
    /* reads: collective calls, independent file access underneath — two-phase
     * collective reads took 4.2 s where independent ones take 1.5 s
     * (TP2 x PP2, 4.28 GB, tests/ckpt_bench) */
    NT_CHECK_H5(H5Pset_dxpl_mpio_collective_opt(dxpl, H5FD_MPIO_INDIVIDUAL_IO));
    uint64_t *sums = nt_calloc((size_t)nt * NKIND, sizeof(uint64_t), "checksums");
    uint64_t *want = nt_calloc((size_t)nt * NKIND, sizeof(uint64_t), "checksums");
    for (int i = 0; i < nt; i++) {
        const nt_tensor_info *ft = &full.tensors[i];
        int ndims = ft->full_cols == 1 ? 1 : 2;
        /* a new reward head keeps its seeded initialisation (the file's LM head is not read) */
        if (fresh_head(ft, add_reward_head)) {
            if (g->world.rank == 0)
                printf("load    %s: LM head not loaded; %s [%d,%d] added, initialised from run.seed\n", file,
                       ft->name, ft->full_rows, ft->full_cols);
            continue;
        }
        part p = find_part(ms, ft->name);
        /* rows beyond the file's (a larger vocabulary padding) keep their initial values */
        if (p.t) {
            long rows_in_file = (long)frows[i] - p.t->row0;
            size_t lim = rows_in_file <= 0 ? 0 : (size_t)(rows_in_file < p.t->rows ? rows_in_file : p.t->rows) * (size_t)p.t->cols;
            if (ndims == 1) lim = rows_in_file <= 0 ? 0 : (size_t)(rows_in_file < p.t->rows ? rows_in_file : p.t->rows);
            if (p.y > lim) p.y = lim;
            if (p.x > p.y) p.x = p.y;
        }
        int counts = p.t && (p.t->split != NT_SPLIT_NONE || g->tp == 0);
        size_t n = p.y - p.x;
        hsize_t dims[2] = {frows[i], (hsize_t)ft->full_cols};
        hid_t fs = H5Screate_simple(ndims, dims, NULL);
        NT_CHECK_H5(fs);
        uint64_t *segs = NULL;
        size_t nseg = 0;
        if (p.t) nseg = select_range(fs, p.t, ndims, p.x, p.y, &segs);
        else NT_CHECK_H5(H5Sselect_none(fs));
        hid_t mspace = mem_space(n);
        float *h = nt_malloc((n ? n : 1) * sizeof(float), "checkpoint staging");
        uint16_t *hb = nt_malloc((n ? n : 1) * sizeof(uint16_t), "checkpoint staging (bf16)");
        /* rows of the file beyond this layout's padding: rank 0 reads them for the checksum */
        size_t extra = frows[i] > (hsize_t)ft->full_rows ? (size_t)(frows[i] - (hsize_t)ft->full_rows) * (size_t)ft->full_cols : 0;
        for (int k = k0; k < k1; k++) {
            char dpath[256];
            snprintf(dpath, sizeof dpath, "%s/%s", kind_group[k], ft->name);
            hid_t d = H5Dopen2(f, dpath, H5P_DEFAULT);
            NT_CHECK_H5(d);
            if (attr_read(d, "xxh3_sum", H5T_NATIVE_UINT64, &want[(size_t)i * NKIND + k]) != 0)
                BAD("checkpoint %s: tensor %s has no xxh3_sum checksum attribute", file, dpath);
            hid_t type = k == K_MODEL ? bf16 : H5T_IEEE_F32LE;
            size_t esz = k == K_MODEL ? 2 : 4;
            if (H5Dread(d, type, mspace, fs, dxpl, k == K_MODEL ? (void *)hb : (void *)h) < 0)
                BAD("checkpoint %s: tensor %s: read failed (truncated or damaged file?)", file, dpath);
            if (n) {
                if (counts) sums[(size_t)i * NKIND + k] = nt_ckpt_checksum(k == K_MODEL ? (void *)hb : (void *)h, esz, segs, nseg);
                if (k == K_MODEL && load_optimizer) goto verified_only;   /* the weights come from the master */
                if (k == K_MODEL)
                    for (size_t e = 0; e < n; e++) h[e] = nt_bf16_to_f32(hb[e]);
                float *dst = k == K_M ? opt->adam_m + (p.flat + p.x - ms->shard_lo)
                           : k == K_V ? opt->adam_v + (p.flat + p.x - ms->shard_lo)
                                      : master + p.flat + p.x;
                o->to_f32(dst, h, n);
            }
        verified_only:
            if (extra) {
                size_t ne = g->world.rank == 0 ? extra : 0;
                hid_t es = H5Screate_simple(ndims, dims, NULL), em = mem_space(ne);
                NT_CHECK_H5(es);
                NT_CHECK_H5(H5Sselect_none(es));
                unsigned char *eb = nt_malloc((ne ? ne : 1) * esz, "checkpoint padding rows");
                uint64_t seg[2] = {(uint64_t)ft->full_rows * (uint64_t)ft->full_cols, ne};
                if (ne) {
                    hsize_t st[2] = {(hsize_t)ft->full_rows, 0}, cnt[2] = {frows[i] - (hsize_t)ft->full_rows, (hsize_t)ft->full_cols};
                    NT_CHECK_H5(H5Sselect_hyperslab(es, H5S_SELECT_SET, st, NULL, cnt, NULL));
                }
                if (H5Dread(d, type, em, es, dxpl, eb) < 0)
                    BAD("checkpoint %s: tensor %s: read failed (truncated or damaged file?)", file, dpath);
                if (ne) sums[(size_t)i * NKIND + k] += nt_ckpt_checksum(eb, esz, seg, 1);
                free(eb);
                NT_CHECK_H5(H5Sclose(es));
                NT_CHECK_H5(H5Sclose(em));
            }
            NT_CHECK_H5(H5Dclose(d));
        }
        free(h);
        free(hb);
        free(segs);
        NT_CHECK_H5(H5Sclose(mspace));
        NT_CHECK_H5(H5Sclose(fs));
    }
    agree(ms, err, f);
    nt_comm_allreduce(&g->world, sums, (size_t)nt * NKIND, NT_U64, NT_SUM);
    for (int i = 0; i < nt && !err[0]; i++)
        for (int k = k0; k < k1; k++)
            if (!fresh_head(&full.tensors[i], add_reward_head) && sums[(size_t)i * NKIND + k] != want[(size_t)i * NKIND + k]) {
                BAD("checkpoint %s: tensor %s/%s: checksum mismatch (stored %016llx, data %016llx): corrupted or truncated file",
                    file, kind_group[k], full.tensors[i].name, (unsigned long long)want[(size_t)i * NKIND + k],
                    (unsigned long long)sums[(size_t)i * NKIND + k]);
                break;
            }
    agree(ms, err, f);

    NT_CHECK_H5(H5Fclose(f));
    NT_CHECK_H5(H5Pclose(dxpl));
    NT_CHECK_H5(H5Tclose(bf16));
    free(sums);
    free(want);
    free(frows);
    free(full.tensors);

    /* every DP rank needs the whole of its chunks' master weights */
    if (g->DP > 1) nt_comm_allgather_f32(&g->dp_comm, master + ms->shard_lo, master, ms->shard_n);
    if (!o->params_are_master) {   /* working weights = master rounded to the act dtype */
        size_t chunk = (size_t)1 << 24;
        float *h = nt_malloc(chunk * sizeof(float), "checkpoint staging");
        for (size_t a = 0; a < ms->nparams; a += chunk) {
            size_t n = ms->nparams - a < chunk ? ms->nparams - a : chunk;
            o->from_f32(h, master + a, n);
            o->to_act((char *)ms->params + a * o->act_bytes, h, n);
        }
        free(h);
    }
    if (master != ms->master) o->free(master);
    if (cnt) {
        memset(cnt, 0, sizeof *cnt);
        if (load_optimizer) {
            cnt->step = (long)iter;
            cnt->opt_step = (long)ostep;
            cnt->consumed_samples = samples;
            cnt->consumed_tokens = tokens;
            cnt->skipped_steps = (long)skipped;
        }
    }
}

/* ---- save with the commit protocol ------------------------------------------ */

/* bytes of the checkpoint's datasets: bf16 weights + 3 fp32 groups (a lower
 * bound of the file: metadata and attributes come on top) */
static double ckpt_bytes(const nt_modelset *ms)
{
    nt_model full;
    full_table(ms, &full);
    double n = 0;
    for (int i = 0; i < full.ntensors; i++) n += (double)full.tensors[i].full_rows * (double)full.tensors[i].full_cols;
    free(full.tensors);
    return n * (2 + 3 * 4);
}

/* free bytes of the file system holding path for this user (root may use
 * the reserved blocks); -1 if unknown */
static double free_bytes(const char *path)
{
    struct statvfs vf;
    if (statvfs(path, &vf) != 0) return -1;
    return (double)(geteuid() == 0 ? vf.f_bfree : vf.f_bavail) * (double)vf.f_frsize;
}

static void space_msg(char *err, size_t n, const char *dir, double need, double have)
{
    snprintf(err, n, "%.1900s: %s: a checkpoint needs at least %.4g MB, %.4g MB are free", dir, strerror(ENOSPC),
             need / 1e6, have / 1e6);
}

void nt_ckpt_check_writable(nt_trainer *tr, const char *ckpt_dir, const char *run_dir)
{
    const nt_grid *g = &tr->ms.grid;
    char err[4096] = "", why[3000];
    double need = ckpt_bytes(&tr->ms);
    if (g->world.rank == 0) {
        if (run_dir && run_dir[0] && nt_rundir_probe(run_dir, why, sizeof why) != 0)
            snprintf(err, sizeof err, "run.dir %s", why);
        else if (ckpt_dir && ckpt_dir[0] && nt_rundir_probe(ckpt_dir, why, sizeof why) != 0)
            snprintf(err, sizeof err, "checkpoint.dir %s", why);
        else if (ckpt_dir && ckpt_dir[0]) {
            char p[2048];   /* the directory, or the ancestor it will be created in */
            snprintf(p, sizeof p, "%s", ckpt_dir);
            double have;
            while ((have = free_bytes(p)) < 0 && strrchr(p, '/') && strrchr(p, '/') != p) *strrchr(p, '/') = 0;
            if (have >= 0 && have < need) {
                space_msg(why, sizeof why, ckpt_dir, need, have);
                snprintf(err, sizeof err, "checkpoint.dir %s", why);
            }
        }
    }
    nt_comm_agree(&g->world, NT_EXIT_FAIL, err);
}

double nt_ckpt_save(nt_trainer *tr, const char *dir, int keep, const nt_ckpt_meta *meta)
{
    double t0 = nt_now();
    char name[64], file[2300];
    snprintf(name, sizeof name, "iter_%07ld", tr->step);
    nt_ckpt_prepare(&tr->ms.grid, dir, name);
    snprintf(file, sizeof file, "%s/%s.tmp/%s", dir, name, NT_CKPT_FILE);
    /* enough space for the datasets (stale .tmp removed by prepare)?
     * Else nothing is written: the same exit as a failed write */
    double need = ckpt_bytes(&tr->ms), have = -1;
    if (tr->ms.grid.world.rank == 0) {
        char tmp[2300];
        snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
        have = free_bytes(tmp);
        if (have >= 0 && have < need) space_msg(wfail, sizeof wfail, tmp, need, have);
        else wfail[0] = 0;
    } else wfail[0] = 0;
    if (wfail[0]) {   /* the message names the directory; write_agree wants a file in it */
        char msg[sizeof wfail];
        snprintf(msg, sizeof msg, "checkpoint save of step %ld not started: %s", tr->step, wfail);
        snprintf(wfail, sizeof wfail, "%s", msg);
    }
    write_agree(&tr->ms.grid, file, -1);
    nt_ckpt_write_file(tr, file, meta);
    nt_ckpt_fault("closed", tr->step);
    nt_ckpt_commit(&tr->ms.grid, tr->step, dir, name, keep);
    double dt = nt_now() - t0;
    nt_comm_bcast_f64(&tr->ms.grid.world, &dt, 1, 0);
    return dt;
}
