/* sdg_pairs.h — preference pairs out of scored responses: the responses
 * of one prompt grouped (in the order of the scored file), then ranked.
 * A prompt with a reference "answer" (math) marks each response correct
 * or not (sdg_answer.h: its final answer against the reference), a prompt
 * with IFEval "instructions" by the verifiers (sdg_verifiers.h: every
 * instruction followed, strict); then
 *   - some right, some wrong: chosen = the right response with the
 *     highest reward, rejected = the wrong one with the highest reward
 *     (the wrong answer the reward model likes most), judge "answer" or
 *     "verifiers", whatever their reward gap;
 *   - none right: no pair (nothing to choose);
 *   - all right, or no reference: by the reward model, chosen = the
 *     highest reward, rejected = the lowest, kept when their difference
 *     is above the margin (ties and near-ties make no pair), judge "reward".
 * The record is what `ntron prep --format preference` reads: "prompt",
 * "chosen", "rejected", "chosen_reward", "rejected_reward", plus "id",
 * "judge", "responses" (how many were ranked) and "correct" (how many
 * were right, where there is a reference). */
#ifndef NTRON_SDG_PAIRS_H
#define NTRON_SDG_PAIRS_H

#include <cjson/cJSON.h>

typedef struct nt_pair_result {
    int by_truth;     /* ranked by the reference answer or the verifiers */
    int ranked;       /* responses ranked */
    int correct;      /* responses matching the reference answer */
    int wrong;        /* responses not matching it */
    int no_correct;   /* a reference answer and no response matching it */
} nt_pair_result;

/* scored records (with "source", "prompt", "response", "reward") into
 * groups {id, prompt, answer?, truth?, responses: [{response, reward, correct?}]} appended to out */
void nt_pairs_group(const cJSON *scored, cJSON *out);
/* the pair of one group (NULL: none) */
cJSON *nt_pairs_make(const cJSON *group, double margin, nt_pair_result *pr);

#endif
