/* ckpt.h — parallel HDF5 checkpoints (format: postprocess/CHECKPOINT_FORMAT.md).
 *
 * One checkpoint = one directory `iter_NNNNNNN/` holding `ckpt.h5`, in
 * which every tensor is stored once at its full logical shape: model
 * weights in /model as bf16 (a 16-bit HDF5 float type), fp32 master
 * weights and Adam moments in /optimizer/{master,adam_m,adam_v}.  Every
 * rank writes (and reads) its own hyperslabs collectively through MPI-IO:
 * its TP shard, on the PP stage that owns the tensor, restricted to its
 * ZeRO-1 shard of the flat buffer, so any TP/PP/v/DP layout can load any
 * checkpoint.  Each dataset carries an order-independent xxHash checksum.
 *
 * Commit protocol: write iter_NNNNNNN.tmp/, close, fsync, rename to
 * iter_NNNNNNN/, fsync the directory, then replace `latest` (a one-line
 * file naming the directory) by rename; keep the last `keep`.
 *
 * Trust (issue #20): a load verifies every dataset it reads (and /model on
 * a resume), the root attributes against attrs_xxh3 (format 2) and the
 * counters; `latest` must name a committed directory; a save that cannot
 * be written (no space, quota, read-only) stops every rank with one line,
 * the .tmp removed, the previous checkpoint and `latest` intact.
 */
#ifndef NTRON_CKPT_H
#define NTRON_CKPT_H

#include "train/trainer.h"

#include <stdint.h>

#define NT_CKPT_FORMAT "ntron-checkpoint"
#define NT_CKPT_VERSION 2        /* 2: root attributes checksummed (attrs_xxh3) */
#define NT_CKPT_VERSION_MIN 1    /* 1: read with a warning (root attributes unverified) */
#define NT_CKPT_ATTRS_SUM "attrs_xxh3"
#define NT_CKPT_FILE "ckpt.h5"

/* Run state stored next to the tensors (root attributes). */
typedef struct nt_ckpt_meta {
    const char *deck_text;      /* resolved deck (save only) */
    const char *deck_sha256;
    long skipped_steps;         /* steps skipped by train.nan_policy = skip */
} nt_ckpt_meta;

/* 1 if path is an HDF5 file whose root attribute `format` is NT_CKPT_FORMAT
 * (any writer's string type); 0 otherwise, silently.  Outputs that would
 * replace one are refused (prep -o, generate.output, score.output). */
int nt_ckpt_is_file(const char *path);

/* Saves the trainer state (model set, optimizer, counters) as checkpoint `step` under dir (collective over
 * the trainer's world), commits it and prunes to the last `keep`.  Returns
 * the seconds spent (rank 0's view). */
double nt_ckpt_save(nt_trainer *tr, const char *dir, int keep, const nt_ckpt_meta *meta);

/* Before the first step (collective, rank 0 probes): run_dir and ckpt_dir
 * (either may be "" or NULL) can be created and written (a test file is
 * written, fsync'd, removed), and ckpt_dir's file system has room for one
 * checkpoint's datasets; else one line naming the directory and the OS
 * error, every rank exits 1 (an environment failure). */
void nt_ckpt_check_writable(nt_trainer *tr, const char *ckpt_dir, const char *run_dir);

/* Counters of a checkpoint (root attributes) restored with the optimizer. */
typedef struct nt_ckpt_counters {
    long step, opt_step, skipped_steps;
    uint64_t consumed_samples;
    double consumed_tokens;
} nt_ckpt_counters;

/* Loads a checkpoint into a model set (collective over its world).  path:
 * a checkpoint directory, its ckpt.h5, or a checkpoint root holding
 * `latest`.  With an optimizer (opt != NULL, a trainable set) also the
 * fp32 master weights, Adam moments and the counters (into cnt); else the
 * bf16 model weights only (cnt zeroed).  A frozen set loads the same way.
 * Bad input (not a checkpoint, other model shape, missing tensor, wrong
 * dtype, checksum mismatch) exits 2 with one line naming the file and
 * tensor; nothing is written. */
void nt_ckpt_load(nt_modelset *ms, nt_optimizer *opt, const char *path, nt_ckpt_counters *cnt);

/* The directory `latest` in root names ("" if none); returns 1 if found
 * and valid (names a committed checkpoint directory of root). */
