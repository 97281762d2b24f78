"""Records keep the rendered final user message (issue 13): `fteval run` against `fteval sim`
writes "input" — the template-rendered user message, or a chat row's last user message — cut at
8192 bytes on a UTF-8 boundary with "input_truncated": true only when cut, and "slice" when the
example has one. The expected values are computed here from the rule, not from fteval's output."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))
import fte  # noqa: E402

CAP = 8192
t = fte.Checks()
d = fte.tmpdir()


def capped(text):
    """The longest prefix of at most CAP bytes that is whole UTF-8 characters."""
    b = text.encode("utf-8")
    if len(b) <= CAP:
        return text, False
    return b[:CAP].decode("utf-8", errors="ignore"), True


# "Q: " is 3 bytes; a 3-byte character (U+20AC, EUR sign) straddles byte 8192 of the rendered text
straddle = "a" * (CAP - 3 - 1) + "\u20ac" + "tail"      # bytes 8189..8191 hold '\xe2\x82', cut there
exact = "b" * (CAP - 3)                                     # exactly 8192 bytes rendered: not cut
over = "c" * (CAP - 3) + "d"                                # 8193 bytes: cut after 8192
emoji = "e" * (CAP - 3 - 2) + "\U0001F600"                  # 4-byte char over the cap: dropped whole
rows = [
    {"id": "short", "input": "hello \u00e9t\u00e9", "gold": "alpha", "slice": "fr"},
    {"id": "straddle", "input": straddle, "gold": "bravo", "slice": 7},
    {"id": "exact", "input": exact, "gold": "charlie"},
    {"id": "over", "input": over, "gold": "delta", "slice": "long"},
    {"id": "emoji", "input": emoji, "gold": "echo"},
    {"id": "chat", "messages": [{"role": "user", "content": "first"},
                                {"role": "assistant", "content": "x"},
                                {"role": "user", "content": "second \u00fc"},
                                {"role": "assistant", "content": "foxtrot"}]},
]
fte.write_jsonl(os.path.join(d, "data.jsonl"), rows)
sim = fte.Sim("--dataset", os.path.join(d, "data.jsonl"), "--template", "Q: {input}", "--seed", "3")
cfg = fte.config(os.path.join(d, "c.json"), "data.jsonl", sim.url,
                 task={"template": "Q: {input}"})
out = os.path.join(d, "out")
p = fte.run("run", cfg, "--out", out)
t(p.returncode == 0, f"run exit {p.returncode}: {p.stderr}")
recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out, "base.jsonl"))}
t(len(recs) == 6, "one record per example")
for r in rows:
    rec = recs.get(r["id"], {})
    rendered = "second \u00fc" if "messages" in r else "Q: " + r["input"]
    want, cut = capped(rendered)
    t(rec.get("input") == want, f"{r['id']}: input is the rendered message capped on a boundary "
      f"({len(rec.get('input', '').encode())} bytes)")
    t(len(rec.get("input", "").encode("utf-8")) <= CAP, f"{r['id']}: at most {CAP} bytes")
    if cut:
        t(rec.get("input_truncated") is True, f"{r['id']}: input_truncated true when cut")
    else:
        t("input_truncated" not in rec, f"{r['id']}: no input_truncated when not cut")
    if "slice" in r:
        t(rec.get("slice") == str(r["slice"]), f"{r['id']}: slice {r['slice']!r} as text")
    else:
        t("slice" not in rec, f"{r['id']}: no slice key without a slice")
t(len(recs["straddle"]["input"].encode()) == CAP - 1, "straddle: the cut character is dropped whole")
t(len(recs["exact"]["input"].encode()) == CAP, "exact: 8192 bytes kept whole")
t(len(recs["emoji"]["input"].encode()) == CAP - 2, "emoji: the 4-byte character is dropped whole")

# score keeps the input too: a chat example's own last user message, a plain one through the
# config arm of the same name
preds = os.path.join(d, "preds.jsonl")
fte.write_jsonl(preds, [{"id": r["id"], "prediction": "alpha"} for r in rows])
out2 = os.path.join(d, "scored")
p = fte.run("score", "--config", cfg, "--pred", f"base={preds}", "--out", out2,
            "--dataset", os.path.join(d, "data.jsonl"))
t(p.returncode == 0, f"score exit {p.returncode}: {p.stderr}")
if p.returncode == 0:
    srecs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out2, "base.jsonl"))}
    t(all(srecs[i].get("input") == recs[i].get("input") for i in recs), "score: same input as run")
    t(srecs["over"].get("input_truncated") is True and "input_truncated" not in srecs["short"],
      "score: input_truncated as run")
t.done()
