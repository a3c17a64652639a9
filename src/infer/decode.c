/* decode.c — the decoder's step through the pipeline (see decode.h):
 * activations pass stage to stage as grouped exchanges on the model set's
 * buffers when it uses grouped p2p (parallel.p2p; NCCL on device buffers),
 * else as tagged MPI messages from host copies. */
#include "infer/decode.h"
#include "util/check.h"
#include "util/sys.h"

#include <string.h>

#define DECODE_TAG 4242

void nt_decoder_init(nt_decoder *d, nt_modelset *ms, int slots, int Tmax, int rows)
{
    memset(d, 0, sizeof *d);
    d->ms = ms;
    d->slots = slots;
    d->Tmax = Tmax;
    d->max_rows = rows;
    int P = ms->grid.PP, S = P * ms->v;
    for (int c = 0; c < ms->v; c++) {
        nt_kvcache_create(&d->kv[c], &ms->chunk[c], slots, Tmax);
        nt_decode_acts_create(&d->acts[c], &ms->chunk[c], rows, rows);
        if (c * P + ms->grid.pp == S - 1) d->last = 1;
    }
    d->host = nt_malloc((size_t)rows * ms->cfg.hidden * sizeof(float), "decode p2p staging");
    if (ms->p2p_grouped) nt_comm_exchange(&ms->grid.pp_comm, NULL, 0);   /* the device path ready on every stage */
}

void nt_decoder_free(nt_decoder *d)
{
    for (int c = 0; c < d->ms->v; c++) {
        nt_kvcache_free(&d->kv[c]);
        nt_decode_acts_free(&d->acts[c], &d->ms->chunk[c]);
    }
    free(d->host);
    memset(d, 0, sizeof *d);
}

nt_model *nt_decoder_head(nt_decoder *d)
{
    return d->last ? &d->ms->chunk[d->ms->v - 1] : NULL;
}

const void *nt_decoder_step(nt_decoder *d, int B, int T, const int32_t *tokens, const int *slot, const int *pos,
                            int nout, const int *outrows)
{
    nt_modelset *ms = d->ms;
    const nt_ops *o = ms->ops;
    int P = ms->grid.PP, S = P * ms->v, H = ms->cfg.hidden;
    size_t nx = (size_t)B * T * H;
    nt_dtype adt = nt_dtype_of_act(o->act_bytes);
    NT_CHECK(B * T <= d->max_rows && nout <= d->max_rows, "internal: decoder step of %d x %d rows, room for %d", B, T,
             d->max_rows);
    double t0 = nt_now();
    const void *logits = NULL;
    for (int c = 0; c < ms->v; c++) {
        int s = c * P + ms->grid.pp;
        nt_decode_acts *a = &d->acts[c];
        if (s > 0 && ms->p2p_grouped) {
            /* one transfer per group: each rank receives before it sends, so the chain of
             * synchronous sends (NCCL's, or MPI_Issend) always finds its receive posted */
            nt_p2p x = {0, a->x, nx, adt, (s - 1) % P};
            nt_comm_exchange(&ms->grid.pp_comm, &x, 1);
        } else if (s > 0) {
            nt_comm_recv_f32(&ms->grid.pp_comm, d->host, nx, (s - 1) % P, DECODE_TAG);
            o->to_act(a->x, d->host, nx);
        }
        nt_model_decode(&ms->chunk[c], &d->kv[c], a, B, T, tokens, slot, pos);
        if (s < S - 1 && ms->p2p_grouped) {
            nt_p2p x = {1, a->x, nx, adt, (s + 1) % P};
            nt_comm_exchange(&ms->grid.pp_comm, &x, 1);
        } else if (s < S - 1) {
            o->from_act(d->host, a->x, nx);
            nt_comm_send_f32(&ms->grid.pp_comm, d->host, nx, (s + 1) % P, DECODE_TAG);
        } else if (nout > 0) {
            nt_model_decode_logits(&ms->chunk[c], a, nout, outrows);
            logits = a->logits;
        }
    }
    o->sync();
    double dt = nt_now() - t0;
    if (T > 1) { d->t_prefill += dt; d->n_prefill += (long)B * T; }
    else { d->t_decode += dt; d->n_decode += B; }
    return logits;
}
