/* cli_flags.h — one flag table per subcommand (like the deck's option
 * table): name, argument kind, destination, range or choices, help text.
 *
 * Owns the parsing of a subcommand's argv (flags in any order, `--flag
 * VALUE` or `--flag=VALUE`, positionals counted), its `--help` text (one
 * format for every subcommand) and its usage errors: one line
 * "ntron: CMD: ...", exit 2, printed once (only launcher rank 0 prints when
 * started under mpirun/srun before MPI is up):
 *   unknown option --x (see ntron CMD --help)
 *   --flag needs an argument ARG
 *   --flag wants a whole number in [lo, hi], got 'v'
 *   --flag wants a number > lo, got 'v'
 *   --flag wants one of a|b|c, got 'v'
 *   no ARGS given / more than one ARG given (a, b) / unexpected argument 'x'
 */
#ifndef NTRON_CLI_FLAGS_H
#define NTRON_CLI_FLAGS_H

#include <stdio.h>

/* a macro's value as a string literal, for help texts: NT_STR(NT_PEAK_TFLOPS_H100_BF16) */
#define NT_STR_(x) #x
#define NT_STR(x) NT_STR_(x)

typedef enum nt_flag_kind {
    NT_FLAG_SWITCH,  /* no argument: int *dest = 1 */
    NT_FLAG_STRING,  /* const char **dest = the argument */
    NT_FLAG_LONG,    /* long *dest, a whole number in [min, max] */
    NT_FLAG_DOUBLE,  /* double *dest, finite, > min and <= max */
    NT_FLAG_CHOICE,  /* const char **dest, one of `choices` ("a|b|c") */
    NT_FLAG_LIST     /* nt_flag_list *dest: every occurrence appended (e.g. --set) */
} nt_flag_kind;

typedef struct nt_flag_list {
    char **v;  /* NULL-terminated once anything was appended */
    int n;
} nt_flag_list;

typedef struct nt_flag {
    const char *name;     /* "--steps", "-o" */
    nt_flag_kind kind;
    void *dest;
    const char *arg;      /* the argument's name in help and errors ("N", "FILE"); CHOICE: NULL = choices */
    const char *help;
    double min, max;      /* LONG / DOUBLE range */
    const char *choices;  /* CHOICE */
    const char *def;      /* default shown in --help; NULL: the destination's value before parsing */
} nt_flag;

typedef struct nt_cli {
    const char *cmd;      /* "bench", "tokenizer train": errors say "CMD: ...", usage "ntron CMD" */
    const char *args;     /* positionals in the synopsis: "DECK", "MODEL [FILE]", "TEXT..." ("" if none) */
    int min_args, max_args; /* positional count (max_args < 0: any) */
    const char *about;    /* what the command does, printed under the synopsis by --help */
    const nt_flag *flags;
    int nflags;
} nt_cli;

/* Parse argv[0..argc) by c's table.  -h/--help anywhere: print the help to
 * stdout and exit 0.  Positionals go to pos[0..max_args) (pos may be NULL
 * when max_args is 0); returns their number.  Any usage error exits 2. */
int nt_cli_parse(const nt_cli *c, int argc, char **argv, const char **pos);

/* The --help text: "usage: ntron CMD ARGS [options]", the about text, then
 * one line per flag (name, argument, help, default) and -h, --help. */
void nt_cli_help(const nt_cli *c, FILE *f);

/* A usage error found after parsing (a bad combination, a bad list):
 * "ntron: CMD: <message>", exit 2, printed once. */
void nt_cli_error(const nt_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* A command with sub-commands (`ntron tokenizer train|encode|decode`):
 * subs[i] is "NAME ARGS" and help[i] its one-line meaning.  -h or --help
 * prints the list (stdout, exit 0); no word or an unknown word is a usage
 * error.  Returns the index of argv[0] in subs. */
int nt_cli_subcommand(const char *cmd, const char *const *subs, const char *const *help, int n, int argc,
                      char **argv);

#endif
