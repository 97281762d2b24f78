"""Issue 16, the per-row gates of `fteval distill` against `fteval sim` (tests/distill_test.py has
the end-to-end run): with task.schema set, an answer that is not JSON is dropped by json_valid and
one that breaks the schema by schema_valid; an empty answer by empty; a long one by too_long; each
with exact counts and ids. Chat-shaped inputs without the final assistant message are accepted
(their own messages become the student's, under the student's system prompt), and the teacher
runs through the batch API with --batch (the sim's batch endpoints; records carry batch_id).
The rubric-judge gate (distill.judge + min_score) under --batch: the teacher's records come from
the batch API and the judge is asked online (docs/batch.md "Judges"); its gates, judge block and
train.jsonl equal the same distill run online, with one judge request per answer.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
good = [{"id": f"ok-{i:02d}", "input": f"order {i} for customer number {i * 37} in city {i * 11}",
         "gold": json.dumps({"a": i})} for i in range(20)]
bad = [{"id": "notjson-1", "input": "order notjson one please", "gold": "certainly not json"},
       {"id": "notjson-2", "input": "order notjson two please", "gold": "{broken"},
       {"id": "schema-1", "input": "order with the wrong key", "gold": json.dumps({"b": 1})},
       {"id": "empty-1", "input": "order with nothing to say", "gold": " "},
       {"id": "long-1", "input": "order with a very long answer", "gold": json.dumps({"a": "x" * 300})}]
teach = os.path.join(d, "teach.jsonl")
fte.write_jsonl(teach, good + bad)
chat_ids = {"ok-03", "ok-04"}
inputs = os.path.join(d, "inputs.jsonl")
fte.write_jsonl(inputs, [{"id": r["id"], "messages": [{"role": "user", "content": r["input"]}]} if r["id"] in chat_ids
                         else {"id": r["id"], "input": r["input"]} for r in good + bad])
held = os.path.join(d, "heldout.jsonl")
fte.write_jsonl(held, [{"id": "h", "input": "an unrelated held-out question about weather", "gold": "x"}])
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "judge", "model": "judge-m", "judge": {"accuracy": 0.0}, "latency_ms": 1},
                                   {"name": "all", "model": "*", "accuracy": 1.0, "latency_ms": 1}]})
log = os.path.join(d, "sim.log")
sim = fte.Sim("--dataset", teach, "--profile", profile, "--seed", "2", "--batch-step-s", "0.05", log=log)
cfg = fte.config(os.path.join(d, "c.json"), held, sim.url,
                 [{"name": "teacher", "provider": "sim", "model": "teacher-large", "system": "Answer in JSON."}],
                 task={"template": "{input}", "metrics": ["json_valid"], "schema": {"type": "object", "required": ["a"]}},
                 defaults={"max_tokens": 200},
                 distill={"teacher": "teacher", "heldout": "heldout.jsonl", "max_output_chars": 100,
                          "validation_fraction": 0, "student_format": {"system": "JSON please.", "template": "{input}"}})
out = os.path.join(d, "out")
p = fte.run("distill", cfg, "--inputs", inputs, "--out", out, "--batch", "--quiet", env={"OPENAI_API_KEY": "sk-gates"})
t(p.returncode in (0, 1), f"distill --batch: exit {p.returncode} {p.stderr[-1500:]}")
rep = json.load(open(os.path.join(out, "distill.json")))
g = {x["name"]: x for x in rep["gates"]}
t([x["name"] for x in rep["gates"]][4:6] == ["json_valid", "schema_valid"], "schema gates present with task.schema")
t(g["json_valid"]["dropped"] == 2 and g["json_valid"]["examples"] == ["notjson-1", "notjson-2"], f"json_valid {g['json_valid']}")
t(g["schema_valid"]["dropped"] == 1 and g["schema_valid"]["examples"] == ["schema-1"], f"schema_valid {g['schema_valid']}")
t(g["empty"]["dropped"] == 1 and g["empty"]["examples"] == ["empty-1"], f"empty {g['empty']}")
t(g["too_long"]["dropped"] == 1 and g["too_long"]["examples"] == ["long-1"], f"too_long {g['too_long']}")
t(g["errors"]["dropped"] == 0 and rep["rows_out"] == 20 and rep["validation_rows"] == 0, f"20 rows kept: {rep['rows_out']}")
train = [json.loads(x) for x in open(os.path.join(out, "train.jsonl"))]
want = [{"messages": [{"role": "system", "content": "JSON please."}, {"role": "user", "content": r["input"]},
                      {"role": "assistant", "content": r["gold"]}]} for r in good]
t(train == want, "train.jsonl: student system, the input (plain or chat row), the teacher's JSON answer")
recs = fte.read_jsonl(os.path.join(out, "run", "teacher.jsonl"))
t(len(recs) == 25 and all(r.get("batch_id") for r in recs), "the teacher ran through the batch API")
posts = [r for r in fte.read_jsonl(log) if r["path"].endswith("/chat/completions")]
t(not posts, f"no online request with --batch ({len(posts)})")

# ---- the judge gate under --batch equals the online run ------------------------------------------
jc = json.load(open(cfg))
jc["judges"] = {"q": {"type": "rubric", "provider": "sim", "model": "judge-m", "scale": [1, 5]}}
jc["distill"] |= {"judge": "q", "min_score": 3}
jcfg = os.path.join(d, "cj.json")
fte.write_json(jcfg, jc)


def judge_posts():
    return [e for e in fte.read_jsonl(log) if e["path"] == "/v1/chat/completions"
            and isinstance(e.get("body"), dict) and e["body"].get("model") == "judge-m"]


runs = {}
for mode in ("online", "batch"):
    before = len(judge_posts())
    o = os.path.join(d, "judged-" + mode)
    p = fte.run("distill", jcfg, "--inputs", inputs, "--out", o, "--quiet", *(["--batch"] if mode == "batch" else []),
                env={"OPENAI_API_KEY": "sk-gates"})
    t(p.returncode in (0, 1), f"distill with a judge, {mode}: exit {p.returncode} {p.stderr[-1500:]}")
    r = json.load(open(os.path.join(o, "distill.json")))
    runs[mode] = (r, open(os.path.join(o, "train.jsonl")).read(), len(judge_posts()) - before,
                  fte.read_jsonl(os.path.join(o, "run", "teacher.jsonl")))
(ron, tron, jon, recs_on), (rb, trb, jb, recs_b) = runs["online"], runs["batch"]
gates = lambda r: [(x["name"], x["dropped"], x.get("examples")) for x in r["gates"]]  # noqa: E731
g = {x["name"]: x for x in rb["gates"]}
t(gates(rb) == gates(ron), f"gates under --batch equal online: {gates(rb)} vs {gates(ron)}")
t(0 < g["judge"]["dropped"] < 20 and g["judge_errors"]["dropped"] == 0,
  f"the judge gate drops some rows and keeps others ({g['judge']['dropped']})")
t(trb == tron and rb["rows_out"] == ron["rows_out"], "train.jsonl under --batch equals online")
t(rb["judge"]["judged"] == 25 and rb["judge"]["pending"] == 0 and rb["judge"]["failed"] == 0, f"judge block {rb['judge']}")
t(jb == jon == 25, f"one online judge request per answer: batch {jb}, online {jon}")
t(all(r.get("batch_id") for r in recs_b) and not any(r.get("batch_id") for r in recs_on),
  "the judged teacher ran through the batch API with --batch, online without")
scores = lambda recs: {r["id"]: r["judgements"]["q"].get("score") for r in recs}  # noqa: E731  (the last line of an id wins)
t(scores(recs_b) == scores(recs_on) and None not in scores(recs_b).values(), "each answer's judge score equals online")
sim.stop()
t.done()
