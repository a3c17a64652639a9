/* config.h — the resolved run configuration (one struct, filled by the deck).
 *
 * Every field here is a deck key; the option table in deck_options.c maps
 * [section] key -> field, type, default, range and help text.  Derived
 * values (head_dim, padded vocab, ...) live in model_config.h, not here.
 */
#ifndef NTRON_CONFIG_H
#define NTRON_CONFIG_H

#include <stdint.h>

#define NT_PATH_MAX 1024
#define NT_MAX_RAMP 16
#define NT_MAX_BLEND 16

typedef struct nt_ramp_stage {
    long gbs;          /* global batch (sequences) from this threshold on */
    double tokens;     /* consumed-token threshold */
} nt_ramp_stage;

typedef struct nt_blend_item {
    char path[NT_PATH_MAX];
    double weight;
} nt_blend_item;

typedef struct nt_config {
    /* [run] */
    char phase[32];            /* a phase of the registry (phase.c) */
    char name[128];
    char dir[NT_PATH_MAX];     /* run directory; %name is replaced by name */
    uint64_t seed;
    int log_interval;
    char backend[16];          /* auto | cpu | cuda */
    double time_limit;         /* seconds of wall time for this job (0: none): save and exit 3 before it runs out */
    double collective_timeout; /* seconds one collective may block before the watchdog aborts (0: off) */

    /* [model] */
    int layers, hidden, ffn_hidden, heads, kv_heads, vocab, seq_len;
    double rotary_fraction, rotary_base, norm_eps, init_std;
    char head[16];             /* lm | reward */
    int reward_outputs;        /* reward head: attributes predicted */

    /* [parallel] */
    int tensor, pipeline, virtual_stages, sequence_parallel, micro_batch;
    char comm[16];             /* auto | nccl | mpi: how the CUDA backend's device buffers travel */
    char p2p[16];              /* auto | tagged | grouped: how pipeline stages exchange activations */
    int overlap_grad_reduce;   /* DP gradient reduction started in buckets during the backward */
    double bucket_mb;          /* its bucket size, MB (2^20 bytes) of fp32 gradients */

    /* [train] */
    long steps;                /* 0: derived from tokens */
    double tokens;             /* 0: use steps */
    double epochs;             /* > 0: steps = ceil(epochs * samples / global_batch), counted by the phase (sft) */
    double stop_tokens;        /* stop this job at this many consumed tokens (0: run to the end); the schedule is unchanged */
    long global_batch;         /* used when ramp is empty */
    char ramp[512];            /* "768@0 1536@200B ..." ("" = constant global_batch) */
    int n_ramp;                /* parsed ramp (n_ramp==0: constant) */
    nt_ramp_stage ramp_stages[NT_MAX_RAMP];
    double lr, min_lr;
    long warmup;               /* steps of linear warm-up */
    char decay[16];            /* cosine | linear | constant */
    long decay_steps;          /* 0: all steps after warm-up */
    double weight_decay, beta1, beta2, eps, clip_grad;
    char recompute[16];        /* none | selective | full */
    char nan_policy[16];       /* abort | skip: non-finite loss or gradient norm */

    /* [data] */
    char tokenizer[NT_PATH_MAX];
    char train[4096];          /* "path:weight path:weight ..." */
    char valid[NT_PATH_MAX];   /* held-out dataset evaluated at the end ("" = none) */
    int pack;                  /* data.pack: several samples per row, block-diagonal attention (phase sft) */
    int n_blend;
    nt_blend_item blend[NT_MAX_BLEND];
    double switch_at;          /* consumed tokens from which switch_blend is used (0: never) */
    char switch_blend[4096];   /* "path:weight ..." after switch_at */

    /* [checkpoint] */
    char ckpt_dir[NT_PATH_MAX];
    long ckpt_interval;
    int ckpt_keep;
    char ckpt_write[16];       /* independent | collective: how ranks write raw data */
    char ckpt_load[NT_PATH_MAX];
    int ckpt_load_optimizer;
    int ckpt_overwrite;        /* start fresh over committed checkpoints that no `latest` names */

    /* [align] (phases dpo, rpo) */
    char align_loss[16];       /* auto | dpo | ipo | rpo_sq | rpo_bwd_kl | rpo_fwd_kl (auto: dpo, or rpo_bwd_kl for rpo) */
    double align_beta;         /* KL penalty beta */
    double align_eta;          /* reward scale eta (rpo losses) */
    double align_sft_weight;   /* weight of the chosen responses' NLL */
    double align_pref_weight;  /* weight of the preference loss */
    int align_average_log_probs;   /* per-sequence log-probs averaged over response tokens instead of summed */
    char align_reference[NT_PATH_MAX];   /* reference policy checkpoint ("": the checkpoint the phase starts from) */
    char align_reference_mode[16];       /* precompute | online */

    /* [generate] (ntron generate, run.phase = generate: src/infer/generate.c) */
    char gen_input[NT_PATH_MAX];   /* prompts, JSON lines */
    char gen_output[NT_PATH_MAX];  /* responses, JSON lines */
    int gen_n;                     /* samples per prompt */
    int gen_max_new_tokens;
    double gen_temperature;        /* 0: greedy */
    int gen_top_k;                 /* 0: off */
    double gen_top_p;              /* 1: off */
    char gen_stop[1024];           /* JSON array of stop strings ("" = none) */
    int gen_batch;                 /* sequences decoded together per data-parallel rank */
    int gen_logprobs;              /* per-token log-probs in the output */

    /* [score] (ntron score, run.phase = score: src/infer/score.c) */
    char score_input[NT_PATH_MAX];
    char score_output[NT_PATH_MAX];
    int score_batch;               /* conversations per forward pass and data-parallel rank */
    char score_weights[256];       /* reward = sum of weight x attribute score */
    int score_logprobs;            /* per-token log-probs of the response under an LM instead */

    /* [sdg] (ntron sdg, run.phase = sdg: src/sdg) */
    char sdg_stages[512];          /* the stages to run, in order */
    char sdg_templates[NT_PATH_MAX];   /* directory of the stage templates (STAGE.txt) */
    int sdg_shard_size;            /* input records per shard (the unit of resumption) */
    int sdg_topics;                /* macro topics */
    char sdg_topics_file[NT_PATH_MAX];
    int sdg_subtopics;             /* per topic */
    int sdg_questions;             /* per subtopic */
    int sdg_writing;               /* per topic and document type */
    char sdg_document_types[NT_PATH_MAX];
    char sdg_documents[NT_PATH_MAX];
    int sdg_closed_qa;             /* instructions per document */
    int sdg_document_chars;        /* a document is cut to this many bytes */
    char sdg_math_keywords[NT_PATH_MAX];
    char sdg_python_keywords[NT_PATH_MAX];
    int sdg_problems;              /* per keyword */
    char sdg_prompts[NT_PATH_MAX]; /* prompts of a file (JSON lines) */
    char sdg_personas[NT_PATH_MAX];
    int sdg_responses;             /* responses per prompt */
    double sdg_responses_temperature;  /* their sampling temperature */
    char sdg_reward_model[NT_PATH_MAX];
    double sdg_reward_threshold;
    double sdg_pair_margin;
    int sdg_prep;                      /* filter.h5 and pairs.h5 written too (data.tokenizer) */
    char sdg_generators[4 * NT_PATH_MAX];  /* more generator checkpoints of the responses stage */
    char sdg_ifeval_kinds[2048];   /* the instruction kinds the ifeval stage draws from ("all" or ids) */
    int sdg_ifeval_max;            /* instructions per prompt: 1..this */
    double sdg_ifeval_multiturn;   /* fraction of prompts with the instructions in a first turn */
    double sdg_ifeval_secondturn;  /* fraction asking to revise a first answer */
    /* the genetic stage (Genetic Instruct) and the LLM judge */
    char sdg_seeds[NT_PATH_MAX];   /* seed (instruction, solution) pairs, JSON lines */
    char sdg_operators[512];       /* mutation operators "name:weight ..." (template genetic_NAME.txt) */
    int sdg_population;            /* new individuals per generation */
    int sdg_generations;
    int sdg_examples;              /* parents shown to a template's {examples} */
    int sdg_pool_max;              /* parents kept (the fittest) */
    char sdg_judge_model[NT_PATH_MAX];  /* the judge's checkpoint ("" = checkpoint.load) */
    double sdg_judge_threshold;    /* genetic: kept when the judge's score (0..10) is at least this */
    double sdg_judge_temperature;  /* the judge samples at this temperature (0: greedy) */
    double sdg_dedup_threshold;    /* near-duplicate when the MinHash similarity is at least this */
    int sdg_dedup_ngram;           /* word n-grams of the MinHash */
    char sdg_judge_disagree[8];    /* tie | drop: a pair the two orders disagree on */
} nt_config;

#endif
