"""Streaming end to end against `fteval sim` (issue 15): the time to first token measured within
10 ms of the profile's ttft_ms at 50 and 200 ms, output tokens per second from the inter-token
delay, usage from the final chunk priced exactly, a stream cut mid-way retried and recorded once
(request counts from the sim's log), a stream that stalls before its first token timed out on
first_token_timeout_s and retried, and "stream" in extra_body refused with a config error."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
data = os.path.join(d, "data.jsonl")
N = 8
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
# golds of 4 words: the sim streams one word per chunk, so 3 inter-token gaps follow the first
fte.write_jsonl(data, [{"id": f"ex-{i:03d}", "input": f"question {i}: name four words",
                        "gold": " ".join(WORDS[(i + k) % 8] for k in range(4))} for i in range(N)])
PRICE = {"input": 2.0, "cached_input": 1.0, "output": 8.0, "source": "test", "as_of": "2026-11-30"}


def case(name, ttft_ms, inter_ms=0, faults=(), extra=None, arm_extra=None, concurrency=4):
    profile = os.path.join(d, f"{name}.profile.json")
    fte.write_json(profile, {"rules": [{"name": "all", "model": "*", "accuracy": 1.0, "ttft_ms": ttft_ms,
                                        "inter_token_ms": inter_ms, "latency_ms": 5}]})
    log = os.path.join(d, f"{name}.log")
    args = ["--dataset", data, "--profile", profile, "--seed", "3"]
    for f in faults:
        args += ["--fault", f]
    sim = fte.Sim(*args, log=log)
    arm = {"name": "base", "provider": "sim", "model": "m-stream", "stream": True}
    arm.update(arm_extra or {})
    cfg = fte.config(os.path.join(d, f"{name}.json"), data, sim.url, arms=[arm],
                     defaults={"concurrency": concurrency, "max_tokens": 64},
                     prices={"currency": "USD", "unit": "per_1m_tokens", "models": {"m-stream": PRICE}},
                     **(extra or {}))
    out = os.path.join(d, name)
    p = fte.run("run", cfg, "--out", out, "--quiet")
    sim.stop()
    path = os.path.join(out, "base.jsonl")
    recs = fte.read_jsonl(path) if os.path.exists(path) else []
    return p, recs, fte.read_jsonl(log), out


# TTFT at 50 and 200 ms: every record within 10 ms of the configured value (never below it).
# Under ASan/UBSan both the client and the sim are instrumented and several times slower, so the
# 10 ms precision is the optimised build's claim (CI's first stage); there the median must still
# be within 50 ms, which a TTFT measured from the wrong instant (connect, total time) exceeds.
TOL = 50 if os.environ.get("FTEVAL_SANITIZED") else 10
for ttft in (50, 200):
    p, recs, reqs, out = case(f"ttft{ttft}", ttft, inter_ms=20)
    t(p.returncode == 0, f"ttft{ttft}: exit {p.returncode} {p.stderr}")
    t(len(recs) == N and all(r["status"] == "ok" and r["stream"] is True for r in recs), f"ttft{ttft}: {N} ok streamed records")
    got = sorted(r["ttft_ms"] for r in recs)
    # never before the sim sent the first word; the median within 10 ms of it (a single record may
    # be late when the machine is busy: the median is the measurement)
    t(got[0] >= ttft, f"ttft{ttft}: no ttft_ms below the configured {ttft}: {got}")
    p50 = (got[N // 2 - 1] + got[N // 2]) / 2
    t(ttft <= p50 <= ttft + TOL, f"ttft{ttft}: median ttft_ms {p50} within [{ttft}, {ttft + TOL}]: {got}")
    # each sent body asked for a stream with the usage chunk
    t(all(q["body"].get("stream") is True and q["body"].get("stream_options") == {"include_usage": True}
          for q in reqs), f"ttft{ttft}: every request asked for stream with include_usage")
    # 4 words: 3 gaps of 20 ms after the first token; the rate is completion tokens over the time
    # after the first token (checked from the definition, within the records' 1-microsecond rounding)
    for r in recs:
        gen_s = (r["latency_ms"] - r["ttft_ms"]) / 1000
        want = r["usage"]["completion_tokens"] / gen_s
        if not (gen_s >= 0.03 and abs(r["output_tokens_per_s"] - want) <= want * 1e-3):
            t(False, f"ttft{ttft}: generation {gen_s:.4f}s, output_tokens_per_s {r['output_tokens_per_s']} vs {want}")
            break
    s = json.load(open(os.path.join(out, "summary.json")))
    lat = s["arms"]["base"]["latency_ms"]
    t("ttft" in lat and ttft <= lat["ttft"]["p50"] <= ttft + TOL, f"ttft{ttft}: summary latency_ms.ttft {lat.get('ttft')}")

# Usage from the final chunk is priced exactly: (prompt * 2 + completion * 8) / 1e6 per record.
p, recs, reqs, out = case("priced", 5)
ok = all(r["usage"] is not None and r["cost_usd"] == (r["usage"]["prompt_tokens"] * 2.0 + r["usage"]["completion_tokens"] * 8.0) / 1e6
         for r in recs)
t(len(recs) == N and ok, "priced: cost_usd from the final chunk's usage at the row's prices")
t(all(r["usage"]["prompt_tokens"] == fte.estimate_request_tokens([q]) for r, q in
      zip(sorted(recs, key=lambda r: r["id"]), [x["input"] for x in sorted(fte.read_jsonl(data), key=lambda x: x["id"])])),
  "priced: prompt tokens are the sim's count of the request")

# --cache: a streamed answer is cached as its events and replayed without a request (ttft null).
cache_profile = os.path.join(d, "cache.profile.json")
fte.write_json(cache_profile, {"rules": [{"name": "all", "model": "*", "accuracy": 1.0, "ttft_ms": 5}]})
cache_log = os.path.join(d, "cache.log")
sim = fte.Sim("--dataset", data, "--profile", cache_profile, "--seed", "3", log=cache_log)
cfg = fte.config(os.path.join(d, "cache.json"), data, sim.url, arms=[{"name": "base", "provider": "sim", "model": "m", "stream": True}],
                 defaults={"concurrency": 4, "max_tokens": 64})
runs = []
for i in (1, 2):
    out = os.path.join(d, f"cache{i}")
    p = fte.run("run", cfg, "--cache", "--out", out, "--quiet")
    runs.append({r["id"]: r for r in fte.read_jsonl(os.path.join(out, "base.jsonl"))})
sim.stop()
t(len(fte.read_jsonl(cache_log)) == N, "cache: the second run sent nothing")
t(all(r["cache_hit"] and r["stream"] is True and r["ttft_ms"] is None and r["prediction"] == runs[0][i]["prediction"]
      and r["usage"] == runs[0][i]["usage"] for i, r in runs[1].items()) and len(runs[1]) == N,
  "cache: replayed streams give the same answers and usage, no time to first token")

# A stream cut mid-way (after its first content chunk): retried once, recorded once, ok.
p, recs, reqs, out = case("cut", 5, faults=["stream_cut:first=1"])
t(p.returncode == 0, f"cut: exit {p.returncode} {p.stderr}")
t(len(recs) == N and len({r["id"] for r in recs}) == N, "cut: one record per example")
t(all(r["status"] == "ok" and r["attempts"] == 2 and r["ttft_ms"] is not None for r in recs), "cut: every example ok on attempt 2")
t(len(reqs) == 2 * N, f"cut: the sim saw {len(reqs)} requests, want {2 * N}")
t(sorted(q["fault"] for q in reqs).count("stream_cut") == N, "cut: N cut streams in the log")
t(all(len(r["attempt_costs_usd"]) == 2 for r in recs), "cut: the cut attempt's spend is kept on the record")

# A stream that never sends content: timed out on first_token_timeout_s (0.3 s), retried, ok.
p, recs, reqs, out = case("stall", 5, faults=["stream_stall:first=1"], arm_extra={"first_token_timeout_s": 0.3})
t(p.returncode == 0, f"stall: exit {p.returncode} {p.stderr}")
t(len(recs) == N and all(r["status"] == "ok" and r["attempts"] == 2 for r in recs), "stall: every example ok on attempt 2")
t(len(reqs) == 2 * N, f"stall: the sim saw {len(reqs)} requests, want {2 * N}")
t(p.elapsed < 8, f"stall: took {p.elapsed:.1f}s (first_token_timeout_s 0.3, timeout_s 10)")

# Retries spent on stalls: recorded as timeout errors.
p, recs, reqs, out = case("stall_all", 5, faults=["stream_stall:first=9"],
                          arm_extra={"first_token_timeout_s": 0.2, "max_retries": 1}, concurrency=8)
t(len(recs) == N and all(r["status"] == "error" and r["error"]["kind"] == "timeout" and r["attempts"] == 2
                         and r["ttft_ms"] is None for r in recs), "stall_all: timeout errors after 2 attempts")
t(len(reqs) == 2 * N, f"stall_all: the sim saw {len(reqs)} requests, want {2 * N}")

# "stream" through extra_body: a config error naming the key to use, nothing sent.
p, recs, reqs, out = case("extra", 5, arm_extra={"stream": False, "extra_body": {"stream": True}})
t(p.returncode == 3 and "arms[0].extra_body.stream: streaming is not an extra_body field" in p.stderr
  and '"stream": true on the arm' in p.stderr,
  f"extra: exit {p.returncode}, stderr {p.stderr.strip()}")
t(len(reqs) == 0, "extra: nothing sent")

# Both arms stream: the verdict's latency criterion is TTFT p50 (fast: 40 ms, slow: 160 ms, the same
# total latency by inter-token delays), the report's latency chart shows TTFT beside the total.
profile = os.path.join(d, "two.profile.json")
fte.write_json(profile, {"rules": [
    {"name": "fast", "model": "m-fast", "accuracy": 1.0, "ttft_ms": 40, "inter_token_ms": 60},
    {"name": "slow", "model": "m-slow", "accuracy": 1.0, "ttft_ms": 160, "inter_token_ms": 20}]})
sim = fte.Sim("--dataset", data, "--profile", profile, "--seed", "3")
cfg = fte.config(os.path.join(d, "two.json"), data, sim.url,
                 arms=[{"name": "slow", "provider": "sim", "model": "m-slow"},
                       {"name": "fast", "provider": "sim", "model": "m-fast"}],
                 providers={"sim": {"type": "openai", "base_url": sim.url, "stream": True}},
                 baseline_arm="slow", candidate_arm="fast", defaults={"concurrency": 4, "max_tokens": 64})
out = os.path.join(d, "two")
p = fte.run("run", cfg, "--out", out, "--quiet")
sim.stop()
s = json.load(open(os.path.join(out, "summary.json")))
dec = s.get("decision", {})
want = (s["arms"]["fast"]["latency_ms"]["ttft"]["p50"] - s["arms"]["slow"]["latency_ms"]["ttft"]["p50"]) / \
    s["arms"]["slow"]["latency_ms"]["ttft"]["p50"]
t(dec.get("latency_measure") == "ttft_p50" and abs(dec.get("p50_latency_change") - want) < 1e-12,
  f"two: the verdict compares TTFT p50 ({dec.get('latency_measure')}, {dec.get('p50_latency_change')} vs {want})")
t(-0.8 < want < -0.5, f"two: TTFT p50 change {want:.3f}, about (40 - 160) / 160 = -0.75")
reasons = " | ".join(dec.get("reasons", []))
t("p50 time to first token" in reasons and "uses TTFT p50" in reasons, f"two: the reason says so: {reasons}")
html = open(os.path.join(out, "report.html")).read()
t('class="box ttft"' in html and "TTFT p50" in html, "two: the latency chart shows TTFT and total")

sys.exit(t.done())
