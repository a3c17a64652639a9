/* prep_format.h — the record formats `ntron prep` reads (plain-text
 * documents, JSON-lines documents, chat conversations, preference pairs,
 * HelpSteer2 reward samples) and their rendering into token ids with the
 * Nemotron chat template.  Pure functions of one record: no MPI, no I/O,
 * so every rank renders the records of its own range independently. */
#ifndef NTRON_PREP_FORMAT_H
#define NTRON_PREP_FORMAT_H

#include "tokenizer/tokenizer.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { NT_FMT_TEXT, NT_FMT_JSONL, NT_FMT_CHAT, NT_FMT_PREF, NT_FMT_RM } nt_prep_format;

/* growable byte buffer holding fixed-size elements */
typedef struct { unsigned char *p; size_t n, cap; } nt_bytes;
void nt_bytes_push(nt_bytes *b, const void *x, size_t size);

/* What one rank produced; offsets are relative to the rank's first token. */
typedef struct nt_prep_out {
    nt_u32vec tok;
    nt_bytes mask;    /* uint8 per token (chat only): 1 = trained on */
    nt_bytes ends;    /* uint64 per sample: end of the sample */
    nt_bytes ranges;  /* preference: uint64 x4 per pair: prompt, chosen, rejected starts, end */
    nt_bytes rewards; /* preference: float32 x2 per pair (NaN when absent) */
    nt_bytes labels;  /* reward model: int8 x5 per sample */
} nt_prep_out;

extern const char *const nt_rm_attributes[5];
const char *nt_prep_kind(nt_prep_format f);  /* pretrain | sft | preference | reward */

/* Renders one record (one JSON line, or one plain-text document) and
 * appends it to out.  Returns 0, or -1 with the reason in err. */
int nt_prep_record(nt_prep_format fmt, const nt_tokenizer *t, const char *text, size_t len, nt_prep_out *out,
                   char *err, size_t errlen);
/* For generation and scoring (src/infer), the same template: a prompt
 * (messages or a string, `field` names it in errors) rendered up to and
 * including `<extra_id_1>Assistant\n`, appended to out; a scored
 * conversation = that prompt + response + "\n" + EOS, as `--format reward`
 * renders a sample (*resp_start: index in out of the response's first
 * token).  Return 0, or -1 with the reason in err. */
struct cJSON;
int nt_prep_render_prompt(const nt_tokenizer *t, const struct cJSON *msgs, const char *field, nt_u32vec *out,
                          char *err, size_t errlen);
int nt_prep_render_scored(const nt_tokenizer *t, const struct cJSON *prompt, const char *response, nt_u32vec *out,
                          size_t *resp_start, char *err, size_t errlen);
/* 1 if s[0..n) is valid UTF-8 without NUL bytes; else 0 and the reason. */
int nt_utf8_check(const char *s, size_t n, char *err, size_t errlen);

#endif
