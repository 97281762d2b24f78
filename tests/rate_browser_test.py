#!/usr/bin/env python3
"""rate_browser_test.py — rate.html in real headless Chromium (puppeteer-core, Debian's
/usr/bin/chromium; tests/browser/rate_page.js): a rater rates three items of a pairwise and of a
rubric rating set, downloads the CSV (download folder set through the DevTools protocol),
`fteval rate import` reads the file, and the ratings are in human.jsonl and summary.json —
unblinded to the right arm and outcome. No console error, page error, failed request or
Content-Security-Policy violation. Skips (77) only outside CI when node, Chromium or
tests/browser/node_modules is missing."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
import judged_run  # noqa: E402
from skip import skip_or_fail  # noqa: E402

BROWSER = os.path.join(fte.SRC, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which("node"):
    skip_or_fail("node")
if not os.path.exists(CHROMIUM):
    skip_or_fail(CHROMIUM)
if not os.path.isdir(os.path.join(BROWSER, "node_modules", "puppeteer-core")):
    skip_or_fail("tests/browser/node_modules (PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/browser)")

t = fte.Checks()
d = fte.tmpdir()
R = judged_run.make(d, n=30)
run = R["out"]
recs = {a: {r["id"]: r for r in fte.read_jsonl(os.path.join(run, a + ".jsonl"))} for a in R["arms"]}


def rate(judge, rater):
    out = os.path.join(d, "set_" + judge)
    p = fte.run("rate", "export", run, "--judge", judge, "--n", "8", "--seed", "2", "--out", out)
    t(p.returncode == 0, f"export {judge}: {p.stderr}")
    dl = os.path.join(d, "dl_" + judge)
    os.makedirs(dl)
    p = subprocess.run(["node", os.path.join(BROWSER, "rate_page.js"),
                        os.path.join(out, "rate.html"), dl, rater],
                       capture_output=True, text=True, timeout=120)
    t(p.returncode == 0, f"browser run: {p.returncode} {p.stderr[-2000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    t(res["errors"] == [], f"no console/page/CSP errors: {res['errors']}")
    t(res["refused"] == "Enter your name first.", f"no download without a name: {res['refused']}")
    t(res["count"] == f"3 of {res['items']} rated" and res["done"] == 3, f"progress: {res}")
    t(res["msg"] == "Downloaded 3 rating(s).", f"status: {res['msg']}")
    text = open(res["file"], encoding="utf-8", newline="").read()
    want = "item,rating,rater\r\n" + "".join(f"{p['item']},{p['rating']},{rater}\r\n"
                                             for p in res["picks"])
    t(text == want, f"downloaded CSV:\n{text!r}\nwant\n{want!r}")
    p = fte.run("rate", "import", run, res["file"])
    t(p.returncode == 0 and "imported 3 rating(s)" in p.stdout, f"import: {p.stdout} {p.stderr}")
    return res["picks"], json.load(open(os.path.join(run, "rate", judge + ".key.json")))


picks_p, key_p = rate("pref", "rater one")
picks_q, key_q = rate("quality", "rater one")
human = fte.read_jsonl(os.path.join(run, "human.jsonl"))
t(len(human) == 6, f"six ratings in human.jsonl: {len(human)}")
by_item = {h["item"]: h for h in human}
for p in picks_p:
    h, k = by_item[p["item"]], key_p["items"][p["item"]]
    winner = None if p["rating"] == "tie" else (k["a"] if p["rating"] == "A" else
                                               ("base_arm" if k["a"] == "tuned_arm" else "tuned_arm"))
    want = "tie" if not winner else ("win" if winner == "tuned_arm" else "loss")
    t(h["outcome"] == want and h["rater"] == "rater one", f"pairwise rating unblinded: {h}")
for p in picks_q:
    h, k = by_item[p["item"]], key_q["items"][p["item"]]
    t(h["score"] == int(p["rating"]) and h["arm"] == k["arm"], f"rubric rating unblinded: {h}")
s = json.load(open(os.path.join(run, "summary.json")))
hb = s["human"]["judges"]
t(hb["pref"]["n_ratings"] == 3 and hb["quality"]["n_ratings"] == 3, "ratings in summary.json")
wins = [{"win": 1, "tie": 0.5, "loss": 0}[by_item[p["item"]]["outcome"]] for p in picks_p]
t(abs(hb["pref"]["arms"]["tuned_arm"]["win_rate"] - sum(wins) / 3) < 1e-12,
  "summary's human win rate is the three ratings'")
t(hb["pref"]["judge_agreement"]["n"] == 3, "judge-human agreement over the three ratings")
t.done()
