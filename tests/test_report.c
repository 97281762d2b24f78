/* test_report.c — report.md / report.html from runs built on disk: escaping of hostile model
 * output and golds, Markdown tables that stay tables, self-containment, and robustness to
 * missing pieces (one arm, no records, unknown prices, an all-errors arm, no summary). */
#include <stdbool.h>

#include <openssl/evp.h>

#include "harness/report/report.h"
#include "harness/report/report_int.h"
#include "harness/report/report_browser.h"
#include "harness/report/report_render.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "tests/fixtures/report/run_fixture.h"
#include "tests/t.h"

#define XSS_GOLD "<img src=x onerror=alert(1)>"
#define XSS_PRED "</svg><script>alert(2)</script>| pipe\nnew line"
#define XSS_ARM "x<b>\"arm\"</b>"

static char *slurp(const char *dir, const char *name)
{
    char path[8448];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len;
    char *s = fe_read_file(path, 0, &len);
    if (!s) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return s;
}

/* Every Markdown table row has the same number of unescaped pipes as its header. */
static bool md_tables_intact(const char *md)
{
    int want = -1;
    bool ok = true;
    const char *line = md;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 0 && line[0] == '|') {
            int pipes = 0;
            for (size_t i = 0; i < len; i++)
                if (line[i] == '|' && (i == 0 || line[i - 1] != '\\'))
                    pipes++;
            if (want < 0)
                want = pipes;
            else if (pipes != want) {
                fprintf(stderr, "  broken table row (%d pipes, want %d): %.*s\n", pipes, want,
                        (int)len, line);
                ok = false;
            }
        } else {
            want = -1;
        }
        line += len + (end ? 1 : 0);
    }
    return ok;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* word appears as a whole word (printf's "nan" / "inf", not "Provenance") */
static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = s; (p = strstr(p, word)); p++)
        if ((p == s || !is_letter(p[-1])) && !is_letter(p[n]))
            return true;
    return false;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The one executable script is the browser's, byte for byte, and the CSP allows exactly it: its
 * sha256 computed here with OpenSSL's EVP and base64 encoder, not through fteval's helper. */
static void check_script_hash(const char *html)
{
    const char *open = strstr(html, "<script>");
    const char *close = open ? strstr(open, "</script>") : NULL;
    T_CHECK(open && close);
    if (!open || !close)
        return;
    open += strlen("<script>");
    char *want = fe_browser_script_text();
    T_CHECK((size_t)(close - open) == strlen(want) && memcmp(open, want, strlen(want)) == 0);
    free(want);
    unsigned char md[EVP_MAX_MD_SIZE], b64[64];
    unsigned n = 0;
    EVP_Digest(open, (size_t)(close - open), md, &n, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, md, (int)n);
    char csp[160];
    snprintf(csp, sizeof(csp), "img-src data:; script-src 'sha256-%s'\">", (const char *)b64);
    T_CHECK(strstr(html, csp) != NULL);
}

