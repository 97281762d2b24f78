"""Issue 16, `fteval distill CONFIG --inputs FILE --out DIR`, end to end against `fteval sim`:
  - 2,000+ unlabeled inputs answered by a simulated teacher arm (system prompt + few-shot) through
    the runner; every input sent exactly once (the sim's request log);
  - the gates drop exactly what was planted: a held-out row copied into the inputs (leakage), an
    input with an e-mail address (PII), a repeated input (duplicate), with counts and example ids;
  - train.jsonl / validation.jsonl are the STUDENT's format byte for byte (student system prompt,
    student template rendered with the row, the teacher's answer; never the teacher's system or
    few-shot), disjoint, and `ft upload` accepts train.jsonl;
  - distill.json: teacher spend equal to the records' sum and to the price table applied to the
    sim's usage, estimated training cost = trained tokens x epochs x the training rate;
  - `kill -9` during generation, then `--resume`: no input is sent twice (sim log);
  - the budget covers generation: a budget below the cost stops with exit 4, status "partial"
    and no training files.
"""
import json
import math
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 2000
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
rows = [{"id": f"in-{i:05d}", "input": f"ticket {i}: route request {i * 7919 % 100003} for zone {i % 97} "
         f"and queue {i * 31 % 1009}", "gold": WORDS[i % 8]} for i in range(N)]
heldout = [{"id": f"h-{i}", "input": f"held-out ticket {i}: refund case {i * 104729 % 99991} in region {i}",
            "gold": WORDS[i % 8]} for i in range(20)]
planted = [
    {"id": "plant-leak", "input": heldout[7]["input"], "gold": heldout[7]["gold"]},
    {"id": "plant-pii", "input": "ticket 99999: customer jane.doe@example.com asks for a callback", "gold": "echo"},
    {"id": "plant-dup", "input": rows[42]["input"], "gold": rows[42]["gold"]},
]
teach = os.path.join(d, "teach.jsonl")
fte.write_jsonl(teach, rows + planted[1:2] + heldout)   # what the simulated models answer
inputs = os.path.join(d, "inputs.jsonl")
fte.write_jsonl(inputs, [{"id": r["id"], "input": r["input"]} for r in rows + planted])
held = os.path.join(d, "heldout.jsonl")
fte.write_jsonl(held, heldout)
profile = os.path.join(d, "profile.json")
fte.write_json(profile, {"rules": [{"name": "tuned", "model": "ft:student-small:*", "accuracy": 0.95, "latency_ms": 2},
                                   {"name": "base", "model": "student-small", "accuracy": 0.3, "latency_ms": 2},
                                   {"name": "all", "model": "*", "accuracy": 1.0, "latency_ms": 2}]})
log = os.path.join(d, "sim.log")
# teacher and student share the user message template here (the sim indexes its dataset by one
# rendering); the teacher differs by its system prompt and few-shot, which never reach the files
sim = fte.Sim("--dataset", teach, "--profile", profile, "--seed", "5", "--ft-step-s", "0.05", "--template",
              "Ticket: {input}", log=log)

TEACHER_SYS = "You are a senior support router. Think about the queue, then answer with one word."
STUDENT_SYS = "Route the ticket."
STUDENT_TMPL = "Ticket: {input}"
PRICES = {"models": {"teacher-large": {"input": 5.0, "output": 15.0},
                     "student-small": {"input": 0.15, "output": 0.6, "training": 3.0}}}


def make_config(name, **extra):
    arms = [{"name": "teacher", "provider": "sim", "model": "teacher-large", "system": TEACHER_SYS,
             "template": STUDENT_TMPL,
             "few_shot": [{"input": "ticket x: route request 1", "gold": "alpha"}]},
            {"name": "student", "provider": "sim", "model": "student-small", "system": STUDENT_SYS,
             "template": STUDENT_TMPL}]
    return fte.config(os.path.join(d, name), held, sim.url, arms, prices=PRICES, baseline_arm="teacher",
                      candidate_arm="student", traffic={"requests_per_month": 1000000},
                      distill={"teacher": "teacher", "heldout": "heldout.jsonl", "student_model": "student-small",
                               "validation_fraction": 0.1, "epochs": 2,
                               "student_format": {"system": STUDENT_SYS, "template": STUDENT_TMPL}},
                      **extra)


def chat_posts():
    return [r for r in fte.read_jsonl(log) if r["path"].endswith("/chat/completions")] if os.path.exists(log) else []


cfg = make_config("c.json")
out = os.path.join(d, "out")
p = fte.run("distill", cfg, "--inputs", inputs, "--out", out, "--quiet", env={"OPENAI_API_KEY": "sk-distill-test"})
t(p.returncode == 0, f"distill: exit {p.returncode} {p.stderr[-2000:]}")
def sent_inputs(posts):
    """The input each request carried (its last user message)."""
    return [r["body"]["messages"][-1]["content"][len("Ticket: "):] for r in posts]


