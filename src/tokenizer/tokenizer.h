/* tokenizer.h — the tokenizers `ntron prep` and `ntron tokenizer` use:
 * "byte" (ids 0..255 = UTF-8 bytes, 256 BOS, 257 EOD, vocab 258) or a
 * SentencePiece model file (trained by `ntron tokenizer train` with byte
 * fallback, identity normalisation and the Nemotron chat control tokens
 * `<extra_id_0>System`, `<extra_id_1>User`, `<extra_id_1>Assistant` as
 * single user-defined pieces).  The tokenizer hash stored in every dataset
 * is the SHA-256 of the model file (of a fixed description for "byte"). */
#ifndef NTRON_TOKENIZER_H
#define NTRON_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer_spm.h"

typedef struct { uint32_t *v; size_t n, cap; } nt_u32vec;
void nt_u32vec_push(nt_u32vec *a, uint32_t x);

#define NT_CHAT_SYSTEM "<extra_id_0>System"
#define NT_CHAT_USER "<extra_id_1>User"
#define NT_CHAT_ASSISTANT "<extra_id_1>Assistant"

typedef struct nt_tokenizer {
    int is_byte;
    nt_spm *spm;
    char spec[1024];        /* "byte" or the model path */
    char hash[65];          /* SHA-256 hex */
    int vocab, bos, eod;    /* eod: EOS of SentencePiece models */
    int sys_id, user_id, asst_id; /* chat control tokens; -1 if the model lacks them */
} nt_tokenizer;

/* spec: "byte" or a .model path; bad spec or model: exit 2 naming it. */
void nt_tokenizer_open(nt_tokenizer *t, const char *spec);
void nt_tokenizer_close(nt_tokenizer *t);
/* Appends the ids of text[0..len) to out.  Returns 0, or -1 with a reason in err. */
int nt_tokenizer_encode(const nt_tokenizer *t, const char *text, size_t len, nt_u32vec *out, char *err,
                        size_t errlen);
/* Decoded text (malloc'd, NUL-terminated) of ids; special ids become their names. */
char *nt_tokenizer_decode(const nt_tokenizer *t, const uint32_t *ids, size_t n);
/* SHA-256 hex of the tokenizer spec ("byte" or a model file); exit 2 if unreadable. */
void nt_tokenizer_hash(const char *spec, char hex[65]);
/* `ntron tokenizer train|encode|decode ...` */
int nt_tokenizer_main(int argc, char **argv);

#endif
