/* sdg_stages.c — the stages of the synthetic-data pipeline (the report's,
 * as NeMo-Curator's released one): their table (name, template
 * placeholders, what they read) and what each does to a shard.
 *
 *   topics     macro topics: listed by the generator ({n}) or read from sdg.topics_file
 *   subtopics  per topic ({topic}, {n})
 *   questions  open-QA questions per subtopic ({topic}, {subtopic}, {n})
 *   revise     each question rewritten with more detail, context or a format ({question})
 *   writing    writing tasks per topic and document type ({topic}, {document_type}, {n})
 *   closed_qa  instructions over each document of sdg.documents ({document}, {n});
 *              the prompt is the document, a blank line, the instruction
 *   math       problems per keyword of sdg.math_keywords ({keyword}, {n})
 *   python     problems per keyword of sdg.python_keywords ({keyword}, {n})
 *   ifeval     each prompt with verifiable IFEval instructions (sdg_ifeval.c)
 *   twoturn    user -> assistant -> user: the generator answers the prompt, then
 *              writes the user's follow-up ({conversation})
 *   dialogue   3 assistant turns: the generator alternates assistant and user, the
 *              user driven by a persona of sdg.personas ({persona}, {conversation}),
 *              polite filler removed from user turns (sdg_filler.h)
 *   responses  sdg.responses sampled responses per prompt
 *   score      the reward model's scores and reward of every conversation
 *   filter     conversations with reward >= sdg.reward_threshold, as SFT chat records
 *   pairs      preference pairs per prompt (sdg_pairs.c), as `prep --format preference` reads
 *   genetic    Genetic Instruct (sdg_genetic.h): instructions evolved from seed pairs, judged by an LLM
 *   judge      LLM-as-judge of the pairs in both orders (sdg_judge.h) ({question}, {response_a}, {response_b})
 *
 * The prompt stages (questions or, when it runs, revise; writing,
 * closed_qa, math, python) and sdg.prompts are the prompts of twoturn,
 * dialogue, ifeval and responses; twoturn's and ifeval's also go to
 * responses (ifeval's "instructions" carried through).  Every
 * generator call is the chat template's user turn holding the rendered
 * template; its random stream is keyed by "STAGE/ID[/round]", so a
 * record's output does not depend on the shard, the rank count or the
 * order.  List outputs are parsed by sdg_list.h's rule. */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg_stage.h"
#include "sdg/ifeval.h"
#include "sdg/sdg_filler.h"
#include "sdg/sdg_genetic.h"
#include "sdg/sdg_ifeval.h"
#include "sdg/sdg_judge.h"
#include "sdg/sdg_list.h"
#include "sdg/sdg_pairs.h"
#include "util/check.h"
#include "util/json.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- small helpers ------------------------------------------------------- */

static cJSON *dup(const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    NT_CHECK(d, "out of memory");
    return d;
}

/* non-blank lines of a text file (trimmed), pushed as strings */
static int read_list_file(const char *path, const char *key, cJSON *arr, char *err, size_t errlen)
{
    if (!path[0]) return nt_fail(err, errlen, "sdg.%s is empty: name the file (one item a line)", key);
    FILE *f = fopen(path, "r");
    if (!f) return nt_fail(err, errlen, "sdg.%s = %s: cannot open: %s", key, path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int n = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t a = 0, b = (size_t)got;
        while (a < b && isspace((unsigned char)line[a])) a++;
        while (b > a && isspace((unsigned char)line[b - 1])) b--;
        if (a == b) continue;
        line[b] = 0;
        nt_json_push(arr, cJSON_CreateString(line + a));
        n++;
    }
    free(line);
    fclose(f);
    if (n == 0) return nt_fail(err, errlen, "sdg.%s = %s: no items (the file is empty; one item a line)", key, path);
    return 0;
}

/* a document cut to at most max bytes at a UTF-8 character boundary */
static char *cut_utf8(const char *s, int max)
{
    size_t n = strlen(s);
    if (n > (size_t)max) {
        n = (size_t)max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    char *d = malloc(n + 1);
    NT_CHECK(d, "out of memory");
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* "User: ...\n\nAssistant: ..." of a messages array (for the templates) */
char *sdg_conversation_text(const cJSON *msgs)
{
    size_t cap = 256, n = 0;
    char *b = nt_malloc(cap, "conversation text");
    b[0] = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        const char *role = sdg_str(m, "role"), *content = sdg_str(m, "content");
        const char *who = !strcmp(role, "user") ? "User" : !strcmp(role, "assistant") ? "Assistant" : "System";
        size_t need = n + strlen(who) + strlen(content) + 8;
        if (need > cap) {
            while (need > cap) cap *= 2;
            b = realloc(b, cap);
            NT_CHECK(b, "out of memory");
        }
        n += (size_t)sprintf(b + n, "%s%s: %s", n ? "\n\n" : "", who, content);
    }
    return b;
}

static void push_msg(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = nt_json_object();
    nt_json_str(m, "role", role);
    nt_json_str(m, "content", content);
    nt_json_push(msgs, m);
}

/* a generator prompt: {"id": "STAGE/ID[/round]", "messages": [user: text]} */
cJSON *sdg_gen_prompt(const char *stage, const char *id, int round, const char *text)
{
    cJSON *p = nt_json_object();
    char key[1024];
    if (round > 0) snprintf(key, sizeof key, "%s/%s/%d", stage, id, round);
    else snprintf(key, sizeof key, "%s/%s", stage, id);
    nt_json_str(p, "id", key);
    nt_json_add(p, "messages", sdg_user_messages(text));
    return p;
}

static cJSON *gen_prompt_msgs(const char *stage, const char *id, int round, const cJSON *msgs)
{
    cJSON *p = nt_json_object();
    char key[1024];
    snprintf(key, sizeof key, "%s/%s/%d", stage, id, round);
    nt_json_str(p, "id", key);
    nt_json_add(p, "messages", dup(msgs));
    return p;
}

/* the template rendered for each record [a, b) through values(), then one
 * sample each: text[k - a] for this rank's records */
typedef void (*values_fn)(const nt_config *c, const cJSON *rec, const char **vals, char *num);
static char **gen_over(sdg_ctx *x, const cJSON *in, int a, int b, values_fn values, char ***reason, sdg_stats *st)
{
    int np = b - a;
    cJSON **p = nt_calloc((size_t)(np ? np : 1), sizeof *p, "prompts");
    for (int k = a; k < b; k++) {
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        const char *vals[16] = {0};
        char num[32];
        values(x->cfg, rec, vals, num);
        char *text = nt_template_render(&x->tpl, x->stage->names, vals);
        p[k - a] = sdg_gen_prompt(x->stage->name, sdg_str(rec, "id"), 0, text);
        free(text);
    }
    char **text = nt_calloc((size_t)(np ? np : 1), sizeof *text, "responses");
    *reason = nt_calloc((size_t)(np ? np : 1), sizeof **reason, "finish reasons");
    sdg_generate(x, p, np, 1, text, *reason, st);
    for (int i = 0; i < np; i++) cJSON_Delete(p[i]);
    free(p);
    return text;
}

/* ---- list stages ---------------------------------------------------------- */

typedef struct list_kind {
    values_fn values;
    int (*max)(const nt_config *c);
    /* the output record of item i (0-based) of rec's list */
    cJSON *(*emit)(const nt_config *c, const cJSON *rec, int i, const char *item);
} list_kind;

static void list_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st, const list_kind *lk)
{
    char **reason;
    char **text = gen_over(x, in, a, b, lk->values, &reason, st);
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        sdg_lines l = {0};
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        if (text[k - a]) {
            char **items;
            nt_list_stats ls;
            int n = nt_list_parse(text[k - a], lk->max(x->cfg), &items, &ls);
            st->lists += n > 0;
            st->unlisted += n == 0;
            st->items += n;
            st->repeats += ls.repeats;
            st->cut += ls.cut;
            for (int i = 0; i < n; i++) sdg_lines_add(&l, lk->emit(x->cfg, rec, i, items[i]));
            nt_list_free(items, n);
        }
        out[k - a] = sdg_lines_take(&l);
    }
    sdg_free_texts(text, b - a);
    sdg_free_texts(reason, b - a);
}