static void check_self_contained(const char *html)
{
    /* one JSON data block and one script (the example browser), nothing else */
    T_CHECK(count(html, "<script") == 2);
    T_CHECK(count(html, "</script>") == 2);
    T_CHECK(count(html, "<script type=\"application/json\" class=\"eb-data\">") == 1);
    T_CHECK(count(html, "<script>") == 1);
    T_CHECK(strstr(html, "unsafe-eval") == NULL);
    T_CHECK(strstr(html, "script-src 'unsafe-inline'") == NULL);
    T_CHECK(strstr(html, "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                         "script-src 'sha256-") != NULL);
    check_script_hash(html);
    T_CHECK(strstr(html, "src=\"") == NULL); /* generated attributes are always quoted */
    T_CHECK(strstr(html, "href=\"") == NULL);
    T_CHECK(strstr(html, "<img") == NULL);
    T_CHECK(strstr(html, "@import") == NULL);
    T_CHECK(strstr(html, "url(") == NULL);
    T_CHECK(strstr(html, "Content-Security-Policy") != NULL);
    T_CHECK(strstr(html, "</html>") != NULL);
}

/* An arm with a hostile name, hostile golds and predictions. */
static void test_escaping(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"prompted", "finetuned"};
    const char *models[] = {"gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini-2024-07-18:o::x|y<z>"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    cJSON_ReplaceItemInObject(m, "name", cJSON_CreateString("demo </title><script>x</script>"));
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    FILE *a = fx_open_arm(dir, "prompted"), *b = fx_open_arm(dir, "finetuned");
    for (int i = 0; i < 12; i++) {
        /* finetuned fixes even examples and breaks example 3 */
        bool fixed = i % 2 == 0, broke = i == 3;
        fx_record(a, "prompted", i, broke ? 1 : 0, 0, true, 0.0002, 300 + i,
                  broke ? XSS_GOLD : XSS_PRED, XSS_GOLD);
        fx_record(b, "finetuned", i, fixed ? 1 : 0, 0, true, 0.0001, 200 + i,
                  fixed ? XSS_GOLD : XSS_PRED, XSS_GOLD);
    }
    fclose(a);
    fclose(b);
    fx_write(dir, "summary.json",
             "{\"schema\":\"fteval.summary/1\",\"comparisons\":[{\"a\":\"finetuned\","
             "\"b\":\"prompted\",\"metric\":\"exact_match\",\"n\":12,\"delta\":0.33,"
             "\"ci\":[0.1,0.6],\"p_adjusted\":0.02,\"adjustment\":\"holm\",\"significant\":true,"
             "\"mde\":0.2},{\"a\":\"<i>evil</i>\",\"b\":\"|\",\"metric\":\"f1\",\"delta\":0,"
             "\"significant\":false,\"mde\":0.1}]}");
    struct fe_run *run = fx_load(dir);
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    fe_run_free(run);

    char *html = slurp(dir, "report.html");
    check_self_contained(html);
    T_CHECK(strstr(html, XSS_GOLD) == NULL);
    T_CHECK(strstr(html, "</svg><script>") == NULL);
    T_CHECK(strstr(html, "onerror=alert(1)>") == NULL);
    T_CHECK(strstr(html, "&lt;img src=x onerror=alert(1)&gt;") != NULL);
    T_CHECK(strstr(html, "&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;") != NULL);
    T_CHECK(strstr(html, "<i>evil</i>") == NULL);
    T_CHECK(strstr(html, "x|y&lt;z&gt;") != NULL);
    T_CHECK(strstr(html, "</title><script>") == NULL);
    /* exactly one svg open/close per chart: nothing from data closed one early */
    int opens = 0, closes = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++)
        opens++;
    for (const char *p = html; (p = strstr(p, "</svg>")); p++)
        closes++;
    T_CHECK(opens == 4 && closes == 4); /* quality, cost, latency, trend */
    T_CHECK(strstr(html, "Ship the candidate") != NULL);
    T_CHECK(strstr(html, "finetuned beats prompted by +33.0 EM points") != NULL);
    T_CHECK(strstr(html, "Fixed (6)") != NULL);
    T_CHECK(strstr(html, "Broke (1)") != NULL);

    char *md = slurp(dir, "report.md");
    T_CHECK(md_tables_intact(md));
    T_CHECK(strstr(md, XSS_GOLD) == NULL);
    T_CHECK(strstr(md, "<script>") == NULL);
    T_CHECK(strstr(md, "\\<img src=x onerror=alert(1)\\>") != NULL);
    T_CHECK(strstr(md, "\\| pipe new line") != NULL);
    T_CHECK(strstr(md, "x\\|y\\<z\\>") != NULL);
    T_CHECK(strstr(md, "## Verdict: Ship the candidate") != NULL);
    free(html);
    free(md);
    fx_rmtree(dir);
    free(dir);
}

/* Builds a 2-arm run with the given shape and checks that both reports are written. */
static void robust(const char *what, size_t n_arms, int n_records, bool cand_unpriced,
                   bool cand_errors, bool with_summary)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"prompted", "finetuned"};
    const char *models[] = {"gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini-2024-07-18:o::x"};
    cJSON *m = fx_manifest(names + (2 - n_arms), models + (2 - n_arms), n_arms, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    for (size_t k = 2 - n_arms; k < 2 && n_records > 0; k++) {
        FILE *f = fx_open_arm(dir, names[k]);
        for (int i = 0; i < n_records; i++) {
            bool cand = k == 1;
            bool ok = !(cand && cand_errors);
            fx_record(f, names[k], i, ok ? (double)(i % 2) : 0, 0.5, ok,
                      cand && cand_unpriced ? -1 : 0.0001, 100 + i, "p", "g");
        }
        fclose(f);
    }
    if (with_summary)
        fx_write(dir, "summary.json",
                 "{\"schema\":\"fteval.summary/1\",\"arms\":{},"
                 "\"comparisons\":[]}");
    struct fe_run *run = fx_load(dir);
    struct fe_err err = {0};
    enum fe_status st = fe_report_write(run, &err);
    T_CHECK(st == FE_OK);
    if (st != FE_OK)
        fprintf(stderr, "  %s: %s\n", what, err.msg);
    fe_run_free(run);
    char *html = slurp(dir, "report.html"), *md = slurp(dir, "report.md");
    check_self_contained(html);
    T_CHECK(md_tables_intact(md));
    T_CHECK(!has_word(html, "nan") && !has_word(html, "inf"));
    T_CHECK(!has_word(md, "nan") && !has_word(md, "inf"));
    T_CHECK(strstr(html, "id=\"chart-quality\"") && strstr(html, "id=\"chart-cost\"") &&
            strstr(html, "id=\"chart-latency\""));
    if (cand_unpriced)
        T_CHECK(strstr(html, "unknown price") != NULL && strstr(html, "not priced: finetuned"));
    if (cand_errors)
        T_CHECK(strstr(html, "no successful calls") != NULL);
    if (n_arms < 2)
        T_CHECK(strstr(html, "A decision needs at least two arms") != NULL);
    free(html);
    free(md);
    fx_rmtree(dir);
    free(dir);
}

