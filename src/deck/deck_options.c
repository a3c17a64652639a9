/* deck_options.c — the deck option table and what is done to one option.
 *
 * Owns: the single table of deck keys (section, key, type, nt_config field,
 * default, range, choices, help), the parsing of one value text into its
 * field, the formatting of a field back into text that re-parses to the same
 * value, the defaults and `ntron help deck`.  Files, --set and cross-key
 * checks live in deck.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "deck/deck.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/check.h"

#define FIELD(f) offsetof(nt_config, f), sizeof(((nt_config *)0)->f)
#define ANY (-INFINITY), INFINITY
#define GE(lo) (lo), INFINITY

/* clang-format off */
const nt_option nt_deck_options[] = {
    /* [run] */
    {"run", "phase", NT_OPT_ENUM, FIELD(phase), "pretrain", ANY, 0,
     "pretrain|sft|rm|dpo|rpo|generate|score|sdg", "phase this job runs (built: see `ntron help phases`)"},
    {"run", "name", NT_OPT_STRING, FIELD(name), "ntron", ANY, 0, NULL,
     "run name (no '/' or blanks); replaces %name in run.dir"},
    {"run", "dir", NT_OPT_STRING, FIELD(dir), "runs/%name", ANY, 0, NULL,
     "run directory (resolved deck, metrics); %name is replaced by run.name"},
    {"run", "seed", NT_OPT_U64, FIELD(seed), "1234", ANY, 0, NULL,
     "random seed (initialisation, data order)"},
    {"run", "log_interval", NT_OPT_INT, FIELD(log_interval), "1", GE(1), 0, NULL,
     "log metrics every this many steps"},
    {"run", "backend", NT_OPT_ENUM, FIELD(backend), "auto", ANY, 0, "auto|cpu|cuda",
     "compute backend: cuda (bf16, one GPU per rank: node-local rank mod GPUs; see parallel.comm), cpu (fp32 "
     "reference), auto (cuda when built with CUDA and every rank sees a GPU, else cpu)"},
    {"run", "time_limit", NT_OPT_DOUBLE, FIELD(time_limit), "0", GE(0), 0, NULL,
     "wall-time budget of this job in seconds (0: none); before it runs out the run saves a "
     "checkpoint and exits with status 3 (requeue)"},
    {"run", "collective_timeout", NT_OPT_DOUBLE, FIELD(collective_timeout), "0", GE(0), 0, NULL,
     "seconds a rank may wait in one collective or pipeline transfer before it aborts, naming "
     "the operation (0: wait forever)"},

    /* [model] */
    {"model", "layers", NT_OPT_INT, FIELD(layers), "2", GE(1), 0, NULL,
     "transformer layers"},
    {"model", "hidden", NT_OPT_INT, FIELD(hidden), "64", GE(1), 0, NULL,
     "hidden size h (divisible by heads)"},
    {"model", "ffn_hidden", NT_OPT_INT, FIELD(ffn_hidden), "256", GE(1), 0, NULL,
     "MLP width (squared-ReLU, no gate)"},
    {"model", "heads", NT_OPT_INT, FIELD(heads), "4", GE(1), 0, NULL,
     "attention (query) heads"},
    {"model", "kv_heads", NT_OPT_INT, FIELD(kv_heads), "2", GE(1), 0, NULL,
     "key/value heads (GQA groups); divides heads"},
    {"model", "vocab", NT_OPT_INT, FIELD(vocab), "256", GE(1), 0, NULL,
     "vocabulary size (padded to a multiple of 128*tensor internally)"},
    {"model", "seq_len", NT_OPT_INT, FIELD(seq_len), "64", GE(1), 0, NULL,
     "sequence length in tokens"},
    {"model", "rotary_fraction", NT_OPT_DOUBLE, FIELD(rotary_fraction), "0.5", 0, 1,
     NT_OPT_MIN_OPEN, NULL,
     "fraction of each head's dims rotated by RoPE (rotated width must be even)"},
    {"model", "rotary_base", NT_OPT_DOUBLE, FIELD(rotary_base), "10000", GE(0),
     NT_OPT_MIN_OPEN, NULL, "RoPE base"},
    {"model", "norm_eps", NT_OPT_DOUBLE, FIELD(norm_eps), "1e-5", GE(0),
     NT_OPT_MIN_OPEN, NULL, "LayerNorm1P epsilon"},
    {"model", "init_std", NT_OPT_DOUBLE, FIELD(init_std), "0.0063", GE(0),
     NT_OPT_MIN_OPEN, NULL, "standard deviation of the weight initialisation"},
    {"model", "head", NT_OPT_ENUM, FIELD(head), "lm", ANY, 0, "lm|reward",
     "output head: lm (final norm + vocab projection, next-token loss) or reward (final norm + "
     "linear map of the last token's hidden state to reward_outputs scores, as Nemotron-4-340B-Reward; "
     "loading a checkpoint with an LM head adds a fresh reward head)"},
    {"model", "reward_outputs", NT_OPT_INT, FIELD(reward_outputs), "5", GE(1), 0, NULL,
     "scores the reward head predicts (5: the HelpSteer2 attributes helpfulness, correctness, "
     "coherence, complexity, verbosity)"},

    /* [parallel] */
    {"parallel", "tensor", NT_OPT_INT, FIELD(tensor), "1", GE(1), 0, NULL,
     "tensor-parallel size (divides heads, kv_heads, ffn_hidden)"},
    {"parallel", "pipeline", NT_OPT_INT, FIELD(pipeline), "1", GE(1), 0, NULL,
     "pipeline-parallel stages; data-parallel size = ranks / (tensor*pipeline)"},
    {"parallel", "virtual_stages", NT_OPT_INT, FIELD(virtual_stages), "1", GE(1), 0,
     NULL, "interleaved virtual stages per pipeline rank (>1 needs pipeline > 1)"},
    {"parallel", "sequence_parallel", NT_OPT_BOOL, FIELD(sequence_parallel), "false",
     ANY, 0, NULL, "sequence parallelism around norms (seq_len divisible by tensor)"},
    {"parallel", "micro_batch", NT_OPT_INT, FIELD(micro_batch), "1", GE(1), 0, NULL,
     "sequences per micro-batch"},
    {"parallel", "comm", NT_OPT_ENUM, FIELD(comm), "auto", ANY, 0, "auto|nccl|mpi",
     "how the CUDA backend's collectives move device buffers: nccl (one GPU per rank), mpi (staged through "
     "host memory; works with ranks sharing a GPU), auto (nccl when built with NCCL and no two ranks share a "
     "GPU, else mpi; rank 0 says which and why); the CPU backend always uses MPI"},
    {"parallel", "p2p", NT_OPT_ENUM, FIELD(p2p), "auto", ANY, 0, "auto|tagged|grouped",
     "how pipeline stages exchange activations and gradients: tagged (MPI sends with tags from host copies, "
     "sends never wait), grouped (lockstep rounds of grouped send/receive, NCCL's semantics: on device "
     "buffers without host copies when parallel.comm gives NCCL, else over MPI), auto (grouped when the "
     "pipeline communicator uses NCCL, else tagged); the training is bitwise the same either way"},
    {"parallel", "overlap_grad_reduce", NT_OPT_BOOL, FIELD(overlap_grad_reduce), "false", ANY, 0, NULL,
     "start the data-parallel gradient reduce-scatter in buckets during the backward, as the last micro-batch's "
     "backward finishes each bucket's gradients, and all-gather the parameters in slices overlapped with AdamW; "
     "bitwise the same training as false (ntron fixes the order of the sums either way); true needs the CPU "
     "backend (the CUDA backend reduces synchronously after the backward; refused there)"},
    {"parallel", "bucket_mb", NT_OPT_DOUBLE, FIELD(bucket_mb), "25", 0.01, 4096, 0, NULL,
     "bucket size of overlap_grad_reduce in MB (2^20 bytes) of fp32 gradients (25: PyTorch DDP's bucket_cap_mb); "
     "a bucket never crosses a data-parallel shard boundary"},

    /* [train] */
    {"train", "steps", NT_OPT_LONG, FIELD(steps), "0", GE(0), 0, NULL,
     "optimizer steps (0: derived from train.tokens)"},
    {"train", "tokens", NT_OPT_TOKENS, FIELD(tokens), "0", GE(0), 0, NULL,
     "tokens to train on, e.g. 8T or 200B (0: use train.steps)"},
    {"train", "epochs", NT_OPT_DOUBLE, FIELD(epochs), "0", GE(0), 0, NULL,
     "passes over the training data (phase sft): steps = ceil(epochs * samples / global_batch), "
     "counted once the data is opened; no train.ramp (0: use train.steps or train.tokens)"},
    {"train", "stop_tokens", NT_OPT_TOKENS, FIELD(stop_tokens), "0", GE(0), 0, NULL,
     "end this job once this many tokens are consumed, leaving the LR schedule as for the "
     "whole run (one ramp-up stage per job: slurm/submit --ramp); 0: run to the end"},
    {"train", "global_batch", NT_OPT_LONG, FIELD(global_batch), "8", GE(1), 0, NULL,
     "global batch in sequences (ignored when train.ramp is set)"},
    {"train", "ramp", NT_OPT_STRING, FIELD(ramp), "", ANY, 0, NULL,
     "batch ramp-up 'gbs@tokens ...', e.g. '768@0 1536@200B 2304@400B' "
     "(first threshold 0, increasing); empty: constant global_batch"},
    {"train", "lr", NT_OPT_DOUBLE, FIELD(lr), "3e-4", GE(0), 0, NULL,
     "peak learning rate"},
    {"train", "min_lr", NT_OPT_DOUBLE, FIELD(min_lr), "3e-5", GE(0), 0, NULL,
     "final learning rate (<= lr)"},
    {"train", "warmup", NT_OPT_LONG, FIELD(warmup), "0", GE(0), 0, NULL,
     "steps of linear warm-up"},
    {"train", "decay", NT_OPT_ENUM, FIELD(decay), "cosine", ANY, 0,
     "cosine|linear|constant", "learning-rate decay after warm-up"},
    {"train", "decay_steps", NT_OPT_LONG, FIELD(decay_steps), "0", GE(0), 0, NULL,
     "steps of decay (0: all steps after warm-up)"},
    {"train", "weight_decay", NT_OPT_DOUBLE, FIELD(weight_decay), "0.1", GE(0), 0,
     NULL, "AdamW decoupled weight decay"},
    {"train", "beta1", NT_OPT_DOUBLE, FIELD(beta1), "0.9", 0, 1, NT_OPT_MAX_OPEN,
     NULL, "Adam beta1"},
    {"train", "beta2", NT_OPT_DOUBLE, FIELD(beta2), "0.95", 0, 1, NT_OPT_MAX_OPEN,
     NULL, "Adam beta2"},
    {"train", "eps", NT_OPT_DOUBLE, FIELD(eps), "1e-8", GE(0), NT_OPT_MIN_OPEN, NULL,
     "Adam epsilon"},
    {"train", "clip_grad", NT_OPT_DOUBLE, FIELD(clip_grad), "1.0", GE(0), 0, NULL,
     "clip the global gradient L2 norm to this (0: no clipping)"},
    {"train", "recompute", NT_OPT_ENUM, FIELD(recompute), "none", ANY, 0,
     "none|selective|full", "activation recomputation: selective keeps no MLP intermediates "
     "(recomputes up/act from ln2), full keeps only each layer's input and recomputes the layer"},
    {"train", "nan_policy", NT_OPT_ENUM, FIELD(nan_policy), "abort", ANY, 0, "abort|skip",
     "a non-finite loss or gradient norm stops the step before the optimizer update; abort: "
     "save a checkpoint (if checkpoint.dir is set) and exit 1; skip: drop the update, count it, go on"},

    /* [data] */
    {"data", "tokenizer", NT_OPT_STRING, FIELD(tokenizer), "", ANY, 0, NULL,
     "tokenizer the datasets were prepared with: 'byte' or a SentencePiece .model file; its "
     "SHA-256 must equal every dataset's tokenizer_hash (empty: the datasets must agree with each other)"},
    {"data", "train", NT_OPT_STRING, FIELD(train), "", ANY, 0, NULL,
     "training blend 'path:weight ...' (weight > 0, default 1; normalised); sample k comes from a "
     "dataset drawn by a seeded draw on k; needed by phase pretrain"},
    {"data", "valid", NT_OPT_STRING, FIELD(valid), "", ANY, 0, NULL,
     "held-out dataset evaluated at the end of the run (phase rm: mean squared error per label "
     "against the training labels' mean; phase sft: mean NLL of the assistant and of the other tokens), "
     "into RUNDIR/heldout.json; empty: none"},
    {"data", "pack", NT_OPT_BOOL, FIELD(pack), "false", ANY, 0, NULL,
     "pack several conversations into each row of seq_len+1 tokens (phase sft): best-fit decreasing "
     "over each epoch's samples, seeded row order; attention stays inside each sample and positions "
     "restart per sample; train.global_batch then counts packed rows"},
    {"data", "switch_at", NT_OPT_TOKENS, FIELD(switch_at), "0", GE(0), 0, NULL,
     "consumed tokens from which data.switch_blend replaces data.train (0: never)"},
    {"data", "switch_blend", NT_OPT_STRING, FIELD(switch_blend), "", ANY, 0, NULL,
     "blend 'path:weight ...' used from data.switch_at on (continued pretraining: re-weighted "
     "sources plus a QA-style set)"},

    /* [checkpoint] */
    {"checkpoint", "dir", NT_OPT_STRING, FIELD(ckpt_dir), "", ANY, 0, NULL,
     "checkpoint directory (empty: no checkpoints); a run resumes from its 'latest' "
     "checkpoint when there is one"},
    {"checkpoint", "interval", NT_OPT_LONG, FIELD(ckpt_interval), "0", GE(0), 0, NULL,
     "save every this many steps (0: only at the end and on signals)"},
    {"checkpoint", "keep", NT_OPT_INT, FIELD(ckpt_keep), "2", GE(1), 0, NULL,
     "keep the last this many checkpoints"},
    {"checkpoint", "write", NT_OPT_ENUM, FIELD(ckpt_write), "independent", ANY, 0,
     "independent|collective", "how ranks write their hyperslabs of the shared file: independent "
     "MPI-IO writes (fastest on local disks: no rendezvous per dataset) or collective two-phase "
     "MPI-IO (aggregators; may win on parallel file systems such as Lustre or GPFS)"},
    {"checkpoint", "load", NT_OPT_STRING, FIELD(ckpt_load), "", ANY, 0, NULL,
     "checkpoint to start from when checkpoint.dir has none (a checkpoint directory, its "
     "ckpt.h5, or a checkpoint root with 'latest'; empty: fresh start)"},
    {"checkpoint", "load_optimizer", NT_OPT_BOOL, FIELD(ckpt_load_optimizer), "true",
     ANY, 0, NULL, "also load optimizer state and counters from checkpoint.load (false: model "
     "weights only, fresh optimizer and counters, e.g. for a later phase)"},
    {"checkpoint", "overwrite", NT_OPT_BOOL, FIELD(ckpt_overwrite), "false", ANY, 0, NULL,
     "start fresh although checkpoint.dir holds committed checkpoints that no 'latest' names "
     "(they are replaced as the run saves); false: such a run is refused (exit 2), naming the "
     "newest; a valid 'latest' is always resumed, an invalid one always refused"},

    /* [align] (run.phase = dpo | rpo) */
    {"align", "loss", NT_OPT_ENUM, FIELD(align_loss), "auto", ANY, 0,
     "auto|dpo|ipo|rpo_sq|rpo_bwd_kl|rpo_fwd_kl", "preference loss (NeMo-Aligner's preference_loss; "
     "a = beta*(S_chosen - S_rejected), b = eta*(r*_chosen - r*_rejected)): dpo -log sigmoid(a), ipo "
     "(a/beta - 1/(2 beta))^2 (phase dpo); rpo_sq (a-b)^2, rpo_bwd_kl KL(sigmoid(b) || sigmoid(a)) (the report's "
     "RPO), rpo_fwd_kl KL(sigmoid(a) || sigmoid(b)) (phase rpo); auto: dpo for phase dpo, rpo_bwd_kl for rpo"},
    {"align", "beta", NT_OPT_DOUBLE, FIELD(align_beta), "0.1", GE(0), NT_OPT_MIN_OPEN, NULL,
     "KL penalty beta of the implicit reward beta*(log pi - log pi_ref) (report: DPO 3e-4..3e-3, RPO 1e-3..1)"},
    {"align", "eta", NT_OPT_DOUBLE, FIELD(align_eta), "1", GE(0), 0, NULL,
     "reward scale eta of the RPO target sigmoid(eta * reward gap) (report: 1)"},
    {"align", "sft_weight", NT_OPT_DOUBLE, FIELD(align_sft_weight), "0", GE(0), 0, NULL,
     "weight of the SFT term: NLL of the chosen response, averaged over pairs (report: 1e-5..1e-3)"},
    {"align", "preference_weight", NT_OPT_DOUBLE, FIELD(align_pref_weight), "1", GE(0), 0, NULL,
     "weight of the preference loss"},
    {"align", "average_log_probs", NT_OPT_BOOL, FIELD(align_average_log_probs), "false", ANY, 0, NULL,
     "per-sequence log-probs (preference and SFT terms) averaged over the response tokens instead of summed"},
    {"align", "reference", NT_OPT_STRING, FIELD(align_reference), "", ANY, 0, NULL,
     "reference policy checkpoint (frozen); empty: the checkpoint the phase starts from (checkpoint.load, "
     "or run.seed's initial weights without one)"},
    {"align", "reference_mode", NT_OPT_ENUM, FIELD(align_reference_mode), "precompute", ANY, 0,
     "precompute|online", "precompute: one forward-only pass over the train (and valid) pairs into "
     "RUNDIR/reference_logps.h5 before the first step, reused on resume and requeue when its hashes of the "
     "data and the reference agree (no second model in memory while training); online: a second, frozen "
     "model set computes the reference log-probs of every batch"},

    /* [generate] */
    {"generate", "input", NT_OPT_STRING, FIELD(gen_input), "", ANY, 0, NULL,
     "prompts, one JSON object a line: \"messages\" (a conversation ending with a user turn, or a string: "
     "one user turn; rendered with the Nemotron chat template up to <extra_id_1>Assistant) or \"prompt\" "
     "(raw text); every other field is carried into the output"},
    {"generate", "output", NT_OPT_STRING, FIELD(gen_output), "", ANY, 0, NULL,
     "responses, JSON lines in input order, n per prompt (written as OUTPUT.tmp, renamed when complete)"},
    {"generate", "n", NT_OPT_INT, FIELD(gen_n), "1", GE(1), 0, NULL,
     "samples per prompt (sample j of prompt i draws from its own random stream)"},
    {"generate", "max_new_tokens", NT_OPT_INT, FIELD(gen_max_new_tokens), "256", GE(1), 0, NULL,
     "most tokens generated per response (below model.seq_len; a response also stops at the context end)"},
    {"generate", "temperature", NT_OPT_DOUBLE, FIELD(gen_temperature), "1.0", GE(0), 0, NULL,
     "softmax temperature; 0: greedy (argmax)"},
    {"generate", "top_k", NT_OPT_INT, FIELD(gen_top_k), "0", GE(0), 0, NULL,
     "sample among the k most likely tokens (0: all)"},
    {"generate", "top_p", NT_OPT_DOUBLE, FIELD(gen_top_p), "1.0", 0, 1, NT_OPT_MIN_OPEN, NULL,
     "nucleus sampling: the smallest set of most likely tokens with probability >= top_p (1: all)"},
    {"generate", "stop", NT_OPT_STRING, FIELD(gen_stop), "", ANY, 0, NULL,
     "stop strings as a JSON array, e.g. [\"\\n\\n\", \"###\"]: a response ends before the first one it "
     "contains (besides EOS, the chat end-of-turn token and max_new_tokens)"},
    {"generate", "batch", NT_OPT_INT, FIELD(gen_batch), "8", GE(1), 0, NULL,
     "sequences decoded together on each data-parallel rank (KV cache slots)"},
    {"generate", "logprobs", NT_OPT_BOOL, FIELD(gen_logprobs), "false", ANY, 0, NULL,
     "write each response token's log-probability (untempered, untruncated softmax)"},

    /* [score] */
    {"score", "input", NT_OPT_STRING, FIELD(score_input), "", ANY, 0, NULL,
     "conversations to score, JSON lines: \"prompt\" (messages or a string) and \"response\" (as "
     "`ntron prep --format reward` renders them); other fields are carried into the output"},
    {"score", "output", NT_OPT_STRING, FIELD(score_output), "", ANY, 0, NULL,
     "scores, JSON lines in input order (written as OUTPUT.tmp, renamed when complete)"},
    {"score", "batch", NT_OPT_INT, FIELD(score_batch), "8", GE(1), 0, NULL,
     "conversations per forward pass on each data-parallel rank"},
    {"score", "weights", NT_OPT_STRING, FIELD(score_weights), "0.3 0.74 0.46 0.47 -0.33", ANY, 0, NULL,
     "reward = sum of weight x attribute score, one weight per model.reward_outputs (default: "
     "Nemotron-4-340B-Reward's over helpfulness, correctness, coherence, complexity, verbosity)"},
    {"score", "logprobs", NT_OPT_BOOL, FIELD(score_logprobs), "false", ANY, 0, NULL,
     "instead of rewards: per-token log-probs of each response under an LM checkpoint (model.head = lm)"},

    /* [sdg] */
    {"sdg", "stages", NT_OPT_STRING, FIELD(sdg_stages), "", ANY, 0, NULL,
     "the synthetic-data stages to run, in order, blank- or comma-separated (`ntron help sdg` lists them); "
     "each writes RUNDIR/STAGE.jsonl, shard by shard"},
    {"sdg", "templates", NT_OPT_STRING, FIELD(sdg_templates), "inputs/sdg/templates", ANY, 0, NULL,
     "directory of the prompt templates, one file STAGE.txt per generating stage, {name} placeholders "
     "({{ and }}: literal braces)"},
    {"sdg", "shard_size", NT_OPT_INT, FIELD(sdg_shard_size), "64", GE(1), 0, NULL,
     "input records per shard: a finished shard is kept, a rerun generates only the missing ones"},
    {"sdg", "topics", NT_OPT_INT, FIELD(sdg_topics), "8", GE(1), 0, NULL,
     "macro topics the topics stage asks for (the first this many distinct list items are kept)"},
    {"sdg", "topics_file", NT_OPT_STRING, FIELD(sdg_topics_file), "", ANY, 0, NULL,
     "instead of generating them: the macro topics, one a line"},
    {"sdg", "subtopics", NT_OPT_INT, FIELD(sdg_subtopics), "4", GE(1), 0, NULL,
     "subtopics asked for per topic"},
    {"sdg", "questions", NT_OPT_INT, FIELD(sdg_questions), "4", GE(1), 0, NULL,
     "open-QA questions asked for per subtopic"},
    {"sdg", "writing", NT_OPT_INT, FIELD(sdg_writing), "2", GE(1), 0, NULL,
     "writing tasks asked for per topic and document type"},
    {"sdg", "document_types", NT_OPT_STRING, FIELD(sdg_document_types), "", ANY, 0, NULL,
     "document types of the writing stage (e.g. poem, letter), one a line"},
    {"sdg", "documents", NT_OPT_STRING, FIELD(sdg_documents), "", ANY, 0, NULL,
     "documents of the closed_qa stage, JSON lines with \"text\" (the report used C4)"},
    {"sdg", "closed_qa", NT_OPT_INT, FIELD(sdg_closed_qa), "2", GE(1), 0, NULL,
     "instructions asked for per document"},
    {"sdg", "document_chars", NT_OPT_INT, FIELD(sdg_document_chars), "2000", GE(1), 0, NULL,
     "a document is cut to this many bytes (at a UTF-8 boundary) before it enters a prompt"},
    {"sdg", "math_keywords", NT_OPT_STRING, FIELD(sdg_math_keywords), "", ANY, 0, NULL,
     "keywords of the math stage, one a line"},
    {"sdg", "python_keywords", NT_OPT_STRING, FIELD(sdg_python_keywords), "", ANY, 0, NULL,
     "keywords of the python stage, one a line"},
    {"sdg", "problems", NT_OPT_INT, FIELD(sdg_problems), "2", GE(1), 0, NULL,
     "problems asked for per math or python keyword"},
    {"sdg", "prompts", NT_OPT_STRING, FIELD(sdg_prompts), "", ANY, 0, NULL,
     "more prompts for the response stages, JSON lines with \"prompt\" (a string or messages ending with a "
     "user turn), optional \"id\", \"answer\" (a reference answer: pairs ranks by it) and \"instructions\" "
     "(IFEval [{\"id\", \"kwargs\"}], checked in the registry: pairs ranks by the verifiers)"},
    {"sdg", "personas", NT_OPT_STRING, FIELD(sdg_personas), "", ANY, 0, NULL,
     "user personas of the dialogue stage, one description a line"},
    {"sdg", "responses", NT_OPT_INT, FIELD(sdg_responses), "2", GE(1), 0, NULL,
     "responses sampled per prompt by the responses stage (pairs needs 2 or more)"},
    {"sdg", "responses_temperature", NT_OPT_DOUBLE, FIELD(sdg_responses_temperature), "1.0", GE(0), 0, NULL,
     "softmax temperature of the responses stage (the other stages sample with generate.temperature); "
     "top_k, top_p and max_new_tokens are generate's"},
    {"sdg", "reward_model", NT_OPT_STRING, FIELD(sdg_reward_model), "", ANY, 0, NULL,
     "reward-model checkpoint of the score stage (model.* as the generator's, a reward head of "
     "model.reward_outputs scores; reward = score.weights x scores)"},
    {"sdg", "reward_threshold", NT_OPT_DOUBLE, FIELD(sdg_reward_threshold), "0", ANY, 0, NULL,
     "the filter stage keeps conversations whose reward is at least this"},
    {"sdg", "pair_margin", NT_OPT_DOUBLE, FIELD(sdg_pair_margin), "0", GE(0), 0, NULL,
     "pairs ranked by reward need chosen_reward - rejected_reward above this (else no pair)"},
    {"sdg", "generators", NT_OPT_STRING, FIELD(sdg_generators), "", ANY, 0, NULL,
     "more generator checkpoints (blank-separated, LM heads, model.* as checkpoint.load's) for the responses stage: "
     "each prompt gets sdg.responses samples from checkpoint.load and from each of them, ranked together by pairs"},
    {"sdg", "prep", NT_OPT_BOOL, FIELD(sdg_prep), "false", ANY, 0, NULL,
     "also tokenize the outputs with data.tokenizer for the next phases, as ntron prep does: filter.jsonl "
     "into RUNDIR/filter.h5 (--format chat), pairs.jsonl into RUNDIR/pairs.h5 (--format preference)"},
    {"sdg", "ifeval_kinds", NT_OPT_STRING, FIELD(sdg_ifeval_kinds), "all", ANY, 0, NULL,
     "instruction kinds the ifeval stage draws from: all (the 25 of IFEval) or blank-separated ids such as "
     "keywords:existence length_constraints:number_words (an unknown id is refused, the 25 listed)"},
    {"sdg", "ifeval_max", NT_OPT_INT, FIELD(sdg_ifeval_max), "2", GE(1), 0, NULL,
     "instructions per prompt of the ifeval stage: 1..this, drawn without conflicts (IFEval's conflict table)"},
    {"sdg", "ifeval_multiturn", NT_OPT_DOUBLE, FIELD(sdg_ifeval_multiturn), "0.2", 0, 1, 0, NULL,
     "fraction of ifeval prompts whose instructions come in a first user turn, for all the following questions "
     "(the generator acknowledges them), the question in a later turn"},
    {"sdg", "ifeval_secondturn", NT_OPT_DOUBLE, FIELD(sdg_ifeval_secondturn), "0.2", 0, 1, 0, NULL,
     "fraction of ifeval prompts asked plainly first (the generator answers), then asked to revise the answer "
     "so that it follows the instructions (ifeval_multiturn + ifeval_secondturn <= 1)"},
    {"sdg", "seeds", NT_OPT_STRING, FIELD(sdg_seeds), "", ANY, 0, NULL,
     "seed pairs of the genetic stage: JSON lines with \"instruction\" and \"solution\" (optional \"id\")"},
    {"sdg", "operators", NT_OPT_STRING, FIELD(sdg_operators), "new:1 deepen:1 broaden:1 concretise:1 reasoning:1", ANY, 0, NULL,
     "mutation operators of the genetic stage, blank-separated NAME:WEIGHT (weight 1 when omitted); each is the "
     "template sdg.templates/genetic_NAME.txt filling {instruction} {solution} {examples}"},
    {"sdg", "population", NT_OPT_INT, FIELD(sdg_population), "16", GE(1), 0, NULL,
     "new instructions made per generation of the genetic stage"},
    {"sdg", "generations", NT_OPT_INT, FIELD(sdg_generations), "2", 1, 99, 0, NULL,
     "generations of the genetic stage (each resumable: RUNDIR/genetic.gNN.*)"},
    {"sdg", "examples", NT_OPT_INT, FIELD(sdg_examples), "3", 1, 16, 0, NULL,
     "parents listed in a genetic template's {examples} (the first is the tournament's winner)"},
    {"sdg", "pool_max", NT_OPT_INT, FIELD(sdg_pool_max), "1000", GE(1), 0, NULL,
     "parents the genetic stage keeps for the next generation: the fittest (judge score; seeds count as 10)"},
    {"sdg", "judge_model", NT_OPT_STRING, FIELD(sdg_judge_model), "", ANY, 0, NULL,
     "the LLM judge's checkpoint (an LM head, model.* as the generator's); empty: the generator, checkpoint.load"},
    {"sdg", "judge_threshold", NT_OPT_DOUBLE, FIELD(sdg_judge_threshold), "7", 0, 10, 0, NULL,
     "the genetic stage keeps a pair when the judge scores it at least this (0..10) and does not call it incorrect"},
    {"sdg", "judge_temperature", NT_OPT_DOUBLE, FIELD(sdg_judge_temperature), "0", GE(0), 0, NULL,
     "sampling temperature of the judge's replies (0: greedy)"},
    {"sdg", "dedup_threshold", NT_OPT_DOUBLE, FIELD(sdg_dedup_threshold), "0.7", 0, 1, 0, NULL,
     "a new instruction whose MinHash similarity (estimated Jaccard of word n-grams) to a kept one or a seed is "
     "at least this is a near-duplicate and dropped"},
    {"sdg", "dedup_ngram", NT_OPT_INT, FIELD(sdg_dedup_ngram), "3", 1, 16, 0, NULL,
     "word n-grams of the near-duplicate MinHash"},
    {"sdg", "judge_disagree", NT_OPT_ENUM, FIELD(sdg_judge_disagree), "tie", ANY, 0, "tie|drop",
     "judge stage: a pair whose two orders (A/B, B/A) disagree counts as a tie (in the agreement rates' "
     "denominators) or is dropped from them"},
};
/* clang-format on */

