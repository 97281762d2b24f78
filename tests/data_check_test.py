#!/usr/bin/env python3
"""data_check_test.py — `fteval data check` end to end with planted problems.

Every input is generated here (small JSONL files in a temporary folder). Exit 77 = skipped.
"""
import json
import shutil
import os
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from skip import skip_or_fail  # noqa: E402  (missing dependency: skipped, or failed under CI)

FTEVAL = os.environ.get("FTEVAL")
failures = 0
passed = 0


def check(cond, what):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def run(*args):
    p = subprocess.run([FTEVAL, "data", *args], capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(path, lines):
    with open(path, "wb") as f:
        for line in lines:
            if isinstance(line, (dict, list)):
                line = json.dumps(line)
            if isinstance(line, str):
                line = line.encode("utf-8")
            f.write(line + b"\n")
    return path


def chat(user, answer, system="You classify banking questions.", **extra):
    msgs = []
    if system is not None:
        msgs.append({"role": "system", "content": system})
    msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    row = {"messages": msgs}
    row.update(extra)
    return row


QUESTIONS = [
    "How do I activate my new card?", "Why is my transfer still pending after two days?",
    "Can I change my PIN at an ATM?", "What is the exchange rate for euros today?",
    "My card payment was declined at the shop", "How long does a top up by bank transfer take?",
    "I want to close my account", "Where can I see my statement for last month?",
    "Why was I charged a fee for withdrawing cash?", "How do I verify my identity in the app?",
    "Is there a limit on how much I can send abroad?", "Someone else used my card without permission",
    "Do you support Apple Pay and Google Pay?", "My refund has not appeared in the account yet",
]


def clean_rows():
    labels = ["card", "transfer", "account"]
    return [chat(q, labels[i % 3], id=f"ex-{i}") for i, q in enumerate(QUESTIONS)]


def report(path_json):
    with open(path_json, encoding="utf-8") as f:
        return json.load(f)


def findings(rep, check_name=None, kind=None):
    out = []
    for f in rep["findings"]:
        if check_name and f["check"] != check_name:
            continue
        if kind and f["kind"] != kind:
            continue
        out.append(f)
    return out


def main():
    if not FTEVAL or not os.path.exists(FTEVAL):
        skip_or_fail("FTEVAL (run through ctest)")
    tmp = tempfile.mkdtemp(prefix="fteval-data-check-")
    j = os.path.join(tmp, "out.json")

    # --- clean chat data: exit 0, no PII, size warning only -------------------------------------
    clean = write(os.path.join(tmp, "clean.jsonl"), clean_rows())
    rc, out, err = run("check", clean, "--json", j)
    check(rc == 0, f"clean: exit 0 (got {rc}: {err})")
    rep = report(j)
    check(rep["schema"] == "fteval.data_check/1", "schema name")
    check(rep["blocking"] is False, "clean: not blocking")
    check(rep["examples"] == len(QUESTIONS), "clean: example count")
    check(rep["shapes"]["chat"] == len(QUESTIONS), "clean: chat shape")
    check(sum(rep["pii"].values()) == 0, "clean: no PII")
    check(len(findings(rep, "size", "small")) == 1, "clean: < 500 examples warning")
    check(rep["labels"] and rep["labels"]["source"] == "assistant", "clean: labels from the assistant answer")
    check(rep["lengths"]["user"]["messages"] == len(QUESTIONS), "clean: user length stats")
    exp_tokens = sum((len(m["content"].encode("utf-8")) + 3) // 4 for r in clean_rows() for m in r["messages"])
    check(rep["tokens"]["per_epoch_est"] == exp_tokens, f"tokens = sum ceil(utf8_bytes/4) ({rep['tokens']['per_epoch_est']} vs {exp_tokens})")
    check(rep["tokens"]["training_est"] == 3 * exp_tokens, "training tokens x 3 epochs by default")
    check("result: ok" in out, "clean: text report says ok")

    # --- --json - prints JSON on stdout ------------------------------------------------------
    rc, out, err = run("check", clean, "--json", "-", "--n-epochs", "2")
    check(rc == 0 and json.loads(out)["tokens"]["n_epochs"] == 2, "--json - and --n-epochs")

    # --- PII: every kind, one per line -----------------------------------------------------------
    secrets = {
        "email": "contact me at jane.roe@example.org please",
        "phone_intl": "my number is +44 20 7946 0958",
        "phone_us": "call (415) 555-2671 after five",
        "card": "my card is 4242 4242 4242 4242 and it fails",
        "ssn": "my ssn is 123-45-6789",
        "ipv4": "the server 203.0.113.45 refused me",
        "ipv6": "from 2001:db8:85a3::8a2e:370:7334 it works",
        "openai": "I pasted sk-proj-AbCdEfGhIjKlMnOpQrStUv12345 by mistake",
        "aws": "aws key AKIAIOSFODNN7EXAMPLE leaked",
        "bearer": "header Authorization: Bearer abcDEF123456ghiJKL789",
        "github": "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    }
    benign = [
        "card 4242 4242 4242 4241 is Luhn-invalid",  # must NOT be flagged
        "ssn 666-12-3456 has an invalid area",        # must NOT be flagged
        "In 2019 I paid 1999 euros, order 2125551234",  # years, amounts, ids
    ]
    rows = [chat(t, "card") for t in secrets.values()] + [chat(t, "card") for t in benign]
    rows += clean_rows()
    pii = write(os.path.join(tmp, "pii.jsonl"), rows)
    rc, out, err = run("check", pii, "--json", j)
    check(rc == 1, f"pii: exit 1 (got {rc})")
    rep = report(j)
    kinds = {"email": 1, "phone": 2, "card": 1, "ssn": 1, "ipv4": 1, "ipv6": 1, "secret": 4}
    for k, n in kinds.items():
        check(rep["pii"][k] == n, f"pii: {k} count {rep['pii'][k]} == {n}")
    pf = findings(rep, "pii")
    check(all(f["severity"] == "blocking" for f in pf), "pii: blocking")
    card_lines = [f["line"] for f in pf if f["kind"] == "card"]
    check(card_lines == [4], f"pii: only the Luhn-valid card on line 4 ({card_lines})")
    check(any(f["excerpt"] == "**** **** **** 4242" for f in pf), "pii: card excerpt masked")
    check(any(f["excerpt"] == "j***@e***.org" for f in pf), "pii: e-mail excerpt masked")
    check(any(f["field"] == "messages[1].content" for f in pf), "pii: field path")
    lines_flagged = {f["line"] for f in pf}
    check(not ({12, 13, 14} & lines_flagged), f"pii: benign lines not flagged ({sorted(lines_flagged)})")
    blob = out + json.dumps(rep)
    for raw in ["jane.roe@example.org", "4242 4242 4242 4242", "123-45-6789", "7946 0958", "555-2671",
                "203.0.113.45", "AKIAIOSFODNN7EXAMPLE", "abcDEF123456ghiJKL789",
                "sk-proj-AbCdEfGhIjKlMnOpQrStUv12345", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                "8a2e:370:7334"]:
        check(raw not in blob, f"pii: '{raw[:6]}...' never printed in full")

    # --- format errors -----------------------------------------------------------------------
    bad = clean_rows()
    bad_lines = [
        {"messages": [{"role": "human", "content": "hi"}, {"role": "assistant", "content": "card"}]},  # 15 bad role
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]},         # 16 no assistant
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "weight": 0.5}]},  # 17
        {"messages": [{"role": "user", "content": "hi", "weight": 1}, {"role": "assistant", "content": "x"}]},  # 18
        {"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "{}"},
                      {"role": "assistant", "content": "x"}]},                                         # 19 tool id
        b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "x"}]}',  # 20 utf-8
        b'{"messages": [{"role": "user", "content": "a\x00b"}]}',                                       # 21 NUL
        '{"messages": [',                                                                               # 22 JSON
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "parts ok"}]},
                      {"role": "assistant", "content": [{"type": "text", "text": "x"}], "weight": 1}]},  # 23 valid
        {"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "x"}]},         # 24 content
        {"foo": "bar"},                                                                                 # 25 shape
    ]
    fmt = write(os.path.join(tmp, "format.jsonl"), bad + bad_lines)
    rc, out, err = run("check", fmt, "--json", j)
    check(rc == 1, f"format: exit 1 (got {rc})")
    rep = report(j)
    ff = findings(rep, "format")
    expect = {15: "bad_role", 16: "missing_assistant", 17: "bad_weight", 18: "weight_not_assistant",
              19: "missing_tool_call_id", 20: "invalid_utf8", 21: "nul_byte", 22: "invalid_json",
              24: "bad_content", 25: "unknown_shape"}
    for line, kind in expect.items():
        check(any(f["line"] == line and f["kind"] == kind and f["severity"] == "blocking" for f in ff),
              f"format: line {line} {kind}")
    check(not any(f["line"] == 23 for f in ff), "format: text parts and weight 1 are valid")
    check(not any(f["line"] <= 14 for f in ff), "format: clean lines have no format findings")
    check(f"{fmt}:15: blocking: format:" in out, "format: text names file:line")

    # --- over-long line (bounded memory) -----------------------------------------------------
    big = os.path.join(tmp, "big.jsonl")
    with open(big, "wb") as f:
        for r in clean_rows():
            f.write(json.dumps(r).encode() + b"\n")
        f.write(b'{"messages": "' + b"x" * (17 * 1024 * 1024) + b'"}\n')
    rc, out, err = run("check", big, "--json", j)
    rep = report(j)
    check(rc == 1 and findings(rep, "format", "line_too_long")[0]["line"] == 15, "over-long line reported")

    # --- DPO -----------------------------------------------------------------------------------
    dpo_rows = []
    for i, q in enumerate(QUESTIONS):
        dpo_rows.append({"input": {"messages": [{"role": "user", "content": q}]},
                         "preferred_output": [{"role": "assistant", "content": f"good answer {i}"}],
                         "non_preferred_output": [{"role": "assistant", "content": f"bad answer {i}"}]})
    dpo = write(os.path.join(tmp, "dpo.jsonl"), dpo_rows)
    rc, out, err = run("check", dpo, "--json", j)
    rep = report(j)
    check(rc == 0 and rep["shapes"]["dpo"] == len(QUESTIONS), f"dpo: valid (rc {rc})")
    dpo_rows[3] = {"input": {"messages": [{"role": "user", "content": "x"}]},
                   "preferred_output": [{"role": "user", "content": "y"}]}
    write(dpo, dpo_rows + [clean_rows()[0]])
    rc, out, err = run("check", dpo, "--json", j)
    rep = report(j)
    check(rc == 1, "dpo: invalid exits 1")
    check(any(f["line"] == 4 and f["kind"] == "bad_role" for f in rep["findings"]), "dpo: preferred role")
    check(any(f["line"] == 4 and f["kind"] == "bad_dpo_output" for f in rep["findings"]), "dpo: missing non_preferred")
    check(any(f["line"] == 15 and f["kind"] == "mixed_shapes" for f in rep["findings"]), "dpo: mixed shapes")

    # --- duplicates and near duplicates ----------------------------------------------------------
    rows = clean_rows()
    rows.append(chat("how do I ACTIVATE my new card", "card"))             # 15 exact dup of 1
    rows.append(chat("How do I activate my new card?", "transfer"))        # 16 conflicting dup of 1
    rows.append(chat("Why is my transfer still pending after two days now?", "transfer"))  # 17 near of 2
    dup = write(os.path.join(tmp, "dup.jsonl"), rows)
    rc, out, err = run("check", dup, "--json", j)
    rep = report(j)
    check(rc == 0, f"duplicates: warnings only, exit 0 (got {rc})")
    d = findings(rep, "duplicate")
    check(any(f["line"] == 15 and f["other_line"] == 1 and f["kind"] == "duplicate" for f in d), "exact duplicate")
    check(any(f["line"] == 16 and f["other_line"] == 1 and f["kind"] == "conflicting_duplicate" for f in d),
          "conflicting duplicate")
    nd = findings(rep, "near_duplicate")
    check(len(nd) == 1 and nd[0]["line"] == 17 and nd[0]["other_line"] == 2 and nd[0]["similarity"] >= 0.9,
          f"near duplicate {nd}")
    check(rep["duplicates"]["exact_groups"] == 1 and rep["duplicates"]["exact_extra_rows"] == 2, "dup counts")

    # --- leakage ---------------------------------------------------------------------------------
    held = write(os.path.join(tmp, "held.jsonl"), [
        {"id": "h1", "input": "A completely different question about crypto", "gold": "x"},
        {"id": "h2", "input": "where can I see my STATEMENT for last month", "gold": "account"},   # exact of 8
        {"id": "h3", "input": "Is there a limit on how much I can send abroad now?", "gold": "x"},  # near of 11
        {"id": "h4", "input": "Where can I see my statement for last month?", "gold": "x"},        # exact of 8
    ])
    rc, out, err = run("check", clean, "--against", held, "--json", j)
    rep = report(j)
    check(rc == 1, f"leakage: exit 1 (got {rc})")
    lk = findings(rep, "leakage")
    check(any(f["file"] == held and f["line"] == 2 and f["other_line"] == 8 and f["kind"] == "exact" for f in lk),
          f"leakage exact {lk}")
    check(any(f["line"] == 3 and f["other_line"] == 11 and f["kind"] == "near" for f in lk), "leakage near")
    check(any(f["line"] == 4 and f["other_line"] == 8 for f in lk), "leakage exact (second copy)")
    check(not any(f["line"] == 1 for f in lk), "leakage: unrelated held-out line not flagged")
    check(rep["leakage"] == {"heldout_examples": 4, "exact": 2, "near": 1}, f"leakage counts {rep['leakage']}")

    # --- MDE -------------------------------------------------------------------------------------
    rc, out, err = run("check", clean, "--against", clean, "--mde", "0.05", "--json", j)
    rep = report(j)
    check(rep["size"]["required_n"] == 1568, f"mde: n = 2.80^2*0.5/0.05^2 = 1568 ({rep['size']['required_n']})")
    check(len(findings(rep, "size", "heldout_too_small")) == 1, "mde: held-out too small warning")

    # --- labels ----------------------------------------------------------------------------------
    plain = [{"id": f"p{i}", "input": f"question number {i} about {'cards' if i % 2 else 'fees'} {i * 7}",
              "gold": "a" if i < 130 else "b", "label": "a" if i < 130 else "b"} for i in range(140)]
    pl = write(os.path.join(tmp, "plain.jsonl"), plain)
    rc, out, err = run("check", pl, "--json", j)
    rep = report(j)
    check(rc == 0, f"plain: exit 0 (got {rc}, {err})")
    check(rep["labels"]["source"] == "label" and rep["labels"]["counts"] == {"a": 130, "b": 10}, "labels counted")
    check(len(findings(rep, "labels", "imbalance")) == 1, "labels: imbalance 13:1 warned")

    # --- cost ------------------------------------------------------------------------------------
    prices = os.path.join(tmp, "prices.json")
    with open(prices, "w") as f:
        json.dump({"currency": "USD", "models": {"ft:gpt-4o-mini-2024-07-18": {"training": 3.0}}}, f)
    rc, out, err = run("check", clean, "--model", "gpt-4o-mini-2024-07-18", "--prices", prices, "--json", j)
    rep = report(j)
    check(abs(rep["cost"]["training_usd"] - rep["tokens"]["training_est"] * 3.0 / 1e6) < 1e-12, "cost computed")
    rc, out, err = run("check", clean, "--model", "ft:gpt-4o-mini-2024-07-18:acme::abc", "--prices", prices,
                       "--json", j)
    check(report(j)["cost"]["training_usd_per_1m"] == 3.0, "cost: ft:BASE lookup")
    rc, out, err = run("check", clean, "--model", "unknown-model", "--prices", prices, "--json", j)
    rep = report(j)
    check(rc == 0 and rep["cost"]["training_usd"] is None and findings(rep, "cost", "unknown_price"),
          "cost: unknown price is null with a warning")

    # --- production format -----------------------------------------------------------------------
    with open(os.path.join(tmp, "system.txt"), "w") as f:
        f.write("You classify banking questions.\n")
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump({"name": "t", "dataset": "held.jsonl", "task": {"template": "Question: {input}\nIntent:"},
                   "arms": [{"name": "base", "model": "gpt-4o-mini"},
                            {"name": "ft", "model": "ft:gpt-4o-mini:acme::x", "system": "@system.txt"}]}, f)
    prod_rows = [chat(f"Question: {q}\nIntent:", "card") for q in QUESTIONS]
    prod_rows.append(chat("Question: hello\nIntent:", "card", system="Something else"))  # 15 system mismatch
    prod_rows.append(chat("hello there", "card"))                                        # 16 template mismatch
    prod = write(os.path.join(tmp, "prod.jsonl"), prod_rows)
    rc, out, err = run("check", prod, "--config", cfg, "--json", j)
    rep = report(j)
    check(rc == 0, f"production: warnings only (rc {rc}, {err})")
    pf = findings(rep, "production")
    check([(f["line"], f["kind"]) for f in pf] == [(15, "system_mismatch"), (16, "template_mismatch")],
          f"production findings {[(f['line'], f['kind']) for f in pf]}")
    check(rep["production"]["system_checked"] == 16, "production: every chat row checked")
    # plain held-out rows are rendered through the config's template before the leakage comparison
    held2 = write(os.path.join(tmp, "held2.jsonl"), [
        {"id": "k1", "input": QUESTIONS[2], "gold": "card"},
        {"id": "k2", "input": "Something never seen in training at all", "gold": "card"}])
    rc, out, err = run("check", prod, "--config", cfg, "--against", held2, "--json", j)
    rep = report(j)
    lk = findings(rep, "leakage")
    check(rc == 1 and len(lk) == 1 and lk[0]["line"] == 1 and lk[0]["other_line"] == 3 and lk[0]["kind"] == "exact",
          f"leakage through the template rendering {lk}")

    # --- exit codes ------------------------------------------------------------------------------
    rc, out, err = run("check", os.path.join(tmp, "missing.jsonl"))
    check(rc == 3 and "missing.jsonl" in err and err.startswith("fteval: error: "), f"unreadable: exit 3 ({rc}, {err})")
    rc, out, err = run("check", clean, "--against", os.path.join(tmp, "nope.jsonl"))
    check(rc == 3 and "nope.jsonl" in err, "unreadable held-out: exit 3")
    empty = write(os.path.join(tmp, "empty.jsonl"), [])
    rc, out, err = run("check", empty, "--json", j)
    check(rc == 1 and findings(report(j), "format", "no_examples"), "empty file blocks")
    rc, out, err = run("check")
    check(rc == 2 and "fteval: error:" in err, "usage: missing FILE")
    rc, out, err = run("check", clean, "--bogus")
    check(rc == 2, "usage: unknown option")
    rc, out, err = run("check", clean, "--n-epochs", "zero")
    check(rc == 2, "usage: bad --n-epochs")
    rc, out, err = run("frobnicate")
    check(rc == 2, "usage: unknown subcommand")

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
