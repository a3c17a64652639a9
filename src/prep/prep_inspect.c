/* prep_inspect.c — `ntron prep --inspect FILE`: a dataset's kind, sizes,
 * token statistics, tokenizer hash and one decoded sample (serial). */
#include "prep/prep.h"
#include "data/data.h"
#include "data/data_padded.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "prep/prep_format.h"
#include "tokenizer/tokenizer.h"

#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <string.h>

static long long read_attr_i64(hid_t f, const char *name)
{
    long long v = -1;
    if (H5Aexists(f, name) <= 0) return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Aread(a, H5T_NATIVE_LLONG, &v));
    NT_CHECK_H5(H5Aclose(a));
    return v;
}

/* whole dataset into memory as mtype; returns element count */
static void *read_all(const char *path, hid_t f, const char *name, hid_t mtype, size_t esize, uint64_t *n)
{
    *n = 0;
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) nt_input_error("%s: cannot open %s", path, name);
    hid_t s = H5Dget_space(d);
    NT_CHECK_H5(s);
    hssize_t cnt = H5Sget_simple_extent_npoints(s);
    NT_CHECK_H5(cnt);
    void *buf = nt_malloc((size_t)cnt * esize, name);
    if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) nt_input_error("%s: cannot read %s", path, name);
    NT_CHECK_H5(H5Sclose(s));
    NT_CHECK_H5(H5Dclose(d));
    *n = (uint64_t)cnt;
    return buf;
}

