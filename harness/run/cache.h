/* cache.h — the response cache (off by default; `--cache` or "cache": true).
 *
 * Key: SHA-256 of the canonical request: the provider's name in the config and the exact JSON body
 * sent (model, messages, parameters). The base URL is deliberately not part of the key, so a
 * local server that moved to another port still hits. Value: the raw 2xx
 * response body, stored as <dir>/<key[0..1]>/<key>.json through the atomic writer of base/fs.h, so
 * readers never see a partial entry. Only successful answers are cached.
 */
#ifndef FE_CACHE_H
#define FE_CACHE_H

#include <stddef.h>

/* The request key: sha256 hex of provider "\n" body. */
void fe_cache_key(const char *provider, const char *body, size_t body_len, char out[65]);
/* Returns the cached body (caller frees, *len set) or NULL on a miss. */
char *fe_cache_get(const char *dir, const char *key, size_t *len);
/* Stores body under key; failures are logged as warnings, never fatal. */
void fe_cache_put(const char *dir, const char *key, const char *body, size_t len);

#endif
