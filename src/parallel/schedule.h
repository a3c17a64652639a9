/* schedule.h — pipeline schedules: 1F1B (v = 1) and interleaved 1F1B with
 * v virtual stages per rank.  A schedule is, per pipeline rank, the ordered
 * list of forward/backward actions on (chunk, micro-batch).  Before a run
 * uses a schedule, nt_schedule_verify simulates all P ranks executing their
 * lists (each action waits only for its inputs, sends never block) and
 * refuses the schedule if any rank could wait forever — so a deadlocking
 * schedule cannot run. */
#ifndef NTRON_SCHEDULE_H
#define NTRON_SCHEDULE_H

#include <stddef.h>

typedef struct nt_action {
    char kind;      /* 'F' forward, 'B' backward */
    int chunk;      /* local model chunk 0..v-1 (virtual stage chunk*P + rank) */
    int mb;         /* micro-batch 0..m-1 */
} nt_action;

/* Lists come from a joint simulation of all ranks: Megatron's rigid order
 * (warm-up forwards, then F,B,F,B, then cool-down backwards) whenever it
 * can proceed; where rigid order would wait forever (interleaving with m
 * not a multiple of P), a waiting rank runs its other ready action.  The
 * lists are therefore a completed execution: deadlock-free by construction.
 * warm-up forwards on pipeline rank p: P-p-1 for v = 1 (Megatron 1F1B);
 * 2(P-p-1) + (v-1)·G for v > 1, G = min(P, m) the micro-batch group; capped at m·v. */
int nt_schedule_warmup(int P, int p, int v, int m);
/* Fills out[2*m*v] with rank p's actions; returns the count (0: none). */
int nt_schedule_build(nt_action *out, int P, int p, int v, int m);
/* The same for every rank at once: out[p][2*m*v] for p < P (one simulation). */
int nt_schedule_build_all(nt_action **out, int P, int v, int m);
/* 0 when all P ranks' schedules complete in simulation; else 1 with a
 * message in err naming the stuck ranks and actions. */
int nt_schedule_verify(int P, int v, int m, char *err, size_t n);
/* the same check over given lists (list[p][2*m*v]), by the timed
 * simulation the lockstep rounds use */
int nt_schedule_verify_lists(int P, int v, int m, const nt_action *const *list, char *err, size_t n);
/* Lockstep rounds: how a schedule runs over grouped point-to-point with
 * NCCL's semantics (comm.h nt_comm_exchange: no tags, a send is done only
 * when its receive has started).  All ranks' lists are timed together: each
 * action runs at the first step after its rank's previous action and after
 * the step that produced its input.  Round t of a rank is one grouped
 * exchange, then its action of step t (if any).  The exchange receives
 * that action's input and sends every earlier output of this rank whose
 * consumer runs at step t, so each transfer is sent and received in the
 * same round by both ranks: round t only waits for rounds before it, and
 * the rounds cannot deadlock.  A rank receives at most one transfer per
 * round, so two ranks never need tags to tell transfers apart. */
typedef struct nt_xfer {
    char kind;      /* 'F': the output of forward (chunk, mb) of the sending rank; 'B': the input
                       gradient from backward (chunk, mb) of the sending rank; 0: none */
    int chunk, mb;  /* the action that produced it, on the sending rank */
    int peer;       /* the other pipeline rank */
} nt_xfer;
typedef struct nt_round {
    int step;          /* its time step (1-based) */
    nt_action act;     /* kind 0: no action this round, only sends */
    nt_xfer recv;      /* act's input (kind 0: none; chunk, mb: the producer's) */
    int nsend;
    nt_xfer send[2];   /* this rank's earlier outputs, consumed this step */
} nt_round;
/* Times all P lists (list[p] of len[p] actions) and fills out[] with rank
 * p's rounds (those with an action or a send; at most len[p] + (its
 * outputs) entries, 3*len[p] is always enough).  Returns the count, or -1
 * when the lists deadlock.  v chunks per rank, m micro-batches. */
int nt_schedule_rounds(nt_round *out, int P, int p, int v, int m, const nt_action *const *list, const int *len);
/* rank p's rounds of a training pass (train = 1: the lists of
 * nt_schedule_build_all) or a forward-only pass (nt_schedule_forward_only)
 * of m micro-batches: a new array of *n rounds (the caller frees it) */
nt_round *nt_schedule_rounds_of(int P, int p, int v, int m, int train, int *n);
/* the most outputs rank p holds at once in rounds r[0, n) of its own: made
 * by an action (a forward below the last virtual stage, a backward above
 * the first) and not yet sent by a later round's exchange — the send
 * buffers grouped point-to-point keeps (modelset's stash, the plan's
 * memory) */
int nt_schedule_rounds_held(const nt_round *r, int n, int P, int p, int v);
/* rank p's lists of the forward-only pass: micro-batch by micro-batch, chunk by chunk */
int nt_schedule_forward_only(nt_action *out, int v, int m);

/* Bubble fraction from the simulation with unit-time forward and 2-unit
 * backward: idle time / total time of rank 0 ... for comparison with the
 * formula (P-1)/(v·m). */
double nt_schedule_bubble_formula(int P, int v, int m);

#endif
