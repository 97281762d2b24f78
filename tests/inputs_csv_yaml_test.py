"""CSV datasets, field mapping and YAML configs end to end against `fteval sim` (issue 13).

A run from a YAML config over a CSV dataset (RFC 4180 corners in the cells: commas, doubled
quotes, embedded CRLF and LF, a BOM, CRLF records) with task.id_field/input_field/gold_field/
slice_field gives the same records and summary as the equivalent JSON config over the JSONL
dataset with the standard field names; each simulator reads its own config (YAML + CSV, JSON +
JSONL). Then the near misses and mapping errors, with their exact messages (file, line[:column],
field)."""
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 80
WORDS = ["alpha", "bravo", "charlie", "delta"]
TRICKY = ["plain", "a, comma", 'say "hi"', "two\r\nlines", "lf\nonly", "\u00e9t\u00e9 \u20ac", "", " spaced "]
rows = [{"key": f"r{i:03d}", "text": f"question {i} {TRICKY[i % len(TRICKY)]}", "label": WORDS[i % 4],
         "grp": ["north", "south", "east"][i % 3]} for i in range(N)]

# the CSV: written by Python's csv module (RFC 4180 quoting, CRLF), with a BOM
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow(["key", "text", "label", "grp"])
for r in rows:
    w.writerow([r["key"], r["text"], r["label"], r["grp"]])
with open(os.path.join(d, "data.csv"), "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff" + buf.getvalue())
# where each record starts in the file (embedded newlines push later records down)
CSV_LINE, prev_end = {}, 1
rd = csv.reader(io.StringIO(buf.getvalue(), newline=""))
next(rd)
for rec in rd:
    CSV_LINE[rec[0]] = prev_end + 1
    prev_end = rd.line_num
t(CSV_LINE["r004"] > 5, "the fixture has records spanning lines")
# the same rows as JSONL with the standard names
fte.write_jsonl(os.path.join(d, "data.jsonl"),
                [{"id": r["key"], "input": r["text"], "gold": r["label"], "slice": r["grp"]} for r in rows])

PROFILE = os.path.join(fte.SRC, "configs", "demo", "sim_profile.json")
ARMS = [{"name": "base", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
        {"name": "ft", "provider": "sim", "model": "ft:gpt-4o-mini-2024-07-18:acme:x:abc"}]


def yaml_config(path, url):
    """The YAML twin of the JSON config below, written by hand (block style, comments, quoting)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""# a YAML run config: the same schema and key table as JSON
name: e2e
dataset: data.csv            # the CSV extension selects the CSV reader
dataset_format: csv
task:
  template: "Q: {{input}}"
  metrics: [exact_match, f1]
  id_field: key
  input_field: text
  gold_field: label
  slice_field: grp
defaults:
  temperature: 0
  max_tokens: 16
  timeout_s: 10
  max_retries: 4
  concurrency: 8
providers:
  sim:
    type: openai
    base_url: '{url}'
arms:
  - name: base
    provider: sim
    model: gpt-4o-mini-2024-07-18
  - {{name: ft, provider: sim, model: "ft:gpt-4o-mini-2024-07-18:acme:x:abc"}}
baseline_arm: base
stats:
  resamples: 500
  seed: 1
""")
    return path


# each simulator reads its own config (sim's --config takes YAML and the CSV mapping too)
yaml_path = yaml_config(os.path.join(d, "c.yaml"), "http://127.0.0.1:9/v1")
sim_y = fte.Sim("--config", yaml_path, "--profile", PROFILE, "--seed", "5")
yaml_config(yaml_path, sim_y.url)
json_path = os.path.join(d, "c.json")
fte.config(os.path.join(d, "tmp.json"), "data.jsonl", "http://127.0.0.1:9/v1")
sim_j = fte.Sim("--config", fte.config(json_path, "data.jsonl", "http://127.0.0.1:9/v1",
                                       task={"template": "Q: {input}"}), "--profile", PROFILE, "--seed", "5")
fte.config(json_path, "data.jsonl", sim_j.url, ARMS, task={"template": "Q: {input}"},
           defaults={"concurrency": 8}, baseline_arm="base", stats={"resamples": 500, "seed": 1})

outs = {}
for kind, cfg in (("yaml", yaml_path), ("json", json_path)):
    outs[kind] = os.path.join(d, "results", kind)
    p = fte.run("run", cfg, "--out", outs[kind])
    t(p.returncode == 0, f"{kind}: run exit {p.returncode}: {p.stderr[-400:]}")

# request_sha256 hashes the provider's URL too; line is the record's line in its own file (checked below)
VOLATILE = {"latency_ms", "request_sha256", "request_id", "line"}