static cJSON *rec_with_id(const char *fmt, const char *base, int i)
{
    cJSON *o = nt_json_object();
    char id[1024];
    snprintf(id, sizeof id, fmt, base, i + 1);
    nt_json_str(o, "id", id);
    return o;
}

/* topics */
static void topics_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    (void)rec;
    snprintf(num, 32, "%d", c->sdg_topics);
    v[0] = num;
}
static int topics_max(const nt_config *c) { return c->sdg_topics; }
static cJSON *topics_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c; (void)rec;
    cJSON *o = rec_with_id("%st%d", "", i);
    nt_json_str(o, "topic", item);
    return o;
}
static const list_kind TOPICS = {topics_values, topics_max, topics_emit};
static int topics_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    const nt_config *c = x->cfg;
    if (!c->sdg_topics_file[0]) {
        cJSON *o = nt_json_object();
        nt_json_str(o, "id", "topics");
        nt_json_push(in, o);
        return 0;
    }
    cJSON *names = nt_json_array();
    int rc = read_list_file(c->sdg_topics_file, "topics_file", names, err, errlen);
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, names) nt_json_push(in, topics_emit(c, NULL, i++, t->valuestring));
    cJSON_Delete(names);
    return rc;
}
static void topics_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    if (x->cfg->sdg_topics_file[0]) {   /* the file's topics: copied */
        for (int k = a; k < b; k++)
            if (sdg_mine(x, k)) {
                sdg_lines l = {0};
                sdg_lines_add(&l, dup(cJSON_GetArrayItem(in, k)));
                out[k - a] = sdg_lines_take(&l);
            }
        return;
    }
    list_shard(x, in, a, b, out, st, &TOPICS);
}
static void topics_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "topics=%d file=%s", c->sdg_topics, c->sdg_topics_file);
}

/* subtopics */
static void sub_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    snprintf(num, 32, "%d", c->sdg_subtopics);
    v[0] = sdg_str(rec, "topic");
    v[1] = num;
}
static int sub_max(const nt_config *c) { return c->sdg_subtopics; }
static cJSON *sub_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c;
    cJSON *o = rec_with_id("%s.s%d", sdg_str(rec, "id"), i);
    nt_json_str(o, "topic", sdg_str(rec, "topic"));
    nt_json_str(o, "subtopic", item);
    return o;
}
static const list_kind SUBTOPICS = {sub_values, sub_max, sub_emit};
static int from_topics(sdg_ctx *x, cJSON *in, char *err, size_t n) { return sdg_read_stage(x, "topics", in, err, n); }
static void sub_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    list_shard(x, in, a, b, out, st, &SUBTOPICS);
}
static void sub_settings(const nt_config *c, char *b, size_t n) { snprintf(b, n, "subtopics=%d", c->sdg_subtopics); }

/* questions */
static void q_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    snprintf(num, 32, "%d", c->sdg_questions);
    v[0] = sdg_str(rec, "topic");
    v[1] = sdg_str(rec, "subtopic");
    v[2] = num;
}
static int q_max(const nt_config *c) { return c->sdg_questions; }
static cJSON *q_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c;
    cJSON *o = rec_with_id("%s.q%d", sdg_str(rec, "id"), i);
    nt_json_str(o, "topic", sdg_str(rec, "topic"));
    nt_json_str(o, "subtopic", sdg_str(rec, "subtopic"));
    nt_json_str(o, "prompt", item);
    return o;
}
static const list_kind QUESTIONS = {q_values, q_max, q_emit};
static int from_subtopics(sdg_ctx *x, cJSON *in, char *err, size_t n) { return sdg_read_stage(x, "subtopics", in, err, n); }
static void q_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    list_shard(x, in, a, b, out, st, &QUESTIONS);
}
static void q_settings(const nt_config *c, char *b, size_t n) { snprintf(b, n, "questions=%d", c->sdg_questions); }

