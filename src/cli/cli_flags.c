/* cli_flags.c — subcommand flag tables: parsing, --help and usage errors
 * (see cli_flags.h). */
#include "cli/cli_flags.h"
#include "util/check.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* this process's rank as the launcher numbers it, before MPI_Init (0 when
 * not launched by mpirun/srun, or after MPI_Init: MPI's own rank) */
static int launcher_rank(void)
{
    int init = 0;
    NT_CHECK_MPI(MPI_Initialized(&init));
    if (init) return !nt_rank0();
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return 0;
}

static void verror(const char *cmd, const char *fmt, va_list ap) __attribute__((noreturn));
static void verror(const char *cmd, const char *fmt, va_list ap)
{
    char msg[1536];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (launcher_rank() != 0) exit(NT_EXIT_INPUT); /* rank 0 says it */
    nt_input_error("%s: %s", cmd, msg);
}

void nt_cli_error(const nt_cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(c->cmd, fmt, ap);
}

static void cmd_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void cmd_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(cmd, fmt, ap);
}

static const char *arg_name(const nt_flag *f)
{
    return f->arg ? f->arg : f->kind == NT_FLAG_CHOICE ? f->choices : "VALUE";
}

/* "--name" or "--name=value": the flag named, or NULL; *inline_val set for the = form */
static const nt_flag *find(const nt_cli *c, const char *a, const char **inline_val)
{
    *inline_val = NULL;
    for (int i = 0; i < c->nflags; i++) {
        const nt_flag *f = &c->flags[i];
        size_t n = strlen(f->name);
        if (strncmp(a, f->name, n) != 0) continue;
        if (a[n] == '\0') return f;
        if (a[n] == '=' && f->kind != NT_FLAG_SWITCH && f->name[1] == '-') {
            *inline_val = a + n + 1;
            return f;
        }
    }
    return NULL;
}

/* "ntron CMD ARGS [options]" */
static const char *synopsis(const nt_cli *c, char *buf, size_t n)
{
    snprintf(buf, n, "ntron %s%s%s%s", c->cmd, *c->args ? " " : "", c->args, c->nflags ? " [options]" : "");
    return buf;
}

static int is_help(const char *a) { return !strcmp(a, "-h") || !strcmp(a, "--help"); }

/* a lone "-" is a positional (stdin), as is anything not starting with '-' */
static int is_flag_word(const char *a) { return a[0] == '-' && a[1] != '\0'; }

static void default_text(const nt_flag *f, char *buf, size_t n)
{
    buf[0] = '\0';
    if (f->def) { snprintf(buf, n, "%s", f->def); return; }
    switch (f->kind) {
    case NT_FLAG_LONG: snprintf(buf, n, "%ld", *(long *)f->dest); break;
    case NT_FLAG_DOUBLE: snprintf(buf, n, "%g", *(double *)f->dest); break;
    case NT_FLAG_STRING:
    case NT_FLAG_CHOICE: {
        const char *s = *(const char **)f->dest;
        if (s) snprintf(buf, n, "%s", s);
        break;
    }
    default: break;
    }
}

/* text from column `col` on, broken at blanks before column `width`;
 * continuation lines indented to `col` */
static void wrap(FILE *f, const char *text, int col, int width)
{
    int at = col;
    for (const char *p = text; *p;) {
        size_t w = strcspn(p, " ");
        if (at > col && at + 1 + (int)w > width) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fprintf(f, "%.*s", (int)w, p);
        at += (int)w;
        p += w;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

void nt_cli_help(const nt_cli *c, FILE *f)
{
    char syn[512];
    fprintf(f, "usage: %s\n", synopsis(c, syn, sizeof syn));
    if (c->about && *c->about) fprintf(f, "%s%s", c->about, c->about[strlen(c->about) - 1] == '\n' ? "" : "\n");
    fprintf(f, "options:\n");
    for (int i = 0; i <= c->nflags; i++) {
        char left[160], def[256];
        const char *help;
        if (i < c->nflags) {
            const nt_flag *fl = &c->flags[i];
            if (fl->kind == NT_FLAG_SWITCH) snprintf(left, sizeof left, "%s", fl->name);
            else snprintf(left, sizeof left, "%s %s", fl->name, arg_name(fl));
            default_text(fl, def, sizeof def);
            help = fl->help;
        } else {
            snprintf(left, sizeof left, "-h, --help");
            def[0] = '\0';
            help = "print this help and exit";
        }
        char text[1024];
        snprintf(text, sizeof text, "%s%s%s%s%s", help,
                 i < c->nflags && c->flags[i].kind == NT_FLAG_LIST ? " (repeatable)" : "", def[0] ? " (default " : "",
                 def, def[0] ? ")" : "");
        if (strlen(left) > 24) fprintf(f, "  %s\n  %-24s  ", left, "");
        else fprintf(f, "  %-24s  ", left);
        wrap(f, text, 28, 100);
    }
}

static void set_value(const nt_cli *c, const nt_flag *f, const char *v, int argc)
{
    char *end;
    switch (f->kind) {
    case NT_FLAG_STRING: *(const char **)f->dest = v; break;
    case NT_FLAG_LONG: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (end == v || *end || errno || (double)x < f->min || (double)x > f->max)
            nt_cli_error(c, "%s wants a whole number in [%.0f, %.0f], got '%s'", f->name, f->min, f->max, v);
        *(long *)f->dest = x;
        break;
    }
    case NT_FLAG_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || !(x > f->min) || x > f->max) {
            if (isinf(f->max)) nt_cli_error(c, "%s wants a number > %g, got '%s'", f->name, f->min, v);
            nt_cli_error(c, "%s wants a number in (%g, %g], got '%s'", f->name, f->min, f->max, v);
        }
        *(double *)f->dest = x;
        break;
    }
    case NT_FLAG_CHOICE: {
        size_t n = strlen(v);
        for (const char *p = f->choices; *p;) {
            const char *q = strchr(p, '|');
            size_t len = q ? (size_t)(q - p) : strlen(p);
            if (len == n && !strncmp(p, v, n)) { *(const char **)f->dest = v; return; }
            p += len + (q != NULL);
        }
        nt_cli_error(c, "%s wants one of %s, got '%s'", f->name, f->choices, v);
    }
    case NT_FLAG_LIST: {
        nt_flag_list *l = f->dest;
        if (!l->v) l->v = nt_calloc((size_t)argc + 1, sizeof(char *), "flag list");
        l->v[l->n++] = (char *)v;
        break;
    }
    case NT_FLAG_SWITCH: *(int *)f->dest = 1; break;
    }
}

