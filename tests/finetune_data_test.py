"""Issue 11 §8, "Fine-tuning data that OpenAI will accept", end to end against `fteval sim`:
  - `ft upload` refuses rows OpenAI's fine-tuning rejects (plain-shape rows, no messages, last
    message not the assistant's, invalid role, empty content, < 10 examples) with exit 3 naming
    file, line and field, before anything is uploaded — even with --force;
  - `data check` flags plain-shape rows as not fine-tunable (one warning; --for finetune blocks
    per row; --for eval accepts them);
  - `data to-chat` writes chat rows in the exact production format: the messages equal what
    `fteval run` sent for that arm (minus few-shot) plus the gold as the final assistant message;
    rows without a gold are refused; the result uploads.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
log = os.path.join(d, "sim.log")
sim = fte.Sim("--seed", "1", log=log)
KEY_ENV = {"FT_DATA_KEY": "sk-test-finetune-data-0123456789"}


def ft(*args):
    return fte.run("ft", *args, "--base-url", sim.url, "--api-key-env", "FT_DATA_KEY", env=KEY_ENV)


def uploads():
    if not os.path.exists(log):
        return 0
    return sum(1 for ln in open(log) if ln.strip() and json.loads(ln)["method"] == "POST"
               and json.loads(ln)["path"].endswith("/files"))


def chat_row(i):
    return {"messages": [{"role": "system", "content": "You route support tickets."},
                         {"role": "user", "content": f"ticket {i}: my card {i} was declined"},
                         {"role": "assistant", "content": ["card", "billing", "other"][i % 3]}]}


def training_file(name, bad_line, bad_row, n=12):
    """n valid chat rows with bad_row at 1-based line bad_line."""
    rows = [chat_row(i) for i in range(n)]
    rows.insert(bad_line - 1, bad_row)
    path = os.path.join(d, name)
    fte.write_jsonl(path, rows)
    return path


# ---- 1. ft upload refuses what OpenAI's fine-tuning rejects -----------------------------------
good = training_file("good.jsonl", 1, chat_row(99))
cases = [
    ("plain.jsonl", 3, {"id": "p", "input": "where is my card?", "gold": "card"}, "messages"),
    ("nomessages.jsonl", 2, {"prompt": "where is my card?", "completion": "card"}, "messages"),
    ("lastuser.jsonl", 4, {"messages": [{"role": "user", "content": "a"},
                                        {"role": "assistant", "content": "b"},
                                        {"role": "user", "content": "c"}]}, "messages"),
    ("badrole.jsonl", 5, {"messages": [{"role": "user", "content": "a"},
                                       {"role": "bot", "content": "b"}]}, "messages[1].role"),
    ("empty.jsonl", 6, {"messages": [{"role": "user", "content": "a"},
                                     {"role": "assistant", "content": ""}]}, "messages[1].content"),
    ("emptyuser.jsonl", 2, {"messages": [{"role": "user", "content": "  "},
                                         {"role": "assistant", "content": "b"}]},
     "messages[0].content"),
]
for name, line, row, field in cases:
    path = training_file(name, line, row)
    for extra in ([], ["--force"]):
        before = uploads()
        p = ft("upload", path, *extra)
        t(p.returncode == 3 and f"{name}:{line}: field '{field}'" in p.stderr and uploads() == before,
          f"ft upload {name} {' '.join(extra)}: exit 3 naming {name}:{line} field '{field}', nothing "
          f"uploaded (exit {p.returncode}, {uploads() - before} upload(s)): {p.stderr.strip()[-300:]}")
few = os.path.join(d, "few.jsonl")
fte.write_jsonl(few, [chat_row(i) for i in range(5)])
before = uploads()
p = ft("upload", few)
t(p.returncode == 3 and "few.jsonl" in p.stderr and "10" in p.stderr and uploads() == before,
  f"ft upload of 5 examples: exit 3 (OpenAI needs 10), nothing uploaded: {p.stderr.strip()}")
before = uploads()
p = ft("upload", good)
t(p.returncode == 0 and p.stdout.strip().startswith("file-") and uploads() == before + 1,
  f"a valid chat file uploads: {p.returncode} {p.stderr}")

# ---- 2. data check flags plain-shape rows as not fine-tunable ---------------------------------
plain = os.path.join(d, "plain_set.jsonl")
rows = [{"id": f"q{i}", "input": f"question {i}", "context": f"context {i}",
         "gold": ["alpha", "bravo", "charlie"][i % 3]} for i in range(12)]
fte.write_jsonl(plain, rows)
rep_path = os.path.join(d, "check.json")
p = fte.run("data", "check", plain, "--json", rep_path)
rep = json.load(open(rep_path))
flag = [f for f in rep["findings"] if f["kind"] == "plain_not_finetunable"]
t(p.returncode == 0 and len(flag) == 1 and flag[0]["severity"] == "warning" and flag[0]["line"] == 1
  and "to-chat" in flag[0]["message"] and rep["purpose"] == "any",
  f"data check: one warning for plain rows, exit 0: {p.returncode} {flag}")
p = fte.run("data", "check", plain, "--for", "finetune", "--json", rep_path)
rep = json.load(open(rep_path))
flag = [f for f in rep["findings"] if f["kind"] == "plain_not_finetunable"]
t(p.returncode == 1 and len(flag) == 12 and all(f["severity"] == "blocking" for f in flag)
  and [f["line"] for f in flag] == list(range(1, 13)) and rep["purpose"] == "finetune",
  f"data check --for finetune: every plain row blocks: {p.returncode} {len(flag)}")
p = fte.run("data", "check", plain, "--for", "eval", "--json", rep_path)
rep = json.load(open(rep_path))
t(p.returncode == 0 and not [f for f in rep["findings"] if f["kind"] == "plain_not_finetunable"],
  "data check --for eval: plain rows are a fine held-out set")
p = fte.run("data", "check", plain, "--for", "training")
t(p.returncode == 2, "data check --for training: usage error")

# ---- 3. data to-chat: the exact production format ---------------------------------------------
with open(os.path.join(d, "sys.txt"), "w") as f:
    f.write("You are a careful support agent. Answer with one word.")
fte.write_jsonl(os.path.join(d, "fewshot.jsonl"), [{"input": "question x", "context": "c", "gold": "alpha"}])
arms = [
    {"name": "base", "provider": "sim", "model": "gpt-4o-mini-2024-07-18"},
    {"name": "prompted", "provider": "sim", "model": "gpt-4o-mini-2024-07-18",
     "system": "@sys.txt", "few_shot": "fewshot.jsonl"},
    {"name": "finetuned", "provider": "sim", "model": "ft:gpt-4o-mini-2024-07-18:acme::t1",
     "system": "You route tickets."},
]
cfg = fte.config(os.path.join(d, "c.json"), "plain_set.jsonl", sim.url, arms,
                 task={"template": "Question: {input}\nContext: {context}"},
                 baseline_arm="prompted")
out = os.path.join(d, "chat.jsonl")
p = fte.run("data", "to-chat", plain, "--config", cfg, "--out", out)
t(p.returncode == 0 and "finetuned" in p.stdout, f"to-chat (default arm): {p.returncode} {p.stderr}")
conv = fte.read_jsonl(out) if os.path.exists(out) else []
want = [{"messages": [{"role": "system", "content": "You route tickets."},
                      {"role": "user", "content": f"Question: {r['input']}\nContext: {r['context']}"},
                      {"role": "assistant", "content": r["gold"]}]} for r in rows]
t(conv == want, "default arm = the candidate (fine-tuned) arm: its system prompt, the template, "
  "the gold last, nothing else")

# what `fteval run` actually sends for each arm, from the simulator's log
run_out = os.path.join(d, "run")
p = fte.run("run", cfg, "--out", run_out, "--quiet")
t(p.returncode in (0, 1), f"run against sim: {p.returncode} {p.stderr}")
sent = {}
for ln in open(log):
    e = json.loads(ln)
    if e["path"].endswith("/chat/completions") and "body" in e:
        sent.setdefault(e["body"]["model"], []).append(e["body"]["messages"])
ft_sent = sent.get("ft:gpt-4o-mini-2024-07-18:acme::t1", [])
t(len(ft_sent) == 12 and sorted(json.dumps(m) for m in ft_sent) ==
  sorted(json.dumps(r["messages"][:-1]) for r in conv),
  "to-chat prompts are byte-for-byte the messages run sent to the fine-tuned arm")

out2 = os.path.join(d, "chat_prompted.jsonl")
p = fte.run("data", "to-chat", plain, "--config", cfg, "--out", out2, "--arm", "prompted")
conv2 = fte.read_jsonl(out2) if os.path.exists(out2) else []
pr_sent = [m for m in sent.get("gpt-4o-mini-2024-07-18", []) if m[0]["role"] == "system"]
t(p.returncode == 0 and "few-shot pairs left out" in p.stdout and len(conv2) == 12 and
  all(len(r["messages"]) == 3 for r in conv2) and
  sorted(json.dumps(r["messages"][:-1]) for r in conv2) ==
  sorted(json.dumps([m[0], m[-1]]) for m in pr_sent),
  f"--arm prompted: its system prompt and template, without its few-shot pairs: {p.stdout}")

p = ft("upload", out)
t(p.returncode == 0, f"the to-chat output uploads: {p.returncode} {p.stderr}")
p = fte.run("data", "check", out, "--for", "finetune")
t(p.returncode == 0, f"the to-chat output passes data check --for finetune: {p.stdout[-400:]}")

# no API key needed to convert (nothing is sent)
cfg_key = fte.config(os.path.join(d, "c_key.json"), "plain_set.jsonl", sim.url, arms,
                     task={"template": "Question: {input}\nContext: {context}"},
                     providers={"sim": {"api_key_env": "FT_DATA_UNSET_KEY"}})
env = {k: v for k, v in os.environ.items() if k != "FT_DATA_UNSET_KEY"}
p = fte.run("data", "to-chat", plain, "--config", cfg_key, "--out", os.path.join(d, "k.jsonl"), env=env)
t(p.returncode == 0, f"to-chat works without the API key in the environment: {p.stderr}")

# refusals: a missing gold, an unanswerable row, an unknown arm; nothing written
bad = os.path.join(d, "nogold.jsonl")
fte.write_jsonl(bad, rows[:3] + [{"id": "x", "input": "no gold here", "context": "c"}] + rows[3:5])
bad_out = os.path.join(d, "nogold_chat.jsonl")
p = fte.run("data", "to-chat", bad, "--config", cfg, "--out", bad_out)
t(p.returncode == 3 and "nogold.jsonl:4" in p.stderr and "gold" in p.stderr and
  not os.path.exists(bad_out), f"a row without gold is refused (exit 3, line 4): {p.stderr}")
unans = os.path.join(d, "unanswerable.jsonl")
fte.write_jsonl(unans, rows[:2] + [{"id": "u", "input": "q", "context": "c", "gold": ""}])
p = fte.run("data", "to-chat", unans, "--config", cfg, "--out", bad_out)
t(p.returncode == 3 and "unanswerable.jsonl:3: field 'gold'" in p.stderr and
  not os.path.exists(bad_out), f"an unanswerable row is refused: {p.stderr}")
p = fte.run("data", "to-chat", plain, "--config", cfg, "--out", bad_out, "--arm", "nope")
t(p.returncode == 2 and "nope" in p.stderr, "--arm of an unknown arm: usage error")
p = fte.run("data", "to-chat", plain, "--out", bad_out)
t(p.returncode == 2, "to-chat without --config: usage error")

sim.stop()
t.done()
