/* pretrain.h — the pretraining phase driver. */
#ifndef NTRON_PRETRAIN_H
#define NTRON_PRETRAIN_H
#include "config.h"
#include "deck.h"
int nt_pretrain_run(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha);
#endif