const int nt_deck_n_options = (int)(sizeof nt_deck_options / sizeof nt_deck_options[0]);

_Static_assert(sizeof nt_deck_options / sizeof nt_deck_options[0] <= NT_DECK_MAX_OPTIONS,
               "raise NT_DECK_MAX_OPTIONS");

/* ---- lookup ------------------------------------------------------------- */

int nt_deck_find_option(const char *section, const char *key)
{
    for (int i = 0; i < nt_deck_n_options; i++)
        if (!strcmp(nt_deck_options[i].section, section) && !strcmp(nt_deck_options[i].key, key))
            return i;
    return -1;
}

int nt_deck_find_dotted(const char *section_dot_key)
{
    const char *dot = strchr(section_dot_key, '.');
    if (!dot)
        return -1;
    for (int i = 0; i < nt_deck_n_options; i++) {
        const nt_option *o = &nt_deck_options[i];
        size_t ls = strlen(o->section);
        if ((size_t)(dot - section_dot_key) == ls && !strncmp(o->section, section_dot_key, ls)
            && !strcmp(o->key, dot + 1))
            return i;
    }
    return -1;
}

/* ---- formatting ----------------------------------------------------------- */

/* Whole numbers below 1e15 in plain digits, else the shortest %g form
 * that reads back as exactly v. */
