/* sdg_template.h — the prompt templates of the synthetic-data stages: a
 * text file with {name} placeholders (name: letters, digits, '_'), "{{"
 * and "}}" for literal braces.  Loading checks every placeholder against
 * the names the stage fills and that each required one is used; bad: the
 * one-line reason "FILE:LINE: ..." (unknown placeholder, unbalanced brace)
 * or "FILE: ..." (missing, empty, a required placeholder not used). */
#ifndef NTRON_SDG_TEMPLATE_H
#define NTRON_SDG_TEMPLATE_H

#include <stddef.h>

typedef struct nt_template {
    char path[4096];
    char *text;
} nt_template;

/* names: the placeholders the stage fills (NULL-terminated); required: a
 * subset that must appear (NULL-terminated, may be NULL) */
int nt_template_load(nt_template *t, const char *path, const char *const *names, const char *const *required,
                     char *err, size_t errlen);
/* the text with every {name} replaced by values[i] of names[i] (malloc'd) */
char *nt_template_render(const nt_template *t, const char *const *names, const char *const *values);
void nt_template_free(nt_template *t);

#endif
