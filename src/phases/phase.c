/* phase.c — the phase registry: one table of every run.phase name, the
 * built ones pointing at their entry (phase_pretrain.c, phase_rm.c,
 * phase_sft.c, phase_pref.c), the
 * others named with what they will be and refused as not built yet; the
 * common deck check of the training phases; `ntron help phases`. */
#include "phases/phase.h"
#include "infer/infer.h"
#include "sdg/sdg.h"
#include "util/check.h"

#include <string.h>

typedef struct registry_row {
    const char *name;
    const nt_phase *entry;   /* NULL: not built yet */
    const char *what;        /* for unbuilt ones: what it will be */
} registry_row;

static const registry_row registry[] = {
    {"pretrain", &nt_phase_pretrain, NULL},
    {"rm", &nt_phase_rm, NULL},
    {"sft", &nt_phase_sft, NULL},
    {"dpo", &nt_phase_dpo, NULL},
    {"rpo", &nt_phase_rpo, NULL},
    {"generate", NULL, "generation over a checkpoint (ntron generate)"},
    {"score", NULL, "reward-model scores or response log-probs over a checkpoint (ntron score)"},
    {"sdg", NULL, "the synthetic-data pipeline (ntron sdg)"},
};
#define NREG (sizeof registry / sizeof registry[0])

/* run.phase values that are not training phases: inference drivers of
 * their own (src/infer), with their own deck checks */
static const struct {
    const char *name;
    void (*check)(const nt_config *, const nt_deck_info *);
    int (*run)(const nt_config *, const nt_deck_info *);
    int decodes;             /* it generates (a KV cache of generate.batch sequences) */
} drivers[] = {
    {"generate", nt_generate_deck_check, nt_generate_run, 1},
    {"score", nt_score_deck_check, nt_score_run, 0},
    {"sdg", nt_sdg_deck_check, nt_sdg_run, 1},
};
#define NDRIVERS (sizeof drivers / sizeof drivers[0])
static int driver_of(const char *name)
{
    for (size_t i = 0; i < NDRIVERS; i++)
        if (!strcmp(drivers[i].name, name)) return (int)i;
    return -1;
}

int nt_phase_inference(const char *name, int *decodes)
{
    int d = driver_of(name);
    if (decodes) *decodes = d >= 0 && drivers[d].decodes;
    return d >= 0;
}

static void built_list(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < NREG && len + 32 < n; i++)
        if (registry[i].entry || driver_of(registry[i].name) >= 0) len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", registry[i].name);
}

static const registry_row *lookup(const char *name)
{
    for (size_t i = 0; i < NREG; i++)
        if (!strcmp(registry[i].name, name)) return &registry[i];
    return NULL;
}

const nt_phase *nt_phase_find(const char *name)
{
    const registry_row *r = lookup(name);
    char built[256];
    built_list(built, sizeof built);
    if (!r) nt_input_error("run.phase = %s: no such phase (built: %s)", name, built);
    if (!r->entry) nt_input_error("run.phase = %s is not built yet in this version (built: %s)", name, built);
    return r->entry;
}

int nt_phase_dispatch(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha)
{
    int d = driver_of(cfg->phase);
    return d >= 0 ? drivers[d].run(cfg, info) : nt_phase_run(cfg, info, resolved, sha);
}

void nt_phase_deck_check(const nt_config *c, const nt_deck_info *in)
{
    int d = driver_of(c->phase);
    if (d >= 0) { drivers[d].check(c, in); return; }
    const registry_row *r = lookup(c->phase);
    char built[256];
    built_list(built, sizeof built);
    if (!r) nt_deck_bad(in, "run.phase", "%s: no such phase (built: %s)", c->phase, built);
    if (!r->entry) nt_deck_bad(in, "run.phase", "%s is not built yet in this version (built: %s)", c->phase, built);
    const nt_phase *p = r->entry;
    /* every built phase trains */
    if (c->epochs > 0) {
        if (!p->total_steps)
            nt_deck_bad(in, "train.epochs", "phase %s does not count epochs: set train.steps or train.tokens", c->phase);
        if (c->steps > 0 || c->tokens > 0)
            nt_deck_bad(in, "train.epochs", "%g epochs and train.%s > 0 both set the run's length: set train.%s = 0",
                        c->epochs, c->steps > 0 ? "steps" : "tokens", c->steps > 0 ? "steps" : "tokens");
        if (c->n_ramp > 0)
            nt_deck_bad(in, "train.epochs", "counts steps of a constant global batch: no train.ramp with epochs");
    } else if (c->steps == 0 && c->tokens == 0)
        nt_deck_bad(in, "train.steps", "phase %s needs train.steps > 0 or train.tokens > 0%s", c->phase,
                    p->total_steps ? " or train.epochs > 0 (all are 0)" : " (both are 0)");
    if (c->pack && !p->packs)
        nt_deck_bad(in, "data.pack", "phase %s does not pack rows (packing is for phase sft)", c->phase);
    if (strcmp(c->head, p->head) != 0)
        nt_deck_bad(in, "model.head", "phase %s trains %s head: set model.head = %s", c->phase,
                    !strcmp(p->head, "lm") ? "an LM" : "a reward", p->head);
    if (p->check) p->check(c, in);
}

void nt_phase_print_help(FILE *f)
{
    fprintf(f, "run.phase   head     what\n");
    for (size_t i = 0; i < NREG; i++) {
        const nt_phase *p = registry[i].entry;
        int d = driver_of(registry[i].name);
        fprintf(f, "%-11s %-8s %s%s\n", registry[i].name, p ? p->head : d >= 0 ? "ckpt's" : "-",
                p ? p->what : registry[i].what, p || d >= 0 ? "" : " [not built yet]");
    }
}