def records(out, arm):
    recs = fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))
    return {r["id"]: {k: v for k, v in r.items() if k not in VOLATILE} for r in recs}


for arm in ("base", "ft"):
    ry, rj = records(outs["yaml"], arm), records(outs["json"], arm)
    t(len(ry) == N and len(rj) == N, f"{arm}: {N} records each ({len(ry)}, {len(rj)})")
    t(ry == rj, f"{arm}: YAML+CSV records equal JSON+JSONL records (first diff: "
      f"{next(((i, ry[i], rj.get(i)) for i in ry if ry[i] != rj.get(i)), None)})")
    want_inputs = {r["key"]: "Q: " + r["text"] for r in rows}
    t(all(ry[i]["input"] == want_inputs[i] for i in ry), f"{arm}: input is the rendered CSV cell, quotes and newlines intact")
    t(all(ry[i]["slice"] == r["grp"] for r in rows for i in [r["key"]]), f"{arm}: slice from the grp column")
    t(all(ry[r["key"]]["gold"] == r["label"] for r in rows), f"{arm}: gold from the label column")
    lines = {r["id"]: r["line"] for r in fte.read_jsonl(os.path.join(outs["yaml"], f"{arm}.jsonl"))}
    t(lines == CSV_LINE, f"{arm}: line is the CSV record's first line")


def summary(out):
    s = json.load(open(os.path.join(out, "summary.json")))
    for a in s.get("arms", {}).values():
        a.pop("latency_ms", None)
    s.pop("run_id", None)
    dec = s.get("decision", {})
    dec.pop("p50_latency_change", None)  # timing: the one thing two runs do not share
    dec["reasons"] = [r for r in dec.get("reasons", []) if "latency" not in r]
    return s


sy, sj = summary(outs["yaml"]), summary(outs["json"])
t(sy.get("slices", {}).get("field") == "grp" and sj.get("slices", {}).get("field") == "slice",
  "the slices block names the slice field each config used (task.slice_field, else slice)")
for s_ in (sy, sj):
    s_.get("slices", {}).pop("field", None)
t(sy == sj, "summary.json equal (latency masked): " +
  str([(k, sy.get(k), sj.get(k)) for k in set(sy) | set(sj) if sy.get(k) != sj.get(k)]))

# ---- near misses and mapping errors: exact messages ----------------------------------------
def err_of(*args):
    p = fte.run(*args)
    return p.returncode, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""


def expect(args, code, msg, what):
    rc, line = err_of(*args)
    t(rc == code and line == msg, f"{what}: exit {rc} {line!r}, want {code} {msg!r}")


# a CSV file named .jsonl
with open(os.path.join(d, "really.jsonl"), "w") as f:
    f.write("id,input,gold\n1,a,b\n")
fte.config(os.path.join(d, "near.json"), "really.jsonl", sim_j.url)
expect(("run", os.path.join(d, "near.json"), "--dry-run"), 3,
       f"fteval: error: {d}/really.jsonl:1: this is CSV; set dataset_format: \"csv\" in the config (or name the file .csv)",
       "CSV named .jsonl")
# a YAML config named .json
with open(yaml_path) as f, open(os.path.join(d, "yaml.json"), "w") as g:
    g.write(f.read())
expect(("run", os.path.join(d, "yaml.json"), "--dry-run"), 3,
       f"fteval: error: {d}/yaml.json:1:1: invalid JSON; this file is YAML: name it .yaml or .yml", "YAML named .json")
# an unknown key in YAML: its line and column
with open(yaml_path) as f:
    text = f.read()
with open(os.path.join(d, "typo.yaml"), "w") as g:
    g.write(text.replace("  slice_field: grp", "  slice_feild: grp"))
expect(("run", os.path.join(d, "typo.yaml"), "--dry-run"), 3,
       f"fteval: error: {d}/typo.yaml:11:3: task.slice_feild: unknown key; did you mean \"slice_field\"?",
       "YAML unknown key")
with open(os.path.join(d, "typo2.yaml"), "w") as g:
    g.write(text.replace("  max_tokens: 16", "  max_tokens: sixteen"))
rc, line = err_of("run", os.path.join(d, "typo2.yaml"), "--dry-run")
t(rc == 3 and line.startswith(f"fteval: error: {d}/typo2.yaml:14:3: defaults.max_tokens: "),
  f"YAML bad value names line:column: {line!r}")
# a quoted scalar stays a string (YAML 1.2 core schema): "16" is not a number
with open(os.path.join(d, "quoted.yaml"), "w") as g:
    g.write(text.replace("  max_tokens: 16", '  max_tokens: "16"'))
