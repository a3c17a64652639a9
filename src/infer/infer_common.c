/* infer_common.c — what the inference drivers share (see infer.h): the
 * JSON-lines input, the checkpoint's head, the frozen model set, and the
 * one output file in input order gathered from the data-parallel ranks. */
#define _POSIX_C_SOURCE 200809L
#include "infer/infer.h"
#include "ckpt/ckpt.h"
#include "prep/prep_format.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "util/json.h"
#include "util/sha256.h"

#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nt_lines_read(nt_lines *l, const char *path, const char *key, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (!path[0]) return nt_fail(err, errlen, "%s is empty: name the JSON-lines input file", key);
    FILE *f = fopen(path, "rb");
    if (!f) return nt_fail(err, errlen, "%s = %s: cannot open: %s", key, path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return nt_fail(err, errlen, "%s = %s: not a regular file", key, path);
    }
    size_t cap = 0, len = 0;
    char *buf = NULL;
    ssize_t got;
    int lineno = 0, capn = 0, rc = 0;
    while ((got = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        len = (size_t)got;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
        size_t k = 0;
        while (k < len && (buf[k] == ' ' || buf[k] == '\t')) k++;
        if (k == len) continue;   /* blank line */
        char why[512];
        if (!nt_utf8_check(buf, len, why, sizeof why)) { rc = nt_fail(err, errlen, "%s:%d: %s", path, lineno, why); break; }
        cJSON *o = nt_json_parse(buf, len, why, sizeof why);
        if (!o) { rc = nt_fail(err, errlen, "%s:%d: %s", path, lineno, why); break; }
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            rc = nt_fail(err, errlen, "%s:%d: expected a JSON object", path, lineno);
            break;
        }
        if (l->n == capn) {
            capn = capn ? 2 * capn : 64;
            l->obj = realloc(l->obj, (size_t)capn * sizeof *l->obj);
            l->lineno = realloc(l->lineno, (size_t)capn * sizeof *l->lineno);
            NT_CHECK(l->obj && l->lineno, "out of memory reading %s", path);
        }
        l->obj[l->n] = o;
        l->lineno[l->n++] = lineno;
    }
    if (!rc && ferror(f)) rc = nt_fail(err, errlen, "%s = %s: read error: %s", key, path, strerror(errno));
    free(buf);
    fclose(f);
    if (!rc && l->n == 0) rc = nt_fail(err, errlen, "%s = %s: no JSON lines in the file", key, path);
    if (rc) nt_lines_free(l);
    return rc;
}

void nt_lines_free(nt_lines *l)
{
    for (int i = 0; i < l->n; i++) cJSON_Delete(l->obj[i]);
    free(l->obj);
    free(l->lineno);
    memset(l, 0, sizeof *l);
}

int nt_infer_check_head(const char *ckpt, const char *want, const char *cmd, char *err, size_t errlen)
{
    char file[NT_PATH_MAX + 64], why[512];
    if (!ckpt[0]) return nt_fail(err, errlen, "checkpoint.load is empty: %s needs a checkpoint", cmd);
    if (nt_ckpt_resolve(ckpt, file, sizeof file, why, sizeof why) != 0)
        return nt_fail(err, errlen, "checkpoint.load = %s: %s", ckpt, why);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    NT_CHECK_H5(fapl);
    hid_t f = -1;
    H5E_BEGIN_TRY { f = H5Fopen(file, H5F_ACC_RDONLY, fapl); } H5E_END_TRY;
    NT_CHECK_H5(H5Pclose(fapl));
    if (f < 0) return nt_fail(err, errlen, "checkpoint %s: not an HDF5 file", file);
    char head[32];
    if (!nt_h5attr_read_str(f, "head", head, sizeof head)) {   /* absent: the default LM head; present but unreadable: "?" */
        htri_t has = H5Aexists(f, "head");
        NT_CHECK_H5(has);
        snprintf(head, sizeof head, "%s", has ? "?" : "lm");
    }
    NT_CHECK_H5(H5Fclose(f));
    if (strcmp(head, want) != 0)
        return nt_fail(err, errlen, "checkpoint %s has a %s head; %s needs a checkpoint with %s", file,
                    !strcmp(head, "reward") ? "reward" : !strcmp(head, "lm") ? "language-model (LM)" : head, cmd,
                    !strcmp(want, "lm") ? "an LM head (model.head = lm)" : "a reward head (model.head = reward)");
    return 0;
}

void nt_infer_load(nt_modelset *ms, const nt_config *cfg, const nt_ops *ops)
{
    nt_modelset_init(ms, cfg, ops, MPI_COMM_WORLD, 0);
    nt_ckpt_load(ms, NULL, cfg->ckpt_load, NULL);
}