from collections import Counter  # noqa: E402
ALL_INPUTS = Counter(r["input"] for r in rows + planted)  # rows[42]'s input twice (plant-dup)
posts = chat_posts()
t(Counter(sent_inputs(posts)) == ALL_INPUTS, f"every input sent exactly once ({len(posts)} requests)")
t(all(r["body"]["messages"][0]["content"] == TEACHER_SYS for r in posts), "the teacher got its own system prompt")

rep = json.load(open(os.path.join(out, "distill.json")))
gates = {g["name"]: g for g in rep["gates"]}
t(rep["status"] == "complete" and rep["rows_in"] == N + 3, f"status {rep['status']}, rows_in {rep['rows_in']}")
t([g["name"] for g in rep["gates"]] == ["errors", "refusals", "empty", "too_long", "leakage", "pii", "duplicates",
                                         "near_duplicates"], "gates in order (no schema gate without task.schema)")
t(gates["leakage"]["dropped"] == 1 and gates["leakage"]["examples"] == ["plant-leak"],
  f"leakage gate caught the planted held-out row: {gates['leakage']}")
t(gates["pii"]["dropped"] == 1 and gates["pii"]["examples"] == ["plant-pii"], f"pii gate: {gates['pii']}")
t(gates["duplicates"]["dropped"] == 1 and gates["duplicates"]["examples"] == ["plant-dup"],
  f"duplicate gate: {gates['duplicates']}")
t(gates["near_duplicates"]["dropped"] == 0, f"no near duplicates: {gates['near_duplicates']}")
t(all(gates[g]["dropped"] == 0 for g in ("errors", "refusals", "empty", "too_long")), "no errors or empty outputs")
t(gates["leakage"]["in"] == N + 3 and gates["near_duplicates"]["out"] == N, "in/out chain through the gates")

train = open(os.path.join(out, "train.jsonl"), encoding="utf-8").read().splitlines()
val = open(os.path.join(out, "validation.jsonl"), encoding="utf-8").read().splitlines()
t(len(train) + len(val) == N and rep["train_rows"] == len(train) and rep["validation_rows"] == len(val),
  f"{len(train)} train + {len(val)} validation rows = {N}")
t(120 <= len(val) <= 280, f"validation about 10% ({len(val)})")
answers = {r["example"]: r for r in posts}
by_input = {r["input"]: r for r in rows}
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "run", "teacher.jsonl"))}
exact = True
seen = set()
for line in train + val:
    m = json.loads(line)["messages"]
    src = by_input[m[1]["content"][len("Ticket: "):]]
    seen.add(src["id"])
    want = {"messages": [{"role": "system", "content": STUDENT_SYS},
                         {"role": "user", "content": STUDENT_TMPL.replace("{input}", src["input"])},
                         {"role": "assistant", "content": recs[src["id"]]["prediction"]}]}
    exact = exact and line == json.dumps(want, separators=(",", ":"), ensure_ascii=False)
t(exact, "every training line is the student format byte for byte (system, template, teacher's answer)")
t(len(seen) == N and "plant-leak" not in seen, "each kept input once; the leaked row is absent")
t(all(TEACHER_SYS not in ln and "ticket x: route request 1" not in ln for ln in train + val),
  "neither the teacher's system prompt nor its few-shot reaches the training files")
rows_by_id = {r["id"]: r for r in rows + planted}
t(all(recs[i]["prediction"] == rows_by_id[i]["gold"] for i in seen),
  "the answers are the teacher's (the sim's golds at accuracy 1)")

