/* hf_export.c — `ntron ckpt export-hf CKPT OUT_DIR [--dtype bf16|fp32]
 * [--shard-size 5GB]`: an ntron checkpoint becomes a directory that
 * transformers' NemotronForCausalLM.from_pretrained loads (see hf.h).
 *
 * The model shape comes from the checkpoint's root attributes, the rest of
 * [model] (rotary fraction and base, norm eps, init std) and the tokenizer
 * from its resolved deck (root attribute `deck`).  Every dataset read is
 * checked against its xxh3_sum first.  Written as OUT_DIR.tmp/, each file
 * fsync'd, then renamed to OUT_DIR (never over an existing one). */
#include "interop/hf.h"
#include "interop/hf_config.h"
#include "interop/safetensors.h"
#include "ckpt/ckpt.h"
#include "tokenizer/tokenizer_spm.h"
#include "util/check.h"
#include "util/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t nt_hf_parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0)) return 0;
    while (*end == ' ') end++;
    static const struct { const char *u; double m; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
        {"KIB", 1024.0}, {"MIB", 1048576.0}, {"GIB", 1073741824.0}, {"TIB", 1099511627776.0}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcasecmp(end, units[i].u)) {
            double b = v * units[i].m;
            return b >= 1 && b < 1.8e19 ? (uint64_t)b : 0;
        }
    return 0;
}

/* ---- the checkpoint's deck: the few keys export needs -------------------- */
typedef struct deck_keys {
    nt_config *cfg;
    char tokenizer[NT_PATH_MAX];
    int have_rot;
} deck_keys;

static int deck_handler(void *user, const char *section, const char *key, const char *value)
{
    deck_keys *k = user;
    if (!strcmp(section, "model")) {
        if (!strcmp(key, "rotary_fraction")) { k->cfg->rotary_fraction = strtod(value, NULL); k->have_rot = 1; }
        else if (!strcmp(key, "rotary_base")) k->cfg->rotary_base = strtod(value, NULL);
        else if (!strcmp(key, "norm_eps")) k->cfg->norm_eps = strtod(value, NULL);
        else if (!strcmp(key, "init_std")) k->cfg->init_std = strtod(value, NULL);
    } else if (!strcmp(section, "data") && !strcmp(key, "tokenizer")) {
        snprintf(k->tokenizer, sizeof k->tokenizer, "%s", value);
    }
    return 1;
}

static int attr_i(hid_t f, const char *name, long long *v)
{
    if (H5Aexists(f, name) <= 0) return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    int ok = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_LLONG, v) >= 0;
    if (t >= 0) NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Aclose(a));
    return ok ? 0 : -1;
}

/* a string attribute (malloc'd) or NULL */
static char *attr_s(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a);
    char *s = NULL;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
        s = nt_calloc(H5Tget_size(t) + 1, 1, "attribute");
        if (H5Aread(a, t, s) < 0) { free(s); s = NULL; }
    }
    if (t >= 0) NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Aclose(a));
    return s;
}

/* A checkpoint dataset read in row blocks; its xxh3_sum is checked once
 * every row was read (ds_close).  Bad input exits 2 naming it. */
typedef struct dsrc {
    hid_t d, fs;
    const char *file;
    char path[256];
    int is_bf16;
    size_t rows, cols, next;
    uint64_t want, sum;
} dsrc;

