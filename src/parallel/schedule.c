/* schedule.c — 1F1B and interleaved 1F1B action lists, and the all-rank
 * simulation that proves a schedule completes before it is used. */
#include "parallel/schedule.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* forward order: micro-batches in groups of G = min(P, m); within a group,
 * all chunks in turn (chunk 0 for the group, then chunk 1, ...).  Backward
 * order: the same groups with chunks reversed.  v = 1 reduces to plain order. */
static void order(nt_action *o, int P, int v, int m, char kind)
{
    int G = P < m ? P : m, k = 0;
    for (int g0 = 0; g0 < m; g0 += G) {
        int gs = m - g0 < G ? m - g0 : G;
        for (int ci = 0; ci < v; ci++) {
            int c = kind == 'F' ? ci : v - 1 - ci;
            for (int j = 0; j < gs; j++) o[k++] = (nt_action){kind, c, g0 + j};
        }
    }
}

int nt_schedule_warmup(int P, int p, int v, int m)
{
    int total = m * v, w;
    if (v == 1) w = P - p - 1;
    else w = 2 * (P - p - 1) + (v - 1) * (P < m ? P : m);
    if (w > total) w = total;
    if (w < 0) w = 0;
    return w;
}

/* All ranks' lists are produced together by simulating the pipeline in
 * time steps: in each step every rank runs at most one action whose input
 * was produced in an earlier step.  A rank runs forwards (in forward order)
 * during its warm-up, then alternates, preferring a backward after a
 * forward and a forward after a backward, and takes the other kind when the
 * preferred one is not ready yet.  With m a multiple of P this is exactly
 * Megatron's warm-up / 1F1B / cool-down; otherwise the fallback keeps the
 * pipeline moving where a rigid alternation would wait forever. */
static int build_all(nt_action **out, int P, int v, int m)
{
    int total = m * v, S = P * v;
    nt_action *F = nt_malloc((size_t)total * sizeof *F, "schedule"), *B = nt_malloc((size_t)total * sizeof *B, "schedule");
    order(F, P, v, m, 'F');
    order(B, P, v, m, 'B');
    int *nf = nt_calloc((size_t)P, sizeof(int), "sim"), *nb = nt_calloc((size_t)P, sizeof(int), "sim");
    int *len = nt_calloc((size_t)P, sizeof(int), "sim");
    char *last = nt_calloc((size_t)P, 1, "sim");
    /* step at which (stage, mb) finished forward / backward; 0 = not yet */
    int *fdone = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim"), *bdone = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim");
    int remaining = 2 * P * total, step = 0, ok = 1;
    /* pass 0: Megatron's rigid order (warm-up forwards, then strictly F,B,F,B,
     * then cool-down backwards), each rank waiting for its next action's input;
     * pass 1, only when no rank can move in pass 0: a rank that waits for a
     * backward may run its next ready forward instead (or the reverse). */
    while (remaining > 0 && ok) {
        step++;
        int progressed = 0;
        for (int pass = 0; pass < 2 && !progressed; pass++)
            for (int p = 0; p < P; p++) {
                int fready = 0, bready = 0;
                if (nf[p] < total) {
                    nt_action a = F[nf[p]];
                    int s = a.chunk * P + p;
                    int d = s == 0 ? -1 : fdone[(size_t)(s - 1) * m + a.mb];
                    fready = s == 0 || (d && d < step);
                }
                if (nb[p] < nf[p]) {
                    nt_action a = B[nb[p]];
                    int s = a.chunk * P + p;
                    int fd = fdone[(size_t)s * m + a.mb];
                    int bd = s == S - 1 ? -1 : bdone[(size_t)(s + 1) * m + a.mb];
                    bready = fd && fd < step && (s == S - 1 || (bd && bd < step));
                }
                int want_f, w = nt_schedule_warmup(P, p, v, m);  /* the rigid choice */
                if (nf[p] < w) want_f = 1;
                else if (nf[p] >= total) want_f = 0;
                else want_f = nf[p] - w <= nb[p];
                int do_f = -1;
                if (want_f && fready) do_f = 1;
                else if (!want_f && bready) do_f = 0;
                else if (pass == 1) do_f = fready ? 1 : (bready ? 0 : -1);
                if (do_f < 0) continue;
                nt_action a = do_f ? F[nf[p]++] : B[nb[p]++];
                int s = a.chunk * P + p;
                (do_f ? fdone : bdone)[(size_t)s * m + a.mb] = step;
                out[p][len[p]++] = a;
                last[p] = a.kind;
                remaining--;
                progressed = 1;
            }
        if (!progressed) ok = 0;   /* nothing produced this step: nothing can ever run */
    }
    free(F); free(B); free(nf); free(nb); free(len); free(last); free(fdone); free(bdone);
    return ok;
}

