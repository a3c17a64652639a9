/* model.h — the Nemotron-4 decoder: parameters, activations, forward and
 * backward through the backend's ops table.
 *
 * A model object is one contiguous range of layers (a pipeline chunk) plus,
 * where the chunk is first/last, the embedding and the final norm + LM head.
 * Parameters live in one flat buffer (act dtype) described by a tensor table
 * (name, local and full shape, TP split, weight decay); gradients in one
 * flat fp32 buffer with the same offsets.  This flat layout is what the
 * optimizer shards, the clipping norm sums, and checkpoints address.
 *
 * nt_model_forward stops at the chunk output; the heads are separate calls,
 * each split into a forward half (per-token NLL of the LM head, scores of
 * the reward head) and a backward half from the loss's coefficients, so a
 * phase's loss (loss.c) sets its own gradient.  A frozen model (want_grads
 * = 0: a reference policy or generator, see modelset.h) has no gradient
 * buffers and its activations no backward scratch.
 */
#ifndef NTRON_MODEL_H
#define NTRON_MODEL_H

#include "backend/backend.h"
#include "parallel/comm.h"
#include "model/model_config.h"

#include <stdint.h>

enum nt_split { NT_SPLIT_NONE = 0, NT_SPLIT_ROWS = 1, NT_SPLIT_COLS = 2 };

typedef struct nt_tensor_info {
    char name[96];
    int rows, cols;            /* local shape (cols = 1 for vectors) */
    int full_rows, full_cols;  /* logical (unsharded) shape */
    int row0, col0;            /* offset of the local shard in the full tensor */
    int split;                 /* nt_split: TP split of this tensor */
    int decay;                 /* weight decay applies (2-D weights) */
    size_t offset, numel;      /* in the flat buffers (elements) */
} nt_tensor_info;

/* per-layer views into the flat parameter and gradient buffers */
typedef struct nt_layer_view {
    void *ln1_g, *ln1_b, *qkv, *out, *ln2_g, *ln2_b, *up, *down;
    float *d_ln1_g, *d_ln1_b, *d_qkv, *d_out, *d_ln2_g, *d_ln2_b, *d_up, *d_down;
} nt_layer_view;

typedef struct nt_model {
    const nt_ops *ops;
    nt_model_config mc;
    const nt_comm *tp_comm;     /* tensor-parallel group (size 1 without TP) */
    int layer0, nlayers;        /* global index of the first local layer, count */
    int has_embedding, has_head;
    int want_grads;
    int owns_buffers;

    int ntensors;
    nt_tensor_info *tensors;
    size_t nparams;             /* elements in the flat buffers */
    void *params;               /* act dtype */
    float *master;              /* fp32 master (== params on the CPU backend) */
    float *grads;               /* fp32, NULL if !want_grads */

    /* When set, nt_model_backward reports each range [lo, hi) of the flat
     * gradients (elements) it has finished writing: the head's tensors, then
     * each layer's from the last, then the embedding.  The model set sets it
     * for the last backward of a pass, where those gradients are final (the
     * data-parallel reduction starts on them: train/grad_reduce.h). */
    void (*grads_done)(void *ctx, const struct nt_model *m, size_t lo, size_t hi);
    void *grads_done_ctx;

    nt_layer_view *layer;       /* [nlayers] */
    void *emb, *lnf_g, *lnf_b, *lm_head, *reward_head;
    float *d_emb, *d_lnf_g, *d_lnf_b, *d_lm_head, *d_reward_head;
} nt_model;

/* Activations of one in-flight micro-batch (B sequences of T tokens). */
typedef struct nt_acts {
    int B, T, N;                 /* N = B*T rows */
    int Nl;                      /* rows of the residual stream on this rank (N/tp with SP) */
    int32_t *tokens, *targets;   /* backend copies [N] */
    int32_t *pos;                /* backend copy [N]: positions inside packed samples (used when packed) */
    int packed;                  /* this micro-batch's rows are packed (nt_model_set_positions) */
    void *x;                     /* [nlayers+1][Nl,H] residual stream at each layer input; x[nlayers] = chunk output */
    void *ln1, *qkv, *att, *ln2, *up, *act;   /* per layer */
    float *mean1, *rstd1, *mean2, *rstd2, *lse;
    void *lnf;                   /* final norm output [N,H] */
    float *meanf, *rstdf;
    void *logits;                /* [N, vocab_local] (reused for dlogits) */
    float *rowmax, *sumexp, *tgt, *loss, *dloss;
    /* backward scratch */
    void *dx, *dtmp, *dqkv, *datt, *dup;
    void *xmid;                  /* per layer: residual after attention [Nl,H] */
    void *dfull, *lnl;           /* [N,H] gathered gradient; [Nl,H] local norm output / gradient */
    float *host_loss;            /* [N] on the host */
    void *score;                 /* reward head: [N, K] scores of every row (reused for their gradient) */
    float *host_score, *host_dscore;   /* [N, K] on the host */
    int shares_scratch;          /* the workspace (dtmp, lnl, dx, dfull, dqkv, datt, dup) is another slot's */
} nt_acts;