static void format_double(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Whole token counts with the largest exact suffix (8e12 -> "8T"). */
static void format_tokens(double v, char *buf, size_t n)
{
    static const struct { char suffix; double scale; } units[] = {
        {'T', 1e12}, {'B', 1e9}, {'M', 1e6}, {'K', 1e3}};
    if (v != 0 && v < 9e18 && v == floor(v)) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            double q = v / units[i].scale;
            if (q == floor(q) && q * units[i].scale == v) {
                snprintf(buf, n, "%.0f%c", q, units[i].suffix);
                return;
            }
        }
        snprintf(buf, n, "%.0f", v);
        return;
    }
    format_double(v, buf, n);
}

void nt_deck_option_format(const nt_option *o, const nt_config *cfg, char *buf, size_t n)
{
    const char *p = (const char *)cfg + o->offset;
    switch (o->type) {
    case NT_OPT_INT: snprintf(buf, n, "%d", *(const int *)p); break;
    case NT_OPT_LONG: snprintf(buf, n, "%ld", *(const long *)p); break;
    case NT_OPT_U64: snprintf(buf, n, "%" PRIu64, *(const uint64_t *)p); break;
    case NT_OPT_DOUBLE: format_double(*(const double *)p, buf, n); break;
    case NT_OPT_TOKENS: format_tokens(*(const double *)p, buf, n); break;
    case NT_OPT_BOOL: snprintf(buf, n, "%s", *(const int *)p ? "true" : "false"); break;
    case NT_OPT_STRING:
    case NT_OPT_ENUM: snprintf(buf, n, "%s", p); break;
    }
}

