"""Issue 11 §1 against the adversarial server: a run that cannot support a verdict says so.

- Ctrl-C at n of 500: exit 4, summary "status": "incomplete", decision.verdict "incomplete" with the
  exact resume command, a grey box in the reports, "decision: ship_candidate" never printed, and
  "N request(s) not sent" the true planned - recorded; the resumed run then earns its verdict;
- a mistyped model (404 on its first request): the run stops with the server's own message after
  exactly one request per (provider, model);
- an arm on a dead port: exit 4 (outage, resumable), verdict "invalid" naming "Couldn't connect";
- an arm the server refuses every time (400) or that refuses every answer: verdict "invalid" with
  the cause, a red box, exit 1;
- an outage mid-run (the endpoint stops answering after 100 requests) on 500 examples: exit 4 with
  the resume command, not exit 1; the resume completes.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import adv  # noqa: E402
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
N = 500
data = os.path.join(d, "data.jsonl")
fte.plain_dataset(data, N)
BASE = "gpt-4o-mini-2024-07-18"
FT = "ft:gpt-4o-mini-2024-07-18:org:demo:abc123"
ARMS = [{"name": "prompted", "provider": "sim", "model": BASE}, {"name": "finetuned", "provider": "sim", "model": FT}]
# the baseline answers wrong, the candidate right: a complete run says ship_candidate
WRONG_BASE = {"when": {"model": BASE}, "do": {"answer": "zulu"}}


def summary(out):
    return json.load(open(os.path.join(out, "summary.json")))


def records(out, arm):
    p = os.path.join(out, f"{arm}.jsonl")
    return fte.read_jsonl(p) if os.path.exists(p) else []


# ---- interrupted at n of 500 ----------------------------------------------------------------
srv = adv.Adv(d, "intr", {"rules": [WRONG_BASE], "default": {"hang": 0.02}})
cfg = fte.config(os.path.join(d, "intr.json"), data, srv.url, ARMS, defaults={"concurrency": 4})
out = os.path.join(d, "intr")
proc = subprocess.Popen([fte.FTEVAL, "run", cfg, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
fte._procs.append(proc)
deadline = time.time() + 60
while time.time() < deadline and len(records(out, "finetuned")) < 60:
    time.sleep(0.05)
proc.send_signal(signal.SIGINT)
stdout, stderr = proc.communicate(timeout=120)
n_rec = len(records(out, "prompted")) + len(records(out, "finetuned"))
t(proc.returncode == 4, f"interrupt: exit {proc.returncode}, want 4: {stderr[-400:]}")
t(0 < n_rec < 2 * N, f"interrupt: {n_rec} records")
t(f"interrupted: {2 * N - n_rec} request(s) not sent" in stderr,
  f"interrupt: the true unsent count {2 * N - n_rec}: {stderr[-400:]}")
s = summary(out)
t(s["status"] == "incomplete", f"interrupt: summary status {s.get('status')}")
for arm in ("prompted", "finetuned"):
    a = s["arms"][arm]
    t(a["n_planned"] == N and a["n_missing"] == N - len(records(out, arm)) and a["n_refusals"] == 0
      and a["errors_by_kind"] == {}, f"interrupt: {arm} counts {a}")
dec = s["decision"]
resume = f"fteval run {cfg} --resume --out {out}"
t(dec["verdict"] == "incomplete", f"interrupt: verdict {dec['verdict']}")
t(any(resume in r for r in dec["reasons"]), f"interrupt: reasons name the resume command: {dec['reasons']}")
t("ship_candidate" not in stdout and "decision: incomplete" in stdout, f"interrupt: stdout {stdout[-300:]}")
md = open(os.path.join(out, "report.md")).read()
html = open(os.path.join(out, "report.html")).read()
t("INCOMPLETE" in md and "Ship the candidate" not in md, "interrupt: report.md says incomplete")
t('class="verdict v-none"' in html and "v-ship" not in html.split('id="verdict"')[0][-80:],
  "interrupt: report.html grey box")
srv.stop()
# resumed to completion, the same evidence earns its verdict
srv = adv.Adv(d, "intr2", {"rules": [WRONG_BASE]}, port=srv.port)
p = fte.run("run", cfg, "--resume", "--out", out)
srv.stop()
s = summary(out)
t(p.returncode == 0 and s["status"] == "complete" and s["decision"]["verdict"] == "ship_candidate",
  f"interrupt resumed: exit {p.returncode}, {s['status']}, {s['decision']['verdict']}: {p.stderr[-300:]}")

# ---- a mistyped model: 404 on its first request stops everything ------------------------------
NOT_FOUND = {"status": 404, "error": {"message": "The model `ft:gpt-4o-mini:typo` does not exist or you do not have "
                                                 "access to it.", "type": "invalid_request_error",
                                      "code": "model_not_found"}}
srv = adv.Adv(d, "typo", {"rules": [{"when": {"model": "ft:gpt-4o-mini:typo"}, "do": NOT_FOUND}]})
cfg = fte.config(os.path.join(d, "typo.json"), data, srv.url,
                 [ARMS[0], {"name": "finetuned", "provider": "sim", "model": "ft:gpt-4o-mini:typo"}])
p = fte.run("run", cfg, "--out", os.path.join(d, "typo"))
srv.stop()
log = srv.log()
t(p.returncode == 4, f"typo: exit {p.returncode}, want 4")
t(len(log) == 2 and [e["model"] for e in log] == [BASE, "ft:gpt-4o-mini:typo"],
  f"typo: {len(log)} requests, want exactly the first of each (provider, model)")
t("HTTP 404" in p.stderr and "The model `ft:gpt-4o-mini:typo` does not exist" in p.stderr,
  f"typo: the server's own message: {p.stderr[-400:]}")
t("ship_candidate" not in p.stdout, "typo: no verdict printed")

# ---- a dead port: outage, exit 4, invalid naming the cause -------------------------------------
srv = adv.Adv(d, "dead", {"rules": [WRONG_BASE]})
dead = f"http://127.0.0.1:{adv.dead_port()}/v1"
cfg = fte.config(os.path.join(d, "dead.json"), data, srv.url,
                 [ARMS[0], {"name": "finetuned", "provider": "dead", "model": FT}],
                 providers={"dead": {"type": "openai", "base_url": dead}},
                 defaults={"max_retries": 1})
out = os.path.join(d, "dead")
p = fte.run("run", cfg, "--out", out)
srv.stop()
t(p.returncode == 4, f"dead: exit {p.returncode}, want 4: {p.stderr[-400:]}")
t("not answering" in p.stderr and f"resume with: fteval run {cfg} --resume --out {out}" in p.stderr,
  f"dead: outage message and resume command: {p.stderr[-400:]}")
s = summary(out)
dec = s["decision"]
t(dec["verdict"] == "invalid" and any("Couldn't connect" in r for r in dec["reasons"]),
  f"dead: verdict {dec['verdict']} {dec['reasons']}")
t(s["arms"]["finetuned"]["errors_by_kind"]["connection"]["count"] == len(records(out, "finetuned")) == 1,
  f"dead: one probe recorded: {s['arms']['finetuned']}")
t(len(records(out, "prompted")) == N and len(srv.log()) == N, "dead: the other provider finished its arm")
t("ship_candidate" not in p.stdout and "decision: invalid" in p.stdout, f"dead: stdout {p.stdout[-200:]}")

# ---- every request refused (400), or every answer a refusal: invalid, red box, exit 1 ----------
small = os.path.join(d, "small.jsonl")
fte.plain_dataset(small, 40)
BAD = {"status": 400, "error": {"message": "Unsupported parameter: 'temperature' is not supported with this model.",
                                "type": "invalid_request_error", "code": "unsupported_parameter"}}
for name, rule, cause in (("refused400", BAD, "Unsupported parameter"), ("refusals", {"refuse": True}, "refusal")):
    srv = adv.Adv(d, name, {"rules": [WRONG_BASE, {"when": {"model": FT}, "do": rule}]})
    cfg = fte.config(os.path.join(d, f"{name}.json"), small, srv.url, ARMS)
    out = os.path.join(d, name)
    p = fte.run("run", cfg, "--out", out)
    srv.stop()
    s = summary(out)
    dec = s["decision"]
    t(p.returncode == 1, f"{name}: exit {p.returncode}, want 1")
    t(s["status"] == "complete" and dec["verdict"] == "invalid", f"{name}: {s['status']} {dec['verdict']}")
    t(any(cause in r for r in dec["reasons"]), f"{name}: reasons name the cause: {dec['reasons']}")
    t('class="verdict v-invalid"' in open(os.path.join(out, "report.html")).read(), f"{name}: red box")
    t("INVALID" in open(os.path.join(out, "report.md")).read(), f"{name}: report.md")
    if name == "refusals":
        t(s["arms"]["finetuned"]["n_refusals"] == 40, f"refusals: n_refusals {s['arms']['finetuned']['n_refusals']}")
    else:
        k = s["arms"]["finetuned"]["errors_by_kind"]["bad_request"]
        t(k["count"] == 40 and k["http_status"] == 400 and "Unsupported parameter" in k["example_message"],
          f"refused400: errors_by_kind {k}")
        t(any(f"fteval run {cfg}" in r and "--resume" not in r for r in dec["reasons"]),
          "refused400: a final error needs a new run, and the reasons say so")

# ---- outage mid-run: exit 4 and the resume command --------------------------------------------
srv = adv.Adv(d, "outage", {"outage_after": 100, "outage_mode": "refuse"})
cfg = fte.config(os.path.join(d, "outage.json"), data, srv.url, defaults={"concurrency": 8, "max_retries": 2})
out = os.path.join(d, "outage")
p = fte.run("run", cfg, "--out", out, "--quiet")
recs = records(out, "base")
t(p.returncode == 4, f"outage: exit {p.returncode}, want 4 (not 1): {p.stderr[-400:]}")
t(f"resume with: fteval run {cfg} --resume --out {out}" in p.stderr, "outage: resume command")
t(len([r for r in recs if r["status"] == "ok"]) == 100, "outage: the 100 answers are recorded")
t(all(r["error"]["kind"] == "connection" for r in recs if r["status"] != "ok"), "outage: the rest are connection errors")
s = summary(out)
t(s["status"] == "incomplete" and s["arms"]["base"]["n_missing"] == N - len(recs),
  f"outage: summary {s['status']} {s['arms']['base'].get('n_missing')}")
port = srv.port
srv.stop()
srv = adv.Adv(d, "outage2", {}, port=port)
p = fte.run("run", cfg, "--resume", "--out", out, "--quiet")
srv.stop()
final = {r["id"]: r for r in records(out, "base")}
t(p.returncode == 0 and len(final) == N and all(r["status"] == "ok" for r in final.values()),
  f"outage resumed: exit {p.returncode}")
t(len(srv.log()) == N - 100, f"outage resumed: {len(srv.log())} requests, want {N - 100}")
t.done()