/* revise: one rewritten question per question */
static void rev_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    (void)c; (void)num;
    v[0] = sdg_str(rec, "prompt");
}
static int from_questions(sdg_ctx *x, cJSON *in, char *err, size_t n) { return sdg_read_stage(x, "questions", in, err, n); }
static void rev_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    char **reason;
    char **text = gen_over(x, in, a, b, rev_values, &reason, st);
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        sdg_lines l = {0};
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        char *t = text[k - a] ? text[k - a] : "";
        size_t s0 = 0, s1 = strlen(t);
        while (s0 < s1 && isspace((unsigned char)t[s0])) s0++;
        while (s1 > s0 && isspace((unsigned char)t[s1 - 1])) s1--;
        if (s1 == s0 || !strcmp(reason[k - a] ? reason[k - a] : "", "refused")) st->empty++;
        else {
            cJSON *o = dup(rec);
            t[s1] = 0;
            cJSON_DeleteItemFromObjectCaseSensitive(o, "prompt");
            nt_json_str(o, "original", sdg_str(rec, "prompt"));
            nt_json_str(o, "prompt", t + s0);
            sdg_lines_add(&l, o);
        }
        out[k - a] = sdg_lines_take(&l);
    }
    sdg_free_texts(text, b - a);
    sdg_free_texts(reason, b - a);
}
static void no_settings(const nt_config *c, char *b, size_t n) { (void)c; snprintf(b, n, "-"); }

/* writing: topics x document types */
static void w_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    snprintf(num, 32, "%d", c->sdg_writing);
    v[0] = sdg_str(rec, "topic");
    v[1] = sdg_str(rec, "document_type");
    v[2] = num;
}
static int w_max(const nt_config *c) { return c->sdg_writing; }
static cJSON *w_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c;
    cJSON *o = rec_with_id("%s.%d", sdg_str(rec, "id"), i);
    nt_json_str(o, "topic", sdg_str(rec, "topic"));
    nt_json_str(o, "document_type", sdg_str(rec, "document_type"));
    nt_json_str(o, "prompt", item);
    return o;
}
static const list_kind WRITING = {w_values, w_max, w_emit};
static int w_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    cJSON *topics = nt_json_array(), *types = nt_json_array();
    int rc = sdg_read_stage(x, "topics", topics, err, errlen);
    if (!rc) rc = read_list_file(x->cfg->sdg_document_types, "document_types", types, err, errlen);
    const cJSON *t, *d;
    if (!rc)
        cJSON_ArrayForEach(t, topics) {
            int j = 0;
            cJSON_ArrayForEach(d, types) {
                cJSON *o = rec_with_id("%s.w%d", sdg_str(t, "id"), j++);
                nt_json_str(o, "topic", sdg_str(t, "topic"));
                nt_json_str(o, "document_type", d->valuestring);
                nt_json_push(in, o);
            }
        }
    cJSON_Delete(topics);
    cJSON_Delete(types);
    return rc;
}
static void w_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    list_shard(x, in, a, b, out, st, &WRITING);
}
static void w_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "writing=%d types=%s", c->sdg_writing, c->sdg_document_types);
}

/* closed_qa: instructions over documents */
static void c_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    snprintf(num, 32, "%d", c->sdg_closed_qa);
    v[0] = sdg_str(rec, "document");
    v[1] = num;
}
static int c_max(const nt_config *c) { return c->sdg_closed_qa; }
static cJSON *c_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c;
    cJSON *o = rec_with_id("%s.%d", sdg_str(rec, "id"), i);
    nt_json_num(o, "document_index", nt_json_number(rec, "document_index"));
    nt_json_str(o, "instruction", item);
    const char *doc = sdg_str(rec, "document");
    size_t n = strlen(doc) + strlen(item) + 3;
    char *p = nt_malloc(n, "closed-QA prompt");
    snprintf(p, n, "%s\n\n%s", doc, item);
    nt_json_str(o, "prompt", p);
    free(p);
    return o;
}
static const list_kind CLOSED_QA = {c_values, c_max, c_emit};
static int c_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    nt_lines docs;
    if (nt_lines_read(&docs, x->cfg->sdg_documents, "sdg.documents", err, errlen)) return -1;
    int rc = 0;
    for (int i = 0; i < docs.n && !rc; i++) {
        const char *text;
        char why[256];
        if (nt_json_get_string(docs.obj[i], "text", &text, why, sizeof why) <= 0 || !text[0]) {
            rc = nt_fail(err, errlen, "%s:%d: %s", x->cfg->sdg_documents, docs.lineno[i],
                      text && !why[0] ? "field \"text\" is empty" : why);
            break;
        }
        cJSON *o = rec_with_id("%sd%d", "", i);
        nt_json_num(o, "document_index", i);
        char *d = cut_utf8(text, x->cfg->sdg_document_chars);
        nt_json_str(o, "document", d);
        free(d);
        nt_json_push(in, o);
    }
    nt_lines_free(&docs);
    return rc;
}
static void c_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    list_shard(x, in, a, b, out, st, &CLOSED_QA);
}
static void c_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "closed_qa=%d chars=%d docs=%s", c->sdg_closed_qa, c->sdg_document_chars, c->sdg_documents);
}

/* math, python: problems per keyword */
static void k_values(const nt_config *c, const cJSON *rec, const char **v, char *num)
{
    snprintf(num, 32, "%d", c->sdg_problems);
    v[0] = sdg_str(rec, "keyword");
    v[1] = num;
}
static int k_max(const nt_config *c) { return c->sdg_problems; }
static cJSON *k_emit(const nt_config *c, const cJSON *rec, int i, const char *item)
{
    (void)c;
    cJSON *o = rec_with_id("%s.%d", sdg_str(rec, "id"), i);
    nt_json_str(o, "keyword", sdg_str(rec, "keyword"));
    nt_json_str(o, "prompt", item);
    return o;
}
static const list_kind PROBLEMS = {k_values, k_max, k_emit};
static int keyword_inputs(sdg_ctx *x, cJSON *in, const char *path, const char *key, const char *prefix, char *err,
                          size_t errlen)
{
    cJSON *kw = nt_json_array();
    int rc = read_list_file(path, key, kw, err, errlen), i = 0;
    const cJSON *k;
    if (!rc)
        cJSON_ArrayForEach(k, kw) {
            cJSON *o = rec_with_id("%s%d", prefix, i++);
            nt_json_str(o, "keyword", k->valuestring);
            nt_json_push(in, o);
        }
    cJSON_Delete(kw);
    (void)x;
    return rc;
}
static int math_inputs(sdg_ctx *x, cJSON *in, char *err, size_t n)
{
    return keyword_inputs(x, in, x->cfg->sdg_math_keywords, "math_keywords", "m", err, n);
}
static int python_inputs(sdg_ctx *x, cJSON *in, char *err, size_t n)
{
    return keyword_inputs(x, in, x->cfg->sdg_python_keywords, "python_keywords", "p", err, n);
}
static void k_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    list_shard(x, in, a, b, out, st, &PROBLEMS);
}
static void math_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "problems=%d kw=%s", c->sdg_problems, c->sdg_math_keywords);
}
static void python_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "problems=%d kw=%s", c->sdg_problems, c->sdg_python_keywords);
}

