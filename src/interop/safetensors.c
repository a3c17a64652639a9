/* safetensors.c — read (header through cJSON, tensors through mmap) and
 * write safetensors files (see safetensors.h). */
#include "interop/safetensors.h"
#include "util/bf16.h"
#include "util/check.h"
#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NT_ST_MAX_HEADER ((uint64_t)100 << 20)   /* the format's own limit (100 MB) */

static const struct { const char *name; nt_st_dtype d; size_t size; } dtypes[] = {
    {"F32", NT_ST_F32, 4}, {"F16", NT_ST_F16, 2}, {"BF16", NT_ST_BF16, 2},
    {"F64", NT_ST_OTHER, 8}, {"I64", NT_ST_OTHER, 8}, {"U64", NT_ST_OTHER, 8},
    {"I32", NT_ST_OTHER, 4}, {"U32", NT_ST_OTHER, 4}, {"I16", NT_ST_OTHER, 2},
    {"U16", NT_ST_OTHER, 2}, {"I8", NT_ST_OTHER, 1}, {"U8", NT_ST_OTHER, 1},
    {"BOOL", NT_ST_OTHER, 1}, {"F8_E4M3", NT_ST_OTHER, 1}, {"F8_E5M2", NT_ST_OTHER, 1}};

size_t nt_st_dtype_size(nt_st_dtype d)
{
    return d == NT_ST_F32 ? 4 : d == NT_ST_F16 || d == NT_ST_BF16 ? 2 : 0;
}

const char *nt_st_dtype_str(nt_st_dtype d)
{
    return d == NT_ST_F32 ? "F32" : d == NT_ST_F16 ? "F16" : d == NT_ST_BF16 ? "BF16" : "?";
}