static void ds_open(dsrc *s, hid_t f, const char *file, const char *path, hid_t bf16)
{
    memset(s, 0, sizeof *s);
    s->file = file;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (H5Lexists(f, path, H5P_DEFAULT) <= 0) nt_input_error("checkpoint %s: tensor %s missing", file, path);
    s->d = H5Dopen2(f, path, H5P_DEFAULT);
    if (s->d < 0) nt_input_error("checkpoint %s: tensor %s cannot be opened", file, path);
    hid_t t = H5Dget_type(s->d);
    NT_CHECK_H5(t);
    NT_CHECK_H5(s->fs = H5Dget_space(s->d));
    int nd = H5Sget_simple_extent_ndims(s->fs);
    hsize_t dims[2] = {0, 1};
    if (nd < 1 || nd > 2) nt_input_error("checkpoint %s: tensor %s has %d dimensions", file, path, nd);
    NT_CHECK_H5(H5Sget_simple_extent_dims(s->fs, dims, NULL));
    s->is_bf16 = H5Tequal(t, bf16) > 0;
    if (!s->is_bf16 && H5Tequal(t, H5T_IEEE_F32LE) <= 0)
        nt_input_error("checkpoint %s: tensor %s has the wrong dtype (bf16 or fp32 expected)", file, path);
    NT_CHECK_H5(H5Tclose(t));
    hid_t a = H5Aexists(s->d, "xxh3_sum") > 0 ? H5Aopen(s->d, "xxh3_sum", H5P_DEFAULT) : -1;
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &s->want) < 0) nt_input_error("checkpoint %s: tensor %s has no xxh3_sum checksum", file, path);
    NT_CHECK_H5(H5Aclose(a));
    s->rows = (size_t)dims[0];
    s->cols = (size_t)dims[1];
}

/* rows [next, next + n) as stored (bf16 bits or fp32) into raw */
static void ds_read(dsrc *s, size_t n, void *raw, hid_t bf16)
{
    size_t esz = s->is_bf16 ? 2 : 4;
    hsize_t st[2] = {s->next, 0}, cnt[2] = {n, s->cols}, mn = n * s->cols;
    NT_CHECK_H5(H5Sselect_hyperslab(s->fs, H5S_SELECT_SET, st, NULL, cnt, NULL));
    hid_t ms = H5Screate_simple(1, &mn, NULL);
    NT_CHECK_H5(ms);
    if (H5Dread(s->d, s->is_bf16 ? bf16 : H5T_IEEE_F32LE, ms, s->fs, H5P_DEFAULT, raw) < 0)
        nt_input_error("checkpoint %s: tensor %s: read failed (truncated or damaged file?)", s->file, s->path);
    NT_CHECK_H5(H5Sclose(ms));
    uint64_t seg[2] = {(uint64_t)s->next * s->cols, (uint64_t)n * s->cols};
    s->sum += nt_ckpt_checksum(raw, esz, seg, 1);
    s->next += n;
}

static void ds_close(dsrc *s, void *scratch, size_t scratch_rows, hid_t bf16)
{
    while (s->next < s->rows) {   /* rows nobody exports (vocabulary padding): for the checksum */
        size_t n = s->rows - s->next < scratch_rows ? s->rows - s->next : scratch_rows;
        ds_read(s, n, scratch, bf16);
    }
    if (s->sum != s->want)
        nt_input_error("checkpoint %s: tensor %s: checksum mismatch (stored %016llx, data %016llx): corrupted or truncated file",
                       s->file, s->path, (unsigned long long)s->want, (unsigned long long)s->sum);
    NT_CHECK_H5(H5Sclose(s->fs));
    NT_CHECK_H5(H5Dclose(s->d));
}

/* raw rows as stored -> the export dtype (fp32: widen bf16; bf16: as is) */
static void convert_rows(const dsrc *s, const void *raw, void *out, size_t n, int fp32)
{
    size_t e = n * s->cols;
    if (!fp32) { memcpy(out, raw, e * 2); return; }
    if (!s->is_bf16) { memcpy(out, raw, e * 4); return; }
    for (size_t i = 0; i < e; i++) ((float *)out)[i] = nt_bf16_to_f32(((const uint16_t *)raw)[i]);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) nt_die(NT_EXIT_FAIL, "%s: cannot create: %s", path, strerror(errno));
    fputs(text, f);
    fputc('\n', f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", path, strerror(errno));
}

static void write_json(const char *path, cJSON *o)
{
    char *s = cJSON_Print(o);
    NT_CHECK(s != NULL, "out of memory printing %s", path);
    write_text(path, s);
    free(s);
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) nt_input_error("%s: cannot open: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) nt_die(NT_EXIT_FAIL, "%s: cannot create: %s", to, strerror(errno));
    char buf[1 << 16];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0) {
        ssize_t off = 0;
        while (off < r) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w <= 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", to, strerror(errno));
            off += w;
        }
    }
    if (r < 0) nt_die(NT_EXIT_FAIL, "%s: read failed: %s", from, strerror(errno));
    if (fsync(out) != 0 || close(out) != 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", to, strerror(errno));
    close(in);
}

