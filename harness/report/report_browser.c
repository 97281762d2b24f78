/* report_browser.c — the example browser's writer (report_browser.h): the data blob, the section
 * skeleton, the one inline script and the Content-Security-Policy that allows exactly that script
 * by its sha256 hash. Errors: none (memory failure aborts, as everywhere). */
#include "harness/report/report_browser.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/strmap.h"
#include "harness/base/util.h"

/* The script (ES5, no eval, no innerHTML: every string lands in textContent). It reads each
 * section's data, builds the filter buttons with their counts, the slice and class selects, the
 * search box and the table header, then renders FE_BROWSER_PER_PAGE rows per page. */
/* In parts: ISO C caps a string literal at 4095 bytes. */
static const char *const script_parts[] = {
    "(function () {\n"
    "  'use strict';\n"
    "  function col(c) {\n"
    "    if (c == null) return null;\n"
    "    if (Array.isArray(c)) return c;\n"
    "    return c.i.map(function (k) { return k < 0 ? null : c.t[k]; });\n"
    "  }\n"
    "  function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) e.className = cls;\n"
    "    if (text != null) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  function fmt(s) {\n"
    "    return s == null ? 'n/a' : String(Math.round(s * 1000) / 1000);\n"
    "  }\n"
    "  function distinct(c) {\n"
    "    var seen = {}, out = [];\n"
    "    c.forEach(function (v) {\n"
    "      if (v == null || Object.prototype.hasOwnProperty.call(seen, v)) return;\n"
    "      seen[v] = 1;\n"
    "      out.push(v);\n"
    "    });\n"
    "    return out.sort();\n"
    "  }\n"
    "  function init(sec) {\n"
    "    var D = JSON.parse(sec.querySelector('script.eb-data').textContent);\n"
    "    var n = D.ids.length, A = D.arms.length, per = D.per || 50, ids = D.ids;\n"
    "    var input = col(D.input), gold = col(D.gold), slice = col(D.slice);\n"
    "    var out = D.out.map(col), err = D.err.map(col), score = D.score, cut = {};\n"
    "    (D.cut || []).forEach(function (i) { cut[i] = true; });\n"
    "    function right(a, i) { var s = score[a][i]; return s != null && s >= D.right; }\n"
    "    var tests = {\n"
    "      all: function () { return true; },\n"
    "      fixed: function (i) { return !right(D.base, i) && right(D.cand, i); },\n"
    "      broke: function (i) { return right(D.base, i) && !right(D.cand, i); },\n"
    "      wrong: function (i) {\n"
    "        for (var a = 0; a < A; a++) if (right(a, i)) return false;\n"
    "        return true;\n"
    "      },\n"
    "      errors: function (i) {\n"
    "        for (var a = 0; a < A; a++) if (err[a][i] != null) return true;\n"
    "        return false;\n"
    "      }\n"
    "    };\n"
    "    var names = [['all', 'All'], ['fixed', 'Fixed'], ['broke', 'Broke'],\n"
    "                 ['wrong', 'All wrong'], ['errors', 'Errors']];\n"
    "    if (D.base < 0 || D.cand < 0) names.splice(1, 2);\n"
    "    if (D.filters) {\n"
    "      names = names.filter(function (f) { return D.filters.indexOf(f[0]) >= 0; });\n"
    "    }\n"
    "    var st = { filter: D.filter || 'all', slice: null, cls: null, q: '', page: 0 };\n"
    "    var rows = [];\n"
    "    var hay = null;\n"
    "    function haystack() {\n"
    "      if (!hay) {\n"
    "        hay = new Array(n);\n"
    "        for (var i = 0; i < n; i++) {\n"
    "          var p = [ids[i], input && input[i] != null ? input[i] : '',\n"
    "                   gold[i] != null ? gold[i] : ''];\n"
    "          for (var a = 0; a < A; a++) p.push(out[a][i] != null ? out[a][i] : '');\n"
    "          hay[i] = p.join('\\n').toLowerCase();\n"
    "        }\n"
    "      }\n"
    "      return hay;\n"
    "    }\n"
    "    var ctl = sec.querySelector('.eb-controls'), buttons = {};\n"
    "    names.forEach(function (f) {\n"
    "      var k = 0;\n"
    "      for (var i = 0; i < n; i++) if (tests[f[0]](i)) k++;\n"
    "      var b = el('button', 'eb-f', f[1] + ' (' + k + ')');\n"
    "      b.type = 'button';\n"
    "      b.setAttribute('data-filter', f[0]);\n"
    "      b.addEventListener('click', function () { st.filter = f[0]; apply(); });\n"
    "      buttons[f[0]] = b;\n"
    "      ctl.appendChild(b);\n"
    "    });\n"
    "    function select(cls, label, values, key) {\n"
    "      var s = el('select', cls), o = el('option', null, label);\n"
    "      o.value = '';\n"
    "      s.appendChild(o);\n",
    "      values.forEach(function (v, k) {\n"
    "        var opt = el('option', null, v);\n"
    "        opt.value = String(k);\n"
    "        s.appendChild(opt);\n"
    "      });\n"
    "      s.addEventListener('change', function () {\n"
    "        st[key] = s.value === '' ? null : values[Number(s.value)];\n"
    "        apply();\n"
    "      });\n"
    "      ctl.appendChild(s);\n"
    "    }\n"
    "    if (slice) select('eb-slice', 'every slice', distinct(slice), 'slice');\n"
    "    if (D.classes) select('eb-class', 'every class', distinct(gold), 'cls');\n"
    "    var q = el('input', 'eb-q');\n"
    "    q.type = 'search';\n"
    "    q.placeholder = 'search input, gold, outputs';\n"
    "    q.setAttribute('aria-label', 'search');\n"
    "    q.addEventListener('input', function () { st.q = q.value; apply(); });\n"
    "    ctl.appendChild(q);\n"
    "    var head = sec.querySelector('thead tr');\n"
    "    var cols = D.arms.map(function (a) { return a + ' (' + D.metric + ')'; });\n"
    "    ['id', 'input', 'gold'].concat(cols).forEach(function (h, k) {\n"
    "      head.appendChild(el('th', k === 0 ? 'eb-idh' : null, h));\n"
    "    });\n"
    "    var tb = sec.querySelector('tbody'), status = sec.querySelector('.eb-status');\n"
    "    var prev = sec.querySelector('.eb-prev'), next = sec.querySelector('.eb-next');\n"
    "    var pageText = sec.querySelector('.eb-page');\n"
    "    prev.addEventListener('click', function () {\n"
    "      if (st.page > 0) { st.page--; render(); }\n"
    "    });\n"
    "    next.addEventListener('click', function () { st.page++; render(); });\n"
    "    function text(td, s, empty) {\n"
    "      td.appendChild(el('div', 'eb-t', s != null && s !== '' ? s : empty));\n"
    "    }\n"
    "    function row(i) {\n"
    "      var tr = el('tr');\n"
    "      tr.setAttribute('data-id', ids[i]);\n"
    "      tr.appendChild(el('td', 'eb-id', ids[i]));\n"
    "      var ti = el('td');\n"
    "      text(ti, input ? input[i] : null, '(no input recorded)');\n"
    "      if (cut[i]) ti.appendChild(el('div', 'eb-note', '(cut at 8 KiB)'));\n"
    "      tr.appendChild(ti);\n"
    "      var tg = el('td');\n"
    "      text(tg, gold[i], '');\n"
    "      if (slice && slice[i] != null)\n"
    "        tg.appendChild(el('div', 'eb-note', 'slice: ' + slice[i]));\n"
    "      tr.appendChild(tg);\n"
    "      for (var a = 0; a < A; a++) {\n"
    "        var e = err[a][i];\n"
    "        var td = el('td', e != null ? 'eb-err' : right(a, i) ? 'eb-ok' : 'eb-no');\n"
    "        if (e === 'missing') text(td, '(no record)', '');\n"
    "        else if (e != null) text(td, '(error: ' + e + ')', '');\n"
    "        else text(td, out[a][i], '(empty)');\n"
    "        td.appendChild(el('div', 'eb-s', fmt(score[a][i])));\n"
    "        tr.appendChild(td);\n"
    "      }\n"
    "      return tr;\n"
    "    }\n"
    "    function render() {\n"
    "      var pages = Math.max(1, Math.ceil(rows.length / per));\n"
    "      if (st.page >= pages) st.page = pages - 1;\n"
    "      var from = st.page * per, to = Math.min(rows.length, from + per);\n"
    "      var frag = document.createDocumentFragment();\n"
    "      for (var k = from; k < to; k++) frag.appendChild(row(rows[k]));\n"
    "      tb.textContent = '';\n"
    "      tb.appendChild(frag);\n"
    "      status.textContent = rows.length ? 'Examples ' + (from + 1) + '\\u2013' + to +\n"
    "        ' of ' + rows.length + ' shown (' + n + ' in all)' :\n"
    "        'No example matches (' + n + ' in all)';\n",
    "      pageText.textContent = 'page ' + (st.page + 1) + ' of ' + pages;\n"
    "      prev.disabled = st.page === 0;\n"
    "      next.disabled = st.page >= pages - 1;\n"
    "      Object.keys(buttons).forEach(function (f) {\n"
    "        buttons[f].setAttribute('aria-pressed', String(f === st.filter));\n"
    "      });\n"
    "    }\n"
    "    function apply() {\n"
    "      var f = tests[st.filter] || tests.all, needle = st.q.toLowerCase();\n"
    "      var h = needle ? haystack() : null;\n"
    "      rows = [];\n"
    "      for (var i = 0; i < n; i++) {\n"
    "        if (!f(i)) continue;\n"
    "        if (st.slice != null && slice[i] !== st.slice) continue;\n"
    "        if (st.cls != null && gold[i] !== st.cls) continue;\n"
    "        if (h && h[i].indexOf(needle) < 0) continue;\n"
    "        rows.push(i);\n"
    "      }\n"
    "      st.page = 0;\n"
    "      render();\n"
    "    }\n"
    "    apply();\n"
    "    sec.classList.add('eb-ready');\n"
    "  }\n"
    "  Array.prototype.forEach.call(document.querySelectorAll('section.eb'), init);\n"
    "})();\n",
};

