/* model_config.h — model shape derived from the deck: head dim, rotated
 * width, padded vocabulary, KV groups, TP-local sizes, parameter and FLOP
 * counts (the formulas of DESIGN.md "Performance accounting"). */
#ifndef NTRON_MODEL_CONFIG_H
#define NTRON_MODEL_CONFIG_H

#include "deck/config.h"

enum { NT_RECOMPUTE_NONE = 0, NT_RECOMPUTE_SELECTIVE = 1, NT_RECOMPUTE_FULL = 2 };
enum { NT_HEAD_LM = 0, NT_HEAD_REWARD = 1 };

typedef struct nt_model_config {
    int layers, hidden, ffn, heads, kv_heads, head_dim, qpg, rot, seq_len;
    int vocab;            /* vocabulary of the data/tokenizer */
    int vocab_padded;     /* rounded up to a multiple of 128 * tensor */
    float rope_base, norm_eps, init_std;
    /* tensor-parallel shard (tp = 1: everything local) */
    int tp, tp_rank;
    int sp;               /* sequence parallel (only with tp > 1) */
    int recompute;        /* NT_RECOMPUTE_*: which activations backward recomputes */
    int head;             /* NT_HEAD_*: output head of the last pipeline stage */
    int reward_outputs;   /* NT_HEAD_REWARD: scores per sequence */
    int groups_local;     /* KV groups on this rank */
    int qkv_local;        /* rows of the fused QKV shard: groups_local*(qpg+2)*hd */
    int attn_local;       /* attention output width: groups_local*qpg*hd */
    int ffn_local;
    int vocab_local, vocab_lo;
} nt_model_config;

void nt_model_config_init(nt_model_config *mc, const nt_config *cfg, int tp, int tp_rank);
/* Total parameters of the full (unsharded) model, padded vocabulary included. */
double nt_model_param_count(const nt_model_config *mc);
/* Training FLOPs per token (DESIGN.md formula divided by B*s). */
double nt_model_flops_per_token(const nt_model_config *mc);

#endif