/* tokenizer.model + tokenizer_config.json + special_tokens_map.json for a
 * SentencePiece tokenizer; sets bos/eos when they are unknown */
static int export_tokenizer(const char *spec, const char *dir, int seq_len, int *bos, int *eos)
{
    size_t n = strlen(spec);
    if (!n || !strcmp(spec, "byte") || n < 6 || strcmp(spec + n - 6, ".model") != 0) return 0;
    char err[1024], path[8448];
    struct stat st;
    if (stat(spec, &st) != 0) {   /* a path relative to where the run started, say */
        fprintf(stderr, "ntron: export-hf: warning: tokenizer %s (data.tokenizer of the checkpoint's deck) not found "
                        "from here: no tokenizer files written\n", spec);
        return 0;
    }
    nt_spm *m = nt_spm_load(spec, err, sizeof err);
    if (!m) nt_input_error("tokenizer %s (data.tokenizer of the checkpoint's deck): %s", spec, err);
    int b = nt_spm_bos_id(m), e = nt_spm_eos_id(m), unk = nt_spm_piece_to_id(m, "<unk>");
    if (*bos < 0) *bos = b;
    if (*eos < 0) *eos = e;
    snprintf(path, sizeof path, "%s/tokenizer.model", dir);
    copy_file(spec, path);
    cJSON *tc = nt_json_object(), *sm = nt_json_object();
    /* transformers' Llama tokenizers over the same model file, ids as ntron's:
     * no BOS/EOS added, legacy (plain SentencePiece) splitting, and a prefix
     * space only where the model adds one itself (its add_dummy_prefix, seen
     * as "x" and " x" encoding alike) */
    int *i1 = NULL, *i2 = NULL;
    size_t n1 = 0, n2 = 0;
    int prefix = nt_spm_encode(m, "x", 1, &i1, &n1, err, sizeof err) == 0 &&
                 nt_spm_encode(m, " x", 2, &i2, &n2, err, sizeof err) == 0 && n1 == n2 && n1 > 0 &&
                 !memcmp(i1, i2, n1 * sizeof(int));
    free(i1);
    free(i2);
    nt_json_str(tc, "tokenizer_class", "LlamaTokenizer");
    nt_json_add(tc, "add_bos_token", cJSON_CreateFalse());
    nt_json_add(tc, "add_eos_token", cJSON_CreateFalse());
    nt_json_add(tc, "legacy", cJSON_CreateTrue());
    nt_json_add(tc, "add_prefix_space", cJSON_CreateBool(prefix));
    nt_json_add(tc, "clean_up_tokenization_spaces", cJSON_CreateFalse());
    nt_json_num(tc, "model_max_length", seq_len);
    nt_json_add(tc, "sp_model_kwargs", nt_json_object());
    struct { const char *key, *piece; int id; } sp[] = {{"bos_token", "<s>", b}, {"eos_token", "</s>", e}, {"unk_token", "<unk>", unk}};
    for (int i = 0; i < 3; i++)
        if (sp[i].id >= 0 && nt_spm_piece_to_id(m, sp[i].piece) == sp[i].id) {
            nt_json_str(tc, sp[i].key, sp[i].piece);
            nt_json_str(sm, sp[i].key, sp[i].piece);
        }
    nt_spm_free(m);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_json(path, tc);
    snprintf(path, sizeof path, "%s/special_tokens_map.json", dir);
    write_json(path, sm);
    cJSON_Delete(tc);
    cJSON_Delete(sm);
    return 1;
}

