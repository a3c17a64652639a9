/* sys.h — the small system helpers every part shares.
 *
 * Owns: the monotonic clock in seconds (nt_now) and `mkdir -p` (nt_mkdirs).
 * Anything timing an interval or creating a directory tree uses these, not
 * its own copy. */
#ifndef NTRON_SYS_H
#define NTRON_SYS_H

/* Seconds on CLOCK_MONOTONIC (for intervals; not wall-clock time). */
double nt_now(void);

/* Create dir and every missing parent (mode 0755); an existing directory is
 * fine.  Any other failure: "ntron: PATH: cannot create directory: ..." and
 * exit NT_EXIT_FAIL. */
void nt_mkdirs(const char *dir);

#endif