# Spend: the records' sum equals the price table over the sim's usage.
spend = sum(r["cost_usd"] for r in recs.values())
usage = [(r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"]) for r in recs.values()]
want_spend = sum(pt * 5.0 / 1e6 + ct * 15.0 / 1e6 for pt, ct in usage)
t(abs(rep["teacher"]["cost_usd"] - spend) < 1e-9 and abs(spend - want_spend) < 1e-9,
  f"teacher cost {rep['teacher']['cost_usd']} = records {spend} = prices x usage {want_spend}")
dc = rep["data_check"]
t(dc["blocking"] is False, "the data check of train.jsonl does not block")
tt = rep["training"]["trained_tokens"]
t(tt == dc["tokens"]["per_epoch_est"] * 2, f"trained tokens {tt} = per-epoch {dc['tokens']['per_epoch_est']} x 2")
t(abs(rep["training"]["estimated_cost_usd"] - tt * 3.0 / 1e6) < 1e-12, f"training estimate {rep['training']}")
be = rep["break_even"]
t(abs(be["teacher_usd_per_inference"] - spend / (N + 3)) < 1e-12, f"teacher per inference {be}")
t(be["student_usd_per_inference"] is not None and be["student_usd_per_inference"] < be["teacher_usd_per_inference"],
  "the student is cheaper per inference")
t(abs(be["months_to_break_even"] - (spend + rep["training"]["estimated_cost_usd"]) / be["monthly_saving_usd"]) < 1e-9,
  "months to break even = (generation + training) / monthly saving")

# ft upload's validation accepts the files.
up = fte.run("ft", "upload", os.path.join(out, "train.jsonl"), "--base-url", sim.url, "--api-key-env", "FT_KEY",
             env={"FT_KEY": "sk-distill-upload-0123"})
t(up.returncode == 0, f"ft upload train.jsonl: exit {up.returncode} {up.stderr[-800:]}")

# The loop closes: fine-tune the student on train.jsonl (sim), then evaluate student vs teacher vs
# base on the held-out set with the decision's verdict.
ftargs = ["--base-url", sim.url, "--api-key-env", "FT_KEY", "--json"]
fenv = {"FT_KEY": "sk-distill-upload-0123"}
file_id = json.loads(up.stdout)["id"] if up.returncode == 0 and up.stdout.strip().startswith("{") else None
if not file_id:
    p = fte.run("ft", "upload", os.path.join(out, "train.jsonl"), *ftargs, env=fenv)
    file_id = json.loads(p.stdout)["id"] if p.returncode == 0 else "?"
p = fte.run("ft", "create", "--model", "student-small", "--training-file", file_id, "--suffix", "distill", *ftargs,
            env=fenv)
t(p.returncode == 0, f"ft create: {p.returncode} {p.stderr[-500:]}")
job_id = json.loads(p.stdout)["id"] if p.returncode == 0 else "?"
p = fte.run("ft", "wait", job_id, "--poll-interval", "0.1", "--timeout", "120", *ftargs, env=fenv)
t(p.returncode == 0, f"ft wait: {p.returncode} {p.stderr[-500:]}")
ecfg = make_config("eval.json", providers={"sim": {"api_key_env": "FT_KEY"}})
ec = json.load(open(ecfg))
ec["arms"] = [ec["arms"][0], dict(ec["arms"][1], name="base"),
              {"name": "student", "provider": "sim", "finetune_job": job_id, "system": STUDENT_SYS,
               "template": STUDENT_TMPL, "price_model": "student-small"}]
ec["prices"]["models"]["ft:student-small"] = {"input": 0.3, "output": 1.2, "training": 3.0}
ec["decision"] = {"distill_report": os.path.relpath(os.path.join(out, "distill.json"), d)}  # the explicit link
fte.write_json(ecfg, ec)
eout = os.path.join(d, "eval")
p = fte.run("run", ecfg, "--out", eout, "--quiet", env=fenv)
t(p.returncode == 0, f"evaluate teacher, base and student: {p.returncode} {p.stderr[-800:]}")
summ = json.load(open(os.path.join(eout, "summary.json"))) if p.returncode == 0 else {}
dec = summ.get("decision") or {}
t(isinstance(dec.get("verdict"), str) and dec["verdict"], f"a verdict for student vs teacher: {dec.get('verdict')}")
acc = {a: summ["arms"][a]["metrics"]["exact_match"]["mean"] for a in ("teacher", "base", "student")} if summ else {}
t(acc and acc["teacher"] == 1.0 and acc["base"] < acc["student"], f"accuracy teacher/base/student {acc}")
# the decision's distillation break-even (teacher = baseline_arm): per-inference costs recomputed
# from the evaluation's records (usage x the price table), generation cost from distill.json
ds = dec.get("distillation") or {}
erecs = {a: fte.read_jsonl(os.path.join(eout, a + ".jsonl")) for a in ("teacher", "student")} if summ else {}
t_per = sum(r["usage"]["prompt_tokens"] * 5.0 + r["usage"]["completion_tokens"] * 15.0 for r in erecs["teacher"]) / 1e6 / len(erecs["teacher"])
s_per = sum(r["cost_usd"] for r in erecs["student"]) / len(erecs["student"])
# training: the real fine-tune's (the job's trained tokens x the training rate), as break_even has it
train_usd = dec["break_even"]["training_cost_usd"]
up = spend + train_usd
t(ds.get("training_usd") == train_usd and ds.get("training_source", "").startswith("this run's"),
  f"the real training cost, not the estimate: {ds.get('training_usd')} {ds.get('training_source')}")
t(ds.get("applies") is True and abs(ds["teacher_usd_per_inference"] - t_per) < 1e-15
  and abs(ds["student_usd_per_inference"] - s_per) < 1e-15 and abs(ds["upfront_usd"] - up) < 1e-12
  and ds["break_even_requests"] == math.ceil(up / (t_per - s_per) - 1e-9)
  and abs(ds["break_even_months"] - ds["break_even_requests"] / 1000000) < 1e-12, f"distillation break-even {ds}")

# kill -9 during generation, then --resume: no input sent twice.
n_before = len(chat_posts())
slow = os.path.join(d, "slow.json")
fte.write_json(slow, {"rules": [{"name": "all", "model": "*", "accuracy": 1.0, "latency_ms": 2}]})
out2 = os.path.join(d, "out2")
cfg2 = make_config("c2.json", defaults={"concurrency": 2})
proc = subprocess.Popen([fte.FTEVAL, "distill", cfg2, "--inputs", inputs, "--out", out2, "--quiet"],
                        env=dict(os.environ, OPENAI_API_KEY="sk-distill-test"),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rec_path = os.path.join(out2, "run", "teacher.jsonl")
end = time.monotonic() + 120
while time.monotonic() < end and not (os.path.exists(rec_path) and sum(1 for _ in open(rec_path, "rb")) >= 300):
    time.sleep(0.01)
proc.send_signal(signal.SIGKILL)
proc.wait()
partial = sum(1 for _ in open(rec_path, "rb"))
t(300 <= partial < N, f"killed mid-generation ({partial} records)")
done_inputs = Counter(r["input"][len("Ticket: "):] for r in fte.read_jsonl(rec_path))
in_flight = Counter(sent_inputs(chat_posts()[n_before:])) - done_inputs
n_killed = len(chat_posts())
t(not os.path.exists(os.path.join(out2, "train.jsonl")), "no training file from the killed run")
p = fte.run("distill", cfg2, "--inputs", inputs, "--out", out2, "--resume", "--quiet",
            env={"OPENAI_API_KEY": "sk-distill-test"})
t(p.returncode == 0, f"resume: exit {p.returncode} {p.stderr[-1500:]}")
resumed = Counter(sent_inputs(chat_posts()[n_killed:]))
t(not ((resumed + done_inputs) - ALL_INPUTS), "the resume sent no input whose answer was recorded before the kill")
# only requests in flight at the kill (sent, answer never recorded) may go out again
repeats = Counter(sent_inputs(chat_posts()[n_before:])) - ALL_INPUTS
t(not (repeats - in_flight) and sum(repeats.values()) <= 2,
  f"the only repeats are requests in flight at the kill (concurrency 2): {sum(repeats.values())}")
t(set(Counter(sent_inputs(chat_posts()[n_before:]))) == set(ALL_INPUTS), "every input sent across kill and resume")
t(open(os.path.join(out2, "train.jsonl")).read() == "\n".join(train) + "\n",
  "the resumed distill writes the same train.jsonl")

# The budget covers generation: below the cost, exit 4, status partial, no training files.
out3 = os.path.join(d, "out3")
cfg3 = make_config("c3.json", budget={"max_usd": round(spend / 4, 6)})
n_before = len(chat_posts())
p = fte.run("distill", cfg3, "--inputs", inputs, "--out", out3, "--quiet", env={"OPENAI_API_KEY": "sk-distill-test"})
t(p.returncode == 4, f"budget: exit {p.returncode} {p.stderr[-800:]}")
rep3 = json.load(open(os.path.join(out3, "distill.json")))
t(rep3["status"] == "partial" and rep3["stopped_by"] == "budget", f"partial by budget: {rep3.get('status')}")
t(not os.path.exists(os.path.join(out3, "train.jsonl")) and not os.path.exists(os.path.join(out3, "validation.jsonl")),
  "no training files from a partial generation")
recs3 = fte.read_jsonl(os.path.join(out3, "run", "teacher.jsonl"))
spent3 = sum(r["cost_usd"] for r in recs3)
t(abs(rep3["teacher"]["cost_usd"] - spent3) < 1e-12 and spent3 <= spend / 4 + 1e-9,
  f"spend {spent3} within the budget {spend / 4} and reported exactly")
t(len(chat_posts()) - n_before < N // 2, "the budget stopped generation early")

# Config strictness: an unknown distill key and a teacher that is not an arm are refused.
bad = make_config("bad.json")
c = json.load(open(bad))
c["distill"]["rubric"] = "x"
fte.write_json(bad, c)
p = fte.run("distill", bad, "--inputs", inputs, "--out", os.path.join(d, "o4"))
t(p.returncode == 3 and "distill.rubric" in p.stderr, f"unknown key refused: {p.stderr[-300:]}")
c["distill"].pop("rubric")
c["distill"]["teacher"] = "nobody"
fte.write_json(bad, c)
p = fte.run("distill", bad, "--inputs", inputs, "--out", os.path.join(d, "o4"))
t(p.returncode == 3 and "not an arm" in p.stderr, f"unknown teacher refused: {p.stderr[-300:]}")
sim.stop()
t.done()
