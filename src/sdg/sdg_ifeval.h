/* sdg_ifeval.h — the ifeval stage of `ntron sdg` (sdg_ifeval.c): each
 * prompt of the prompt pool (the prompt stages run before it, sdg.prompts)
 * with 1..sdg.ifeval_max verifiable IFEval instructions (ifeval.h) drawn
 * without conflicts, in one of three variants: single (the instructions
 * appended to the prompt), multiturn (the instructions in a first user turn
 * for all the following questions, the generator's acknowledgment, then the
 * question), secondturn (the question, the generator's answer, then a
 * request to revise it so that it follows the instructions).  Its inputs
 * are the prompt pool of sdg_stages.c; its row is in that table. */
#ifndef NTRON_SDG_IFEVAL_H
#define NTRON_SDG_IFEVAL_H

#include "sdg/sdg_stage.h"

void sdg_ifeval_check(const nt_config *c, const nt_deck_info *in);
void sdg_ifeval_settings(const nt_config *c, char *buf, size_t n);
void sdg_ifeval_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st);

/* the kinds of sdg.ifeval_kinds ("all" or blank-separated ids) as registry
 * indices into kinds[25]: their count, or -1 with the unknown id in bad */
int sdg_ifeval_kinds(const char *text, int *kinds, char *bad, size_t badlen);
/* up to max kinds of kinds[0, nk) (1..max of them, drawn from key), none
 * conflicting with another: their registry indices into out; returns the count */
int sdg_ifeval_pick(const int *kinds, int nk, int max, unsigned long long key, int *out);

#endif