static void script_add(struct fe_buf *b)
{
    for (size_t i = 0; i < FE_ARRAY_LEN(script_parts); i++)
        fe_buf_adds(b, script_parts[i]);
}

char *fe_browser_script_text(void)
{
    struct fe_buf b = {0};
    script_add(&b);
    return fe_buf_detach(&b, NULL);
}

void fe_browser_csp(struct fe_buf *b)
{
    char hash[45];
    struct fe_buf text = {0};
    script_add(&text);
    fe_sha256_base64(text.data, text.len, hash);
    fe_buf_release(&text);
    fe_buf_addf(b, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "script-src 'sha256-%s'",
                hash);
}

void fe_browser_style(struct fe_buf *b)
{
    fe_buf_adds(b, "<style>"
                   ".eb-controls{display:flex;flex-wrap:wrap;gap:6px;align-items:center;"
                   "margin:8px 0}.eb-controls button,.eb-pager button{font:inherit;"
                   "padding:3px 10px;"
                   "border:1px solid #b8c0cc;border-radius:4px;background:#f4f6fa;cursor:pointer}"
                   ".eb-controls button[aria-pressed=true]{background:#1d2433;color:#fff}"
                   ".eb-controls select,.eb-controls input{font:inherit;padding:3px 6px}"
                   ".eb-q{flex:1;min-width:14em}.eb-wrap{overflow-x:auto}"
                   ".eb-table{table-layout:fixed;min-width:720px}.eb-table td{font-size:.9em}"
                   ".eb-t{white-space:pre-wrap;max-height:10em;overflow:auto}"
                   "th.eb-idh{width:7em}td.eb-id{font-family:monospace;overflow-wrap:anywhere}"
                   ".eb-note,.eb-s{color:#5b6475;"
                   "font-size:.85em}.eb-ok{background:#e8f6ec}.eb-no{background:#fdecea}"
                   ".eb-err{background:#f2f4f7;color:#5b6475}.eb-status{margin:4px 0}"
                   "</style>\n");
}

