/* sys.c — the monotonic clock and `mkdir -p` (see sys.h). */
#include "util/sys.h"
#include "util/check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double nt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void mkdir_one(const char *p)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST) nt_die(NT_EXIT_FAIL, "%s: cannot create directory: %s", p, strerror(errno));
}

void nt_mkdirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) nt_die(NT_EXIT_FAIL, "%.64s...: directory name too long", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        mkdir_one(p);
        *s = '/';
    }
    mkdir_one(p);
}