/* ---- the prompt pool ------------------------------------------------------- */

/* the prompts of sdg.prompts as pool records (bad line: FILE:LINE: why) */
static int read_prompts_file(const char *path, cJSON *in, char *err, size_t errlen)
{
    {
        nt_lines f;
        if (nt_lines_read(&f, path, "sdg.prompts", err, errlen)) return -1;
        for (int i = 0; i < f.n; i++) {
            const cJSON *o = f.obj[i], *p = cJSON_GetObjectItemCaseSensitive(o, "prompt"),
                        *id = cJSON_GetObjectItemCaseSensitive(o, "id"),
                        *ans = cJSON_GetObjectItemCaseSensitive(o, "answer");
            char why[512] = "";
            if (!p) snprintf(why, sizeof why, "missing field \"prompt\" (a string or messages ending with a user turn)");
            else if (cJSON_IsString(p) && !p->valuestring[0]) snprintf(why, sizeof why, "field \"prompt\" is empty");
            else if (!cJSON_IsString(p) && !cJSON_IsArray(p))
                snprintf(why, sizeof why, "field \"prompt\" is neither a string nor a list of messages");
            else if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id))
                snprintf(why, sizeof why, "field \"id\" is neither a string nor a number");
            else if (ans && !cJSON_IsString(ans) && !cJSON_IsNumber(ans))
                snprintf(why, sizeof why, "field \"answer\" is neither a string nor a number");
            const cJSON *ins = cJSON_GetObjectItemCaseSensitive(o, "instructions"), *x;
            if (!why[0] && ins) {   /* IFEval instructions of a seed prompt: [{"id", "kwargs"}], checked in the registry */
                if (!cJSON_IsArray(ins) || cJSON_GetArraySize(ins) == 0)
                    snprintf(why, sizeof why, "field \"instructions\" is not a non-empty list of {\"id\", \"kwargs\"}");
                int k = 0;
                cJSON_ArrayForEach(x, ins) {
                    if (why[0]) break;
                    const cJSON *xid = cJSON_GetObjectItemCaseSensitive(x, "id"), *kw = cJSON_GetObjectItemCaseSensitive(x, "kwargs");
                    char e2[400];
                    if (!cJSON_IsString(xid)) snprintf(why, sizeof why, "instructions[%d]: no \"id\" string", k);
                    else if (nt_ifeval_find(xid->valuestring) < 0)
                        snprintf(why, sizeof why, "instructions[%d]: unknown instruction id '%.100s' (not in the IFEval registry; "
                                 "`ntron help sdg`)", k, xid->valuestring);
                    else if (kw && !cJSON_IsObject(kw)) snprintf(why, sizeof why, "instructions[%d]: \"kwargs\" is not an object", k);
                    else if (nt_ifeval_args_check(xid->valuestring, kw, e2, sizeof e2))
                        snprintf(why, sizeof why, "instructions[%d] (%s): %s", k, xid->valuestring, e2);
                    k++;
                }
            }
            if (why[0]) {
                nt_fail(err, errlen, "%s:%d: %s", path, f.lineno[i], why);
                nt_lines_free(&f);
                return -1;
            }
            cJSON *r = nt_json_object();
            char idb[512];
            if (cJSON_IsString(id)) snprintf(idb, sizeof idb, "f.%s", id->valuestring);
            else if (cJSON_IsNumber(id)) snprintf(idb, sizeof idb, "f.%.17g", id->valuedouble);
            else snprintf(idb, sizeof idb, "f%d", f.lineno[i]);
            nt_json_str(r, "id", idb);
            nt_json_str(r, "from", "prompts");
            nt_json_add(r, "prompt", cJSON_IsString(p) ? sdg_user_messages(p->valuestring) : dup(p));
            if (ans) {
                char num[64];
                if (cJSON_IsNumber(ans)) snprintf(num, sizeof num, "%.17g", ans->valuedouble);
                nt_json_str(r, "answer", cJSON_IsString(ans) ? ans->valuestring : num);
            }
            if (ins) nt_json_add(r, "instructions", dup(ins));
            nt_json_push(in, r);
        }
        nt_lines_free(&f);
    }
    return 0;
}

/* {id, from, prompt: messages ending with a user turn, answer?} of the
 * prompt stages run before and of sdg.prompts; twoturn's too when with2 */