/* The data block is written straight into the page, value by value, with the bytes
 * cJSON_PrintUnformatted would give (so a run of 300,000 examples never holds a JSON tree of
 * them); text that could end or confuse a <script> element cannot occur: '<', '>' and '&' occur
 * only inside JSON strings, where \u003c, \u003e and \u0026 mean the same characters. */
static void js_str(struct fe_buf *b, const char *s)
{
    fe_buf_adds(b, "\"");
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        const char *rep = NULL;
        if (c == '"' || c == '\\' || (c > 0 && c < 32) || c == '<' || c == '>' || c == '&') {
            switch (c) {
            case '"': rep = "\\\""; break;
            case '\\': rep = "\\\\"; break;
            case '\b': rep = "\\b"; break;
            case '\f': rep = "\\f"; break;
            case '\n': rep = "\\n"; break;
            case '\r': rep = "\\r"; break;
            case '\t': rep = "\\t"; break;
            default:
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c);
                rep = esc;
            }
        }
        if (rep || !c) {
            fe_buf_add(b, run, (size_t)(p - run));
            if (!c)
                break;
            fe_buf_adds(b, rep);
            run = p + 1;
        }
    }
    fe_buf_adds(b, "\"");
}

/* A number as cJSON prints it: null when not finite, an integer when it equals its int
 * (saturated), else %1.15g unless that does not read back, then %1.17g. */
