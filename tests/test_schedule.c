/* test_schedule.c — pipeline schedules: for P 1..8, v 1..4 and every m from
 * P to 3P+1 (m = P, m not a multiple of P, v > 1), every rank's list holds
 * each (chunk, micro-batch) forward and backward exactly once, each
 * backward after its forward, the warm-up count is Megatron's, and the
 * all-rank simulation completes (no deadlock).  Also checks that the
 * simulation does catch a deadlock (m < P with interleaving is refused or
 * completes — whichever, it must not hang).
 *
 * Lockstep rounds (grouped point-to-point, NCCL's semantics), for the same
 * cases, training and forward-only: each rank's rounds run its list in
 * order; each transfer is sent after the action that produced it; a rank
 * receives at most one transfer per round; and an independent simulation
 * of NCCL's rules (no tags: the k-th send from p to q matches the k-th
 * receive on q from p; a transfer moves only while both ranks' current
 * groups hold it; a group is done when all its transfers are) completes
 * with every matched pair carrying the same (kind, chunk, micro-batch);
 * nt_schedule_rounds_held equals the most outputs held between their
 * producing round and their sending round. */
#include "parallel/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the NCCL-semantics simulation of all ranks' rounds; 0 on success, else
 * 1 with a message */
static int simulate_rounds(int P, nt_round *const *r, const int *nr, char *err, size_t n)
{
    int *pos = calloc((size_t)P, sizeof(int));
    /* per ordered pair: transfers issued so far by the sender / the receiver */
    int *nsent = calloc((size_t)P * P, sizeof(int)), *nrecv = calloc((size_t)P * P, sizeof(int));
    /* per rank: which ops of its current round are done (bit i: send i, bit 2: the receive) */
    int *done = calloc((size_t)P, sizeof(int)), rc = 0;
    for (;;) {
        int all = 1, moved = 0;
        for (int p = 0; p < P; p++) all &= pos[p] == nr[p];
        if (all) break;
        /* every send of a current round against the receiver's current round */
        for (int p = 0; p < P; p++) {
            if (pos[p] == nr[p]) continue;
            const nt_round *a = &r[p][pos[p]];
            for (int i = 0; i < a->nsend; i++) {
                if (done[p] >> i & 1) continue;
                int q = a->send[i].peer;
                if (pos[q] == nr[q] || (done[q] & 4)) continue;
                const nt_round *b = &r[q][pos[q]];
                if (!b->recv.kind || b->recv.peer != p) continue;
                /* NCCL's order: the sender's k-th transfer to q meets q's k-th receive from p */
                if (nsent[p * P + q] != nrecv[p * P + q]) {
                    snprintf(err, n, "rank %d's send #%d to rank %d met receive #%d", p, nsent[p * P + q], q,
                             nrecv[p * P + q]);
                    rc = 1;
                    goto out;
                }
                if (b->recv.kind != a->send[i].kind || b->recv.chunk != a->send[i].chunk || b->recv.mb != a->send[i].mb) {
                    snprintf(err, n, "rank %d sends %c(%d,%d) where rank %d receives %c(%d,%d)", p, a->send[i].kind,
                             a->send[i].chunk, a->send[i].mb, q, b->recv.kind, b->recv.chunk, b->recv.mb);
                    rc = 1;
                    goto out;
                }
                nsent[p * P + q]++;
                nrecv[p * P + q]++;
                done[p] |= 1 << i;
                done[q] |= 4;
                moved = 1;
            }
        }
        for (int p = 0; p < P; p++) {
            if (pos[p] == nr[p]) continue;
            const nt_round *a = &r[p][pos[p]];
            int need = ((1 << a->nsend) - 1) | (a->recv.kind ? 4 : 0);
            if ((done[p] & need) == need) { pos[p]++; done[p] = 0; moved = 1; }
        }
        if (!moved) {
            size_t len = (size_t)snprintf(err, n, "deadlock:");
            for (int p = 0; p < P && len < n; p++)
                if (pos[p] < nr[p]) len += (size_t)snprintf(err + len, n - len, " rank %d at step %d;", p, r[p][pos[p]].step);
            rc = 1;
            break;
        }
    }
out:
    free(pos); free(nsent); free(nrecv); free(done);
    return rc;
}

