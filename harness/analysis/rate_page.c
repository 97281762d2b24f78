/* rate_page.c — rate.html: the offline page a rater uses (rate.h, docs/human-ratings.md).
 *
 * One self-contained file: the items as an inert JSON data block, one inline script and one
 * inline style, each allowed by its SHA-256 in the Content-Security-Policy, which forbids
 * everything else (no network: default-src 'none', connect-src 'none', form-action 'none').
 * The script shows every item (outputs as text, never as HTML), lets the rater pick A / B /
 * tie or a score, counts what is done, and downloads the ratings as CSV (item,rating,rater) —
 * the file `fteval rate import` reads. */
#include <stdlib.h>
#include <string.h>

#include "harness/analysis/rate.h"
#include "harness/base/util.h"

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;"
    "color:#1b1b1b}"
    "header{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ccc}"
    ".item{border:1px solid #ccc;border-radius:6px;padding:.75rem;margin:1rem 0}"
    ".item.done{border-color:#2a7a2a}"
    "pre{white-space:pre-wrap;word-wrap:break-word;background:#f6f6f6;padding:.5rem;margin:.25rem 0}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:.5rem}"
    "h3{margin:.25rem 0;font-size:.95rem}"
    "label{margin-right:1rem}";

static const char script[] =
    "'use strict';\n"
    "(function () {\n"
    "  var items = JSON.parse(document.getElementById('items').textContent);\n"
    "  var ratings = {};\n"
    "  var list = document.getElementById('list');\n"
    "  function el(tag, text, cls) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (text !== undefined) e.textContent = text;\n"
    "    if (cls) e.className = cls;\n"
    "    return e;\n"
    "  }\n"
    "  function block(title, text) {\n"
    "    var d = el('div'); d.appendChild(el('h3', title)); d.appendChild(el('pre', text));\n"
    "    return d;\n"
    "  }\n"
    "  function choices(it) {\n"
    "    if (it.task === 'pairwise') return ['A', 'B', 'tie'];\n"
    "    var c = []; for (var s = it.scale[0]; s <= it.scale[1]; s++) c.push(String(s));\n"
    "    return c;\n"
    "  }\n"
    "  function update() {\n"
    "    var n = Object.keys(ratings).length;\n"
    "    document.getElementById('count').textContent = n + ' of ' + items.length + ' rated';\n"
    "  }\n"
    "  items.forEach(function (it, k) {\n"
    "    var box = el('section', undefined, 'item');\n"
    "    box.id = 'item-' + it.item;\n"
    "    box.appendChild(el('h2', 'Item ' + (k + 1) + ' (' + it.item + ')'));\n"
    "    box.appendChild(block('Input', it.input));\n"
    "    if (it.reference) box.appendChild(block('Reference', it.reference));\n"
    "    if (it.task === 'pairwise') {\n"
    "      var p = el('div', undefined, 'pair');\n"
    "      p.appendChild(block('Output A', it.output_a));\n"
    "      p.appendChild(block('Output B', it.output_b));\n"
    "      box.appendChild(p);\n"
    "      box.appendChild(el('p', 'Which output is better? (tie: neither)'));\n"
    "    } else {\n"
    "      box.appendChild(block('Output', it.output));\n"
    "      box.appendChild(el('p', 'Score the output from ' + it.scale[0] + ' (worst) to ' +\n"
    "                          it.scale[1] + ' (best).'));\n"
    "    }\n"
    "    var form = el('div');\n"
    "    choices(it).forEach(function (c) {\n"
    "      var l = el('label'); var r = el('input');\n"
    "      r.type = 'radio'; r.name = 'r-' + it.item; r.value = c;\n"
    "      r.addEventListener('change', function () {\n"
    "        ratings[it.item] = c; box.classList.add('done'); update();\n"
    "      });\n"
    "      l.appendChild(r); l.appendChild(document.createTextNode(' ' + c));\n"
    "      form.appendChild(l);\n"
    "    });\n"
    "    box.appendChild(form);\n"
    "    list.appendChild(box);\n"
    "  });\n"
    "  function field(s) {\n"
    "    s = String(s);\n"
    "    return /[\",\\r\\n]/.test(s) ? '\"' + s.replace(/\"/g, '\"\"') + '\"' : s;\n"
    "  }\n"
    "  document.getElementById('download').addEventListener('click', function () {\n"
    "    var rater = document.getElementById('rater').value.trim();\n"
    "    var msg = document.getElementById('msg');\n"
    "    if (!rater) { msg.textContent = 'Enter your name first.'; return; }\n"
    "    var lines = ['item,rating,rater'];\n"
    "    items.forEach(function (it) {\n"
    "      if (ratings[it.item] !== undefined)\n"
    "        lines.push([it.item, ratings[it.item], rater].map(field).join(','));\n"
    "    });\n"
    "    var blob = new Blob([lines.join('\\r\\n') + '\\r\\n'], {type: 'text/csv'});\n"
    "    var a = document.createElement('a');\n"
    "    a.href = URL.createObjectURL(blob);\n"
    "    a.download = 'ratings-' + rater.replace(/[^A-Za-z0-9_.-]/g, '_') + '.csv';\n"
    "    document.body.appendChild(a); a.click(); a.remove();\n"
    "    msg.textContent = 'Downloaded ' + (lines.length - 1) + ' rating(s).';\n"
    "  });\n"
    "  update();\n"
    "})();\n";

