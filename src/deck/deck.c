/* deck.c — reading a deck file, --set overrides, validation, echo and hash.
 *
 * Owns: the libinih reader and handler (line tracking, syntax, unknown and
 * duplicate keys), --set, the parsing of train.ramp and data.train into
 * their arrays, the cross-key checks, %name substitution in run.dir, the
 * canonical resolved text, its SHA-256 and the "where was this set" lookup.
 * The per-key table and value parsing live in deck_options.c.
 *
 * Every error ends the program through nt_input_error (status 2) with one
 * line naming the file, line and key.  The deck is only ever opened for
 * reading.
 */
#define _POSIX_C_SOURCE 200809L

#include "deck/deck.h"
#include "phases/phase.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ini.h>

#include "util/check.h"
#include "util/sha256.h"

/* Value handed to inih in place of a line too long for its line buffer;
 * the handler then takes the real value from the reader's copy. */
#define LONG_VALUE_MARK "\x01"

typedef struct deck_ctx {
    const char *path;
    FILE *f;
    nt_config *cfg;
    nt_deck_info *info;
    int lineno;              /* physical line last handed to inih */
    char *buf;               /* getline buffer */
    size_t cap;
    const char *long_value;  /* value of the current over-long line, or NULL */
    int read_errno;          /* errno of a failed read, 0 at end of file */
    int err_line;            /* first error found (0: none yet) */
    char err[1024];          /* its text, after "file:line: " */
} deck_ctx;

