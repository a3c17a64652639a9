/* optim.c — gradient-clipping coefficient (see optim.h). */
#include "optim.h"

double nt_optim_clip_coef(double norm, double clip)
{
    if (clip <= 0.0) return 1.0;
    double c = clip / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}
