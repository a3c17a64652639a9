/* hf_config.h — Hugging Face NemotronForCausalLM configuration (config.json)
 * <-> ntron's model shape, and the tensor-name mapping between the two.
 *
 * Reading refuses, by field name, everything ntron's model cannot
 * represent: another architecture, head_dim != hidden/heads, biases
 * (attention_bias, mlp_bias), tied embeddings, an activation other than
 * relu2, rope_scaling, dropout, quantisation, and a rotary width
 * int(head_dim * partial_rotary_factor) that is odd (transformers
 * truncates; ntron does the same, model_config.c).
 *
 * Names: HF model.embed_tokens.weight <-> embedding.weight;
 * model.layers.L.{input_layernorm, post_attention_layernorm}.{weight,bias}
 * <-> layers.L.{input_norm, post_attn_norm}.*; self_attn.{q,k,v}_proj
 * <-> rows of layers.L.attn.qkv.weight (per KV group g: the group's qpg
 * query heads, then its k head, then its v head); self_attn.o_proj <->
 * attn.out; mlp.up_proj / down_proj <-> mlp.up / mlp.down; model.norm <->
 * final_norm; lm_head <-> lm_head (real vocabulary rows only in HF).
 * Norm weights are zero-centred in both (LayerNorm1P). */
#ifndef NTRON_HF_CONFIG_H
#define NTRON_HF_CONFIG_H

#include <stddef.h>

#include "deck/config.h"

typedef struct nt_hf_config {
    int layers, hidden, ffn, heads, kv_heads, head_dim, vocab, seq_len, rot;
    double rotary_fraction, rope_theta, norm_eps, init_std;
    int bos, eos, pad;            /* token ids; -1: none */
    char torch_dtype[32];         /* "" if absent */
} nt_hf_config;

/* Read and validate path (config.json): 0, or -1 with one line naming the
 * file and field in err. */
int nt_hf_config_read(const char *path, nt_hf_config *c, char *err, size_t errlen);

/* The model keys of an ntron config from c (other fields untouched). */
void nt_hf_config_to_ntron(const nt_hf_config *c, nt_config *cfg);

/* The model part of an HF config from an ntron model shape; bos/eos/pad
 * left to the caller (set -1). */
void nt_hf_config_from_ntron(nt_hf_config *c, const nt_config *cfg);

/* config.json text for c (architectures NemotronForCausalLM, every field
 * transformers reads); torch_dtype "bfloat16" or "float32".  Caller frees. */
char *nt_hf_config_json(const nt_hf_config *c, const char *torch_dtype);

/* ---- tensor names ---------------------------------------------------------- */
/* HF tensors of one model, in the order export writes them. */
typedef enum nt_hf_part { NT_HF_WHOLE = 0, NT_HF_Q, NT_HF_K, NT_HF_V } nt_hf_part;
typedef struct nt_hf_name {
    char hf[128];                 /* HF tensor name */
    char nt[96];                  /* ntron tensor it maps to */
    nt_hf_part part;              /* QKV: which rows of attn.qkv.weight */
    int rows, cols;               /* HF shape (cols = 1: a vector) */
} nt_hf_name;

/* Fills names (caller frees) and returns their number. */
int nt_hf_names(const nt_hf_config *c, nt_hf_name **names);

/* Row of attn.qkv.weight that HF row r of the given part (Q, K or V) is. */
int nt_hf_qkv_row(const nt_hf_config *c, nt_hf_part part, int r);

#endif
