/* backoff.c — see backoff.h. */
#include "harness/net/backoff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "harness/base/util.h"

bool fe_parse_go_duration(const char *s, double *seconds)
{
    if (!s || !*s)
        return false;
    double total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0)
            return false;
        p = end;
        double unit;
        if (strncmp(p, "ms", 2) == 0)
            unit = 1e-3, p += 2;
        else if (strncmp(p, "us", 2) == 0 || strncmp(p, "\xc2\xb5s", 3) == 0)
            unit = 1e-6, p += (*p == 'u') ? 2 : 3;
        else if (strncmp(p, "ns", 2) == 0)
            unit = 1e-9, p += 2;
        else if (*p == 'h')
            unit = 3600, p++;
        else if (*p == 'm')
            unit = 60, p++;
        else if (*p == 's')
            unit = 1, p++;
        else if (!*p && total == 0)
            unit = 1; /* a bare number: seconds */
        else
            return false;
        total += v * unit;
    }
    *seconds = total;
    return true;
}

double fe_retry_after_seconds(const char *retry_after_ms, const char *retry_after, double now_unix)
{
    double v;
    if (retry_after_ms && fe_parse_double(retry_after_ms, &v) && v >= 0)
        return v / 1000.0;
    if (retry_after) {
        if (fe_parse_double(retry_after, &v) && v >= 0)
            return v;
        time_t when = curl_getdate(retry_after, NULL);
        if (when > 0) {
            double d = (double)when - now_unix;
            return d > 0 ? d : 0;
        }
    }
    return -1;
}

double fe_backoff_seconds(long retries_done, double u)
{
    double base = 0.5 * pow(2.0, (double)(retries_done < 0 ? 0 : retries_done));
    if (base > 8.0)
        base = 8.0;
    return base * (1.0 - 0.25 * u);
}

double fe_jitter_uniform(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
