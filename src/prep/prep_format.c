/* prep_format.c — parse and render one prep record (see prep_format.h).
 *
 * Nemotron chat template, rendered as a sequence of segments, each
 * tokenized on its own (so the ids never depend on a neighbour):
 *   BOS  <extra_id_0>System "\n{system}\n"
 *   <extra_id_1>User "\n{user}\n"
 *   <extra_id_1>Assistant "\n"  "{assistant}\n"  ... (more turns) ...  EOS
 * Loss mask (SFT): 1 on each assistant turn's "{assistant}\n" ids and on the
 * token that ends the turn — the next `<extra_id_1>User` or the final EOS;
 * 0 everywhere else.  A conversation is: optional system message, then
 * user/assistant turns strictly alternating, starting with user; SFT
 * conversations end with an assistant turn, preference/reward prompts with
 * a user turn (the response is rendered after `<extra_id_1>Assistant\n`). */
#include "prep/prep_format.h"
#include "util/check.h"
#include "util/json.h"

#include <math.h>
#include <string.h>

const char *const nt_rm_attributes[5] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};

void nt_bytes_push(nt_bytes *b, const void *x, size_t size)
{
    if (b->n + size > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1 << 12;
        if (b->cap < b->n + size) b->cap = b->n + size;
        b->p = realloc(b->p, b->cap);
        NT_CHECK(b->p, "out of memory (%zu bytes of prep output)", b->cap);
    }
    memcpy(b->p + b->n, x, size);
    b->n += size;
}

const char *nt_prep_kind(nt_prep_format f)
{
    switch (f) {
    case NT_FMT_CHAT: return "sft";
    case NT_FMT_PREF: return "preference";
    case NT_FMT_RM: return "reward";
    default: return "pretrain";
    }
}

int nt_utf8_check(const char *s, size_t n, char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == 0) { nt_fail(err, errlen, "NUL byte at column %zu", i + 1); return 0; }
        int k;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; min = 0x10000; c &= 0x07; }
        else { nt_fail(err, errlen, "not UTF-8: byte 0x%02x at column %zu", u[i], i + 1); return 0; }
        if (i + (size_t)k >= n) { nt_fail(err, errlen, "not UTF-8: truncated sequence at column %zu", i + 1); return 0; }
        for (int j = 1; j <= k; j++) {
            if ((u[i + j] & 0xC0) != 0x80) { nt_fail(err, errlen, "not UTF-8: bad continuation byte at column %zu", i + j + 1); return 0; }
            c = (c << 6) | (u[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            nt_fail(err, errlen, "not UTF-8: invalid code point at column %zu", i + 1);
            return 0;
        }
        i += (size_t)k + 1;
    }
    return 1;
}

/* ---- rendering helpers -------------------------------------------------------- */

typedef struct { const nt_tokenizer *t; nt_prep_out *out; int masked; char *err; size_t errlen; } render;

static void put_id(render *r, uint32_t id, uint8_t m)
{
    nt_u32vec_push(&r->out->tok, id);
    if (r->masked) nt_bytes_push(&r->out->mask, &m, 1);
}

/* tokenizes pre + s + post as one segment */
static int put_text(render *r, const char *pre, const char *s, const char *post, uint8_t m)
{
    size_t lp = strlen(pre), ls = strlen(s), lq = strlen(post);
    char *buf = nt_malloc(lp + ls + lq + 1, "segment");
    memcpy(buf, pre, lp);
    memcpy(buf + lp, s, ls);
    memcpy(buf + lp + ls, post, lq);
    size_t before = r->out->tok.n;
    int rc = nt_tokenizer_encode(r->t, buf, lp + ls + lq, &r->out->tok, r->err, r->errlen);
    free(buf);
    if (rc) return -1;
    if (r->masked)
        for (size_t i = before; i < r->out->tok.n; i++) nt_bytes_push(&r->out->mask, &m, 1);
    return 0;
}

/* Renders a conversation (messages array, or a plain string = one user turn).
 * want_last: 'a' (SFT: must end with assistant, then EOS) or 'u' (a prompt:
 * must end with user, then `<extra_id_1>Assistant\n`). */
