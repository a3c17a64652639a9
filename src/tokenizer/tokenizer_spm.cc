// tokenizer_spm.cc — extern "C" shim over SentencePiece's C++ API
// (sentencepiece_processor.h, sentencepiece_trainer.h); see tokenizer_spm.h.
// No exception escapes: every call's util::Status is turned into -1 + text.
#include "tokenizer/tokenizer_spm.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

struct nt_spm {
    sentencepiece::SentencePieceProcessor sp;
};

static int fail(char *err, size_t errlen, const std::string &msg)
{
    if (err && errlen) std::snprintf(err, errlen, "%s", msg.c_str());
    return -1;
}

extern "C" int nt_spm_train(int nkw, const char *const *kwargs, char *err, size_t errlen)
{
    try {
        std::unordered_map<std::string, std::string> kw;
        for (int i = 0; i < nkw; i++) {
            const char *eq = std::strchr(kwargs[i], '=');
            if (!eq) return fail(err, errlen, std::string("bad trainer option '") + kwargs[i] + "'");
            kw[std::string(kwargs[i], (size_t)(eq - kwargs[i]))] = eq + 1;
        }
        auto st = sentencepiece::SentencePieceTrainer::Train(kw);
        if (!st.ok()) return fail(err, errlen, st.ToString());
        return 0;
    } catch (const std::exception &e) {
        return fail(err, errlen, e.what());
    }
}

extern "C" nt_spm *nt_spm_load(const char *path, char *err, size_t errlen)
{
    nt_spm *m = new (std::nothrow) nt_spm;
    if (!m) { fail(err, errlen, "out of memory"); return nullptr; }
    try {
        auto st = m->sp.Load(path);
        if (!st.ok()) { fail(err, errlen, st.ToString()); delete m; return nullptr; }
    } catch (const std::exception &e) {
        fail(err, errlen, e.what());
        delete m;
        return nullptr;
    }
    return m;
}

extern "C" void nt_spm_free(nt_spm *m) { delete m; }

extern "C" int nt_spm_encode(const nt_spm *m, const char *text, size_t len, int **ids, size_t *n, char *err,
                             size_t errlen)
{
    try {
        std::vector<int> v;
        auto st = m->sp.Encode(std::string(text, len), &v);
        if (!st.ok()) return fail(err, errlen, st.ToString());
        *n = v.size();
        *ids = static_cast<int *>(std::malloc((v.size() ? v.size() : 1) * sizeof(int)));
        if (!*ids) return fail(err, errlen, "out of memory");
        if (!v.empty()) std::memcpy(*ids, v.data(), v.size() * sizeof(int));
        return 0;
    } catch (const std::exception &e) {
        return fail(err, errlen, e.what());
    }
}

extern "C" int nt_spm_decode(const nt_spm *m, const int *ids, size_t n, char **text, size_t *len, char *err,
                             size_t errlen)
{
    try {
        std::vector<int> v(ids, ids + n);
        int size = m->sp.GetPieceSize();
        for (int id : v)
            if (id < 0 || id >= size) return fail(err, errlen, "id " + std::to_string(id) + " outside the vocabulary");
        std::string s;
        auto st = m->sp.Decode(v, &s);
        if (!st.ok()) return fail(err, errlen, st.ToString());
        *text = static_cast<char *>(std::malloc(s.size() + 1));
        if (!*text) return fail(err, errlen, "out of memory");
        std::memcpy(*text, s.data(), s.size());
        (*text)[s.size()] = '\0';
        *len = s.size();
        return 0;
    } catch (const std::exception &e) {
        return fail(err, errlen, e.what());
    }
}

extern "C" int nt_spm_vocab_size(const nt_spm *m) { return m->sp.GetPieceSize(); }
extern "C" int nt_spm_bos_id(const nt_spm *m) { return m->sp.bos_id(); }
extern "C" int nt_spm_eos_id(const nt_spm *m) { return m->sp.eos_id(); }
extern "C" int nt_spm_piece_to_id(const nt_spm *m, const char *piece)
{
    int id = m->sp.PieceToId(piece);
    if (id == m->sp.unk_id() && std::strcmp(piece, m->sp.IdToPiece(id).c_str()) != 0) return -1;
    return id;
}
