/* hf.h — Hugging Face interop: `ntron ckpt import-hf` (hf_import.c) and
 * `ntron ckpt export-hf` (hf_export.c) between ntron checkpoints and
 * transformers' NemotronForCausalLM directories (config.json, safetensors;
 * naming and refusals in hf_config.h, the file format in safetensors.h). */
#ifndef NTRON_HF_H
#define NTRON_HF_H

#include <stddef.h>
#include <stdint.h>

/* HF_DIR -> checkpoint directory OUT (weights only) and, if deck_out, a
 * deck with the config's [model].  Initialises MPI if needed (any rank
 * count writes the same checkpoint).  Bad input: one line, exit 2,
 * nothing written. */
int nt_hf_import(const char *hf_dir, const char *out, const char *deck_out);

/* Checkpoint PATH -> new directory OUT_DIR: config.json,
 * generation_config.json, safetensors shards (one file, or
 * model-0000K-of-0000N.safetensors plus model.safetensors.index.json when
 * the tensors exceed shard_bytes), the tokenizer files when the deck's
 * data.tokenizer is a SentencePiece model.  dtype "bf16" (the /model
 * weights) or "fp32" (/optimizer/master if the checkpoint has it, else
 * /model widened).  The vocabulary padding is trimmed.  Serial. */
int nt_hf_export(const char *ckpt, const char *out_dir, const char *dtype, uint64_t shard_bytes);

/* "5GB", "500MB", "2GiB", "123" -> bytes (HF's convention: GB = 10^9,
 * GiB = 2^30); 0 if malformed. */
uint64_t nt_hf_parse_size(const char *s);

/* Elements import and export convert at a time (row blocks): 2^24 (64 MiB
 * of fp32), or NTRON_HF_CHUNK (the tests: many blocks from a small model). */
size_t nt_hf_block(void);

#endif
