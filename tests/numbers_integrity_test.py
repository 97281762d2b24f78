"""Issue 11 §7, "Numbers that mean what they say", end to end (offline: `score` and the replay
provider, no server):
  - per-arm ci: Wilson for 0/1 metrics (checked against statsmodels), clamped for bounded ones;
  - order independence: shuffled journals give a byte-identical summary.json;
  - offline arms (replay, score): latency null, never a verdict criterion; MDE "n/a" when undefined;
  - `score` reads numeric ids like the dataset reader (id 0.1 matches);
  - prompt-file hashes keyed by config-relative path (no false "changed" in compare);
  - history.jsonl only in results/<name>/, never in --out's parent;
  - a failed write to stdout (> /dev/full) exits non-zero.
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

try:
    from statsmodels.stats.proportion import proportion_confint
    from scipy import stats
except ImportError:  # Debian python3-statsmodels / python3-scipy
    if os.environ.get("CI"):
        sys.exit("FAIL: python3-statsmodels and python3-scipy are required under CI")
    print("skipped: python3-statsmodels or python3-scipy missing")
    sys.exit(77)

t = fte.Checks()
d = fte.tmpdir()
DET = 1e-9


def close(a, b, tol=DET):
    return a is not None and b is not None and abs(a - b) <= tol


def score(*args, cwd=None):
    return subprocess.run([fte.FTEVAL, "score", *args], capture_output=True, text=True, cwd=cwd)


# ---- 1. per-arm ci: Wilson for binary metrics, clamped for bounded ones ----------------------
small = os.path.join(d, "small.jsonl")
fte.write_jsonl(small, [{"id": f"s{i}", "input": f"q{i}", "gold": g}
                        for i, g in enumerate(["paris", "rome", "oslo"])])
pred_small = os.path.join(d, "small_pred.jsonl")
fte.write_jsonl(pred_small, [{"id": "s0", "prediction": "paris"}, {"id": "s1", "prediction": "rome"},
                             {"id": "s2", "prediction": "oslo city"}])
out = os.path.join(d, "small_run")
p = score("--dataset", small, "--pred", f"m={pred_small}", "--out", out)
t(p.returncode == 0, f"score small: exit {p.returncode}: {p.stderr}")
s = json.load(open(os.path.join(out, "summary.json")))
em = s["arms"]["m"]["metrics"]["exact_match"]
lo, hi = proportion_confint(2, 3, alpha=0.05, method="wilson")
t(close(em["ci"][0], lo) and close(em["ci"][1], hi),
  f"EM 2/3: ci is Wilson {lo:.6f}..{hi:.6f} (statsmodels), got {em['ci']}")
t(em["ci_method"] == "wilson" and 0 <= em["ci"][0] <= em["ci"][1] <= 1, "EM ci inside [0, 1]")
f1 = s["arms"]["m"]["metrics"]["f1"]
x = [1.0, 1.0, 2 * (1 / 2) * 1 / (1 / 2 + 1)]  # "oslo city" vs "oslo": P 1/2, R 1
z = stats.norm.ppf(0.975)
m, se = sum(x) / 3, stats.sem(x)
t(close(f1["mean"], m) and close(f1["se"], se), "F1 mean/se")
t(close(f1["ci"][0], max(0.0, m - z * se)) and close(f1["ci"][1], min(1.0, m + z * se)),
  f"F1 ci is the normal interval clamped to [0, 1]: got {f1['ci']}")
t(f1["ci"][1] <= 1.0 and f1["ci_normal"][1] > 1.0, "the unclamped interval would leave [0, 1]")
table = p.stdout
t("132.0" not in table and "[" in table, "arms table shows no CI beyond 100 %")

# ---- a dataset and two prediction sets for the replay / score runs ----------------------------
N = 400
rows = fte.plain_dataset(os.path.join(d, "data.jsonl"), N)
rng = random.Random(5)
words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def preds(acc, seed):
    g = random.Random(seed)
    out = []
    for r in rows:
        u = g.random()
        if u < acc:
            pr = r["gold"]
        elif u < acc + 0.15:
            pr = r["gold"] + " " + g.choice(words) + " " + g.choice(words)  # partial F1
        else:
            pr = g.choice(words)
        out.append({"id": r["id"], "prediction": pr})
    return out


fte.write_jsonl(os.path.join(d, "pred_base.jsonl"), preds(0.55, 1))
fte.write_jsonl(os.path.join(d, "pred_ft.jsonl"), preds(0.70, 2))
os.makedirs(os.path.join(d, "cfg", "prompts"))
with open(os.path.join(d, "cfg", "prompts", "sys.txt"), "w") as f:
    f.write("Answer with one word.")
cfg = {
    "name": "numbers",
    "dataset": "../data.jsonl",
    "task": {"template": "{input}", "metrics": ["exact_match", "f1"]},
    "providers": {"rb": {"type": "replay", "path": "../pred_base.jsonl"},
                  "rf": {"type": "replay", "path": "../pred_ft.jsonl"}},
    "arms": [{"name": "base", "provider": "rb", "model": "gpt-4o-mini-2024-07-18",
              "system": "@prompts/sys.txt"},
             {"name": "finetuned", "provider": "rf", "model": "ft:gpt-4o-mini-2024-07-18:acme::x1"}],
    "baseline_arm": "base",
    "stats": {"resamples": 2000, "seed": 3},
}
fte.write_json(os.path.join(d, "cfg", "c.json"), cfg)

# ---- 2. order independence: shuffled journals give byte-identical summary.json ----------------
run_a = os.path.join(d, "ordered")
p = subprocess.run([fte.FTEVAL, "run", "cfg/c.json", "--out", run_a, "--quiet"], capture_output=True,
                   text=True, cwd=d)
t(p.returncode == 0, f"replay run: exit {p.returncode}: {p.stderr}")
run_b = os.path.join(d, "shuffled")
shutil.copytree(run_a, run_b)
for arm in ("base", "finetuned"):
    path = os.path.join(run_b, arm + ".jsonl")
    lines = open(path).read().splitlines(keepends=True)
    rng.shuffle(lines)
    open(path, "w").writelines(lines)
t(open(os.path.join(run_a, "base.jsonl")).read() != open(os.path.join(run_b, "base.jsonl")).read(),
  "the journal really was shuffled")
for rd in (run_a, run_b):  # --resume on a finished run sends nothing and recomputes the summary
    p = subprocess.run([fte.FTEVAL, "run", "cfg/c.json", "--out", rd, "--resume", "--quiet"],
                       capture_output=True, text=True, cwd=d)
    t(p.returncode == 0, f"resume {os.path.basename(rd)}: exit {p.returncode}: {p.stderr}")
sa = open(os.path.join(run_a, "summary.json"), "rb").read()
sb = open(os.path.join(run_b, "summary.json"), "rb").read()
t(sa == sb, "shuffled journal: byte-identical summary.json (se, se_paired, p_ttest, mde, cost)")
if sa != sb:
    ja, jb = json.loads(sa), json.loads(sb)
    for ca, cb in zip(ja["comparisons"], jb["comparisons"]):
        for k in ("se_paired", "p_ttest", "mde", "ci"):
            if ca.get(k) != cb.get(k):
                print("  differs:", ca["metric"], k, ca.get(k), cb.get(k))

# ---- 3. offline arms: latency null, never a verdict criterion ---------------------------------
summ = json.loads(sa)
for arm in ("base", "finetuned"):
    recs = fte.read_jsonl(os.path.join(run_a, arm + ".jsonl"))
    t(all(r["latency_ms"] is None for r in recs), f"replay {arm}: every record has latency_ms null")
    lat = summ["arms"][arm]["latency_ms"]
    t(lat["p50"] is None and lat["mean"] is None, f"replay {arm}: summary latency is null, not 0 ms")
reasons = " ".join(summ["decision"]["reasons"])
t("latency" not in reasons, f"no latency criterion in the verdict: {reasons}")
t(summ["decision"].get("p50_latency_change") is None, "p50_latency_change null")
md = open(os.path.join(run_a, "report.md")).read()
t("-100" not in md and "−100" not in md, "report.md has no -100 % latency")

# score: same rule
out = os.path.join(d, "score_same")
p = score("--dataset", os.path.join(d, "data.jsonl"), "--pred", f"a={d}/pred_base.jsonl",
          "--pred", f"b={d}/pred_base.jsonl", "--out", out)
t(p.returncode == 0, f"score identical arms: exit {p.returncode}: {p.stderr}")
ss = json.load(open(os.path.join(out, "summary.json")))
recs = fte.read_jsonl(os.path.join(out, "a.jsonl"))
t(all(r["latency_ms"] is None for r in recs), "score records: latency_ms null")
t(ss["arms"]["b"]["latency_ms"]["p50"] is None, "score summary: latency null")
# identical arms: constant differences, MDE undefined -> null in JSON, "n/a" in md/html
c = [c for c in ss["comparisons"] if c["metric"] == "exact_match"][0]
t(c["mde"] is None and "mde_note" in c, f"MDE undefined for constant differences: {c.get('mde')}")
md = open(os.path.join(out, "report.md")).read()
row = [ln for ln in md.splitlines() if ln.startswith("| b vs a | exact\\_match")]
t(row and row[0].split("|")[6].strip() == "n/a", f"report.md MDE cell is n/a: {row}")
html = open(os.path.join(out, "report.html")).read()
t('<td class="num">n/a</td></tr>' in html, "report.html MDE cell is n/a")
t("MDE 0.0" not in md and "0.0 pts</td></tr>" not in html, "no 'MDE 0.0' anywhere")

# ---- 4. score reads numeric ids like the dataset reader ---------------------------------------
ids = os.path.join(d, "ids.jsonl")
fte.write_jsonl(ids, [{"id": 0.1, "input": "a", "gold": "x"}, {"id": 2, "input": "b", "gold": "y"},
                      {"id": 1e21, "input": "c", "gold": "z"}, {"id": "s", "input": "d", "gold": "w"}])
idp = os.path.join(d, "ids_pred.jsonl")
with open(idp, "w") as f:  # written by hand: exactly these number spellings
    f.write('{"id": 0.1, "prediction": "x"}\n{"id": 2, "prediction": "y"}\n'
            '{"id": 1e21, "prediction": "z"}\n{"id": "s", "prediction": "w"}\n')
out = os.path.join(d, "ids_run")
p = score("--dataset", ids, "--pred", f"m={idp}", "--out", out)
t(p.returncode == 0, f"score numeric ids: exit {p.returncode}: {p.stderr}")
recs = fte.read_jsonl(os.path.join(out, "m.jsonl"))
t(len(recs) == 4 and all(r["status"] == "ok" for r in recs),
  f"numeric ids 0.1, 2, 1e21 match the dataset's: {[(r['id'], r['status']) for r in recs]}")
t("no prediction" not in p.stderr and "not in" not in p.stderr, f"no unmatched warning: {p.stderr}")

# ---- 5. prompt-file hashes keyed by config-relative path --------------------------------------
run_c = os.path.join(d, "from_cfg_dir")
p = subprocess.run([fte.FTEVAL, "run", "c.json", "--out", run_c, "--quiet"], capture_output=True,
                   text=True, cwd=os.path.join(d, "cfg"))
t(p.returncode == 0, f"run from the config's folder: exit {p.returncode}: {p.stderr}")
ma = json.load(open(os.path.join(run_a, "manifest.json")))
mc = json.load(open(os.path.join(run_c, "manifest.json")))
t(list(ma["files_sha256"]) == ["prompts/sys.txt"] and ma["files_sha256"] == mc["files_sha256"],
  f"files_sha256 keyed by config-relative path: {ma['files_sha256']} / {mc['files_sha256']}")
cmp_out = os.path.join(d, "cmp")
p = subprocess.run([fte.FTEVAL, "compare", run_a, run_c, "--out", cmp_out], capture_output=True,
                   text=True)
t(p.returncode in (0, 1), f"compare: exit {p.returncode}: {p.stderr}")
cj = json.load(open(os.path.join(cmp_out, "compare.json")))
t(not [ch for ch in cj["changes"] if ch["field"].startswith("files_sha256")],
  f"compare reports no changed prompt file: {cj['changes']}")

# ---- 6. history.jsonl lives in results/<name>/, never in --out's parent -----------------------
os.makedirs(os.path.join(d, "elsewhere"))
p = subprocess.run([fte.FTEVAL, "run", "cfg/c.json", "--out", "elsewhere/r1", "--quiet"],
                   capture_output=True, text=True, cwd=d)
t(p.returncode == 0, f"run --out elsewhere: exit {p.returncode}: {p.stderr}")
t(not os.path.exists(os.path.join(d, "elsewhere", "history.jsonl")),
  "no history.jsonl in --out's parent (elsewhere/)")
t(not os.path.exists(os.path.join(d, "history.jsonl")), "no history.jsonl in the working directory")
p = subprocess.run([fte.FTEVAL, "run", "cfg/c.json", "--out", "results/numbers/r2", "--quiet"],
                   capture_output=True, text=True, cwd=d)
t(p.returncode == 0, f"run --out results/numbers/r2: exit {p.returncode}: {p.stderr}")
p = subprocess.run([fte.FTEVAL, "run", "cfg/c.json", "--quiet"], capture_output=True, text=True, cwd=d)
t(p.returncode == 0, f"run to the default folder: exit {p.returncode}: {p.stderr}")
hist = os.path.join(d, "results", "numbers", "history.jsonl")
t(os.path.exists(hist) and len(fte.read_jsonl(hist)) == 2,
  "both runs under results/numbers/ recorded in results/numbers/history.jsonl")
p = subprocess.run([fte.FTEVAL, "history", "--append", "elsewhere/r1"], capture_output=True,
                   text=True, cwd=d)
t(p.returncode == 3 and "results/numbers" in p.stderr and
  not os.path.exists(os.path.join(d, "elsewhere", "history.jsonl")),
  f"history --append of a run outside results/<name>/ is refused: {p.returncode} {p.stderr}")

# ---- 7. a failed write to stdout exits non-zero -----------------------------------------------
full = open("/dev/full", "w")
for args in (["--version"], ["help"], ["help", "run"], ["history", "numbers", "--json"],
             ["score", "--dataset", small, "--pred", f"m={pred_small}", "--out",
              os.path.join(d, "full_run")]):
    p = subprocess.run([fte.FTEVAL, *args], stdout=full, stderr=subprocess.PIPE, text=True, cwd=d)
    t(p.returncode == 4 and "standard output" in p.stderr,
      f"fteval {' '.join(args[:2])} > /dev/full: exit {p.returncode} (want 4): {p.stderr.strip()}")
full.close()

t.done()
