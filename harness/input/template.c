/* template.c — see template.h. */
#include "harness/input/template.h"

#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

char *fe_template_render(const char *tmpl, const cJSON *row, struct fe_err *err)
{
    struct fe_buf out;
    fe_buf_init(&out, 0);
    for (const char *p = tmpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            fe_buf_addch(&out, *p++);
            continue;
        }
        if (*p != '{') {
            fe_buf_addch(&out, *p);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            fe_err_set(err, FE_EINVALID, "template: unclosed '{' at offset %zu", (size_t)(p - tmpl));
            fe_buf_release(&out);
            return NULL;
        }
        char *name = fe_xstrndup(p + 1, (size_t)(close - p - 1));
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, name);
        if (!v || cJSON_IsNull(v)) {
            fe_err_set(err, FE_EINVALID, "template: field '%s' is not in the example", name);
            free(name);
            fe_buf_release(&out);
            return NULL;
        }
        free(name);
        if (cJSON_IsString(v)) {
            fe_buf_adds(&out, v->valuestring);
        } else {
            char *json = cJSON_PrintUnformatted(v);
            fe_buf_adds(&out, json);
            cJSON_free(json);
        }
        p = close;
    }
    return fe_buf_detach(&out, NULL);
}
