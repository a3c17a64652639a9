/* ckpt_commit.c — the checkpoint commit protocol on the file system:
 * iter_NNNNNNN.tmp/ is written, closed and fsync'd, renamed to
 * iter_NNNNNNN/, the parent directory fsync'd, then `latest` (one line,
 * the directory name) is replaced by writing latest.tmp, fsync and rename.
 * A crash at any point leaves the previous checkpoint and `latest` intact.
 * Also: validating `latest` as a pointer and where a run starts
 * (nt_ckpt_resume_point), resolving a user's checkpoint path, pruning to
 * the last K (in the background), and the fault-injection points of the
 * crash tests. */
#include "ckpt/ckpt.h"
#include "util/check.h"
#include "util/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void nt_ckpt_fault(const char *point, long step)
{
    const char *f = getenv("NTRON_FAULT_CKPT_KILL");
    char want[64];
    long at = -1;
    if (f && sscanf(f, "%63[a-z]:%ld", want, &at) == 2 && !strcmp(want, point) && at == step) {
        fprintf(stderr, "ntron: fault injection: SIGKILL at checkpoint point '%s' of step %ld\n", point, step);
        fflush(stderr);
        raise(SIGKILL);
    }
}

void nt_ckpt_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) nt_die(NT_EXIT_FAIL, "%s: cannot open to fsync: %s", path, strerror(errno));
    if (fsync(fd) != 0) nt_die(NT_EXIT_FAIL, "%s: fsync failed: %s", path, strerror(errno));
    NT_CHECK_SYS(close(fd));
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* remove a checkpoint directory (flat: files only); 0 on success.  fatal:
 * die on the first failure, else warn and go on (the background thread,
 * whose leftovers the next save's prepare removes) */
static int remove_tree(const char *path, int fatal)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    char p[4500];
    int bad = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%.4000s/%.255s", path, e->d_name);
        if (unlink(p) != 0) {
            if (fatal) nt_die(NT_EXIT_FAIL, "%s: cannot remove: %s", p, strerror(errno));
            fprintf(stderr, "ntron: warning: cannot remove %s: %s (the next save retries)\n", p, strerror(errno));
            bad = 1;
        }
    }
    closedir(d);
    if (rmdir(path) != 0 && !(bad && !fatal)) {
        if (fatal) nt_die(NT_EXIT_FAIL, "%s: cannot remove: %s", path, strerror(errno));
        fprintf(stderr, "ntron: warning: cannot remove %s: %s (the next save retries)\n", path, strerror(errno));
        bad = 1;
    }
    return bad ? -1 : 0;
}
static void remove_ckpt_dir(const char *path) { remove_tree(path, 1); }
void nt_ckpt_discard(const char *dir) { remove_tree(dir, 0); }

/* ---- background removal --------------------------------------------------
 * A pruned or superseded checkpoint directory is renamed to NAME.del (cheap,
 * atomic) and unlinked by one background thread, so a save does not wait
 * while the file system frees gigabytes (unlinking a 4.3 GB checkpoint took
 * 1.3 s on the 2-core build machine's ext4, a quarter of the save).  The
 * thread is joined before the next save touches the directory and at exit
 * (atexit); a .del left by a crash is removed by the next save's prepare.
 * Only rank 0 touches the file system here. */
#define NT_REAP_MAX 64
static char reap_list[NT_REAP_MAX][4200];
static int reap_n, reap_running;
static pthread_t reaper;

static void *reap_run(void *arg)
{
    (void)arg;
    for (int i = 0; i < reap_n; i++) remove_tree(reap_list[i], 0);
    return NULL;
}

void nt_ckpt_reap_wait(void)
{
    if (reap_running) NT_CHECK(pthread_join(reaper, NULL) == 0, "checkpoint removal thread: pthread_join failed");
    reap_running = 0;
    reap_n = 0;
}

/* rename PATH to PATH.del and queue it for the background thread */
static void retire(const char *path)
{
    if (reap_n == NT_REAP_MAX) { remove_ckpt_dir(path); return; }
    snprintf(reap_list[reap_n], sizeof reap_list[0], "%.4000s.del", path);
    if (rename(path, reap_list[reap_n]) != 0)
        nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", path, reap_list[reap_n], strerror(errno));
    reap_n++;
}

static void reap_start(void)
{
    static int registered;
    if (!reap_n) return;
    if (!registered) { atexit(nt_ckpt_reap_wait); registered = 1; }
    if (pthread_create(&reaper, NULL, reap_run, NULL) == 0) reap_running = 1;
    else { reap_run(NULL); reap_n = 0; }
}

