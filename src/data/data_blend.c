/* data_blend.c — weighted dataset blends with a token-threshold switch
 * (see data_blend.h), and the tokenizer-hash check at training start. */
#include "data/data_blend.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "util/rng.h"
#include "tokenizer/tokenizer.h"

#include <math.h>
#include <string.h>

int nt_blend_parse(const char *text, nt_blend_item *items, int max, char *err, size_t errlen)
{
    char buf[4096], *save = NULL;
    snprintf(buf, sizeof buf, "%s", text);
    int k = 0;
    for (char *it = strtok_r(buf, " \t", &save); it; it = strtok_r(NULL, " \t", &save)) {
        if (k == max) { snprintf(err, errlen, "more than %d blend items", max); return -1; }
        double w = 1;
        char *colon = strrchr(it, ':');
        if (colon && !strchr(colon + 1, '/')) {
            char *end;
            *colon = '\0';
            w = strtod(colon + 1, &end);
            if (end == colon + 1 || *end || !isfinite(w) || w <= 0) {
                snprintf(err, errlen, "item %d '%s': weight '%s' must be a number > 0", k + 1, it, colon + 1);
                return -1;
            }
        }
        if (!*it || strlen(it) >= sizeof items[k].path) { snprintf(err, errlen, "item %d: bad path", k + 1); return -1; }
        for (int j = 0; j < k; j++)
            if (!strcmp(items[j].path, it)) { snprintf(err, errlen, "'%.400s' is listed twice", it); return -1; }
        snprintf(items[k].path, sizeof items[k].path, "%s", it);
        items[k].weight = w;
        k++;
    }
    return k;
}

static void read_hash(const nt_dataset *d, char out[65])
{
    char buf[128];
    nt_h5attr_read_str(d->file, "tokenizer_hash", buf, sizeof buf);
    snprintf(out, 65, "%.64s", buf);
}

static void check_kind(const nt_dataset *d)
{
    char buf[64];
    nt_h5attr_read_str(d->file, "kind", buf, sizeof buf);
    if (buf[0] && strcmp(buf, "pretrain"))
        nt_input_error("%s: a %s dataset, not a pretraining one (prep it with --format text or jsonl)", d->path, buf);
}

static int find_or_open(nt_blend *b, const char *path, const nt_config *cfg)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->ds[i].path, path)) return i;
    int i = b->n++;
    nt_dataset_open(&b->ds[i], path, cfg->seq_len, cfg->vocab, cfg->seed);
    /* dataset 0 keeps the single-dataset key, so a one-file blend samples as before */
    if (i > 0) b->ds[i].key = nt_rng_u64(b->ds[i].key, 0x5EED0000ull + (uint64_t)i);
    check_kind(&b->ds[i]);
    b->ntokens += b->ds[i].ntokens;
    return i;
}

static void set_phase(nt_blend *b, int ph, const nt_blend_item *items, int n, const nt_config *cfg)
{
    double tot = 0, c = 0;
    for (int j = 0; j < n; j++) tot += items[j].weight;
    for (int j = 0; j < n; j++) {
        b->item_ds[ph][j] = find_or_open(b, items[j].path, cfg);
        c += items[j].weight / tot;
        b->cum[ph][j] = c;
    }
    b->cum[ph][n - 1] = 1.0;
    b->nitems[ph] = n;
}

void nt_blend_open(nt_blend *b, const nt_config *cfg, const nt_deck_info *info)
{
    char w[1200], err[512];
    memset(b, 0, sizeof *b);
    b->switch_sample = UINT64_MAX;
    b->key[0] = nt_rng_key(cfg->seed, "data.blend");
    b->key[1] = nt_rng_key(cfg->seed, "data.blend.switch");
    if (cfg->n_blend < 1) nt_input_error("%s: data.train is empty", nt_deck_where(info, "data.train", w, sizeof w));
    set_phase(b, 0, cfg->blend, cfg->n_blend, cfg);
    nt_blend_item sw[NT_MAX_BLEND];
    int nsw = nt_blend_parse(cfg->switch_blend, sw, NT_MAX_BLEND, err, sizeof err);
    if (nsw < 0) nt_input_error("%s: data.switch_blend: %s", nt_deck_where(info, "data.switch_blend", w, sizeof w), err);
    if ((nsw > 0) != (cfg->switch_at > 0))
        nt_input_error("%s: data.switch_at and data.switch_blend go together (one is set, the other not)",
                       nt_deck_where(info, nsw > 0 ? "data.switch_blend" : "data.switch_at", w, sizeof w));
    if (nsw > 0) {
        set_phase(b, 1, sw, nsw, cfg);
        b->switch_sample = (uint64_t)ceil(cfg->switch_at / (double)cfg->seq_len);
    }
    /* one tokenizer for all, and the deck's when it names one */
    char want[65] = "";
    const char *want_from = NULL;
    if (cfg->tokenizer[0]) {
        nt_tokenizer_hash(cfg->tokenizer, want);
        want_from = cfg->tokenizer;
    }
    for (int i = 0; i < b->n; i++) {
        char h[65];
        read_hash(&b->ds[i], h);
        if (!h[0]) {
            if (want_from)
                nt_input_error("%s: no tokenizer_hash attribute, cannot check it against data.tokenizer = %s (%s)",
                               b->ds[i].path, cfg->tokenizer, nt_deck_where(info, "data.tokenizer", w, sizeof w));
            continue;
        }
        if (!want_from) {
            snprintf(want, sizeof want, "%s", h);
            want_from = b->ds[i].path;
        } else if (strcmp(h, want)) {
            nt_input_error("%s: tokenizer mismatch: the dataset was prepared with tokenizer %.16s..., but %s%s has %.16s... "
                           "(re-prep the data with the deck's tokenizer)",
                           b->ds[i].path, h, want_from == cfg->tokenizer ? "data.tokenizer = " : "", want_from, want);
        }
    }
    snprintf(b->hash, sizeof b->hash, "%s", want);
}

void nt_blend_close(nt_blend *b)
{
    for (int i = 0; i < b->n; i++) nt_dataset_close(&b->ds[i]);
    memset(b, 0, sizeof *b);
}

int nt_blend_pick(const nt_blend *b, uint64_t k)
{
    int ph = k >= b->switch_sample ? 1 : 0;
    int n = b->nitems[ph];
    if (n == 1) return b->item_ds[ph][0];
    double u = nt_rng_uniform(b->key[ph], k);
    int j = 0;
    while (j < n - 1 && u >= b->cum[ph][j]) j++;
    return b->item_ds[ph][j];
}

void nt_blend_sample(nt_blend *b, uint64_t k, int32_t *out)
{
    nt_dataset_sample(&b->ds[nt_blend_pick(b, k)], k, out);
}
