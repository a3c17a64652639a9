/* safetensors.h — the safetensors file format (Hugging Face): an 8-byte
 * little-endian header length N, N bytes of JSON header
 * {"name": {"dtype": "BF16", "shape": [r, c], "data_offsets": [b, e]}, ...,
 *  "__metadata__": {"k": "v"}}, then the raw little-endian tensor bytes,
 * offsets relative to the end of the header.
 *
 * Reading: the header is parsed with cJSON and checked completely before
 * any tensor is used (dtype known, shape sane, offsets inside the file,
 * e - b = numel * element size, tensors not overlapping); tensor bytes are
 * then read straight from a read-only mmap of the file (no copy of the
 * whole file).  Writing: a tensor list (name, dtype, shape, data pointer)
 * becomes one file, written as PATH and fsync'd.
 *
 * Errors are returned as text in err ("FILE: tensor NAME: ..."), for the
 * caller to report (once, across ranks). */
#ifndef NTRON_SAFETENSORS_H
#define NTRON_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum nt_st_dtype { NT_ST_F32 = 0, NT_ST_F16, NT_ST_BF16, NT_ST_OTHER } nt_st_dtype;

#define NT_ST_MAX_DIMS 8

typedef struct nt_st_tensor {
    char *name;
    nt_st_dtype dtype;
    char dtype_name[16];           /* as the header spells it ("BF16", "I64", ...) */
    int ndim;
    int64_t shape[NT_ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end;           /* byte offsets in the data section */
    const void *data;              /* into the mapping */
} nt_st_tensor;

typedef struct nt_st_file {
    char path[2048];
    int fd;
    unsigned char *map;            /* read-only mapping of the whole file */
    size_t size;
    size_t data0;                  /* 8 + header length */
    int ntensors;
    nt_st_tensor *t;               /* header order */
    char *metadata_format;         /* __metadata__.format, or NULL */
} nt_st_file;

/* bytes per element (0 for NT_ST_OTHER) */
size_t nt_st_dtype_size(nt_st_dtype d);
const char *nt_st_dtype_str(nt_st_dtype d);

/* Open and validate path; 0, or -1 with a one-line reason in err. */
int nt_st_open(nt_st_file *f, const char *path, char *err, size_t errlen);
void nt_st_close(nt_st_file *f);
const nt_st_tensor *nt_st_find(const nt_st_file *f, const char *name);
/* Tensor elements [i0, i0 + n) (row-major) as fp32 (F32, F16, BF16). */
void nt_st_read_f32(const nt_st_tensor *t, uint64_t i0, uint64_t n, float *out);

/* IEEE half -> single (exact) */
float nt_f16_to_f32(uint16_t h);

/* ---- writing ---------------------------------------------------------------- */
typedef struct nt_st_out {
    const char *name;
    nt_st_dtype dtype;             /* F32 or BF16 */
    int ndim;
    int64_t shape[2];
} nt_st_out;

typedef struct nt_st_writer {
    char path[2048];
    int fd;
    int n, next;
    uint64_t done;                 /* bytes of tensor `next` written so far */
    const nt_st_out *t;
} nt_st_writer;

/* bytes one tensor takes in a file (data only) */
uint64_t nt_st_out_bytes(const nt_st_out *t);
/* Start a new safetensors file at path for tensors t[0..n) (kept by
 * reference; metadata {"format": "pt"}): writes the header.  Then
 * nt_st_write_next once per tensor in order with its numel*size bytes;
 * nt_st_write_end fsyncs and closes.  Failures exit 1 naming the file. */
void nt_st_write_begin(nt_st_writer *w, const char *path, const nt_st_out *t, int n);
void nt_st_write_next(nt_st_writer *w, const void *data);
/* The same in pieces: the bytes of the tensors in order, any split. */
void nt_st_write_bytes(nt_st_writer *w, const void *data, size_t n);
void nt_st_write_end(nt_st_writer *w);

#endif
