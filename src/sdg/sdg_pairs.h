/* sdg_pairs.h — preference pairs out of scored responses: the responses
 * of one prompt grouped (in the order of the scored file), then ranked:
 * chosen = the highest reward, rejected = the lowest, kept when their
 * difference is above the margin (ties and near-ties make no pair).  The
 * record is what `ntron prep --format preference` reads: "prompt",
 * "chosen", "rejected", "chosen_reward", "rejected_reward", plus "id",
 * "judge" and "responses" (how many were ranked). */
#ifndef NTRON_SDG_PAIRS_H
#define NTRON_SDG_PAIRS_H

#include <cjson/cJSON.h>

typedef struct nt_pair_result {
    int by_truth;     /* ranked by a reference answer (not yet: always 0) */
    int ranked;       /* responses ranked */
} nt_pair_result;

/* scored records (with "source", "prompt", "response", "reward") into
 * groups {id, prompt, answer?, responses: [{response, reward}]} appended to out */
void nt_pairs_group(const cJSON *scored, cJSON *out);
/* the pair of one group (NULL: none) */
cJSON *nt_pairs_make(const cJSON *group, double margin, nt_pair_result *pr);

#endif
