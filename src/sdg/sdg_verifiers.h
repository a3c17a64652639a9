/* sdg_verifiers.h — the IFEval verifiers applied to generated responses:
 * whether a response follows every instruction of its prompt (what ranks
 * the preference pairs of instruction-following prompts) and the pass
 * rates per instruction kind that the stage reports give. */
#ifndef NTRON_SDG_VERIFIERS_H
#define NTRON_SDG_VERIFIERS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* rec: a record with "instructions" ([{id, kwargs}]), "prompt" (messages
 * or text) and "response"; 1 when the response follows every instruction
 * (strict, or loose), 0 when not, -1 when rec has no instructions */
int nt_verifiers_followed(const cJSON *rec, int loose);
/* the pass rates of the records of a stage output (JSON lines) that carry
 * instructions and a response: {"responses", "prompt_level": {strict,
 * loose}, "kinds": {ID: {n, strict, loose}}}; NULL when none does */
cJSON *nt_verifiers_report(const char *jsonl, size_t len);

#endif