static void test_robustness(void)
{
    robust("one arm", 1, 10, false, false, true);
    robust("no records", 2, 0, false, false, false);
    robust("unknown price", 2, 10, true, false, true);
    robust("all errors", 2, 10, false, true, true);
    robust("no summary", 2, 10, false, false, false);
    robust("no comparisons", 2, 10, false, false, true);
}

static void test_helpers(void)
{
    struct fe_buf b = {0};
    fe_md_escape(&b, "a|b\nc\\d*e_f<g>[h](i)`j`&k#~");
    T_CHECK_STR(fe_buf_str(&b), "a\\|b c\\\\d\\*e\\_f\\<g\\>\\[h\\](i)\\`j\\`\\&k\\#\\~");
    fe_buf_release(&b);
    char *c = fe_report_clip("h\xc3\xa9llo", 2); /* never cut inside é */
    T_CHECK_STR(c, "h...");
    free(c);
    c = fe_report_clip("short", 10);
    T_CHECK_STR(c, "short");
    free(c);
    char s[64];
    fe_report_usd(s, sizeof(s), true, 0.0000150);
    T_CHECK_STR(s, "$0.0000150");
    fe_report_usd(s, sizeof(s), true, 42);
    T_CHECK_STR(s, "$42.00");
    fe_report_usd(s, sizeof(s), false, 1);
    T_CHECK_STR(s, "n/a");
    fe_report_pct(s, sizeof(s), true, 0.8412);
    T_CHECK_STR(s, "84.1%");
    struct fe_record_text r = {0};
    r.json = cJSON_Parse("{\"gold\":[\"Paris\",\"paris, France\"]}");
    r.gold = cJSON_GetObjectItemCaseSensitive(r.json, "gold"); /* as fe_run_record_text sets it */
    c = fe_report_gold_text(&r);
    T_CHECK_STR(c, "Paris / paris, France");
    free(c);
    cJSON_Delete(r.json);
    r.json = cJSON_Parse("{\"gold\":{\"city\":\"Paris\"}}");
    r.gold = cJSON_GetObjectItemCaseSensitive(r.json, "gold");
    c = fe_report_gold_text(&r);
    T_CHECK_STR(c, "{\"city\":\"Paris\"}");
    free(c);
    cJSON_Delete(r.json);
}