/* a committed checkpoint's directory name: iter_ and at least 7 digits */
static int iter_name(const char *s)
{
    size_t l = strlen(s);
    if (strncmp(s, "iter_", 5) != 0 || l < 12 || l > 40) return 0;
    for (size_t i = 5; i < l; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* `latest` of root: 0 absent; 1 valid (name = a committed checkpoint
 * directory of root: iter_NNNNNNN holding ckpt.h5); -1 not valid, why says
 * what is wrong.  Content: the name, optionally one newline; no path (no
 * '/': never `..`, an absolute path or anything outside root), no empty,
 * binary or multi-line content, not `latest` itself. */
static int latest_check(const char *root, char *name, size_t n, char *why, size_t wn)
{
    char p[4200];
    struct stat st;
    if (n) name[0] = 0;
    snprintf(p, sizeof p, "%.4000s/latest", root);
    if (lstat(p, &st) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(why, wn, "%s: %s", p, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, wn, "%s is not a regular file (it must be a one-line file naming a checkpoint directory)", p);
        return -1;
    }
    char buf[256];
    FILE *f = fopen(p, "rb");
    if (!f) { snprintf(why, wn, "%s: cannot open: %s", p, strerror(errno)); return -1; }
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    buf[len] = 0;
    if (more) { snprintf(why, wn, "%s is longer than a checkpoint directory name", p); return -1; }
    if (len && buf[len - 1] == '\n') buf[--len] = 0;
    if (len && buf[len - 1] == '\r') buf[--len] = 0;
    if (!len) { snprintf(why, wn, "%s is empty (it must name a checkpoint directory)", p); return -1; }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f) {
            snprintf(why, wn, "%s holds a non-printable byte 0x%02x at offset %zu (binary or multi-line; it must be "
                     "one line naming a checkpoint directory)", p, (unsigned char)buf[i], i);
            return -1;
        }
    if (strchr(buf, '/') || !strcmp(buf, "..") || !strcmp(buf, ".")) {
        snprintf(why, wn, "%s names '%s': not a directory name inside %s (no paths, no '..')", p, buf, root);
        return -1;
    }
    if (!strcmp(buf, "latest") || !iter_name(buf)) {
        snprintf(why, wn, "%s names '%s', which is not a checkpoint directory name (iter_NNNNNNN)", p, buf);
        return -1;
    }
    snprintf(p, sizeof p, "%.2000s/%.60s", root, buf);
    if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, wn, "%s/latest names %s, which is not a directory of %s", root, buf, root);
        return -1;
    }
    snprintf(p, sizeof p, "%.2000s/%.60s/%s", root, buf, NT_CKPT_FILE);
    if (!is_file(p)) {
        snprintf(why, wn, "%s/latest names %s, which holds no %s (not a committed checkpoint)", root, buf, NT_CKPT_FILE);
        return -1;
    }
    snprintf(name, n, "%s", buf);
    return 1;
}

int nt_ckpt_latest(const char *root, char *out, size_t n)
{
    char why[1024];
    return latest_check(root, out, n, why, sizeof why) == 1;
}

int nt_ckpt_resolve(const char *path, char *file, size_t n, char *why, size_t wn)
{
    char p[2048], name[256];
    if (is_file(path)) { snprintf(file, n, "%s", path); return 0; }
    if (!is_dir(path)) { snprintf(why, wn, "no such file or directory"); return -1; }
    snprintf(p, sizeof p, "%s/%s", path, NT_CKPT_FILE);
    if (is_file(p)) { snprintf(file, n, "%s", p); return 0; }
    int r = latest_check(path, name, sizeof name, why, wn);
    if (r > 0) {
        snprintf(file, n, "%.1900s/%s/%s", path, name, NT_CKPT_FILE);
        return 0;
    }
    if (r < 0) return -1;
    snprintf(why, wn, "directory holds neither %s nor a 'latest' pointer (not a ntron checkpoint)", NT_CKPT_FILE);
    return -1;
}