/* ---- parsing ---------------------------------------------------------------- */

/* "must be >= 1", "must be in (0, 1]", ... */
static void describe_range(const nt_option *o, char *buf, size_t n)
{
    char lo[32], hi[32];
    format_double(o->min, lo, sizeof lo);
    format_double(o->max, hi, sizeof hi);
    int lo_open = o->flags & NT_OPT_MIN_OPEN, hi_open = o->flags & NT_OPT_MAX_OPEN;
    if (isinf(o->min) && isinf(o->max))
        snprintf(buf, n, "any value");
    else if (isinf(o->max))
        snprintf(buf, n, "%s %s", lo_open ? ">" : ">=", lo);
    else if (isinf(o->min))
        snprintf(buf, n, "%s %s", hi_open ? "<" : "<=", hi);
    else
        snprintf(buf, n, "in %c%s, %s%c", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
}

static int check_range(const nt_option *o, double v, const char *text, char *why, size_t n)
{
    int low = (o->flags & NT_OPT_MIN_OPEN) ? !(v > o->min) : !(v >= o->min);
    int high = (o->flags & NT_OPT_MAX_OPEN) ? !(v < o->max) : !(v <= o->max);
    if (!low && !high)
        return 0;
    char range[96];
    describe_range(o, range, sizeof range);
    return nt_fail(why, n, "%s is out of range (must be %s)", text, range);
}

static int parse_integer(const char *text, long long lo, long long hi, const char *what,
                         long long *out, char *why, size_t n)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *text == ' ' || *text == '\t')
        return nt_fail(why, n, "expected an integer, got '%s'", text);
    if (*end)
        return nt_fail(why, n, "expected an integer, got '%s' (junk after the number: '%s')",
                    text, end);
    if (errno == ERANGE || v < lo || v > hi)
        return nt_fail(why, n, "'%s' does not fit in %s", text, what);
    *out = v;
    return 0;
}

