/* rundir.c — run directory creation and atomic small-file writes. */
#include "util/rundir.h"
#include "util/check.h"
#include "util/sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void nt_rundir_create(const char *dir) { nt_mkdirs(dir); }

void nt_rundir_write(const char *dir, const char *name, const char *text)
{
    char path[2048], tmp[2100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) nt_die(NT_EXIT_FAIL, "%s: cannot open for writing: %s", tmp, strerror(errno));
    if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
        nt_die(NT_EXIT_FAIL, "%s: write failed: %s", tmp, strerror(errno));
    fclose(f);
    if (rename(tmp, path) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, path, strerror(errno));
}