static int render_conversation(render *r, const cJSON *msgs, const char *field, char want_last)
{
    const nt_tokenizer *t = r->t;
    if (t->sys_id < 0 || t->user_id < 0 || t->asst_id < 0)
        return nt_fail(r->err, r->errlen, "the tokenizer %s has no chat tokens (%s, %s, %s); train one with `ntron tokenizer train`",
                    t->spec, NT_CHAT_SYSTEM, NT_CHAT_USER, NT_CHAT_ASSISTANT);
    put_id(r, (uint32_t)t->bos, 0);
    if (cJSON_IsString(msgs)) {
        if (want_last == 'a') return nt_fail(r->err, r->errlen, "field \"%s\" must be a list of messages", field);
        put_id(r, (uint32_t)t->sys_id, 0);
        if (put_text(r, "\n", "", "\n", 0)) return -1;
        put_id(r, (uint32_t)t->user_id, 0);
        if (put_text(r, "\n", msgs->valuestring, "\n", 0)) return -1;
        put_id(r, (uint32_t)t->asst_id, 0);
        return put_text(r, "\n", "", "", 0);
    }
    if (!cJSON_IsArray(msgs)) return nt_fail(r->err, r->errlen, "field \"%s\" is not a list of messages", field);
    int n = cJSON_GetArraySize(msgs);
    const char *system = "";
    int i0 = 0;
    char prev = 0; /* role of the previous turn: 0, 'u', 'a' */
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        if (!cJSON_IsObject(m)) return nt_fail(r->err, r->errlen, "%s[%d] is not an object", field, i);
        char why[256];
        const char *role, *content;
        if (nt_json_get_string(m, "role", &role, why, sizeof why) <= 0) return nt_fail(r->err, r->errlen, "%s[%d]: %s", field, i, why);
        if (nt_json_get_string(m, "content", &content, why, sizeof why) <= 0)
            return nt_fail(r->err, r->errlen, "%s[%d]: %s", field, i, why);
        if (!strcmp(role, "system")) {
            if (i != 0) return nt_fail(r->err, r->errlen, "role order: %s[%d] is a system message; only the first message may be", field, i);
            system = content;
            i0 = 1;
        } else if (strcmp(role, "user") && strcmp(role, "assistant")) {
            return nt_fail(r->err, r->errlen, "%s[%d]: unknown role \"%s\" (system, user, assistant)", field, i, role);
        }
    }
    if (n - i0 == 0) return nt_fail(r->err, r->errlen, "empty conversation: \"%s\" has no user or assistant turn", field);
    put_id(r, (uint32_t)t->sys_id, 0);
    if (put_text(r, "\n", system, "\n", 0)) return -1;
    for (int i = i0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        const char *role = "", *content = "";   /* both checked by the loop above */
        if (nt_json_get_string(m, "role", &role, r->err, r->errlen) <= 0 ||
            nt_json_get_string(m, "content", &content, r->err, r->errlen) <= 0)
            return -1;
        char want = prev == 'u' ? 'a' : 'u';
        if (role[0] != want)
            return nt_fail(r->err, r->errlen, "role order: %s[%d] is %s, expected %s (turns alternate user, assistant, starting with user)",
                        field, i, role, want == 'u' ? "user" : "assistant");
        if (want == 'u') {
            put_id(r, (uint32_t)t->user_id, prev == 'a'); /* ends the previous assistant turn */
            if (put_text(r, "\n", content, "\n", 0)) return -1;
        } else {
            put_id(r, (uint32_t)t->asst_id, 0);
            if (put_text(r, "\n", "", "", 0)) return -1;
            if (put_text(r, "", content, "\n", 1)) return -1;
        }
        prev = want;
    }
    if (want_last == 'a') {
        if (prev != 'a') return nt_fail(r->err, r->errlen, "role order: the conversation ends with a user turn; SFT needs a final assistant turn");
        put_id(r, (uint32_t)t->eod, 1);
    } else {
        if (prev != 'u') return nt_fail(r->err, r->errlen, "role order: \"%s\" ends with an assistant turn; a prompt must end with a user turn", field);
        put_id(r, (uint32_t)t->asst_id, 0);
        if (put_text(r, "\n", "", "", 0)) return -1;
    }
    return 0;
}

/* a prompt for generation: the conversation (messages or a string)
 * rendered up to and including `<extra_id_1>Assistant\n` */
int nt_prep_render_prompt(const nt_tokenizer *t, const cJSON *msgs, const char *field, nt_u32vec *out, char *err,
                          size_t errlen)
{
    nt_prep_out o = {0};
    o.tok = *out;
    render r = {t, &o, 0, err, errlen};
    int rc = render_conversation(&r, msgs, field, 'u');
    *out = o.tok;
    return rc;
}

/* a conversation to score: prompt rendered as a prompt, then the response,
 * a newline and EOS, exactly as `prep --format reward` renders a sample;
 * *resp_start = index of the response's first token */
int nt_prep_render_scored(const nt_tokenizer *t, const cJSON *prompt, const char *response, nt_u32vec *out,
                          size_t *resp_start, char *err, size_t errlen)
{
    nt_prep_out o = {0};
    o.tok = *out;
    render r = {t, &o, 0, err, errlen};
    int rc = render_conversation(&r, prompt, "prompt", 'u');
    *resp_start = o.tok.n;
    if (!rc) rc = put_text(&r, "", response, "\n", 0);
    if (!rc) put_id(&r, (uint32_t)t->eod, 0);
    *out = o.tok;
    return rc;
}

