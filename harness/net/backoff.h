/* backoff.h — retry delays and rate-limit header parsing (PROVIDER-APIS.md §7). Pure functions. */
#ifndef FE_BACKOFF_H
#define FE_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a Go-style duration ("1s", "6m0s", "12ms", "1h2m3s", "0.5s", "250us") into seconds.
 * Returns false when s is not one. */
bool fe_parse_go_duration(const char *s, double *seconds);

/* Delay from retry headers: retry-after-ms (float ms) wins over retry-after (float seconds or an
 * HTTP date, relative to now_unix). Returns a negative number when neither header gives one. */
double fe_retry_after_seconds(const char *retry_after_ms, const char *retry_after, double now_unix);

/* The SDKs' exponential backoff: min(0.5 * 2^retries, 8) * (1 - 0.25 * u), u in [0, 1). */
double fe_backoff_seconds(long retries_done, double u);

/* xorshift64* generator for jitter (not for statistics): state must be non-zero. */
double fe_jitter_uniform(uint64_t *state);

#endif