/* Standard base64 of data[0..n). */
static void base64(struct fe_buf *b, const unsigned char *d, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        fe_buf_addch(b, t[v >> 18 & 63]);
        fe_buf_addch(b, t[v >> 12 & 63]);
        fe_buf_addch(b, i + 1 < n ? t[v >> 6 & 63] : '=');
        fe_buf_addch(b, i + 2 < n ? t[v & 63] : '=');
    }
}

/* 'sha256-<base64>' of s, as a CSP source. */
static void csp_hash(struct fe_buf *b, const char *s)
{
    char hex[65];
    unsigned char raw[32];
    fe_sha256_hex(s, strlen(s), hex);
    for (size_t i = 0; i < 32; i++) {
        unsigned hi = (unsigned)(strchr("0123456789abcdef", hex[2 * i]) - "0123456789abcdef");
        unsigned lo = (unsigned)(strchr("0123456789abcdef", hex[2 * i + 1]) - "0123456789abcdef");
        raw[i] = (unsigned char)(hi << 4 | lo);
    }
    fe_buf_adds(b, "'sha256-");
    base64(b, raw, sizeof(raw));
    fe_buf_addch(b, '\'');
}

char *fe_rate_page(const cJSON *items, size_t *len)
{
    struct fe_buf b = {0};
    fe_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "script-src ");
    csp_hash(&b, script);
    fe_buf_adds(&b, "; style-src ");
    csp_hash(&b, style);
    fe_buf_adds(&b, "; connect-src 'none'; form-action 'none'; base-uri 'none'\">\n"
                    "<title>Rating set</title>\n<style>");
    fe_buf_adds(&b, style);
    fe_buf_addf(&b, "</style>\n</head>\n<body>\n<header><h1>Rating set: %d item(s)</h1>\n"
                    "<label>Your name <input id=\"rater\" autocomplete=\"off\"></label>\n"
                    "<button id=\"download\" type=\"button\">Download ratings (CSV)</button>\n"
                    "<span id=\"count\"></span> <span id=\"msg\" role=\"status\"></span>\n"
                    "<p>The outputs come from systems you are not told about, in a random order. "
                    "Rate each item on its own merits; leave an item unrated if you cannot "
                    "judge it.</p></header>\n<main id=\"list\"></main>\n",
                cJSON_GetArraySize(items));
    /* the data block: JSON with every '<' escaped, so no text can close the element */
    char *json = cJSON_PrintUnformatted(items);
    fe_buf_adds(&b, "<script type=\"application/json\" id=\"items\">");
    for (const char *p = json; *p; p++) {
        if (*p == '<')
            fe_buf_adds(&b, "\\u003c");
        else
            fe_buf_addch(&b, *p);
    }
    free(json);
    fe_buf_adds(&b, "</script>\n<script>");
    fe_buf_adds(&b, script);
    fe_buf_adds(&b, "</script>\n</body>\n</html>\n");
    return fe_buf_detach(&b, len);
}