static int pool_inputs(sdg_ctx *x, cJSON *in, int with2, char *err, size_t errlen)
{
    static const char *const stages[] = {"revise", "questions", "writing", "closed_qa", "math", "python", "twoturn", "ifeval"};
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++) {
        const char *name = stages[s];
        if ((!strcmp(name, "twoturn") || !strcmp(name, "ifeval")) && !with2) continue;
        if (!sdg_ran_before(x, name)) continue;
        if (!strcmp(name, "questions") && sdg_ran_before(x, "revise")) continue;   /* revised instead */
        cJSON *recs = nt_json_array();
        if (sdg_read_stage(x, name, recs, err, errlen)) { cJSON_Delete(recs); return -1; }
        const cJSON *r;
        cJSON_ArrayForEach(r, recs) {
            cJSON *o = nt_json_object();
            nt_json_str(o, "id", sdg_str(r, "id"));
            nt_json_str(o, "from", name);
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "prompt"), *ins = cJSON_GetObjectItemCaseSensitive(r, "instructions");
            if (!p) p = cJSON_GetObjectItemCaseSensitive(r, "messages");   /* ifeval's records */
            nt_json_add(o, "prompt", cJSON_IsString(p) ? sdg_user_messages(p->valuestring) : dup(p));
            if (ins) nt_json_add(o, "instructions", dup(ins));
            nt_json_push(in, o);
        }
        cJSON_Delete(recs);
    }
    if (x->cfg->sdg_prompts[0] && read_prompts_file(x->cfg->sdg_prompts, in, err, errlen)) return -1;
    /* a prompt must end with a user turn: checked here, once, for every source */
    const cJSON *r;
    int i = 0;
    cJSON_ArrayForEach(r, in) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "prompt"), *last = cJSON_GetArrayItem(p, cJSON_GetArraySize(p) - 1);
        if (!cJSON_IsArray(p) || !last || strcmp(sdg_str(last, "role"), "user") != 0 || !sdg_str(last, "content")[0])
            return nt_fail(err, errlen, "prompt %s (record %d of the prompt sources): not a conversation ending with a "
                        "non-empty user turn", sdg_str(r, "id"), i + 1);
        i++;
    }
    return 0;
}
static int pool1(sdg_ctx *x, cJSON *in, char *err, size_t n) { return pool_inputs(x, in, 0, err, n); }
static int pool2(sdg_ctx *x, cJSON *in, char *err, size_t n) { return pool_inputs(x, in, 1, err, n); }

/* a generated user turn: a leading "User:" label and polite filler removed */
static char *user_turn(const char *t, sdg_stats *st)
{
    while (isspace((unsigned char)*t)) t++;
    if (!strncmp(t, "User:", 5)) t += 5;
    int rm = 0;
    char *u = nt_filler_strip(t, &rm);
    st->filler += rm;
    return u;
}

/* twoturn: the generator answers, then writes the user's follow-up */
static void tt_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    int np = b - a;
    cJSON **p = nt_calloc((size_t)(np ? np : 1), sizeof *p, "prompts");
    char **a1 = nt_calloc((size_t)(np ? np : 1), sizeof *a1, "responses"), **r1 = nt_calloc((size_t)(np ? np : 1), sizeof *r1, "reasons");
    for (int k = a; k < b; k++) {
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        p[k - a] = gen_prompt_msgs("twoturn", sdg_str(rec, "id"), 1, cJSON_GetObjectItemCaseSensitive(rec, "prompt"));
    }
    sdg_generate(x, p, np, 1, a1, r1, st);
    cJSON **msgs = nt_calloc((size_t)(np ? np : 1), sizeof *msgs, "conversations");
    for (int k = a; k < b; k++) {
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        cJSON_Delete(p[k - a]);
        msgs[k - a] = dup(cJSON_GetObjectItemCaseSensitive(rec, "prompt"));
        const char *resp = a1[k - a] && r1[k - a] && strcmp(r1[k - a], "refused") ? a1[k - a] : "";
        push_msg(msgs[k - a], "assistant", resp[0] ? resp : "-");
        const char *vals[2];
        char *conv = sdg_conversation_text(msgs[k - a]);
        vals[0] = conv;
        char *text = nt_template_render(&x->tpl, x->stage->names, vals);
        p[k - a] = sdg_gen_prompt("twoturn", sdg_str(rec, "id"), 2, text);
        free(text);
        free(conv);
    }
    char **u2 = nt_calloc((size_t)(np ? np : 1), sizeof *u2, "follow-ups"), **r2 = nt_calloc((size_t)(np ? np : 1), sizeof *r2, "reasons");
    sdg_generate(x, p, np, 1, u2, r2, st);
    for (int k = a; k < b; k++) {
        cJSON_Delete(p[k - a]);
        if (!sdg_mine(x, k)) { cJSON_Delete(msgs[k - a]); continue; }
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        sdg_lines l = {0};
        char *u = u2[k - a] ? user_turn(u2[k - a], st) : NULL;
        int ok = a1[k - a] && a1[k - a][0] && strcmp(r1[k - a], "refused") && u && u[0];
        if (!ok) { st->empty++; cJSON_Delete(msgs[k - a]); }
        else {
            push_msg(msgs[k - a], "user", u);
            cJSON *o = nt_json_object();
            char id[1024];
            snprintf(id, sizeof id, "%s.2t", sdg_str(rec, "id"));
            nt_json_str(o, "id", id);
            nt_json_str(o, "source", sdg_str(rec, "id"));
            nt_json_add(o, "prompt", msgs[k - a]);
            sdg_lines_add(&l, o);
        }
        free(u);
        out[k - a] = sdg_lines_take(&l);
    }
    free(p); free(msgs);
    sdg_free_texts(a1, np); sdg_free_texts(r1, np); sdg_free_texts(u2, np); sdg_free_texts(r2, np);
}