rc, line2 = err_of("run", os.path.join(d, "quoted.yaml"), "--dry-run")
t(rc == 3 and line2 == line.replace("typo2.yaml", "quoted.yaml"), f"quoted number is a string: {line2!r} vs {line!r}")
with open(os.path.join(d, "syntax.yaml"), "w") as g:
    g.write("name: x\ntask:\n  template: [unclosed\n")
expect(("run", os.path.join(d, "syntax.yaml"), "--dry-run"), 3,
       f"fteval: error: {d}/syntax.yaml:4:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence",
       "YAML syntax error")
with open(os.path.join(d, "dup.yaml"), "w") as g:
    g.write(text.replace("baseline_arm: base", "baseline_arm: base\nbaseline_arm: ft"))
rc, line = err_of("run", os.path.join(d, "dup.yaml"), "--dry-run")
t(rc == 3 and "dup.yaml:" in line and "baseline_arm" in line and "twice" in line or "duplicate" in line,
  f"YAML repeated key refused: {line!r}")
# what YAML may not do in a config: each refused with file:line:column
for name, body, msg in (("alias.yaml", "name: &a x\ndataset: *a\n", "1:7: anchors (&name) are not supported"),
                        ("two.yaml", "name: x\n---\nname: y\n", "2:1: more than one YAML document"),
                        ("empty.yaml", "", "1:1: an empty YAML document"),
                        ("key.yaml", "? [a]\n: b\n", "1:3: a mapping key must be a scalar"),
                        ("tag.yaml", "name: !!int 7\n", "1:7: the tag 'tag:yaml.org,2002:int' is not supported (only !!str)")):
    with open(os.path.join(d, name), "w") as g:
        g.write(body)
    expect(("run", os.path.join(d, name), "--dry-run"), 3, f"fteval: error: {d}/{name}:{msg}", f"YAML {name}")
# a mapped field missing in one CSV row: file, line (the record's first line) and field
with open(os.path.join(d, "data.csv"), encoding="utf-8") as f:
    csv_text = f.read()
with open(os.path.join(d, "nolabel.csv"), "w", encoding="utf-8", newline="") as f:
    f.write(csv_text.replace("key,text,label,grp", "key,text,lab,grp", 1))
with open(os.path.join(d, "nolabel.yaml"), "w") as g:
    g.write(text.replace("dataset: data.csv", "dataset: nolabel.csv"))
expect(("run", os.path.join(d, "nolabel.yaml"), "--dry-run"), 3,
       f"fteval: error: {d}/nolabel.csv:2: field 'label': missing (task.gold_field)", "mapped field missing")
# the JSONL {"text", "label"} rows need no rewriting: input_field/gold_field map them
fte.write_jsonl(os.path.join(d, "tl.jsonl"), [{"text": r["text"], "label": r["label"]} for r in rows[:5]])
fte.config(os.path.join(d, "tl.json"), "tl.jsonl", sim_j.url, task={"input_field": "text", "gold_field": "label"})
p = fte.run("run", os.path.join(d, "tl.json"), "--out", os.path.join(d, "tl"))
t(p.returncode == 0, f"text/label JSONL runs: {p.stderr[-300:]}")
if p.returncode == 0:
    recs = sorted(fte.read_jsonl(os.path.join(d, "tl", "base.jsonl")), key=lambda r: r["line"])
    t([r["gold"] for r in recs] == [r["label"] for r in rows[:5]] and
      [r["input"] for r in recs] == [r["text"] for r in rows[:5]], f"text/label: golds and inputs mapped {recs[:2]}")
# data check / split refuse CSV with the way out
expect(("data", "check", os.path.join(d, "data.csv")), 3,
       f"fteval: error: {d}/data.csv: `fteval data check` reads JSONL, not CSV: convert it first with "
       f"`fteval data to-chat {d}/data.csv --config CONFIG --out FILE.jsonl` (the config's dataset_format "
       f"and task.*_field say how to read it)", "data check refuses CSV")
rc, line = err_of("data", "split", os.path.join(d, "data.csv"), "--test-fraction", "0.2", "--seed", "1",
                  "--train", os.path.join(d, "tr.jsonl"), "--test", os.path.join(d, "te.jsonl"))
t(rc == 3 and "`fteval data split` reads JSONL, not CSV" in line, f"data split refuses CSV: {rc} {line!r}")
p = fte.run("data", "to-chat", os.path.join(d, "data.csv"), "--config", yaml_path, "--out", os.path.join(d, "chat.jsonl"))
t(p.returncode == 0, f"data to-chat converts the CSV: {p.stderr[-300:]}")
if p.returncode == 0:
    chat = fte.read_jsonl(os.path.join(d, "chat.jsonl"))
    t(len(chat) == N and chat[3]["messages"][0]["content"] == "Q: " + rows[3]["text"], "to-chat rows from CSV")
t.done()
