/* main.c — the `ntron` command line: dispatches subcommands.
 *   ntron run DECK [--set section.key=value ...]
 *   ntron check DECK [--set ...]
 *   ntron plan DECK [--cluster FILE] [--dp N,...]
 *   ntron bench DECK [--steps N] [--comm] ...
 *   ntron prep ... | ntron tokenizer train|encode|decode ...
 *   ntron ckpt info PATH | ntron ckpt convert IN OUT
 *   ntron ckpt import-hf HF_DIR OUT | ntron ckpt export-hf CKPT OUT_DIR
 *   ntron help [deck|phases|sdg]
 *   ntron --version
 * Exit status: 0 success, 2 bad input, 1 other failure, 3 saved-and-requeue.
 */
#include "build_config.h"
#include "util/check.h"
#include "ckpt/ckpt.h"
#include "cli/cli_flags.h"
#include "parallel/comm.h"
#include "deck/config.h"
#include "deck/deck.h"
#include "backend/device.h"
#include "bench/bench.h"
#include "model/model_config.h"
#include "plan/plan.h"
#include "prep/prep.h"
#include "phases/phase.h"
#include "infer/infer.h"
#include "sdg/sdg.h"
#include "util/sha256.h"
#include "tokenizer/tokenizer.h"
#include "train/ramp.h"

#include <mpi.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ntron COMMAND ...\n"
            "  run DECK [--set section.key=value ...]    run the phase the deck names\n"
            "  check DECK [--set section.key=value ...]  validate a deck, print the model and plan\n"
            "  plan DECK [--cluster FILE] [--dp N,...]   predict memory, time and MFU per ramp stage\n"
            "  bench DECK [--steps N] [--comm] ...       measure throughput (synthetic data) with a verdict\n"
            "  prep --tokenizer byte|MODEL [--format F] INPUT -o OUT.h5  build a token dataset (text, jsonl,\n"
            "                                            chat, preference, reward); parallel under mpirun\n"
            "  prep --inspect FILE.h5                    a dataset's kind, sizes, statistics, decoded sample\n"
            "  tokenizer train|encode|decode ...         SentencePiece model: train, text <-> ids\n"
            "  generate DECK [--set ...]                 responses to JSON-lines prompts from a checkpoint (KV cache, sampling)\n"
            "  score DECK [--logprobs] [--set ...]       reward-model scores (or response log-probs) of JSON-lines conversations\n"
            "  sdg DECK [--set ...]                      the synthetic-data stages (prompts, dialogues, scoring, filtering, pairs)\n"
            "  ckpt info PATH                            checkpoint attributes, tensor list, checksums verified\n"
            "  ckpt convert IN OUT                       re-save a checkpoint's model weights only (new directory OUT)\n"
            "  ckpt import-hf HF_DIR OUT                 Hugging Face NemotronForCausalLM (safetensors) -> checkpoint\n"
            "  ckpt export-hf CKPT OUT_DIR               checkpoint -> Hugging Face NemotronForCausalLM directory\n"
            "  help [deck|phases|sdg]                    this text, every deck key, the phases or the sdg stages\n"
            "  --version                                 version and build configuration\n"
            "exit status: 0 ok, 1 failure, 2 bad input, 3 saved on a signal (requeue)\n");
}

/* `ntron CMD DECK --set k=v ...` (CMD: run|check); returns the deck path, fills sets */
static const char *parse_deck_args(const char *cmd, int argc, char **argv, int *nset, char ***sets)
{
    const char *deck = NULL;
    nt_flag_list setl = {0};
    const nt_flag flags[] = {{.name = "--set", .kind = NT_FLAG_LIST, .dest = &setl, .arg = "section.key=value",
                             .help = "override a deck key"}};
    const char *about = !strcmp(cmd, "run")
                            ? "Run the phase the deck's run.phase names (under mpirun/srun for several ranks)."
                            : "Validate a deck; print it resolved, with the model's size and a memory plan.";
    const nt_cli cli = {cmd, "DECK", 1, 1, about, flags, 1};
    nt_cli_parse(&cli, argc, argv, &deck);
    *nset = setl.n;
    *sets = setl.v ? setl.v : nt_calloc(1, sizeof(char *), "--set list");
    return deck;
}