static void js_num(struct fe_buf *b, double d)
{
    if (!isfinite(d)) {
        fe_buf_adds(b, "null");
        return;
    }
    int vi = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    if (d == (double)vi) {
        fe_buf_addf(b, "%d", vi);
        return;
    }
    char t[32];
    snprintf(t, sizeof(t), "%1.15g", d);
    double back = strtod(t, NULL);
    double max = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= max * DBL_EPSILON))
        snprintf(t, sizeof(t), "%1.17g", d);
    fe_buf_adds(b, t);
}

static void js_key(struct fe_buf *b, bool *first, const char *key)
{
    if (!*first)
        fe_buf_adds(b, ",");
    *first = false;
    js_str(b, key);
    fe_buf_adds(b, ":");
}

/* Where a column's values come from: an array, or the browser's text reader. */
struct col_src {
    const char *const *v;          /* NULL: w->text */
    const struct fe_browser *w;
    enum fe_browser_col col;
    size_t a;
};

static const char *col_get(const struct col_src *s, size_t i)
{
    return s->v ? s->v[i] : s->w->text(s->w->text_ctx, s->col, s->a, i);
}

/* Between two values: a streamed page hands what it holds to its sink (report_browser.h). */
static void spill(const struct fe_browser *w, struct fe_buf *b)
{
    if (w->sink && b->len >= FE_PAGE_CHUNK)
        w->sink->flush(w->sink->ctx, b);
}

/* Per-example columns read, not passed as arrays (fe_browser.num). */
static bool reads_rows(const struct fe_browser *w)
{
    return w->ids == NULL;
}

/* At most max distinct values among the n of s? Counted by the high 32 bits of a 64-bit hash
 * (never more than the distinct strings), so a false answer is exact and a true one is checked
 * (column_src). One table sized for max + 1 of them at a load of at most 7/8, never grown, so
 * a column of distinct texts holds 4.6 bytes per entry at most, not 8 twice (issue 14). */
static bool few_distinct(const struct col_src *s, size_t n, size_t max)
{
    size_t n_slots = (max + 1) + (max + 1) / 7 + 1, count = 0;
    uint32_t *slots = fe_xcalloc(n_slots, sizeof(*slots)); /* hash | 1, 0 = empty */
    for (size_t i = 0; i < n && count <= max; i++) {
        const char *v = col_get(s, i);
        if (!v)
            continue;
        uint64_t h64 = fe_strmap_hash(v);
        uint32_t h = (uint32_t)(h64 >> 32) | 1;
        size_t k = (size_t)(((h64 & 0xffffffffu) * (uint64_t)n_slots) >> 32);
        while (slots[k] && slots[k] != h)
            k = k + 1 == n_slots ? 0 : k + 1;
        if (!slots[k]) {
            slots[k] = h;
            count++;
        }
    }
    free(slots);
    return count <= max;
}

static void column_plain(struct fe_buf *b, const struct col_src *s, size_t n)
{
    fe_buf_adds(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fe_buf_adds(b, ",");
        const char *v = col_get(s, i);
        if (v)
            js_str(b, v);
        else
            fe_buf_adds(b, "null");
        spill(s->w, b);
    }
    fe_buf_adds(b, "]");
}

/* A string column (n values, entries may be NULL): a plain array, or, when values repeat
 * enough that it pays (at most half as many distinct values as entries), {"t": [distinct
 * values], "i": [index per entry, -1 for NULL]}. Only the distinct values of a repeating
 * column are held (never an entry's index: a third pass looks each one up); the values are
 * read again for each pass. */