static int parse_u64(const char *text, uint64_t *out, char *why, size_t n)
{
    char *end;
    errno = 0;
    if (!(*text >= '0' && *text <= '9') && *text != '+')
        return nt_fail(why, n, "expected an unsigned integer, got '%s'", text);
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end)
        return nt_fail(why, n, "expected an unsigned integer, got '%s'", text);
    if (errno == ERANGE)
        return nt_fail(why, n, "'%s' does not fit in 64 bits", text);
    *out = (uint64_t)v;
    return 0;
}

static int parse_double(const char *text, double *out, char *why, size_t n)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *text == ' ' || *text == '\t')
        return nt_fail(why, n, "expected a number, got '%s'", text);
    if (*end)
        return nt_fail(why, n, "expected a number, got '%s' (junk after the number: '%s')",
                    text, end);
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1))
        return nt_fail(why, n, "'%s' is not a finite double", text);
    *out = v;
    return 0;
}

int nt_deck_parse_tokens(const char *text, double *out, char *why, size_t n)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *text == ' ' || *text == '\t')
        return nt_fail(why, n, "expected a token count such as 8T or 200B, got '%s'", text);
    double scale = 1;
    switch (*end) {
    case 'K': case 'k': scale = 1e3; end++; break;
    case 'M': case 'm': scale = 1e6; end++; break;
    case 'B': case 'b': case 'G': case 'g': scale = 1e9; end++; break;
    case 'T': case 't': scale = 1e12; end++; break;
    default: break;
    }
    if (*end)
        return nt_fail(why, n, "expected a token count such as 8T or 200B, got '%s' "
                    "(suffixes: K M B T)", text);
    v *= scale;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1) || v > 1e18)
        return nt_fail(why, n, "token count '%s' is too large", text);
    if (v < 0)
        return nt_fail(why, n, "token count '%s' is negative", text);
    if (v != floor(v))
        return nt_fail(why, n, "token count '%s' is not a whole number", text);
    *out = v;
    return 0;
}