/* Two-phase creation: layout builds the tensor table (nparams known), bind
 * points the model at flat buffers (NULL: allocate its own).  A trainer
 * with several pipeline chunks binds them into one joint buffer. */
void nt_model_layout(nt_model *m, const nt_ops *ops, const nt_model_config *mc,
                     const nt_comm *tp_comm, int layer0, int nlayers,
                     int has_embedding, int has_head);
void nt_model_bind(nt_model *m, void *params, float *master, float *grads, int want_grads);
void nt_model_create(nt_model *m, const nt_ops *ops, const nt_model_config *mc,
                     const nt_comm *tp_comm, int layer0, int nlayers,
                     int has_embedding, int has_head, int want_grads);
void nt_model_destroy(nt_model *m);
/* Layout-independent initialisation: each element's value depends only on
 * (seed, tensor name, full-tensor index), so every TP/PP layout starts from
 * the same model.  Linear weights ~ N(0, init_std); the output projection
 * and MLP-down ~ N(0, init_std/sqrt(2*layers)) (Megatron's scaled init);
 * norm gamma (zero-centred) and beta = 0. */
void nt_model_init_params(nt_model *m, uint64_t seed);
const nt_tensor_info *nt_model_find(const nt_model *m, const char *name);

void nt_acts_create(nt_acts *a, const nt_model *m, int B, int T);
/* The same, but the workspace — the forward's row-reduction / gathered-LN
 * scratch and the backward's (dtmp, lnl, dx, dfull, dqkv, datt, dup), none
 * of which holds anything from one pass of a slot to the next — is
 * scratch's (a slot of the same shape that owns its own), so the in-flight
 * micro-batches of a pipeline keep one workspace, not one each.  scratch
 * NULL: as nt_acts_create.  scratch must outlive a. */
void nt_acts_create_sharing(nt_acts *a, const nt_model *m, int B, int T, const nt_acts *scratch);
void nt_acts_destroy(nt_acts *a, const nt_model *m);

/* Forward of the chunk.  tokens [B*T] (used if has_embedding), x_in [N,H]
 * (used otherwise, already in a->x slot 0).  Leaves the chunk output in
 * slot nlayers of a->x. */
void nt_model_forward(nt_model *m, nt_acts *a, const int32_t *tokens_host);
/* Packed rows: pos_host [N] = each token's position inside its own sample
 * (restarting at 0 where a sample starts; 0 <= pos[b,t] <= t), uploaded for
 * this micro-batch's forward and backward: RoPE restarts per sample and the
 * attention is block-diagonal causal.  NULL: ordinary causal rows.  Call
 * before nt_model_forward on every pipeline chunk. */
void nt_model_set_positions(nt_model *m, nt_acts *a, const int32_t *pos_host);
/* Final norm + LM head: this rank's vocab shard of the logits into
 * a->logits [N, vocab_local] (no loss; for generation and tests). */
void nt_model_head_logits(nt_model *m, nt_acts *a);
/* LM head, forward half: vocab-parallel log-softmax of the chunk output
 * (has_head) at the targets.  targets_host [N] (< 0: no target; its value
 * is then meaningless).  Returns this rank's host copy [N] of every row's
 * negative log-probability -log p(target) (identical on every TP rank;
 * valid until the next call on these activations).  Keeps the row max and
 * sum-exp for the backward half. */
const float *nt_model_head_nll(nt_model *m, nt_acts *a, const int32_t *targets_host);
/* LM head, backward half: coef_host [N] = dLoss/d(nll of row i) (0 for rows
 * without a target) sets dlogits = coef * (softmax - onehot), the head's
 * gradient for nt_model_backward.  Each phase's loss picks its coefficients
 * (token cross-entropy: 1/loss tokens; DPO: per sequence). */
void nt_model_head_nll_backward(nt_model *m, nt_acts *a, const float *coef_host);
/* Reward head (model.head = reward): final norm, then K scores per row from
 * reward_head.weight [K, H] (no bias); a sequence's scores are those of its
 * row ends[b] (the last token of the sample).  scores [B*K] on the host. */
void nt_model_head_scores(nt_model *m, nt_acts *a, const int *ends, float *scores);
/* Reward head, backward half: dscores [B*K] = dLoss/d(score) of each
 * sequence's end row (all other rows get 0). */
void nt_model_head_scores_backward(nt_model *m, nt_acts *a, const int *ends, const float *dscores);
/* Backward: from the head (has_head) or from dy = gradient of the chunk
 * output already in a->dx.  Accumulates parameter gradients.  On return
 * a->dx holds the gradient of the chunk input (for the previous stage). */
void nt_model_backward(nt_model *m, nt_acts *a);

#endif
