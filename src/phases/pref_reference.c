/* pref_reference.c — reference log-probs of preference pairs: identity,
 * HDF5 file, forward-only computation (see pref_reference.h). */
#include "phases/pref_reference.h"
#include "ckpt/ckpt.h"
#include "data/data.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- identity ------------------------------------------------------------- */

typedef struct sum_ctx {
    nt_strbuf text;
    const char *file;
} sum_ctx;

/* every /model dataset's name and xxh3_sum, in name order */
static herr_t sum_one(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)info;
    sum_ctx *c = op;
    uint64_t v = 0;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) nt_input_error("%s: cannot open /model/%s", c->file, name);
    if (H5Aexists(d, "xxh3_sum") <= 0) nt_input_error("%s: /model/%s has no xxh3_sum attribute", c->file, name);
    hid_t a = H5Aopen(d, "xxh3_sum", H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Aread(a, H5T_NATIVE_UINT64, &v));
    NT_CHECK_H5(H5Aclose(a));
    NT_CHECK_H5(H5Dclose(d));
    char line[256];
    snprintf(line, sizeof line, "%s:%016llx\n", name, (unsigned long long)v);
    nt_strbuf_puts(&c->text, line);
    return 0;
}

static long long root_ll(hid_t f, const char *file, const char *name)
{
    long long v = -1;
    if (H5Aexists(f, name) <= 0) nt_input_error("%s: not an ntron checkpoint (root attribute %s missing)", file, name);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Aread(a, H5T_NATIVE_LLONG, &v));
    NT_CHECK_H5(H5Aclose(a));
    return v;
}

void nt_pref_ref_identity(const nt_config *cfg, const char *ckpt, char hex[65])
{
    sum_ctx c = {0};
    char line[2600], h[65];
    const char *files[2] = {cfg->blend[0].path, cfg->valid};
    for (int i = 0; i < 2; i++) {
        if (!files[i][0]) continue;
        if (nt_sha256_file_hex(files[i], h) != 0) nt_input_error("%s: cannot read: %s", files[i], strerror(errno));
        snprintf(line, sizeof line, "%s_sha256=%s\n", i ? "valid" : "train", h);
        nt_strbuf_puts(&c.text, line);
    }
    snprintf(line, sizeof line, "seq_len=%d\nbackend=%s\nshape=%d %d %d %d %d %d\n", cfg->seq_len, cfg->backend,
             cfg->layers, cfg->hidden, cfg->ffn_hidden, cfg->heads, cfg->kv_heads, cfg->vocab);
    nt_strbuf_puts(&c.text, line);
    if (!ckpt[0]) {
        snprintf(line, sizeof line, "reference=initial weights of run.seed %llu init_std %.17g\n",
                 (unsigned long long)cfg->seed, cfg->init_std);
        nt_strbuf_puts(&c.text, line);
    } else {
        char file[2400], why[512];
        if (nt_ckpt_resolve(ckpt, file, sizeof file, why, sizeof why) != 0)
            nt_input_error("align.reference / checkpoint.load = %s: %s", ckpt, why);
        hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) nt_input_error("%s: cannot open the reference checkpoint", file);
        char head[32];
        nt_h5attr_read_str(f, "head", head, sizeof head);
        if (head[0] && strcmp(head, "lm"))
            nt_input_error("%s: a %s-head checkpoint (a reward model?) where phase %s needs a policy with an LM head",
                           file, head, cfg->phase);
        struct { const char *name; long long want; } shape[] = {
            {"layers", cfg->layers}, {"hidden", cfg->hidden}, {"ffn_hidden", cfg->ffn_hidden},
            {"heads", cfg->heads}, {"kv_heads", cfg->kv_heads}, {"vocab", cfg->vocab}};
        for (size_t i = 0; i < sizeof shape / sizeof shape[0]; i++) {
            long long v = root_ll(f, file, shape[i].name);
            if (v != shape[i].want)
                nt_input_error("%s: model shape differs: model.%s = %lld in the checkpoint, %lld in the deck", file,
                               shape[i].name, v, shape[i].want);
        }
        c.file = file;
        snprintf(line, sizeof line, "reference_tensors:\n");
        nt_strbuf_puts(&c.text, line);
        hid_t g = H5Gopen2(f, "/model", H5P_DEFAULT);
        if (g < 0) nt_input_error("%s: no /model group", file);
        hsize_t idx = 0;
        NT_CHECK_H5(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, sum_one, &c));
        NT_CHECK_H5(H5Gclose(g));
        NT_CHECK_H5(H5Fclose(f));
    }
    nt_sha256_hex(c.text.s, c.text.n, hex);
    free(c.text.s);
}

/* ---- the file ------------------------------------------------------------- */

static const char *const set_name[2] = {"/train", "/valid"};

