/* cache.h — the response cache (off by default; `--cache` or "cache": true).
 *
 * Key: SHA-256 of where the request goes and what it says: the provider's name in the config, its
 * base URL, the model and the exact JSON body sent (messages, parameters). A provider name pointed at another server (or a
 * server on another port) misses, so one server's answers are never served for another's (issue
 * 11 §6). Value: the 2xx response body as received (secrets redacted, net/policy.h), stored as
 * <dir>/<key[0..1]>/<key>.json through the atomic writer of base/fs.h, so readers never see a
 * partial entry. Only successful answers are cached.
 */
#ifndef FE_CACHE_H
#define FE_CACHE_H

#include <stddef.h>

/* The request key: sha256 hex of provider "\n" base_url "\n" model "\n" body (NULL reads as "").
 * It is also the record's request_sha256. */
void fe_cache_key(const char *provider, const char *base_url, const char *model, const char *body,
                  size_t body_len, char out[65]);
/* Returns the cached body (caller frees, *len set) or NULL on a miss. */
char *fe_cache_get(const char *dir, const char *key, size_t *len);
/* Stores body under key; failures are logged as warnings, never fatal. */
void fe_cache_put(const char *dir, const char *key, const char *body, size_t len);

#endif
