/* ckpt_cmd.c — `ntron ckpt info PATH` (root attributes and tensor list,
 * checksums verified) and `ntron ckpt convert IN OUT` (re-save the model
 * weights only, e.g. as the start of a later phase; written as OUT.tmp/,
 * fsync'd and renamed, never over an existing OUT).  Serial HDF5: no MPI
 * launch needed.  Also the flags of `ntron ckpt import-hf` / `export-hf`
 * (Hugging Face interop, src/interop/). */
#include "ckpt/ckpt.h"
#include "util/check.h"
#include "cli/cli_flags.h"
#include "interop/hf.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static hid_t open_ckpt(const char *path, char *file, size_t n)
{
    char why[1024];
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    if (nt_ckpt_resolve(path, file, n, why, sizeof why) != 0) nt_input_error("checkpoint %s: %s", path, why);
    if (H5Fis_hdf5(file) <= 0) nt_input_error("checkpoint %s: not an HDF5 file (not a ntron checkpoint)", file);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) nt_input_error("checkpoint %s: cannot open as HDF5 (truncated or damaged file?)", file);
    char fmt[64] = "";
    hid_t a = H5Aexists(f, "format") > 0 ? H5Aopen(f, "format", H5P_DEFAULT) : -1;
    if (a >= 0) {
        hid_t t = H5Aget_type(a);
        NT_CHECK_H5(t);
        if (H5Tget_class(t) == H5T_STRING && H5Tget_size(t) < sizeof fmt) NT_CHECK_H5(H5Aread(a, t, fmt));
        NT_CHECK_H5(H5Tclose(t));
        NT_CHECK_H5(H5Aclose(a));
    }
    if (strcmp(fmt, NT_CKPT_FORMAT) != 0)
        nt_input_error("checkpoint %s: not a ntron checkpoint (root attribute format is not '%s')", file, NT_CKPT_FORMAT);
    /* the root attributes are trusted only once their checksum matches */
    long long ver = 0;
    a = H5Aexists(f, "format_version") > 0 ? H5Aopen(f, "format_version", H5P_DEFAULT) : -1;
    if (a < 0 || H5Aread(a, H5T_NATIVE_LLONG, &ver) < 0 || ver < NT_CKPT_VERSION_MIN || ver > NT_CKPT_VERSION)
        nt_input_error("checkpoint %s: format_version %lld, this ntron reads versions %d to %d", file, ver,
                       NT_CKPT_VERSION_MIN, NT_CKPT_VERSION);
    NT_CHECK_H5(H5Aclose(a));
    int r = nt_ckpt_attrs_check(f, ver, why, sizeof why);
    if (r < 0) nt_input_error("checkpoint %s: %s", file, why);
    if (r > 0) fprintf(stderr, "ntron: warning: checkpoint %s: %s\n", file, why);
    return f;
}

static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data)
{
    (void)ainfo;
    (void)data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    hid_t t = H5Aget_type(a);
    NT_CHECK_H5(t);
    H5T_class_t c = H5Tget_class(t);
    if (c == H5T_STRING) {
        size_t sz = H5Tget_size(t);
        char *s = nt_calloc(sz + 1, 1, "attribute");
        NT_CHECK_H5(H5Aread(a, t, s));
        if (strchr(s, '\n')) {
            printf("%-18s |\n", name);
            for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) printf("    %s\n", line);
        } else {
            printf("%-18s %s\n", name, s);
        }
        free(s);
    } else if (c == H5T_INTEGER) {
        if (H5Tget_sign(t) == H5T_SGN_NONE) {
            unsigned long long v;
            NT_CHECK_H5(H5Aread(a, H5T_NATIVE_ULLONG, &v));
            printf("%-18s %llu\n", name, v);
        } else {
            long long v;
            NT_CHECK_H5(H5Aread(a, H5T_NATIVE_LLONG, &v));
            printf("%-18s %lld\n", name, v);
        }
    } else if (c == H5T_FLOAT) {
        double v;
        NT_CHECK_H5(H5Aread(a, H5T_NATIVE_DOUBLE, &v));
        printf("%-18s %.17g\n", name, v);
    }
    NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Aclose(a));
    return 0;
}

typedef struct walk { hid_t f, bf16; const char *file; int bad; long n; double bytes; int print; } walk;