static void column_src(struct fe_buf *b, const struct col_src *s, size_t n)
{
    if (n == 0 || !few_distinct(s, n, n / 2)) {
        column_plain(b, s, n);
        return;
    }
    struct fe_strmap seen;
    fe_strmap_init(&seen);
    char **vals = NULL; /* the distinct values, in the order of their first entry */
    for (size_t i = 0; i < n; i++) {
        const char *v = col_get(s, i);
        size_t k = seen.count;
        if (v && fe_strmap_put(&seen, v, k)) {
            vals = fe_xreallocarray(vals, seen.count, sizeof(*vals));
            vals[k] = fe_xstrdup(v);
        }
    }
    if (2 * seen.count <= n) {
        fe_buf_adds(b, "{\"t\":[");
        for (size_t k = 0; k < seen.count; k++) {
            if (k)
                fe_buf_adds(b, ",");
            js_str(b, vals[k]);
            spill(s->w, b);
        }
        fe_buf_adds(b, "],\"i\":[");
        for (size_t i = 0; i < n; i++) {
            const char *v = col_get(s, i);
            size_t k = 0;
            long idx = v && fe_strmap_get(&seen, v, &k) ? (long)k : -1;
            fe_buf_addf(b, i ? ",%ld" : "%ld", idx);
            spill(s->w, b);
        }
        fe_buf_adds(b, "]}");
    } else { /* hash collisions hid some distinct values */
        column_plain(b, s, n);
    }
    for (size_t k = 0; k < seen.count; k++)
        free(vals[k]);
    free(vals);
    fe_strmap_release(&seen);
}

/* Column col (arm a) of w: its array v, else its reader (the text columns when w->text is set,
 * the others when the rows are read). */
static void text_column(struct fe_buf *b, const struct fe_browser *w, const char *const *v,
                        enum fe_browser_col col, size_t a)
{
    bool text = col == FE_BROWSER_INPUT || col == FE_BROWSER_GOLD || col == FE_BROWSER_OUT;
    bool read = text ? w->text != NULL : reads_rows(w);
    struct col_src s = {.v = read ? NULL : v, .w = w, .col = col, .a = a};
    column_src(b, &s, w->n);
}

/* The ids: a plain array of strings, never a table. */
static void ids_column(struct fe_buf *b, const struct fe_browser *w)
{
    struct col_src s = {.v = reads_rows(w) ? NULL : w->ids, .w = w, .col = FE_BROWSER_ID};
    fe_buf_adds(b, "[");
    for (size_t i = 0; i < w->n; i++) {
        if (i)
            fe_buf_adds(b, ",");
        const char *id = col_get(&s, i);
        js_str(b, id ? id : "");
        spill(w, b);
    }
    fe_buf_adds(b, "]");
}

static double score_at(const struct fe_browser *w, size_t a, size_t i)
{
    return reads_rows(w) ? w->num(w->text_ctx, FE_BROWSER_SCORE, a, i) : w->score[a * w->n + i];
}

static bool cut_at(const struct fe_browser *w, size_t i)
{
    return reads_rows(w) ? w->num(w->text_ctx, FE_BROWSER_CUT, 0, i) != 0 : w->truncated[i];
}

static void data_head(const struct fe_browser *w, struct fe_buf *b, bool *first)
{
    fe_buf_adds(b, "{");
    js_key(b, first, "arms");
    fe_buf_adds(b, "[");
    for (size_t a = 0; a < w->n_arms; a++) {
        if (a)
            fe_buf_adds(b, ",");
        js_str(b, w->arms[a]);
    }
    fe_buf_adds(b, "]");
    js_key(b, first, "base");
    js_num(b, (double)w->base);
    js_key(b, first, "cand");
    js_num(b, (double)w->cand);
    js_key(b, first, "metric");
    js_str(b, w->metric ? w->metric : "");
    js_key(b, first, "right");
    js_num(b, FE_BROWSER_RIGHT);
    js_key(b, first, "per");
    js_num(b, FE_BROWSER_PER_PAGE);
    js_key(b, first, "filter");
    js_str(b, w->filter ? w->filter : "all");
    js_key(b, first, "classes");
    fe_buf_adds(b, w->classes ? "true" : "false");
    if (w->filters) {
        js_key(b, first, "filters");
        fe_buf_adds(b, "[");
        for (const char *const *p = w->filters; *p; p++) {
            if (p != w->filters)
                fe_buf_adds(b, ",");
            js_str(b, *p);
        }
        fe_buf_adds(b, "]");
    }
}

