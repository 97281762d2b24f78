#!/usr/bin/env python3
"""row_shape_test.py — `run`, `score` and `data check` read a dataset row the same way (issue 10:
one row-shape parser, input/data_row.h).

Each tricky row below goes, in its own file, to
  * `fteval run CONFIG --dry-run`      (validates the whole dataset, sends nothing): exit 0 or 3,
  * `fteval score --dataset FILE ...`  exit 0 or 3,
  * `fteval data check FILE --for eval --json OUT`: exit 0 (nothing blocks) or 1 (blocking),
and the three must agree with each other and with the rule written here from docs/data.md and
DESIGN §3. Then one accepted file with content parts goes through a real `run` against a local
fake API and through `score` and `data check`, to show the text they all see: parts concatenated
with nothing between them ("Hel" + "lo" = "Hello" sent; gold "a" + "b" = "ab").
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, openai_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
DEAD_URL = "http://127.0.0.1:9/v1"  # --dry-run never connects


def chat(user, gold, **extra):
    return dict({"messages": [{"role": "user", "content": user},
                              {"role": "assistant", "content": gold}]}, **extra)


def parts(*texts):
    return [{"type": "text", "text": x} for x in texts]


# (name, rows, accepted): accepted = what DESIGN §3 and docs/data.md say `run` must do
CASES = [
    ("chat_parts", [chat(parts("Hel", "lo"), parts("a", "b"), id="p1")], True),
    ("chat_null_user", [chat(None, "x", id="n1")], False),
    ("chat_null_gold", [chat("q", None, id="n2")], False),
    ("chat_missing_content", [{"id": "n3", "messages": [{"role": "user"},
                                                       {"role": "assistant", "content": "x"}]}], False),
    ("chat_empty_gold_unanswerable", [chat("q", "", id="u1")], True),
    ("chat_part_without_type", [chat([{"text": "q"}], "x", id="t1")], False),
    ("chat_part_not_text", [chat(parts("q") + [{"type": "image_url", "image_url": {"url": "x"}}],
                                 "x", id="t2")], False),
    ("chat_last_not_assistant", [{"id": "l1", "messages": [{"role": "user", "content": "q"}]}], False),
    ("chat_numeric_id", [chat("q", "x", id=7), chat("r", "y", id=8.5)], True),
    ("chat_numeric_id_duplicate", [chat("q", "x", id=7), chat("r", "y", id="7")], False),
    ("chat_bool_id", [chat("q", "x", id=True)], False),
    ("chat_no_id_line_n_clash", [chat("q", "x", id="line-2"), chat("r", "y")], False),
    ("plain_missing_gold", [{"id": "g1", "input": "q"}], False),
    ("plain_null_gold", [{"id": "g2", "input": "q", "gold": None}], False),
    ("plain_unanswerable", [{"id": "g3", "input": "q", "gold": ""},
                            {"id": "g4", "input": "r", "gold": []}], True),
    ("plain_structured_gold", [{"id": "g5", "input": "q", "gold": {"a": 1}}], True),
    ("plain_numeric_id_duplicate", [{"id": 1, "input": "q", "gold": "x"},
                                    {"id": 1.0, "input": "r", "gold": "y"}], False),
    ("plain_empty_id", [{"id": "", "input": "q", "gold": "x"}], False),
    ("dpo_row", [{"input": {"messages": [{"role": "user", "content": "q"}]},
                  "preferred_output": [{"role": "assistant", "content": "a"}],
                  "non_preferred_output": [{"role": "assistant", "content": "b"}]}], False),
]


def ids_of(rows):
    out = []
    for i, r in enumerate(rows, 1):
        v = r.get("id")
        out.append(f"line-{i}" if v is None else (v if isinstance(v, str) else json.dumps(v)))
    return out


for name, rows, accepted in CASES:
    data = os.path.join(d, f"{name}.jsonl")
    fte.write_jsonl(data, rows)
    cfg = fte.config(os.path.join(d, f"{name}.json"), data, DEAD_URL)
    p_run = fte.run("run", cfg, "--dry-run")
    pred = os.path.join(d, f"{name}.pred.jsonl")
    fte.write_jsonl(pred, [{"id": i, "prediction": "x"} for i in ids_of(rows)])
    p_score = fte.run("score", "--dataset", data, "--pred", f"base={pred}",
                      "--out", os.path.join(d, f"{name}.score"))
    rep_path = os.path.join(d, f"{name}.check.json")
    p_check = fte.run("data", "check", data, "--for", "eval", "--json", rep_path)
    want_run = 0 if accepted else 3
    t(p_run.returncode == want_run,
      f"{name}: run --dry-run exit {p_run.returncode}, want {want_run} ({p_run.stderr.strip()[:200]})")
    t(p_score.returncode == want_run,
      f"{name}: score exit {p_score.returncode}, want {want_run} ({p_score.stderr.strip()[:200]})")
    t(p_check.returncode == (0 if accepted else 1),
      f"{name}: data check --for eval exit {p_check.returncode}, want {0 if accepted else 1}")
    rep = json.load(open(rep_path)) if os.path.exists(rep_path) else {}
    blocking_lines = sorted({f["line"] for f in rep.get("findings", []) if f["severity"] == "blocking"})
    t(rep.get("blocking") is (not accepted),
      f"{name}: data check blocking={rep.get('blocking')}, want {not accepted} (lines {blocking_lines})")
    if not accepted:
        # the line run names is one data check blocks
        run_line = None
        for word in p_run.stderr.split():
            if word.startswith(data + ":"):
                run_line = int(word[len(data) + 1:].split(":")[0])
                break
        t(run_line in blocking_lines,
          f"{name}: run rejects line {run_line}, data check blocks lines {blocking_lines}")

# ---- the text they all see: content parts concatenated, nothing between them ------------------
api = FakeAPI(lambda req: Reply(200, openai_answer("ab")))
data = os.path.join(d, "chat_parts.jsonl")
cfg = fte.config(os.path.join(d, "parts_run.json"), data, api.url)
p = fte.run("run", cfg, "--out", os.path.join(d, "parts_run"), "--quiet")
api.stop()
t(p.returncode == 0 and len(api.requests) == 1, f"parts: run exit {p.returncode}, {len(api.requests)} requests")
sent = api.requests[0].json["messages"] if api.requests else []
t(sent == [{"role": "user", "content": "Hello"}], f"parts: run sends the parts joined as 'Hello': {sent}")
summ = json.load(open(os.path.join(d, "parts_run", "summary.json")))
t(summ["arms"]["base"]["metrics"]["exact_match"]["mean"] == 1.0,
  "parts: run's gold is 'ab' (the answer 'ab' scores 1)")
pred = os.path.join(d, "parts.pred.jsonl")
fte.write_jsonl(pred, [{"id": "p1", "prediction": "ab"}])
p = fte.run("score", "--dataset", data, "--pred", f"base={pred}", "--out", os.path.join(d, "parts_score"))
summ = json.load(open(os.path.join(d, "parts_score", "summary.json")))
t(p.returncode == 0 and summ["arms"]["base"]["metrics"]["exact_match"]["mean"] == 1.0,
  "parts: score's gold is 'ab' too")
rep = json.load(open(os.path.join(d, "chat_parts.check.json")))
t(rep["lengths"]["user"]["chars"] == 5 and rep["lengths"]["assistant"]["chars"] == 2,
  f"parts: data check measures 'Hello' (5) and 'ab' (2): {rep['lengths']}")

t.done()