int nt_pref_ref_load(const char *file, const char *id, const uint64_t n[2], double *out[2])
{
    if (access(file, F_OK) != 0) return 0;
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) nt_input_error("%s: not a readable HDF5 file (remove it to recompute the reference log-probs)", file);
    char have[128];
    nt_h5attr_read_str(f, "identity", have, sizeof have);
    if (strcmp(have, id))
        nt_input_error("%s: reference log-probs of other data or another reference (identity %.16s..., this run "
                       "%.16s...): remove it to recompute, or use another run.dir", file, have[0] ? have : "none", id);
    for (int s = 0; s < 2; s++) {
        out[s] = NULL;
        if (!n[s]) continue;
        hid_t d = H5Dopen2(f, set_name[s], H5P_DEFAULT);
        if (d < 0) nt_input_error("%s: no %s dataset (remove it to recompute)", file, set_name[s]);
        hid_t sp = H5Dget_space(d);
        NT_CHECK_H5(sp);
        hsize_t dims[2] = {0, 0};
        if (H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || dims[0] != n[s] ||
            dims[1] != 2)
            nt_input_error("%s: %s is [%llu,%llu], the data has %llu pairs (remove it to recompute)", file,
                           set_name[s], (unsigned long long)dims[0], (unsigned long long)dims[1],
                           (unsigned long long)n[s]);
        NT_CHECK_H5(H5Sclose(sp));
        out[s] = nt_malloc(n[s] * 2 * sizeof(double), "reference log-probs");
        if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out[s]) < 0)
            nt_input_error("%s: cannot read %s (remove it to recompute)", file, set_name[s]);
        NT_CHECK_H5(H5Dclose(d));
    }
    NT_CHECK_H5(H5Fclose(f));
    return 1;
}

void nt_pref_ref_save(const char *file, const char *id, const uint64_t n[2], double *const vals[2])
{
    char tmp[2400];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) nt_die(NT_EXIT_FAIL, "%s: cannot create", tmp);
    nt_h5attr_write_str(f, "identity", id);
    nt_h5attr_write_str(f, "columns", "per pair: sum of log pi_ref over the chosen, rejected response tokens");
    for (int s = 0; s < 2; s++) {
        if (!n[s]) continue;
        hsize_t dims[2] = {n[s], 2};
        hid_t sp = H5Screate_simple(2, dims, NULL);
        NT_CHECK_H5(sp);
        hid_t d = H5Dcreate2(f, set_name[s], H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(d);
        NT_CHECK_H5(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals[s]));
        NT_CHECK_H5(H5Dclose(d));
        NT_CHECK_H5(H5Sclose(sp));
    }
    NT_CHECK_H5(H5Fclose(f));
    if (rename(tmp, file) != 0) nt_die(NT_EXIT_FAIL, "%s: cannot rename to %s: %s", tmp, file, strerror(errno));
}

/* ---- computation ------------------------------------------------------------ */

void nt_pref_ref_compute(nt_modelset *ms, nt_padded *d, double *out)
{
    const nt_grid *g = &ms->grid;
    int mbs = ms->micro_batch, DP = g->DP, T = ms->seq_len;
    uint64_t n = d->nsamples, rows = 2 * n, per = (uint64_t)mbs * (uint64_t)DP;
    uint64_t steps = (rows + per - 1) / per;        /* global micro-steps */
    const uint64_t chunk = 32;                      /* micro-batches per forward pass */
    int scorer = g->pp == g->PP - 1 && g->tp == 0;
    memset(out, 0, n * 2 * sizeof(double));
    nt_batch b = {0};
    for (uint64_t s0 = 0; s0 < steps; s0 += chunk) {
        int nmicro = (int)(steps - s0 < chunk ? steps - s0 : chunk);
        nt_batch_reserve(&b, nmicro * mbs, T, 1, 0);
        b.gbs = (long)((uint64_t)nmicro * per);
        /* global row q = 2k + part of pair-sequence k (epoch 0: k -> pair nt_padded_index(k)) */
        for (int mi = 0; mi < nmicro; mi++)
            for (int j = 0; j < mbs; j++) {
                uint64_t q = (s0 + (uint64_t)mi) * per + (uint64_t)g->dp * mbs + (uint64_t)j;
                int r = mi * mbs + j;
                uint64_t k = q < rows ? q / 2 : 0;
                nt_padded_row row = {.tokens = nt_batch_row(&b, r), .mask = nt_batch_mask(&b, r)};
                nt_padded_get(d, k, (int)(q % 2), &row);
                if (q >= rows) memset(row.mask, 0, (size_t)T + 1);
            }
        nt_modelset_forward_pass(ms, &b, nt_stage_logprobs, NULL, NULL);
        if (scorer)
            for (int mi = 0; mi < nmicro; mi++)
                for (int j = 0; j < mbs; j++) {
                    uint64_t q = (s0 + (uint64_t)mi) * per + (uint64_t)g->dp * mbs + (uint64_t)j;
                    if (q >= rows) continue;
                    out[nt_padded_index(d, q / 2, NULL) * 2 + q % 2] = b.seq_logp[mi * mbs + j];
                }
    }
    nt_batch_free(&b);
    /* one scorer per row: the sum is that value, exactly */
    nt_comm_allreduce_f64(&g->world, out, n * 2, NT_SUM);
}
