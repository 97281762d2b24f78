/* jsonout.c — see jsonout.h. */
#include "harness/base/jsonout.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/fs.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

void fe_json_add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void fe_json_add_str(cJSON *o, const char *k, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, k, s);
    else
        cJSON_AddNullToObject(o, k);
}

void fe_json_add_pair(cJSON *o, const char *k, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    cJSON *a = cJSON_AddArrayToObject(o, k);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(hi));
}

void fe_json_merge_object(cJSON *dst, const cJSON *src)
{
    const cJSON *field;
    cJSON_ArrayForEach(field, src) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, field->string);
        cJSON_AddItemToObject(dst, field->string, cJSON_Duplicate(field, true));
    }
}

const cJSON *fe_json_get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

const char *fe_json_str(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool fe_json_num(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return false;
    *out = v->valuedouble;
    return true;
}

const char *fe_json_gets(const cJSON *o, const char *k)
{
    return fe_json_str(fe_json_get(o, k));
}

const char *fe_json_gets_or(const cJSON *o, const char *k, const char *dflt)
{
    const char *s = fe_json_gets(o, k);
    return s ? s : dflt;
}

double fe_json_getn(const cJSON *o, const char *k)
{
    return fe_json_getn_or(o, k, NAN);
}

double fe_json_getn_or(const cJSON *o, const char *k, double dflt)
{
    double v;
    return fe_json_num(fe_json_get(o, k), &v) ? v : dflt;
}

char *fe_json_dupstr(const cJSON *o, const char *k)
{
    return fe_xstrdup(fe_json_gets(o, k));
}

const cJSON *fe_json_path(const cJSON *o, const char *dotted)
{
    char key[128];
    while (o && *dotted) {
        const char *dot = strchr(dotted, '.');
        size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
        if (len >= sizeof(key))
            return NULL;
        memcpy(key, dotted, len);
        key[len] = 0;
        o = fe_json_get(o, key);
        dotted += len + (dot ? 1 : 0);
    }
    return o;
}

enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err)
{
    char *printed = cJSON_Print(json);
    char *text = fe_redact(printed); /* nothing secret is written (issue 11 §6) */
    cJSON_free(printed);
    struct fe_atomic_file a;
    enum fe_status st = fe_atomic_open(&a, path, err);
    if (st == FE_OK) {
        if (fputs(text, a.f) == EOF || fputc('\n', a.f) == EOF) {
            st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
            fe_atomic_abort(&a);
        } else {
            st = fe_atomic_commit(&a, err);
        }
    }
    free(text);
    return st;
}