/* read a whole dataset, verify its checksum; prints one line per tensor */
static herr_t visit_dataset(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    walk *w = data;
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return 0;   /* a group */
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    NT_CHECK_H5(t);
    NT_CHECK_H5(sp);
    hsize_t dims[2] = {0, 1};
    int nd = H5Sget_simple_extent_ndims(sp);
    NT_CHECK_H5(H5Sget_simple_extent_dims(sp, dims, NULL));
    size_t n = (size_t)dims[0] * (nd == 2 ? (size_t)dims[1] : 1), esz = H5Tget_size(t);
    int is_bf16 = H5Tequal(t, w->bf16) > 0, is_f32 = H5Tequal(t, H5T_IEEE_F32LE) > 0;
    char status[96] = "ok";
    uint64_t want = 0;
    hid_t a = H5Aexists(d, "xxh3_sum") > 0 ? H5Aopen(d, "xxh3_sum", H5P_DEFAULT) : -1;
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &want) < 0) snprintf(status, sizeof status, "NO CHECKSUM");
    if (a >= 0) NT_CHECK_H5(H5Aclose(a));
    if (!is_bf16 && !is_f32) snprintf(status, sizeof status, "WRONG DTYPE");
    else if (a >= 0) {
        void *buf = nt_malloc((n ? n : 1) * esz, "tensor");
        uint64_t seg[2] = {0, n};
        if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) snprintf(status, sizeof status, "READ FAILED");
        else if (nt_ckpt_checksum(buf, esz, seg, 1) != want) snprintf(status, sizeof status, "CHECKSUM MISMATCH");
        free(buf);
    }
    if (strcmp(status, "ok") != 0) w->bad++;
    w->n++;
    w->bytes += (double)n * (double)esz;
    if (w->print) {
        char shape[64];
        if (nd == 2) snprintf(shape, sizeof shape, "[%llu, %llu]", (unsigned long long)dims[0], (unsigned long long)dims[1]);
        else snprintf(shape, sizeof shape, "[%llu]", (unsigned long long)dims[0]);
        printf("  %-40s %-16s %-5s %016llx %s\n", name, shape, is_bf16 ? "bf16" : is_f32 ? "fp32" : "?",
               (unsigned long long)want, status);
    }
    NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Sclose(sp));
    NT_CHECK_H5(H5Dclose(d));
    return 0;
}

static void walk_group(walk *w, const char *group, int print)
{
    if (H5Lexists(w->f, group, H5P_DEFAULT) <= 0) {
        if (print) printf("%s: absent\n", group);
        return;
    }
    hid_t g = H5Gopen2(w->f, group, H5P_DEFAULT);
    NT_CHECK_H5(g);
    long n0 = w->n;
    double b0 = w->bytes;
    w->print = print;
    if (print) printf("%s:\n  %-40s %-16s %-5s %-16s %s\n", group, "tensor", "shape", "dtype", "xxh3_sum", "check");
    NT_CHECK_H5(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, visit_dataset, w));
    printf("%s: %ld tensors, %.6g bytes\n", group, w->n - n0, w->bytes - b0);
    NT_CHECK_H5(H5Gclose(g));
}

static int cmd_info(const char *path)
{
    char file[2048];
    hid_t f = open_ckpt(path, file, sizeof file);
    printf("checkpoint %s\n", file);
    NT_CHECK_H5(H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, print_attr, NULL));
    walk w = {.f = f, .bf16 = nt_ckpt_bf16_type(), .file = file};
    walk_group(&w, "/model", 1);
    const char *opt[] = {"/optimizer/master", "/optimizer/adam_m", "/optimizer/adam_v"};
    for (int i = 0; i < 3; i++) walk_group(&w, opt[i], 0);
    NT_CHECK_H5(H5Tclose(w.bf16));
    NT_CHECK_H5(H5Fclose(f));
    if (w.bad) nt_input_error("checkpoint %s: %d tensors failed their checks (see the list above)", file, w.bad);
    printf("all %ld tensors verified\n", w.n);
    return 0;
}

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data)
{
    (void)ainfo;
    hid_t out = *(hid_t *)data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    NT_CHECK_H5(t);
    NT_CHECK_H5(sp);
    size_t sz = H5Tget_size(t) * (size_t)H5Sget_simple_extent_npoints(sp);
    void *buf = nt_calloc(sz + 1, 1, "attribute");
    NT_CHECK_H5(H5Aread(a, t, buf));
    if (!strcmp(name, "has_optimizer")) *(long long *)buf = 0;
    if (!strcmp(name, "format_version")) *(long long *)buf = NT_CKPT_VERSION;
    hid_t b = H5Acreate2(out, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(b);
    NT_CHECK_H5(H5Awrite(b, t, buf));
    NT_CHECK_H5(H5Aclose(b));
    free(buf);
    NT_CHECK_H5(H5Sclose(sp));
    NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Aclose(a));
    return 0;
}

static int cmd_convert(const char *in, const char *out)
{
    char file[2048], tmpdir[2100], tmpfile[2200];
    struct stat st;
    if (stat(out, &st) == 0) nt_input_error("ckpt convert: %s exists; not overwriting it", out);
    hid_t f = open_ckpt(in, file, sizeof file);
    walk w = {.f = f, .bf16 = nt_ckpt_bf16_type(), .file = file};
    walk_group(&w, "/model", 0);
    if (w.bad || w.n == 0) nt_input_error("checkpoint %s: /model %s", file, w.n ? "failed its checksums" : "holds no tensors");
    snprintf(tmpdir, sizeof tmpdir, "%s.tmp", out);
    snprintf(tmpfile, sizeof tmpfile, "%s/%s", tmpdir, NT_CKPT_FILE);
    if (mkdir(tmpdir, 0755) != 0) nt_die(NT_EXIT_FAIL, "%s: cannot create directory: %s", tmpdir, strerror(errno));
    hid_t o = H5Fcreate(tmpfile, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(o);
    NT_CHECK_H5(H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr, &o));
    nt_ckpt_attrs_stamp(o);   /* has_optimizer changed (a format-1 input becomes format 2) */
    NT_CHECK_H5(H5Ocopy(f, "/model", o, "/model", H5P_DEFAULT, H5P_DEFAULT));
    NT_CHECK_H5(H5Fclose(o));
    NT_CHECK_H5(H5Tclose(w.bf16));
    NT_CHECK_H5(H5Fclose(f));
    nt_ckpt_fsync_path(tmpfile);
    nt_ckpt_fsync_path(tmpdir);
    if (rename(tmpdir, out) != 0) nt_die(NT_EXIT_FAIL, "rename %s -> %s: %s", tmpdir, out, strerror(errno));
    printf("converted %s -> %s/%s: %ld model tensors (%.6g bytes), weights only (has_optimizer = 0)\n", file, out,
           NT_CKPT_FILE, w.n, w.bytes);
    return 0;
}