typedef struct export_job {
    hid_t f;
    const char *file, *tmp;
    nt_hf_config *hc;
    const nt_config *cfg;
    const deck_keys *dk;
    const nt_hf_name *names;
    int nn;
    const nt_st_out *outs;
    const int *shard;
    int nshards;
    uint64_t total;
    int fp32, from_master;
    int tok, pad_;
} export_job;

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4608];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* shards, index, tokenizer, config.json, generation_config.json into job->tmp */
static void write_files(export_job *job)
{
    hid_t f = job->f;
    const char *file = job->file, *tmp = job->tmp;
    nt_hf_config *hc = job->hc;
    const nt_hf_name *names = job->names;
    const nt_st_out *outs = job->outs;
    const int *shard = job->shard;
    int nn = job->nn, nshards = job->nshards, fp32 = job->fp32, from_master = job->from_master;
    uint64_t total = job->total;
    const nt_config *cfgp = job->cfg;
    char path[4400];
    hid_t bf16 = nt_ckpt_bf16_type();
    cJSON *wm = nt_json_object();
    int i = 0;
    for (int s = 0; s < nshards; s++) {
        char fname[128];
        if (nshards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, nshards);
        int i0 = i;
        while (i < nn && shard[i] == s) i++;
        snprintf(path, sizeof path, "%s/%s", tmp, fname);
        nt_st_writer w;
        nt_st_write_begin(&w, path, outs + i0, i - i0);
        for (int k = i0; k < i; k++) {
            const nt_hf_name *nm = &names[k];
            char ds[256];
            snprintf(ds, sizeof ds, "%s/%s", from_master ? "/optimizer/master" : "/model", nm->nt);
            dsrc src;
            ds_open(&src, f, file, ds, bf16);
            if (!fp32 && !src.is_bf16) nt_input_error("checkpoint %s: tensor %s is not bf16", file, ds);
            int is_vocab = !strcmp(nm->nt, "embedding.weight") || !strcmp(nm->nt, "lm_head.weight");
            size_t want_rows = nm->part == NT_HF_WHOLE ? (size_t)nm->rows
                                                       : (size_t)hc->kv_heads * (size_t)(hc->heads / hc->kv_heads + 2) * (size_t)hc->head_dim;
            if (src.cols != (size_t)nm->cols || (is_vocab ? src.rows < want_rows : src.rows != want_rows))
                nt_input_error("checkpoint %s: tensor %s has shape [%zu, %zu], the model [%zu, %d]", file, ds, src.rows, src.cols,
                               want_rows, nm->cols);
            size_t oesz = fp32 ? 4 : 2, iesz = src.is_bf16 ? 2 : 4, cols = src.cols;
            if (nm->part != NT_HF_WHOLE) {   /* QKV: the whole fused tensor, this part's rows picked out */
                void *raw = nt_malloc(src.rows * cols * iesz, "QKV tensor");
                ds_read(&src, src.rows, raw, bf16);
                unsigned char *row = nt_malloc(cols * oesz, "row");
                for (int r = 0; r < nm->rows; r++) {
                    int from = nt_hf_qkv_row(hc, nm->part, r);
                    convert_rows(&src, (unsigned char *)raw + (size_t)from * cols * iesz, row, 1, fp32);
                    nt_st_write_bytes(&w, row, cols * oesz);
                }
                free(row);
                ds_close(&src, raw, 1, bf16);
                free(raw);
            } else {   /* row blocks; the vocabulary padding rows are read for the checksum only */
                size_t block = nt_hf_block() / cols ? nt_hf_block() / cols : 1;
                if (block > src.rows) block = src.rows ? src.rows : 1;
                void *raw = nt_malloc(block * cols * iesz, "tensor block");
                void *out = nt_malloc(block * cols * oesz, "tensor block");
                while (src.next < (size_t)nm->rows) {
                    size_t n = (size_t)nm->rows - src.next < block ? (size_t)nm->rows - src.next : block;
                    ds_read(&src, n, raw, bf16);
                    convert_rows(&src, raw, out, n, fp32);
                    nt_st_write_bytes(&w, out, n * cols * oesz);
                }
                ds_close(&src, raw, block, bf16);
                free(raw);
                free(out);
            }
            cJSON_AddItemToObject(wm, nm->hf, cJSON_CreateString(fname));
        }
        nt_st_write_end(&w);
    }
    NT_CHECK_H5(H5Tclose(bf16));
    NT_CHECK_H5(H5Fclose(f));
    if (nshards > 1) {
        cJSON *idx = nt_json_object(), *meta = nt_json_object();
        nt_json_num(meta, "total_size", (double)total);
        nt_json_add(idx, "metadata", meta);
        nt_json_add(idx, "weight_map", wm);
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", tmp);
        write_json(path, idx);
        cJSON_Delete(idx);
    } else {
        cJSON_Delete(wm);
    }
    job->tok = export_tokenizer(job->dk->tokenizer, tmp, cfgp->seq_len, &hc->bos, &hc->eos);
    const char *ts = job->dk->tokenizer;
    if (!job->tok && (!ts[0] || !strcmp(ts, "byte")) && hc->vocab == 258) {   /* ntron's byte tokenizer: 256 BOS, 257 EOD */
        if (hc->bos < 0) hc->bos = 256;
        if (hc->eos < 0) hc->eos = 257;
    }
    char *cj = nt_hf_config_json(hc, fp32 ? "float32" : "bfloat16");
    snprintf(path, sizeof path, "%s/config.json", tmp);
    write_text(path, cj);
    free(cj);
    cJSON *gc = nt_json_object();
    if (hc->bos >= 0) nt_json_num(gc, "bos_token_id", hc->bos);
    if (hc->eos >= 0) nt_json_num(gc, "eos_token_id", hc->eos);
    if (hc->pad >= 0) nt_json_num(gc, "pad_token_id", hc->pad);
    nt_json_add(gc, "_from_model_config", cJSON_CreateTrue());
    nt_json_str(gc, "transformers_version", "4.44.2");
    snprintf(path, sizeof path, "%s/generation_config.json", tmp);
    write_json(path, gc);
    cJSON_Delete(gc);
}

