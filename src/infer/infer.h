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

/* Refuses a checkpoint whose head is not `want` ("lm" | "reward"): the
 * head attribute read on rank 0; message in err, return -1. */
int nt_infer_check_head(const char *ckpt, const char *want, const char *cmd, char *err, size_t errlen);
/* Frozen model set over world loaded from cfg->ckpt_load (weights only). */
void nt_infer_load(nt_modelset *ms, const nt_config *cfg, const struct nt_ops *ops);

/* Output records of this DP rank (one malloc'd JSON text per record, in
 * the rank's order); nt_infer_write gathers them to world rank 0, which
 * writes them interleaved in input order (item i of DP rank i % DP holds
 * `per` records each) to path.tmp, fsyncs and renames it to path. */
typedef struct nt_records { int n, cap; char **s; } nt_records;
void nt_records_push(nt_records *r, char *json);
void nt_records_free(nt_records *r);
void nt_infer_write(const nt_modelset *ms, nt_records *r, int nitems, int per, const char *path);
/* rank 0: "CMD deck PATH, resolved sha256 SHA" (the resolved deck's hash, as training runs echo it) */
void nt_infer_echo(const nt_config *cfg, const nt_deck_info *info, const char *cmd);
/* the output path can be created: "" or the reason */
int nt_infer_check_output(const char *path, const char *key, const char *input, char *err, size_t errlen);

#endif
