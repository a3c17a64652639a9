/* decode.h — the decoder: a frozen model set (train/modelset.h) with a KV
 * cache per chunk, run one step at a time through every pipeline stage.
 * A step is either the prefill of prompts (T tokens per sequence, starting
 * at position 0) or one decode token per sequence; stage s hands its
 * output rows to stage s+1 over MPI (host copies, as the training pass),
 * and the last stage's ranks end with the logits of the rows asked for
 * (their vocabulary shard).  Interleaved virtual stages work the same way
 * (one item in flight, so the order cannot deadlock). */
#ifndef NTRON_DECODE_H
#define NTRON_DECODE_H

#include "train/modelset.h"
#include "model/model_decode.h"
#include "infer/kvcache.h"

typedef struct nt_decoder {
    nt_modelset *ms;
    int slots, Tmax, max_rows;
    int last;                              /* this rank holds the last stage (logits, sampling) */
    nt_kvcache kv[NT_MAX_CHUNKS];
    nt_decode_acts acts[NT_MAX_CHUNKS];
    float *host;                           /* [max_rows, H] p2p staging */
    double t_prefill, t_decode;            /* seconds spent in each kind of step */
    long n_prefill, n_decode;              /* tokens processed by each kind */
} nt_decoder;

/* slots: sequences decoded together; Tmax: positions per sequence; rows:
 * the most rows of one step (a prefill of one prompt needs its length). */
void nt_decoder_init(nt_decoder *d, nt_modelset *ms, int slots, int Tmax, int rows);
void nt_decoder_free(nt_decoder *d);
/* One step over every stage (collective over the model-parallel ranks of
 * this DP group).  Returns the last chunk's logits [nout, vocab_local] of
 * rows outrows[] (backend memory, valid until the next step) on the last
 * stage's ranks, NULL on the others. */
const void *nt_decoder_step(nt_decoder *d, int B, int T, const int32_t *tokens, const int *slot, const int *pos,
                            int nout, const int *outrows);
/* The last chunk (the model holding the head) on the last stage's ranks, else NULL. */
nt_model *nt_decoder_head(nt_decoder *d);

#endif