/* iter_NNNNNNN directory names in root (finished ones: no .tmp), sorted */
static int list_iters(const char *root, char names[][64], int cap)
{
    DIR *d = opendir(root);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "iter_", 5) != 0 || l != 12 || l >= 64) continue;
        snprintf(names[n++], 64, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

int nt_ckpt_resume_point(const nt_comm *world, const char *dir, int overwrite, char *out, size_t n)
{
    char err[4096] = "", name[256] = "", why[2048];
    if (world->rank == 0 && dir[0]) {
        int r = latest_check(dir, name, sizeof name, why, sizeof why);
        if (r < 0) snprintf(err, sizeof err, "checkpoint.dir: %s", why);
        else if (r == 0 && !overwrite) {
            /* committed checkpoints but no pointer: a fresh run would prune and overwrite them */
            static char names[4096][64];
            int k = list_iters(dir, names, 4096), newest = -1;
            char p[4200];
            for (int i = 0; i < k; i++) {
                snprintf(p, sizeof p, "%.2000s/%.60s/%s", dir, names[i], NT_CKPT_FILE);
                if (iter_name(names[i]) && is_file(p)) newest = i;
            }
            if (newest >= 0)
                snprintf(err, sizeof err, "checkpoint.dir %s holds committed checkpoints (newest %s) but no 'latest' "
                         "pointer: not starting fresh over them; to resume from it: echo %s > %s/latest; to start "
                         "over: checkpoint.overwrite = true", dir, names[newest], names[newest], dir);
        }
    }
    nt_comm_agree(world, NT_EXIT_INPUT, err);
    nt_comm_bcast(world, name, sizeof name, 0);
    snprintf(out, n, "%s", name);
    return name[0] != 0;
}

void nt_ckpt_prepare(const nt_grid *g, const char *dir, const char *name)
{
    if (g->world.rank == 0) {
        nt_ckpt_reap_wait();
        nt_mkdirs(dir);
        char p[4096];
        DIR *d = opendir(dir);
        if (!d) nt_die(NT_EXIT_FAIL, "%s: cannot open directory: %s", dir, strerror(errno));
        struct dirent *e;
        char stale[64][256];
        int ns = 0;
        while ((e = readdir(d)) && ns < 64) {
            size_t l = strlen(e->d_name);
            int tmp = !strncmp(e->d_name, "iter_", 5) && l > 4 &&
                      (!strcmp(e->d_name + l - 4, ".tmp") || !strcmp(e->d_name + l - 4, ".del"));
            /* finished checkpoints newer than this one: left by a crash between rename and `latest` */
            int newer = !strncmp(e->d_name, "iter_", 5) && l == 12 && strcmp(e->d_name, name) > 0;
            if (tmp || newer) snprintf(stale[ns++], 256, "%s", e->d_name);
        }
        closedir(d);
        for (int i = 0; i < ns; i++) {
            snprintf(p, sizeof p, "%.2000s/%.200s", dir, stale[i]);
            remove_ckpt_dir(p);
        }
        snprintf(p, sizeof p, "%.2000s/%.200s.tmp", dir, name);
        if (mkdir(p, 0755) != 0) nt_die(NT_EXIT_FAIL, "%s: cannot create directory: %s", p, strerror(errno));
    }
    nt_comm_barrier(&g->world);
}

void nt_ckpt_commit(const nt_grid *g, long step, const char *dir, const char *name, int keep)
{
    nt_comm_barrier(&g->world);
    if (g->world.rank == 0) {
        nt_ckpt_reap_wait();
        char tmp[4096], fin[4096], p[4096];
        snprintf(tmp, sizeof tmp, "%.2000s/%.200s.tmp", dir, name);
        snprintf(fin, sizeof fin, "%.2000s/%.200s", dir, name);
        snprintf(p, sizeof p, "%.3000s/%s", tmp, NT_CKPT_FILE);
        nt_ckpt_fsync_path(p);
        nt_ckpt_fsync_path(tmp);
        struct stat st;
        char cur[256];
        if (stat(fin, &st) == 0) {   /* the same step saved before: keep the committed copy if `latest` names it */
            if (nt_ckpt_latest(dir, cur, sizeof cur) && !strcmp(cur, name)) {
                retire(tmp);
                reap_start();
                goto done;
            }
            retire(fin);
        }
        if (rename(tmp, fin) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, fin, strerror(errno));
        nt_ckpt_fsync_path(dir);
        nt_ckpt_fault("renamed", step);
        /* latest: write, fsync, rename (atomic replacement) */
        char lt[4096], lf[4096];
        snprintf(lt, sizeof lt, "%.2000s/latest.tmp", dir);
        snprintf(lf, sizeof lf, "%.2000s/latest", dir);
        FILE *f = fopen(lt, "w");
        if (!f) nt_die(NT_EXIT_FAIL, "%s: cannot open for writing: %s ('latest' still names the previous checkpoint)", lt, strerror(errno));
        if (fprintf(f, "%s\n", name) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
            int e = errno;
            unlink(lt);   /* `latest` itself is untouched */
            nt_die(NT_EXIT_FAIL, "%s: write failed: %s ('latest' still names the previous checkpoint)", lt, strerror(e));
        }
        if (rename(lt, lf) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", lt, lf, strerror(errno));
        nt_ckpt_fsync_path(dir);
        /* keep the last `keep` (never the one `latest` names) */
        static char names[4096][64];
        int n = list_iters(dir, names, 4096);
        for (int i = 0; i < n - keep; i++) {
            if (!strcmp(names[i], name)) continue;
            snprintf(p, sizeof p, "%.2000s/%.60s", dir, names[i]);
            retire(p);
        }
        reap_start();
    }
done:
    nt_comm_barrier(&g->world);
}
