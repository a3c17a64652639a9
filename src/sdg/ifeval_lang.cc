// ifeval_lang.cc — extern "C" shim over Debian's CLD2 (libcld2-dev,
// compact_lang_det.h): the language of a response for the IFEval checks
// that the reference makes with langdetect.detect (ifeval_text.h).
// CLD2 is deterministic (langdetect samples n-grams at random); its codes
// are ISO 639-1 but for Hebrew ("iw", given as "he").  Where CLD2 finds no
// language in a text with letters (short texts), a script that only one
// language of the reference's list writes decides (Hangul: ko, kana: ja,
// Thai, Hebrew, Bengali, Tamil, Telugu, Kannada, Malayalam, Gujarati,
// Gurmukhi: pa, Greek: el); else "un".  A text with no letter is what
// langdetect refuses ("No features in text"): 0.
#include "sdg/ifeval_text.h"

#include <cstdio>   // before CLD2's header, which uses FILE without it
#include <cstring>

#include <cld2/public/compact_lang_det.h>

static const char *script_language(const nt_ustr *u)
{
    static const struct { uint32_t lo, hi; const char *code; } scripts[] = {
        {0x0370, 0x03FF, "el"}, {0x0590, 0x05FF, "he"}, {0x0980, 0x09FF, "bn"}, {0x0A00, 0x0A7F, "pa"},
        {0x0A80, 0x0AFF, "gu"}, {0x0B80, 0x0BFF, "ta"}, {0x0C00, 0x0C7F, "te"}, {0x0C80, 0x0CFF, "kn"},
        {0x0D00, 0x0D7F, "ml"}, {0x0E00, 0x0E7F, "th"}, {0x1100, 0x11FF, "ko"}, {0x3040, 0x30FF, "ja"},
        {0xAC00, 0xD7AF, "ko"},
    };
    for (size_t i = 0; i < u->n; i++)
        for (const auto &s : scripts)
            if (u->c[i] >= s.lo && u->c[i] <= s.hi) return s.code;
    return nullptr;
}

extern "C" int nt_ifeval_language(const char *text, size_t len, char *code, size_t codelen)
{
    nt_ustr u = nt_ustr_from(text, len);
    int letters = 0;
    for (size_t i = 0; i < u.n && !letters; i++)
        letters = nt_u_word(u.c[i]) && !nt_u_digit(u.c[i]) && u.c[i] != '_';
    if (!letters) {
        nt_ustr_free(&u);
        return 0;
    }
    CLD2::Language l3[3];
    int p3[3], bytes = 0;
    bool reliable = false;
    CLD2::Language lang = CLD2::ExtDetectLanguageSummary(text, (int)len, true, l3, p3, &bytes, &reliable);
    const char *c = CLD2::LanguageCode(lang);
    if (!c || !std::strcmp(c, "un")) c = script_language(&u);
    nt_ustr_free(&u);
    if (!c) {
        std::snprintf(code, codelen, "un");
        return -1;
    }
    std::snprintf(code, codelen, "%s", !std::strcmp(c, "iw") ? "he" : c);
    return 1;
}
