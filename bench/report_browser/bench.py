#!/usr/bin/env python3
"""bench/report_browser/bench.py — size and open time of report.html's example browser at scale.

Generates a run of N examples x 3 arms (tests/fixtures/report/make_examples.py: classification,
inputs padded to --input-bytes), optionally with free-text outputs (--free-text: every output a
distinct ~200-byte answer, so nothing deduplicates), runs `fteval report` (timed), and opens the
page in headless Chromium through open.js (median of --repeats opens). Prints one Markdown row.

usage: bench.py FTEVAL WORK_DIR [--n 50000] [--input-bytes 400] [--free-text] [--repeats 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures", "report"))
import make_examples  # noqa: E402


def free_text(run):
    """Rewrites every prediction as a distinct ~200-byte answer (scores unchanged)."""
    for arm, _, _ in make_examples.ARMS:
        path = os.path.join(run, arm + ".jsonl")
        lines = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["status"] == "ok":
                    r["prediction"] = ("%s: the customer asks about %s; answer %s with the "
                                       "order details, the refund window and the next step. " %
                                       (arm, r["gold"], r["id"])) * 2
                lines.append(json.dumps(r, ensure_ascii=False))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fteval")
    ap.add_argument("work")
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--input-bytes", type=int, default=400)
    ap.add_argument("--free-text", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    run = os.path.join(a.work, "run-%d%s" % (a.n, "-free" if a.free_text else ""))
    shutil.rmtree(run, ignore_errors=True)
    make_examples.write(run, a.n, input_bytes=a.input_bytes)
    if a.free_text:
        free_text(run)
    records = sum(os.path.getsize(os.path.join(run, x + ".jsonl")) for x, _, _ in make_examples.ARMS)
    t = time.monotonic()
    subprocess.run([a.fteval, "report", run], check=True, capture_output=True)
    report_s = time.monotonic() - t
    html = os.path.join(run, "report.html")
    size = os.path.getsize(html)
    text = open(html, encoding="utf-8").read()
    start = text.index('<script type="application/json" class="eb-data">')
    blob = len(text[start:text.index("</script>", start)].encode("utf-8"))
    p = subprocess.run(["node", os.path.join(HERE, "open.js"), html, str(a.repeats)],
                       check=True, capture_output=True, timeout=1800)
    runs = json.loads(p.stdout)
    med = {k: statistics.median(r[k] for r in runs) for k in
           ("wall_ready_ms", "load_ms", "filter_ms", "search_first_ms", "search_next_ms",
            "next_page_ms", "heap_mb")}
    errors = sorted({e for r in runs for e in r["errors"]})
    print(json.dumps({"n": a.n, "arms": 3, "free_text": a.free_text, "records_mb": records / 1e6,
                      "report_mb": size / 1e6, "json_mb": blob / 1e6, "fteval_report_s": report_s,
                      "median": med, "rows": runs[0]["rows"], "status": runs[0]["status"],
                      "errors": errors}, indent=1))
    print("| %d x 3%s | %.1f MB | %.1f MB | %.1f MB | %.1f s | %.0f ms | %.0f ms | %.0f ms | "
          "%.0f ms | %.0f MB |" % (
              a.n, " free text" if a.free_text else " labels", records / 1e6, size / 1e6,
              blob / 1e6, report_s, med["wall_ready_ms"], med["filter_ms"],
              med["search_first_ms"], med["search_next_ms"], med["heap_mb"]))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