float nt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else {   /* subnormal: normalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* a JSON number that is a whole number in [0, 2^53] */
static int whole(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static int cmp_begin(const void *a, const void *b)
{
    const nt_st_tensor *x = *(const nt_st_tensor *const *)a, *y = *(const nt_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

int nt_st_open(nt_st_file *f, const char *path, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nt_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return nt_fail(err, errlen, "%s: not a regular file", path);
    }
    f->fd = fd;
    f->size = (size_t)st.st_size;
    if (f->size < 8) { nt_st_close(f); return nt_fail(err, errlen, "%s: truncated safetensors file (%zu bytes, no header length)", path, (size_t)st.st_size); }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        nt_st_close(f);
        return nt_fail(err, errlen, "%s: mmap failed: %s", path, strerror(errno));
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->map[i];
    if (hlen > NT_ST_MAX_HEADER) { nt_st_close(f); return nt_fail(err, errlen, "%s: header length %" PRIu64 " bytes: not a safetensors file (limit 100 MB)", path, hlen); }
    if (hlen > f->size - 8) {
        nt_st_close(f);
        return nt_fail(err, errlen, "%s: truncated safetensors file: header of %" PRIu64 " bytes, the file has %zu after the length", path, hlen, f->size - 8);
    }
    f->data0 = 8 + (size_t)hlen;
    uint64_t dsize = f->size - f->data0;
    char jerr[256];
    cJSON *h = nt_json_parse((const char *)f->map + 8, (size_t)hlen, jerr, sizeof jerr);
    if (!h) { nt_st_close(f); return nt_fail(err, errlen, "%s: header: %s", path, jerr); }
    if (!cJSON_IsObject(h)) { cJSON_Delete(h); nt_st_close(f); return nt_fail(err, errlen, "%s: header is not a JSON object", path); }
    int n = 0;
    for (const cJSON *e = h->child; e; e = e->next) n++;
    f->t = nt_calloc((size_t)(n ? n : 1), sizeof *f->t, "safetensors tensors");
    int rc = 0;
    for (const cJSON *e = h->child; e && rc == 0; e = e->next) {
        const char *name = e->string ? e->string : "";
        if (!strcmp(name, "__metadata__")) {
            if (!cJSON_IsObject(e)) { rc = nt_fail(err, errlen, "%s: __metadata__ is not an object", path); break; }
            const cJSON *fm = cJSON_GetObjectItemCaseSensitive(e, "format");
            if (cJSON_IsString(fm)) f->metadata_format = strdup(fm->valuestring);
            continue;
        }
        nt_st_tensor *t = &f->t[f->ntensors++];
        t->name = strdup(name);
        NT_CHECK(t->name != NULL, "out of memory");
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of)) {
            rc = nt_fail(err, errlen, "%s: tensor %s: header entry needs dtype (string), shape and data_offsets (arrays)", path, name);
            break;
        }
        size_t esz = 0;
        t->dtype = NT_ST_OTHER;
        for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
            if (!strcmp(dt->valuestring, dtypes[k].name)) { esz = dtypes[k].size; t->dtype = dtypes[k].d; }
        snprintf(t->dtype_name, sizeof t->dtype_name, "%s", dt->valuestring);
        if (!esz) { rc = nt_fail(err, errlen, "%s: tensor %s: unknown dtype '%s'", path, name, dt->valuestring); break; }
        t->ndim = cJSON_GetArraySize(sh);
        if (t->ndim > NT_ST_MAX_DIMS) { rc = nt_fail(err, errlen, "%s: tensor %s: %d dimensions", path, name, t->ndim); break; }
        t->numel = 1;
        for (int d = 0; d < t->ndim && rc == 0; d++) {
            uint64_t v;
            if (!whole(cJSON_GetArrayItem(sh, d), &v)) rc = nt_fail(err, errlen, "%s: tensor %s: shape[%d] is not a whole number >= 0", path, name, d);
            else {
                t->shape[d] = (int64_t)v;
                if (v && t->numel > UINT64_MAX / 16 / v) rc = nt_fail(err, errlen, "%s: tensor %s: shape too large", path, name);
                t->numel *= v;
            }
        }
        if (rc) break;
        if (cJSON_GetArraySize(of) != 2 || !whole(cJSON_GetArrayItem(of, 0), &t->begin) ||
            !whole(cJSON_GetArrayItem(of, 1), &t->end) || t->end < t->begin) {
            rc = nt_fail(err, errlen, "%s: tensor %s: data_offsets must be [begin, end] with 0 <= begin <= end", path, name);
            break;
        }
        if (t->end - t->begin != t->numel * esz) {
            rc = nt_fail(err, errlen, "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] span %" PRIu64 " bytes, its %s shape needs %" PRIu64,
                     path, name, t->begin, t->end, t->end - t->begin, t->dtype_name, t->numel * esz);
            break;
        }
        if (t->end > dsize) {
            rc = nt_fail(err, errlen, "%s: tensor %s: data_offsets end at byte %" PRIu64 " of the data, the file holds %" PRIu64 " (truncated file?)",
                     path, name, t->end, dsize);
            break;
        }
        t->data = f->map + f->data0 + t->begin;
    }
    cJSON_Delete(h);
    if (rc == 0 && f->ntensors > 1) {   /* no two tensors share bytes */
        nt_st_tensor **by = nt_malloc((size_t)f->ntensors * sizeof *by, "safetensors order");
        for (int i = 0; i < f->ntensors; i++) by[i] = &f->t[i];
        qsort(by, (size_t)f->ntensors, sizeof *by, cmp_begin);
        const nt_st_tensor *last = NULL;   /* the non-empty tensor reaching furthest so far */
        for (int i = 0; i < f->ntensors && rc == 0; i++) {
            if (by[i]->end == by[i]->begin) continue;
            if (last && by[i]->begin < last->end)
                rc = nt_fail(err, errlen, "%s: tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor %s's [%" PRIu64 ", %" PRIu64 "]",
                         path, by[i]->name, by[i]->begin, by[i]->end, last->name, last->begin, last->end);
            if (!last || by[i]->end > last->end) last = by[i];
        }
        free(by);
    }
    if (rc) nt_st_close(f);
    return rc;
}

void nt_st_close(nt_st_file *f)
{
    for (int i = 0; i < f->ntensors; i++) free(f->t[i].name);
    free(f->t);
    free(f->metadata_format);
    if (f->map) munmap(f->map, f->size);
    if (f->fd >= 0) close(f->fd);
    f->t = NULL;
    f->map = NULL;
    f->fd = -1;
    f->ntensors = 0;
    f->metadata_format = NULL;
}

const nt_st_tensor *nt_st_find(const nt_st_file *f, const char *name)
{
    for (int i = 0; i < f->ntensors; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

void nt_st_read_f32(const nt_st_tensor *t, uint64_t i0, uint64_t n, float *out)
{
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case NT_ST_F32: memcpy(out, p + 4 * i0, 4 * n); break;
    case NT_ST_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * (i0 + i), 2);
            out[i] = nt_bf16_to_f32(h);
        }
        break;
    case NT_ST_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * (i0 + i), 2);
            out[i] = nt_f16_to_f32(h);
        }
        break;
    default: NT_CHECK(0, "nt_st_read_f32: tensor %s has dtype %s", t->name, t->dtype_name);
    }
}