static int cmd_check(int argc, char **argv)
{
    int nset;
    char **sets;
    const char *deck = parse_deck_args("check", argc, argv, &nset, &sets);
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, deck, nset, sets);
    char *text = nt_deck_resolved_text(&cfg);
    char sha[65];
    nt_sha256_hex(text, strlen(text), sha);
    nt_model_config mc;
    nt_model_config_init(&mc, &cfg, cfg.tensor, 0);
    double P = nt_model_param_count(&mc), fpt = nt_model_flops_per_token(&mc);
    int rmh = mc.head == NT_HEAD_REWARD;
    double emb = (double)mc.vocab_padded * mc.hidden + (rmh ? (double)mc.reward_outputs : (double)mc.vocab_padded) * mc.hidden;
    long steps = nt_ramp_total_steps(&cfg);
    printf("deck    %s\nsha256  %s\n", deck, sha);
    fputs(text, stdout);
    printf("--------------------------------------------------------------------------------\n");
    printf("model   %d layers, hidden %d, ffn %d, %d heads of %d (%d KV groups of %d), rotary %d of %d dims\n",
           mc.layers, mc.hidden, mc.ffn, mc.heads, mc.head_dim, mc.kv_heads, mc.qpg, mc.rot, mc.head_dim);
    printf("params  %.6g total (%.4gB): %.4gB in layers, %.4gB in embedding + %s (vocab %d padded to %d)\n",
           P, P / 1e9, (P - emb - 2.0 * mc.hidden) / 1e9, emb / 1e9, rmh ? "reward head" : "LM head", mc.vocab,
           mc.vocab_padded);
    printf("flops   %.6g per token (training, 6N + attention), %.6g per sequence of %d\n", fpt,
           fpt * mc.seq_len, mc.seq_len);
    printf("layout  TP %d x PP %d (virtual %d) x DP = world / %d, micro_batch %d\n", cfg.tensor, cfg.pipeline,
           cfg.virtual_stages, cfg.tensor * cfg.pipeline, cfg.micro_batch);
    if (cfg.n_ramp > 0)
        for (int i = 0; i < cfg.n_ramp; i++)
            printf("ramp    stage %d: global batch %ld from %.4g tokens\n", i, cfg.ramp_stages[i].gbs,
                   cfg.ramp_stages[i].tokens);
    if (cfg.epochs > 0)
        printf("plan    %g epochs: ceil(epochs x samples / global batch %ld) steps, counted when the data opens\n",
               cfg.epochs, cfg.global_batch);
    else if (!nt_phase_inference(cfg.phase, NULL))
        printf("plan    %ld steps (%s), training %.4g FLOP in total\n", steps,
               cfg.steps > 0 ? "train.steps" : "from train.tokens",
               fpt * (cfg.tokens > 0 ? cfg.tokens : (double)steps * cfg.global_batch * cfg.seq_len));
    int decodes, infer = nt_phase_inference(cfg.phase, &decodes);
    if (infer) {   /* inference: bf16 weights of pipeline rank 0 (its layers and the embedding) + the KV cache */
        nt_cluster cl;
        nt_cluster_default(&cl);
        int lpr = mc.layers / (cfg.pipeline > 0 ? cfg.pipeline : 1);
        double layer_p = (P - emb - 2.0 * mc.hidden) / mc.layers;
        double w = 2.0 * (lpr * layer_p / cfg.tensor + (double)mc.vocab_padded * mc.hidden / cfg.tensor);
        int kvl = mc.kv_heads / cfg.tensor > 0 ? mc.kv_heads / cfg.tensor : 1;
        int batch = decodes ? cfg.gen_batch : cfg.score_batch;
        double kv = decodes ? 2.0 * 2.0 * batch * (double)mc.seq_len * lpr * kvl * mc.head_dim : 0;
        printf("memory  per GPU, bf16 inference, pipeline rank 0, of %.0f GB: %.3g GB = weights %.3g + KV cache %.3g "
               "(%d sequences of %d)%s\n", cl.hbm_gb, (w + kv) / 1e9, w / 1e9, kv / 1e9, batch, mc.seq_len,
               (w + kv) / 1e9 > cl.hbm_gb ? " (no fit)" : "");
    }
    /* memory per GPU from the planner's model (bf16 CUDA backend, DGX H100 cluster):
     * the largest pipeline rank, for the DP sizes the first global batch allows */
    if (!infer) {
        nt_cluster cl;
        nt_cluster_default(&cl);
        long gbs = cfg.n_ramp > 0 ? cfg.ramp_stages[0].gbs : cfg.global_batch;
        char line[1024] = "";
        size_t len = 0;
        int layers_ok = cfg.layers % (cfg.pipeline * cfg.virtual_stages) == 0;
        for (int dp = 1; dp <= 1024 && layers_ok && len + 64 < sizeof line; dp *= 2) {
            if (gbs % ((long)dp * cfg.micro_batch) != 0 || gbs / ((long)dp * cfg.micro_batch) < cfg.pipeline) continue;
            nt_plan pl;
            nt_plan_compute(&pl, &cfg, &cl, dp, gbs);
            len += (size_t)snprintf(line + len, sizeof line - len, "%sDP %d: %.3g GB%s", len ? ", " : "", dp,
                                    pl.mem_total / 1e9, pl.fits ? "" : " (no fit)");
        }
        if (len)
            printf("memory  per GPU, bf16, pipeline rank 0, of %.0f GB: %s (`ntron plan` itemises it)\n", cl.hbm_gb, line);
    }
    printf("check   PASSED: deck is valid\n");
    free(text);
    free(sets);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    int nset;
    char **sets;
    const char *deck = parse_deck_args("run", argc, argv, &nset, &sets);
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    /* no HDF5 diagnostic stacks: every HDF5 failure is reported once,
     * through the check macros or as bad input naming file and dataset */
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load_agreed(&cfg, &info, deck, nset, sets);
    char *text = nt_deck_resolved_text(&cfg);
    char sha[65];
    nt_sha256_hex(text, strlen(text), sha);
    int rc = nt_phase_dispatch(&cfg, &info, text, sha);
    free(text);
    free(sets);
    NT_CHECK_MPI(MPI_Finalize());
    return rc;
}

