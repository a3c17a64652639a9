/* sdg_filler.h — polite filler removed from generated user turns (the
 * dialogue and two-turn stages), as the report does for its simulated
 * users.  The rule: the turn is split into sentences (ending at '.', '!'
 * or '?' followed by a blank, or at a line end); leading and trailing
 * sentences that are filler are dropped: a sentence of at most 12 words
 * whose lower-cased text starts with one of the phrases "thank", "thanks",
 * "great", "awesome", "perfect", "wonderful", "excellent", "amazing",
 * "i appreciate", "that's helpful", "that is helpful", "that was helpful",
 * "that's great", "that is great", "nice", "cool", "ok", "okay", "got it",
 * "sounds good".  What is left is the turn (blanks trimmed); a turn that
 * is all filler becomes "" (the caller drops the sample). */
#ifndef NTRON_SDG_FILLER_H
#define NTRON_SDG_FILLER_H

/* malloc'd result; *removed: sentences dropped */
char *nt_filler_strip(const char *turn, int *removed);

#endif
