/* model_config.c — derived model shape, parameter count and FLOPs. */
#include "model/model_config.h"

#include <string.h>

void nt_model_config_init(nt_model_config *mc, const nt_config *cfg, int tp, int tp_rank)
{
    mc->layers = cfg->layers;
    mc->hidden = cfg->hidden;
    mc->ffn = cfg->ffn_hidden;
    mc->heads = cfg->heads;
    mc->kv_heads = cfg->kv_heads;
    mc->head_dim = cfg->hidden / cfg->heads;
    mc->qpg = cfg->heads / cfg->kv_heads;
    /* truncation, as transformers' int(head_dim * partial_rotary_factor)
     * (the same IEEE double product); the deck refuses an odd width */
    mc->rot = (int)(mc->head_dim * cfg->rotary_fraction);
    mc->seq_len = cfg->seq_len;
    mc->vocab = cfg->vocab;
    int mult = 128 * tp;
    mc->vocab_padded = (cfg->vocab + mult - 1) / mult * mult;
    mc->rope_base = (float)cfg->rotary_base;
    mc->norm_eps = (float)cfg->norm_eps;
    mc->init_std = (float)cfg->init_std;
    mc->tp = tp;
    mc->tp_rank = tp_rank;
    mc->sp = cfg->sequence_parallel && tp > 1;
    mc->recompute = !strcmp(cfg->recompute, "full") ? NT_RECOMPUTE_FULL
                    : !strcmp(cfg->recompute, "selective") ? NT_RECOMPUTE_SELECTIVE : NT_RECOMPUTE_NONE;
    mc->head = !strcmp(cfg->head, "reward") ? NT_HEAD_REWARD : NT_HEAD_LM;
    mc->reward_outputs = cfg->reward_outputs > 0 ? cfg->reward_outputs : 5;
    mc->groups_local = cfg->kv_heads / tp;
    mc->qkv_local = mc->groups_local * (mc->qpg + 2) * mc->head_dim;
    mc->attn_local = mc->groups_local * mc->qpg * mc->head_dim;
    mc->ffn_local = cfg->ffn_hidden / tp;
    mc->vocab_local = mc->vocab_padded / tp;
    mc->vocab_lo = tp_rank * mc->vocab_local;
}

double nt_model_param_count(const nt_model_config *mc)
{
    double h = mc->hidden, hd = mc->head_dim;
    double qkv = (double)mc->kv_heads * (mc->qpg + 2) * hd * h;
    double out = h * mc->heads * hd;
    double mlp = 2.0 * h * mc->ffn;
    double norms = 4.0 * h;
    double per_layer = qkv + out + mlp + norms;
    /* embedding, final norm and the head: vocab projection or reward map */
    double head = mc->head == NT_HEAD_REWARD ? (double)mc->reward_outputs * h : (double)mc->vocab_padded * h;
    return mc->layers * per_layer + mc->vocab_padded * h + head + 2.0 * h;
}

double nt_model_flops_per_token(const nt_model_config *mc)
{
    /* B*s*[6*L*h^2*(2 + 2g/a + 2f/h) + 12*L*s*h + 6*h*V] per iteration (DESIGN.md);
     * per token: divide by B*s.  Assumes heads*head_dim == hidden. */
    double L = mc->layers, h = mc->hidden, s = mc->seq_len, V = mc->vocab_padded;
    double g = mc->kv_heads, a = mc->heads, f = mc->ffn;
    if (mc->head == NT_HEAD_REWARD) V = mc->reward_outputs;
    return 6.0 * L * h * h * (2.0 + 2.0 * g / a + 2.0 * f / h) + 12.0 * L * s * h + 6.0 * h * V;
}