/* ---- writing ---------------------------------------------------------------- */

uint64_t nt_st_out_bytes(const nt_st_out *t)
{
    uint64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (uint64_t)t->shape[d];
    return n * nt_st_dtype_size(t->dtype);
}

static void write_all(int fd, const void *buf, size_t n, const char *path)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) nt_die(NT_EXIT_FAIL, "%s: write failed: %s", path, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
}

void nt_st_write_begin(nt_st_writer *w, const char *path, const nt_st_out *t, int n)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    w->t = t;
    w->n = n;
    cJSON *h = nt_json_object();
    cJSON *meta = nt_json_object();
    nt_json_str(meta, "format", "pt");
    nt_json_add(h, "__metadata__", meta);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = nt_json_object(), *sh = nt_json_array(), *of = nt_json_array();
        nt_json_str(e, "dtype", nt_st_dtype_str(t[i].dtype));
        for (int d = 0; d < t[i].ndim; d++) nt_json_push(sh, cJSON_CreateNumber((double)t[i].shape[d]));
        uint64_t b = nt_st_out_bytes(&t[i]);
        nt_json_push(of, cJSON_CreateNumber((double)off));
        nt_json_push(of, cJSON_CreateNumber((double)(off + b)));
        off += b;
        nt_json_add(e, "shape", sh);
        nt_json_add(e, "data_offsets", of);
        nt_json_add(h, t[i].name, e);
    }
    char *text = cJSON_PrintUnformatted(h);
    NT_CHECK(text != NULL, "%s: out of memory printing the header", path);
    cJSON_Delete(h);
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;   /* data section 8-byte aligned, spaces as padding */
    unsigned char *buf = nt_malloc(8 + padded, "safetensors header");
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, text, len);
    memset(buf + 8 + len, ' ', padded - len);
    free(text);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) nt_die(NT_EXIT_FAIL, "%s: cannot create: %s", path, strerror(errno));
    write_all(w->fd, buf, 8 + padded, path);
    free(buf);
}

void nt_st_write_bytes(nt_st_writer *w, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n) {
        NT_CHECK(w->next < w->n, "%s: more tensor bytes written than announced", w->path);
        uint64_t left = nt_st_out_bytes(&w->t[w->next]) - w->done, k = n < left ? n : left;
        write_all(w->fd, p, (size_t)k, w->path);
        p += k;
        n -= (size_t)k;
        w->done += k;
        if (w->done == nt_st_out_bytes(&w->t[w->next])) { w->next++; w->done = 0; }
    }
    while (w->next < w->n && nt_st_out_bytes(&w->t[w->next]) == 0) w->next++;   /* empty tensors */
}

void nt_st_write_next(nt_st_writer *w, const void *data)
{
    NT_CHECK(w->next < w->n && w->done == 0, "%s: tensor %d written out of order", w->path, w->next);
    size_t n = (size_t)nt_st_out_bytes(&w->t[w->next]);
    if (n) nt_st_write_bytes(w, data, n);
    else w->next++;
}

void nt_st_write_end(nt_st_writer *w)
{
    NT_CHECK(w->next == w->n, "%s: %d of %d tensors written", w->path, w->next, w->n);
    if (fsync(w->fd) != 0) nt_die(NT_EXIT_FAIL, "%s: fsync failed: %s", w->path, strerror(errno));
    if (close(w->fd) != 0) nt_die(NT_EXIT_FAIL, "%s: close failed: %s", w->path, strerror(errno));
    w->fd = -1;
}