/* dialogue: assistant, user (persona), assistant, user (persona), assistant */
static int dlg_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    cJSON *personas = nt_json_array();
    int rc = read_list_file(x->cfg->sdg_personas, "personas", personas, err, errlen);
    if (!rc) rc = pool_inputs(x, in, 0, err, errlen);
    int np = cJSON_GetArraySize(personas);
    cJSON *r;
    if (!rc)
        cJSON_ArrayForEach(r, in) {   /* each prompt's persona: a hash of its id */
            const char *id = sdg_str(r, "id");
            int k = (int)(XXH64(id, strlen(id), 7) % (uint64_t)np);
            nt_json_str(r, "persona", cJSON_GetArrayItem(personas, k)->valuestring);
        }
    cJSON_Delete(personas);
    return rc;
}
static void dlg_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    int np = b - a;
    cJSON **msgs = nt_calloc((size_t)(np ? np : 1), sizeof *msgs, "conversations");
    int *alive = nt_calloc((size_t)(np ? np : 1), sizeof *alive, "alive");
    cJSON **p = nt_calloc((size_t)(np ? np : 1), sizeof *p, "prompts");
    char **t = nt_calloc((size_t)(np ? np : 1), sizeof *t, "turns"), **r = nt_calloc((size_t)(np ? np : 1), sizeof *r, "reasons");
    for (int k = a; k < b; k++) {
        msgs[k - a] = dup(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(in, k), "prompt"));
        alive[k - a] = 1;
    }
    for (int round = 1; round <= 5; round++) {
        int user = round % 2 == 0;   /* rounds 2 and 4: the user's turn */
        for (int k = a; k < b; k++) {
            const cJSON *rec = cJSON_GetArrayItem(in, k);
            if (!user) p[k - a] = gen_prompt_msgs("dialogue", sdg_str(rec, "id"), round, msgs[k - a]);
            else {
                char *conv = sdg_conversation_text(msgs[k - a]);
                const char *vals[2] = {sdg_str(rec, "persona"), conv};
                char *text = nt_template_render(&x->tpl, x->stage->names, vals);
                p[k - a] = sdg_gen_prompt("dialogue", sdg_str(rec, "id"), round, text);
                free(text);
                free(conv);
            }
        }
        sdg_generate(x, p, np, 1, t, r, st);
        for (int k = a; k < b; k++) {
            cJSON_Delete(p[k - a]);
            p[k - a] = NULL;
            char *turn = NULL;
            if (t[k - a]) turn = user ? user_turn(t[k - a], st) : strdup(t[k - a]);
            NT_CHECK(!t[k - a] || turn, "out of memory");
            if (sdg_mine(x, k) && alive[k - a] && (!turn || !turn[0] || (r[k - a] && !strcmp(r[k - a], "refused"))))
                alive[k - a] = 0;
            /* the other groups' conversations grow with placeholders (never generated here) */
            push_msg(msgs[k - a], user ? "user" : "assistant", turn && turn[0] ? turn : "-");
            free(turn);
            free(t[k - a]); free(r[k - a]);
            t[k - a] = r[k - a] = NULL;
        }
    }
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) { cJSON_Delete(msgs[k - a]); continue; }
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        sdg_lines l = {0};
        if (!alive[k - a]) { st->empty++; cJSON_Delete(msgs[k - a]); }
        else {
            cJSON *last = cJSON_DetachItemFromArray(msgs[k - a], cJSON_GetArraySize(msgs[k - a]) - 1);
            cJSON *o = nt_json_object();
            char id[1024];
            snprintf(id, sizeof id, "%s.dlg", sdg_str(rec, "id"));
            nt_json_str(o, "id", id);
            nt_json_str(o, "source", id);
            nt_json_str(o, "persona", sdg_str(rec, "persona"));
            nt_json_add(o, "prompt", msgs[k - a]);
            nt_json_str(o, "response", sdg_str(last, "content"));
            cJSON_Delete(last);
            sdg_lines_add(&l, o);
        }
        out[k - a] = sdg_lines_take(&l);
    }
    free(msgs); free(alive); free(p); free(t); free(r);
}
static void dlg_settings(const nt_config *c, char *b, size_t n) { snprintf(b, n, "personas=%s", c->sdg_personas); }

/* responses: sdg.responses samples per prompt */
int sdg_generators(const nt_config *c, char paths[][NT_PATH_MAX], int max)
{
    int n = 0;
    if (max < 1) return 0;
    snprintf(paths[n++], NT_PATH_MAX, "%s", c->ckpt_load);
    const char *q = c->sdg_generators;
    while (*q) {
        while (*q == ' ' || *q == '\t') q++;
        size_t k = 0;
        while (q[k] && q[k] != ' ' && q[k] != '\t') k++;
        if (k && n < max) snprintf(paths[n], NT_PATH_MAX, "%.*s", (int)k, q);
        if (k) n++;
        q += k;
    }
    return n;
}

/* responses: sdg.responses samples per prompt from each generator (checkpoint.load, then
 * sdg.generators: generator g's samples are numbered g x n + j, its random streams keyed
 * apart); the generators go in alternating order shard by shard, so one reload a shard */
static void resp_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    int np = b - a, n = x->cfg->sdg_responses;
    char gp[8][NT_PATH_MAX];
    int G = sdg_generators(x->cfg, gp, 8);
    cJSON **p = nt_calloc((size_t)(np ? np : 1), sizeof *p, "prompts");
    size_t per = (size_t)(np ? np : 1) * (size_t)n * (size_t)G;
    char **t = nt_calloc(per, sizeof *t, "responses"), **r = nt_calloc(per, sizeof *r, "reasons");
    int shard = a / (x->cfg->sdg_shard_size > 0 ? x->cfg->sdg_shard_size : 1);
    for (int q = 0; q < G; q++) {
        int g = shard % 2 ? G - 1 - q : q;
        for (int k = a; k < b; k++) {
            const cJSON *rec = cJSON_GetArrayItem(in, k);
            p[k - a] = gen_prompt_msgs("responses", sdg_str(rec, "id"), g, cJSON_GetObjectItemCaseSensitive(rec, "prompt"));
        }
        snprintf(x->gen_want, sizeof x->gen_want, "%s", G > 1 ? gp[g] : "");
        sdg_generate(x, p, np, n, t + (size_t)g * np * n, r + (size_t)g * np * n, st);
        for (int k = a; k < b; k++) cJSON_Delete(p[k - a]);
    }
    x->gen_want[0] = 0;
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        sdg_lines l = {0};
        for (int gj = 0; gj < G * n; gj++) {
            int g = gj / n, j = gj % n;
            const char *text = t[(size_t)g * np * n + (size_t)(k - a) * n + j], *why = r[(size_t)g * np * n + (size_t)(k - a) * n + j];
            if (!text || !text[0] || !strcmp(why, "refused")) { st->empty++; continue; }
            cJSON *o = nt_json_object();
            char id[1024];
            snprintf(id, sizeof id, "%s#%d", sdg_str(rec, "id"), gj);
            nt_json_str(o, "id", id);
            nt_json_str(o, "source", sdg_str(rec, "id"));
            nt_json_str(o, "from", sdg_str(rec, "from"));
            nt_json_num(o, "sample", gj);
            if (G > 1) nt_json_str(o, "generator", gp[g]);
            nt_json_add(o, "prompt", dup(cJSON_GetObjectItemCaseSensitive(rec, "prompt")));
            nt_json_str(o, "response", text);
            nt_json_str(o, "finish_reason", why);
            const cJSON *ans = cJSON_GetObjectItemCaseSensitive(rec, "answer");
            if (ans) nt_json_add(o, "answer", dup(ans));
            const cJSON *ins = cJSON_GetObjectItemCaseSensitive(rec, "instructions");
            if (ins) nt_json_add(o, "instructions", dup(ins));
            sdg_lines_add(&l, o);
        }
        out[k - a] = sdg_lines_take(&l);
    }
    free(p);
    sdg_free_texts(t, (int)per);
    sdg_free_texts(r, (int)per);
}
static void resp_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "responses=%d temperature=%.17g%s%s", c->sdg_responses, c->sdg_responses_temperature,
             c->sdg_generators[0] ? " generators=" : "", c->sdg_generators);
}

