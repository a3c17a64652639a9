/* hf_import.c — `ntron ckpt import-hf HF_DIR OUT [--deck-out DECK]`: a
 * Hugging Face NemotronForCausalLM directory (config.json plus
 * model.safetensors or a sharded set with model.safetensors.index.json;
 * F32, F16 or BF16 tensors) becomes an ntron checkpoint directory OUT
 * (weights only: /model in bf16, and the source values at full precision
 * in /optimizer/master as fp32; has_optimizer = 0) and optionally a deck
 * whose [model] section is the config's.
 *
 * Everything is checked before anything is written (config fields ntron
 * cannot represent, every shard present, every tensor there with its
 * dtype and shape, no tensor left over, safetensors headers consistent);
 * bad input is one line naming the file and tensor, exit 2, nothing
 * written.  Under mpirun the ranks share the work: every rank maps the
 * shards, rank r converts and writes tensors r, r+N, ... of the table into
 * the one parallel HDF5 file, so any rank count writes the same
 * checkpoint.  The file appears as OUT.tmp/ckpt.h5, fsync'd, then renamed
 * to OUT (never over an existing OUT). */
#include "interop/hf.h"
#include "interop/hf_config.h"
#include "interop/safetensors.h"
#include "ckpt/ckpt.h"
#include "backend/backend.h"
#include "build_config.h"
#include "deck/deck.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "util/json.h"
#include "util/sha256.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct src_set {
    int nfiles;
    nt_st_file *files;
    char **fname;                /* file names relative to the directory */
    /* index.json weight_map (NULL for a single file) */
    int nmap;
    char **map_name, **map_file;
} src_set;

#define BAD(...) do { if (!err[0]) snprintf(err, errlen, __VA_ARGS__); } while (0)

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* the directory path would be created in exists */
static int parent_is_dir(const char *path)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') d[--n] = 0;   /* "out/" names out */
    char *slash = strrchr(d, '/');
    if (!slash) return 1;
    if (slash == d) slash[1] = 0;
    else *slash = 0;
    struct stat st;
    return stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *b = nt_malloc(cap, "file");
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) { cap *= 2; char *x = realloc(b, cap); NT_CHECK(x, "out of memory"); b = x; }
    }
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

static int file_index(src_set *s, const char *fname)
{
    for (int i = 0; i < s->nfiles; i++)
        if (!strcmp(s->fname[i], fname)) return i;
    s->fname = realloc(s->fname, (size_t)(s->nfiles + 1) * sizeof *s->fname);
    s->files = realloc(s->files, (size_t)(s->nfiles + 1) * sizeof *s->files);
    NT_CHECK(s->fname && s->files, "out of memory");
    s->fname[s->nfiles] = strdup(fname);
    memset(&s->files[s->nfiles], 0, sizeof s->files[0]);
    s->files[s->nfiles].fd = -1;
    return s->nfiles++;
}

/* open the weights of dir: the index and its shards, or model.safetensors */
static void open_sources(const char *dir, src_set *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char path[4096], jerr[256];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (exists(path)) {
        size_t len = 0;
        char *text = read_text(path, &len);
        if (!text) { BAD("%s: cannot read: %s", path, strerror(errno)); return; }
        cJSON *o = nt_json_parse(text, len, jerr, sizeof jerr);
        free(text);
        if (!o) { BAD("%s: %s", path, jerr); return; }
        const cJSON *wm = cJSON_GetObjectItemCaseSensitive(o, "weight_map");
        if (!cJSON_IsObject(wm)) BAD("%s: weight_map: missing or not an object", path);
        const cJSON *e;
        int n = 0;
        if (!err[0]) cJSON_ArrayForEach(e, wm) n++;
        s->map_name = nt_calloc((size_t)(n ? n : 1), sizeof(char *), "index");
        s->map_file = nt_calloc((size_t)(n ? n : 1), sizeof(char *), "index");
        if (!err[0]) cJSON_ArrayForEach(e, wm) {
            if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !e->valuestring[0]) {
                BAD("%s: weight_map: tensor %s: the shard must be a file name in the directory", path, e->string);
                break;
            }
            s->map_name[s->nmap] = strdup(e->string);
            s->map_file[s->nmap] = strdup(e->valuestring);
            s->nmap++;
            file_index(s, e->valuestring);
        }
        cJSON_Delete(o);
        for (int i = 0; i < s->nfiles && !err[0]; i++) {
            char sp[4096], why[4096];
            snprintf(sp, sizeof sp, "%s/%s", dir, s->fname[i]);
            if (!exists(sp)) {
                const char *who = "";
                for (int k = 0; k < s->nmap; k++) if (!strcmp(s->map_file[k], s->fname[i])) { who = s->map_name[k]; break; }
                BAD("%s: missing shard (model.safetensors.index.json puts tensor %s there)", sp, who);
            } else if (nt_st_open(&s->files[i], sp, why, sizeof why) != 0) {
                BAD("%s", why);
            }
        }
        return;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!exists(path)) {
        char bin[4096];
        snprintf(bin, sizeof bin, "%s/pytorch_model.bin", dir);
        if (exists(bin)) BAD("%s: PyTorch pickle weights; ntron reads safetensors only (model.safetensors or a sharded set)", bin);
        else BAD("%s: missing (and no model.safetensors.index.json)", path);
        return;
    }
    int k = file_index(s, "model.safetensors");
    char why[4096];
    if (nt_st_open(&s->files[k], path, why, sizeof why) != 0) BAD("%s", why);
}

