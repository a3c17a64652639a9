/* sdg_template.c — prompt templates: load, check, render (see sdg_template.h). */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg_template.h"
#include "util/check.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_index(const char *const *names, const char *s, size_t n)
{
    for (int i = 0; names && names[i]; i++)
        if (strlen(names[i]) == n && !strncmp(names[i], s, n)) return i;
    return -1;
}

/* walks the text: calls put(text, n) for literal runs and ph(index) for
 * placeholders; on a bad one the reason into err, -1 */
typedef void (*put_fn)(void *u, const char *s, size_t n);
typedef void (*ph_fn)(void *u, int i);
static int walk(const nt_template *t, const char *const *names, put_fn put, ph_fn ph, void *u, char *err, size_t errlen)
{
    const char *s = t->text;
    int line = 1;
    for (size_t i = 0; s[i];) {
        if (s[i] == '{' && s[i + 1] == '{') { put(u, "{", 1); i += 2; continue; }
        if (s[i] == '}' && s[i + 1] == '}') { put(u, "}", 1); i += 2; continue; }
        if (s[i] == '}') return nt_fail(err, errlen, "%s:%d: a lone '}' (write }} for a literal brace)", t->path, line);
        if (s[i] == '{') {
            size_t j = i + 1;
            while (isalnum((unsigned char)s[j]) || s[j] == '_') j++;
            if (s[j] != '}' || j == i + 1)
                return nt_fail(err, errlen, "%s:%d: a '{' that does not open a {name} placeholder (write {{ for a literal brace)",
                            t->path, line);
            int k = name_index(names, s + i + 1, j - i - 1);
            if (k < 0) {
                char known[512] = "";
                size_t len = 0;
                for (int q = 0; names && names[q] && len + 40 < sizeof known; q++)
                    len += (size_t)snprintf(known + len, sizeof known - len, "%s{%s}", q ? ", " : "", names[q]);
                return nt_fail(err, errlen, "%s:%d: unknown placeholder {%.*s} (this stage fills %s)", t->path, line,
                            (int)(j - i - 1), s + i + 1, len ? known : "none");
            }
            ph(u, k);
            i = j + 1;
            continue;
        }
        size_t j = i;
        while (s[j] && s[j] != '{' && s[j] != '}') { if (s[j] == '\n') line++; j++; }
        put(u, s + i, j - i);
        i = j;
    }
    return 0;
}

static void put_none(void *u, const char *s, size_t n) { (void)u; (void)s; (void)n; }
static void ph_mark(void *u, int i) { ((int *)u)[i] = 1; }

int nt_template_load(nt_template *t, const char *path, const char *const *names, const char *const *required,
                     char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) return nt_fail(err, errlen, "template %s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    t->text = nt_malloc(cap, "template text");
    size_t got;
    while ((got = fread(t->text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            t->text = realloc(t->text, cap);
            NT_CHECK(t->text, "out of memory for a template");
        }
    }
    int rerr = ferror(f);
    fclose(f);
    t->text[n] = 0;
    if (rerr) { nt_template_free(t); return nt_fail(err, errlen, "template %s: read error", path); }
    if (strlen(t->text) != n) { nt_template_free(t); return nt_fail(err, errlen, "template %s: holds a NUL byte", path); }
    while (n && isspace((unsigned char)t->text[n - 1])) t->text[--n] = 0;   /* a final newline is not part of the prompt */
    if (!n) { nt_template_free(t); return nt_fail(err, errlen, "template %s is empty", path); }
    int used[64] = {0};
    int nn = 0;
    while (names && names[nn]) nn++;
    NT_CHECK(nn <= 64, "internal: too many placeholders");
    if (walk(t, names, put_none, ph_mark, used, err, errlen)) { nt_template_free(t); return -1; }
    for (int i = 0; required && required[i]; i++) {
        int k = name_index(names, required[i], strlen(required[i]));
        NT_CHECK(k >= 0, "internal: required placeholder %s not among the names", required[i]);
        if (!used[k]) {
            nt_fail(err, errlen, "template %s does not use {%s} (every prompt of the stage would be the same)", path,
                 required[i]);
            nt_template_free(t);
            return -1;
        }
    }
    return 0;
}

typedef struct buf { nt_strbuf t; const char *const *values; } buf;
static void put_buf(void *u, const char *s, size_t n) { nt_strbuf_add(&((buf *)u)->t, s, n); }
static void ph_buf(void *u, int i)
{
    buf *b = u;
    put_buf(u, b->values[i], strlen(b->values[i]));
}

char *nt_template_render(const nt_template *t, const char *const *names, const char *const *values)
{
    buf b = {{0}, values};
    put_buf(&b, "", 0);
    char err[512];
    NT_CHECK(walk(t, names, put_buf, ph_buf, &b, err, sizeof err) == 0, "internal: %s", err);
    return b.t.s;
}

void nt_template_free(nt_template *t)
{
    free(t->text);
    t->text = NULL;
}