/* score: the reward model over responses and dialogues */
static int score_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    if (sdg_ran_before(x, "responses") && sdg_read_stage(x, "responses", in, err, errlen)) return -1;
    if (sdg_ran_before(x, "dialogue") && sdg_read_stage(x, "dialogue", in, err, errlen)) return -1;
    return 0;
}
static void score_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    int np = b - a;
    cJSON **c = nt_calloc((size_t)(np ? np : 1), sizeof *c, "conversations");
    for (int k = a; k < b; k++) c[k - a] = cJSON_GetArrayItem(in, k);
    char **s = nt_calloc((size_t)(np ? np : 1), sizeof *s, "scored");
    sdg_score(x, c, np, s, st);
    for (int k = a; k < b; k++)
        if (sdg_mine(x, k)) out[k - a] = s[k - a] ? s[k - a] : strdup("");
    free(c);
    free(s);
}
static void score_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "rm=%s weights=%s K=%d", c->sdg_reward_model, c->score_weights, c->reward_outputs);
}

/* filter: reward >= threshold, as chat records */
static int from_score(sdg_ctx *x, cJSON *in, char *err, size_t n) { return sdg_read_stage(x, "score", in, err, n); }
static void filter_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        const cJSON *rec = cJSON_GetArrayItem(in, k), *rw = cJSON_GetObjectItemCaseSensitive(rec, "reward");
        sdg_lines l = {0};
        if (cJSON_IsNumber(rw) && rw->valuedouble >= x->cfg->sdg_reward_threshold) {
            st->passed++;
            cJSON *o = nt_json_object();
            nt_json_str(o, "id", sdg_str(rec, "id"));
            nt_json_str(o, "source", sdg_str(rec, "source"));
            cJSON *msgs = dup(cJSON_GetObjectItemCaseSensitive(rec, "prompt"));
            push_msg(msgs, "assistant", sdg_str(rec, "response"));
            nt_json_add(o, "messages", msgs);
            nt_json_num(o, "reward", rw->valuedouble);
            sdg_lines_add(&l, o);
        } else st->failed++;
        out[k - a] = sdg_lines_take(&l);
    }
}
static void filter_settings(const nt_config *c, char *b, size_t n) { snprintf(b, n, "threshold=%.17g", c->sdg_reward_threshold); }

/* pairs: the scored responses grouped by prompt (sdg_pairs.c) */
static int pairs_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    cJSON *scored = nt_json_array();
    int rc = sdg_read_stage(x, "score", scored, err, errlen);
    if (!rc) nt_pairs_group(scored, in);
    cJSON_Delete(scored);
    return rc;
}
static void pairs_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        sdg_lines l = {0};
        nt_pair_result pr;
        cJSON *o = nt_pairs_make(cJSON_GetArrayItem(in, k), x->cfg->sdg_pair_margin, &pr);
        st->answers_right += pr.correct;
        st->answers_wrong += pr.wrong;
        st->no_correct += pr.no_correct;
        if (o) {
            st->pairs++;
            if (pr.by_truth) st->pairs_truth++;
            else st->pairs_reward++;
            sdg_lines_add(&l, o);
        } else st->no_pair++;
        out[k - a] = sdg_lines_take(&l);
    }
}
static void pairs_settings(const nt_config *c, char *b, size_t n) { snprintf(b, n, "margin=%.17g", c->sdg_pair_margin); }

/* ---- deck checks of the stages' own keys ------------------------------------ */