/* A decision recorded by the summary builder is shown as recorded, escaped. */
static void test_recorded_decision(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"prompted", "finetuned"};
    const char *models[] = {"m", "ft:m:o::x"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    fx_write(dir, "summary.json",
             "{\"decision\":{\"baseline_arm\":\"prompted\",\"candidate_arm\":\"finetuned\","
             "\"verdict\":\"keep_baseline\",\"reasons\":[\"<script>r()</script> | x\"],"
             "\"break_even\":{\"training_cost_usd\":null,\"monthly_cost_usd\":{\"<a>\":1}},"
             "\"rubric\":{\"total\":20,\"max\":35,\"band\":\"premature\",\"dimensions\":{"
             "\"decision\":{\"score\":1,\"evidence\":\"<b>bold</b>\",\"to_improve\":\"a|b\"}}}}}");
    struct fe_run *run = fx_load(dir);
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    fe_run_free(run);
    char *html = slurp(dir, "report.html"), *md = slurp(dir, "report.md");
    check_self_contained(html);
    T_CHECK(strstr(html, "Keep the baseline") != NULL);
    T_CHECK(strstr(html, "&lt;script&gt;r()&lt;/script&gt;") != NULL);
    T_CHECK(strstr(html, "<b>bold") == NULL && strstr(html, "<a>") == NULL);
    T_CHECK(strstr(html, "Readiness rubric: 20 / 35 (premature)") != NULL);
    T_CHECK(md_tables_intact(md));
    T_CHECK(strstr(md, "## Verdict: Keep the baseline") != NULL);
    T_CHECK(strstr(md, "<script>") == NULL);
    T_CHECK(strstr(md, "| decision | 1/5 | \\<b\\>bold\\</b\\> | a\\|b |") != NULL);
    free(html);
    free(md);
    fx_rmtree(dir);
    free(dir);
}

static void test_write_error(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"a"}, *models[] = {"m"};
    cJSON *m = fx_manifest(names, models, 1, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    struct fe_run *run = fx_load(dir);
    free(run->dir);
    run->dir = fe_xstrdup("/nonexistent-dir/for/fteval");
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, "/nonexistent-dir/for/fteval/report.md") != NULL);
    fe_run_free(run);
    fx_rmtree(dir);
    free(dir);
}

/* Hostile strings for the example browser's JSON: each must come back exactly. */
static const char *const hostile[] = {
    "</script><script>alert(1)</script>",
    "</SCRIPT >< /script>",
    "<img src=x onerror=alert(1)>",
    "<!-- <script> -->",
    "\"double\" and 'single' quotes & ampersand &amp; &lt;b&gt;",
    "back\\slash \\u003c is not an escape here",
    "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xe2\x80\xa8 line separator",
    "tab\tnew\nline\rCR \x01 ctl \x7f del",
    "]]> }]} {\"json\": [1, 2]}",
    "",
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static void hostile_record(FILE *f, const char *arm, int i, double em)
{
    cJSON *r = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof(id), "ex-%04d", i);
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "arm", arm);
    cJSON_AddNumberToObject(r, "line", i + 1);
    size_t k = (size_t)i + (strcmp(arm, "base") == 0 ? 0 : 1);
    cJSON_AddStringToObject(r, "prediction", hostile[k % N_HOSTILE]);
    cJSON_AddStringToObject(r, "gold", hostile[((size_t)i + 2) % N_HOSTILE]);
    cJSON_AddStringToObject(r, "input", hostile[((size_t)i + 3) % N_HOSTILE]);
    if (i % 3 == 0)
        cJSON_AddTrueToObject(r, "input_truncated");
    cJSON_AddStringToObject(r, "slice", hostile[((size_t)i + 4) % N_HOSTILE]);
    cJSON *sc = cJSON_AddObjectToObject(r, "scores");
    cJSON_AddNumberToObject(sc, "exact_match", em);
    cJSON_AddNumberToObject(sc, "f1", em);
    cJSON_AddStringToObject(r, "status", "ok");
    cJSON_AddNullToObject(r, "error");
    cJSON_AddNullToObject(r, "cost_usd");
    cJSON_AddNullToObject(r, "latency_ms");
    char *t = cJSON_PrintUnformatted(r);
    fprintf(f, "%s\n", t);
    cJSON_free(t);
    cJSON_Delete(r);
}