/* rounds of one case; returns failures */
static int check_rounds(int P, int v, int m, int train)
{
    int len = (train ? 2 : 1) * m * v, fails = 0;
    nt_action **list = malloc((size_t)P * sizeof *list);
    nt_round **r = malloc((size_t)P * sizeof *r);
    int *lens = malloc((size_t)P * sizeof(int)), *nr = malloc((size_t)P * sizeof(int));
    for (int p = 0; p < P; p++) {
        list[p] = malloc((size_t)len * sizeof(nt_action));
        lens[p] = train ? nt_schedule_build(list[p], P, p, v, m) : nt_schedule_forward_only(list[p], v, m);
        r[p] = malloc((size_t)3 * len * sizeof(nt_round));
    }
    for (int p = 0; p < P; p++) {
        nr[p] = nt_schedule_rounds(r[p], P, p, v, m, (const nt_action *const *)list, lens);
        if (nr[p] < 0) { printf("FAIL: rounds P=%d v=%d m=%d %s: rank %d deadlocks\n", P, v, m, train ? "train" : "forward", p); fails++; continue; }
        int k = 0, bad = 0, last = 0;
        for (int i = 0; i < nr[p]; i++) {
            const nt_round *x = &r[p][i];
            bad |= x->step <= last;
            last = x->step;
            if (x->act.kind) {
                const nt_action *a = &list[p][k++];
                bad |= x->act.kind != a->kind || x->act.chunk != a->chunk || x->act.mb != a->mb;
            } else bad |= x->nsend == 0 || x->recv.kind;
            /* each send's producer ran in an earlier round of this rank */
            for (int j = 0; j < x->nsend; j++) {
                int found = 0;
                for (int e = 0; e < i && !found; e++)
                    found = r[p][e].act.kind == x->send[j].kind && r[p][e].act.chunk == x->send[j].chunk &&
                            r[p][e].act.mb == x->send[j].mb;
                bad |= !found;
            }
        }
        bad |= k != lens[p];
        /* the outputs held at once (nt_schedule_rounds_held, the send buffers the
         * trainer keeps and the plan counts) = the most [producer round, sending
         * round) intervals of this rank's sends overlapping one round */
        int held = 0, ni = 0, *iv = malloc((size_t)4 * nr[p] * sizeof(int));
        for (int i = 0; i < nr[p]; i++)
            for (int j = 0; j < r[p][i].nsend; j++)
                for (int e = 0; e < i; e++)
                    if (r[p][e].act.kind == r[p][i].send[j].kind && r[p][e].act.chunk == r[p][i].send[j].chunk &&
                        r[p][e].act.mb == r[p][i].send[j].mb) {
                        iv[2 * ni] = e, iv[2 * ni + 1] = i, ni++;
                        break;
                    }
        for (int t = 0; t < nr[p]; t++) {
            int live = 0;
            for (int k2 = 0; k2 < ni; k2++) live += iv[2 * k2] <= t && t < iv[2 * k2 + 1];
            if (live > held) held = live;
        }
        free(iv);
        int want = nt_schedule_rounds_held(r[p], nr[p], P, p, v);
        if (held != want) {
            printf("FAIL: rounds P=%d v=%d m=%d %s: rank %d holds %d outputs at once, rounds_held says %d\n", P, v, m,
                   train ? "train" : "forward", p, held, want);
            fails++;
        }
        if (bad) { printf("FAIL: rounds P=%d v=%d m=%d %s: rank %d's rounds do not run its list\n", P, v, m, train ? "train" : "forward", p); fails++; }
    }
    char err[512];
    if (!fails && simulate_rounds(P, r, nr, err, sizeof err)) {
        printf("FAIL: rounds P=%d v=%d m=%d %s: %s\n", P, v, m, train ? "train" : "forward", err);
        fails++;
    }
    for (int p = 0; p < P; p++) { free(list[p]); free(r[p]); }
    free(list); free(r); free(lens); free(nr);
    return fails;
}

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
    {
        int rf = 0, rcases = 0;
        for (int P = 2; P <= 8; P++)
            for (int v = 1; v <= 4; v++)
                for (int m = P; m <= 3 * P + 1; m++)
                    for (int train = 0; train < 2; train++) { rf += check_rounds(P, v, m, train); rcases++; }
        printf("%s: lockstep rounds of %d schedules (P 2..8, v 1..4, m P..3P+1; training and forward-only) "
               "match send for receive under NCCL's rules and complete, %d failures\n", rf ? "FAIL" : "PASS", rcases, rf);
        fails += rf;
        /* the simulation catches NCCL's failure modes: a send whose receive never comes */
        nt_round a[1] = {{.step = 1, .nsend = 1, .send = {{'F', 0, 0, 1}}}}, b[1] = {{.step = 1, .act = {'F', 0, 0}}};
        nt_round *rr[2] = {a, b};
        int nn[2] = {1, 1};
        char e2[256];
        if (simulate_rounds(2, rr, nn, e2, sizeof e2)) printf("PASS: the round simulation catches an unmatched send: %s\n", e2);
        else { printf("FAIL: the round simulation missed an unmatched send\n"); fails++; }
        /* ... and two transfers received in the other order than sent (no tags to sort them) */
        nt_round c[3] = {{.step = 1, .act = {'F', 0, 0}}, {.step = 2, .act = {'F', 0, 1}, .nsend = 1, .send = {{'F', 0, 0, 1}}},
                         {.step = 3, .nsend = 1, .send = {{'F', 0, 1, 1}}}};
        nt_round d[2] = {{.step = 2, .act = {'F', 0, 1}, .recv = {'F', 0, 1, 0}}, {.step = 3, .act = {'F', 0, 0}, .recv = {'F', 0, 0, 0}}};
        nt_round *r2[2] = {c, d};
        int n2[2] = {3, 2};
        if (simulate_rounds(2, r2, n2, e2, sizeof e2)) printf("PASS: the round simulation catches transfers in crossed order: %s\n", e2);
        else { printf("FAIL: the round simulation missed crossed transfers\n"); fails++; }
    }
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
