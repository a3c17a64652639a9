/* strbuf.h — a growing NUL-terminated string (instruction texts, rendered
 * templates, normalised answers, identity texts): appends that never fail
 * (out of memory exits, as nt_malloc), s stays NULL until the first append. */
#ifndef NTRON_STRBUF_H
#define NTRON_STRBUF_H

#include <stddef.h>

typedef struct nt_strbuf {
    char *s;        /* NUL-terminated once anything is added (caller frees) */
    size_t n, cap;  /* length without the NUL; bytes held */
} nt_strbuf;

/* appends s[0..n) (may hold no NUL) */
void nt_strbuf_add(nt_strbuf *b, const char *s, size_t n);
void nt_strbuf_addc(nt_strbuf *b, char c);
void nt_strbuf_puts(nt_strbuf *b, const char *s);
void nt_strbuf_printf(nt_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the string, "" when nothing was added (caller frees); b is empty again */
char *nt_strbuf_take(nt_strbuf *b);

#endif
