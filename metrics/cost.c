/* cost.c — see cost.h. */
#include "metrics/cost.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/buf.h"
#include "harness/base/util.h"

struct fe_price_row {
    const char *id; /* borrowed from table */
    struct fe_price price;
};

struct fe_prices {
    cJSON *table; /* owned copy; rows borrow strings from it */
    struct fe_price_row *rows;
    size_t n;
};

const char *const fe_price_row_keys[] = {
    "input",
    "cached_input",
    "output",
    "batch_multiplier",
    "training",
    "training_per_1m",
    "training_per_hour",
    "source",
    "as_of",
    "notes",
    "service_tiers",
    NULL,
};

/* Reads an optional number >= 0 (or, with positive, > 0 and <= 1). Returns false with err set. */
static bool fe_row_number(const cJSON *row, const char *key, const char *where, const char *id,
                          bool required, bool multiplier, double *out, bool *present,
                          struct fe_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    if (present)
        *present = false;
    if (!v) {
        if (required) {
            fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].%s: missing", where, id, key);
            return false;
        }
        return true;
    }
    if (multiplier) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 ||
            v->valuedouble > 1) {
            fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].%s: must be a number in (0, 1]", where,
                       id, key);
            return false;
        }
    } else if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) {
        fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].%s: must be a number >= 0", where, id, key);
        return false;
    }
    *out = v->valuedouble;
    if (present)
        *present = true;
    return true;
}

static bool fe_row_string(const cJSON *row, const char *key, const char *where, const char *id,
                          const char **out, struct fe_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    *out = NULL;
    if (!v)
        return true;
    if (!cJSON_IsString(v)) {
        fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].%s: must be a string", where, id, key);
        return false;
    }
    *out = v->valuestring;
    return true;
}

static bool fe_parse_row(const cJSON *row, const char *where, struct fe_price_row *out,
                         struct fe_err *err)
{
    const char *id = row->string;
    if (!cJSON_IsObject(row)) {
        fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"]: must be an object", where, id);
        return false;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, row) {
        bool known = false;
        for (size_t i = 0; fe_price_row_keys[i]; i++)
            known = known || strcmp(f->string, fe_price_row_keys[i]) == 0;
        if (!known) {
            fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].%s: unknown field", where, id,
                       f->string);
            return false;
        }
    }
    struct fe_price *p = &out->price;
    memset(out, 0, sizeof(*out));
    out->id = id;
    p->row = id;
    p->batch_multiplier = 1.0;
    bool has_t1 = false, has_t2 = false;
    double t1 = 0, t2 = 0;
    if (!fe_row_number(row, "input", where, id, true, false, &p->input, NULL, err) ||
        !fe_row_number(row, "output", where, id, true, false, &p->output, NULL, err) ||
        !fe_row_number(row, "cached_input", where, id, false, false, &p->cached_input,
                       &p->has_cached_input, err) ||
        !fe_row_number(row, "batch_multiplier", where, id, false, true, &p->batch_multiplier, &p->has_batch_multiplier,
                       err) ||
        !fe_row_number(row, "training", where, id, false, false, &t1, &has_t1, err) ||
        !fe_row_number(row, "training_per_1m", where, id, false, false, &t2, &has_t2, err) ||
        !fe_row_number(row, "training_per_hour", where, id, false, false, &p->training_per_hour,
                       &p->has_training_per_hour, err) ||
        !fe_row_string(row, "source", where, id, &p->source, err) ||
        !fe_row_string(row, "as_of", where, id, &p->as_of, err))
        return false;
    const char *notes;
    if (!fe_row_string(row, "notes", where, id, &notes, err))
        return false;
    const cJSON *tiers = cJSON_GetObjectItemCaseSensitive(row, "service_tiers");
    if (tiers && !cJSON_IsObject(tiers)) {
        fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"].service_tiers: must be an object", where,
                   id);
        return false;
    }
    if (has_t1 && has_t2 && t1 != t2) {
        fe_err_set(err, FE_EINVALID,
                   "%smodels[\"%s\"].training_per_1m: disagrees with \"training\"", where, id);
        return false;
    }
    p->has_training = has_t1 || has_t2;
    p->training = has_t1 ? t1 : t2;
    return true;
}

