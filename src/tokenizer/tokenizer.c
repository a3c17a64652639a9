/* tokenizer.c — byte and SentencePiece tokenizers behind one interface,
 * the tokenizer hash, and `ntron tokenizer train|encode|decode`. */
#include "tokenizer/tokenizer.h"
#include "util/check.h"
#include "cli/cli_flags.h"
#include "deck/config.h"
#include "deck/deck.h"
#include "util/sha256.h"

#include <errno.h>
#include <string.h>

#define BYTE_VOCAB 258
#define BYTE_BOS 256
#define BYTE_EOD 257
static const char BYTE_ID[] = "ntron-byte-tokenizer-v1: ids 0-255 bytes, 256 BOS, 257 EOD";

void nt_u32vec_push(nt_u32vec *a, uint32_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1 << 12;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        NT_CHECK(a->v, "out of memory (%zu token ids)", a->cap);
    }
    a->v[a->n++] = x;
}

void nt_tokenizer_hash(const char *spec, char hex[65])
{
    if (!strcmp(spec, "byte")) {
        nt_sha256_hex(BYTE_ID, strlen(BYTE_ID), hex);
        return;
    }
    if (nt_sha256_file_hex(spec, hex) != 0)
        nt_input_error("%s: cannot open tokenizer model (unknown tokenizer? give byte or a SentencePiece .model file): %s",
                       spec, strerror(errno));
}

void nt_tokenizer_open(nt_tokenizer *t, const char *spec)
{
    memset(t, 0, sizeof *t);
    snprintf(t->spec, sizeof t->spec, "%s", spec);
    nt_tokenizer_hash(spec, t->hash);
    t->sys_id = t->user_id = t->asst_id = -1;
    if (!strcmp(spec, "byte")) {
        t->is_byte = 1;
        t->vocab = BYTE_VOCAB;
        t->bos = BYTE_BOS;
        t->eod = BYTE_EOD;
        return;
    }
    char err[1024];
    t->spm = nt_spm_load(spec, err, sizeof err);
    if (!t->spm) nt_input_error("%s: not a SentencePiece model: %s", spec, err);
    t->vocab = nt_spm_vocab_size(t->spm);
    t->bos = nt_spm_bos_id(t->spm);
    t->eod = nt_spm_eos_id(t->spm);
    if (t->bos < 0 || t->eod < 0)
        nt_input_error("%s: the model has no BOS/EOS ids (train it with `ntron tokenizer train`)", spec);
    t->sys_id = nt_spm_piece_to_id(t->spm, NT_CHAT_SYSTEM);
    t->user_id = nt_spm_piece_to_id(t->spm, NT_CHAT_USER);
    t->asst_id = nt_spm_piece_to_id(t->spm, NT_CHAT_ASSISTANT);
}

void nt_tokenizer_close(nt_tokenizer *t)
{
    if (t->spm) nt_spm_free(t->spm);
    memset(t, 0, sizeof *t);
}

int nt_tokenizer_encode(const nt_tokenizer *t, const char *text, size_t len, nt_u32vec *out, char *err,
                        size_t errlen)
{
    if (t->is_byte) {
        for (size_t i = 0; i < len; i++) nt_u32vec_push(out, (unsigned char)text[i]);
        return 0;
    }
    int *ids = NULL;
    size_t n = 0;
    if (nt_spm_encode(t->spm, text, len, &ids, &n, err, errlen) != 0) return -1;
    for (size_t i = 0; i < n; i++) nt_u32vec_push(out, (uint32_t)ids[i]);
    free(ids);
    return 0;
}