void nt_records_push(nt_records *r, char *json)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->s = realloc(r->s, (size_t)r->cap * sizeof *r->s);
        NT_CHECK(r->s, "out of memory for output records");
    }
    r->s[r->n++] = json;
}

void nt_records_free(nt_records *r)
{
    for (int i = 0; i < r->n; i++) free(r->s[i]);
    free(r->s);
    memset(r, 0, sizeof *r);
}

int nt_infer_check_output(const char *path, const char *key, const char *input, char *err, size_t errlen)
{
    if (!path[0]) return nt_fail(err, errlen, "%s is empty: name the output file", key);
    struct stat a, b;
    if (stat(path, &a) == 0 && stat(input, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return nt_fail(err, errlen, "%s = %s is the input file", key, path);
    if (stat(path, &a) == 0 && S_ISDIR(a.st_mode)) return nt_fail(err, errlen, "%s = %s is a directory", key, path);
    if (stat(path, &a) == 0 && S_ISREG(a.st_mode) && nt_ckpt_is_file(path))
        return nt_fail(err, errlen, "%s = %s is a ntron checkpoint: refusing to replace it", key, path);
    char *dup = strdup(path);
    NT_CHECK(dup, "out of memory");
    const char *dir = dirname(dup);
    int ok = stat(dir, &a) == 0 && S_ISDIR(a.st_mode) && access(dir, W_OK) == 0;
    int rc = ok ? 0 : nt_fail(err, errlen, "%s = %s: directory %s does not exist or is not writable", key, path, dir);
    free(dup);
    return rc;
}

void nt_infer_write(const nt_modelset *ms, nt_records *r, int nitems, int per, const char *path)
{
    const nt_grid *g = &ms->grid;
    if (g->tp != 0 || g->pp != 0) return;   /* every model-parallel rank of a DP group holds the same records */
    const nt_comm *dp = &g->dp_comm;
    /* this rank's records back to back, NUL-separated */
    size_t bytes = 0;
    for (int i = 0; i < r->n; i++) bytes += strlen(r->s[i]) + 1;
    NT_CHECK(bytes < (size_t)1 << 31, "output of one rank beyond 2 GiB: use more data-parallel ranks");
    char *mine = nt_malloc(bytes ? bytes : 1, "output records");
    size_t off = 0;
    for (int i = 0; i < r->n; i++) {
        size_t l = strlen(r->s[i]) + 1;
        memcpy(mine + off, r->s[i], l);
        off += l;
    }
    int cnt = (int)bytes, *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (dp->rank == 0) {
        counts = nt_malloc((size_t)dp->size * sizeof(int), "gather counts");
        displs = nt_malloc((size_t)dp->size * sizeof(int), "gather displacements");
    }
    NT_CHECK_MPI(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, dp->mpi));
    if (dp->rank == 0) {
        long total = 0;
        for (int k = 0; k < dp->size; k++) { displs[k] = (int)total; total += counts[k]; }
        NT_CHECK(total < (long)1 << 31, "output beyond 2 GiB");
        all = nt_malloc((size_t)(total ? total : 1), "gathered output");
    }
    NT_CHECK_MPI(MPI_Gatherv(mine, cnt, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, dp->mpi));
    free(mine);
    if (dp->rank == 0) {
        int D = dp->size;
        size_t *cur = nt_calloc((size_t)D, sizeof(size_t), "output cursors");
        char tmp[NT_PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f) nt_die(NT_EXIT_FAIL, "cannot create %s: %s", tmp, strerror(errno));
        for (int i = 0; i < nitems; i++) {
            int k = i % D;
            for (int j = 0; j < per; j++) {
                NT_CHECK(cur[k] < (size_t)counts[k], "internal: DP rank %d sent too few records", k);
                const char *s = all + displs[k] + cur[k];
                size_t l = strlen(s);
                if (fwrite(s, 1, l, f) != l || fputc('\n', f) == EOF)
                    nt_die(NT_EXIT_FAIL, "writing %s: %s", tmp, strerror(errno));
                cur[k] += l + 1;
            }
        }
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) nt_die(NT_EXIT_FAIL, "writing %s: %s", tmp, strerror(errno));
        NT_CHECK_SYS(fclose(f));
        NT_CHECK_SYS(rename(tmp, path));
        free(cur);
        free(all);
        free(counts);
        free(displs);
    }
}

void nt_infer_echo(const nt_config *cfg, const nt_deck_info *info, const char *cmd)
{
    if (!nt_rank0()) return;
    char *text = nt_deck_resolved_text(cfg);
    char sha[65];
    nt_sha256_hex(text, strlen(text), sha);
    printf("%s deck %s, resolved sha256 %s\n", cmd, info->path, sha);
    free(text);
}
