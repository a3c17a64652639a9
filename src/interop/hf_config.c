/* hf_config.c — NemotronForCausalLM config.json <-> ntron model shape, and
 * the HF <-> ntron tensor names (see hf_config.h). */
#include "interop/hf_config.h"
#include "interop/hf.h"
#include "util/check.h"
#include "util/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT_HF_TRANSFORMERS_VERSION "4.44.2"

size_t nt_hf_block(void)
{
    const char *e = getenv("NTRON_HF_CHUNK");
    long v = e ? atol(e) : 0;
    return v > 0 ? (size_t)v : (size_t)1 << 24;
}

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { nt_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    size_t cap = 4096, n = 0;
    char *buf = nt_malloc(cap, "file");
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *b = realloc(buf, cap);
            NT_CHECK(b != NULL, "out of memory reading %s", path);
            buf = b;
        }
    }
    int e = ferror(f);
    fclose(f);
    if (e) { free(buf); nt_fail(err, errlen, "%s: read failed", path); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* integer field: 1 found, 0 missing/null (default kept), -1 wrong type */
static int get_int(const cJSON *o, const char *key, int *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x || cJSON_IsNull(x)) return 0;
    if (cJSON_IsArray(x) && cJSON_GetArraySize(x) > 0) x = cJSON_GetArrayItem(x, 0);   /* eos_token_id: [a, b] */
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || fabs(x->valuedouble) > 2147483647.0) return -1;
    *v = (int)x->valuedouble;
    return 1;
}
static int get_num(const cJSON *o, const char *key, double *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsNumber(x)) return -1;
    *v = x->valuedouble;
    return 1;
}
/* boolean field: 1/0, or -1 if of another type; def if missing */
static int get_bool(const cJSON *o, const char *key, int def)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x || cJSON_IsNull(x)) return def;
    if (!cJSON_IsBool(x)) return -1;
    return cJSON_IsTrue(x) ? 1 : 0;
}