/* appends s[0..n) to a growing string */
static void cat(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = 2 * (*len + n + 1);
        *buf = realloc(*buf, *cap);
        NT_CHECK(*buf, "out of memory (decoded text)");
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

char *nt_tokenizer_decode(const nt_tokenizer *t, const uint32_t *ids, size_t n)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    cat(&buf, &len, &cap, "", 0);
    size_t run = 0; /* start of the current run of ordinary ids */
    for (size_t i = 0; i <= n; i++) {
        int special = i < n && ((int)ids[i] == t->bos || (int)ids[i] == t->eod || ids[i] >= (uint32_t)t->vocab);
        if (i < n && !special) continue;
        if (i > run) {
            if (t->is_byte) {
                for (size_t j = run; j < i; j++) { char c = (char)ids[j]; cat(&buf, &len, &cap, &c, 1); }
            } else {
                int *v = nt_malloc((i - run) * sizeof(int), "decode ids");
                for (size_t j = run; j < i; j++) v[j - run] = (int)ids[j];
                char *s = NULL, err[512];
                size_t sl = 0;
                NT_CHECK(nt_spm_decode(t->spm, v, i - run, &s, &sl, err, sizeof err) == 0, "decode: %s", err);
                cat(&buf, &len, &cap, s, sl);
                free(s);
                free(v);
            }
        }
        if (i < n) {
            char mark[32];
            if ((int)ids[i] == t->bos) snprintf(mark, sizeof mark, "<s>");
            else if ((int)ids[i] == t->eod) snprintf(mark, sizeof mark, "</s>");
            else snprintf(mark, sizeof mark, "<bad id %u>", ids[i]);
            cat(&buf, &len, &cap, mark, strlen(mark));
        }
        run = i + 1;
    }
    return buf;
}

