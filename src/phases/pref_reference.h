/* pref_reference.h — the reference policy's log-probs of preference pairs
 * (phases dpo and rpo): per pair the sums of log pi_ref over the chosen
 * and the rejected response tokens, computed by the forward-only pass of a
 * model set (the policy's own forward code), kept in
 * RUNDIR/reference_logps.h5 (/train [n,2], /valid [m,2] float64, indexed
 * by pair) under an identity hash of the data files' bytes, the reference
 * checkpoint's tensor checksums (or run.seed's initial weights), seq_len
 * and the backend, so a resumed or requeued job reuses it and a changed
 * input is refused. */
#ifndef NTRON_PREF_REFERENCE_H
#define NTRON_PREF_REFERENCE_H

#include "data/data_padded.h"
#include "deck/config.h"
#include "train/modelset.h"

#define NT_PREF_REF_FILE "reference_logps.h5"

/* The identity hash (rank-local, serial reads): data files' SHA-256, the
 * reference checkpoint (ckpt = "": run.seed's initial weights of the deck's
 * shape) and the options the values depend on.  Exit 2 naming the file
 * when the reference is not an LM checkpoint of the deck's model shape. */
void nt_pref_ref_identity(const nt_config *cfg, const char *ckpt, char hex[65]);
/* 1 and the arrays (n[0], n[1] pairs; out[0], out[1] malloc'd [n,2]) when
 * file exists with this identity; 0 when it does not exist; exit 2 when it
 * holds another identity or other pair counts (one line naming file). */
int nt_pref_ref_load(const char *file, const char *id, const uint64_t n[2], double *out[2]);
/* rank-local: writes file (tmp + rename) */
void nt_pref_ref_save(const char *file, const char *id, const uint64_t n[2], double *const vals[2]);
/* Collective over ms's world: the forward-only pass of ms over every pair
 * of d (chosen and rejected rows in one micro-batch); out [n,2] on every
 * rank, indexed by pair (the file's order, not the epoch mixer's). */
void nt_pref_ref_compute(nt_modelset *ms, nt_padded *d, double *out);

#endif