static int cmd_import_hf(int argc, char **argv)
{
    const char *pos[2], *deck_out = NULL;
    const nt_flag flags[] = {
        {"--deck-out", NT_FLAG_STRING, &deck_out, "DECK", "also write a deck whose [model] section is the config's", 0, 0, NULL, "none"}};
    const nt_cli cli = {"ckpt import-hf", "HF_DIR OUT", 2, 2,
                        "Import a Hugging Face NemotronForCausalLM directory (config.json and model.safetensors, or\n"
                        "shards with model.safetensors.index.json; F32, F16 or BF16) as a new ntron checkpoint\n"
                        "directory OUT (weights only; never over an existing one).  Config fields ntron cannot\n"
                        "represent are refused by name.  Under mpirun the ranks share the conversion.",
                        flags, 1};
    nt_cli_parse(&cli, argc, argv, pos);
    return nt_hf_import(pos[0], pos[1], deck_out);
}

static int cmd_export_hf(int argc, char **argv)
{
    const char *pos[2], *dtype = "bf16", *shard = "5GB";
    const nt_flag flags[] = {
        {"--dtype", NT_FLAG_CHOICE, &dtype, NULL, "tensor dtype written (fp32: the fp32 master weights where the checkpoint has them)", 0, 0, "bf16|fp32", NULL},
        {"--shard-size", NT_FLAG_STRING, &shard, "SIZE", "largest safetensors shard (5GB = 5e9 bytes, 2GiB = 2^30 bytes...)", 0, 0, NULL, NULL}};
    const nt_cli cli = {"ckpt export-hf", "CKPT OUT_DIR", 2, 2,
                        "Export checkpoint CKPT as a Hugging Face NemotronForCausalLM directory OUT_DIR (new):\n"
                        "config.json, generation_config.json, safetensors shards (with an index when more than one)\n"
                        "and, when the deck's data.tokenizer is a SentencePiece model, the tokenizer files.\n"
                        "The vocabulary padding is trimmed.",
                        flags, 2};
    nt_cli_parse(&cli, argc, argv, pos);
    uint64_t bytes = nt_hf_parse_size(shard);
    if (!bytes) nt_cli_error(&cli, "--shard-size wants a size such as 5GB, 500MB or 2GiB, got '%s'", shard);
    return nt_hf_export(pos[0], pos[1], dtype, bytes);
}

int nt_ckpt_main(int argc, char **argv)
{
    static const char *const subs[] = {"info PATH", "convert IN OUT", "import-hf HF_DIR OUT", "export-hf CKPT OUT_DIR"};
    static const char *const help[] = {"checkpoint attributes, tensor list, checksums verified",
                                       "re-save a checkpoint's model weights only (new directory OUT)",
                                       "Hugging Face NemotronForCausalLM (safetensors) -> checkpoint OUT",
                                       "checkpoint -> Hugging Face NemotronForCausalLM directory"};
    const char *pos[2];
    int sub = nt_cli_subcommand("ckpt", subs, help, 4, argc, argv);
    if (sub == 2) return cmd_import_hf(argc - 1, argv + 1);
    if (sub == 3) return cmd_export_hf(argc - 1, argv + 1);
    if (sub == 0) {
        const nt_cli cli = {"ckpt info", "PATH", 1, 1,
                            "Print a checkpoint's root attributes and tensor list and verify every tensor's checksum\n"
                            "(exit 2 if one fails).  PATH: a checkpoint directory (its `latest`), an iter_NNNNNNN\n"
                            "directory or a ckpt.h5 file.",
                            NULL, 0};
        nt_cli_parse(&cli, argc - 1, argv + 1, pos);
        return cmd_info(pos[0]);
    }
    const nt_cli cli = {"ckpt convert", "IN OUT", 2, 2,
                        "Re-save checkpoint IN's model weights only (no optimizer state, has_optimizer = 0) as a new\n"
                        "checkpoint directory OUT (never over an existing one), e.g. as the start of a later phase.",
                        NULL, 0};
    nt_cli_parse(&cli, argc - 1, argv + 1, pos);
    return cmd_convert(pos[0], pos[1]);
}
