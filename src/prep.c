/* prep.c — `ntron prep`: turn plain text into an HDF5 token dataset
 * (`/tokens` uint32, `/doc_offsets` uint64, root attributes vocab_size,
 * tokenizer, tokenizer_hash, eod_id, source).
 *
 * Tokenizer in this version: `byte` — ids 0..255 are the UTF-8 bytes,
 * 256 = BOS, 257 = EOD; every document is followed by EOD.  Documents are
 * separated by blank lines (--doc-sep blank, default) or are single lines
 * (--doc-sep line).  Written by rank 0 to a temporary name and renamed on
 * success, so a failed prep leaves no output file.
 */
#include "prep.h"
#include "check.h"

#include <errno.h>
#include <hdf5.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define BYTE_VOCAB 258
#define BYTE_EOD 257

static void usage(FILE *f)
{
    fprintf(f, "usage: ntron prep --tokenizer byte [--doc-sep blank|line] INPUT.txt -o OUTPUT.h5\n"
               "  Tokenizes plain text (UTF-8) into an HDF5 token dataset for pretraining.\n");
}

typedef struct { uint32_t *v; size_t n, cap; } u32vec;
typedef struct { uint64_t *v; size_t n, cap; } u64vec;

static void push32(u32vec *a, uint32_t x)
{
    if (a->n == a->cap) { a->cap = a->cap ? 2 * a->cap : 1 << 16; a->v = realloc(a->v, a->cap * 4); NT_CHECK(a->v, "out of memory (tokens)"); }
    a->v[a->n++] = x;
}
static void push64(u64vec *a, uint64_t x)
{
    if (a->n == a->cap) { a->cap = a->cap ? 2 * a->cap : 1 << 12; a->v = realloc(a->v, a->cap * 8); NT_CHECK(a->v, "out of memory (offsets)"); }
    a->v[a->n++] = x;
}

static void write_attr_str(hid_t loc, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    NT_CHECK_H5(t);
    NT_CHECK_H5(H5Tset_size(t, strlen(val) + 1));
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, t, val));
    H5Aclose(a); H5Sclose(sp); H5Tclose(t);
}

static void write_attr_i64(hid_t loc, const char *name, long long v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_LLONG, &v));
    H5Aclose(a); H5Sclose(sp);
}

static void write_1d(hid_t f, const char *name, hid_t ftype, hid_t mtype, const void *data, size_t n)
{
    hsize_t dims = n;
    hid_t sp = H5Screate_simple(1, &dims, NULL);
    hid_t d = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    NT_CHECK_H5(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    H5Dclose(d); H5Sclose(sp);
}

int nt_prep_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *tok = NULL, *sep = "blank";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) tok = argv[++i];
        else if (!strcmp(argv[i], "--doc-sep") && i + 1 < argc) sep = argv[++i];
        else if (argv[i][0] == '-') nt_input_error("prep: unknown option %s (see ntron prep --help)", argv[i]);
        else if (!in) in = argv[i];
        else nt_input_error("prep: more than one input file (%s, %s)", in, argv[i]);
    }
    if (!in || !out) { usage(stderr); nt_input_error("prep: need INPUT and -o OUTPUT"); }
    if (!tok) nt_input_error("prep: --tokenizer is required (this version supports: byte)");
    if (strcmp(tok, "byte") != 0) nt_input_error("prep: --tokenizer %s: unknown (this version supports: byte)", tok);
    int by_line = !strcmp(sep, "line");
    if (!by_line && strcmp(sep, "blank") != 0) nt_input_error("prep: --doc-sep %s: expected blank or line", sep);

    FILE *f = fopen(in, "rb");
    if (!f) nt_input_error("%s: cannot open: %s", in, strerror(errno));
    u32vec toks = {0};
    u64vec offs = {0};
    push64(&offs, 0);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    long lineno = 0;
    int in_doc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)len)) nt_input_error("%s:%ld: NUL byte in text input", in, lineno);
        int blank = 1;
        for (ssize_t i = 0; i < len; i++)
            if (line[i] != ' ' && line[i] != '\t' && line[i] != '\n' && line[i] != '\r') blank = 0;
        if (blank && !by_line) {
            if (in_doc) { push32(&toks, BYTE_EOD); push64(&offs, toks.n); in_doc = 0; }
            continue;
        }
        if (blank) continue;
        for (ssize_t i = 0; i < len; i++) push32(&toks, (unsigned char)line[i]);
        in_doc = 1;
        if (by_line) { push32(&toks, BYTE_EOD); push64(&offs, toks.n); in_doc = 0; }
    }
    if (ferror(f)) nt_input_error("%s: read error: %s", in, strerror(errno));
    fclose(f);
    free(line);
    if (in_doc) { push32(&toks, BYTE_EOD); push64(&offs, toks.n); }
    if (toks.n == 0) nt_input_error("%s: no documents (empty input)", in);

    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    hid_t h = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h < 0) nt_die(NT_EXIT_FAIL, "%s: cannot create HDF5 file", tmp);
    write_1d(h, "/tokens", H5T_STD_U32LE, H5T_NATIVE_UINT32, toks.v, toks.n);
    write_1d(h, "/doc_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, offs.v, offs.n);
    write_attr_i64(h, "vocab_size", BYTE_VOCAB);
    write_attr_i64(h, "eod_id", BYTE_EOD);
    write_attr_i64(h, "bos_id", 256);
    write_attr_str(h, "kind", "pretrain");
    write_attr_str(h, "tokenizer", "byte");
    unsigned char md[32];
    unsigned int mdlen = 0;
    const char *tokid = "ntron-byte-tokenizer-v1: ids 0-255 bytes, 256 BOS, 257 EOD";
    NT_CHECK(EVP_Digest(tokid, strlen(tokid), md, &mdlen, EVP_sha256(), NULL) == 1, "EVP_Digest failed");
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    write_attr_str(h, "tokenizer_hash", hex);
    write_attr_str(h, "source", in);
    NT_CHECK_H5(H5Fclose(h));
    if (rename(tmp, out) != 0) { unlink(tmp); nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmp, out, strerror(errno)); }
    printf("prep: %s -> %s: %zu documents, %zu tokens (byte tokenizer, vocab %d)\n", in, out, offs.n - 1, toks.n,
           BYTE_VOCAB);
    free(toks.v);
    free(offs.v);
    return 0;
}