static void data_json(const struct fe_browser *w, struct fe_buf *b)
{
    bool first = true;
    data_head(w, b, &first);
    js_key(b, &first, "ids");
    ids_column(b, w);
    if (w->text ? w->has_input : w->inputs != NULL) {
        js_key(b, &first, "input");
        text_column(b, w, w->inputs, FE_BROWSER_INPUT, 0);
    }
    if (reads_rows(w) ? w->has_cut : w->truncated != NULL) {
        js_key(b, &first, "cut");
        fe_buf_adds(b, "[");
        bool any = false;
        for (size_t i = 0; i < w->n; i++)
            if (cut_at(w, i)) {
                fe_buf_addf(b, any ? ",%zu" : "%zu", i);
                any = true;
                spill(w, b);
            }
        fe_buf_adds(b, "]");
    }
    js_key(b, &first, "gold");
    text_column(b, w, w->golds, FE_BROWSER_GOLD, 0);
    if (reads_rows(w) ? w->has_slice : w->slices != NULL) {
        js_key(b, &first, "slice");
        text_column(b, w, w->slices, FE_BROWSER_SLICE, 0);
    }
    js_key(b, &first, "out");
    fe_buf_adds(b, "[");
    for (size_t a = 0; a < w->n_arms; a++) {
        if (a)
            fe_buf_adds(b, ",");
        text_column(b, w, w->out ? w->out + a * w->n : NULL, FE_BROWSER_OUT, a);
    }
    fe_buf_adds(b, "]");
    js_key(b, &first, "score");
    fe_buf_adds(b, "[");
    for (size_t a = 0; a < w->n_arms; a++) {
        fe_buf_adds(b, a ? ",[" : "[");
        for (size_t i = 0; i < w->n; i++) {
            if (i)
                fe_buf_adds(b, ",");
            js_num(b, score_at(w, a, i));
            spill(w, b);
        }
        fe_buf_adds(b, "]");
    }
    fe_buf_adds(b, "]");
    js_key(b, &first, "err");
    fe_buf_adds(b, "[");
    for (size_t a = 0; a < w->n_arms; a++) {
        if (a)
            fe_buf_adds(b, ",");
        text_column(b, w, w->err ? w->err + a * w->n : NULL, FE_BROWSER_ERR, a);
    }
    fe_buf_adds(b, "]}");
}

void fe_browser_section(const struct fe_browser *w, struct fe_buf *b)
{
    fe_buf_adds(b, "<section class=\"eb\" id=\"");
    fe_buf_add_html(b, w->dom_id);
    fe_buf_adds(b, "\">\n<h2>");
    fe_buf_add_html(b, w->title);
    fe_buf_addf(b, "</h2>\n<p class=\"meta\">%zu examples. Each arm's output with its ", w->n);
    fe_buf_add_html(b, w->metric ? w->metric : "score");
    fe_buf_adds(b, " score; a score of at least 0.5 counts as right (green). ");
    if (w->base >= 0 && w->cand >= 0) {
        fe_buf_adds(b, "<em>Fixed</em>: baseline <strong>");
        fe_buf_add_html(b, w->arms[w->base]);
        fe_buf_adds(b, "</strong> wrong, candidate <strong>");
        fe_buf_add_html(b, w->arms[w->cand]);
        fe_buf_adds(b, "</strong> right; <em>broke</em>: the reverse. ");
    }
    fe_buf_adds(b, "<em>All wrong</em>: no arm right; <em>errors</em>: a call of some arm failed "
                   "or has no record. The search matches id, input, gold and outputs "
                   "(case-insensitive).</p>\n"
                   "<noscript><p>The example browser needs JavaScript; every example is also "
                   "in the run's &lt;arm&gt;.jsonl files.</p></noscript>\n"
                   "<div class=\"eb-controls\"></div>\n"
                   "<p class=\"eb-status\" role=\"status\"></p>\n"
                   "<div class=\"eb-wrap\"><table class=\"eb-table\"><thead><tr></tr></thead>"
                   "<tbody></tbody></table></div>\n<nav class=\"eb-pager\"><button type=\"button\" "
                   "class=\"eb-prev\">&larr; previous</button> <span class=\"eb-page\"></span> "
                   "<button type=\"button\" class=\"eb-next\">next &rarr;</button></nav>\n"
                   "<script type=\"application/json\" class=\"eb-data\">");
    data_json(w, b);
    fe_buf_adds(b, "</script>\n</section>\n");
}

void fe_browser_script(struct fe_buf *b)
{
    fe_buf_adds(b, "<script>");
    script_add(b);
    fe_buf_adds(b, "</script>\n");
}
