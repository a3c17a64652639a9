/* deck.h — input decks: parse, override, validate, echo and hash.
 *
 * A deck is an INI file ([section], key = value, '#' or ';' comments).
 * One option table (deck_options.c) names every key, its nt_config field,
 * type, default, range and help; it drives parsing, --set overrides,
 * `ntron help deck`, the resolved echo and its SHA-256.
 * Precedence: default < deck < --set.  Bad input exits with status 2 and
 * one line "file:line: section.key: reason"; nothing is ever written.
 */
#ifndef NTRON_DECK_H
#define NTRON_DECK_H

#include <stddef.h>
#include <stdio.h>

#include "deck/config.h"

#define NT_DECK_MAX_OPTIONS 128

typedef struct nt_deck_info {
    char path[NT_PATH_MAX];
    /* provenance per option (index into nt_deck_options):
     * line number (>0), 0 = default, -1 = --set */
    int line[NT_DECK_MAX_OPTIONS];
} nt_deck_info;

/* Parse deck file `path` (libinih), apply `nset` overrides
 * "section.key=value" (from --set), validate.  On any error prints one line
 * "file:line: section.key: reason" ("--set section.key: reason" for an
 * override, "file: section.key (default): reason" for a defaulted key in a
 * cross-check) and exits with status 2.  Never creates files. */
void nt_deck_load(nt_config *cfg, nt_deck_info *info, const char *path,
                  int nset, char *const *sets);
/* nt_deck_load on every rank after MPI_Init (collective over the world,
 * deck_agreed.c): a bad deck is reported once and every rank exits 2. */
void nt_deck_load_agreed(nt_config *cfg, nt_deck_info *info, const char *path,
                         int nset, char *const *sets);

/* Every field at its default (run.dir keeps its literal "%name"). */
void nt_deck_defaults(nt_config *cfg);

/* Canonical resolved text: every key of every section, defaults included,
 * "[section]\nkey = value\n" in table order (a blank line between
 * sections); re-parsing it gives the same config.  Caller frees. */
char *nt_deck_resolved_text(const nt_config *cfg);

/* Every key: section.key, type, default, range/choices, meaning. */
void nt_deck_print_help(FILE *f);

/* Where an option got its value, for errors raised later (e.g. by the
 * trainer): "file:line", "file (default)" or "--set".  Returns buf. */
/* Bad input after parsing: "file:line: section.key: reason" (or "--set
 * key: ..." / "file: key (default): ..."), once, exit 2.  For the phases'
 * deck checks. */
void nt_deck_bad(const nt_deck_info *info, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
const char *nt_deck_where(const nt_deck_info *info, const char *section_dot_key,
                          char *buf, size_t n);

/* ---- the option table (deck_options.c) ---------------------------------
 * Exposed so that other writers of the configuration (checkpoint and
 * HDF5 attributes, the plan printer) can walk it. */

typedef enum nt_opt_type {
    NT_OPT_INT,     /* int */
    NT_OPT_LONG,    /* long */
    NT_OPT_U64,     /* uint64_t */
    NT_OPT_DOUBLE,  /* double, finite */
    NT_OPT_BOOL,    /* int 0/1: true|false|yes|no|on|off|1|0 */
    NT_OPT_STRING,  /* char[size] */
    NT_OPT_ENUM,    /* char[size], one of `choices` */
    NT_OPT_TOKENS   /* double, whole count; K/M/B/T suffixes (8T = 8e12) */
} nt_opt_type;

enum {
    NT_OPT_MIN_OPEN = 1,   /* value must be > min (not >=) */
    NT_OPT_MAX_OPEN = 2    /* value must be < max (not <=) */
};

typedef struct nt_option {
    const char *section, *key;
    nt_opt_type type;
    size_t offset, size;   /* field in nt_config */
    const char *def;       /* default, in deck syntax */
    double min, max;       /* numeric range (±INFINITY: unbounded) */
    int flags;             /* NT_OPT_MIN_OPEN | NT_OPT_MAX_OPEN */
    const char *choices;   /* ENUM: "a|b|c" */
    const char *help;
} nt_option;

extern const nt_option nt_deck_options[];
extern const int nt_deck_n_options;

/* Index of [section] key, or -1. */
int nt_deck_find_option(const char *section, const char *key);
/* Index of "section.key", or -1. */
int nt_deck_find_dotted(const char *section_dot_key);
/* Parse `text` (already trimmed) into o's field of cfg.  Returns 0, or -1
 * with the reason (no key name) written to why. */
int nt_deck_option_parse(const nt_option *o, nt_config *cfg, const char *text,
                         char *why, size_t n);
/* Format o's field of cfg so that nt_deck_option_parse gives it back. */
void nt_deck_option_format(const nt_option *o, const nt_config *cfg,
                           char *buf, size_t n);
/* A token count: plain number or K/M/B/T suffix ("200B"), whole, >= 0.
 * Returns 0, or -1 with the reason in why. */
int nt_deck_parse_tokens(const char *text, double *out, char *why, size_t n);

#endif