/* A browser column back to strings: a plain array, or {"t": table, "i": indexes}. */
static const char *column_at(const cJSON *c, int i)
{
    if (cJSON_IsArray(c))
        return cJSON_GetStringValue(cJSON_GetArrayItem(c, i));
    const cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "i"), i);
    if (!cJSON_IsNumber(k) || k->valueint < 0)
        return NULL;
    return cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "t"), k->valueint));
}

static bool same(const char *a, const char *b)
{
    if (a && b && strcmp(a, b) == 0)
        return true;
    fprintf(stderr, "  want [%s] got [%s]\n", a ? a : "(null)", b ? b : "(null)");
    return false;
}

/* Every hostile string round-trips exactly through the JSON block, whose text holds no '<', '>'
 * or '&' (so nothing can end the script element or be read as markup). */
static void test_browser_escaping(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"base", "tuned"};
    const char *models[] = {"m1", "m2"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    FILE *a = fx_open_arm(dir, "base"), *b = fx_open_arm(dir, "tuned");
    const int n = 3 * (int)N_HOSTILE;
    for (int i = 0; i < n; i++) {
        hostile_record(a, "base", i, i % 2);
        hostile_record(b, "tuned", i, i % 3 == 0);
    }
    fclose(a);
    fclose(b);
    struct fe_run *run = fx_load(dir);
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    fe_run_free(run);
    char *html = slurp(dir, "report.html");
    check_self_contained(html);
    const char *tag = "<script type=\"application/json\" class=\"eb-data\">";
    const char *p = strstr(html, tag);
    const char *end = p ? strstr(p, "</script>") : NULL;
    T_CHECK(p && end);
    if (p && end) {
        p += strlen(tag);
        char *blob = fe_xstrndup(p, (size_t)(end - p));
        T_CHECK(strpbrk(blob, "<>&") == NULL);
        cJSON *d = cJSON_Parse(blob);
        T_CHECK(d != NULL);
        const cJSON *out = cJSON_GetObjectItem(d, "out");
        size_t cut = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(d, "cut")) {
            T_CHECK(cJSON_IsNumber(c) && c->valueint % 3 == 0);
            cut++;
        }
        T_CHECK(cut == N_HOSTILE); /* examples 0, 3, 6, ... of 3 * N_HOSTILE */
        T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(d, "ids")) == n);
        for (int i = 0; i < n; i++) {
            size_t k = (size_t)i;
            T_CHECK(same(hostile[k % N_HOSTILE], column_at(cJSON_GetArrayItem(out, 0), i)));
            T_CHECK(same(hostile[(k + 1) % N_HOSTILE], column_at(cJSON_GetArrayItem(out, 1), i)));
            const cJSON *gold = cJSON_GetObjectItem(d, "gold");
            const cJSON *input = cJSON_GetObjectItem(d, "input");
            const cJSON *slice = cJSON_GetObjectItem(d, "slice");
            T_CHECK(same(hostile[(k + 2) % N_HOSTILE], column_at(gold, i)));
            T_CHECK(same(hostile[(k + 3) % N_HOSTILE], column_at(input, i)));
            T_CHECK(same(hostile[(k + 4) % N_HOSTILE], column_at(slice, i)));
        }
        cJSON_Delete(d);
        free(blob);
    }
    free(html);
    fx_rmtree(dir);
    free(dir);
}

/* A sink that takes the whole page at every flush, as a writer without the carry would; counts
 * the flushes that end right after an output ending in "SEC" (the planted secret's first part
 * written, its rest still to come). */
struct naive_sink {
    struct fe_buf all;
    int split;
};

static void naive_flush(void *ctx, struct fe_buf *b)
{
    struct naive_sink *s = ctx;
    if (b->len >= 4 && memcmp(b->data + b->len - 4, "SEC\"", 4) == 0)
        s->split++;
    fe_buf_add(&s->all, b->data, b->len);
    fe_buf_reset(b);
}