int nt_prep_inspect(const char *path, const char *tokspec)
{
    hid_t f = nt_h5_open_data(path);
    char kind[64], tokname[1024], hash[128], source[1024], format[64];
    if (!nt_h5attr_read_str(f, "kind", kind, sizeof kind)) snprintf(kind, sizeof kind, "pretrain (no kind attribute)");
    /* the readers' own validation first (exit 2, one line, on a damaged or
     * foreign file): a padded kind through nt_padded_open, anything else as
     * a pretraining file through nt_dataset_open; no model to check
     * against, so any vocabulary, no tokenizer hash, the file's label count */
    int padded = -1;
    for (int k = NT_PADDED_SFT; k <= NT_PADDED_PREFERENCE; k++)
        if (!strcmp(kind, nt_padded_kind_name((nt_padded_kind)k))) padded = k;
    if (padded >= 0) {
        int nlabels = 0;
        if (padded == NT_PADDED_REWARD && H5Lexists(f, "/labels", H5P_DEFAULT) > 0) {
            hid_t d = H5Dopen2(f, "/labels", H5P_DEFAULT);
            hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
            hsize_t dims[2] = {0, 0};
            if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
            nlabels = (int)dims[1];
            if (sp >= 0) NT_CHECK_H5(H5Sclose(sp));
            if (d >= 0) NT_CHECK_H5(H5Dclose(d));
        }
        nt_padded p;
        nt_padded_open(&p, path, (nt_padded_kind)padded, 1, INT_MAX, "", nlabels, 0);
        nt_padded_close(&p);
    } else {
        nt_dataset d;
        nt_dataset_open(&d, path, 1, INT_MAX, 0);
        nt_dataset_close(&d);
    }
    nt_h5attr_read_str(f, "tokenizer", tokname, sizeof tokname);
    nt_h5attr_read_str(f, "tokenizer_hash", hash, sizeof hash);
    nt_h5attr_read_str(f, "source", source, sizeof source);
    nt_h5attr_read_str(f, "format", format, sizeof format);
    long long vocab = read_attr_i64(f, "vocab_size");
    uint64_t ntok, noff, nmask, nrg, nlab, nrw;
    uint32_t *tok = read_all(path, f, "/tokens", H5T_NATIVE_UINT32, 4, &ntok);
    uint64_t *off = read_all(path, f, "/doc_offsets", H5T_NATIVE_UINT64, 8, &noff);
    if (!tok || !off || noff < 1) nt_input_error("%s: missing /tokens or /doc_offsets (not a ntron dataset?)", path);
    uint8_t *mask = read_all(path, f, "/loss_mask", H5T_NATIVE_UINT8, 1, &nmask);
    uint64_t *rg = read_all(path, f, "/ranges", H5T_NATIVE_UINT64, 8, &nrg);
    float *rw = read_all(path, f, "/rewards", H5T_NATIVE_FLOAT, 4, &nrw);
    int8_t *lab = read_all(path, f, "/labels", H5T_NATIVE_INT8, 1, &nlab);
    uint64_t ns = noff - 1, mn = UINT64_MAX, mx = 0;
    /* the pretraining reader checks only the ends of /doc_offsets (it reads
     * windows of /tokens); the per-sample lengths below need them in order */
    for (uint64_t i = 0; i < ns; i++)
        if (off[i + 1] < off[i])
            nt_input_error("%s: /doc_offsets[%llu] = %llu is less than /doc_offsets[%llu] = %llu (offsets must not "
                           "decrease)", path, (unsigned long long)i + 1, (unsigned long long)off[i + 1],
                           (unsigned long long)i, (unsigned long long)off[i]);
    uint32_t maxid = 0;
    for (uint64_t i = 0; i < ns; i++) {
        uint64_t l = off[i + 1] - off[i];
        if (l < mn) mn = l;
        if (l > mx) mx = l;
    }
    for (uint64_t i = 0; i < ntok; i++) if (tok[i] > maxid) maxid = tok[i];
    printf("file       %s\nkind       %s (format %s)\nsource     %s\n", path, kind, format[0] ? format : "?", source);
    printf("tokenizer  %s\nhash       %s\nvocab      %lld (largest id used %u)\n", tokname, hash, vocab, maxid);
    printf("samples    %llu\ntokens     %llu (per sample: min %llu, mean %.1f, max %llu)\n", (unsigned long long)ns,
           (unsigned long long)ntok, (unsigned long long)(ns ? mn : 0), ns ? (double)ntok / (double)ns : 0.0,
           (unsigned long long)mx);
    if (mask) {
        uint64_t on = 0;
        for (uint64_t i = 0; i < nmask; i++) on += mask[i] != 0;
        printf("loss_mask  %llu of %llu tokens trained on (%.1f%%)\n", (unsigned long long)on,
               (unsigned long long)nmask, nmask ? 100.0 * (double)on / (double)nmask : 0.0);
    }
    if (rg && nrg >= 4) {
        double lp = 0, lc = 0, lr = 0;
        uint64_t np = nrg / 4, have = 0;
        for (uint64_t i = 0; i < np; i++) {
            lp += (double)(rg[4 * i + 1] - rg[4 * i]);
            lc += (double)(rg[4 * i + 2] - rg[4 * i + 1]);
            lr += (double)(rg[4 * i + 3] - rg[4 * i + 2]);
            if (rw && !isnan(rw[2 * i]) && !isnan(rw[2 * i + 1])) have++;
        }
        printf("pairs      %llu: mean tokens prompt %.1f, chosen %.1f, rejected %.1f; %llu with rewards\n",
               (unsigned long long)np, lp / (double)np, lc / (double)np, lr / (double)np, (unsigned long long)have);
    }
    if (lab && nlab >= 5) {
        printf("labels    ");
        for (int a = 0; a < 5; a++) {
            double s = 0;
            for (uint64_t i = 0; i < nlab / 5; i++) s += lab[5 * i + a];
            printf(" %s %.2f", nt_rm_attributes[a], s / (double)(nlab / 5));
        }
        printf(" (means)\n");
    }
    /* decoded sample 0 */
    const char *spec = tokspec ? tokspec : tokname;
    int can = 0;
    if (spec[0]) {
        char h2[65];
        FILE *t = strcmp(spec, "byte") ? fopen(spec, "rb") : NULL;
        if (t) fclose(t);
        if (!strcmp(spec, "byte") || t) {
            nt_tokenizer_hash(spec, h2);
            if (!strcmp(h2, hash)) can = 1;
            else printf("note       tokenizer %s has hash %s, not the dataset's: not decoding\n", spec, h2);
        }
    }
    uint64_t n0 = ns ? off[1] - off[0] : 0, show = n0 < 400 ? n0 : 400;
    if (can && ns) {
        nt_tokenizer t;
        nt_tokenizer_open(&t, spec);
        char *s = nt_tokenizer_decode(&t, tok, show);
        printf("sample 0   (%llu tokens%s):\n%s\n", (unsigned long long)n0, show < n0 ? ", first 400 shown" : "", s);
        if (mask) {
            nt_u32vec v = {0};
            for (uint64_t i = 0; i < show; i++) if (mask[i]) nt_u32vec_push(&v, tok[i]);
            char *m = nt_tokenizer_decode(&t, v.v, v.n);
            printf("trained on (loss_mask = 1):\n%s\n", m);
            free(m);
            free(v.v);
        }
        free(s);
        nt_tokenizer_close(&t);
    } else if (ns) {
        printf("sample 0   ids (no tokenizer to decode with; pass --tokenizer):");
        for (uint64_t i = 0; i < show; i++) printf(" %u", tok[i]);
        printf("\n");
    }
    free(tok); free(off); free(mask); free(rg); free(rw); free(lab);
    NT_CHECK_H5(H5Fclose(f));
    return 0;
}