int nt_cli_parse(const nt_cli *c, int argc, char **argv, const char **pos)
{
    /* pass 1: --help anywhere a flag may stand (not as another flag's argument) */
    for (int i = 0; i < argc; i++) {
        const char *iv;
        if (is_help(argv[i])) {
            if (launcher_rank() == 0) nt_cli_help(c, stdout);
            exit(0);
        }
        const nt_flag *f = is_flag_word(argv[i]) ? find(c, argv[i], &iv) : NULL;
        if (f && f->kind != NT_FLAG_SWITCH && !iv) i++;
    }
    int npos = 0;
    char syn[512];
    synopsis(c, syn, sizeof syn);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!is_flag_word(a)) {
            if (c->max_args >= 0 && npos >= c->max_args) {
                if (c->max_args == 1) cmd_error(c->cmd, "more than one %s given (%s, %s)", c->args, pos[0], a);
                cmd_error(c->cmd, "unexpected argument '%s' (usage: %s)", a, syn);
            }
            pos[npos++] = a;
            continue;
        }
        const nt_flag *f = find(c, a, &v);
        if (!f) nt_cli_error(c, "unknown option %s (see ntron %s --help)", a, c->cmd);
        if (f->kind != NT_FLAG_SWITCH && !v) {
            if (i + 1 >= argc) nt_cli_error(c, "%s needs an argument %s", f->name, arg_name(f));
            v = argv[++i];
        }
        set_value(c, f, v, argc);
    }
    if (npos < c->min_args) {
        if (npos == 0) {
            size_t w = strcspn(c->args, " .["); /* "MODEL [FILE]" -> MODEL, "TEXT..." -> TEXT */
            nt_cli_error(c, "no %.*s given (usage: %s)", (int)w, c->args, syn);
        }
        nt_cli_error(c, "too few arguments: want %s (usage: %s)", c->args, syn);
    }
    return npos;
}

int nt_cli_subcommand(const char *cmd, const char *const *subs, const char *const *help, int n, int argc,
                      char **argv)
{
    char names[256] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names), w = strcspn(subs[i], " ");
        snprintf(names + l, sizeof names - l, "%s%.*s", i ? (i + 1 == n ? " or " : ", ") : "", (int)w, subs[i]);
    }
    if (argc < 1) cmd_error(cmd, "no command given (%s; see ntron %s --help)", names, cmd);
    if (is_help(argv[0])) {
        if (launcher_rank() == 0) {
            printf("usage: ntron %s COMMAND ... (ntron %s COMMAND --help for its options)\ncommands:\n", cmd, cmd);
            for (int i = 0; i < n; i++) {
                if (strlen(subs[i]) > 24) printf("  %s\n  %-24s  %s\n", subs[i], "", help[i]);
                else printf("  %-24s  %s\n", subs[i], help[i]);
            }
        }
        exit(0);
    }
    for (int i = 0; i < n; i++) {
        size_t w = strcspn(subs[i], " ");
        if (strlen(argv[0]) == w && !strncmp(argv[0], subs[i], w)) return i;
    }
    cmd_error(cmd, "unknown command '%s' (%s; see ntron %s --help)", argv[0], names, cmd);
}