static int parse_bool(const char *text, int *out, char *why, size_t n)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(text, yes[i])) { *out = 1; return 0; }
        if (!strcasecmp(text, no[i])) { *out = 0; return 0; }
    }
    return nt_fail(why, n, "expected true or false, got '%s'", text);
}

static int parse_enum(const nt_option *o, const char *text, char *why, size_t n)
{
    size_t len = strlen(text);
    for (const char *c = o->choices; *c;) {
        size_t cl = strcspn(c, "|");
        if (cl == len && !strncmp(c, text, len))
            return 0;
        c += cl + (c[cl] == '|');
    }
    char list[256];
    size_t used = 0;
    for (const char *c = o->choices; *c && used + 3 < sizeof list; c++) {
        if (*c == '|')
            list[used++] = ',', list[used++] = ' ';
        else
            list[used++] = *c;
    }
    list[used] = '\0';
    return nt_fail(why, n, "'%s' is not one of: %s", text, list);
}

static int check_string(const nt_option *o, const char *text, char *why, size_t n)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return nt_fail(why, n, "control character 0x%02x in value", *p);
        if ((*p == '#' || *p == ';') && p > (const unsigned char *)text
            && (p[-1] == ' ' || p[-1] == '\t'))
            return nt_fail(why, n, "'%c' after a blank starts a comment in a deck", *p);
    }
    if (strlen(text) >= o->size)
        return nt_fail(why, n, "value too long (%zu characters, at most %zu)", strlen(text),
                    o->size - 1);
    return 0;
}

