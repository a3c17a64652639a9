/* sdg_verdict.h — the parse rules of an LLM judge's reply (the genetic
 * stage's fitness, the judge stage's pairwise preference).
 *
 * A solution verdict (sdg.templates/genetic_judge.txt asks for it):
 *   Score:   the LAST "score" (any case) followed by optional blanks, one
 *            of ':' '=' or the word "is", optional blanks and '[', then a
 *            number (digits, optionally '.' digits), optionally "/ D" (the
 *            score is then value / D x scale).  Parsed only when such a
 *            number is found and lies in [0, scale] — anything else
 *            (no score, a score beyond the scale, "/0") is "unparsed".
 *   Correct: the LAST "correct" (any case, not part of "incorrect")
 *            followed by optional blanks and ':' then yes / no / true /
 *            false: 1 or 0; -1 when the reply does not say.
 *   Reason:  the text after the LAST "reason:" (any case) to the end of
 *            its line, trimmed, at most 400 bytes; "" when absent.
 * A pairwise verdict (sdg.templates/judge.txt asks for it, MT-Bench's
 * convention): the LAST of "[[A]]", "[[B]]", "[[C]]" or "[[tie]]" (any
 * case) in the reply: 'A', 'B', 'C' (a tie), or 0 (unparsed). */
#ifndef NTRON_SDG_VERDICT_H
#define NTRON_SDG_VERDICT_H

typedef struct nt_verdict {
    int parsed;          /* a score in [0, scale] was found */
    double score;        /* on the scale */
    int correct;         /* 1, 0, or -1 (not said) */
    char reason[401];
    char why[128];       /* when not parsed: what was wrong */
} nt_verdict;

void nt_verdict_parse(const char *reply, double scale, nt_verdict *v);
int nt_verdict_pair(const char *reply);

#endif