/* write_files; on a failure remove the partial directory, then fail */
static void write_files_or_clean(export_job *job)
{
    nt_catch c;
    if (NT_TRY(&c)) {
        write_files(job);
        nt_catch_end(&c);
    }
    if (c.status) {
        remove_dir(job->tmp);
        nt_die(c.status, "%s", c.msg);
    }
}

int nt_hf_export(const char *ckpt, const char *out_dir, const char *dtype, uint64_t shard_bytes)
{
    char file[2048], why[1024], tmp[4200];
    struct stat st;
    if (stat(out_dir, &st) == 0) nt_input_error("export-hf: %s exists; not overwriting it", out_dir);
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    if (nt_ckpt_resolve(ckpt, file, sizeof file, why, sizeof why) != 0) nt_input_error("checkpoint %s: %s", ckpt, why);
    if (H5Fis_hdf5(file) <= 0) nt_input_error("checkpoint %s: not an HDF5 file (not a ntron checkpoint)", file);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) nt_input_error("checkpoint %s: cannot open as HDF5 (truncated or damaged file?)", file);
    char *fmt = attr_s(f, "format");
    if (!fmt || strcmp(fmt, NT_CKPT_FORMAT) != 0)
        nt_input_error("checkpoint %s: not a ntron checkpoint (root attribute format is not '%s')", file, NT_CKPT_FORMAT);
    free(fmt);
    char *head = attr_s(f, "head");
    if (head && strcmp(head, "lm") != 0)
        nt_input_error("checkpoint %s: has a %s head; NemotronForCausalLM needs an LM head", file, head);
    free(head);

    nt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.rotary_fraction = 0.5;
    cfg.rotary_base = 10000;
    cfg.norm_eps = 1e-5;
    cfg.init_std = 0.0063;
    struct { const char *name; int *dst; } shape[] = {
        {"layers", &cfg.layers}, {"hidden", &cfg.hidden}, {"ffn_hidden", &cfg.ffn_hidden}, {"heads", &cfg.heads},
        {"kv_heads", &cfg.kv_heads}, {"vocab", &cfg.vocab}, {"seq_len", &cfg.seq_len}};
    for (size_t i = 0; i < sizeof shape / sizeof shape[0]; i++) {
        long long v;
        if (attr_i(f, shape[i].name, &v) != 0 || v < 1 || v > 1 << 30)
            nt_input_error("checkpoint %s: root attribute %s missing or out of range", file, shape[i].name);
        *shape[i].dst = (int)v;
    }
    if (cfg.hidden % cfg.heads || cfg.heads % cfg.kv_heads)
        nt_input_error("checkpoint %s: heads %d / kv_heads %d do not divide hidden %d", file, cfg.heads, cfg.kv_heads, cfg.hidden);
    deck_keys dk = {.cfg = &cfg};
    char *deck = attr_s(f, "deck");
    /* (a line inih finds too long only loses that key: the model keys are short) */
    if (!deck || !deck[0] || ini_parse_string(deck, deck_handler, &dk) < 0 || !dk.have_rot)
        nt_input_error("checkpoint %s: root attribute deck missing or without model.rotary_fraction: the rotary "
                       "settings are unknown", file);
    free(deck);
    nt_hf_config hc;
    nt_hf_config_from_ntron(&hc, &cfg);
    if (hc.rot % 2)
        nt_input_error("checkpoint %s: rotary width int(%d*%g) = %d is odd", file, hc.head_dim, cfg.rotary_fraction, hc.rot);
    long long id;
    if (attr_i(f, "hf_bos_token_id", &id) == 0) hc.bos = (int)id;
    if (attr_i(f, "hf_eos_token_id", &id) == 0) hc.eos = (int)id;
    if (attr_i(f, "hf_pad_token_id", &id) == 0) hc.pad = (int)id;
    int fp32 = !strcmp(dtype, "fp32");
    int from_master = fp32 && H5Lexists(f, "/optimizer", H5P_DEFAULT) > 0 && H5Lexists(f, "/optimizer/master", H5P_DEFAULT) > 0;

    /* the HF tensors, their shards */
    nt_hf_name *names = NULL;
    int nn = nt_hf_names(&hc, &names);
    nt_st_out *outs = nt_calloc((size_t)nn, sizeof *outs, "HF tensors");
    int *shard = nt_calloc((size_t)nn, sizeof(int), "shards");
    int nshards = 1;
    uint64_t in_shard = 0, total = 0;
    for (int i = 0; i < nn; i++) {
        outs[i].name = names[i].hf;
        outs[i].dtype = fp32 ? NT_ST_F32 : NT_ST_BF16;
        outs[i].ndim = names[i].cols == 1 ? 1 : 2;
        outs[i].shape[0] = names[i].rows;
        outs[i].shape[1] = names[i].cols;
        uint64_t b = nt_st_out_bytes(&outs[i]);
        if (in_shard > 0 && in_shard + b > shard_bytes) { nshards++; in_shard = 0; }
        in_shard += b;
        total += b;
        shard[i] = nshards - 1;
    }

    snprintf(tmp, sizeof tmp, "%s.tmp", out_dir);
    if (stat(tmp, &st) == 0) nt_input_error("export-hf: %s exists (a failed export?); remove it first", tmp);
    if (mkdir(tmp, 0755) != 0) nt_die(NT_EXIT_FAIL, "%s: cannot create directory: %s", tmp, strerror(errno));
    /* a failure while writing (a damaged tensor found late) removes the partial directory */
    export_job job = {f, file, tmp, &hc, &cfg, &dk, names, nn, outs, shard, nshards, total, fp32, from_master, 0, 0};
    write_files_or_clean(&job);
    int tok = job.tok;
    nt_ckpt_fsync_path(tmp);
    if (rename(tmp, out_dir) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, out_dir, strerror(errno));
    printf("export-hf %s -> %s: %d tensors, %s (%s), %d shard%s, %.6g bytes, vocab %d (padding trimmed)%s%s\n", file,
           out_dir, nn, fp32 ? "F32" : "BF16", from_master ? "from the fp32 master weights" : "from /model",
           nshards, nshards == 1 ? "" : "s", (double)total, cfg.vocab, tok ? ", tokenizer " : "", tok ? dk.tokenizer : "");
    free(names);
    free(outs);
    free(shard);
    return 0;
}
