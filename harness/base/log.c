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

char *fe_redact(const char *s)
{
    struct fe_buf out;
    fe_buf_init(&out, 0);
    fe_buf_adds(&out, s ? s : "");
    for (size_t k = 0; k < fe_n_secrets; k++) {
        const char *secret = fe_secrets[k];
        size_t slen = strlen(secret);
        char *hit;
        while ((hit = strstr(out.data, secret)) != NULL) {
            struct fe_buf next;
            fe_buf_init(&next, 0);
            fe_buf_add(&next, out.data, (size_t)(hit - out.data));
            fe_buf_adds(&next, "[REDACTED]");
            fe_buf_adds(&next, hit + slen);
            fe_buf_release(&out);
            out = next;
        }
    }
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