static struct fe_prices *fe_prices_from_object(const cJSON *table, const char *where,
                                               struct fe_err *err)
{
    if (!cJSON_IsObject(table)) {
        fe_err_set(err, FE_EINVALID, "%s(root): must be an object", where);
        return NULL;
    }
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(table, "currency");
    if (cur && (!cJSON_IsString(cur) || strcmp(cur->valuestring, "USD") != 0)) {
        fe_err_set(err, FE_EINVALID, "%scurrency: must be \"USD\"", where);
        return NULL;
    }
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(table, "unit");
    if (unit && (!cJSON_IsString(unit) || strcmp(unit->valuestring, "per_1m_tokens") != 0)) {
        fe_err_set(err, FE_EINVALID, "%sunit: must be \"per_1m_tokens\"", where);
        return NULL;
    }
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(table, "models");
    if (!cJSON_IsObject(models)) {
        fe_err_set(err, FE_EINVALID, "%smodels: %s", where,
                   models ? "must be an object" : "missing");
        return NULL;
    }
    struct fe_prices *p = fe_xcalloc(1, sizeof(*p));
    p->table = cJSON_Duplicate(table, 1);
    if (!p->table) {
        fprintf(stderr, "fteval: error: out of memory\n");
        abort();
    }
    models = cJSON_GetObjectItemCaseSensitive(p->table, "models");
    size_t n = (size_t)cJSON_GetArraySize(models);
    p->rows = fe_xcalloc(n ? n : 1, sizeof(*p->rows));
    const cJSON *row;
    cJSON_ArrayForEach(row, models) {
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->rows[i].id, row->string) == 0) {
                fe_err_set(err, FE_EINVALID, "%smodels[\"%s\"]: duplicate model id", where,
                           row->string);
                fe_prices_free(p);
                return NULL;
            }
        if (!fe_parse_row(row, where, &p->rows[p->n], err)) {
            fe_prices_free(p);
            return NULL;
        }
        p->n++;
    }
    return p;
}

