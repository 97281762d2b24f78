"""The budget counts what requests in flight may still cost (docs/config.md budget.max_usd): with
concurrency 8 the runner must not start a request whose worst case, added to the spend so far and
to the worst cases already in flight, would pass the budget (mutant runner-budget-reservations).

The worst case of a request is computed here from the price row, not read from fteval: with an
input price of 0 it is max_tokens x the output price, whatever the prompt estimate. Prices:
output $10,000 per 1M tokens, max_tokens 100: worst case $1.00 per request, and the server bills
exactly that (100 completion tokens). Budget $2.50: at most 2 requests may be open at once, and
after those 2 ($2.00 spent) the next worst case ($1.00) no longer fits, so the run stops with
exit 4 after exactly 2 requests. The server holds each answer 0.3 s so that all 8 would overlap
if the runner admitted them on the spend alone."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402
from advserver import FakeAPI, Reply, openai_answer, gold_answer  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
MAX_TOKENS = 100
OUTPUT_PER_1M = 10000.0
WORST = MAX_TOKENS * OUTPUT_PER_1M / 1e6  # $1.00: input is free
BUDGET = 2.5

api = FakeAPI(lambda req: Reply(200, openai_answer(gold_answer(req), prompt_tokens=20,
                                                   completion_tokens=MAX_TOKENS), delay=0.3))
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, 20)
prices = {"currency": "USD", "unit": "per_1m_tokens",
          "models": {"m": {"input": 0.0, "output": OUTPUT_PER_1M, "source": "test", "as_of": "2026-11-30"}}}
cfg = fte.config(os.path.join(d, "cfg.json"), data, api.url, [{"name": "a", "provider": "sim", "model": "m"}],
                 prices=prices, budget={"max_usd": BUDGET},
                 defaults={"concurrency": 8, "max_tokens": MAX_TOKENS, "max_retries": 0})
p = fte.run("run", cfg, "--out", os.path.join(d, "out"), "--quiet")
t(p.returncode == 4, f"exit {p.returncode}, want 4 (budget): {p.stderr}")
t("budget" in p.stderr, f"the stop names the budget: {p.stderr}")
t(api.max_in_flight <= int(BUDGET // WORST),
  f"{api.max_in_flight} requests in flight at once; the budget admits {int(BUDGET // WORST)}")
t(len(api.requests) == 2, f"{len(api.requests)} requests sent, want 2 (2 x ${WORST:.2f} of ${BUDGET})")
recs = fte.read_jsonl(os.path.join(d, "out", "a.jsonl"))
t(len(recs) == 2, f"{len(recs)} records, want 2")
spent = sum(r["cost_usd"] for r in recs if r.get("cost_usd") is not None)
t(all(r.get("cost_usd") is not None and abs(r["cost_usd"] - WORST) < 1e-12 for r in recs),
  f"each record costs ${WORST:.2f}: {[r.get('cost_usd') for r in recs]}")
t(spent <= BUDGET, f"spent ${spent:.2f} > budget ${BUDGET:.2f}")
api.stop()
t.done()