int nt_ckpt_latest(const char *root, char *out, size_t n);
/* Where a run on checkpoint directory dir starts (collective over world,
 * rank 0 reads the file system): 1 and `latest`'s directory name in out
 * when there is one to resume from; 0 for a fresh start (no dir, or no
 * checkpoint in it).  Exits 2 on every rank, printed once, when `latest` is
 * not a valid pointer (not one line naming a committed iter_NNNNNNN
 * directory of dir: a path, `..`, empty, binary, a directory) or when dir
 * holds committed checkpoints but no `latest` and !overwrite (the message
 * names the newest and how to resume from it). */
int nt_ckpt_resume_point(const nt_comm *world, const char *dir, int overwrite, char *out, size_t n);

/* `ntron ckpt info PATH` / `ntron ckpt convert IN OUT` */
int nt_ckpt_main(int argc, char **argv);

/* ---- shared by ckpt_*.c ---------------------------------------------------- */
#include <hdf5.h>
#include <pthread.h>

#include "util/bf16.h"   /* nt_f32_to_bf16, nt_bf16_to_f32 */

/* The bf16 file/memory type (sign 15, exponent 7-14, mantissa 0-6, bias 127). */
hid_t nt_ckpt_bf16_type(void);
/* dst[i] = nt_f32_to_bf16(src[i]) (vectorised for the CPU at hand). */
void nt_f32_to_bf16_n(uint16_t *dst, const float *src, size_t n);
/* Order-independent checksum of n row segments of a tensor: segment k
 * covers full-tensor row-major indices [idx[2k], idx[2k] + idx[2k+1]); data
 * holds the segments' values back to back.  Sum of XXH3_64(value bytes,
 * seed = index) mod 2^64, so partial sums from any layout add up. */
uint64_t nt_ckpt_checksum(const void *data, size_t elem_bytes, const uint64_t *idx, size_t n);
/* Root-attribute checksum (CHECKPOINT_FORMAT.md): XXH3_64 over every root
 * attribute but attrs_xxh3, in name order.  sum: 0, or -1 if an attribute
 * cannot be read.  stamp: (re)writes attrs_xxh3 after the other root
 * attributes (collective on a parallel file).  check: 0 verified, 1 a
 * format-1 file without one (why: the warning), -1 mismatch or missing
 * (why: the reason). */
int nt_ckpt_attrs_sum(hid_t f, uint64_t *sum);
void nt_ckpt_attrs_stamp(hid_t f);
int nt_ckpt_attrs_check(hid_t f, long long version, char *why, size_t n);
/* Resolve PATH (dir with latest / iter dir / file) to the ckpt.h5 path;
 * returns 0, or -1 with a reason in why. */
int nt_ckpt_resolve(const char *path, char *file, size_t n, char *why, size_t wn);
/* fsync a file or a directory by path */
void nt_ckpt_fsync_path(const char *path);

/* early write-back while a checkpoint is written (ckpt_writeback.c) */
typedef struct {
    int fd, running, done;
    size_t pending, requests;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} nt_writeback;
void nt_writeback_open(nt_writeback *wb, const char *file);
void nt_writeback_kick(nt_writeback *wb, size_t bytes);
void nt_writeback_close(nt_writeback *wb);
/* Collective: write the whole state into one new HDF5 file. */
void nt_ckpt_write_file(nt_trainer *tr, const char *file, const nt_ckpt_meta *meta);
/* Commit protocol halves (collective; rank 0 touches the file system):
 * prepare creates dir/name.tmp/ (removing stale .tmp directories and
 * checkpoints newer than name, which `latest` cannot name); commit fsyncs,
 * renames name.tmp -> name, replaces `latest` and prunes to `keep`. */
void nt_ckpt_prepare(const nt_grid *g, const char *dir, const char *name);
/* remove a partial checkpoint directory (rank 0, after a failed write);
 * problems are warnings (the next save's prepare retries) */
void nt_ckpt_discard(const char *dir);
void nt_ckpt_commit(const nt_grid *g, long step, const char *dir, const char *name, int keep);
/* wait for the background removal of pruned checkpoints (rank 0; also at exit) */
void nt_ckpt_reap_wait(void);
/* Fault injection for the crash tests: NTRON_FAULT_CKPT_KILL=POINT:STEP
 * raises SIGKILL on every rank that reaches POINT (created, tensors,
 * closed, renamed) while saving step STEP. */
void nt_ckpt_fault(const char *point, long step);

#endif
