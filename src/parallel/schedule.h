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
/* Fills out[2*m*v] with rank p's actions; returns the count. */
int nt_schedule_build(nt_action *out, int P, int p, int v, int m);
/* 0 when all P ranks' schedules complete in simulation; else 1 with a
 * message in err naming the stuck ranks and actions. */
int nt_schedule_verify(int P, int v, int m, char *err, size_t n);
/* the same simulation over given lists (list[p][2*m*v]) */
int nt_schedule_verify_lists(int P, int v, int m, const nt_action *const *list, char *err, size_t n);
/* Bubble fraction from the simulation with unit-time forward and 2-unit
 * backward: idle time / total time of rank 0 ... for comparison with the
 * formula (P-1)/(v·m). */
double nt_schedule_bubble_formula(int P, int v, int m);

#endif
