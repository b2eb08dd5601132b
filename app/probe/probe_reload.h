/* SIGHUP: the probe reads its config file and command line again and applies what can
 * change while it runs; it says what it applied and what needs a restart. */
#ifndef PROBE_RELOAD_H
#define PROBE_RELOAD_H

#include <stdatomic.h>

#include "probe.h"

/* Set by the SIGHUP handler; the control lcore reloads when it sees it. */
extern atomic_int probe_reload_requested;

/* The probe's own arguments (after EAL's "--"), read again at each reload. */
void probe_reload_init(int argc, char **argv);

/* Applies the log level of s (0: leaves EAL's). */
void probe_apply_log_level(const struct probe_settings *s);

/* Control lcore: reads the settings again into a copy; if they are valid, applies the
 * changes that can be made live to running (and to the workers: flow timeouts) and
 * prints one line saying what was applied and what needs a restart. An invalid config
 * changes nothing and is reported. */
void probe_reload(struct probe_settings *running, struct worker_ctx *workers,
		unsigned int nb_workers, struct exporter_ctx *exporter);

#endif