int nt_deck_option_parse(const nt_option *o, nt_config *cfg, const char *text, char *why,
                         size_t n)
{
    char *p = (char *)cfg + o->offset;
    long long ll = 0;
    double d = 0;
    switch (o->type) {
    case NT_OPT_INT:
        if (parse_integer(text, INT_MIN, INT_MAX, "an int", &ll, why, n)
            || check_range(o, (double)ll, text, why, n))
            return -1;
        *(int *)p = (int)ll;
        return 0;
    case NT_OPT_LONG:
        if (parse_integer(text, LONG_MIN, LONG_MAX, "a long", &ll, why, n)
            || check_range(o, (double)ll, text, why, n))
            return -1;
        *(long *)p = (long)ll;
        return 0;
    case NT_OPT_U64:
        return parse_u64(text, (uint64_t *)p, why, n);
    case NT_OPT_DOUBLE:
        if (parse_double(text, &d, why, n) || check_range(o, d, text, why, n))
            return -1;
        *(double *)p = d;
        return 0;
    case NT_OPT_TOKENS:
        if (nt_deck_parse_tokens(text, &d, why, n) || check_range(o, d, text, why, n))
            return -1;
        *(double *)p = d;
        return 0;
    case NT_OPT_BOOL:
        return parse_bool(text, (int *)p, why, n);
    case NT_OPT_ENUM:
        if (parse_enum(o, text, why, n))
            return -1;
        /* fall through */
    case NT_OPT_STRING:
        if (check_string(o, text, why, n))
            return -1;
        memcpy(p, text, strlen(text) + 1);
        return 0;
    }
    return nt_fail(why, n, "internal: unknown option type");
}