int nt_schedule_build_all(nt_action **out, int P, int v, int m)
{
    return build_all(out, P, v, m) ? 2 * m * v : 0;
}

int nt_schedule_build(nt_action *out, int P, int p, int v, int m)
{
    int total = 2 * m * v;
    nt_action **all = nt_malloc((size_t)P * sizeof *all, "schedule lists");
    for (int r = 0; r < P; r++) all[r] = nt_malloc((size_t)total * sizeof(nt_action), "schedule");
    int ok = build_all(all, P, v, m);
    if (ok) memcpy(out, all[p], (size_t)total * sizeof(nt_action));
    for (int r = 0; r < P; r++) free(all[r]);
    free(all);
    return ok ? total : 0;
}

/* ---- simulation --------------------------------------------------------- */

int nt_schedule_verify(int P, int v, int m, char *err, size_t n)
{
    int total = 2 * m * v;
    nt_action **list = nt_malloc((size_t)P * sizeof *list, "schedule lists");
    for (int p = 0; p < P; p++) list[p] = nt_malloc((size_t)total * sizeof(nt_action), "schedule");
    int rc = 1;
    if (nt_schedule_build_all(list, P, v, m) != total)
        snprintf(err, n, "pipeline schedule (P=%d, v=%d, m=%d): no schedule could be built", P, v, m);
    else
        rc = nt_schedule_verify_lists(P, v, m, (const nt_action *const *)list, err, n);
    for (int p = 0; p < P; p++) free(list[p]);
    free(list);
    return rc;
}

/* ---- timed simulation ------------------------------------------------------ */

/* Runs all P lists in time steps: each action at the first step after its
 * rank's previous action and after the step that produced its input.
 * step[p][i] (1-based) when step != NULL; fstep/bstep[stage*m + mb] the
 * step each forward/backward ran (0: not yet).  Returns 1 when every list
 * completes; 0 on a deadlock, with each rank's position in stuck (if given). */
static int time_lists(int P, int v, int m, const nt_action *const *list, const int *len, int **step,
                      int *fstep, int *bstep, int *stuck)
{
    int S = P * v, remaining = 0, ok = 1;
    int *pos = nt_calloc((size_t)P, sizeof(int), "schedule positions");
    for (int p = 0; p < P; p++) remaining += len[p];
    for (int t = 1; remaining > 0; t++) {
        int ran = 0;
        for (int p = 0; p < P; p++) {
            if (pos[p] >= len[p]) continue;
            nt_action a = list[p][pos[p]];
            int s = a.chunk * P + p, in;
            if (a.kind == 'F') in = s == 0 ? -1 : fstep[(size_t)(s - 1) * m + a.mb];
            else {
                int own = fstep[(size_t)s * m + a.mb];
                in = s == S - 1 ? own : bstep[(size_t)(s + 1) * m + a.mb];
                if (!own || (own >= t)) in = 0;
            }
            if (in == 0 || in >= t) continue;   /* input not produced before this step */
            (a.kind == 'F' ? fstep : bstep)[(size_t)s * m + a.mb] = t;
            if (step) step[p][pos[p]] = t;
            pos[p]++;
            remaining--;
            ran = 1;
        }
        if (!ran) { ok = 0; break; }
    }
    if (stuck) memcpy(stuck, pos, (size_t)P * sizeof(int));
    free(pos);
    return ok;
}

int nt_schedule_verify_lists(int P, int v, int m, const nt_action *const *list, char *err, size_t n)
{
    int total = 2 * m * v, S = P * v;
    int *len = nt_malloc((size_t)P * sizeof(int), "schedule lengths"), *pos = nt_malloc((size_t)P * sizeof(int), "positions");
    for (int p = 0; p < P; p++) len[p] = total;
    int *fstep = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim"), *bstep = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim");
    int rc = !time_lists(P, v, m, list, len, NULL, fstep, bstep, pos);
    if (rc) {
        size_t k = (size_t)snprintf(err, n, "pipeline schedule (P=%d, v=%d, m=%d) would deadlock:", P, v, m);
        for (int p = 0; p < P && k < n; p++)
            if (pos[p] < total)
                k += (size_t)snprintf(err + k, n - k, " rank %d waits at %c(chunk %d, mb %d);", p, list[p][pos[p]].kind,
                                      list[p][pos[p]].chunk, list[p][pos[p]].mb);
    }
    free(len); free(pos); free(fstep); free(bstep);
    return rc;
}

/* ---- lockstep rounds ------------------------------------------------------ */

