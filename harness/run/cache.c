/* cache.c — see cache.h. */
#include "harness/run/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/fs.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

void fe_cache_key(const char *provider, const char *base_url, const char *model, const char *body,
                  size_t body_len, char out[65])
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    const char *parts[] = {provider, base_url, model};
    for (size_t i = 0; i < 3; i++) {
        fe_buf_adds(&b, parts[i] ? parts[i] : "");
        fe_buf_addch(&b, '\n');
    }
    fe_buf_add(&b, body, body_len);
    fe_sha256_hex(b.data, b.len, out);
    fe_buf_release(&b);
}

char *fe_cache_get(const char *dir, const char *key, size_t *len)
{
    char *path = fe_xasprintf("%s/%.2s/%s.json", dir, key, key);
    char *data = fe_read_file(path, 64u * 1024 * 1024, len);
    free(path);
    return data;
}

void fe_cache_put(const char *dir, const char *key, const char *body, size_t len)
{
    char *sub = fe_xasprintf("%s/%.2s", dir, key);
    char *path = fe_xasprintf("%s/%s.json", sub, key);
    struct fe_err err = {0};
    if (fe_mkdir_p(sub) != 0)
        fe_warn("cache: cannot write %s: %s", path, strerror(errno));
    else if (fe_write_file_atomic(path, body, len, &err) != FE_OK)
        fe_warn("cache: cannot store %s", err.msg);
    free(sub);
    free(path);
}
