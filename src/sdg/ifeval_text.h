/* ifeval_text.h — the text layer under the IFEval verifiers (ifeval.h):
 * UTF-8 text as code points, Python's str semantics the reference relies on
 * (strip, lower, isupper/islower, re's \w \d \s: ifeval_unicode.c, generated
 * from Python's Unicode data), and the three counts the reference takes
 * from nltk or langdetect:
 *
 *   words      nltk RegexpTokenizer(r"\w+") tokens: maximal runs of \w
 *              characters (exact: the same character class);
 *   sentences  nltk's English punkt (ifeval_punkt.c): the punkt algorithm
 *              itself (candidate contexts, word tokens, first and second
 *              pass, boundary realignment) with its abbreviation,
 *              collocation and sentence-starter lists, and of its
 *              20,366-entry orthographic-context table only what it says of
 *              some 1,600 common words (ifeval_ortho.c): another
 *              capitalised word after an abbreviation, ellipsis or initial
 *              is taken as never seen in lower case (a name), a lower-case
 *              word as seen capitalised (no break);
 *   capitals   tokens of nltk.word_tokenize (punkt sentences, then the
 *              NLTKWordTokenizer rules of nltk 3.9.1) that are str.isupper();
 *   language   Debian's CLD2 (ifeval_lang.cc) for langdetect.detect.
 * Where the approximations differ from the reference is measured by
 * tests/test_ifeval.sh. */
#ifndef NTRON_IFEVAL_TEXT_H
#define NTRON_IFEVAL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- character classes (ifeval_unicode.c, generated) ---- */
int nt_u_word(uint32_t c);    /* re \w */
int nt_u_digit(uint32_t c);   /* re \d */
int nt_u_space(uint32_t c);   /* re \s, str.isspace */
int nt_u_upper(uint32_t c);   /* the flags behind str.isupper()/islower() */
int nt_u_lower(uint32_t c);
int nt_u_title(uint32_t c);
uint32_t nt_u_tolower(uint32_t c);   /* one-character lowercase (U+0130 -> itself) */

/* ---- code-point strings ---- */
typedef struct nt_ustr {
    uint32_t *c;
    size_t n;
} nt_ustr;

/* UTF-8 (invalid bytes as U+FFFD) to code points; never fails (exits on no memory) */
nt_ustr nt_ustr_from(const char *s, size_t len);
nt_ustr nt_ustr_copy(const uint32_t *c, size_t n);
char *nt_ustr_utf8(const uint32_t *c, size_t n);   /* malloc'd */
void nt_ustr_free(nt_ustr *u);
/* str.strip(): [*a, *b) of [0, n) */
void nt_u_strip(const uint32_t *c, size_t n, size_t *a, size_t *b);
/* str.lower() (U+0130 -> "i" U+0307, final sigma), a new string */
nt_ustr nt_u_lower_str(const uint32_t *c, size_t n);
/* str.isupper(), str.islower() */
int nt_u_isupper_str(const uint32_t *c, size_t n);
int nt_u_islower_str(const uint32_t *c, size_t n);
/* re.IGNORECASE equality of two characters (simple lowercase) */
int nt_u_eq_ci(uint32_t a, uint32_t b);

/* ---- the counts ---- */
long nt_ifeval_count_words(const uint32_t *c, size_t n);
long nt_ifeval_count_sentences(const uint32_t *c, size_t n);
long nt_ifeval_count_capital_words(const uint32_t *c, size_t n);
/* punkt sentence spans of text: *spans = malloc'd [start, end) pairs; returns their count */
long nt_ifeval_sentences(const uint32_t *c, size_t n, size_t **spans);

/* ---- punkt's orthographic facts of common words (ifeval_ortho.c, generated) ---- */
extern const char *const nt_punkt_lc_only[];     /* seen in lower case, never capitalised mid-sentence */
extern const int nt_punkt_lc_only_n;
extern const char *const nt_punkt_lc_mid_uc[];   /* seen in lower case and capitalised mid-sentence */
extern const int nt_punkt_lc_mid_uc_n;

/* ---- language (ifeval_lang.cc, CLD2) ---- */
/* the ISO 639-1 code of the language of UTF-8 text into code (CLD2's
 * "iw" given as "he"); 1 when detected, 0 when the text has no letters
 * (langdetect raises: the reference counts the instruction as followed),
 * -1 when CLD2 finds letters but no language ("un") */
int nt_ifeval_language(const char *text, size_t len, char *code, size_t codelen);

#ifdef __cplusplus
}
#endif

#endif
