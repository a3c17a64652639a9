/* rundir.c — run directory creation, atomic small-file writes and the
 * writability probe of an output directory. */
#include "util/rundir.h"
#include "util/check.h"
#include "util/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

int nt_rundir_probe(const char *dir, char *why, size_t n)
{
    /* the directory, or the nearest ancestor it would be created in:
     * nothing is created here (a run refused later leaves no directory) */
    char p[2048];
    struct stat st;
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) { snprintf(why, n, "%.64s...: name too long", dir); return -1; }
    for (;;) {
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) break;
            snprintf(why, n, "%s: cannot be created: %s is not a directory", dir, p);
            return -1;
        }
        if (errno != ENOENT) { snprintf(why, n, "%s: %s: %s", dir, p, strerror(errno)); return -1; }
        char *sl = strrchr(p, '/');
        while (sl && sl > p && sl[1] == 0) { *sl = 0; sl = strrchr(p, '/'); }   /* trailing slashes */
        if (!sl) { snprintf(p, sizeof p, "."); continue; }
        if (sl == p) { p[1] = 0; continue; }
        *sl = 0;
    }
    int self = strcmp(p, dir) == 0;
    char path[2100], what[2200];
    static char block[4096];
    if (self) snprintf(what, sizeof what, "%s: not writable", dir);
    else snprintf(what, sizeof what, "%s: cannot be created: %s is not writable", dir, p);
    snprintf(path, sizeof path, "%.2000s/.ntron-write-test.%d", p, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) { snprintf(why, n, "%s: cannot create a file in it: %s", what, strerror(errno)); return -1; }
    int ok = write(fd, block, sizeof block) == (ssize_t)sizeof block && fsync(fd) == 0;
    int err = errno;
    close(fd);
    unlink(path);
    if (!ok) { snprintf(why, n, "%s: writing a %zu-byte test file failed: %s", what, sizeof block, strerror(err)); return -1; }
    return 0;
}
