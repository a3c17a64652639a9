/* rundir.h — the run directory: created (mkdir -p) only after every input
 * has been validated; small text files written atomically (tmp + rename). */
#ifndef NTRON_RUNDIR_H
#define NTRON_RUNDIR_H
void nt_rundir_create(const char *dir);
void nt_rundir_write(const char *dir, const char *name, const char *text);
#endif
