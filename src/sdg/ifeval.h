/* ifeval.h — the IFEval instructions (google-research's
 * instruction_following_eval, as lm-eval 0.4.5 ships it): the registry of
 * the 25 instruction kinds with their arguments, ranges and conflicts
 * (ifeval_registry.c), their wording for a prompt, random draws of their
 * arguments, and their verifiers, strict and loose (ifeval_verify.c, on the
 * text layer of ifeval_text.h).
 *
 * kwargs: a JSON object of the reference's argument names ("num_words",
 * "relation", ...).  args_check holds a deck's kwargs to the ranges the
 * reference draws from (relation "less than" or "at least", num_words
 * 100..500, the 30 language codes, ...); verify needs the arguments present
 * and well typed, not in range.  Keywords (keywords:existence, :frequency,
 * :forbidden_words) are free text matched literally, case-insensitively;
 * the reference compiles them as regular expressions, so args_check refuses
 * the characters that would make a regular expression differ: . ^ $ * + ?
 * { } [ ] \ | ( ). */
#ifndef NTRON_IFEVAL_H
#define NTRON_IFEVAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

int nt_ifeval_kind_count(void);                 /* 25 */
const char *nt_ifeval_kind_id(int k);           /* "keywords:existence", ... */
int nt_ifeval_find(const char *id);             /* index, -1 unknown */
/* 0 ok, else -1 and a one-line reason in err naming the argument and its allowed range */
int nt_ifeval_args_check(const char *id, const cJSON *kwargs, char *err, size_t errlen);
/* whether two kinds conflict (cannot be given together); the reference's
 * INSTRUCTION_CONFLICTS made symmetric, every kind conflicting with itself */
int nt_ifeval_conflicts(const char *a, const char *b);
/* the instruction text, as the reference's build_description words it (malloc'd) */
char *nt_ifeval_describe(const char *id, const cJSON *kwargs);
/* 1 followed, 0 not.  loose: the reference's loose mode (the response with
 * its first line, last line or both removed, each with and without '*';
 * followed if any variant is).  prompt: the user prompt (unused: the
 * reference takes combination:repeat_prompt's text from kwargs'
 * prompt_to_repeat).  Unknown id or kwargs without the kind's arguments: 0. */
int nt_ifeval_verify(const char *id, const cJSON *kwargs, const char *prompt, const char *response, int loose);
/* kwargs for kind id drawn from the reference's ranges, deterministic in
 * key (XXH64 of the key and a counter); a new object ({} for kinds without
 * arguments, NULL for an unknown id).  combination:repeat_prompt's
 * prompt_to_repeat is "" for the caller to set to the prompt. */
cJSON *nt_ifeval_draw(const char *id, unsigned long long key);

/* the reference's word list (ifeval_words.c) */
extern const char *const nt_ifeval_words[];
extern const int nt_ifeval_nwords;

#endif
