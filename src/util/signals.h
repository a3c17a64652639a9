/* signals.h — pre-emption and hang protection: SIGUSR1/SIGTERM set a flag
 * that the phase driver turns into "save and exit 3" at the next step
 * boundary (all ranks agree by an all-reduce of the flag), and a watchdog
 * thread that aborts a rank stuck longer than run.collective_timeout in
 * one collective or pipeline transfer, naming the operation. */
#ifndef NTRON_SIGNALS_H
#define NTRON_SIGNALS_H

/* Install the SIGUSR1/SIGTERM handlers (flag only; async-signal-safe). */
void nt_signals_install(void);
/* The signal received so far (SIGUSR1, SIGTERM) or 0. */
int nt_signal_pending(void);

/* Start the watchdog thread (timeout_s <= 0: none). */
void nt_watchdog_start(double timeout_s, int rank);
void nt_watchdog_stop(void);
/* Mark entry into / exit from a blocking operation (op: a static string;
 * enterf formats its name, e.g. "all-reduce (sum, f32, 4096 elements) on the
 * tp communicator").  Regions nest (up to 8 levels named, deeper ones
 * counted): the watchdog names the innermost open region, and when an inner
 * region is left the outer one's clock restarts (it made progress), so a
 * caller's region may wrap several comm calls that each have their own.
 * Main thread only. */
void nt_watchdog_enter(const char *op);
void nt_watchdog_enterf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nt_watchdog_leave(void);

/* Fault injection for the tests: NTRON_FAULT_HANG=RANK:STEP makes that rank
 * sleep forever before step STEP (the others then wait in a collective). */
void nt_fault_hang(int rank, long step);

#endif