/* ---- defaults and help ------------------------------------------------------ */

void nt_deck_defaults(nt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < nt_deck_n_options; i++) {
        const nt_option *o = &nt_deck_options[i];
        char why[256];
        if (nt_deck_option_parse(o, cfg, o->def, why, sizeof why))
            nt_die(NT_EXIT_FAIL, "internal: default of %s.%s: %s", o->section, o->key, why);
    }
}

static const char *type_name(nt_opt_type t)
{
    switch (t) {
    case NT_OPT_INT: return "integer";
    case NT_OPT_LONG: return "integer";
    case NT_OPT_U64: return "unsigned integer";
    case NT_OPT_DOUBLE: return "number";
    case NT_OPT_BOOL: return "bool";
    case NT_OPT_STRING: return "string";
    case NT_OPT_ENUM: return "one of";
    case NT_OPT_TOKENS: return "tokens";
    }
    return "?";
}

void nt_deck_print_help(FILE *f)
{
    fprintf(f, "Deck keys.  A deck is an INI file: [section] headers, 'key = value' lines,\n"
               "'#' or ';' comments (whole line, or after a blank).  Every key is optional.\n"
               "Precedence: default < deck < --set section.key=value.\n");
    const char *section = "";
    for (int i = 0; i < nt_deck_n_options; i++) {
        const nt_option *o = &nt_deck_options[i];
        if (strcmp(section, o->section)) {
            section = o->section;
            fprintf(f, "\n[%s]\n", section);
        }
        char kind[320];
        if (o->type == NT_OPT_ENUM)
            snprintf(kind, sizeof kind, "one of %s", o->choices);
        else if (isinf(o->min) && isinf(o->max))
            snprintf(kind, sizeof kind, "%s", type_name(o->type));
        else {
            char range[96];
            describe_range(o, range, sizeof range);
            snprintf(kind, sizeof kind, "%s, %s", type_name(o->type), range);
        }
        fprintf(f, "  %s.%s = %s%s%s    (%s)\n      %s\n", o->section, o->key,
                *o->def ? "" : "\"", o->def, *o->def ? "" : "\"", kind, o->help);
    }
}
