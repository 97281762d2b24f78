/* judge_stats_tool — drives metrics/stats_judge.h from tests/judge_stats_test.py.
 *
 * Reads one JSON request on stdin, prints one JSON answer on stdout:
 *   {"sign": [[wins, losses], ...]}  -> {"sign": [p, ...]}   (fe_stats_sign_test)
 *   {"values": [x, ...], "alpha": a} -> fe_stats_win_rate
 */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"
#include "metrics/stats_judge.h"

int main(void)
{
    struct fe_buf in;
    fe_buf_init(&in, 0);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        fe_buf_add(&in, chunk, got);
    cJSON *req = cJSON_Parse(fe_buf_str(&in));
    fe_buf_release(&in);
    if (!req) {
        fputs("judge_stats_tool: invalid JSON request\n", stderr);
        return 1;
    }
    cJSON *out = NULL;
    const cJSON *sign = cJSON_GetObjectItemCaseSensitive(req, "sign");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(req, "values");
    if (cJSON_IsArray(sign)) {
        out = cJSON_CreateObject();
        cJSON *ps = cJSON_AddArrayToObject(out, "sign");
        const cJSON *pair;
        cJSON_ArrayForEach(pair, sign) {
            size_t w = (size_t)cJSON_GetNumberValue(cJSON_GetArrayItem(pair, 0));
            size_t l = (size_t)cJSON_GetNumberValue(cJSON_GetArrayItem(pair, 1));
            cJSON_AddItemToArray(ps, cJSON_CreateNumber(fe_stats_sign_test(w, l)));
        }
    } else if (cJSON_IsArray(values)) {
        size_t n = (size_t)cJSON_GetArraySize(values), i = 0;
        double *v = fe_xcalloc(n + 1, sizeof(double));
        const cJSON *x;
        cJSON_ArrayForEach(x, values) v[i++] = cJSON_GetNumberValue(x);
        const cJSON *alpha = cJSON_GetObjectItemCaseSensitive(req, "alpha");
        out = fe_stats_win_rate(v, n, cJSON_IsNumber(alpha) ? alpha->valuedouble : 0.05);
        free(v);
    }
    cJSON_Delete(req);
    if (!out) {
        fputs("judge_stats_tool: want \"sign\" or \"values\"\n", stderr);
        return 1;
    }
    char *text = cJSON_PrintUnformatted(out);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(out);
    return 0;
}
