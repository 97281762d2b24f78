/* stats_judge.c — see stats_judge.h. */
#include "metrics/stats_judge.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "metrics/stats.h"

bool fe_metric_is_judge(const char *name)
{
    return name && strncmp(name, "judge:", 6) == 0 && name[6];
}

bool fe_metric_is_judge_pass(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return fe_metric_is_judge(name) && n > 11 && strcmp(name + n - 5, ".pass") == 0;
}

double fe_stats_sign_test(size_t wins, size_t losses)
{
    double p, midp;
    fe_stats_mcnemar(wins, losses, &p, &midp); /* the same binomial test on discordant counts */
    return p;
}

cJSON *fe_stats_win_rate(const double *v, size_t n, double alpha)
{
    size_t w = 0, t = 0, l = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] > 0.75)
            w++;
        else if (v[i] > 0.25)
            t++;
        else
            l++;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "wins", (double)w);
    cJSON_AddNumberToObject(o, "ties", (double)t);
    cJSON_AddNumberToObject(o, "losses", (double)l);
    double mean = 0, se = 0;
    bool has_se = fe_stats_mean_se(v, n, &mean, &se);
    if (n > 0)
        cJSON_AddNumberToObject(o, "win_rate", mean);
    else
        cJSON_AddNullToObject(o, "win_rate");
    if (has_se) {
        double z = gsl_cdf_ugaussian_Qinv(alpha / 2);
        cJSON_AddNumberToObject(o, "se", se);
        cJSON *ci = cJSON_AddArrayToObject(o, "ci");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(fmax(0.0, mean - z * se)));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(fmin(1.0, mean + z * se)));
    } else {
        cJSON_AddNullToObject(o, "se");
        cJSON_AddNullToObject(o, "ci");
    }
    cJSON_AddStringToObject(o, "ci_method", "normal_clamped");
    cJSON_AddNumberToObject(o, "ci_level", 1 - alpha);
    cJSON *s = cJSON_AddObjectToObject(o, "sign_test");
    cJSON_AddNumberToObject(s, "wins", (double)w);
    cJSON_AddNumberToObject(s, "losses", (double)l);
    cJSON_AddNumberToObject(s, "p", fe_stats_sign_test(w, l));
    return o;
}
