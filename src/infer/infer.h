/* infer.h — the inference drivers over a checkpoint (not training phases):
 * `ntron generate DECK` / run.phase = generate (generate.c) and
 * `ntron score DECK` / run.phase = score (score.c), and what they share
 * (infer_common.c): the frozen model set loaded from checkpoint.load with
 * its head checked, prompt files, data-parallel sharding of the input
 * lines and the one output file written in input order. */
#ifndef NTRON_INFER_H
#define NTRON_INFER_H

#include "deck/config.h"
#include "deck/deck.h"
#include "train/modelset.h"
#include "tokenizer/tokenizer.h"

#include <cjson/cJSON.h>

/* deck checks (nt_deck_load, through nt_phase_deck_check); bad input: exit 2 */
void nt_generate_deck_check(const nt_config *cfg, const nt_deck_info *info);
void nt_score_deck_check(const nt_config *cfg, const nt_deck_info *info);
/* the drivers, after MPI_Init and a valid deck; return the exit status */
int nt_generate_run(const nt_config *cfg, const nt_deck_info *info);
int nt_score_run(const nt_config *cfg, const nt_deck_info *info);
/* `ntron generate DECK [--set ...]`, `ntron score DECK [--logprobs] [--set ...]` */
int nt_generate_main(int argc, char **argv);
int nt_score_main(int argc, char **argv);
/* both: `ntron CMD DECK [--set ...]` with run.phase = CMD (generate.c) */
int nt_infer_cmd(const char *cmd, int argc, char **argv, int logprobs_flag);

typedef struct nt_records { int n, cap; char **s; } nt_records;

/* ---- shared by generate.c and score.c (infer_common.c) ---- */

/* The JSON-lines input: every line parsed (an object), on every rank.
 * Bad input (unreadable, malformed line): the message "FILE:LINE: ..." in
 * err (first error only), return -1. */
typedef struct nt_lines {
    int n;
    cJSON **obj;
    int *lineno;
} nt_lines;
int nt_lines_read(nt_lines *l, const char *path, const char *key, char *err, size_t errlen);
void nt_lines_free(nt_lines *l);

/* ---- the generator in process (generate.c): `ntron generate` and the
 * synthetic-data stages (src/sdg) ---- */
typedef struct nt_gen nt_gen;
/* the tokenizer of cfg->tokenizer opened on every rank (bad: reported once,
 * exit 2); the sampling keys ([generate]) taken from cfg (copied) */
nt_gen *nt_gen_create(const nt_config *cfg);
const nt_tokenizer *nt_gen_tokenizer(const nt_gen *g);
/* the softmax temperature of the next runs (0: greedy) */
void nt_gen_set_temperature(nt_gen *g, double t);
/* renders every prompt of in ("messages" ending with a user turn, or raw
 * "prompt" text; the random stream keyed by "id"), in kept by pointer until
 * the next render; the first bad line "LABEL:LINE: why" into err, -1 */
int nt_gen_render(nt_gen *g, const nt_lines *in, const char *label, char *err, size_t errlen);
/* loads checkpoint.load (collective over world); maxp: the longest prompt to
 * prefill (0: the longest rendered one of this rank's share) */
void nt_gen_load(nt_gen *g, const nt_deck_info *info, int maxp);
const nt_grid *nt_gen_grid(const nt_gen *g);
const nt_modelset *nt_gen_modelset(const nt_gen *g);
/* n samples of each rendered prompt of this DP rank (i mod DP = dp): the
 * records of `ntron generate` (the input's fields, "response",
 * "finish_reason", ...) pushed in (prompt, sample) order */
void nt_gen_run(nt_gen *g, int n, nt_records *out);
/* prompt tokens, prefill seconds, decode tokens, decode seconds (this DP group's lead rank; 0 elsewhere) */
void nt_gen_stats(const nt_gen *g, double st[4]);
void nt_gen_free(nt_gen *g);

/* ---- the scorer in process (score.c): `ntron score` and the SDG reward
 * stage; the same steps as the generator's ---- */
typedef struct nt_scorer nt_scorer;
nt_scorer *nt_scorer_create(const nt_config *cfg);
/* "prompt" (messages or a string) and "response" of every line rendered */
int nt_scorer_render(nt_scorer *sc, const nt_lines *in, const char *label, char *err, size_t errlen);
void nt_scorer_load(nt_scorer *sc, const nt_deck_info *info);
const nt_grid *nt_scorer_grid(const nt_scorer *sc);
const nt_modelset *nt_scorer_modelset(const nt_scorer *sc);
long nt_scorer_tokens(const nt_scorer *sc);
/* this DP rank's lines (i mod DP = dp) with "scores" and "reward" (or the
 * log-probs), pushed in order */
void nt_scorer_run(nt_scorer *sc, nt_records *out);
void nt_scorer_free(nt_scorer *sc);

/* Refuses a checkpoint whose head is not `want` ("lm" | "reward"): the
 * head attribute read on rank 0; message in err, return -1. */
int nt_infer_check_head(const char *ckpt, const char *want, const char *cmd, char *err, size_t errlen);
/* Frozen model set over world loaded from cfg->ckpt_load (weights only). */
void nt_infer_load(nt_modelset *ms, const nt_config *cfg, const struct nt_ops *ops);

/* Output records of this DP rank (one malloc'd JSON text per record, in
 * the rank's order); nt_infer_write gathers them to world rank 0, which
 * writes them interleaved in input order (item i of DP rank i % DP holds
 * `per` records each) to path.tmp, fsyncs and renames it to path. */
void nt_records_push(nt_records *r, char *json);
void nt_records_free(nt_records *r);
void nt_infer_write(const nt_modelset *ms, nt_records *r, int nitems, int per, const char *path);
/* rank 0: "CMD deck PATH, resolved sha256 SHA" (the resolved deck's hash, as training runs echo it) */
void nt_infer_echo(const nt_config *cfg, const nt_deck_info *info, const char *cmd);
/* the output path can be created and replaces neither the input nor a
 * checkpoint, nor is a directory: "" or the reason */
int nt_infer_check_output(const char *path, const char *key, const char *input, char *err, size_t errlen);

#endif
