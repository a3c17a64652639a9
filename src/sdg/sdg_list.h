/* sdg_list.h — the rule that turns a generated text into list items (the
 * topics, subtopics, questions, tasks and problems the generator is asked
 * to list).  The rule, in order:
 *   1. JSON: the first '[' whose bracketed text parses as a JSON array
 *      gives its string items (other items are skipped);
 *   2. else marked lines: a line whose first non-blank characters are a
 *      number with '.', ')' or ':' ("1.", "2)", "3:"), or a bullet '-',
 *      '*', '+' or "•" followed by a blank or the line end, starts an item (the marker and
 *      blanks removed); an unmarked non-blank line right after an item
 *      continues it (joined by one space); a blank line ends the item;
 *      lines before the first item (a preamble) are ignored;
 *   3. no JSON array and no marked line: no items (the text is not a list).
 * Every item then loses surrounding blanks, **bold** or __bold__ markup
 * around the whole item, and matching surrounding quotes; empty items and
 * repeats (compared case-insensitively, blanks collapsed) are dropped;
 * at most `max` items are kept (0: all). */
#ifndef NTRON_SDG_LIST_H
#define NTRON_SDG_LIST_H

typedef struct nt_list_stats {
    int repeats;   /* items dropped as repeats */
    int cut;       /* items beyond max */
} nt_list_stats;

/* returns the number of items (*items: malloc'd array of malloc'd strings) */
int nt_list_parse(const char *text, int max, char ***items, nt_list_stats *st);
void nt_list_free(char **items, int n);
/* the comparison key of an item: lower case, blanks collapsed (malloc'd) */
char *nt_list_key(const char *s);

#endif
