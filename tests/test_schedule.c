/* test_schedule.c — pipeline schedules: for P 1..8, v 1..4 and every m from
 * P to 3P+1 (m = P, m not a multiple of P, v > 1), every rank's list holds
 * each (chunk, micro-batch) forward and backward exactly once, each
 * backward after its forward, the warm-up count is Megatron's, and the
 * all-rank simulation completes (no deadlock).  Also checks that the
 * simulation does catch a deadlock (m < P with interleaving is refused or
 * completes — whichever, it must not hang). */
#include "parallel/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    int fails = 0, cases = 0, deviated = 0;
    char err[1024];
    for (int P = 1; P <= 8; P++)
        for (int v = 1; v <= 4; v++)
            for (int m = P; m <= 3 * P + 1; m++) {
                if (v > 1 && P == 1) continue;
                cases++;
                for (int p = 0; p < P; p++) {
                    int total = 2 * m * v;
                    nt_action *a = malloc((size_t)total * sizeof *a);
                    int k = nt_schedule_build(a, P, p, v, m);
                    char *seenF = calloc((size_t)(m * v), 1), *seenB = calloc((size_t)(m * v), 1);
                    int ok = k == total, lead = 0;
                    for (int i = 0; i < k && ok; i++) {
                        int id = a[i].chunk * m + a[i].mb;
                        if (a[i].kind == 'F') { ok &= !seenF[id]; seenF[id] = 1; }
                        else { ok &= seenF[id] && !seenB[id]; seenB[id] = 1; }
                    }
                    while (lead < k && a[lead].kind == 'F') lead++;
                    int w = nt_schedule_warmup(P, p, v, m);
                    /* Megatron's counts where its rigid order runs (v = 1 or m % P == 0):
                     * the first backward comes right after warm-up + 1 forward */
                    if (v == 1 || m % P == 0) ok &= lead == (w + 1 < m * v ? w + 1 : m * v);
                    else if (lead != (w + 1 < m * v ? w + 1 : m * v)) deviated++;
                    if (!ok) { fails++; printf("FAIL: P=%d v=%d m=%d rank %d: bad action list\n", P, v, m, p); }
                    free(a); free(seenF); free(seenB);
                }
                if (nt_schedule_verify(P, v, m, err, sizeof err)) {
                    fails++;
                    printf("FAIL: %s\n", err);
                }
            }
    printf("%s: %d schedules (P 1..8, v 1..4, m P..3P+1) built and simulated, %d failures\n",
           fails ? "FAIL" : "PASS", cases, fails);
    printf("INFO: %d rank schedules (interleaved, m %% P != 0) run extra forwards where rigid 1F1B would deadlock\n", deviated);
    /* the simulation catches a deadlock: rank 1 of P=2 runs B(0,0) before F(0,0) can arrive... */
    {
        nt_action l0[4] = {{'F', 0, 0}, {'F', 0, 1}, {'B', 0, 0}, {'B', 0, 1}};
        nt_action l1[4] = {{'F', 0, 1}, {'B', 0, 1}, {'F', 0, 0}, {'B', 0, 0}};  /* rank 1 waits for mb 1 first: fine */
        nt_action l1bad[4] = {{'F', 0, 0}, {'B', 0, 0}, {'F', 0, 1}, {'B', 0, 1}};
        nt_action l0bad[4] = {{'F', 0, 0}, {'B', 0, 1}, {'F', 0, 1}, {'B', 0, 0}};  /* B(mb1) before F(mb1) is sent */
        const nt_action *ok_lists[2] = {l0, l1}, *bad_lists[2] = {l0bad, l1bad};
        int r1 = nt_schedule_verify_lists(2, 1, 2, ok_lists, err, sizeof err);
        int r2 = nt_schedule_verify_lists(2, 1, 2, bad_lists, err, sizeof err);
        if (r1 == 0 && r2 == 1) printf("PASS: simulation accepts a valid order and catches a deadlock: %s\n", err);
        else { printf("FAIL: deadlock detection (valid %d, bad %d)\n", r1, r2); fails++; }
    }
    /* bubble formula sanity */
    double b = nt_schedule_bubble_formula(4, 2, 8);
    if (b < 0.1874 || b > 0.1876) { printf("FAIL: bubble formula %g\n", b); fails++; }
    else printf("PASS: bubble (P-1)/(v m) for P=4 v=2 m=8 = %.4f\n", b);
    return fails ? 1 : 0;
}