static void close_sources(src_set *s)
{
    for (int i = 0; i < s->nfiles; i++) { nt_st_close(&s->files[i]); free(s->fname[i]); }
    for (int i = 0; i < s->nmap; i++) { free(s->map_name[i]); free(s->map_file[i]); }
    free(s->files); free(s->fname); free(s->map_name); free(s->map_file);
}

/* the tensor named hf: its file (via the index) and entry; NULL with err set */
static const nt_st_tensor *find_src(const char *dir, src_set *s, const char *hf, int *fi, char *err, size_t errlen)
{
    if (s->nmap) {
        for (int k = 0; k < s->nmap; k++)
            if (!strcmp(s->map_name[k], hf)) {
                int i = file_index(s, s->map_file[k]);
                const nt_st_tensor *t = nt_st_find(&s->files[i], hf);
                if (!t) BAD("%s/%s: tensor %s missing (model.safetensors.index.json puts it there)", dir, s->fname[i], hf);
                *fi = i;
                return t;
            }
        BAD("%s/model.safetensors.index.json: tensor %s missing from weight_map", dir, hf);
        return NULL;
    }
    const nt_st_tensor *t = nt_st_find(&s->files[0], hf);
    if (!t) BAD("%s/model.safetensors: tensor %s missing", dir, hf);
    *fi = 0;
    return t;
}

