/* strbuf.c — the growing NUL-terminated string (see strbuf.h). */
#include "util/strbuf.h"
#include "util/check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* room for n more bytes and the NUL */
static void reserve(nt_strbuf *b, size_t n)
{
    NT_CHECK(n < SIZE_MAX / 4 - b->n, "out of memory: a string of %zu + %zu bytes", b->n, n);
    if (b->n + n + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (b->n + n + 1 > cap) cap *= 2;
    char *p = realloc(b->s, cap);
    NT_CHECK(p, "out of memory: a string of %zu bytes", cap);
    b->s = p;
    b->cap = cap;
}

void nt_strbuf_add(nt_strbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (n) memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

void nt_strbuf_addc(nt_strbuf *b, char c) { nt_strbuf_add(b, &c, 1); }

void nt_strbuf_puts(nt_strbuf *b, const char *s) { nt_strbuf_add(b, s, strlen(s)); }

void nt_strbuf_printf(nt_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    NT_CHECK(k >= 0, "internal: format \"%s\" failed", fmt);
    reserve(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

char *nt_strbuf_take(nt_strbuf *b)
{
    if (!b->s) nt_strbuf_add(b, "", 0);
    char *s = b->s;
    *b = (nt_strbuf){0};
    return s;
}
