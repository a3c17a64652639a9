/* sdg_answer.h — the final answer of a math response, and whether it is
 * the reference answer (the ground truth that ranks preference pairs of
 * prompts with an "answer").  Extraction follows lm-eval's reference
 * functions, tried in order (tests/test_answer.sh runs them on the same
 * texts and compares):
 *   1. boxed: Minerva-math's last_boxed_only_string (the last "\boxed{...}"
 *      with balanced braces, "\boxed X" up to the next '$', or "\fbox{...}")
 *      then remove_boxed (refuses "\fbox": the rule goes on to 2), then
 *      normalize_final_answer (Lewkowycz et al. 2022, appendix D: the text
 *      after the last '=', unit words and TeX spacing removed, $...$,
 *      \text{}, \textbf{}, \overline{}, \boxed{} unwrapped, \fracab and
 *      \sqrta braced, '$' removed, "100,000" -> "100000");
 *   2. answer_is: GSM8K chain-of-thought's strict match, the first
 *      "The answer is (-?[0-9.,]+)." (a character must follow the number,
 *      not a line end: the regex's quirks are kept);
 *   3. last_number: GSM8K's flexible match, the last match of
 *      "(-?[$0-9.,]{2,})|(-?[0-9]+)";
 *   4. none.
 * Matching (our rule): both sides lose blanks, ',', '$', '%' and trailing
 * '.', and are compared as numbers when both parse as one (a decimal,
 * "a/b", "\frac{a}{b}" or "\dfrac{a}{b}"; equal within 1e-6 relative), else
 * as strings, ignoring case. */
#ifndef NTRON_SDG_ANSWER_H
#define NTRON_SDG_ANSWER_H

enum { NT_ANSWER_NONE = 0, NT_ANSWER_BOXED, NT_ANSWER_IS, NT_ANSWER_LAST_NUMBER };

/* the extracted answer (malloc'd; NULL when none); *how: NT_ANSWER_* */
char *nt_answer_extract(const char *text, int *how);
const char *nt_answer_how_name(int how);   /* "boxed", "answer_is", "last_number", "none" */
/* Minerva's normalize_final_answer (malloc'd) */
char *nt_answer_normalize(const char *s);
/* 1: the extracted answer matches the reference, 0: it does not */
int nt_answer_match(const char *answer, const char *reference);
/* whether response's final answer matches reference (extraction + match) */
int nt_answer_correct(const char *response, const char *reference);

#endif
