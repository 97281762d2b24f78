/* runguard.c — see runguard.h. */
#include "harness/run/runguard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

enum fe_status fe_run_lock(const char *dir, int *fd, struct fe_err *err)
{
    *fd = -1;
    char *path = fe_xasprintf("%s/.lock", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot open the lock file: %s", path, strerror(errno));
        free(path);
        return st;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        char pid[32] = "";
        ssize_t n = pread(f, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(f);
        enum fe_status st =
            saved == EWOULDBLOCK
                ? fe_err_set(err, FE_EABORT, "%s: another fteval process (pid %s) is writing this run; wait for "
                             "it to finish or stop it first", dir, *pid ? pid : "unknown")
                : fe_err_set(err, FE_EIO, "%s: cannot lock: %s", path, strerror(saved));
        free(path);
        return st;
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)len, 0) != len) {
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        close(f);
        free(path);
        return st;
    }
    free(path);
    *fd = f;
    return FE_OK;
}

void fe_run_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static void fe_fp_add(cJSON *fields, const char *path, const char *value)
{
    cJSON_AddStringToObject(fields, path, value ? value : "");
}

static void fe_fp_addf(cJSON *fields, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fe_fp_addf(cJSON *fields, const char *path, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    fe_fp_add(fields, path, v);
}

static void fe_fp_json(cJSON *fields, const char *path, const cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    fe_fp_add(fields, path, text ? text : "null");
    cJSON_free(text);
}

cJSON *fe_config_fingerprint(const struct fe_config *c)
{
    cJSON *fields = cJSON_CreateObject();
    fe_fp_add(fields, "task.template", c->template);
    struct fe_buf m;
    fe_buf_init(&m, 0);
    for (size_t i = 0; i < c->n_metrics; i++)
        fe_buf_addf(&m, "%s%s", i ? "," : "", c->metrics[i]);
    fe_fp_add(fields, "task.metrics", fe_buf_str(&m));
    fe_buf_release(&m);
    fe_fp_addf(fields, "arms.count", "%zu", c->n_arms);
    for (size_t i = 0; i < c->n_arms; i++) {
        const struct fe_arm_conf *a = &c->arms[i];
        char p[96];
#define FE_P(key) (snprintf(p, sizeof(p), "arms[%zu].%s", i, key), p)
        fe_fp_add(fields, FE_P("name"), a->name);
        fe_fp_add(fields, FE_P("provider"), a->provider->conf.name);
        fe_fp_add(fields, FE_P("base_url"), a->provider->conf.base_url);
        fe_fp_add(fields, FE_P("model"), a->model);
        fe_fp_add(fields, FE_P("template"), a->template);
        fe_fp_add(fields, FE_P("system_sha256"), a->system_sha256);
        fe_fp_add(fields, FE_P("few_shot_sha256"), a->few_shot_sha256);
        if (a->has_temperature) { /* shortest text that reads back as the same double */
            char v[40];
            snprintf(v, sizeof(v), "%.15g", a->temperature);
            if (strtod(v, NULL) != a->temperature)
                snprintf(v, sizeof(v), "%.17g", a->temperature);
            fe_fp_add(fields, FE_P("temperature"), v);
        }
        else
            fe_fp_add(fields, FE_P("temperature"), "default");
        fe_fp_addf(fields, FE_P("max_tokens"), "%ld", a->max_tokens);
        if (a->has_seed)
            fe_fp_addf(fields, FE_P("seed"), "%ld", a->seed);
        else
            fe_fp_add(fields, FE_P("seed"), "none");
        fe_fp_json(fields, FE_P("extra_body"), a->extra_body);
        fe_fp_json(fields, FE_P("provider_extra_body"), a->provider->conf.extra_body);
        fe_fp_add(fields, FE_P("cap_field"), a->provider->conf.cap_field ? a->provider->conf.cap_field : "max_tokens");
        /* issue 15: only when set, so the fingerprints of earlier runs do not change */
        if (a->provider->conf.api_version) /* azure_openai: the URL shape */
            fe_fp_add(fields, FE_P("api_version"), a->provider->conf.api_version);
        if (a->provider->conf.region) /* bedrock: the endpoint and the signing scope */
            fe_fp_add(fields, FE_P("region"), a->provider->conf.region);
#undef FE_P
    }
    char *text = cJSON_PrintUnformatted(fields);
    char sha[65];
    fe_sha256_hex(text, strlen(text), sha);
    cJSON_free(text);
    cJSON *fp = cJSON_CreateObject();
    cJSON_AddStringToObject(fp, "sha256", sha);
    cJSON_AddItemToObject(fp, "fields", fields);
    return fp;
}

int fe_fingerprint_diff(const cJSON *run, const cJSON *config, char *out, size_t cap)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(run, "fields");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(config, "fields");
    const cJSON *f;
    cJSON_ArrayForEach(f, b) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, f->string);
        const char *ov = cJSON_IsString(o) ? o->valuestring : NULL;
        if (!ov || strcmp(ov, f->valuestring) != 0) {
            snprintf(out, cap, "%s: %s%s%s in the run, '%s' in the config", f->string, ov ? "'" : "",
                     ov ? ov : "absent", ov ? "'" : "", f->valuestring);
            return 1;
        }
    }
    cJSON_ArrayForEach(f, a) {
        if (!cJSON_GetObjectItemCaseSensitive(b, f->string)) {
            snprintf(out, cap, "%s: '%s' in the run, absent in the config", f->string,
                     cJSON_IsString(f) ? f->valuestring : "?");
            return 1;
        }
    }
    return 0;
}
