"""Issue 16, the rubric-judge gate of `fteval distill` (distill.judge + distill.min_score) and the
distillation break-even in the decision (decision.distill_report), against tests/lib/advserver.py,
whose answers this test writes: the teacher answers "route WORD" (WORD = WORDS[i % 8] of input i),
the judge scores each WORD from a table, answers foxtrot with text that is no JSON (twice: a
failed judgement after the one parse retry) and hotel with HTTP 400 (a failed request).
  - exact drops: judge (score < min_score) and judge_errors, with ids, scores and reasons in
    distill.json and in the printed report; exact judge request counts (one per answer, one more
    per unparsable answer); judge cost = the server's billed usage x the published price;
  - the budget covers judging: a budget between generation and generation + judging stops with
    exit 4, status partial, spend within it;
  - SIGTERM mid-judging and --resume: no judge request answered in the first session is sent
    again, the resume judges exactly the rows left unjudged, and the files equal an
    uninterrupted run's;
  - config errors name the file and the field (the gate under --batch: tests/distill_gates_test.py);
  - the decision's "distillation" block when the baseline arm is the distill report's teacher:
    cost per inference, monthly cost, break-even requests and months recomputed here from the
    prices and the token counts the server billed; unknown student price: null and said so.
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import advserver  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 200
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
SCORES = {"alpha": 5, "bravo": 4, "charlie": 3, "delta": 2, "echo": 1, "golf": 5}  # foxtrot: no JSON; hotel: 400
MIN_SCORE = 3
USAGE = {"teacher-large": (40, 2), "student-small": (20, 2), "judge-m": (100, 12)}  # billed per answer
PRICE = {"teacher-large": (5.0, 15.0), "student-small": (0.15, 0.6), "judge-m": (2.0, 8.0)}  # $/1M in, out


def call_usd(model):
    (pt, ct), (pin, pout) = USAGE[model], PRICE[model]
    return pt * pin / 1e6 + ct * pout / 1e6


lock = threading.Lock()
# session 1 of the resume check: every parse retry hangs, and every judge request after the
# hang_after-th answer; a hung request is never answered (fteval is stopped while it waits)
state = {"hang_after": None, "answered": [], "hung": 0, "release": threading.Event()}


def row_of(text):
    m = re.search(r"ticket (\d+):", text)
    return int(m.group(1)) if m else None


def handler(req):
    body = req.json or {}
    model = body.get("model")
    text = body["messages"][-1]["content"] if body.get("messages") else ""
    if model == "judge-m":
        out = re.search(r"<output>\s*(.*?)\s*</output>", text, re.S).group(1)
        word = out.split()[-1]
        key = (row_of(text), text.startswith("Your previous answer"))
        with lock:
            hang = state["hang_after"] is not None and (key[1] or len(state["answered"]) >= state["hang_after"])
            state["hung"] += hang
        if hang:
            state["release"].wait(120)
            return advserver.Reply(503, {"error": {"message": "gone", "type": "server_error"}})
        if word == "hotel":
            with lock:
                state["answered"].append(key)
            return advserver.openai_error(400, "the judge refuses this one", code="invalid_request")
        content = "I cannot grade that." if word == "foxtrot" else json.dumps({"score": SCORES[word], "reason": f"r-{word}"})
        with lock:
            state["answered"].append(key)
        return advserver.Reply(200, advserver.openai_answer(content, *USAGE[model], model=model))
    i = row_of(text)
    return advserver.Reply(200, advserver.openai_answer(f"route {WORDS[i % 8]}", *USAGE[model], model=model))


api = advserver.FakeAPI(handler)


def judge_reqs(reqs):
    return [r for r in reqs if (r.json or {}).get("model") == "judge-m"]


def teacher_reqs(reqs):
    return [r for r in reqs if (r.json or {}).get("model") == "teacher-large"]


def jkey(r):
    text = r.json["messages"][-1]["content"]
    return (row_of(text), text.startswith("Your previous answer"))


rows = [{"id": f"in-{i:04d}", "input": f"ticket {i}: order {i * 7919 % 10007} goes to zone {i % 13}"} for i in range(N)]
inputs = os.path.join(d, "inputs.jsonl")
fte.write_jsonl(inputs, rows)
held = os.path.join(d, "heldout.jsonl")
heldout = [{"id": f"h-{i}", "input": f"held-out ticket {i}: refund {i * 104729 % 99991} in region {i}",
            "gold": f"route {WORDS[i % 8]}"} for i in range(40)]
fte.write_jsonl(held, heldout)
PRICES = {"models": {m: {"input": p[0], "output": p[1]} for m, p in PRICE.items()}}
PRICES["models"]["student-small"]["training"] = 3.0
JUDGES = {"quality": {"type": "rubric", "provider": "sim", "model": "judge-m", "scale": [1, 5]},
          "pref": {"type": "pairwise", "provider": "sim", "model": "judge-m"}}
ARMS = [{"name": "teacher", "provider": "sim", "model": "teacher-large", "system": "You are an expert router.",
         "template": "Ticket: {input}"},
        {"name": "student", "provider": "sim", "model": "student-small", "system": "Route.", "template": "Ticket: {input}"}]


def make_config(name, distill_extra=None, **extra):
    dist = {"teacher": "teacher", "heldout": "heldout.jsonl", "student_model": "student-small",
            "validation_fraction": 0, "judge": "quality", "min_score": MIN_SCORE,
            "student_format": {"system": "Route.", "template": "Ticket: {input}"}}
    dist.update(distill_extra or {})
    for k in [k for k, v in dist.items() if v is None]:
        dist.pop(k)
    extra = {"defaults": {"max_retries": 1, "concurrency": 4}} | extra
    path = fte.config(os.path.join(d, name), held, api.url, ARMS, prices=PRICES, judges=JUDGES,
                      baseline_arm="teacher", candidate_arm="student",
                      traffic={"requests_per_month": 250000}, distill=dist, **extra)
    return path


ENV = {"OPENAI_API_KEY": "sk-distill-judge"}
per_word = N // 8
kept_words = [w for w, s in SCORES.items() if s >= MIN_SCORE]
low_words = [w for w, s in SCORES.items() if s < MIN_SCORE]

# ---- 1. the gate, uninterrupted ----------------------------------------------------------------
cfg = make_config("c.json")
out = os.path.join(d, "out")
p = fte.run("distill", cfg, "--inputs", inputs, "--out", out, env=ENV)
t(p.returncode == 0, f"distill with a judge: exit {p.returncode} {p.stderr[-1500:]}")
reqs = list(api.requests)
jr, tr = judge_reqs(reqs), teacher_reqs(reqs)
t(len(tr) == N and len({row_of(r.json["messages"][-1]["content"]) for r in tr}) == N, f"{len(tr)} teacher requests, one per input")
want_judge = N + per_word  # one per answer; foxtrot's unparsable answer is asked once more
t(len(jr) == want_judge, f"judge requests {len(jr)} = {N} answers + {per_word} parse retries")
t(len(jr) == len(set(map(jkey, jr))), "no judge request sent twice")
t(all(r.json.get("response_format", {}).get("type") == "json_schema" for r in jr), "the judge asks for its JSON")
rep = json.load(open(os.path.join(out, "distill.json")))
g = {x["name"]: x for x in rep["gates"]}
t([x["name"] for x in rep["gates"]] == ["errors", "refusals", "empty", "too_long", "judge", "judge_errors", "leakage",
                                         "pii", "duplicates", "near_duplicates"], f"gate order {[x['name'] for x in rep['gates']]}")
low_ids = sorted(r["id"] for i, r in enumerate(rows) if WORDS[i % 8] in low_words)
fail_ids = sorted(r["id"] for i, r in enumerate(rows) if WORDS[i % 8] in ("foxtrot", "hotel"))
t(g["judge"]["dropped"] == len(low_ids) == 2 * per_word and g["judge"]["min_score"] == MIN_SCORE
  and g["judge"]["judge"] == "quality", f"judge gate dropped {g['judge']['dropped']} (want {len(low_ids)})")
t(g["judge"]["examples"] == low_ids[:3], f"judge gate examples {g['judge']['examples']}")
t(g["judge"]["details"] == [{"id": i, "score": SCORES[WORDS[int(i[3:]) % 8]], "reason": f"r-{WORDS[int(i[3:]) % 8]}"}
                            for i in low_ids[:3]], f"judge gate details {g['judge']['details']}")
t(g["judge_errors"]["dropped"] == len(fail_ids) == 2 * per_word and g["judge_errors"]["examples"] == fail_ids[:3],
  f"failed judgements dropped apart: {g['judge_errors']['dropped']} {g['judge_errors']['examples']}")
errs = {e["id"]: e["error"] for e in g["judge_errors"]["details"]}
t(all(("unparsable" in errs[i]) == (WORDS[int(i[3:]) % 8] == "foxtrot") for i in errs) and len(errs) == 3,
  f"judge_errors say why: {errs}")
t(g["judge"]["in"] == N and g["judge_errors"]["out"] == N - 4 * per_word and rep["rows_out"] == N - 4 * per_word,
  f"in/out chain: {rep['rows_out']} rows kept")
train = [json.loads(x) for x in open(os.path.join(out, "train.jsonl"))]
t(sorted(m["messages"][2]["content"].split()[-1] for m in train) == sorted(w for i in range(N) for w in [WORDS[i % 8]] if w in kept_words),
  "train.jsonl holds exactly the rows the judge scored >= min_score")
jb = rep["judge"]
t(jb["judged"] == N - 2 * per_word and jb["failed"] == 2 * per_word and jb["pending"] == 0 and jb["calls"] == want_judge
  and jb["parse_failures"] == 2 * per_word, f"judge block {jb}")
judge_usd = (want_judge - per_word) * call_usd("judge-m")  # every answer is billed (the unparsable too); a 400 is not
gen_usd = N * call_usd("teacher-large")
t(abs(jb["cost_usd"] - judge_usd) < 1e-12 and abs(rep["costs"]["judge_usd"] - judge_usd) < 1e-12,
  f"judge cost {jb['cost_usd']} = billed usage x price {judge_usd}")
t(abs(rep["costs"]["generation_usd"] - gen_usd) < 1e-12 and abs(rep["teacher"]["cost_usd"] - gen_usd) < 1e-12,
  f"generation cost {rep['costs']['generation_usd']} = {gen_usd}")
t(abs(rep["costs"]["spend_usd"] - (gen_usd + judge_usd)) < 1e-12, f"spend {rep['costs']['spend_usd']} = generation + judging")
t(abs(rep["break_even"]["upfront_usd"] - (gen_usd + judge_usd + rep["training"]["estimated_cost_usd"])) < 1e-12,
  "upfront = generation + judging + training")
t(re.search(r"judge +in +%d +dropped +%d +out +%d +e\.g\. %s \(score 2: r-delta\)" % (N, 2 * per_word, N - 2 * per_word, low_ids[0]),
            p.stdout) is not None, f"printed report shows the judge gate with score and reason:\n{p.stdout}")
t(re.search(r"judge_errors .*dropped +%d .*unparsable" % (2 * per_word), p.stdout) is not None, "printed report: judge_errors")
t(re.search(r"judge_usd \$%.6f" % judge_usd, p.stdout) is not None, "printed report: the judge's cost")

# ---- 2. the budget covers judging --------------------------------------------------------------
api.reset()
budget = round(gen_usd + judge_usd / 2, 6)
out2 = os.path.join(d, "out2")
p = fte.run("distill", make_config("c2.json", budget={"max_usd": budget}), "--inputs", inputs, "--out", out2,
            "--quiet", env=ENV)
rep2 = json.load(open(os.path.join(out2, "distill.json")))
spent = sum(r.get("spend_usd", 0) for r in fte.read_jsonl(os.path.join(out2, "run", "teacher.jsonl")))
t(p.returncode == 4 and rep2["status"] == "partial" and rep2["stopped_by"] == "budget",
  f"budget between generation and judging: exit {p.returncode} {rep2.get('status')} {rep2.get('stopped_by')}")
t(spent <= budget + 1e-12 and abs(rep2["costs"]["spend_usd"] - spent) < 1e-12, f"spend {spent} within the budget {budget}")
t(len(judge_reqs(api.requests)) < want_judge and not os.path.exists(os.path.join(out2, "train.jsonl")),
  f"judging stopped by the budget ({len(judge_reqs(api.requests))} judge requests), no training files")

# ---- 3. SIGTERM mid-judging, then --resume -----------------------------------------------------
api.reset()
state["answered"] = []
state["hang_after"] = 40
CONC3 = 8
out3 = os.path.join(d, "out3")
cfg3 = make_config("c3.json", defaults={"max_retries": 1, "concurrency": CONC3})
proc = subprocess.Popen([fte.FTEVAL, "distill", cfg3, "--inputs", inputs, "--out", out3, "--quiet"],
                        env=dict(os.environ, **ENV), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
end = time.monotonic() + 60
while time.monotonic() < end and state["hung"] < CONC3:  # every slot holds a hung request: nothing moves
    time.sleep(0.02)
time.sleep(0.2)
proc.send_signal(signal.SIGTERM)
_, err3 = proc.communicate(timeout=60)
first = list(api.requests)
with lock:
    answered1 = list(state["answered"])
    state["hang_after"] = None
state["release"].set()
recs1 = fte.read_jsonl(os.path.join(out3, "run", "teacher.jsonl"))
last1 = {r["id"]: r for r in recs1}
pending_rows = {int(i[3:]) for i, r in last1.items() if r.get("judgements", {}).get("quality", {}).get("pending")}
unwritten = {i for i in range(N) if rows[i]["id"] not in last1}
retry_pending = {int(i[3:]) for i, r in last1.items()
                 if r.get("judgements", {}).get("quality", {}).get("pending")
                 and r["judgements"]["quality"].get("parse_failures") == 1}
t(retry_pending and all(WORDS[i % 8] == "foxtrot" for i in retry_pending),
  f"the stop caught judgements between an unparsable answer and its retry: {sorted(retry_pending)}")
t(proc.returncode == 4 and 0 < len(answered1) < want_judge and pending_rows,
  f"stopped mid-judging: exit {proc.returncode}, {len(answered1)} judge answers, {len(pending_rows)} pending "
  f"{err3.decode()[-300:]}")
api.reset()
p = fte.run("distill", cfg3, "--inputs", inputs, "--out", out3, "--resume", "--quiet", env=ENV)
t(p.returncode == 0, f"resume: exit {p.returncode} {p.stderr[-800:]}")
second = list(api.requests)
keys2 = [jkey(r) for r in judge_reqs(second)]
t(not set(keys2) & set(answered1), f"the resume sends no judge request that was answered before the stop: {sorted(set(keys2) & set(answered1))[:5]} of {len(keys2)}")
t(len(keys2) == len(set(keys2)), "the resume sends each judge request once")
t(all((i, True) in keys2 and (i, False) not in keys2 for i in retry_pending),
  "a judgement stopped after its unparsable answer resumes with its retry, not the first request")
t({k[0] for k in keys2} == pending_rows | unwritten,
  f"the resume judges exactly the rows left unjudged ({len(pending_rows)} pending, {len(unwritten)} unsent)")
gen2 = {row_of(r.json["messages"][-1]["content"]) for r in teacher_reqs(second)}
t(gen2 == unwritten, f"the resume generates only the inputs without a record ({len(gen2)})")
t(len(set(answered1)) + len(set(keys2)) == want_judge, f"judge requests over both sessions = uninterrupted {want_judge}")
rep3 = json.load(open(os.path.join(out3, "distill.json")))
t([(x["name"], x["dropped"]) for x in rep3["gates"]] == [(x["name"], x["dropped"]) for x in rep["gates"]],
  "the resumed gates equal the uninterrupted run's")
t(open(os.path.join(out3, "train.jsonl")).read() == open(os.path.join(out, "train.jsonl")).read(),
  "the resumed train.jsonl equals the uninterrupted run's")
t(abs(rep3["costs"]["judge_usd"] - judge_usd) < 1e-12 and abs(rep3["costs"]["generation_usd"] - gen_usd) < 1e-12,
  f"resumed costs: judge {rep3['costs']['judge_usd']} generation {rep3['costs']['generation_usd']} (counted once)")

# ---- 4. config errors ------------------------------------------------------------------------
api.reset()
for extra, field, words in [({"judge": "pref"}, "distill.judge", "pairwise"),
                            ({"judge": "qualty"}, "distill.judge", "names no judge"),
                            ({"min_score": 6}, "distill.min_score", "outside"),
                            ({"min_score": 0}, "distill.min_score", "outside"),
                            ({"judge": None}, "distill.min_score", "needs distill.judge"),
                            ({"min_score": None}, "distill.judge", "needs distill.min_score")]:
    bad = make_config("bad.json", extra)
    p = fte.run("distill", bad, "--inputs", inputs, "--out", os.path.join(d, "o4"), env=ENV)
    t(p.returncode == 3 and f"bad.json" in p.stderr and field in p.stderr and words in p.stderr,
      f"{extra}: exit {p.returncode} {p.stderr[-300:]}")
t(not api.requests, f"nothing sent by refused configs ({len(api.requests)})")

# ---- 5. the break-even in the decision ---------------------------------------------------------
TRAINING_USD = 2.5
RPM = 250000


def eval_config(name, prices=PRICES, **extra):
    extra = {"baseline_arm": "teacher", "candidate_arm": "student",
             "decision": {"distill_report": os.path.relpath(os.path.join(out, "distill.json"), d)}} | extra
    return fte.config(os.path.join(d, name), held, api.url, ARMS, prices=prices, traffic={"requests_per_month": RPM},
                      training={"cost_usd": TRAINING_USD}, **extra)


api.reset()
eout = os.path.join(d, "eval")
p = fte.run("run", eval_config("eval.json"), "--out", eout, "--quiet", env=ENV)
t(p.returncode == 0, f"evaluate teacher vs student: exit {p.returncode} {p.stderr[-800:]}")
dec = json.load(open(os.path.join(eout, "summary.json")))["decision"]
ds = dec.get("distillation") or {}
n_eval = len(heldout)
t(len(teacher_reqs(api.requests)) == n_eval, "the teacher answered the held-out set")
t_per, s_per = call_usd("teacher-large"), call_usd("student-small")  # every request billed USAGE[model]
saving = t_per - s_per
upfront = gen_usd + judge_usd + TRAINING_USD
want_req = math.ceil(upfront / saving)
t(ds.get("applies") is True and ds["teacher_arm"] == "teacher" and ds["student_arm"] == "student", f"distillation block {ds}")
t(abs(ds["teacher_usd_per_inference"] - t_per) < 1e-15 and abs(ds["student_usd_per_inference"] - s_per) < 1e-15,
  f"cost per inference teacher {ds.get('teacher_usd_per_inference')} ({t_per}), student {ds.get('student_usd_per_inference')} ({s_per})")
t(abs(ds["teacher_monthly_usd"] - t_per * RPM) < 1e-9 and abs(ds["student_monthly_usd"] - s_per * RPM) < 1e-9
  and abs(ds["monthly_saving_usd"] - saving * RPM) < 1e-9, "monthly costs at the config's traffic")
t(abs(ds["generation_usd"] - gen_usd) < 1e-12 and abs(ds["judge_usd"] - judge_usd) < 1e-12
  and ds["training_usd"] == TRAINING_USD and abs(ds["upfront_usd"] - upfront) < 1e-12,
  f"upfront {ds.get('upfront_usd')} = generation {gen_usd} + judging {judge_usd} + training {TRAINING_USD}")
t(ds["break_even_requests"] == want_req and abs(ds["break_even_months"] - want_req / RPM) < 1e-12,
  f"break-even {ds.get('break_even_requests')} requests (want {want_req}), {ds.get('break_even_months')} months")
t(any(r.startswith("distillation: the student pays back") and f"after {want_req} requests" in r for r in dec["reasons"]),
  f"a reason says it: {dec['reasons']}")
t("break_even" in dec and dec["break_even"]["training_cost_usd"] == TRAINING_USD, "the break_even block is kept")
md = open(os.path.join(eout, "report.md")).read()
html = open(os.path.join(eout, "report.html")).read()
t("## Distillation break-even" in md and f"- break-even after (requests): {want_req}" in md, "report.md shows it")
t('id="distillation"' in html and f"<td class=\"num\">{want_req}</td>" in html, "report.html shows it")

# unknown student price: null and said so, never $0
noprice = json.loads(json.dumps(PRICES))
noprice["models"].pop("student-small")
p = fte.run("run", eval_config("eval2.json", prices=noprice), "--out", os.path.join(d, "eval2"), "--quiet", env=ENV)
ds2 = json.load(open(os.path.join(d, "eval2", "summary.json")))["decision"].get("distillation", {})
t(p.returncode == 0 and ds2.get("student_usd_per_inference", 0) is None and ds2.get("break_even_requests", 0) is None
  and ds2.get("monthly_saving_usd", 0) is None and "student cost per inference" in ds2.get("unknown", ""),
  f"unknown student price: nulls and said so: {ds2}")
md2 = open(os.path.join(d, "eval2", "report.md")).read()
t("- student cost per inference: unknown" in md2, "report.md: unknown, not $0")
# the baseline is not the teacher: no break-even, said so
p = fte.run("run", eval_config("eval3.json", baseline_arm="student", candidate_arm="teacher"), "--out",
            os.path.join(d, "eval3"), "--quiet", env=ENV)
ds3 = json.load(open(os.path.join(d, "eval3", "summary.json")))["decision"].get("distillation", {})
t(ds3.get("applies") is False and "not the distill report's teacher" in ds3.get("note", "")
  and "break_even_requests" not in ds3, f"baseline not the teacher: {ds3}")
p = fte.run("run", eval_config("eval4.json", decision={"distill_report": "x", "distill_reprot": "x"}), "--out", os.path.join(d, "eval4"), env=ENV)
t(p.returncode == 3 and "decision.distill_reprot" in p.stderr, f"unknown decision key refused: {p.stderr[-200:]}")
t.done()
