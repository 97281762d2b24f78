/* runguard.h — one writer per results directory, and a resume only of the run that was started.
 *
 * Lock: fe_run_lock takes an exclusive flock(2) on <dir>/.lock (created 0644, holding the owner's
 * pid) without waiting; while another process holds it, FE_EABORT (exit 4) names that pid. The
 * lock lives as long as the descriptor (fe_run_unlock, or process exit — a crash never leaves a
 * stale lock).
 *
 * Fingerprint: everything that decides what a request of the run is — task template, metrics, and
 * per arm its name, provider, base_url, model, template, system prompt and few-shot (sha256),
 * temperature, max_tokens, seed, extra_body, cap_field — as an ordered object of "path": "value"
 * strings plus their sha256. manifest.json stores it as "fingerprint"; `run --resume` refuses a
 * config whose fingerprint differs and names the first difference.
 */
#ifndef FE_RUNGUARD_H
#define FE_RUNGUARD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/run/config.h"
#include "harness/base/err.h"

/* Locks dir (which must exist). Returns FE_OK with *fd set, FE_EABORT when another process holds
 * the lock, FE_EIO when the lock file cannot be opened. */
enum fe_status fe_run_lock(const char *dir, int *fd, struct fe_err *err);
void fe_run_unlock(int fd);  /* -1 is a no-op */

/* {"sha256": "...", "fields": {"task.template": "...", "arms[0].model": "...", ...}}. Caller deletes. */
cJSON *fe_config_fingerprint(const struct fe_config *c);
/* Compares two fingerprints; returns 0 when equal, else 1 with the first difference described in
 * out ("arms[0].model: 'a' in the run, 'b' in the config"). */
int fe_fingerprint_diff(const cJSON *run, const cJSON *config, char *out, size_t cap);

#endif