struct fe_prices *fe_prices_load(const cJSON *value, const char *base_file, struct fe_err *err)
{
    if (cJSON_IsObject(value))
        return fe_prices_from_object(value, "prices.", err);
    if (!cJSON_IsString(value)) {
        fe_err_set(err, FE_EINVALID, "prices: must be a path or a price table object");
        return NULL;
    }
    char *path = base_file ? fe_path_relative_to(base_file, value->valuestring)
                           : fe_xstrdup(value->valuestring);
    size_t len;
    char *text = fe_read_file(path, 64u << 20, &len);
    if (!text) {
        fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    struct fe_prices *p = NULL;
    if (!j) {
        fe_err_set(err, FE_EINVALID, "%s: invalid JSON", path);
    } else {
        char *where = fe_xasprintf("%s: ", path);
        p = fe_prices_from_object(j, where, err);
        free(where);
    }
    cJSON_Delete(j);
    free(path);
    return p;
}

void fe_prices_free(struct fe_prices *p)
{
    if (!p)
        return;
    cJSON_Delete(p->table);
    free(p->rows);
    free(p);
}

size_t fe_prices_count(const struct fe_prices *p)
{
    return p ? p->n : 0;
}

static const struct fe_price_row *fe_find_row(const struct fe_prices *p, const char *id, size_t len)
{
    for (size_t i = 0; i < p->n; i++)
        if (strlen(p->rows[i].id) == len && memcmp(p->rows[i].id, id, len) == 0)
            return &p->rows[i];
    return NULL;
}

/* Exact id first; then "ft:BASE:org:suffix:id[:ckpt-step-N]" -> "ft:BASE". Only ids with at
 * least the org part after BASE fall back, so "ft:BASE" itself must match exactly. */
bool fe_prices_lookup(const struct fe_prices *p, const char *model, struct fe_price *out)
{
    if (!p || !model)
        return false;
    const struct fe_price_row *r = fe_find_row(p, model, strlen(model));
    if (!r && strncmp(model, "ft:", 3) == 0) {
        const char *colon = strchr(model + 3, ':');
        if (colon && colon > model + 3)
            r = fe_find_row(p, model, (size_t)(colon - model));
    }
    if (!r)
        return false;
    if (out)
        *out = r->price;
    return true;
}

double fe_cost_call(const struct fe_price *price, long prompt_tokens, long cached_tokens,
                    long completion_tokens, bool batch)
{
    if (prompt_tokens < 0)
        prompt_tokens = 0;
    if (cached_tokens < 0)
        cached_tokens = 0;
    if (cached_tokens > prompt_tokens)
        cached_tokens = prompt_tokens;
    if (completion_tokens < 0)
        completion_tokens = 0;
    double m = batch ? price->batch_multiplier : 1.0;
    double cached_rate = price->has_cached_input ? price->cached_input : price->input;
    return m *
           ((double)(prompt_tokens - cached_tokens) * price->input +
            (double)cached_tokens * cached_rate + (double)completion_tokens * price->output) /
           1e6;
}

bool fe_training_cost(const struct fe_prices *p, const char *model, double trained_tokens,
                      double *usd)
{
    struct fe_price pr;
    if (!fe_prices_lookup(p, model, &pr) || !pr.has_training || !(trained_tokens >= 0))
        return false;
    *usd = trained_tokens * pr.training / 1e6;
    return true;
}

/* Where the type-7 quantile q of n sorted values lies: the value at *lo (returns false), or
 * that value plus *frac of the step to the next one (returns true; *lo + 1 < n). */
static bool fe_quantile_at(size_t n, double q, size_t *lo, double *frac)
{
    *frac = 0;
    if (n == 1 || q <= 0) {
        *lo = 0;
        return false;
    }
    if (q >= 1) {
        *lo = n - 1;
        return false;
    }
    double h = (double)(n - 1) * q;
    *lo = (size_t)floor(h);
    *frac = h - (double)*lo;
    if (*lo + 1 >= n) {
        *lo = n - 1;
        return false;
    }
    return true;
}

double fe_quantile_sorted(const double *sorted, size_t n, double q)
{
    size_t lo;
    double frac;
    if (!fe_quantile_at(n, q, &lo, &frac))
        return sorted[lo];
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static int fe_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* x as a whole number of microseconds: *u with *u / 1000.0 == x bit for bit. */
static bool fe_whole_us(double x, uint32_t *u)
{
    if (!(x >= 0 && x * 1000.0 < 4294967295.0))
        return false;
    uint32_t c = (uint32_t)llround(x * 1000.0);
    double back = (double)c / 1000.0;
    if (memcmp(&back, &x, sizeof(x)) != 0) /* also tells -0.0 from 0.0 */
        return false;
    *u = c;
    return true;
}

/* Radix select: the value of rank rank[r] (0-based, ascending) among the whole-microsecond
 * counts of the sample, for r < nr, into val[r]; three passes over the values (11, 11 and 10
 * bits), each counting, per rank, the values that share the digits found so far (issue 14:
 * nothing of the sample's size is held, nr histograms of 2048 counts). */
#define FE_SEL_DIGITS 2048
static void fe_select_us(fe_sample_get get, const void *ctx, size_t n, const size_t *rank,
                         size_t nr, uint32_t *val)
{
    static const unsigned shift[3] = {21, 10, 0};
    uint32_t(*hist)[FE_SEL_DIGITS] = fe_xcalloc(nr, sizeof(*hist));
    size_t *left = fe_xcalloc(nr, sizeof(*left));
    for (size_t r = 0; r < nr; r++) {
        val[r] = 0;
        left[r] = rank[r];
    }
    uint32_t fixed = 0; /* the bits found so far */
    for (size_t lv = 0; lv < 3; lv++) {
        uint32_t digit = lv == 2 ? 0x3ffu : 0x7ffu;
        memset(hist, 0, nr * sizeof(*hist));
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            double x = get(ctx, i);
            if (isnan(x) || !fe_whole_us(x, &u))
                continue;
            for (size_t r = 0; r < nr; r++)
                if ((u & fixed) == val[r])
                    hist[r][(u >> shift[lv]) & digit]++;
        }
        for (size_t r = 0; r < nr; r++) {
            uint32_t b = 0;
            while (b < digit && left[r] >= hist[r][b])
                left[r] -= hist[r][b++];
            val[r] |= b << shift[lv];
        }
        fixed |= digit << shift[lv];
    }
    free(left);
    free(hist);
}

void fe_sample_quantiles(fe_sample_get get, const void *ctx, size_t n, const double *q, size_t nq,
                         double *out, struct fe_sample_stats *st)
{
    size_t k = 0;
    double sum = 0;
    bool whole = true;
    for (size_t i = 0; i < n; i++) {
        double x = get(ctx, i);
        uint32_t u;
        if (isnan(x))
            continue;
        k++;
        sum += x;
        whole = whole && fe_whole_us(x, &u);
    }
    st->k = k;
    st->sum = sum;
    st->max = 0;
    if (k == 0)
        return;
    if (whole) { /* the order statistics each quantile reads, selected, not sorted */
        size_t *rank = fe_xcalloc(2 * nq + 1, sizeof(*rank));
        uint32_t *v = fe_xcalloc(2 * nq + 1, sizeof(*v));
        double *frac = fe_xcalloc(nq + 1, sizeof(*frac));
        bool *step = fe_xcalloc(nq + 1, sizeof(*step));
        for (size_t j = 0; j < nq; j++) {
            step[j] = fe_quantile_at(k, q[j], &rank[2 * j], &frac[j]);
            rank[2 * j + 1] = step[j] ? rank[2 * j] + 1 : rank[2 * j];
        }
        rank[2 * nq] = k - 1; /* the largest */
        fe_select_us(get, ctx, n, rank, 2 * nq + 1, v);
        for (size_t j = 0; j < nq; j++) {
            /* fe_quantile_sorted of the values v[] / 1000.0 stand for */
            double at = (double)v[2 * j] / 1000.0;
            out[j] = step[j] ? at + frac[j] * ((double)v[2 * j + 1] / 1000.0 - at) : at;
        }
        st->max = (double)v[2 * nq] / 1000.0;
        free(step);
        free(frac);
        free(v);
        free(rank);
        return;
    }
    double *v = fe_xreallocarray(NULL, k, sizeof(*v));
    for (size_t i = 0, j = 0; i < n; i++) {
        double x = get(ctx, i);
        if (!isnan(x))
            v[j++] = x;
    }
    qsort(v, k, sizeof(*v), fe_cmp_double);
    for (size_t j = 0; j < nq; j++)
        out[j] = fe_quantile_sorted(v, k, q[j]);
    st->max = v[k - 1];
    free(v);
}
