/* sdg_judge.h — the judge stage of `ntron sdg`: LLM-as-judge of the
 * preference pairs of the pairs stage, asked in both orders, against the
 * reward model's judgement (the report compares the two).
 *
 * Each pair goes to the judge (sdg.judge_model, or the generator of
 * checkpoint.load; sdg.judge_temperature) twice through
 * sdg.templates/judge.txt ({question}: the prompt as "User: ..." text,
 * {response_a}, {response_b}): A = chosen, B = rejected, then swapped.
 * Each reply is parsed by sdg_verdict.h's pairwise rule ([[A]], [[B]],
 * [[C]] a tie).  The LLM's verdict on the pair: "chosen", "rejected" or
 * "tie" when both orders say it, "inconsistent" when they differ (a
 * preference for the first position in both orders is "position_bias"),
 * "unparsed" when a reply did not parse (counted, the replies kept in
 * the record, never taken as a verdict).  The reward model's: "chosen"
 * (chosen_reward > rejected_reward), "rejected" or "tie".
 *
 * Files: judge.jsonl (every pair with "llm": both orders' verdicts and
 * replies, the verdict, and "rm"), judge_pairs.jsonl (the pairs the LLM
 * decided, chosen = the response it prefers, "judge": "llm"; `ntron prep
 * --format preference`; judge.h5 with sdg.prep), judge.report.json:
 * counts, consistency, position bias and agreement rates — LLM vs RM, and
 * LLM vs ground truth and RM vs ground truth on the pairs ranked by a
 * reference answer or the verifiers.  Agreement counts a decided LLM
 * verdict that picks the same response; an undecided pair (tie or
 * inconsistent) counts as not agreeing when sdg.judge_disagree = tie,
 * and leaves the denominators when = drop; unparsed pairs always leave
 * them. */
#ifndef NTRON_SDG_JUDGE_H
#define NTRON_SDG_JUDGE_H

#include "sdg/sdg_stage.h"

int sdg_judge_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen);
void sdg_judge_settings(const nt_config *c, char *b, size_t n);
void sdg_judge_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st);
void sdg_judge_finish_pass(sdg_ctx *x, const char *joined, size_t n, cJSON *rep);

#endif
