/* sdg_genetic.h — the genetic stage of `ntron sdg` (Genetic Instruct, the
 * report's code-SFT data): instructions evolved from seed (instruction,
 * solution) pairs over sdg.generations passes, an LLM judge the fitness.
 *
 * Generation r (pass RUNDIR/genetic.gNN.*) makes sdg.population
 * individuals from the parents: the seeds and every solution kept by
 * generations 1..r-1, at most sdg.pool_max of them (the fittest by judge
 * score; seeds count as 10; ties: the older).  Individual i of generation
 * r draws, from the random stream keyed by ("genetic/gNN", run.seed) at
 * i: an operator of sdg.operators by weight, a parent by a tournament of
 * two (the fitter; a tie: the first drawn), and sdg.examples - 1
 * further distinct parents for {examples}.  Then three generator calls:
 *   1. the operator's template genetic_OP.txt ({instruction}, {solution}
 *      of the parent, {examples}: "1. ..." the parents' instructions) ->
 *      the new instruction (trimmed; a leading "New instruction:",
 *      "Instruction:", "New task:" or "Task:" label removed);
 *   2. the instruction as the user turn -> the solution;
 *   3. genetic_judge.txt ({instruction}, {solution}) to the judge
 *      (sdg.judge_model, or the generator; sdg.judge_temperature) -> the
 *      verdict, parsed by sdg_verdict.h's rule.
 * Status of an individual: "empty" (no instruction or no solution),
 * "unparsed" (the verdict did not parse: counted, its reply in the record
 * and the report, never kept), "incorrect" (Correct: no), "below" (score
 * below sdg.judge_threshold) or "accepted".  An accepted instruction
 * whose MinHash similarity (sdg_minhash.h, sdg.dedup_ngram) to a seed or
 * an earlier kept one reaches sdg.dedup_threshold is a "duplicate"; the
 * others are kept and join the parents.
 *
 * Files: genetic.gNN.jsonl (every individual of generation NN, with its
 * lineage, verdict and status), genetic.gNN.report.json (the driver's
 * counts and "genetic": population, acceptance, the score histogram, the
 * operator mix); after the last generation genetic.jsonl (the kept pairs
 * as chat records for `ntron prep --format chat`, with "seed",
 * "generation", "operator", "parent", "judge_score", "judge_reason") and
 * genetic.report.json (every generation's numbers, the totals). */
#ifndef NTRON_SDG_GENETIC_H
#define NTRON_SDG_GENETIC_H

#include "sdg/sdg_stage.h"

void sdg_genetic_check(const nt_config *c, const nt_deck_info *in);
/* the seed file read and checked (the first problem "FILE:LINE: ..." into err, -1) */
int sdg_genetic_seeds(const char *path, cJSON *arr, char *err, size_t errlen);
int sdg_genetic_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen);
void sdg_genetic_settings(const nt_config *c, char *b, size_t n);
void sdg_genetic_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st);
int sdg_genetic_rounds(const nt_config *c);
void sdg_genetic_finish_pass(sdg_ctx *x, const char *joined, size_t n, cJSON *rep);
void sdg_genetic_finish(sdg_ctx *x);

#endif
