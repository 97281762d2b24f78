"""Shards and merge (issue 14, docs/shards.md): `fteval run --shard auto/4` four times (three with
JOB_COMPLETION_INDEX, one with SLURM_ARRAY_TASK_ID) against `fteval sim`, then `fteval merge`,
gives the unsharded run's summary.json byte for byte (volatile fields masked), 600 examples x 2
arms. Each shard holds exactly the ids whose FNV-1a 64 (written here from its published
definition) mod 4 is its index, and its own summary claims no verdict. Each refusal of merge
exits 3 with its reason and writes nothing; --shard parsing errors exit 2."""
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N_EX, N_SHARDS = 600, 4


def fnv1a64(s):
    h = 0xcbf29ce484222325  # FNV-1a 64: offset basis, then per byte xor and multiply by the prime
    for byte in s.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001b3) % (1 << 64)
    return h


# the published FNV-1a 64 test vectors (Fowler/Noll/Vo), so the reference itself is right
t(fnv1a64("") == 0xcbf29ce484222325 and fnv1a64("a") == 0xaf63dc4c8601ec8c
  and fnv1a64("foobar") == 0x85944171f73967e8, "FNV-1a 64 reference matches the published vectors")

data = os.path.join(d, "data.jsonl")
rows = fte.plain_dataset(data, N_EX)
ids = [r["id"] for r in rows]
shard_of = {i: fnv1a64(i) % N_SHARDS for i in ids}
profile = os.path.join(d, "profile.json")
# b is far faster than a, so the decision's "faster by 5%" test (which reads measured latencies,
# the one thing that differs between two runs) comes out the same in every run
fte.write_json(profile, {"rules": [{"name": "a", "model": "m-a", "accuracy": 0.55, "latency_ms": 25},
                                   {"name": "b", "model": "m-b", "accuracy": 0.7, "latency_ms": 1}]})
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "5")
arms = [{"name": "a", "provider": "sim", "model": "m-a"}, {"name": "b", "provider": "sim", "model": "m-b"}]
prices = {"currency": "USD", "unit": "per_1m_tokens",
          "models": {"m-a": {"input": 0.15, "output": 0.6, "source": "test", "as_of": "2026-11-30"},
                     "m-b": {"input": 0.3, "output": 1.2, "source": "test", "as_of": "2026-11-30"}}}
common = dict(prices=prices, baseline_arm="a", candidate_arm="b", stats={"resamples": 400, "seed": 11})
cfg = fte.config(os.path.join(d, "c.json"), data, sim.url, arms, **common)

BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID")}


def run(*args, env=None):
    """fteval without the shard variables of the caller's environment, plus env."""
    e = dict(BASE_ENV)
    e.update(env or {})
    import subprocess
    return subprocess.run([fte.FTEVAL, *args], capture_output=True, text=True, env=e, timeout=300)


VOLATILE = {"run_id", "started_at", "ended_at", "created_at", "timestamp", "duration_s", "elapsed_s", "wall_s",
            "dir", "path", "host"}