static int cmd_version(void)
{
    char dev[1024];
    nt_device_count(dev, sizeof dev);
    printf("ntron %s\n", PACKAGE_VERSION);
    printf("build: %s\n", NT_BUILD_SUMMARY);
#ifdef NT_HAVE_CUDA
    printf("backends: cpu-fp32 (reference), cuda-bf16 (%s)\n", NT_CUDA_ARCHS);
#else
    printf("backends: cpu-fp32 (reference)\n");
#endif
    printf("devices: %s\n", dev);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return NT_EXIT_INPUT; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) return cmd_version();
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "help")) {
        /* help topics: each owner prints its own table */
        static const struct { const char *topic; void (*print)(FILE *); } topics[] = {
            {"deck", nt_deck_print_help}, {"phases", nt_phase_print_help}, {"sdg", nt_sdg_print_help}};
        for (size_t i = 0; argc > 2 && i < sizeof topics / sizeof topics[0]; i++)
            if (!strcmp(argv[2], topics[i].topic)) { topics[i].print(stdout); return 0; }
        if (argc > 2) nt_input_error("help: unknown topic '%s' (topics: deck, phases, sdg)", argv[2]);
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "plan")) return nt_plan_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return nt_bench_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "prep")) return nt_prep_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "tokenizer")) return nt_tokenizer_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "ckpt")) return nt_ckpt_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "generate")) return nt_generate_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "score")) return nt_score_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "sdg")) return nt_sdg_main(argc - 2, argv + 2);
    usage(stderr);
    nt_input_error("unknown command '%s'", cmd);
}
