/* log.c — see log.h. */
#include "harness/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

static enum fe_log_level fe_level = FE_LOG_WARN;
static char **fe_secrets;
static size_t fe_n_secrets;

void fe_log_set_level(enum fe_log_level level) { fe_level = level; }
enum fe_log_level fe_log_get_level(void) { return fe_level; }

void fe_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    fe_secrets = fe_xreallocarray(fe_secrets, fe_n_secrets + 1, sizeof(*fe_secrets));
    fe_secrets[fe_n_secrets++] = fe_xstrdup(secret);
}

void fe_log_clear_secrets(void)
{
    for (size_t i = 0; i < fe_n_secrets; i++)
        free(fe_secrets[i]);
    free(fe_secrets);
    fe_secrets = NULL;
    fe_n_secrets = 0;
}

/* The first occurrence of needle (m > 0 bytes) in hay (n bytes), or NULL. */
static const char *fe_find(const char *hay, size_t n, const char *needle, size_t m)
{
    const char *end = hay + n;
    while ((size_t)(end - hay) >= m) {
        const char *p = memchr(hay, needle[0], (size_t)(end - hay) - m + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
        hay = p + 1;
    }
    return NULL;
}

bool fe_redact_buf(struct fe_buf *b)
{
    bool any = false;
    for (size_t k = 0; k < fe_n_secrets && b->len > 0; k++) {
        const char *secret = fe_secrets[k];
        size_t slen = strlen(secret);
        if (!fe_find(b->data, b->len, secret, slen))
            continue;
        struct fe_buf next;
        fe_buf_init(&next, 0);
        const char *p = b->data, *end = b->data + b->len, *hit;
        while ((hit = fe_find(p, (size_t)(end - p), secret, slen)) != NULL) {
            fe_buf_add(&next, p, (size_t)(hit - p));
            fe_buf_adds(&next, FE_REDACTED);
            p = hit + slen;
        }
        fe_buf_add(&next, p, (size_t)(end - p));
        next.cap = b->cap; /* a short secret grows the text: it may now pass b's cap */
        fe_buf_release(b);
        *b = next;
        any = true;
    }
    return any;
}

size_t fe_redact_cut(const char *data, size_t len)
{
    if (fe_n_secrets == 0)
        return len;
    bool in_secret[256] = {false};
    for (size_t k = 0; k < fe_n_secrets; k++)
        for (const unsigned char *p = (const unsigned char *)fe_secrets[k]; *p; p++)
            in_secret[*p] = true;
    size_t c = len;
    while (c > 0 && in_secret[(unsigned char)data[c - 1]])
        c--;
    return c;
}

char *fe_redact(const char *s)
{
    struct fe_buf out;
    fe_buf_init(&out, 0);
    fe_buf_adds(&out, s ? s : "");
    fe_redact_buf(&out);
    return fe_buf_detach(&out, NULL);
}

void fe_log(enum fe_log_level level, const char *fmt, ...)
{
    if (level > fe_level || level == FE_LOG_QUIET)
        return;
    static const char *const names[] = {"", "error", "warning", "info", "debug"};
    struct fe_buf line;
    fe_buf_init(&line, 0);
    va_list ap;
    va_start(ap, fmt);
    fe_buf_vaddf(&line, fmt, ap);
    va_end(ap);
    char *clean = fe_redact(fe_buf_str(&line));
    fprintf(stderr, "fteval: %s: %s\n", names[level], clean);
    free(clean);
    fe_buf_release(&line);
}