static void end_sample(nt_prep_out *out)
{
    uint64_t e = out->tok.n;
    nt_bytes_push(&out->ends, &e, sizeof e);
}

static int record_json(nt_prep_format fmt, const nt_tokenizer *t, const cJSON *o, nt_prep_out *out, char *err,
                       size_t errlen)
{
    render r = {t, out, fmt == NT_FMT_CHAT, err, errlen};
    if (fmt == NT_FMT_JSONL) {
        const char *text;
        if (nt_json_get_string(o, "text", &text, err, errlen) <= 0) return -1;
        if (!*text) return nt_fail(err, errlen, "field \"text\" is empty");
        if (put_text(&r, "", text, "", 0)) return -1;
        put_id(&r, (uint32_t)t->eod, 0);
    } else if (fmt == NT_FMT_CHAT) {
        const cJSON *msgs = nt_json_field(o, "messages", err, errlen);
        if (!msgs) return -1;
        if (render_conversation(&r, msgs, "messages", 'a')) return -1;
    } else if (fmt == NT_FMT_PREF) {
        const cJSON *prompt = nt_json_field(o, "prompt", err, errlen);
        if (!prompt) return -1;
        const char *ch, *rj;
        if (nt_json_get_string(o, "chosen", &ch, err, errlen) <= 0) return -1;
        if (nt_json_get_string(o, "rejected", &rj, err, errlen) <= 0) return -1;
        float rw[2] = {NAN, NAN};
        double v = 0;
        int k;
        if ((k = nt_json_get_number(o, "chosen_reward", &v, err, errlen)) < 0) return -1;   /* optional */
        if (k) rw[0] = (float)v;
        if ((k = nt_json_get_number(o, "rejected_reward", &v, err, errlen)) < 0) return -1;
        if (k) rw[1] = (float)v;
        uint64_t rg[4];
        rg[0] = out->tok.n;
        if (render_conversation(&r, prompt, "prompt", 'u')) return -1;
        rg[1] = out->tok.n;
        if (put_text(&r, "", ch, "\n", 0)) return -1;
        put_id(&r, (uint32_t)t->eod, 0);
        rg[2] = out->tok.n;
        if (put_text(&r, "", rj, "\n", 0)) return -1;
        put_id(&r, (uint32_t)t->eod, 0);
        rg[3] = out->tok.n;
        nt_bytes_push(&out->ranges, rg, sizeof rg);
        nt_bytes_push(&out->rewards, rw, sizeof rw);
    } else if (fmt == NT_FMT_RM) {
        const cJSON *prompt = nt_json_field(o, "prompt", err, errlen);
        if (!prompt) return -1;
        const char *resp;
        if (nt_json_get_string(o, "response", &resp, err, errlen) <= 0) return -1;
        int8_t lab[5];
        for (int a = 0; a < 5; a++) {
            double x = 0;
            int k = nt_json_get_number(o, nt_rm_attributes[a], &x, err, errlen);
            if (k == 0) return -1;
            if (k < 0 || x != floor(x)) return nt_fail(err, errlen, "field \"%s\" is not an integer", nt_rm_attributes[a]);
            if (x < 0 || x > 4)
                return nt_fail(err, errlen, "%s = %g is out of range (labels are integers 0-4)", nt_rm_attributes[a], x);
            lab[a] = (int8_t)x;
        }
        if (render_conversation(&r, prompt, "prompt", 'u')) return -1;
        if (put_text(&r, "", resp, "\n", 0)) return -1;
        put_id(&r, (uint32_t)t->eod, 0);
        nt_bytes_push(&out->labels, lab, sizeof lab);
    }
    end_sample(out);
    return 0;
}

int nt_prep_record(nt_prep_format fmt, const nt_tokenizer *t, const char *text, size_t len, nt_prep_out *out,
                   char *err, size_t errlen)
{
    if (fmt == NT_FMT_TEXT) {
        if (nt_tokenizer_encode(t, text, len, &out->tok, err, errlen)) return -1;
        nt_u32vec_push(&out->tok, (uint32_t)t->eod);
        end_sample(out);
        return 0;
    }
    cJSON *o = nt_json_parse(text, len, err, errlen);
    if (!o) return -1;
    /* an escaped NUL (\u0000) would end the C string cJSON gives us,
     * silently cutting the text: refused like a raw NUL byte */
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '\\') continue;
        if (text[i + 1] == 'u' && i + 5 < len && !memcmp(text + i + 2, "0000", 4)) {
            cJSON_Delete(o);
            return nt_fail(err, errlen, "NUL character (escaped \\u0000) at column %zu", i + 1);
        }
        i++;   /* the escaped character: \\ is a backslash, not the start of an escape */
    }
    int rc;
    if (!cJSON_IsObject(o)) rc = nt_fail(err, errlen, "expected a JSON object");
    else rc = record_json(fmt, t, o, out, err, errlen);
    cJSON_Delete(o);
    return rc;
}
