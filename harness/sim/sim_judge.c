/* sim_judge.c — simulated judge models (issue 12; sim.h says what a judge rule does). Knowing
 * the truth a simulated judge measures is what lets tests check position bias and its swap
 * correction: tests/judge_sim_test.py and bench/judge_coverage.py. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/base/util.h"
#include "harness/sim/sim.h"

enum fe_status fe_sim_judge_parse(const cJSON *v, const char *where, struct fe_sim_rule *r, struct fe_err *err)
{
    if (!cJSON_IsObject(v))
        return fe_err_set(err, FE_EINVALID, "%s: judge: must be an object (accuracy, position_bias, length_bias)",
                          where);
    r->judge = true;
    r->judge_accuracy = 1.0;
    r->judge_position_bias = 0.5;
    r->judge_length_bias = 0.0;
    for (const cJSON *d = v->child; d; d = d->next) {
        double *dst = strcmp(d->string, "accuracy") == 0        ? &r->judge_accuracy
                      : strcmp(d->string, "position_bias") == 0 ? &r->judge_position_bias
                      : strcmp(d->string, "length_bias") == 0   ? &r->judge_length_bias
                                                                : NULL;
        if (!dst)
            return fe_err_set(err, FE_EINVALID, "%s: judge.%s: unknown key (accuracy, position_bias, length_bias)",
                              where, d->string);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1)
            return fe_err_set(err, FE_EINVALID, "%s: judge.%s: must be a number in [0, 1]", where, d->string);
        *dst = d->valuedouble;
    }
    return FE_OK;
}

/* The text between <tag> and </tag> (one newline trimmed each side), or NULL. */
static char *fe_sim_tagged(const char *prompt, const char *tag)
{
    char open[32], close[32];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(prompt, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return NULL;
    if (*a == '\n')
        a++;
    if (b > a && b[-1] == '\n')
        b--;
    return fe_xstrndup(a, (size_t)(b - a));
}

/* Lower-cased runs of letters and digits, as a list of owned strings. */
static size_t fe_sim_tokens(const char *s, char ***out)
{
    size_t n = 0, cap = 0;
    char **t = NULL;
    for (const char *p = s ? s : ""; *p;) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        const char *b = p;
        while (*p && isalnum((unsigned char)*p))
            p++;
        if (p == b)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            t = fe_xreallocarray(t, cap, sizeof(*t));
        }
        char *w = fe_xstrndup(b, (size_t)(p - b));
        for (char *q = w; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        t[n++] = w;
    }
    *out = t;
    return n;
}

/* Token F1 of a against ref (1 when both are empty). */
static double fe_sim_closeness(const char *a, const char *ref)
{
    char **ta, **tr;
    size_t na = fe_sim_tokens(a, &ta), nr = fe_sim_tokens(ref, &tr);
    double f1 = na == 0 && nr == 0 ? 1.0 : 0.0;
    if (na > 0 && nr > 0) {
        bool *used = fe_xcalloc(nr, sizeof(bool));
        size_t common = 0;
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nr; j++)
                if (!used[j] && strcmp(ta[i], tr[j]) == 0) {
                    used[j] = true;
                    common++;
                    break;
                }
        free(used);
        double p = (double)common / (double)na, r = (double)common / (double)nr;
        f1 = common ? 2 * p * r / (p + r) : 0.0;
    }
    for (size_t i = 0; i < na; i++)
        free(ta[i]);
    for (size_t i = 0; i < nr; i++)
        free(tr[i]);
    free(ta);
    free(tr);
    return f1;
}

static char *fe_sim_judge_pairwise(const struct fe_sim_rule *rule, const char *ref, const char *a, const char *b,
                                   uint64_t h)
{
    double ca = fe_sim_closeness(a, ref), cb = fe_sim_closeness(b, ref);
    double u1 = fe_sim_unit(fe_sim_mix64(h ^ 0x1)), u2 = fe_sim_unit(fe_sim_mix64(h ^ 0x2)),
           u3 = fe_sim_unit(fe_sim_mix64(h ^ 0x3));
    char w;
    const char *why;
    if (fabs(ca - cb) > 1e-12) {
        char better = ca > cb ? 'A' : 'B';
        bool right = u1 < rule->judge_accuracy;
        w = right ? better : (better == 'A' ? 'B' : 'A');
        why = right ? "closer to the reference" : "misjudged";
    } else if (strlen(a) != strlen(b) && u2 < rule->judge_length_bias) {
        w = strlen(a) > strlen(b) ? 'A' : 'B';
        why = "unsure: the longer one";
    } else {
        w = u3 < rule->judge_position_bias ? 'A' : 'B';
        why = "unsure: by position";
    }
    return fe_xasprintf("{\"winner\": \"%c\", \"reason\": \"sim judge: %s\"}", w, why);
}

static char *fe_sim_judge_rubric(const struct fe_sim_rule *rule, const char *prompt, const char *ref, const char *out,
                                 uint64_t h)
{
    long lo = 1, hi = 5;
    const char *sc = strstr(prompt, "a whole number from ");
    if (sc && sscanf(sc, "a whole number from %ld (worst) to %ld (best)", &lo, &hi) != 2)
        lo = 1, hi = 5;
    if (hi <= lo)
        lo = 1, hi = 5;
    double u1 = fe_sim_unit(fe_sim_mix64(h ^ 0x11)), u2 = fe_sim_unit(fe_sim_mix64(h ^ 0x12)),
           u3 = fe_sim_unit(fe_sim_mix64(h ^ 0x13));
    long score;
    if (u1 < rule->judge_accuracy)
        score = lo + lround(fe_sim_closeness(out, ref) * (double)(hi - lo));
    else
        score = lo + (long)(u2 * (double)(hi - lo + 1));
    if (score > hi)
        score = hi;
    if (ref && strlen(out) > strlen(ref) && u3 < rule->judge_length_bias && score < hi)
        score++;
    return fe_xasprintf("{\"score\": %ld, \"reason\": \"sim judge: closeness to the reference\"}", score);
}

char *fe_sim_judge_answer(uint64_t seed, const struct fe_sim_rule *rule, const char *prompt)
{
    const char *p = prompt ? prompt : "";
    uint64_t h = fe_sim_hash_str(fe_sim_hash_str(seed ^ 0x6a75646765ULL, rule->name ? rule->name : ""), p);
    char *ref = fe_sim_tagged(p, "reference");
    char *a = fe_sim_tagged(p, "output_a"), *b = fe_sim_tagged(p, "output_b"), *out = fe_sim_tagged(p, "output");
    if (ref && strcmp(ref, "(none)") == 0) {
        free(ref);
        ref = NULL;
    }
    char *answer;
    if (a && b)
        answer = fe_sim_judge_pairwise(rule, ref, a, b, h);
    else if (out)
        answer = fe_sim_judge_rubric(rule, p, ref, out, h);
    else
        answer = fe_xstrdup("I cannot find the outputs to judge in this prompt.");
    free(ref);
    free(a);
    free(b);
    free(out);
    return answer;
}
