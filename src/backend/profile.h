/* profile.h — the per-op profile of a backend (`ntron bench`'s split):
 * nt_profile_ops(ops) returns an ops table that calls `ops` through and,
 * while the profile is on, times every call with the backend's own timer
 * (time_start/time_stop: host clock on CPU, CUDA events on the GPU, which
 * wait for the op to finish) and adds it to a per-op row.
 *
 * Classes: GEMM (matmul, matmul_wgrad), attention (attention_fwd/_bwd,
 * attention_decode), other (every other compute op and the device-side
 * zero/copy), host copy (to_act, from_act, to_f32, from_f32,
 * tokens_upload).  Communication is not an op and is not counted. */
#ifndef NTRON_PROFILE_H
#define NTRON_PROFILE_H

#include "backend/backend.h"

enum { NT_PROF_GEMM, NT_PROF_ATTENTION, NT_PROF_OTHER, NT_PROF_HOST, NT_PROF_NCLASS };

typedef struct nt_prof_row {
    const char *op;  /* the nt_ops member's name */
    int cls;         /* NT_PROF_* */
    long calls;
    double ms;
} nt_prof_row;

/* the profiled table over `ops` (one per base table, built once); the
 * same name, dtype and flags as `ops`, so callers cannot tell them apart */
const nt_ops *nt_profile_ops(const nt_ops *ops);
/* on = 1 zeroes the rows and starts timing; on = 0 stops */
void nt_profile(int on);
/* the rows with calls > 0, by time (largest first); returns their count
 * (at most max); cls (if given) receives the per-class totals in ms */
int nt_profile_rows(nt_prof_row *rows, int max, double cls[NT_PROF_NCLASS]);
const char *nt_profile_class_name(int cls);

#endif