int nt_hf_config_read(const char *path, nt_hf_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t len = 0;
    char *text = slurp(path, &len, err, errlen);
    if (!text) return -1;
    char jerr[256];
    cJSON *o = nt_json_parse(text, len, jerr, sizeof jerr);
    free(text);
    if (!o) return nt_fail(err, errlen, "%s: %s", path, jerr);
    int rc = 0;
#define FAIL(...) do { rc = nt_fail(err, errlen, __VA_ARGS__); goto out; } while (0)
    if (!cJSON_IsObject(o)) FAIL("%s: not a JSON object", path);
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(o, "architectures");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "model_type");
    if (arch && !cJSON_IsNull(arch)) {
        int found = 0;
        const cJSON *a;
        if (!cJSON_IsArray(arch)) FAIL("%s: architectures: not a list", path);
        cJSON_ArrayForEach(a, arch) if (cJSON_IsString(a) && !strcmp(a->valuestring, "NemotronForCausalLM")) found = 1;
        if (!found) {
            const cJSON *first = cJSON_GetArrayItem(arch, 0);
            FAIL("%s: architectures: %s, ntron reads NemotronForCausalLM only", path,
                 first && cJSON_IsString(first) ? first->valuestring : "(none)");
        }
    } else if (!cJSON_IsString(mt) || strcmp(mt->valuestring, "nemotron") != 0) {
        FAIL("%s: model_type: %s, ntron reads nemotron (NemotronForCausalLM) only", path,
             cJSON_IsString(mt) ? mt->valuestring : "missing");
    }
    if (cJSON_IsString(mt) && strcmp(mt->valuestring, "nemotron") != 0)
        FAIL("%s: model_type: %s, ntron reads nemotron only", path, mt->valuestring);
    /* NemotronConfig's defaults where a field is absent */
    c->vocab = 256000; c->hidden = 6144; c->ffn = 24576; c->layers = 32; c->heads = 48; c->kv_heads = -1;
    c->head_dim = -1; c->seq_len = 4096; c->bos = 2; c->eos = 3; c->pad = -1;
    c->init_std = 0.0134; c->norm_eps = 1e-5; c->rope_theta = 10000.0; c->rotary_fraction = 0.5;
    struct { const char *key; int *dst; int min; } ints[] = {
        {"vocab_size", &c->vocab, 1}, {"hidden_size", &c->hidden, 1}, {"intermediate_size", &c->ffn, 1},
        {"num_hidden_layers", &c->layers, 1}, {"num_attention_heads", &c->heads, 1},
        {"num_key_value_heads", &c->kv_heads, 1}, {"head_dim", &c->head_dim, 1},
        {"max_position_embeddings", &c->seq_len, 1}, {"bos_token_id", &c->bos, -1},
        {"eos_token_id", &c->eos, -1}, {"pad_token_id", &c->pad, -1}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int r = get_int(o, ints[i].key, ints[i].dst);
        if (r < 0) FAIL("%s: %s: not a whole number", path, ints[i].key);
        if (r > 0 && *ints[i].dst < ints[i].min) FAIL("%s: %s: %d must be >= %d", path, ints[i].key, *ints[i].dst, ints[i].min);
    }
    struct { const char *key; double *dst; } nums[] = {
        {"initializer_range", &c->init_std}, {"norm_eps", &c->norm_eps}, {"rope_theta", &c->rope_theta},
        {"partial_rotary_factor", &c->rotary_fraction}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (get_num(o, nums[i].key, nums[i].dst) < 0) FAIL("%s: %s: not a number", path, nums[i].key);
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(o, "torch_dtype");
    if (cJSON_IsString(td)) snprintf(c->torch_dtype, sizeof c->torch_dtype, "%s", td->valuestring);

    /* what ntron's model cannot represent, by name */
    if (c->kv_heads < 0) FAIL("%s: num_key_value_heads: missing (transformers' Nemotron needs it)", path);
    if (c->hidden % c->heads)
        FAIL("%s: hidden_size %d is not divisible by num_attention_heads %d", path, c->hidden, c->heads);
    if (c->head_dim < 0) c->head_dim = c->hidden / c->heads;
    if (c->head_dim != c->hidden / c->heads)
        FAIL("%s: head_dim: %d, ntron's heads are hidden_size/num_attention_heads = %d/%d = %d wide", path, c->head_dim,
             c->hidden, c->heads, c->hidden / c->heads);
    if (c->heads % c->kv_heads)
        FAIL("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", path, c->heads, c->kv_heads);
    const char *act = "relu2";
    const cJSON *ha = cJSON_GetObjectItemCaseSensitive(o, "hidden_act");
    if (ha && !cJSON_IsNull(ha)) act = cJSON_IsString(ha) ? ha->valuestring : "(not a string)";
    if (strcmp(act, "relu2") != 0) FAIL("%s: hidden_act: %s, ntron's MLP is relu2 (squared ReLU) only", path, act);
    static const char *const nobool[] = {"attention_bias", "mlp_bias", "tie_word_embeddings"};
    static const char *const why[] = {"ntron's attention has no biases", "ntron's MLP has no biases",
                                      "ntron's embedding and lm_head are separate (untied)"};
    for (int i = 0; i < 3; i++) {
        int v = get_bool(o, nobool[i], 0);
        if (v < 0) FAIL("%s: %s: not true/false", path, nobool[i]);
        if (v) FAIL("%s: %s: true, %s", path, nobool[i], why[i]);
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) FAIL("%s: rope_scaling: set, ntron's RoPE has no scaling", path);
    double drop = 0;
    if (get_num(o, "attention_dropout", &drop) < 0 || drop != 0)
        FAIL("%s: attention_dropout: %g, ntron has no dropout (0 only)", path, drop);
    if (cJSON_GetObjectItemCaseSensitive(o, "quantization_config"))
        FAIL("%s: quantization_config: quantised weights are not supported", path);
    if (!(c->rotary_fraction > 0 && c->rotary_fraction <= 1))
        FAIL("%s: partial_rotary_factor: %g must be in (0, 1]", path, c->rotary_fraction);
    if (!(c->norm_eps > 0)) FAIL("%s: norm_eps: %g must be > 0", path, c->norm_eps);
    if (!(c->rope_theta > 0)) FAIL("%s: rope_theta: %g must be > 0", path, c->rope_theta);
    {
        double prod = c->head_dim * c->rotary_fraction;
        c->rot = (int)prod;   /* transformers: int(head_dim * partial_rotary_factor) */
        if (c->rot % 2)
            FAIL("%s: partial_rotary_factor: rotary width int(head_dim*partial_rotary_factor) = int(%d*%g = %.17g) = %d "
                 "is odd (transformers then rotates %d dims with the frequencies of %d): ntron cannot represent it",
                 path, c->head_dim, c->rotary_fraction, prod, c->rot, c->rot + 1, c->rot);
    }
#undef FAIL
out:
    cJSON_Delete(o);
    return rc;
}

