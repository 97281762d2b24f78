#!/usr/bin/env python3
"""report_browser_test.py — opens report.html in headless Chromium, from disk, and checks that
it really renders: no console errors (including Content-Security-Policy violations), the three
SVG charts have non-zero size and visible shapes, and the arm colours are painted on screen.
The page has exactly one inline script, the example browser's, and the CSP allows exactly that
script by its sha256 (checked with hashlib by tests/lib/htmlpage.py, and in Chromium: a wrong
hash would block the script and log a CSP violation). The browser's behaviour is
tests/report_examples_test.py's.

Three Chromium runs, each bounded by a timeout:
  1. a canary page with a console error proves the console check can see errors at all;
  2. report.html itself: --screenshot (saved as $FTEVAL_BUILD/report_browser/report.png) with
     console logging on stderr; the PNG is decoded (zlib, no PIL) and the chart colours counted;
  3. a test-only copy of report.html without the CSP and with an injected script that writes the
     charts' measured sizes into the DOM, read back with --dump-dom. The report's own script (the
     example browser) runs in that copy too and must not disturb the charts.
Skips (77) only when Chromium is missing and $CI is unset; in CI a missing browser fails.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)
from htmlpage import page_problems  # noqa: E402  (one script, allowed by its hash in the CSP)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SRC = os.environ.get("FTEVAL_SRC", os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("FTEVAL_BUILD", ".")
FTEVAL = os.environ.get("FTEVAL", os.path.join(BUILD, "fteval"))
TIMEOUT = 90
FAILS = []


def fail(msg):
    print("FAIL:", msg)
    FAILS.append(msg)


def chromium(args, profile):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"] + args
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        fail("chromium timed out: " + " ".join(args[-2:]))
        return "", ""
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l
            or "Content Security Policy" in l or "Refused to" in l]


def read_png(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG; returns (w, h, channels, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            ch = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


PROBE = """
<pre id="fteval-probe"></pre>
<script>
(function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var r = svg.getBoundingClientRect(), shapes = 0;
    svg.querySelectorAll('rect:not(.frame),circle,path,line').forEach(function (e) {
      var b = e.getBBox(), c = e.getBoundingClientRect();
      if ((b.width > 0 || b.height > 0) && (c.width > 0 || c.height > 0)) shapes++;
    });
    out.push({id: svg.id, width: r.width, height: r.height, shapes: shapes,
              texts: svg.querySelectorAll('text').length});
  });
  document.getElementById('fteval-probe').textContent = 'PROBE' + JSON.stringify(out) + 'EBORP';
})();
</script>
"""


def main():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail("Chromium at %s (scripts/setup.sh --test)" % CHROMIUM)
    out = os.path.join(os.path.abspath(BUILD), "report_browser")
    os.makedirs(out, exist_ok=True)  # shared with report_examples_test: remove only our files
    run = os.path.join(out, "run")
    shutil.rmtree(run, ignore_errors=True)
    if os.path.exists(os.path.join(out, "report.png")):
        os.remove(os.path.join(out, "report.png"))
    subprocess.run([sys.executable, os.path.join(SRC, "tests/fixtures/report/make_run.py"), run,
                    "--scenario", "full", "--n", "400"], check=True, timeout=TIMEOUT)
    subprocess.run([FTEVAL, "report", run], check=True, timeout=TIMEOUT, capture_output=True)
    html = os.path.join(run, "report.html")
    text = open(html, encoding="utf-8").read()
    for p in page_problems(text):
        fail("report.html: " + p)

    with tempfile.TemporaryDirectory() as tmp:
        # 1. the console check can see a console error
        canary = os.path.join(tmp, "canary.html")
        with open(canary, "w") as f:
            f.write("<!DOCTYPE html><body><script>console.error('canary')</script></body>")
        _, err = chromium(["--dump-dom", "file://" + canary], os.path.join(tmp, "p0"))
        if not any("canary" in l for l in console_lines(err)):
            fail("console check is blind: the canary's console.error was not seen")

        # 2. the report itself: console clean, screenshot painted
        png = os.path.join(out, "report.png")
        _, err = chromium(["--window-size=1200,3400", "--screenshot=" + png, "file://" + html],
                          os.path.join(tmp, "p1"))
        for l in console_lines(err):
            fail("console message from report.html: " + l)
        if not os.path.isfile(png):
            fail("no screenshot written")
        else:
            w, h, ch, rows = read_png(png)
            colours = {"#4269d0": (0x42, 0x69, 0xd0), "#efb118": (0xef, 0xb1, 0x18),
                       "#ff725c": (0xff, 0x72, 0x5c)}
            counts = dict.fromkeys(colours, 0)
            non_white = 0
            for row in rows:
                for x in range(0, w * ch, ch):
                    r, g, b = row[x], row[x + 1], row[x + 2]
                    if r < 245 or g < 245 or b < 245:
                        non_white += 1
                    for name, (cr, cg, cb) in colours.items():
                        # bars are opaque; boxes are 75% over white: accept both
                        if (abs(r - cr) < 12 and abs(g - cg) < 12 and abs(b - cb) < 12) or (
                                abs(r - (cr * 3 + 255) // 4) < 12 and abs(g - (cg * 3 + 255) // 4) < 12
                                and abs(b - (cb * 3 + 255) // 4) < 12):
                            counts[name] += 1
            print("screenshot %dx%d, %.1f%% non-white, arm colour pixels %s" %
                  (w, h, 100.0 * non_white / (w * h), counts))
            if non_white < 0.03 * w * h:
                fail("screenshot is nearly blank")
            for name, n in counts.items():
                if n < 300:
                    fail("arm colour %s barely painted (%d pixels): charts not rendered" % (name, n))

        # 3. measured chart geometry, from a test-only copy with a probe script
        probe_html = os.path.join(tmp, "probe.html")
        patched = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
        patched = patched.replace("</body>", PROBE + "</body>")
        with open(probe_html, "w", encoding="utf-8") as f:
            f.write(patched)
        dom, err = chromium(["--window-size=1200,3400", "--virtual-time-budget=5000",
                             "--dump-dom", "file://" + probe_html], os.path.join(tmp, "p2"))
        for l in console_lines(err):
            fail("console message from the probe copy: " + l)
        m = re.search(r"PROBE(.*?)EBORP", dom, re.S)
        if not m:
            fail("probe output missing from the DOM")
        else:
            charts = json.loads(m.group(1).replace("&quot;", '"'))
            print("charts:", charts)
            ids = sorted(c["id"] for c in charts)
            if ids != ["chart-cost", "chart-latency", "chart-quality", "chart-trend"]:
                fail("unexpected charts: %s" % ids)
            for c in charts:
                if not (c["width"] > 100 and c["height"] > 50):
                    fail("%s has no size: %s" % (c["id"], c))
                # the fixture run has no history.jsonl: its trend chart shows only its message
                if c["id"] != "chart-trend" and (c["shapes"] < 3 or c["texts"] < 3):
                    fail("%s draws too little: %s" % (c["id"], c))
    print("screenshot:", os.path.join(out, "report.png"))
    if FAILS:
        return 1
    print("report_browser_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