/* ---- ntron tokenizer train|encode|decode ----------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) nt_input_error("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, r;
    char *b = nt_malloc(cap, "input text");
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) { cap *= 2; b = realloc(b, cap); NT_CHECK(b, "out of memory (input)"); }
    }
    if (ferror(f)) nt_input_error("%s: read error: %s", path ? path : "stdin", strerror(errno));
    if (path) fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

static int cmd_train(int argc, char **argv)
{
    long vocab = 0;
    const char *prefix = NULL, *deck = NULL, *type = "unigram";
    const nt_flag flags[] = {
        {.name = "--vocab", .kind = NT_FLAG_LONG, .dest = &vocab, .arg = "N", .min = 260, .max = 1e9,
         .help = "vocabulary size", .def = "the deck's model.vocab"},
        {.name = "--deck", .kind = NT_FLAG_STRING, .dest = &deck, .arg = "DECK",
         .help = "take the vocabulary size from this deck's model.vocab"},
        {.name = "--model-type", .kind = NT_FLAG_CHOICE, .dest = &type,
         .help = "SentencePiece model type", .choices = "unigram|bpe"},
        {.name = "-o", .kind = NT_FLAG_STRING, .dest = &prefix, .arg = "PREFIX",
         .help = "write PREFIX.model and PREFIX.vocab (required)"},
    };
    char about[512];
    snprintf(about, sizeof about,
             "Train a SentencePiece model on the TEXT files: byte fallback, no normalisation, BOS 1, EOS 2,\n"
             "chat tokens %s %s %s.\nThe vocabulary size comes from --vocab or --deck.", NT_CHAT_SYSTEM, NT_CHAT_USER,
             NT_CHAT_ASSISTANT);
    const nt_cli cli = {"tokenizer train", "TEXT...", 1, -1, about, flags, (int)(sizeof flags / sizeof *flags)};
    const char **texts = nt_calloc((size_t)argc + 1, sizeof(char *), "training files");
    int ntext = nt_cli_parse(&cli, argc, argv, texts);
    char inputs[8192] = "";
    for (int i = 0; i < ntext; i++) {
        FILE *f = fopen(texts[i], "rb");
        if (!f) nt_input_error("%s: cannot open: %s", texts[i], strerror(errno));
        fclose(f);
        if (strchr(texts[i], ',')) nt_input_error("%s: training file names may not contain ','", texts[i]);
        size_t l = strlen(inputs);
        if (snprintf(inputs + l, sizeof inputs - l, "%s%s", l ? "," : "", texts[i]) >= (int)(sizeof inputs - l))
            nt_cli_error(&cli, "too many training files (their names exceed %zu bytes)", sizeof inputs - 1);
    }
    free(texts);
    if (deck) {
        nt_config cfg;
        nt_deck_info info;
        nt_deck_load(&cfg, &info, deck, 0, NULL);
        if (!vocab) vocab = cfg.vocab;
    }
    if (!prefix || !vocab)
        nt_cli_error(&cli, "need --vocab or --deck, and -o PREFIX (see ntron tokenizer train --help)");
    char kw[16][1024];
    int n = 0;
    snprintf(kw[n++], 1024, "input=%s", inputs);
    snprintf(kw[n++], 1024, "model_prefix=%s", prefix);
    snprintf(kw[n++], 1024, "vocab_size=%ld", vocab);
    snprintf(kw[n++], 1024, "model_type=%s", type);
    snprintf(kw[n++], 1024, "user_defined_symbols=%s,%s,%s", NT_CHAT_SYSTEM, NT_CHAT_USER, NT_CHAT_ASSISTANT);
    const char *fixed[] = {"byte_fallback=true", "character_coverage=1.0", "normalization_rule_name=identity",
                           "remove_extra_whitespaces=false", "add_dummy_prefix=false", "split_digits=true",
                           "allow_whitespace_only_pieces=true", "hard_vocab_limit=false", "unk_id=0", "bos_id=1",
                           "eos_id=2", "pad_id=-1", "minloglevel=1"};
    char *args[32];
    for (int i = 0; i < n; i++) args[i] = kw[i];
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) args[n++] = (char *)fixed[i];
    char err[2048];
    if (nt_spm_train(n, (const char *const *)args, err, sizeof err) != 0)
        nt_input_error("tokenizer train: %s", err);
    char model[1100];
    snprintf(model, sizeof model, "%s.model", prefix);
    nt_tokenizer t;
    nt_tokenizer_open(&t, model);
    printf("tokenizer: %s: vocab %d (asked %ld), BOS %d, EOS %d, chat tokens %d %d %d, sha256 %s\n", model, t.vocab,
           vocab, t.bos, t.eod, t.sys_id, t.user_id, t.asst_id, t.hash);
    nt_tokenizer_close(&t);
    return 0;
}

int nt_tokenizer_main(int argc, char **argv)
{
    static const char *const subs[] = {"train TEXT...", "encode MODEL [FILE]", "decode MODEL [FILE]"};
    static const char *const help[] = {"train a SentencePiece model PREFIX.model (-o PREFIX, --vocab N | --deck DECK)",
                                       "text (whole file or stdin) -> ids, one line",
                                       "ids (whitespace separated) -> text, exactly"};
    int sub = nt_cli_subcommand("tokenizer", subs, help, 3, argc, argv);
    if (sub == 0) return cmd_train(argc - 1, argv + 1);
    int enc = sub == 1;
    const nt_cli cli = {enc ? "tokenizer encode" : "tokenizer decode", "MODEL [FILE]", 1, 2,
                        enc ? "Encode text (the whole FILE, or stdin) with MODEL (byte or a SentencePiece .model):\n"
                              "the ids on one line, separated by blanks."
                            : "Decode ids (whitespace separated, from FILE or stdin) with MODEL (byte or a\n"
                              "SentencePiece .model) back to the exact text.",
                        NULL, 0};
    const char *pos[2] = {NULL, NULL};
    nt_cli_parse(&cli, argc - 1, argv + 1, pos);
    nt_tokenizer t;
    nt_tokenizer_open(&t, pos[0]);
    size_t len;
    char *text = slurp(pos[1], &len);
    if (enc) {
        nt_u32vec ids = {0};
        char err[1024];
        if (nt_tokenizer_encode(&t, text, len, &ids, err, sizeof err) != 0) nt_input_error("encode: %s", err);
        for (size_t i = 0; i < ids.n; i++) printf(i ? " %u" : "%u", ids.v[i]);
        printf("\n");
        free(ids.v);
    } else {
        nt_u32vec ids = {0};
        char *p = text, *end;
        while (*p) {
            while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
            if (!*p) break;
            errno = 0;
            unsigned long v = strtoul(p, &end, 10);
            if (end == p || errno || v >= (unsigned long)t.vocab)
                nt_input_error("decode: '%.20s' is not a token id below the vocabulary size %d", p, t.vocab);
            nt_u32vec_push(&ids, (uint32_t)v);
            p = end;
        }
        char *s = nt_tokenizer_decode(&t, ids.v, ids.n);
        fputs(s, stdout);
        free(s);
        free(ids.v);
    }
    free(text);
    nt_tokenizer_close(&t);
    return 0;
}