def masked(path):
    """summary.json with what legitimately differs between runs masked (tests/demo_golden_test.sh)."""
    def mask(node):
        if isinstance(node, dict):
            return {k: ("<masked>" if k in VOLATILE or "latency" in k else mask(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [mask(v) for v in node]
        if isinstance(node, str) and "latency" in node:
            return re.sub(r"[-+]?[0-9][0-9.]*", "<n>", node)
        return node
    with open(path) as f:
        return json.dumps(mask(json.load(f)), indent=1)


def same_summary(a, b, what):
    """The masked summaries of two run directories are equal (the diff is printed when not)."""
    ma, mb = masked(os.path.join(a, "summary.json")), masked(os.path.join(b, "summary.json"))
    if ma != mb:
        import difflib
        print("\n".join(list(difflib.unified_diff(ma.splitlines(), mb.splitlines(), a, b, lineterm=""))[:60]))
    t(ma == mb, what)


def load(path):
    with open(path) as f:
        return json.load(f)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l for l in f if l.strip()]


# ---- the unsharded reference -------------------------------------------------------------
ref = os.path.join(d, "ref")
p = run("run", cfg, "--out", ref, "--quiet")
t(p.returncode == 0, f"unsharded run: exit {p.returncode} {p.stderr}")
ref_sum = load(os.path.join(ref, "summary.json"))
t(ref_sum["status"] == "complete" and ref_sum["decision"]["verdict"] not in ("incomplete", "invalid"),
  f"the reference has a verdict: {ref_sum['status']} {ref_sum['decision']['verdict']}")

# ---- four shards: three from a Kubernetes Indexed Job, one from a Slurm array ----------------
shards = []
for i in range(N_SHARDS):
    out = os.path.join(d, f"s{i}")
    env = {"SLURM_ARRAY_TASK_ID": str(i)} if i == 2 else {"JOB_COMPLETION_INDEX": str(i)}
    p = run("run", cfg, "--shard", f"auto/{N_SHARDS}", "--out", out, "--quiet", env=env)
    t(p.returncode == 0, f"shard {i}: exit {p.returncode} {p.stderr}")
    shards.append(out)
    mine = [x for x in ids if shard_of[x] == i]
    man = load(os.path.join(out, "manifest.json"))
    t(man.get("shard", {}).get("index") == i and man["shard"].get("count") == N_SHARDS
      and man["shard"].get("examples") == len(mine)
      and man["shard"].get("index_from") == ("SLURM_ARRAY_TASK_ID" if i == 2 else "JOB_COMPLETION_INDEX"),
      f"shard {i}: manifest shard block {man.get('shard')}")
    t(man["fingerprint"]["sha256"] == load(os.path.join(ref, "manifest.json"))["fingerprint"]["sha256"],
      f"shard {i}: the manifest records the config fingerprint")
    for arm in ("a", "b"):
        got = [json.loads(l)["id"] for l in lines(os.path.join(out, f"{arm}.jsonl"))]
        t(sorted(got) == sorted(mine), f"shard {i} arm {arm}: holds exactly the ids with fnv1a64 mod 4 == {i} "
          f"({len(got)} records, {len(mine)} expected)")
    s = load(os.path.join(out, "summary.json"))
    t(s["status"] == "incomplete" and s.get("shard", {}).get("status") == "complete"
      and s["shard"].get("index") == i and s["shard"].get("count") == N_SHARDS,
      f"shard {i}: summary status {s['status']}, shard block {s.get('shard')}")
    t(all(s["arms"][a]["n_planned"] == len(mine) and s["arms"][a]["n_missing"] == 0 for a in ("a", "b")),
      f"shard {i}: n_planned is the shard's examples")
    reasons = " ".join(s["decision"].get("reasons", []))
    t(s["decision"]["verdict"] == "incomplete" and f"shard {i}/4" in reasons and "fteval merge" in reasons,
      f"shard {i}: no verdict on a shard: {s['decision']['verdict']} {reasons}")
t(sum(load(os.path.join(x, "manifest.json"))["shard"]["examples"] for x in shards) == N_EX,
  "the shards partition the planned examples")
t(min(sum(1 for x in ids if shard_of[x] == i) for i in range(N_SHARDS)) > 100, "every shard has work")

# ---- merge ---------------------------------------------------------------------------------
merged = os.path.join(d, "merged")
p = run("merge", merged, *reversed(shards), "--quiet")  # any order of the shard directories
t(p.returncode == 0, f"merge: exit {p.returncode} {p.stderr}")
mm = load(os.path.join(merged, "manifest.json"))
t(mm["status"] == "complete" and "shard" not in mm and mm["command"] == "run", "merged manifest: a complete run")
t([x["index"] for x in mm.get("merged_from", {}).get("shards", [])] == [0, 1, 2, 3]
  and mm["merged_from"]["count"] == 4, f"merged manifest lists the shards: {mm.get('merged_from')}")
t(mm["fingerprint"] == load(os.path.join(ref, "manifest.json"))["fingerprint"], "merged manifest: the fingerprint")
for arm in ("a", "b"):
    got = lines(os.path.join(merged, f"{arm}.jsonl"))
    union = [l for s in shards for l in lines(os.path.join(s, f"{arm}.jsonl"))]
    t([json.loads(l)["id"] for l in got] == ids, f"arm {arm}: merged records in dataset order")
    t(sorted(got) == sorted(union), f"arm {arm}: the merged records are the shards' records, byte for byte")
same_summary(ref, merged, "merged summary.json equals the unsharded run's (volatile fields masked)")
ms = load(os.path.join(merged, "summary.json"))
for arm in ("a", "b"):  # and the statistic is over all 600 records, computed here from the records
    recs = [json.loads(l) for l in lines(os.path.join(merged, f"{arm}.jsonl"))]
    em = sum(r["scores"]["exact_match"] for r in recs) / len(recs)
    t(ms["arms"][arm]["n"] == N_EX and abs(ms["arms"][arm]["metrics"]["exact_match"]["mean"] - em) < 1e-12,
      f"arm {arm}: merged exact_match mean over all records {em}")
t(ms["status"] == "complete" and "shard" not in ms and ms["decision"]["verdict"] == ref_sum["decision"]["verdict"],
  f"merged verdict {ms['decision']['verdict']}")
t(os.path.exists(os.path.join(merged, "report.md")) and os.path.exists(os.path.join(merged, "report.html")),
  "merge writes the reports")


# --dataset: the same file at another path (another mount point) merges; another file is refused
moved = os.path.join(d, "moved", "data.jsonl")
os.makedirs(os.path.dirname(moved))
shutil.copy(data, moved)
p = run("merge", os.path.join(d, "merged-moved"), *shards, "--dataset", moved, "--quiet")
t(p.returncode == 0 and masked(os.path.join(d, "merged-moved", "summary.json")) == masked(os.path.join(ref, "summary.json")),
  f"merge --dataset at another path: exit {p.returncode} {p.stderr}")


# --limit plans the first L examples, then splits them: 2 shards of --limit 100 merge into the
# unsharded --limit 100 run
ref100 = os.path.join(d, "ref100")
p = run("run", cfg, "--limit", "100", "--out", ref100, "--quiet")
t(p.returncode == 0, f"unsharded --limit 100: exit {p.returncode} {p.stderr}")
lim = []
for i in range(2):
    lim.append(os.path.join(d, f"lim{i}"))
    p = run("run", cfg, "--limit", "100", "--shard", f"{i}/2", "--out", lim[-1], "--quiet")
    t(p.returncode == 0 and load(os.path.join(lim[-1], "manifest.json"))["shard"]["examples"]
      == sum(1 for x in ids[:100] if fnv1a64(x) % 2 == i), f"--limit 100 --shard {i}/2: exit {p.returncode} {p.stderr}")
p = run("merge", os.path.join(d, "merged100"), *lim, "--quiet")
t(p.returncode == 0, f"--limit shards merge: exit {p.returncode} {p.stderr}")
same_summary(ref100, os.path.join(d, "merged100"), "--limit shards merge into the --limit run")


# ---- refusals: exit 3 with the reason, nothing written ----------------------------------------
def refused(name, dirs, *want, extra=()):
    out = os.path.join(d, "refused-" + name)
    p = run("merge", out, *dirs, *extra)
    t(p.returncode == 3, f"{name}: merge exit {p.returncode}, want 3: {p.stderr}")
    for w in want:
        t(w in p.stderr, f"{name}: the reason names {w!r}: {p.stderr}")
    t(not os.path.exists(out), f"{name}: a refused merge writes nothing")
    return p.stderr


def copy_shard(i, name):
    dst = os.path.join(d, name)
    shutil.copytree(shards[i], dst)
    return dst


# another config (max_tokens) for one shard
cfg2 = fte.config(os.path.join(d, "c2.json"), data, sim.url, arms, defaults={"max_tokens": 17}, **common)
other_cfg = os.path.join(d, "s1-cfg2")
p = run("run", cfg2, "--shard", "1/4", "--out", other_cfg, "--quiet")
t(p.returncode == 0, f"shard 1 with another config: exit {p.returncode} {p.stderr}")
refused("fingerprint", [shards[0], other_cfg, shards[2], shards[3]], "config fingerprint differs",
        "max_tokens: '16' in", "'17' in")

# another dataset (one gold changed: same ids) for one shard
data2 = os.path.join(d, "data2.jsonl")
rows2 = [dict(r) for r in rows]
rows2[0]["gold"] = "zulu"
fte.write_jsonl(data2, rows2)
cfg3 = fte.config(os.path.join(d, "c3.json"), data2, sim.url, arms, **common)
other_data = os.path.join(d, "s2-data2")
p = run("run", cfg3, "--shard", "2/4", "--out", other_data, "--quiet")
t(p.returncode == 0, f"shard 2 with another dataset: exit {p.returncode} {p.stderr}")
refused("dataset", [shards[0], shards[1], other_data, shards[3]], "dataset sha256", "different data")

refused("dataset-flag", shards, "is not the shards' dataset", extra=("--dataset", data2))

refused("limit-and-count", [lim[0], shards[1], shards[2], shards[3]], "but", "split the run in different numbers")

# overlap: the same shard twice
dup = copy_shard(1, "s1-copy")
refused("same-index", [shards[0], shards[1], dup, shards[2], shards[3]], "both shard 1/4", "overlapping")

# overlap: one example recorded in two shards
s0x = copy_shard(0, "s0-extra")
stolen = lines(os.path.join(shards[1], "a.jsonl"))[0]
with open(os.path.join(s0x, "a.jsonl"), "a") as f:
    f.write(stolen)
refused("id-in-two", [s0x, shards[1], shards[2], shards[3]], f"example '{json.loads(stolen)['id']}'",
        "in two shards", "overlapping")

# a record moved to a shard it does not belong to (and gone from its own)
s0m, s1m = copy_shard(0, "s0-moved"), copy_shard(1, "s1-moved")
with open(os.path.join(s0m, "a.jsonl"), "a") as f:
    f.write(stolen)
with open(os.path.join(s1m, "a.jsonl"), "w") as f:
    f.writelines(lines(os.path.join(shards[1], "a.jsonl"))[1:])
refused("foreign-id", [s0m, s1m, shards[2], shards[3]], f"example '{json.loads(stolen)['id']}' belongs to shard 1/4")

# missing ids: shard 3 not given (the ids are listed, capped at 20 in dataset order)
miss = [x for x in ids if shard_of[x] == 3]
err = refused("absent-shard", shards[:3], f"miss {len(miss)} of {N_EX} planned examples", "shard(s) 3 of 4",
              ", ".join(f"'{x}'" for x in miss[:20]) + f" and {len(miss) - 20} more")
t(f"'{miss[20]}'" not in err, "the list of missing ids is capped")

# missing ids: a complete-looking shard lost one record of arm b
s2l = copy_shard(2, "s2-lost")
kept = lines(os.path.join(shards[2], "b.jsonl"))
lost = json.loads(kept[5])["id"]
with open(os.path.join(s2l, "b.jsonl"), "w") as f:
    f.writelines(kept[:5] + kept[6:])
refused("lost-record", [shards[0], shards[1], s2l, shards[3]], f"arm 'b': the shards' records miss 1 of {N_EX}",
        f"'{lost}'")

# an incomplete shard: shard 3 stopped by its budget (budget is not part of the fingerprint)
inc = os.path.join(d, "s3-budget")
p = run("run", fte.config(os.path.join(d, "c4.json"), data, sim.url, arms, budget={"max_usd": 0.00002},
                          defaults={"concurrency": 1}, **common),
        "--shard", "3/4", "--out", inc, "--quiet")
t(p.returncode == 4, f"shard 3 with a tiny budget stops: exit {p.returncode} {p.stderr}")
refused("incomplete", [shards[0], shards[1], shards[2], inc], "shard 3/4 is incomplete (status 'incomplete')",
        "--shard 3/4 --resume --out")

# not a shard, and an OUT that already holds a run
refused("not-a-shard", [ref, shards[1], shards[2], shards[3]], "not a shard")
p = run("merge", merged, *shards)
t(p.returncode == 3 and "already holds a run" in p.stderr, f"merge into an existing run: exit {p.returncode} {p.stderr}")
p = run("merge", os.path.join(d, "m2"))
t(p.returncode == 2 and "missing SHARD_DIR" in p.stderr, f"merge without shards: exit {p.returncode} {p.stderr}")

# ---- resume keeps the shard; --shard parsing errors exit 2 -------------------------------------
p = run("run", cfg, "--shard", "1/4", "--resume", "--out", shards[0], "--quiet")
t(p.returncode == 3 and "the run is shard 0/4, the command asks for shard 1/4" in p.stderr,
  f"resume as another shard: exit {p.returncode} {p.stderr}")
p = run("run", cfg, "--shard", "0/4", "--resume", "--out", shards[0], "--quiet")
t(p.returncode == 0 and len(lines(os.path.join(shards[0], "a.jsonl"))) == sum(1 for x in ids if shard_of[x] == 0),
  f"resume of a complete shard re-sends nothing: exit {p.returncode} {p.stderr}")

bad = [
    (["1/0"], {}, "N must be an integer in 1..100000"),
    (["4/4"], {}, "I must be an integer in 0..3"),
    (["-1/4"], {}, "I must be an integer in 0..3"),
    (["x/4"], {}, "I must be an integer in 0..3"),
    (["1/4/2"], {}, "expected I/N or auto/N"),
    (["1"], {}, "expected I/N or auto/N"),
    (["/4"], {}, "expected I/N or auto/N"),
    (["auto/4"], {}, "neither JOB_COMPLETION_INDEX"),
    (["auto/4"], {"JOB_COMPLETION_INDEX": "4"}, "JOB_COMPLETION_INDEX='4' is not a shard index in 0..3"),
    (["auto/4"], {"SLURM_ARRAY_TASK_ID": "abc"}, "SLURM_ARRAY_TASK_ID='abc' is not a shard index"),
    (["auto/4"], {"JOB_COMPLETION_INDEX": "1", "SLURM_ARRAY_TASK_ID": "2"}, "disagree"),
    ([], {}, "'--shard' needs a value"),
]
for args, env, want in bad:
    out = os.path.join(d, "bad-shard")
    p = run("run", cfg, "--out", out, "--quiet", "--shard", *args, env=env)
    t(p.returncode == 2 and want in p.stderr and not os.path.exists(out),
      f"--shard {args} {env}: exit {p.returncode}, want 2 with {want!r}: {p.stderr}")
p = run("run", cfg, "--shard", "1/4", "--dry-run")
t(p.returncode == 0 and f"dry run: {sum(1 for x in ids if shard_of[x] == 1)} examples" in p.stdout,
  f"a shard's dry run counts its own examples: {p.stdout} {p.stderr}")

t.done()