/* shortest %g text that reads back as v */
static void fmt_double(char *buf, size_t n, double v)
{
    for (int p = 6; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* The deck DECK: [model] of the config, the checkpoint as weights-only start. */
static void write_deck(const char *path, const nt_config *cfg, const char *hf_dir, const char *out)
{
    char tmp[4200], rf[64], rb[64], ne[64], is[64], absout[PATH_MAX], absdir[PATH_MAX], tok[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!realpath(out, absout)) snprintf(absout, sizeof absout, "%s", out);
    if (!realpath(hf_dir, absdir)) snprintf(absdir, sizeof absdir, "%s", hf_dir);
    fmt_double(rf, sizeof rf, cfg->rotary_fraction);
    fmt_double(rb, sizeof rb, cfg->rotary_base);
    fmt_double(ne, sizeof ne, cfg->norm_eps);
    fmt_double(is, sizeof is, cfg->init_std);
    snprintf(tok, sizeof tok, "%s/tokenizer.model", absdir);
    FILE *f = fopen(tmp, "w");
    if (!f) nt_die(NT_EXIT_FAIL, "%s: cannot create: %s", tmp, strerror(errno));
    const char *base = strrchr(absout, '/');
    fprintf(f,
            "# %s — written by `ntron ckpt import-hf %s %s`: the [model] section of\n"
            "# %s/config.json and the imported weights as the start (weights only,\n"
            "# fresh optimizer).  Add the phase's data (data.train) and [train] keys, then\n"
            "# `ntron check` it.\n"
            "[run]\nphase = sft\nname = %s\n\n"
            "[model]\nlayers = %d\nhidden = %d\nffn_hidden = %d\nheads = %d\nkv_heads = %d\nvocab = %d\nseq_len = %d\n"
            "rotary_fraction = %s\nrotary_base = %s\nnorm_eps = %s\ninit_std = %s\n\n"
            "[checkpoint]\nload = %s\nload_optimizer = false\n",
            path, hf_dir, out, hf_dir, base ? base + 1 : absout, cfg->layers, cfg->hidden, cfg->ffn_hidden, cfg->heads,
            cfg->kv_heads, cfg->vocab, cfg->seq_len, rf, rb, ne, is, absout);
    if (exists(tok)) fprintf(f, "\n[data]\n# the model's SentencePiece tokenizer (its ids are the checkpoint's)\ntokenizer = %s\n", tok);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, path, strerror(errno));
}

/* One ntron row R of tensor nt_name into f32 / b16 [cols]: from its HF
 * source row (names[k], row r), or zeros for vocabulary padding.  QKV row
 * R of KV group g = R / ((qpg+2) hd) is query head g*qpg + slot, or the
 * group's k (slot qpg) or v (slot qpg+1) head. */
static void fetch_row(const nt_hf_config *hc, const nt_hf_name *names, int nn, const nt_st_tensor *const *st,
                      const char *nt_name, int R, int cols, float *f32, uint16_t *b16)
{
    int k = -1, r = R;
    if (strstr(nt_name, "attn.qkv")) {
        int hd = hc->head_dim, qpg = hc->heads / hc->kv_heads, g = R / ((qpg + 2) * hd);
        int slot = (R / hd) % (qpg + 2), d = R % hd;
        nt_hf_part part = slot < qpg ? NT_HF_Q : slot == qpg ? NT_HF_K : NT_HF_V;
        r = slot < qpg ? (g * qpg + slot) * hd + d : g * hd + d;
        for (int i = 0; i < nn && k < 0; i++)
            if (names[i].part == part && !strcmp(names[i].nt, nt_name)) k = i;
    } else {
        for (int i = 0; i < nn && k < 0; i++)
            if (!strcmp(names[i].nt, nt_name)) k = i;
    }
    NT_CHECK(k >= 0, "import-hf: no HF source for %s", nt_name);
    if (r >= names[k].rows) {   /* vocabulary padding */
        memset(f32, 0, (size_t)cols * sizeof(float));
        memset(b16, 0, (size_t)cols * sizeof(uint16_t));
        return;
    }
    const nt_st_tensor *t = st[k];
    nt_st_read_f32(t, (uint64_t)r * cols, (uint64_t)cols, f32);
    if (t->dtype == NT_ST_BF16) memcpy(b16, (const unsigned char *)t->data + (size_t)r * cols * 2, (size_t)cols * 2);
    else nt_f32_to_bf16_n(b16, f32, (size_t)cols);
}

int nt_hf_import(const char *hf_dir, const char *out, const char *deck_out)
{
    int inited = 0;
    NT_CHECK_MPI(MPI_Initialized(&inited));
    if (!inited) NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    int rank = world.rank, size = world.size;
    char err[8192] = "", cpath[4096], tmpdir[4200], file[4300];
    size_t errlen = sizeof err;
    nt_hf_config hc;
    snprintf(cpath, sizeof cpath, "%s/config.json", hf_dir);
    if (exists(out)) BAD("import-hf: %s exists; not overwriting it", out);
    else if (!parent_is_dir(out)) BAD("import-hf: %s: its directory does not exist", out);
    else if (deck_out && !parent_is_dir(deck_out)) BAD("import-hf: deck %s: its directory does not exist", deck_out);
    else if (deck_out && exists(deck_out)) BAD("import-hf: deck %s exists; not overwriting it", deck_out);
    else nt_hf_config_read(cpath, &hc, err, errlen);
    int who = nt_comm_first_error(&world, err);
    if (who >= 0) nt_exit_agreed(NT_EXIT_INPUT, rank == who, "%s", err);

    src_set src;
    open_sources(hf_dir, &src, err, errlen);
    nt_hf_name *names = NULL;
    int nn = nt_hf_names(&hc, &names);
    const nt_st_tensor **st = nt_calloc((size_t)nn, sizeof *st, "sources");
    int n_bf16 = 0, n_f16 = 0, n_f32 = 0;
    for (int i = 0; i < nn && !err[0]; i++) {
        int fi = 0;
        const nt_st_tensor *t = find_src(hf_dir, &src, names[i].hf, &fi, err, errlen);
        if (!t) break;
        int want_nd = names[i].cols == 1 ? 1 : 2;
        if (t->dtype == NT_ST_OTHER)
            BAD("%s/%s: tensor %s: dtype %s, ntron reads F32, F16 or BF16", hf_dir, src.fname[fi], t->name, t->dtype_name);
        else if (t->ndim != want_nd || t->shape[0] != names[i].rows || (want_nd == 2 && t->shape[1] != names[i].cols))
            BAD("%s/%s: tensor %s: shape [%lld%s%lld], config.json makes it [%d%s%d]", hf_dir, src.fname[fi], t->name,
                (long long)(t->ndim ? t->shape[0] : 0), t->ndim > 1 ? ", " : "", (long long)(t->ndim > 1 ? t->shape[1] : 0),
                names[i].rows, want_nd == 2 ? ", " : "", want_nd == 2 ? names[i].cols : 0);
        st[i] = t;
        n_bf16 += t->dtype == NT_ST_BF16;
        n_f16 += t->dtype == NT_ST_F16;
        n_f32 += t->dtype == NT_ST_F32;
    }
    /* nothing left over: a bias, a tied or extra head would be silently lost */
    for (int fi = 0; fi < src.nfiles && !err[0]; fi++)
        for (int k = 0; k < src.files[fi].ntensors && !err[0]; k++) {
            const char *n = src.files[fi].t[k].name;
            static const char inv[] = "rotary_emb.inv_freq";   /* a buffer older saves kept */
            size_t ln = strlen(n), li = sizeof inv - 1;
            if (ln >= li && !strcmp(n + ln - li, inv)) continue;
            int used = 0;
            for (int i = 0; i < nn && !used; i++) used = !strcmp(names[i].hf, n);
            if (!used) BAD("%s/%s: tensor %s: not part of ntron's model (a bias, or another architecture's tensor?)", hf_dir,
                           src.fname[fi], n);
        }
    who = nt_comm_first_error(&world, err);
    if (who >= 0) nt_exit_agreed(NT_EXIT_INPUT, rank == who, "%s", err);

    /* the ntron model: its tensor table at TP 1 */
    nt_config cfg;
    nt_deck_defaults(&cfg);
    nt_hf_config_to_ntron(&hc, &cfg);
    snprintf(cfg.name, sizeof cfg.name, "import-hf");
    nt_model_config mc;
    nt_model_config_init(&mc, &cfg, 1, 0);
    nt_model full;
    nt_model_layout(&full, nt_backend_cpu(), &mc, NULL, 0, cfg.layers, 1, 1);
    int nt = full.ntensors;

    snprintf(tmpdir, sizeof tmpdir, "%s.tmp", out);
    snprintf(file, sizeof file, "%s/%s", tmpdir, NT_CKPT_FILE);
    if (rank == 0) {
        if (exists(tmpdir)) {   /* a stale attempt of ours */
            char stale[4400];
            snprintf(stale, sizeof stale, "%s/%s", tmpdir, NT_CKPT_FILE);
            unlink(stale);
            rmdir(tmpdir);
        }
        if (mkdir(tmpdir, 0755) != 0) snprintf(err, sizeof err, "%s: cannot create directory: %s", tmpdir, strerror(errno));
    }
    who = nt_comm_first_error(&world, err);
    if (who >= 0) nt_exit_agreed(NT_EXIT_FAIL, rank == who, "%s", err);

    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    NT_CHECK_H5(fapl);
    NT_CHECK_H5(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL));
    NT_CHECK_H5(H5Pset_coll_metadata_write(fapl, 1));
    hid_t f = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    NT_CHECK_H5(f);
    NT_CHECK_H5(H5Pclose(fapl));
    static const char *const groups[] = {"/model", "/optimizer", "/optimizer/master"};
    for (int g = 0; g < 3; g++) {
        hid_t gr = H5Gcreate2(f, groups[g], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(gr);
        NT_CHECK_H5(H5Gclose(gr));
    }
    hid_t bf16 = nt_ckpt_bf16_type();
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), dxpl = H5Pcreate(H5P_DATASET_XFER);
    NT_CHECK_H5(dcpl);
    NT_CHECK_H5(dxpl);
    NT_CHECK_H5(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
    NT_CHECK_H5(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER));
    NT_CHECK_H5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_INDEPENDENT));
    uint64_t *sums = nt_calloc((size_t)nt * 2, sizeof(uint64_t), "checksums");
    hid_t *dsets = nt_malloc((size_t)nt * 2 * sizeof(hid_t), "datasets");
    double bytes = 0;
    size_t chunk = 0, maxblock = 1, CH = nt_hf_block();
    for (int i = 0; i < nt; i++) {
        size_t cols = (size_t)full.tensors[i].full_cols, block = CH / cols ? CH / cols : 1;
        size_t rows = block < (size_t)full.tensors[i].full_rows ? block : (size_t)full.tensors[i].full_rows;
        if (rows * cols > maxblock) maxblock = rows * cols;
    }
    float *f32 = nt_malloc(maxblock * sizeof(float), "import staging (fp32)");
    uint16_t *b16 = nt_malloc(maxblock * sizeof(uint16_t), "import staging (bf16)");
    for (int i = 0; i < nt; i++) {
        const nt_tensor_info *ti = &full.tensors[i];
        int nd = ti->full_cols == 1 ? 1 : 2;
        hsize_t dims[2] = {(hsize_t)ti->full_rows, (hsize_t)ti->full_cols};
        hid_t fs = H5Screate_simple(nd, dims, NULL);
        NT_CHECK_H5(fs);
        char p0[256], p1[256];
        snprintf(p0, sizeof p0, "/model/%s", ti->name);
        snprintf(p1, sizeof p1, "/optimizer/master/%s", ti->name);
        hid_t d0 = H5Dcreate2(f, p0, bf16, fs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        hid_t d1 = H5Dcreate2(f, p1, H5T_IEEE_F32LE, fs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        NT_CHECK_H5(d0);
        NT_CHECK_H5(d1);
        dsets[2 * i] = d0;
        dsets[2 * i + 1] = d1;
        size_t numel = (size_t)ti->full_rows * (size_t)ti->full_cols, cols = (size_t)ti->full_cols;
        bytes += (double)numel * 6;
        /* row blocks of at most CH elements, dealt round-robin over the ranks
         * (the counter runs on across tensors) */
        size_t block = CH / cols ? CH / cols : 1;
        for (size_t r0 = 0; r0 < (size_t)ti->full_rows; r0 += block, chunk++) {
            if (chunk % (size_t)size != (size_t)rank) continue;
            size_t r1 = r0 + block < (size_t)ti->full_rows ? r0 + block : (size_t)ti->full_rows, n = (r1 - r0) * cols;
            for (size_t r = r0; r < r1; r++)
                fetch_row(&hc, names, nn, st, ti->name, (int)r, (int)cols, f32 + (r - r0) * cols, b16 + (r - r0) * cols);
            uint64_t seg[2] = {r0 * cols, n};
            sums[2 * i] += nt_ckpt_checksum(b16, 2, seg, 1);
            sums[2 * i + 1] += nt_ckpt_checksum(f32, 4, seg, 1);
            hsize_t st0[2] = {r0, 0}, cnt[2] = {r1 - r0, cols}, mn = n;
            NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, st0, NULL, cnt, NULL));
            hid_t ms = H5Screate_simple(1, &mn, NULL);
            NT_CHECK_H5(ms);
            NT_CHECK_H5(H5Dwrite(d0, bf16, ms, fs, dxpl, b16));
            NT_CHECK_H5(H5Dwrite(d1, H5T_NATIVE_FLOAT, ms, fs, dxpl, f32));
            NT_CHECK_H5(H5Sclose(ms));
        }
        NT_CHECK_H5(H5Sclose(fs));
    }
    free(f32);
    free(b16);
    nt_comm_allreduce(&world, sums, (size_t)nt * 2, NT_U64, NT_SUM);
    for (int i = 0; i < 2 * nt; i++) {
        nt_h5attr_write_u64(dsets[i], "xxh3_sum", sums[i]);
        NT_CHECK_H5(H5Dclose(dsets[i]));
    }
    char *deck = nt_deck_resolved_text(&cfg);
    char sha[65];
    nt_sha256_hex(deck, strlen(deck), sha);
    const char *sdt = n_f32 == nn ? "F32" : n_bf16 == nn ? "BF16" : n_f16 == nn ? "F16" : "mixed";
    nt_h5attr_write_str(f, "format", NT_CKPT_FORMAT);
    nt_h5attr_write_i64(f, "format_version", NT_CKPT_VERSION);
    nt_h5attr_write_str(f, "ntron_version", PACKAGE_VERSION);
    nt_h5attr_write_str(f, "deck", deck);
    nt_h5attr_write_str(f, "deck_sha256", sha);
    nt_h5attr_write_str(f, "layout", "TP1 PP1 v1 DP1 SP0");
    nt_h5attr_write_i64(f, "tensor", 1);
    nt_h5attr_write_i64(f, "pipeline", 1);
    nt_h5attr_write_i64(f, "virtual_stages", 1);
    nt_h5attr_write_i64(f, "data_parallel", 1);
    nt_h5attr_write_i64(f, "iteration", 0);
    nt_h5attr_write_i64(f, "optimizer_step", 0);
    nt_h5attr_write_i64(f, "skipped_steps", 0);
    nt_h5attr_write_u64(f, "consumed_samples", 0);
    nt_h5attr_write_f64(f, "consumed_tokens", 0);
    nt_h5attr_write_u64(f, "seed", cfg.seed);
    nt_h5attr_write_i64(f, "has_optimizer", 0);
    nt_h5attr_write_i64(f, "layers", cfg.layers);
    nt_h5attr_write_i64(f, "hidden", cfg.hidden);
    nt_h5attr_write_i64(f, "ffn_hidden", cfg.ffn_hidden);
    nt_h5attr_write_i64(f, "heads", cfg.heads);
    nt_h5attr_write_i64(f, "kv_heads", cfg.kv_heads);
    nt_h5attr_write_i64(f, "vocab", cfg.vocab);
    nt_h5attr_write_i64(f, "seq_len", cfg.seq_len);
    nt_h5attr_write_str(f, "head", "lm");
    nt_h5attr_write_i64(f, "reward_outputs", 0);
    nt_h5attr_write_str(f, "checksum", "xxh3_sum: sum mod 2^64 over elements of XXH3_64bits(value bytes, seed = row-major index)");
    nt_h5attr_write_str(f, "source", "import-hf: Hugging Face NemotronForCausalLM (config.json + safetensors)");
    nt_h5attr_write_str(f, "source_dtype", sdt);
    nt_h5attr_write_i64(f, "hf_bos_token_id", hc.bos);
    nt_h5attr_write_i64(f, "hf_eos_token_id", hc.eos);
    nt_h5attr_write_i64(f, "hf_pad_token_id", hc.pad);
    nt_ckpt_attrs_stamp(f);   /* last: the root-attribute checksum covers every attribute above */
    free(deck);
    free(sums);
    free(dsets);
    NT_CHECK_H5(H5Tclose(bf16));
    NT_CHECK_H5(H5Pclose(dcpl));
    NT_CHECK_H5(H5Pclose(dxpl));
    NT_CHECK_H5(H5Fclose(f));
    nt_comm_barrier(&world);
    if (rank == 0) {
        nt_ckpt_fsync_path(file);
        nt_ckpt_fsync_path(tmpdir);
        if (rename(tmpdir, out) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmpdir, out, strerror(errno));
        if (deck_out) write_deck(deck_out, &cfg, hf_dir, out);
        printf("import-hf %s -> %s/%s: %d tensors from %d safetensors file%s (%s), %d layers, hidden %d, vocab %d, "
               "%.6g bytes (bf16 /model + fp32 /optimizer/master), weights only, %d rank%s\n",
               hf_dir, out, NT_CKPT_FILE, nt, src.nfiles, src.nfiles == 1 ? "" : "s", sdt, cfg.layers, cfg.hidden,
               cfg.vocab, bytes, size, size == 1 ? "" : "s");
        if (deck_out) printf("deck    %s ([model] of %s)\n", deck_out, cpath);
    }
    nt_comm_barrier(&world);
    free(st);
    free(names);
    close_sources(&src);
    nt_model_destroy(&full);
    nt_comm_free(&world);
    if (!inited) NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