/* report.html is written in FE_PAGE_CHUNK pieces: a secret lying across a piece boundary is
 * still redacted, and the file is byte for byte the page rendered whole and redacted at once.
 * Every output is "RET<i>...SEC", so between any two neighbours in the browser's JSON the bytes
 * read SEC","RET: the registered secret, across whichever boundary the page is cut at. */
static void test_chunk_secret(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"base", "tuned"}, *models[] = {"m1", "m2"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    FILE *a = fx_open_arm(dir, "base"), *b = fx_open_arm(dir, "tuned");
    const int n = 4000;
    for (int i = 0; i < n; i++) {
        char pred[64];
        snprintf(pred, sizeof(pred), "RET%05d-padding-the-output-SEC", i);
        fx_record(a, "base", i, i % 2, i % 2, true, -1, 10, pred, "g");
        fx_record(b, "tuned", i, i % 3 == 0, 0, true, -1, 10, pred, "g");
    }
    fclose(a);
    fclose(b);
    struct fe_run *run = fx_load(dir);
    fe_log_add_secret("SEC\",\"RET");
    struct fe_report_view v;
    fe_report_view_init(&v, run);
    struct fe_buf whole = {0}, rest = {0};
    fe_report_render_html(&v, &whole, NULL);
    struct naive_sink ns = {0};
    struct fe_page_sink sink = {.flush = naive_flush, .ctx = &ns};
    fe_report_render_html(&v, &rest, &sink);
    fe_buf_add(&ns.all, rest.data, rest.len);
    fe_report_view_release(&v);
    T_CHECK(whole.len > 4 * FE_PAGE_CHUNK);
    T_CHECK(ns.split >= 2); /* the page was cut inside the outputs, across the secret */
    T_CHECK(rest.len < FE_PAGE_CHUNK); /* never held whole */
    T_CHECK(ns.all.len == whole.len && memcmp(ns.all.data, whole.data, whole.len) == 0);
    fe_redact_buf(&whole);
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    char *html = slurp(dir, "report.html");
    T_CHECK(strlen(html) == whole.len && memcmp(html, whole.data, whole.len) == 0);
    T_CHECK(strstr(html, "SEC\",\"RET") == NULL);
    T_CHECK(count(html, "[REDACTED]") == 2 * (n - 1)); /* each arm's n - 1 neighbours */
    fe_log_clear_secrets();
    free(html);
    fe_buf_release(&whole);
    fe_buf_release(&rest);
    fe_buf_release(&ns.all);
    fe_run_free(run);
    fx_rmtree(dir);
    free(dir);
}

static void order_record(FILE *f, const char *arm, int i, double em, int line)
{
    cJSON *r = cJSON_CreateObject();
    char id[32], pred[32];
    snprintf(id, sizeof(id), "ex-%04d", i);
    snprintf(pred, sizeof(pred), "%s-out-%d", arm, i);
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "arm", arm);
    if (line > 0)
        cJSON_AddNumberToObject(r, "line", line);
    cJSON_AddStringToObject(r, "prediction", pred);
    cJSON_AddStringToObject(r, "gold", "g");
    cJSON *sc = cJSON_AddObjectToObject(r, "scores");
    cJSON_AddNumberToObject(sc, "exact_match", em);
    cJSON_AddNumberToObject(sc, "f1", em);
    cJSON_AddStringToObject(r, "status", "ok");
    cJSON_AddNullToObject(r, "error");
    cJSON_AddNullToObject(r, "cost_usd");
    cJSON_AddNumberToObject(r, "latency_ms", 5);
    char *t = cJSON_PrintUnformatted(r);
    fprintf(f, "%s\n", t);
    cJSON_free(t);
    cJSON_Delete(r);
}

/* Dataset order is not id order here (line n - i), the arms hold different ids, some without a
 * line: the browser lists the union once each, by line then id (no line last), each arm's column
 * "missing" where it has no record; the fixed and broke tables keep the first five by id out of
 * ten each, whatever order the records come in. */
