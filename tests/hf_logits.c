/* hf_logits.c — ntron's logits and loss for given tokens, for the
 * comparison with Hugging Face transformers (tests/test_hf.sh,
 * tests/hf/compare.py).  Loads checkpoint CKPT (weights only) into a
 * frozen model set of DECK's model on the CPU backend (one rank), runs the
 * forward over B x T tokens (int32, raw, row-major) and writes the logits
 * of the real vocabulary (padding columns dropped) as float32 [B, T, vocab]
 * to OUT; prints "loss X": the mean next-token NLL over the B*(T-1)
 * positions with a target, from ntron's own LM-head loss (what
 * transformers' loss with labels = input_ids computes).
 * Usage: hf_logits DECK CKPT B T TOKENS.i32 OUT.f32 [--set section.key=value ...] */
#include "backend/backend.h"
#include "ckpt/ckpt.h"
#include "deck/deck.h"
#include "train/modelset.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: hf_logits DECK CKPT B T TOKENS.i32 OUT.f32 [--set section.key=value ...]\n");
        return 2;
    }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    char **sets = nt_calloc((size_t)argc, sizeof(char *), "sets");
    int nset = 0;
    for (int i = 7; i < argc; i++)
        if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nset++] = argv[++i];
    int B = atoi(argv[3]), T = atoi(argv[4]);
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], nset, sets);
    NT_CHECK(B >= 1 && T >= 2 && T <= cfg.seq_len, "B %d, T %d (2..seq_len %d)", B, T, cfg.seq_len);
    nt_modelset ms;
    nt_modelset_init(&ms, &cfg, nt_backend_cpu(), MPI_COMM_WORLD, 0);
    NT_CHECK(ms.grid.world.size == 1 && ms.v == 1, "hf_logits runs on one rank");
    nt_ckpt_load(&ms, NULL, argv[2], NULL);

    size_t N = (size_t)B * T;
    int32_t *tok = nt_malloc(N * sizeof(int32_t), "tokens"), *tgt = nt_malloc(N * sizeof(int32_t), "targets");
    FILE *f = fopen(argv[5], "rb");
    NT_CHECK(f && fread(tok, sizeof(int32_t), N, f) == N, "%s: cannot read %zu int32 tokens", argv[5], N);
    fclose(f);
    for (size_t i = 0; i < N; i++) {
        NT_CHECK(tok[i] >= 0 && tok[i] < cfg.vocab, "token %d outside the vocabulary %d", tok[i], cfg.vocab);
        tgt[i] = i % (size_t)T == (size_t)T - 1 ? -1 : tok[i + 1];
    }
    nt_model *m = &ms.chunk[0];
    nt_acts a;
    nt_acts_create(&a, m, B, T);
    nt_model_forward(m, &a, tok);
    const float *nll = nt_model_head_nll(m, &a, tgt);
    double loss = 0;
    for (size_t i = 0; i < N; i++)
        if (tgt[i] >= 0) loss += nll[i];
    loss /= (double)B * (T - 1);
    nt_model_head_logits(m, &a);
    int Vl = m->mc.vocab_local, V = cfg.vocab;
    float *lg = nt_malloc(N * (size_t)Vl * sizeof(float), "logits");
    m->ops->from_act(lg, a.logits, N * (size_t)Vl);
    f = fopen(argv[6], "wb");
    NT_CHECK(f != NULL, "%s: cannot create", argv[6]);
    for (size_t i = 0; i < N; i++) NT_CHECK(fwrite(lg + i * Vl, sizeof(float), (size_t)V, f) == (size_t)V, "%s: write failed", argv[6]);
    NT_CHECK(fclose(f) == 0, "%s: write failed", argv[6]);
    printf("loss %.10f\n", loss);
    free(lg);
    free(tok);
    free(tgt);
    free(sets);
    nt_acts_destroy(&a, m);
    nt_modelset_free(&ms);
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
