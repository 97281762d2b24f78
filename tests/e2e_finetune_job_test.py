"""Fine-tuning lifecycle end to end (issue 6): `fteval ft upload` -> `create` -> `wait` against
`fteval sim`, then `fteval run` with an arm that names the job ("finetune_job") and asks for its
checkpoints: the job resolves to its fine-tuned model, one arm per checkpoint is added, the job,
base model and trained tokens are recorded in manifest.json, and the trained tokens feed the
break-even. A job that has not succeeded is refused with exit 3 before anything is sent."""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()


def sim_tokens(text):
    """docs/sim.md: a message's content costs ceil(bytes / 4) tokens."""
    return math.ceil(len(text.encode()) / 4)


d = fte.tmpdir()
data = os.path.join(d, "heldout.jsonl")
fte.plain_dataset(data, 40)
train = os.path.join(d, "train.jsonl")
fte.write_jsonl(train, [{"messages": [{"role": "user", "content": f"training question {i} about word {i % 8}"},
                                      {"role": "assistant", "content": "alpha"}]} for i in range(30)])
sim = fte.Sim("--dataset", data, "--ft-step-s", "0.05", "--seed", "4")
env = {"FT_KEY": "sk-test-finetune-0000"}
ftargs = ["--base-url", sim.url, "--api-key-env", "FT_KEY", "--json"]
p = fte.run("ft", "upload", train, *ftargs, env=env)
t(p.returncode == 0, f"upload: {p.returncode} {p.stderr}")
file_id = json.loads(p.stdout)["id"] if p.returncode == 0 else "?"
p = fte.run("ft", "create", "--model", "gpt-4o-mini-2024-07-18", "--training-file", file_id, "--suffix", "e2e",
            *ftargs, env=env)
t(p.returncode == 0, f"create: {p.returncode} {p.stderr}")
job_id = json.loads(p.stdout)["id"] if p.returncode == 0 else "?"

# Before the job finishes, a run naming it is refused with a clear message.
arms = [{"name": "prompted", "provider": "sim", "model": "gpt-4o-mini-2024-07-18", "system": "You are brief."},
        {"name": "tuned", "provider": "sim", "finetune_job": job_id, "checkpoints": True}]
cfg = fte.config(os.path.join(d, "c.json"), data, sim.url, arms,
                 providers={"sim": {"api_key_env": "FT_KEY"}}, baseline_arm="prompted",
                 prices=os.path.join(fte.SRC, "configs", "prices.json"), traffic={"requests_per_month": 1000})
p = fte.run("run", cfg, "--out", os.path.join(d, "early"), env=env)
t(p.returncode == 3 and "arms[1].finetune_job" in p.stderr and "not succeeded" in p.stderr,
  f"an unfinished job is refused: {p.returncode} {p.stderr}")

p = fte.run("ft", "wait", job_id, "--poll-interval", "0.1", "--timeout", "60", *ftargs, env=env)
t(p.returncode == 0, f"wait: {p.returncode} {p.stderr}")
job = json.loads(p.stdout) if p.returncode == 0 else {}
model = job.get("fine_tuned_model") or ""
t(model.startswith("ft:gpt-4o-mini-2024-07-18:"), f"fine-tuned model {model}")

out = os.path.join(d, "run")
p = fte.run("run", cfg, "--out", out, "--quiet", env=env)
t(p.returncode == 0, f"run with a finetune_job arm: {p.returncode} {p.stderr}")
m = json.load(open(os.path.join(out, "manifest.json")))
names = [a["name"] for a in m["arms"]]
t(names[:2] == ["prompted", "tuned"] and len(names) >= 3 and all(n.startswith("tuned-step-") for n in names[2:]),
  f"one arm per checkpoint: {names}")
tuned = next(a for a in m["arms"] if a["name"] == "tuned")
t(tuned["model"] == model and tuned["finetune_job"] == job_id, "the arm's model is the job's fine-tuned model")
jobs = {j["arm"]: j for j in m.get("finetune_jobs", [])}
t(jobs.get("tuned", {}).get("job_id") == job_id and jobs["tuned"].get("base_model") == "gpt-4o-mini-2024-07-18"
  and isinstance(jobs["tuned"].get("trained_tokens"), (int, float)) and jobs["tuned"]["trained_tokens"] > 0,
  f"manifest records job, base model and trained tokens: {jobs.get('tuned')}")
# trained tokens computed here from the training file (docs/sim.md: per example 3 + per message
# 4 + ceil(bytes / 4), times the 3 auto epochs), not read back from fteval
want_tokens = 3 * sum(3 + 4 * 2 + sim_tokens(f"training question {i} about word {i % 8}") + sim_tokens("alpha")
                      for i in range(30))
t(job.get("trained_tokens") == want_tokens, f"the job's trained_tokens {job.get('trained_tokens')}, want {want_tokens}")
t(jobs.get("tuned", {}).get("trained_tokens") == want_tokens and m["config"]["training"].get("trained_tokens") == want_tokens,
  "the manifest and the break-even input carry the job's trained tokens")
for name in names:
    recs = fte.read_jsonl(os.path.join(out, f"{name}.jsonl"))
    t(len(recs) == 40 and all(r["status"] == "ok" for r in recs), f"{name}: 40 answers")
ckpt = [a for a in m["arms"] if a["name"].startswith("tuned-step-")]
t(all(":ckpt-step-" in a["model"] for a in ckpt), "checkpoint arms use the checkpoint models")
s = json.load(open(os.path.join(out, "summary.json")))
be = s["decision"]["break_even"]
rate = json.load(open(os.path.join(fte.SRC, "configs", "prices.json")))["models"]["ft:gpt-4o-mini-2024-07-18"]["training"]
want_cost = want_tokens * rate / 1e6
t(be["training_cost_usd"] is not None and abs(be["training_cost_usd"] - want_cost) < 1e-12,
  f"break-even training cost {be['training_cost_usd']}, want {want_tokens} tokens x ${rate}/1M = {want_cost}")
sim.stop()
t.done()
