/* jsonout.c — see jsonout.h. */
#include "harness/base/jsonout.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

enum fe_status fe_write_json_file(const char *path, const cJSON *json, struct fe_err *err)
{
    char *printed = cJSON_Print(json);
    char *text = fe_redact(printed); /* nothing secret is written (issue 11 §6) */
    cJSON_free(printed);
    char *tmp = fe_xasprintf("%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    enum fe_status st = FE_OK;
    if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
        st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        if (f)
            fclose(f);
        unlink(tmp);
    } else {
        bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0; /* on disk before it replaces the old one */
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0 || fe_fsync_parent_dir(path) != 0) {
            st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(text);
    free(tmp);
    return st;
}
