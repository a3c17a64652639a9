/* sdg_stage.h — what a synthetic-data stage is (the table in
 * sdg_stages.c) and what the driver (sdg_run.c) gives it: the per-stage
 * vtable of nccl-tests' style.  A stage reads input records (JSON
 * objects, built by `inputs` on every rank from earlier stages' files and
 * the deck's files), is run shard by shard (`shard`: records [a, b) of
 * the input, each record owned by one data-parallel group, which returns
 * its output lines), and its outputs are written in input order. */
#ifndef NTRON_SDG_STAGE_H
#define NTRON_SDG_STAGE_H

#include "infer/infer.h"
#include "sdg/sdg_template.h"
#include "util/strbuf.h"

#include <cjson/cJSON.h>

enum { SDG_NEEDS_NONE = 0, SDG_NEEDS_GEN = 1, SDG_NEEDS_RM = 2 };

/* counts of one shard, summed into the stage's report (X-macro: name, what) */
#define SDG_STATS(X)                                                              \
    X(in, "input records")                                                        \
    X(out, "output records")                                                      \
    X(generated, "responses generated")                                           \
    X(prompt_tokens, "prompt tokens prefilled")                                   \
    X(new_tokens, "tokens generated")                                             \
    X(finish_eos, "responses ended by EOS")                                       \
    X(finish_turn, "responses ended by the end of turn")                          \
    X(finish_stop, "responses ended by a stop string")                            \
    X(finish_length, "responses cut at max_new_tokens or the context")            \
    X(refused, "prompts too long for the context")                                \
    X(lists, "responses that parsed as a list")                                   \
    X(unlisted, "responses with no list")                                         \
    X(items, "list items kept")                                                   \
    X(repeats, "list items dropped as repeats")                                   \
    X(cut, "list items beyond the number asked for")                              \
    X(empty, "empty or refused outputs dropped")                                  \
    X(filler, "filler sentences removed from user turns")                         \
    X(scored, "conversations scored")                                             \
    X(passed, "conversations at or above the reward threshold")                   \
    X(failed, "conversations below the threshold (or not scored)")                \
    X(pairs, "preference pairs")                                                  \
    X(pairs_truth, "pairs ranked by a reference answer")                          \
    X(answers_right, "responses right by the ground truth (reference answer or verifiers)") \
    X(answers_wrong, "responses wrong by the ground truth")                       \
    X(no_correct, "prompts with a ground truth and no right response")            \
    X(pairs_reward, "pairs ranked by the reward model")                           \
    X(no_pair, "prompts without a pair (fewer than 2 responses, or a tie)")                   \
    X(instructions, "IFEval instructions given")                                  \
    X(multiturn, "IFEval prompts of the multi-turn variant")                      \
    X(secondturn, "IFEval prompts of the second-turn variant")                    \
    X(judged, "judge verdicts asked for")                                         \
    X(unparsed, "judge replies that did not parse (never accepted)")              \
    X(incorrect, "solutions the judge called incorrect")                          \
    X(below, "solutions scored below sdg.judge_threshold")                        \
    X(accepted, "solutions the judge accepted")
typedef struct sdg_stats {
#define SDG_FIELD(name, what) long name;
    SDG_STATS(SDG_FIELD)
#undef SDG_FIELD
    double seconds;
} sdg_stats;

typedef struct sdg_ctx sdg_ctx;

typedef struct sdg_stage {
    const char *name;
    const char *what;                    /* one line for `ntron help sdg` */
    int needs;                           /* SDG_NEEDS_* of its shards */
    const char *const *names;            /* template placeholders (NULL: no template) */
    const char *const *required;
    /* the stages whose output it reads ("prompts": the prompt stages run before it) */
    const char *after;
    /* deck check of its own keys (files named, counts); bad: nt_deck_bad */
    void (*check)(const nt_config *c, const nt_deck_info *in);
    /* input records (every rank alike); bad input: the reason in err, -1 */
    int (*inputs)(sdg_ctx *x, cJSON *in, char *err, size_t errlen);
    /* the stage's settings that decide its output (hashed with the inputs and the template) */
    void (*settings)(const nt_config *c, char *buf, size_t n);
    /* records [a, b) of in: out[k - a] = the output lines of record k
     * (malloc'd, "\n"-joined, "" for none) for the records this rank
     * writes (sdg_mine), NULL for the others */
    void (*shard)(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st);
    /* optional: the number of passes (the genetic stage's generations): pass r
     * (x->round, 1-based) writes RUNDIR/STAGE.gNN.* as a stage of its own would */
    int (*rounds)(const nt_config *c);
    /* optional, rank 0, after a pass's shards are joined (joined: its output
     * text): the stage's own fields of the pass's report */
    void (*finish_pass)(sdg_ctx *x, const char *joined, size_t n, cJSON *rep);
    /* optional, rank 0, after the last pass of a stage with rounds: writes
     * RUNDIR/STAGE.jsonl and RUNDIR/STAGE.report.json */
    void (*finish)(sdg_ctx *x);
} sdg_stage;