void nt_hf_config_to_ntron(const nt_hf_config *c, nt_config *cfg)
{
    cfg->layers = c->layers;
    cfg->hidden = c->hidden;
    cfg->ffn_hidden = c->ffn;
    cfg->heads = c->heads;
    cfg->kv_heads = c->kv_heads;
    cfg->vocab = c->vocab;
    cfg->seq_len = c->seq_len;
    cfg->rotary_fraction = c->rotary_fraction;
    cfg->rotary_base = c->rope_theta;
    cfg->norm_eps = c->norm_eps;
    cfg->init_std = c->init_std;
    snprintf(cfg->head, sizeof cfg->head, "lm");
}

void nt_hf_config_from_ntron(nt_hf_config *c, const nt_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->layers = cfg->layers;
    c->hidden = cfg->hidden;
    c->ffn = cfg->ffn_hidden;
    c->heads = cfg->heads;
    c->kv_heads = cfg->kv_heads;
    c->head_dim = cfg->hidden / cfg->heads;
    c->vocab = cfg->vocab;
    c->seq_len = cfg->seq_len;
    c->rotary_fraction = cfg->rotary_fraction;
    c->rot = (int)(c->head_dim * cfg->rotary_fraction);
    c->rope_theta = cfg->rotary_base;
    c->norm_eps = cfg->norm_eps;
    c->init_std = cfg->init_std;
    c->bos = c->eos = c->pad = -1;
}

static void id_or_null(cJSON *o, const char *key, int v)
{
    if (v >= 0) nt_json_num(o, key, v);
    else nt_json_null(o, key);
}

char *nt_hf_config_json(const nt_hf_config *c, const char *torch_dtype)
{
    cJSON *o = nt_json_object(), *arch = nt_json_array();
    nt_json_push(arch, cJSON_CreateString("NemotronForCausalLM"));
    nt_json_add(o, "architectures", arch);
    nt_json_str(o, "model_type", "nemotron");
    nt_json_num(o, "vocab_size", c->vocab);
    nt_json_num(o, "hidden_size", c->hidden);
    nt_json_num(o, "intermediate_size", c->ffn);
    nt_json_num(o, "num_hidden_layers", c->layers);
    nt_json_num(o, "num_attention_heads", c->heads);
    nt_json_num(o, "num_key_value_heads", c->kv_heads);
    nt_json_num(o, "head_dim", c->head_dim);
    nt_json_num(o, "max_position_embeddings", c->seq_len);
    nt_json_num(o, "partial_rotary_factor", c->rotary_fraction);
    nt_json_num(o, "rope_theta", c->rope_theta);
    nt_json_null(o, "rope_scaling");
    nt_json_num(o, "norm_eps", c->norm_eps);
    nt_json_str(o, "hidden_act", "relu2");
    nt_json_num(o, "initializer_range", c->init_std);
    nt_json_add(o, "attention_bias", cJSON_CreateFalse());
    nt_json_add(o, "mlp_bias", cJSON_CreateFalse());
    nt_json_num(o, "attention_dropout", 0.0);
    nt_json_add(o, "tie_word_embeddings", cJSON_CreateFalse());
    nt_json_add(o, "use_cache", cJSON_CreateTrue());
    id_or_null(o, "bos_token_id", c->bos);
    id_or_null(o, "eos_token_id", c->eos);
    id_or_null(o, "pad_token_id", c->pad);
    nt_json_str(o, "torch_dtype", torch_dtype);
    nt_json_str(o, "transformers_version", NT_HF_TRANSFORMERS_VERSION);
    char *s = cJSON_Print(o);
    NT_CHECK(s != NULL, "out of memory printing config.json");
    cJSON_Delete(o);
    return s;
}

