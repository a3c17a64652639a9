/* rundir.h — the run directory: created (mkdir -p) only after every input
 * has been validated; small text files written atomically (tmp + rename). */
#ifndef NTRON_RUNDIR_H
#define NTRON_RUNDIR_H
void nt_rundir_create(const char *dir);
void nt_rundir_write(const char *dir, const char *name, const char *text);
/* Whether dir is writable or can be created: writes, fsyncs and removes a
 * small test file in dir or, if it does not exist yet, in its nearest
 * existing ancestor (nothing is created).  0, or -1 with "DIR: ...: OS
 * error" in why (read-only, no space, permission, not a directory). */
#include <stddef.h>
int nt_rundir_probe(const char *dir, char *why, size_t n);
#endif