int nt_schedule_forward_only(nt_action *out, int v, int m)
{
    int k = 0;
    for (int mb = 0; mb < m; mb++)
        for (int c = 0; c < v; c++) out[k++] = (nt_action){'F', c, mb};
    return k;
}

static int by_step(const void *a, const void *b)
{
    const nt_round *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

nt_round *nt_schedule_rounds_of(int P, int p, int v, int m, int train, int *n)
{
    int len = (train ? 2 : 1) * m * v;
    nt_action **lists = nt_malloc((size_t)P * sizeof *lists, "schedule lists");
    int *lens = nt_malloc((size_t)P * sizeof *lens, "schedule lengths");
    for (int q = 0; q < P; q++) lists[q] = nt_malloc((size_t)len * sizeof(nt_action), "schedule");
    int built = train ? nt_schedule_build_all(lists, P, v, m) : len;
    NT_CHECK(built == len, "internal: no pipeline schedule for P=%d v=%d m=%d", P, v, m);
    for (int q = 0; q < P; q++) lens[q] = train ? len : nt_schedule_forward_only(lists[q], v, m);
    nt_round *r = nt_malloc((size_t)3 * len * sizeof *r, "pipeline rounds");
    *n = nt_schedule_rounds(r, P, p, v, m, (const nt_action *const *)lists, lens);
    NT_CHECK(*n > 0, "internal: pipeline rounds for P=%d v=%d m=%d deadlock", P, v, m);
    for (int q = 0; q < P; q++) free(lists[q]);
    free(lists);
    free(lens);
    return r;
}

int nt_schedule_rounds_held(const nt_round *r, int n, int P, int p, int v)
{
    int S = P * v, live = 0, peak = 0;
    for (int i = 0; i < n; i++) {
        live -= r[i].nsend; /* the exchange comes first in a round */
        if (r[i].act.kind) {
            int s = r[i].act.chunk * P + p;
            live += r[i].act.kind == 'F' ? s < S - 1 : s > 0;
        }
        if (live > peak) peak = live;
    }
    return peak;
}

int nt_schedule_rounds(nt_round *out, int P, int p, int v, int m, const nt_action *const *list, const int *len)
{
    int S = P * v;
    int **step = nt_malloc((size_t)P * sizeof *step, "schedule steps");
    for (int q = 0; q < P; q++) step[q] = nt_calloc((size_t)(len[q] ? len[q] : 1), sizeof(int), "schedule steps");
    int *fstep = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim"), *bstep = nt_calloc((size_t)S * (size_t)m, sizeof(int), "sim");
    int n = -1, steps = 0;
    for (int q = 0; q < P; q++) steps += len[q];   /* every step runs an action: a bound on the last one */
    int *at = nt_calloc((size_t)steps + 2, sizeof(int), "rounds by step");   /* step -> round index + 1 */
    if (time_lists(P, v, m, list, len, step, fstep, bstep, NULL)) {
        n = 0;
        int prev = (p - 1 + P) % P, next = (p + 1) % P;
        /* one round per action, with its input */
        for (int i = 0; i < len[p]; i++) {
            nt_action a = list[p][i];
            int s = a.chunk * P + p;
            nt_round r = {.step = step[p][i], .act = a};
            if (a.kind == 'F' && s > 0) r.recv = (nt_xfer){'F', (s - 1) / P, a.mb, prev};
            if (a.kind == 'B' && s < S - 1) r.recv = (nt_xfer){'B', (s + 1) / P, a.mb, next};
            out[n++] = r;
            at[r.step] = n;
        }
        /* each output goes into the round of its consumer's step (a round of its own when this rank is idle then) */
        for (int i = 0; i < len[p]; i++) {
            nt_action a = list[p][i];
            int s = a.chunk * P + p, t;
            nt_xfer x = {a.kind, a.chunk, a.mb, 0};
            if (a.kind == 'F' && s < S - 1) { t = fstep[(size_t)(s + 1) * m + a.mb]; x.peer = next; }
            else if (a.kind == 'B' && s > 0) { t = bstep[(size_t)(s - 1) * m + a.mb]; x.peer = prev; }
            else continue;
            if (!at[t]) { out[n++] = (nt_round){.step = t}; at[t] = n; }
            int k = at[t] - 1;
            NT_CHECK(out[k].nsend < 2, "internal: more than two sends in round %d of pipeline rank %d", t, p);
            out[k].send[out[k].nsend++] = x;
        }
        qsort(out, (size_t)n, sizeof *out, by_step);
    }
    for (int q = 0; q < P; q++) free(step[q]);
    free(step);
    free(fstep);
    free(bstep);
    free(at);
    return n;
}

double nt_schedule_bubble_formula(int P, int v, int m)
{
    return (double)(P - 1) / ((double)v * (double)m);
}