/* the driver's side (sdg_run.c) */
struct sdg_ctx {
    const nt_config *cfg;
    const nt_deck_info *info;
    const sdg_stage *stage;
    nt_template tpl;                     /* the stage's template (when it has one) */
    char dir[NT_PATH_MAX];               /* run.dir: STAGE.jsonl, STAGE.d/, STAGE.report.json */
    char listed[512];                    /* sdg.stages, normalised: " a b c " */
    nt_gen *gen;                         /* the generator, loaded on first use */
    char gen_want[NT_PATH_MAX];          /* the generator's checkpoint ("" = checkpoint.load) */
    char gen_have[NT_PATH_MAX];          /* the one x->gen holds */
    nt_scorer *rm;                       /* the reward model, loaded on first use */
    int DP, dp, lead;                    /* the data-parallel layout of the shard's engine; lead: writes */
    int shard_a;                         /* the shard's first record (ownership is by place in the shard) */
    int round, rounds;                   /* the pass (1-based) of a stage with rounds, and their number */
    char base[64];                       /* the pass's file name: STAGE, or STAGE.gNN */
    double temperature;                  /* >= 0: the next sdg_generate samples at it (the judge) */
};

const sdg_stage *sdg_stage_find(const char *name);
int sdg_stage_count(void);
const sdg_stage *sdg_stage_at(int i);
/* the files the listed stages read from the deck (topics_file, document_types,
 * documents, keywords, personas, prompts) read and checked, before anything is
 * written; listed: " a b c "; the first problem into err, -1 */
int sdg_check_files(const nt_config *c, const char *listed, char *err, size_t errlen);

/* ---- services of the driver to the stages (sdg_run.c) ---- */
/* this rank writes record k of a shard (k mod DP = dp, and it leads its group) */
int sdg_mine(const sdg_ctx *x, int k);
/* whether stage name was listed in sdg.stages before the current one */
int sdg_ran_before(const sdg_ctx *x, const char *name);
/* the generators of the responses stage: checkpoint.load, then sdg.generators (at most max; the count) */
int sdg_generators(const nt_config *c, char paths[][NT_PATH_MAX], int max);
/* the records of an earlier stage's output (appended to arr); -1 and err if unreadable */
int sdg_read_stage(sdg_ctx *x, const char *name, cJSON *arr, char *err, size_t errlen);
/* n samples of each prompt (objects with "id" and "messages"), all ranks
 * calling with the same prompts: text[k * n + j] and reason[k * n + j]
 * (malloc'd) for the prompts this rank's group generates (k mod DP = dp), NULL for the others */
void sdg_generate(sdg_ctx *x, cJSON *const *prompts, int np, int n, char **text, char **reason, sdg_stats *st);
/* scores of conversations ("prompt" messages, "response"): the scored
 * records (JSON text, malloc'd) of this rank's group, NULL for the others */
void sdg_score(sdg_ctx *x, cJSON *const *convs, int nc, char **scored, sdg_stats *st);
/* path.tmp written, fsynced, renamed to path (rank 0; a failure: exit 1) */
void sdg_write_atomic(const char *path, const char *text, size_t n);
/* a whole file (malloc'd, NUL-terminated; *len its size) or NULL */
char *sdg_read_text(const char *path, size_t *len);
/* v indented, a newline, written by sdg_write_atomic (rank 0); v is deleted */
void sdg_write_json(const char *path, cJSON *v);
/* a string field of a record, "" when missing or of another type */
const char *sdg_str(const cJSON *o, const char *key);
/* output lines, "\n"-joined (a growing string): add a record (printed, deleted); take the text ("" for none, malloc'd; l is empty again) */
typedef nt_strbuf sdg_lines;
void sdg_lines_add(sdg_lines *l, cJSON *rec);
char *sdg_lines_take(sdg_lines *l);
/* the lines as a JSON-lines file (each line ending in a newline), by sdg_write_atomic; l is freed */
void sdg_write_lines(const char *path, sdg_lines *l);
/* t[0..n) and t freed */
void sdg_free_texts(char **t, int n);
/* a record's JSON text (malloc'd); the object is deleted */
char *sdg_print(cJSON *o);
/* "User: ...\n\nAssistant: ..." of a messages array (malloc'd; for templates) */
char *sdg_conversation_text(const cJSON *msgs);
/* a generator prompt {"id": "STAGE/ID[/round]" (round > 0), "messages": [user: text]}:
 * its id keys the random stream */
cJSON *sdg_gen_prompt(const char *stage, const char *id, int round, const char *text);
/* a user turn as messages [{"role": "user", "content": text}] */
cJSON *sdg_user_messages(const char *text);

#endif
