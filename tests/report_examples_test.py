#!/usr/bin/env python3
"""report_examples_test.py — the example browser of report.html and compare.html in real headless
Chromium (puppeteer-core through tests/browser/browser.js, driven by
tests/browser/report_examples.js).

On a run with known outcomes (tests/fixtures/report/make_examples.py: 137 classification examples,
three arms, hostile inputs and outputs, one failed call, one missing record) the test computes
every expected id list itself from the records (right = primary score >= 0.5 and a record) and
checks what the page shows:
  - the page keeps the script rule (one inline script, its sha256 in the CSP: tests/lib/htmlpage.py);
  - paging: 50 + 50 + 37 rows, in dataset order, the pager's last label "page 3 of 3";
  - each filter click (fixed, broke, all wrong, errors), searches, the slice and class selects and
    their combinations show exactly the expected ids;
  - the JSON the page parsed equals the records string for string (hostile ones included), and
    the first page's cells show them as text;
  - no console error, page error or CSP violation — and a canary proves the check sees each kind;
  - a screenshot is kept: $FTEVAL_BUILD/report_browser/examples.png (path printed);
  - compare.html (`fteval compare RUN --a prompted --b finetuned`) opens on exactly the broke ids
    and its fixed filter shows exactly the fixed ids; compare.json's lists carry the inputs.
Skips (77) outside CI when Chromium or puppeteer-core is missing; under CI=true that fails.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(HERE, "fixtures", "report"))
from skip import skip_or_fail  # noqa: E402
from htmlpage import page_problems  # noqa: E402
import make_examples  # noqa: E402

SRC = os.environ.get("FTEVAL_SRC", os.path.join(HERE, ".."))
BUILD = os.environ.get("FTEVAL_BUILD", ".")
FTEVAL = os.environ.get("FTEVAL", os.path.join(BUILD, "fteval"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DRIVER = os.path.join(SRC, "tests", "browser", "report_examples.js")
N = 137
FAILS = []


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        FAILS.append(msg)
    return cond


def same(name, got, want):
    return check(got == want, "%s: got %s, want %s" % (name, got, want))


def drive(page, plan, tmp):
    pf = os.path.join(tmp, "plan.json")
    with open(pf, "w") as f:
        json.dump(plan, f)
    p = subprocess.run(["node", DRIVER, page, pf], capture_output=True, timeout=300)
    if p.returncode != 0:
        check(False, "driver failed on %s: %s" % (page, p.stderr.decode()[-2000:]))
        return None
    return json.loads(p.stdout.decode("utf-8"))


def col(c):
    if c is None or isinstance(c, list):
        return c
    return [None if k < 0 else c["t"][k] for k in c["i"]]


class Expect:
    """Every expected id list, from the records alone."""

    def __init__(self, recs):
        self.arms = [a for a, _, _ in make_examples.ARMS]
        self.by = {a: {r["id"]: r for r in recs[a]} for a in self.arms}
        self.ids = ["ex-%04d" % i for i in range(N)]
        self.first = {}
        for i in self.ids:  # the record that speaks for the example: candidate, baseline, any
            for a in ("finetuned", "prompted", "base"):
                if i in self.by[a]:
                    self.first[i] = self.by[a][i]
                    break

    def right(self, arm, i):
        r = self.by[arm].get(i)
        return r is not None and r["scores"]["exact_match"] >= 0.5

    def where(self, f):
        return [i for i in self.ids if f(i)]

    def hay(self, i):
        parts = [i, self.first[i]["input"], self.first[i]["gold"]]
        parts += [self.by[a][i]["prediction"] if i in self.by[a] else "" for a in self.arms]
        return "\n".join(parts).lower()

    def search(self, q, ids=None):
        return [i for i in (ids or self.ids) if q.lower() in self.hay(i)]


def check_report(recs, e, run, out, tmp):
    html = os.path.join(run, "report.html")
    for p in page_problems(open(html, encoding="utf-8").read()):
        check(False, "report.html: " + p)
    fixed = e.where(lambda i: not e.right("prompted", i) and e.right("finetuned", i))
    broke = e.where(lambda i: e.right("prompted", i) and not e.right("finetuned", i))
    wrong = e.where(lambda i: not any(e.right(a, i) for a in e.arms))
    errors = e.where(lambda i: any(i not in e.by[a] or e.by[a][i]["status"] != "ok" for a in e.arms))
    long_ = e.where(lambda i: e.first[i]["slice"] == "long")
    cancel = e.where(lambda i: e.first[i]["gold"] == "cancel")
    print("expected: fixed %d, broke %d, all wrong %d, errors %d" %
          (len(fixed), len(broke), len(wrong), len(errors)))
    check(len(fixed) > 50 or len(fixed) > 5, "fixture has too few fixed examples")
    same("errors", errors, ["ex-0006", "ex-0009"])
    want = {
        "fixed": fixed, "broke": broke, "wrong": wrong, "errors": errors,
        "search_cafe": e.search("Caf\u00c9"),
        "search_script": e.search("</script>"),
        "fixed_refund": e.search("refund", fixed),
        "slice_long": long_,
        "class_cancel": cancel,
        "slice_class": [i for i in long_ if i in cancel],
        "nothing": [],
    }
    check(0 < len(want["search_script"]) < N and 0 < len(want["search_cafe"]) < N,
          "fixture searches must select some, not all")
    plan = {"section": "#examples-browser",
            "screenshot": os.path.join(out, "examples.png"),
            "steps": [{"name": "fixed", "filter": "fixed"}, {"name": "broke", "filter": "broke"},
                      {"name": "wrong", "filter": "wrong"}, {"name": "errors", "filter": "errors"},
                      {"name": "search_cafe", "filter": "all", "search": "Caf\u00c9"},
                      {"name": "search_script", "search": "</script>"},
                      {"name": "fixed_refund", "filter": "fixed", "search": "refund"},
                      {"name": "slice_long", "filter": "all", "search": "", "slice": "long"},
                      {"name": "class_cancel", "slice": "", "cls": "cancel"},
                      {"name": "slice_class", "slice": "long"},
                      {"name": "nothing", "search": "no such text anywhere"}]}
    got = drive(html, plan, tmp)
    if got is None:
        return
    same("console/page errors of report.html", got["errors"], [])
    # paging: every example once, in dataset order, 50 per page
    same("initial pages", got["initial"]["pages"], [50, 50, 37])
    same("initial ids over all pages", got["initial"]["ids"], e.ids)
    same("pager label on the last page", got["initial"]["last_label"], "page 3 of 3")
    same("filter buttons", got["buttons"],
         [["all", "All (%d)" % N], ["fixed", "Fixed (%d)" % len(fixed)],
          ["broke", "Broke (%d)" % len(broke)], ["wrong", "All wrong (%d)" % len(wrong)],
          ["errors", "Errors (%d)" % len(errors)]])
    for name, ids in want.items():
        same("step %s" % name, got["steps"][name]["ids"], ids)
    same("empty result status", got["steps"]["nothing"]["status"], "No example matches (137 in all)")
    # the data as the page parsed it: every string exactly as recorded
    d = got["data"]
    same("data ids", d["ids"], e.ids)
    same("data arms", d["arms"], e.arms)
    same("data input", col(d["input"]), [e.first[i]["input"] for i in e.ids])
    same("data gold", col(d["gold"]), [e.first[i]["gold"] for i in e.ids])
    same("data slice", col(d["slice"]), [e.first[i]["slice"] for i in e.ids])
    same("data cut", d["cut"], [12])
    check(isinstance(d["gold"], dict), "gold labels should be deduplicated (table + indexes)")
    for k, a in enumerate(e.arms):
        same("data out[%s]" % a, col(d["out"][k]),
             [e.by[a][i]["prediction"] if i in e.by[a] else None for i in e.ids])
        same("data score[%s]" % a, d["score"][k],
             [e.by[a][i]["scores"]["exact_match"] if i in e.by[a] else None for i in e.ids])
    hostile = set(make_examples.HOSTILE)
    seen = {s for s in col(d["out"][2]) if s in hostile} | {
        s for t in col(d["input"]) for s in hostile if s in t}
    check(len(seen) == len(hostile), "not every hostile string reached the page: %s" %
          (hostile - seen))
    # the first page's cells, as rendered text
    cells = []
    for i in e.ids[:50]:
        row = [i, e.first[i]["input"], e.first[i]["gold"]]
        for a in e.arms:
            r = e.by[a].get(i)
            row.append("(no record)" if r is None else "(error: %s)" % r["error"]["kind"]
                       if r["status"] != "ok" else r["prediction"] or "(empty)")
        cells.append(row)
    same("first page cells", got["cells"], cells)
    png = os.path.join(out, "examples.png")
    if check(os.path.isfile(png), "no screenshot"):
        check(open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(png) > 20000,
              "screenshot is not a painted PNG")
        print("screenshot:", png)


def check_compare(e, run, tmp):
    p = subprocess.run([FTEVAL, "compare", run, "--a", "prompted", "--b", "finetuned", "--quiet",
                        "--resamples", "200"], capture_output=True, timeout=300)
    check(p.returncode in (0, 1), "compare failed: %s" % p.stderr.decode()[-500:])
    page = os.path.join(run, "compare.html")
    if not check(os.path.isfile(page), "no compare.html beside compare.json"):
        return
    for prob in page_problems(open(page, encoding="utf-8").read()):
        check(False, "compare.html: " + prob)
    fixed = e.where(lambda i: not e.right("prompted", i) and e.right("finetuned", i))
    broke = e.where(lambda i: e.right("prompted", i) and not e.right("finetuned", i))
    res = json.load(open(os.path.join(run, "compare.json")))
    arm = res["arms"][0]
    same("compare.json broke", sorted(x["id"] for x in arm["broke"]["examples"]), broke)
    same("compare.json fixed", sorted(x["id"] for x in arm["fixed"]["examples"]), fixed)
    same("compare.json inputs",
         [x.get("input") for x in arm["broke"]["examples"] + arm["fixed"]["examples"]],
         [e.first[x["id"]]["input"] for x in arm["broke"]["examples"] + arm["fixed"]["examples"]])
    got = drive(page, {"section": "#compare-0", "screenshot": None,
                       "steps": [{"name": "fixed", "filter": "fixed"},
                                 {"name": "broke", "filter": "broke"}]}, tmp)
    if got is None:
        return
    same("console/page errors of compare.html", got["errors"], [])
    errs = [i for i in fixed + broke
            if any(i not in e.by[a] or e.by[a][i]["status"] != "ok" for a in ("prompted", "finetuned"))]
    check(len(errs) == 1, "fixture: one changed example should have a failed call")
    same("compare.html buttons (no 'all wrong': each example is right in one arm)",
         got["buttons"], [["all", "All (%d)" % (len(fixed) + len(broke))],
                          ["fixed", "Fixed (%d)" % len(fixed)], ["broke", "Broke (%d)" % len(broke)],
                          ["errors", "Errors (%d)" % len(errs)]])
    same("compare.html arms", got["data"]["arms"], ["prompted", "finetuned"])
    same("compare.html opens on broke", sorted(got["initial"]["ids"]), broke)
    same("compare.html fixed", sorted(got["steps"]["fixed"]["ids"]), fixed)
    same("compare.html broke", sorted(got["steps"]["broke"]["ids"]), broke)
    same("compare.html inputs", col(got["data"]["input"]),
         [e.first[i]["input"] for i in got["data"]["ids"]])


def check_canary(tmp):
    p = subprocess.run(["node", DRIVER, "--canary", tmp], capture_output=True, timeout=120)
    if not check(p.returncode == 0, "canary driver failed: %s" % p.stderr.decode()[-1000:]):
        return
    c = json.loads(p.stdout)
    check("console: canary-console" in c["console_page"], "canary console.error not seen: %s" % c)
    check("pageerror: canary-throw" in c["console_page"], "canary exception not seen: %s" % c)
    check(any("Content Security Policy" in m for m in c["csp_page"]),
          "canary CSP violation not seen: %s" % c)


def main():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail("Chromium at %s (scripts/setup.sh --test)" % CHROMIUM)
    if not shutil.which("node") or not os.path.isdir(
            os.path.join(SRC, "tests", "browser", "node_modules", "puppeteer-core")):
        skip_or_fail("node and puppeteer-core (PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix "
                     "tests/browser --no-audit --no-fund)")
    out = os.path.join(os.path.abspath(BUILD), "report_browser")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "examples")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    run = os.path.join(tmp, "run")
    recs = make_examples.write(run, N)
    p = subprocess.run([FTEVAL, "report", run], capture_output=True, timeout=300)
    check(p.returncode == 0, "fteval report failed: %s" % p.stderr.decode())
    e = Expect(recs)
    check_canary(tmp)
    check_report(recs, e, run, out, tmp)
    check_compare(e, run, tmp)
    if FAILS:
        print("%d failure(s)" % len(FAILS))
        return 1
    print("report_examples_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