static void need_file(const nt_config *c, const nt_deck_info *in, const char *key, const char *path, const char *stage)
{
    (void)c;
    if (!path[0]) nt_deck_bad(in, key, "is empty: the %s stage needs it", stage);
}
static void chk_none(const nt_config *c, const nt_deck_info *in) { (void)c; (void)in; }
static void chk_writing(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.document_types", c->sdg_document_types, "writing"); }
static void chk_closed(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.documents", c->sdg_documents, "closed_qa"); }
static void chk_math(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.math_keywords", c->sdg_math_keywords, "math"); }
static void chk_python(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.python_keywords", c->sdg_python_keywords, "python"); }
static void chk_dialogue(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.personas", c->sdg_personas, "dialogue"); }
static void chk_score(const nt_config *c, const nt_deck_info *in) { need_file(c, in, "sdg.reward_model", c->sdg_reward_model, "score"); }
static void chk_pairs(const nt_config *c, const nt_deck_info *in)
{
    if (c->sdg_responses < 2) nt_deck_bad(in, "sdg.responses", "= %d: the pairs stage needs 2 or more responses per prompt", c->sdg_responses);
}

/* ---- the table ---------------------------------------------------------------- */

static const char *const N_TOPICS[] = {"n", NULL};
static const char *const N_SUB[] = {"topic", "n", NULL}, *const R_SUB[] = {"topic", NULL};
static const char *const N_Q[] = {"topic", "subtopic", "n", NULL}, *const R_Q[] = {"subtopic", NULL};
static const char *const N_REV[] = {"question", NULL};
static const char *const N_W[] = {"topic", "document_type", "n", NULL}, *const R_W[] = {"topic", "document_type", NULL};
static const char *const N_C[] = {"document", "n", NULL}, *const R_C[] = {"document", NULL};
static const char *const N_K[] = {"keyword", "n", NULL}, *const R_K[] = {"keyword", NULL};
static const char *const N_TT[] = {"conversation", NULL};
static const char *const N_D[] = {"persona", "conversation", NULL}, *const R_D[] = {"persona", "conversation", NULL};
static const char *const N_J[] = {"question", "response_a", "response_b", NULL};

static const sdg_stage table[] = {
    {"topics", "macro topics, listed by the generator or read from sdg.topics_file", SDG_NEEDS_GEN, N_TOPICS, NULL,
     NULL, chk_none, topics_inputs, topics_settings, topics_shard, NULL, NULL, NULL},
    {"subtopics", "subtopics of each topic", SDG_NEEDS_GEN, N_SUB, R_SUB, "topics", chk_none, from_topics,
     sub_settings, sub_shard, NULL, NULL, NULL},
    {"questions", "open-QA questions of each subtopic", SDG_NEEDS_GEN, N_Q, R_Q, "subtopics", chk_none,
     from_subtopics, q_settings, q_shard, NULL, NULL, NULL},
    {"revise", "each question revised: more detail, context or a format", SDG_NEEDS_GEN, N_REV, N_REV, "questions",
     chk_none, from_questions, no_settings, rev_shard, NULL, NULL, NULL},
    {"writing", "writing tasks per topic and document type", SDG_NEEDS_GEN, N_W, R_W, "topics", chk_writing,
     w_inputs, w_settings, w_shard, NULL, NULL, NULL},
    {"closed_qa", "instructions over the documents of sdg.documents", SDG_NEEDS_GEN, N_C, R_C, NULL, chk_closed,
     c_inputs, c_settings, c_shard, NULL, NULL, NULL},
    {"math", "math problems per keyword of sdg.math_keywords", SDG_NEEDS_GEN, N_K, R_K, NULL, chk_math, math_inputs,
     math_settings, k_shard, NULL, NULL, NULL},
    {"python", "Python problems per keyword of sdg.python_keywords", SDG_NEEDS_GEN, N_K, R_K, NULL, chk_python,
     python_inputs, python_settings, k_shard, NULL, NULL, NULL},
    {"ifeval", "prompts with verifiable IFEval instructions (sdg.ifeval_*): single, multi-turn, second-turn", SDG_NEEDS_GEN,
     NULL, NULL, "prompts", sdg_ifeval_check, pool1, sdg_ifeval_settings, sdg_ifeval_shard, NULL, NULL, NULL},
    {"twoturn", "two-turn prompts: user, the generator's answer, the user's follow-up", SDG_NEEDS_GEN, N_TT, N_TT,
     "prompts", chk_none, pool1, no_settings, tt_shard, NULL, NULL, NULL},
    {"dialogue", "3-turn dialogues, the user played from a persona, filler removed", SDG_NEEDS_GEN, N_D, R_D,
     "prompts", chk_dialogue, dlg_inputs, dlg_settings, dlg_shard, NULL, NULL, NULL},
    {"responses", "sdg.responses sampled responses per prompt", SDG_NEEDS_GEN, NULL, NULL, "prompts", chk_none,
     pool2, resp_settings, resp_shard, NULL, NULL, NULL},
    {"score", "reward-model scores of the responses and dialogues", SDG_NEEDS_RM, NULL, NULL, "responses|dialogue",
     chk_score, score_inputs, score_settings, score_shard, NULL, NULL, NULL},
    {"filter", "conversations with reward >= sdg.reward_threshold, as SFT chat records", SDG_NEEDS_NONE, NULL, NULL,
     "score", chk_none, from_score, filter_settings, filter_shard, NULL, NULL, NULL},
    {"pairs", "preference pairs per prompt, as prep --format preference reads", SDG_NEEDS_NONE, NULL, NULL, "score",
     chk_pairs, pairs_inputs, pairs_settings, pairs_shard, NULL, NULL, NULL},
    {"genetic", "Genetic Instruct: instructions evolved from sdg.seeds by weighted operators over sdg.generations, "
     "solved, judged by an LLM (genetic_OP.txt, genetic_judge.txt), near-duplicates removed", SDG_NEEDS_GEN, NULL, NULL,
     NULL, sdg_genetic_check, sdg_genetic_inputs, sdg_genetic_settings, sdg_genetic_shard, sdg_genetic_rounds,
     sdg_genetic_finish_pass, sdg_genetic_finish},
    {"judge", "LLM-as-judge of the pairs in both orders (A/B, B/A), compared with the reward model and the ground truth",
     SDG_NEEDS_GEN, N_J, N_J, "pairs", chk_none, sdg_judge_inputs, sdg_judge_settings, sdg_judge_shard, NULL,
     sdg_judge_finish_pass, NULL},
};
#define NSTAGES ((int)(sizeof table / sizeof table[0]))

const sdg_stage *sdg_stage_find(const char *name)
{
    for (int i = 0; i < NSTAGES; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}
int sdg_stage_count(void) { return NSTAGES; }
const sdg_stage *sdg_stage_at(int i) { return &table[i]; }
int sdg_check_files(const nt_config *c, const char *listed, char *err, size_t errlen)
{
    cJSON *tmp = nt_json_array();
    int rc = 0;
#define LISTED(name) (strstr(listed, " " name " ") != NULL)
    if (!rc && LISTED("topics") && c->sdg_topics_file[0]) rc = read_list_file(c->sdg_topics_file, "topics_file", tmp, err, errlen);
    if (!rc && LISTED("writing")) rc = read_list_file(c->sdg_document_types, "document_types", tmp, err, errlen);
    if (!rc && LISTED("math")) rc = read_list_file(c->sdg_math_keywords, "math_keywords", tmp, err, errlen);
    if (!rc && LISTED("python")) rc = read_list_file(c->sdg_python_keywords, "python_keywords", tmp, err, errlen);
    if (!rc && LISTED("dialogue")) rc = read_list_file(c->sdg_personas, "personas", tmp, err, errlen);
    if (!rc && LISTED("closed_qa")) {
        sdg_ctx x;
        memset(&x, 0, sizeof x);
        x.cfg = c;
        rc = c_inputs(&x, tmp, err, errlen);
    }
    if (!rc && LISTED("genetic")) rc = sdg_genetic_seeds(c->sdg_seeds, tmp, err, errlen);
    if (!rc && (LISTED("twoturn") || LISTED("dialogue") || LISTED("ifeval") || LISTED("responses")) && c->sdg_prompts[0])
        rc = read_prompts_file(c->sdg_prompts, tmp, err, errlen);
#undef LISTED
    cJSON_Delete(tmp);
    return rc;
}