static void test_example_order(void)
{
    char *dir = fx_tmpdir();
    const char *names[] = {"base", "tuned"}, *models[] = {"m1", "m2"};
    cJSON *m = fx_manifest(names, models, 2, NULL);
    cJSON_AddStringToObject(m, "baseline_arm", "base");
    cJSON_AddStringToObject(m, "candidate_arm", "tuned");
    fx_write_json(dir, "manifest.json", m);
    cJSON_Delete(m);
    FILE *a = fx_open_arm(dir, "base"), *b = fx_open_arm(dir, "tuned");
    const int n = 20;
    for (int i = 0; i < n; i++) { /* tuned fixes the even ids, breaks the odd ones */
        if (i != 7)
            order_record(a, "base", i, i % 2, n - i);
        if (i != 12)
            order_record(b, "tuned", i, i % 2 == 0, n - i);
    }
    order_record(b, "tuned", 23, 1, 0); /* no line: after every example with one */
    order_record(a, "base", 21, 0, 0);
    order_record(b, "tuned", 20, 1, 0);
    fclose(a);
    fclose(b);
    struct fe_run *run = fx_load(dir);
    struct fe_err err = {0};
    T_CHECK(fe_report_write(run, &err) == FE_OK);
    fe_run_free(run);
    char *html = slurp(dir, "report.html"), *md = slurp(dir, "report.md");
    const char *tag = "<script type=\"application/json\" class=\"eb-data\">";
    const char *p = strstr(html, tag);
    const char *end = p ? strstr(p, "</script>") : NULL;
    T_CHECK(p && end);
    if (p && end) {
        p += strlen(tag);
        char *blob = fe_xstrndup(p, (size_t)(end - p));
        cJSON *d = cJSON_Parse(blob);
        const cJSON *ids = cJSON_GetObjectItem(d, "ids");
        const cJSON *err_col = cJSON_GetObjectItem(d, "err");
        T_CHECK(cJSON_GetArraySize(ids) == n + 3);
        for (int k = 0; k < n + 3; k++) {
            int want = k < n ? n - 1 - k : (int[]){20, 21, 23}[k - n];
            char id[32];
            snprintf(id, sizeof(id), "ex-%04d", want);
            T_CHECK(same(id, cJSON_GetStringValue(cJSON_GetArrayItem(ids, k))));
            bool base_missing = want == 7 || want == 20 || want == 23;
            bool tuned_missing = want == 12 || want == 21;
            T_CHECK((column_at(cJSON_GetArrayItem(err_col, 0), k) != NULL) == base_missing);
            T_CHECK((column_at(cJSON_GetArrayItem(err_col, 1), k) != NULL) == tuned_missing);
        }
        cJSON_Delete(d);
        free(blob);
    }
    /* fixed: even ids 0..18 but 12 (9); broke: odd ids 1..19 but 7 (9); the first five by id */
    const char *fixed = strstr(md, "### Fixed (9)"), *broke = strstr(md, "### Broke (9)");
    T_CHECK(fixed && broke && fixed < broke);
    const char *want_fixed[] = {"| ex-0000 |", "| ex-0002 |", "| ex-0004 |", "| ex-0006 |",
                                "| ex-0008 |", "4 more in the arm files"};
    const char *want_broke[] = {"| ex-0001 |", "| ex-0003 |", "| ex-0005 |", "| ex-0009 |",
                                "| ex-0011 |", "4 more in the arm files"};
    for (const char *q = fixed, *r = broke; q && r && q < broke;) {
        for (size_t k = 0; k < 6; k++) {
            const char *f = q ? strstr(q, want_fixed[k]) : NULL;
            T_CHECK(f && f < broke);
            q = f;
            const char *g = r ? strstr(r, want_broke[k]) : NULL;
            T_CHECK(g != NULL);
            r = g;
        }
        break;
    }
    T_CHECK(strstr(md, "| ex-0010 |") == NULL && strstr(md, "| ex-0013 |") == NULL);
    T_CHECK(strstr(html, "<td>ex-0008</td>") != NULL && strstr(html, "<td>ex-0010</td>") == NULL);
    free(html);
    free(md);
    fx_rmtree(dir);
    free(dir);
}

int main(void)
{
    test_helpers();
    test_escaping();
    test_browser_escaping();
    test_robustness();
    test_recorded_decision();
    test_write_error();
    test_chunk_secret();
    test_example_order();
    return T_DONE();
}