/* ---- tensor names ---------------------------------------------------------- */

int nt_hf_names(const nt_hf_config *c, nt_hf_name **names)
{
    int n = 2 + c->layers * 10 + 3, k = 0, H = c->hidden, hd = c->head_dim;
    nt_hf_name *v = nt_calloc((size_t)n, sizeof *v, "HF names");
#define ADD(HF, NT, PART, R, C) do { nt_hf_name *e = &v[k++]; snprintf(e->hf, sizeof e->hf, "%s", HF); \
        snprintf(e->nt, sizeof e->nt, "%s", NT); e->part = PART; e->rows = R; e->cols = C; } while (0)
    ADD("model.embed_tokens.weight", "embedding.weight", NT_HF_WHOLE, c->vocab, H);
    for (int l = 0; l < c->layers; l++) {
        char hf[128], nt[96];
#define L(HFS, NTS, PART, R, C) do { snprintf(hf, sizeof hf, "model.layers.%d.%s", l, HFS); \
        snprintf(nt, sizeof nt, "layers.%d.%s", l, NTS); ADD(hf, nt, PART, R, C); } while (0)
        L("input_layernorm.weight", "input_norm.weight", NT_HF_WHOLE, H, 1);
        L("input_layernorm.bias", "input_norm.bias", NT_HF_WHOLE, H, 1);
        L("self_attn.q_proj.weight", "attn.qkv.weight", NT_HF_Q, c->heads * hd, H);
        L("self_attn.k_proj.weight", "attn.qkv.weight", NT_HF_K, c->kv_heads * hd, H);
        L("self_attn.v_proj.weight", "attn.qkv.weight", NT_HF_V, c->kv_heads * hd, H);
        L("self_attn.o_proj.weight", "attn.out.weight", NT_HF_WHOLE, H, c->heads * hd);
        L("post_attention_layernorm.weight", "post_attn_norm.weight", NT_HF_WHOLE, H, 1);
        L("post_attention_layernorm.bias", "post_attn_norm.bias", NT_HF_WHOLE, H, 1);
        L("mlp.up_proj.weight", "mlp.up.weight", NT_HF_WHOLE, c->ffn, H);
        L("mlp.down_proj.weight", "mlp.down.weight", NT_HF_WHOLE, H, c->ffn);
#undef L
    }
    ADD("model.norm.weight", "final_norm.weight", NT_HF_WHOLE, H, 1);
    ADD("model.norm.bias", "final_norm.bias", NT_HF_WHOLE, H, 1);
    ADD("lm_head.weight", "lm_head.weight", NT_HF_WHOLE, c->vocab, H);
#undef ADD
    *names = v;
    return k;
}

int nt_hf_qkv_row(const nt_hf_config *c, nt_hf_part part, int r)
{
    int hd = c->head_dim, qpg = c->heads / c->kv_heads, head = r / hd, d = r % hd;
    int g = part == NT_HF_Q ? head / qpg : head;
    int slot = part == NT_HF_Q ? head % qpg : part == NT_HF_K ? qpg : qpg + 1;
    return (g * (qpg + 2) + slot) * hd + d;
}