static void record(deck_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record(deck_ctx *c, const char *fmt, ...)
{
    if (c->err_line)
        return;  /* report the first error only */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->err_line = c->lineno;
}

/* ---- suggestions ------------------------------------------------------------- */

/* Case-insensitive Levenshtein distance (names are short). */
static int distance(const char *a, const char *b)
{
    enum { M = 64 };
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la >= M || lb >= M)
        return M;
    int d[M][M];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int sub = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + sub;
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static int close_enough(const char *typed, int dist)
{
    int limit = (int)strlen(typed) / 3;
    return dist <= (limit < 1 ? 1 : limit);
}

/* Closest option to [section] key (same section preferred), or -1. */
static int closest_option(const char *section, const char *key)
{
    int best = -1, best_score = 1 << 30;
    for (int i = 0; i < nt_deck_n_options; i++) {
        const nt_option *o = &nt_deck_options[i];
        int d = distance(key, o->key);
        if (!close_enough(key, d))
            continue;
        int score = 2 * d + (strcmp(section, o->section) != 0);
        if (score < best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

static int known_section(const char *name)
{
    for (int i = 0; i < nt_deck_n_options; i++)
        if (!strcmp(nt_deck_options[i].section, name))
            return 1;
    return 0;
}

/* Text after "unknown section": a suggestion or the list of sections. */
static void explain_section(const char *name, char *out, size_t n)
{
    const char *best = NULL, *prev = "";
    int best_d = 1 << 30;
    size_t used = (size_t)snprintf(out, n, "; sections are");
    for (int i = 0; i < nt_deck_n_options; i++) {
        const char *s = nt_deck_options[i].section;
        if (!strcmp(s, prev))
            continue;
        prev = s;
        int d = distance(name, s);
        if (close_enough(name, d) && d < best_d) {
            best = s;
            best_d = d;
        }
        if (used < n)
            used += (size_t)snprintf(out + used, n - used, " [%s]", s);
    }
    if (best)
        snprintf(out, n, " (did you mean [%s]?)", best);
}

/* Text after "unknown key": a suggestion or the section's keys. */
static void explain_key(const char *section, const char *key, char *out, size_t n)
{
    int i = closest_option(section, key);
    if (i >= 0) {
        snprintf(out, n, " (did you mean %s.%s?)", nt_deck_options[i].section,
                 nt_deck_options[i].key);
        return;
    }
    if (!known_section(section)) {
        out[0] = '\0';
        return;
    }
    size_t used = (size_t)snprintf(out, n, "; [%s] keys are", section);
    for (int j = 0; j < nt_deck_n_options && used < n; j++)
        if (!strcmp(nt_deck_options[j].section, section))
            used += (size_t)snprintf(out + used, n - used, " %s", nt_deck_options[j].key);
}

/* ---- the reader: one physical line per call, cleaned and pre-checked --------- */

static char *skip_blanks(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* Strip blanks and comments ('#' or ';' at the start or after a blank).
 * Indentation is not significant: inih never sees a continuation line. */
static char *clean_line(char *s)
{
    s = skip_blanks(s);
    for (char *p = s; *p; p++)
        if ((*p == '#' || *p == ';') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            break;
        }
    trim_right(s);
    return s;
}

/* Syntax and section checks inih would only report as a bare line number. */
static void check_line(deck_ctx *c, const char *s)
{
    if (!*s)
        return;
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (!end) {
            record(c, "%s: missing ']' in section header", s);
            return;
        }
        if (end[1]) {
            record(c, "%s: unexpected text after ']'", s);
            return;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(end - s - 1), s + 1);
        if (!known_section(name)) {
            char hint[256];
            explain_section(name, hint, sizeof hint);
            record(c, "[%s]: unknown section%s", name, hint);
        }
        return;
    }
    size_t name_len = strcspn(s, "=:");
    while (name_len && isspace((unsigned char)s[name_len - 1]))
        name_len--;
    if (!s[strcspn(s, "=:")])
        record(c, "'%s': expected 'key = value' or '[section]'", s);
    else if (name_len == 0)
        record(c, "'%s': missing key name before '%c'", s, s[0]);
    else if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") < name_len)
        record(c, "'%.*s': not a key name (expected 'key = value'; a value must stay on its "
               "key's line)", (int)name_len, s);
}

/* A line longer than inih's buffer: hand over "key = MARK" and keep the value. */
static char *hand_over_long(deck_ctx *c, char *s, char *str, int num)
{
    size_t name_len = strcspn(s, "=:");
    if (*s == '[' || !s[name_len] || name_len + 8 > (size_t)num) {
        record(c, "line too long (%zu characters)", strlen(s));
        str[0] = '\0';
        return str;
    }
    c->long_value = skip_blanks(s + name_len + 1);
    snprintf(str, (size_t)num, "%.*s= %s\n", (int)name_len, s, LONG_VALUE_MARK);
    return str;
}

static char *read_line(char *str, int num, void *stream)
{
    deck_ctx *c = stream;
    ssize_t len = getline(&c->buf, &c->cap, c->f);
    if (len < 0) {
        c->read_errno = ferror(c->f) ? errno : 0;
        return NULL;
    }
    if (num < 2)
        return NULL;
    c->lineno++;
    c->long_value = NULL;
    char *s = c->buf;
    if (c->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;  /* UTF-8 byte-order mark */
    if (memchr(c->buf, '\0', (size_t)len)) {
        record(c, "NUL byte in line (is this a text file?)");
        c->buf[0] = '\0';
        s = c->buf;
    }
    s = clean_line(s);
    check_line(c, s);
    if (strlen(s) + 2 > (size_t)num)
        return hand_over_long(c, s, str, num);
    snprintf(str, (size_t)num, "%s\n", s);
    return str;
}

/* ---- the handler: one key = value ---------------------------------------------- */

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    deck_ctx *c = user;
    if (c->err_line)
        return 1;
    if (c->long_value && !strcmp(value, LONG_VALUE_MARK))
        value = c->long_value;
    if (!*section) {
        char hint[256];
        explain_key(section, name, hint, sizeof hint);
        record(c, "%s: key outside any [section]%s", name, hint);
        return 0;
    }
    int i = nt_deck_find_option(section, name);
    if (i < 0) {
        char hint[512];
        explain_key(section, name, hint, sizeof hint);
        record(c, "%s.%s: unknown key%s", section, name, hint);
        return 0;
    }
    if (c->info->line[i] > 0) {
        record(c, "%s.%s: duplicate key (first set on line %d)", section, name,
               c->info->line[i]);
        return 0;
    }
    char why[512];
    if (nt_deck_option_parse(&nt_deck_options[i], c->cfg, value, why, sizeof why)) {
        record(c, "%s.%s: %s", section, name, why);
        return 0;
    }
    c->info->line[i] = c->lineno;
    return 1;
}

static void parse_file(nt_config *cfg, nt_deck_info *info, const char *path)
{
    deck_ctx c = {.path = path, .cfg = cfg, .info = info};
    c.f = fopen(path, "r");
    if (!c.f)
        nt_input_error("%s: cannot open: %s", path, strerror(errno));
    int rc = ini_parse_stream(read_line, &c, on_pair, &c);
    fclose(c.f);
    free(c.buf);
    if (c.read_errno)
        nt_input_error("%s: cannot read: %s", path, strerror(c.read_errno));
    if (rc == -2)
        nt_die(NT_EXIT_FAIL, "%s: out of memory while parsing", path);
    if (rc > 0 && (!c.err_line || rc < c.err_line))
        nt_input_error("%s:%d: syntax error (expected '[section]' or 'key = value')", path, rc);
    if (c.err_line)
        nt_input_error("%s:%d: %s", path, c.err_line, c.err);
}

/* ---- --set section.key=value ---------------------------------------------------- */

static void apply_set(nt_config *cfg, nt_deck_info *info, const char *arg)
{
    char buf[8192];
    if (strlen(arg) >= sizeof buf)
        nt_input_error("--set: argument too long (%zu characters)", strlen(arg));
    memcpy(buf, arg, strlen(arg) + 1);
    char *eq = strchr(buf, '=');
    if (!eq)
        nt_input_error("--set %s: expected section.key=value", arg);
    *eq = '\0';
    char *key = skip_blanks(buf), *value = skip_blanks(eq + 1);
    trim_right(key);
    trim_right(value);
    if (!*key)
        nt_input_error("--set %s: expected section.key=value", arg);
    int i = nt_deck_find_dotted(key);
    if (i < 0) {
        char *dot = strchr(key, '.'), hint[512];
        if (dot)
            *dot = '\0';
        explain_key(dot ? key : "", dot ? dot + 1 : key, hint, sizeof hint);
        if (dot && !*hint && !known_section(key)) {
            explain_section(key, hint, sizeof hint);
            *dot = '.';
            nt_input_error("--set %s: unknown section%s", key, hint);
        }
        if (dot)
            *dot = '.';
        nt_input_error("--set %s: unknown key%s", key,
                       *hint ? hint : "; expected section.key=value");
    }
    char why[512];
    if (nt_deck_option_parse(&nt_deck_options[i], cfg, value, why, sizeof why))
        nt_input_error("--set %s: %s", key, why);
    info->line[i] = -1;
}

/* ---- errors after parsing: name the key and where it was set -------------------- */

void nt_deck_bad(const nt_deck_info *info, const char *key, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int i = nt_deck_find_dotted(key);
    int line = i >= 0 ? info->line[i] : 0;
    if (line > 0)
        nt_input_error("%s:%d: %s: %s", info->path, line, key, why);
    if (line < 0)
        nt_input_error("--set %s: %s", key, why);
    nt_input_error("%s: %s (default): %s", info->path, key, why);
}

/* Collapse runs of blanks to one space (canonical list values). */
static void squeeze_blanks(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            if (w > s && w[-1] != ' ')
                *w++ = ' ';
        } else {
            *w++ = *r;
        }
    }
    if (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

/* ---- train.ramp: "gbs@tokens ..." ----------------------------------------------- */

static void parse_ramp(nt_config *cfg, const nt_deck_info *info)
{
    char buf[sizeof cfg->ramp], *save = NULL, why[256];
    const char *prev = "";
    squeeze_blanks(cfg->ramp);
    memcpy(buf, cfg->ramp, sizeof buf);
    cfg->n_ramp = 0;
    for (char *item = strtok_r(buf, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
        int k = cfg->n_ramp;
        if (k == NT_MAX_RAMP)
            nt_deck_bad(info, "train.ramp", "more than %d stages", NT_MAX_RAMP);
        char *at = strchr(item, '@'), *end;
        if (!at)
            nt_deck_bad(info, "train.ramp", "stage %d '%s': expected gbs@tokens, e.g. 768@0", k + 1, item);
        *at = '\0';
        errno = 0;
        long gbs = strtol(item, &end, 10);
        if (end == item || *end || errno == ERANGE || gbs <= 0)
            nt_deck_bad(info, "train.ramp", "stage %d: global batch '%s' must be a positive integer",
                k + 1, item);
        double t;
        if (nt_deck_parse_tokens(at + 1, &t, why, sizeof why))
            nt_deck_bad(info, "train.ramp", "stage %d: %s", k + 1, why);
        if (k == 0 && t != 0)
            nt_deck_bad(info, "train.ramp", "the first stage must start at 0 tokens, not %s", at + 1);
        if (k > 0 && t <= cfg->ramp_stages[k - 1].tokens)
            nt_deck_bad(info, "train.ramp", "stage %d threshold %s is not above stage %d's %s",
                k + 1, at + 1, k, prev);
        prev = at + 1;
        cfg->ramp_stages[k].gbs = gbs;
        cfg->ramp_stages[k].tokens = t;
        cfg->n_ramp = k + 1;
    }
}

/* ---- data.train: "path[:weight] ..." -------------------------------------------- */

static void parse_blend_item(nt_config *cfg, const nt_deck_info *info, char *item)
{
    int k = cfg->n_blend;
    if (k == NT_MAX_BLEND)
        nt_deck_bad(info, "data.train", "more than %d blend items", NT_MAX_BLEND);
    nt_blend_item *b = &cfg->blend[k];
    b->weight = 1;
    char *colon = strrchr(item, ':');
    if (colon && !strchr(colon + 1, '/')) {
        char *end;
        *colon = '\0';
        b->weight = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !isfinite(b->weight) || b->weight <= 0)
            nt_deck_bad(info, "data.train", "item %d '%s': weight '%s' must be a number > 0", k + 1,
                item, colon + 1);
    }
    if (!*item)
        nt_deck_bad(info, "data.train", "item %d: empty path", k + 1);
    if (strlen(item) >= sizeof b->path)
        nt_deck_bad(info, "data.train", "item %d: path longer than %zu characters", k + 1,
            sizeof b->path - 1);
    for (int j = 0; j < k; j++)
        if (!strcmp(cfg->blend[j].path, item))
            nt_deck_bad(info, "data.train", "'%s' is listed twice (items %d and %d)", item, j + 1, k + 1);
    memcpy(b->path, item, strlen(item) + 1);
    cfg->n_blend = k + 1;
}

static void parse_blend(nt_config *cfg, const nt_deck_info *info)
{
    char buf[sizeof cfg->train], *save = NULL;
    squeeze_blanks(cfg->train);
    memcpy(buf, cfg->train, sizeof buf);
    cfg->n_blend = 0;
    for (char *item = strtok_r(buf, " ", &save); item; item = strtok_r(NULL, " ", &save))
        parse_blend_item(cfg, info, item);
}

/* ---- run.name and run.dir ------------------------------------------------------- */

static void resolve_dir(nt_config *cfg, const nt_deck_info *info)
{
    if (!*cfg->name || !strcmp(cfg->name, ".") || !strcmp(cfg->name, "..")
        || cfg->name[strcspn(cfg->name, "/ \t")])
        nt_deck_bad(info, "run.name", "'%s' is not usable as a directory name "
            "(non-empty, no '/' or blanks)", cfg->name);
    char out[sizeof cfg->dir];
    size_t used = 0;
    for (const char *p = cfg->dir; *p;) {
        int subst = !strncmp(p, "%name", 5);
        size_t len = subst ? strlen(cfg->name) : 1;
        if (used + len >= sizeof out)
            nt_deck_bad(info, "run.dir", "longer than %zu characters after %%name -> '%s'",
                sizeof out - 1, cfg->name);
        memcpy(out + used, subst ? cfg->name : p, len);
        used += len;
        p += subst ? 5 : 1;
    }
    out[used] = '\0';
    if (!used)
        nt_deck_bad(info, "run.dir", "must not be empty");
    memcpy(cfg->dir, out, used + 1);
}

/* ---- cross-key checks ------------------------------------------------------------ */

static void check_model(const nt_config *c, const nt_deck_info *in)
{
    if (c->hidden % c->heads)
        nt_deck_bad(in, "model.hidden", "hidden %d is not divisible by model.heads %d", c->hidden,
            c->heads);
    if (c->heads % c->kv_heads)
        nt_deck_bad(in, "model.kv_heads", "model.heads %d is not a multiple of kv_heads %d", c->heads,
            c->kv_heads);
    /* ntron rotates int(head_dim * rotary_fraction) dims, truncated like
     * transformers (model_config.c): that width must be even */
    int head_dim = c->hidden / c->heads;
    double prod = head_dim * c->rotary_fraction;
    int rot = (int)prod;
    if (rot % 2 != 0)
        nt_deck_bad(in, "model.rotary_fraction",
            "rotated width int(head_dim*rotary_fraction) = int(%d*%g = %.17g) = %d must be even "
            "(the width is truncated, as transformers does)", head_dim, c->rotary_fraction, prod, rot);
}

static void check_parallel(const nt_config *c, const nt_deck_info *in)
{
    if (c->heads % c->tensor)
        nt_deck_bad(in, "parallel.tensor", "model.heads %d is not divisible by tensor %d", c->heads,
            c->tensor);
    if (c->kv_heads % c->tensor)
        nt_deck_bad(in, "parallel.tensor", "model.kv_heads %d is not divisible by tensor %d",
            c->kv_heads, c->tensor);
    if (c->ffn_hidden % c->tensor)
        nt_deck_bad(in, "parallel.tensor", "model.ffn_hidden %d is not divisible by tensor %d",
            c->ffn_hidden, c->tensor);
    if (c->virtual_stages > 1 && c->pipeline == 1)
        nt_deck_bad(in, "parallel.virtual_stages",
            "%d virtual stages need parallel.pipeline > 1 (it is 1)", c->virtual_stages);
    long stages = (long)c->pipeline * c->virtual_stages;
    if (c->layers % stages)
        nt_deck_bad(in, "model.layers", "%d layers are not divisible by pipeline*virtual_stages = "
            "%d*%d = %ld", c->layers, c->pipeline, c->virtual_stages, stages);
    if (c->overlap_grad_reduce && !strcmp(c->backend, "cuda"))
        nt_deck_bad(in, "parallel.overlap_grad_reduce",
            "true needs run.backend = cpu: the CUDA backend reduces the gradients after the backward "
            "(set it false)");
    if (c->sequence_parallel && c->seq_len % c->tensor)
        nt_deck_bad(in, "parallel.sequence_parallel",
            "needs model.seq_len %d divisible by parallel.tensor %d", c->seq_len, c->tensor);
}

static void check_train(const nt_config *c, const nt_deck_info *in)
{
    if (c->min_lr > c->lr)
        nt_deck_bad(in, "train.min_lr", "min_lr %g is above train.lr %g", c->min_lr, c->lr);
    char tok[64];
    nt_deck_option_format(&nt_deck_options[nt_deck_find_dotted("train.tokens")], c, tok,
                          sizeof tok);
    if (c->steps > 0 && c->tokens > 0)
        nt_deck_bad(in, "train.steps", "steps %ld and train.tokens %s are both set; set only one",
            c->steps, tok);
    if (c->steps > 0 && c->warmup > c->steps)
        nt_deck_bad(in, "train.warmup", "%ld warm-up steps exceed train.steps %ld", c->warmup,
            c->steps);
    if (c->n_ramp == 0 && c->global_batch % c->micro_batch)
        nt_deck_bad(in, "train.global_batch", "%ld is not divisible by parallel.micro_batch %d",
            c->global_batch, c->micro_batch);
    for (int k = 0; k < c->n_ramp; k++)
        if (c->ramp_stages[k].gbs % c->micro_batch)
            nt_deck_bad(in, "train.ramp", "stage %d: global batch %ld is not divisible by "
                "parallel.micro_batch %d", k + 1, c->ramp_stages[k].gbs, c->micro_batch);
    /* what the phase itself needs (and whether it is built): its own check */
    nt_phase_deck_check(c, in);
}

/* ---- entry points ----------------------------------------------------------------- */

void nt_deck_load(nt_config *cfg, nt_deck_info *info, const char *path, int nset,
                  char *const *sets)
{
    nt_deck_defaults(cfg);
    memset(info, 0, sizeof *info);
    snprintf(info->path, sizeof info->path, "%s", path);
    parse_file(cfg, info, path);
    for (int i = 0; i < nset; i++)
        apply_set(cfg, info, sets[i]);
    resolve_dir(cfg, info);
    parse_ramp(cfg, info);
    parse_blend(cfg, info);
    check_model(cfg, info);
    check_parallel(cfg, info);
    check_train(cfg, info);
}

char *nt_deck_resolved_text(const nt_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    NT_CHECK(m, "open_memstream: %s", strerror(errno));
    const char *section = "";
    char value[sizeof cfg->train + 64];
    for (int i = 0; i < nt_deck_n_options; i++) {
        const nt_option *o = &nt_deck_options[i];
        if (strcmp(section, o->section)) {
            fprintf(m, "%s[%s]\n", *section ? "\n" : "", o->section);
            section = o->section;
        }
        nt_deck_option_format(o, cfg, value, sizeof value);
        fprintf(m, "%s =%s%s\n", o->key, *value ? " " : "", value);
    }
    NT_CHECK(fclose(m) == 0, "open_memstream: %s", strerror(errno));
    return text;
}


const char *nt_deck_where(const nt_deck_info *info, const char *section_dot_key, char *buf,
                          size_t n)
{
    int i = nt_deck_find_dotted(section_dot_key);
    if (i < 0)
        snprintf(buf, n, "%s (unknown key %s)", info->path, section_dot_key);
    else if (info->line[i] > 0)
        snprintf(buf, n, "%s:%d", info->path, info->line[i]);
    else if (info->line[i] < 0)
        snprintf(buf, n, "--set");
    else
        snprintf(buf, n, "%s (default)", info->path);
    return buf;
}
