/* tokenizer_spm.h — a C interface to SentencePiece (Debian's
 * libsentencepiece): train a model, load it, encode UTF-8 text to ids and
 * decode ids back.  Implemented in tokenizer_spm.cc, the project's only C++.
 * Every function returns 0 on success; on failure it returns -1 and writes
 * the library's message into err. */
#ifndef NTRON_TOKENIZER_SPM_H
#define NTRON_TOKENIZER_SPM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nt_spm nt_spm;

/* kwargs: "key=value" strings as for spm_train (input, model_prefix, vocab_size, ...). */
int nt_spm_train(int nkw, const char *const *kwargs, char *err, size_t errlen);
nt_spm *nt_spm_load(const char *path, char *err, size_t errlen);
void nt_spm_free(nt_spm *m);
/* ids: malloc'd array of *n ids (caller frees). */
int nt_spm_encode(const nt_spm *m, const char *text, size_t len, int **ids, size_t *n, char *err, size_t errlen);
/* text: malloc'd NUL-terminated string of *len bytes (caller frees). */
int nt_spm_decode(const nt_spm *m, const int *ids, size_t n, char **text, size_t *len, char *err, size_t errlen);
int nt_spm_vocab_size(const nt_spm *m);
int nt_spm_piece_to_id(const nt_spm *m, const char *piece); /* -1 if absent (maps to unk) */
int nt_spm_bos_id(const nt_spm *m);
int nt_spm_eos_id(const nt_spm *m);

#ifdef __cplusplus
}
#endif
#endif
