/* sdg_list.c — list items out of a generated text (the rule: sdg_list.h). */
#include "sdg/sdg_list.h"
#include "util/check.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct strv { char **v; int n, cap; } strv;

static void push(strv *a, char *s)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->v = realloc(a->v, (size_t)a->cap * sizeof *a->v);
        NT_CHECK(a->v, "out of memory for list items");
    }
    a->v[a->n++] = s;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    NT_CHECK(d, "out of memory for a list item");
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* 1: a JSON array of strings somewhere in the text */
static int from_json(const char *text, strv *out)
{
    for (const char *p = strchr(text, '['); p; p = strchr(p + 1, '[')) {
        const char *end = NULL;
        cJSON *a = cJSON_ParseWithOpts(p, &end, 0);
        if (!a) continue;
        if (!cJSON_IsArray(a)) { cJSON_Delete(a); continue; }
        const cJSON *it;
        cJSON_ArrayForEach(it, a)
            if (cJSON_IsString(it)) push(out, dup_n(it->valuestring, strlen(it->valuestring)));
        cJSON_Delete(a);
        return 1;
    }
    return 0;
}

/* length of a list marker at s (after leading blanks), 0 if none */
static size_t marker(const char *s)
{
    size_t i = 0;
    if (isdigit((unsigned char)s[0])) {
        while (i < 4 && isdigit((unsigned char)s[i])) i++;
        if (isdigit((unsigned char)s[i])) return 0;
        if (s[i] != '.' && s[i] != ')' && s[i] != ':') return 0;
        i++;
        if (s[i] && s[i] != ' ' && s[i] != '\t') return 0;   /* "3.14" is not a marker */
        return i;
    }
    if ((s[0] == '-' || s[0] == '*' || s[0] == '+') && (s[1] == ' ' || s[1] == '\t' || !s[1])) return 1;
    if (!strncmp(s, "\xe2\x80\xa2", 3) && (s[3] == ' ' || s[3] == '\t' || !s[3])) return 3;   /* U+2022 bullet */
    return 0;
}

static void from_lines(const char *text, strv *out)
{
    const char *p = text;
    char *cur = NULL;   /* the item being continued */
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t b = 0;
        while (b < len && (p[b] == ' ' || p[b] == '\t' || p[b] == '\r')) b++;
        size_t e = len;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r')) e--;
        if (b == e) {
            cur = NULL;   /* a blank line ends an item */
        } else {
            char line[4096];
            size_t n = e - b < sizeof line - 1 ? e - b : sizeof line - 1;
            memcpy(line, p + b, n);
            line[n] = 0;
            size_t m = marker(line);
            if (m) {
                size_t k = m;
                while (line[k] == ' ' || line[k] == '\t') k++;
                cur = dup_n(line + k, strlen(line + k));
                push(out, cur);
            } else if (cur) {
                size_t a = strlen(cur);
                char *j = realloc(cur, a + 1 + n + 1);
                NT_CHECK(j, "out of memory for a list item");
                j[a] = ' ';
                memcpy(j + a + 1, line, n + 1);
                out->v[out->n - 1] = cur = j;
            }
        }
        if (!eol) break;
        p = eol + 1;
    }
}

/* blanks, whole-item bold markup and matching quotes removed, in place */
static void clean(char *s)
{
    for (int again = 1; again;) {
        again = 0;
        size_t n = strlen(s), b = 0;
        while (b < n && isspace((unsigned char)s[b])) b++;
        while (n > b && isspace((unsigned char)s[n - 1])) n--;
        memmove(s, s + b, n - b);
        s[n - b] = 0;
        n -= b;
        if (n >= 4 && ((!strncmp(s, "**", 2) && !strcmp(s + n - 2, "**")) || (!strncmp(s, "__", 2) && !strcmp(s + n - 2, "__")))) {
            memmove(s, s + 2, n - 4);
            s[n - 4] = 0;
            again = 1;
        } else if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
            memmove(s, s + 1, n - 2);
            s[n - 2] = 0;
            again = 1;
        }
    }
}

char *nt_list_key(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *d = malloc(n + 1);
    NT_CHECK(d, "out of memory");
    int blank = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) { blank = k > 0; continue; }
        if (blank) d[k++] = ' ';
        blank = 0;
        d[k++] = (char)tolower(c);
    }
    d[k] = 0;
    return d;
}

int nt_list_parse(const char *text, int max, char ***items, nt_list_stats *st)
{
    strv raw = {0}, out = {0}, keys = {0};
    nt_list_stats s = {0, 0};
    if (!from_json(text, &raw)) from_lines(text, &raw);
    for (int i = 0; i < raw.n; i++) {
        clean(raw.v[i]);
        if (!raw.v[i][0]) { free(raw.v[i]); continue; }
        char *k = nt_list_key(raw.v[i]);
        int seen = 0;
        for (int j = 0; j < keys.n && !seen; j++) seen = !strcmp(keys.v[j], k);
        if (seen) { s.repeats++; free(k); free(raw.v[i]); continue; }
        if (max > 0 && out.n >= max) { s.cut++; free(k); free(raw.v[i]); continue; }
        push(&keys, k);
        push(&out, raw.v[i]);
    }
    nt_list_free(keys.v, keys.n);
    free(raw.v);
    if (st) *st = s;
    *items = out.v;
    return out.n;
}

void nt_list_free(char **items, int n)
{
    for (int i = 0; i < n; i++) free(items[i]);
    free(items);
}
