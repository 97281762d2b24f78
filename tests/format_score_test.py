"""The format metrics end to end: `fteval score --metrics json_valid,schema_valid,regex,contains`
with a config giving task.schema ("@file") and task.pattern.

Every record's four scores are checked against references written here from the published
definitions, independent of fteval's code: json_valid = Python's json.loads (NaN/Infinity
refused, as RFC 8259 does) on the fence-stripped text; schema_valid = python3-jsonschema's
Draft202012Validator; regex = Python's re.fullmatch (the pattern and texts avoid where PCRE2 and
Python's re differ); contains = the official SQuAD normalize_answer plus whole-token containment.
The summary means must equal the means of those references. json_valid is also compared with
json.loads on 3,000 seeded near-JSON strings (valid documents with a few character edits), and
contains with the reference on 2,000 seeded prediction/golds pairs, and regex with re.fullmatch
on 3,600 strings over 9 patterns. Then the config errors: a metric
without its input, an unsupported schema keyword, an invalid pattern, an unreadable or invalid
schema file — each exit 3 with the file and JSON path; and --metrics regex without a config is a
usage error (exit 2).
"""
import hashlib
import json
import random
import os
import re
import string
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fte  # noqa: E402

try:
    import jsonschema  # Debian: python3-jsonschema (scripts/setup.sh --test)
except ImportError:
    if os.environ.get("CI"):
        sys.exit("FAIL: python3-jsonschema is required under CI (scripts/setup.sh --test)")
    print("skipped: format_score_test needs python3-jsonschema")
    sys.exit(77)

t = fte.Checks()
d = fte.tmpdir()

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "intent",
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["card_arrival", "card_linking", "exchange_rate"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "evidence": {"type": ["string", "null"], "maxLength": 12},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 2},
    },
    "required": ["label", "confidence"],
    "additionalProperties": False,
    "$defs": {"tag": {"type": "string", "pattern": "^[a-z]+$"}},
}
PATTERN = r'\{"label": "[a-z_]+", "confidence": (0|1|0\.[0-9]+)\}'

ROWS = [("e1", "card_arrival"), ("e2", "card_linking"), ("e3", "exchange_rate"), ("e4", "card_arrival"),
        ("e5", "card_linking"), ("e6", "exchange_rate"), ("e7", "card_arrival"), ("e8", "card_linking"),
        ("e9", "exchange_rate"), ("e10", "card_arrival"), ("e11", "card_linking"), ("e12", "exchange_rate")]
PREDS = {
    "tuned": [
        '{"label": "card_arrival", "confidence": 0.9}',
        '```json\n{"label": "card_linking", "confidence": 1}\n```',
        '{"label": "exchange_rate", "confidence": 0.75, "tags": ["fx", "rate"]}',
        '{"label": "card_arrival", "confidence": 1.5}',                      # maximum
        '{"label": "card_linking", "confidence": 0.2, "extra": true}',       # additionalProperties
        '{"label": "exchange_rate", "confidence": 0.3, "evidence": "étéétéétéété"}',  # 12 code points
        '{"label": "card_arrival", "confidence": 0.3, "evidence": "étéétéétéétéx"}',  # 13 code points
        '{"label": "card_linking", "confidence": 0.5, "tags": ["ok", "Bad"]}',  # pattern via $ref
        '{"label": "lost_card", "confidence": 0.5}',                          # enum
        '{"label": "card_arrival"}',                                          # required
        '{"label": "card_linking", "confidence": 0.5,}',                      # not JSON
        '["exchange_rate"]',                                                  # JSON, not an object
    ],
    "base": [
        "card arrival",
        "The intent is card_linking.",
        '{"label": "exchange_rate", "confidence": 01}',                       # not JSON (leading zero)
        '{"label": "card_arrival", "confidence": NaN}',
        "```\n{\"label\": \"card_linking\", \"confidence\": 0}\n```",
        '{"label": "exchange_rate", "confidence": 0.5}\nHope this helps!',
        "42",
        '"card_arrival"',
        "",
        "null",
        '{"label": "card_linking", "confidence": 0.25, "evidence": null}',
        '{"confidence": 0.5, "label": "exchange_rate"}',
    ],
}


def strip_fence(s):
    s = s.strip()
    m = re.search(r"```[^\s{\[`]*", s)
    if m:
        rest = s[m.end():]
        end = rest.find("```")
        s = (rest if end < 0 else rest[:end]).strip()
    return s


def ref_parse(s):
    def no_constant(c):
        raise ValueError(c)
    try:
        return True, json.loads(strip_fence(s), parse_constant=no_constant)
    except ValueError:
        return False, None


def normalize_answer(s):  # the official SQuAD v1.1 script
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))


def ref_contains(pred, gold):
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    if not g:
        return float(not p)
    return float(any(p[i:i + len(g)] == g for i in range(len(p) - len(g) + 1)))


VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def expected(pred, gold):
    ok, value = ref_parse(pred)
    return {
        "json_valid": float(ok),
        "schema_valid": float(ok and VALIDATOR.is_valid(value)),
        "regex": float(re.fullmatch(PATTERN, pred) is not None),
        "contains": ref_contains(pred, gold),
    }


fte.write_jsonl(os.path.join(d, "data.jsonl"), [{"id": i, "input": f"text {i}", "gold": g} for i, g in ROWS])
for arm, preds in PREDS.items():
    fte.write_jsonl(os.path.join(d, f"{arm}.jsonl"), [{"id": i, "prediction": p} for (i, _), p in zip(ROWS, preds)])
fte.write_json(os.path.join(d, "intent.schema.json"), SCHEMA)
BASE = {
    "name": "fmt", "dataset": "data.jsonl",
    "providers": {"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}},
    "arms": [{"name": "base", "provider": "p", "model": "m"}, {"name": "tuned", "provider": "p", "model": "m"}],
    "stats": {"resamples": 200, "seed": 3},
}


def config(task, name="c.json"):
    cfg = dict(BASE, task=task)
    path = os.path.join(d, name)
    fte.write_json(path, cfg)
    return path


METRICS = ["json_valid", "schema_valid", "regex", "contains"]
cfg = config({"metrics": ["exact_match"], "schema": "@intent.schema.json", "pattern": PATTERN})
out = os.path.join(d, "run")
p = fte.run("score", "--config", cfg, "--dataset", os.path.join(d, "data.jsonl"),
            "--pred", "base=" + os.path.join(d, "base.jsonl"), "--pred", "tuned=" + os.path.join(d, "tuned.jsonl"),
            "--metrics", ",".join(METRICS), "--out", out)
t(p.returncode == 0, f"score exits 0: {p.returncode} {p.stderr}")
if p.returncode == 0:
    summary = json.load(open(os.path.join(out, "summary.json")))
    gold = dict(ROWS)
    for arm, preds in PREDS.items():
        recs = fte.read_jsonl(os.path.join(out, f"{arm}.jsonl"))
        t(len(recs) == len(ROWS), f"{arm}: {len(recs)} records")
        sums = {m: 0.0 for m in METRICS}
        for r, pred in zip(recs, preds):
            want = expected(pred, gold[r["id"]])
            t(r["status"] == "ok", f"{arm} {r['id']}: status {r['status']}")
            t(r["scores"] == want, f"{arm} {r['id']} {pred!r}: scores {r['scores']}, want {want}")
            for m in METRICS:
                sums[m] += want[m]
        for m in METRICS:
            got = summary["arms"][arm]["metrics"][m]["mean"]
            t(abs(got - sums[m] / len(ROWS)) < 1e-12, f"{arm} {m}: mean {got}, want {sums[m] / len(ROWS)}")
    # the cases above cover both outcomes of every metric in each arm or across arms
    for m in METRICS:
        vals = {expected(pr, gold[i])[m] for arm in PREDS for (i, _), pr in zip(ROWS, PREDS[arm])}
        t(vals == {0.0, 1.0}, f"{m}: the fixture has both outcomes ({vals})")
    tuned = [expected(pr, gold[i]) for (i, _), pr in zip(ROWS, PREDS["tuned"])]
    t([x["schema_valid"] for x in tuned] == [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
      f"the reference agrees with the fixture's comments: {[x['schema_valid'] for x in tuned]}")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    t(manifest["metrics"] == METRICS, f"manifest metrics {manifest['metrics']}")
    schema_file = os.path.join(d, "intent.schema.json")
    with open(schema_file, "rb") as f:
        want_sha = hashlib.sha256(f.read()).hexdigest()
    t(manifest["files_sha256"].get("intent.schema.json") == want_sha,
      f"manifest files_sha256 records the schema file: {manifest['files_sha256']}")


# json_valid against Python's json.loads on 3,000 seeded near-JSON strings (valid documents with
# one to three character edits). Not generated: what the two are documented to treat differently
# (fences/backticks, Unicode or \f/\v whitespace around the text, NUL, \uD800-\uDFFF escapes).
rng = random.Random(13)
ALPHABET = '{}[],:"\\0123456789.eE+-tfnulr \t\nax\u00e9'


def rand_json(depth=0):
    r = rng.random()
    if depth > 3 or r < 0.35:
        return rng.choice([0, -1, 1.5, 1e20, -0.0, True, False, None, "", "a b", "é\n\"\\", "\u00e9"])
    if r < 0.7:
        return [rand_json(depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "c d", "é"]): rand_json(depth + 1) for _ in range(rng.randint(0, 3))}


texts = []
for i in range(3000):
    doc = json.dumps(rand_json(), ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        k = rng.randrange(len(doc) + 1)
        op = rng.random()
        if op < 0.4 and doc:
            doc = doc[:k] + doc[k + 1:]
        elif op < 0.8:
            doc = doc[:k] + rng.choice(ALPHABET) + doc[k:]
        elif k < len(doc):
            doc = doc[:k] + doc[k] + doc[k:]
    texts.append(doc)
fte.write_jsonl(os.path.join(d, "near.jsonl"), [{"id": f"n{i}", "input": "x", "gold": "x"} for i in range(len(texts))])
fte.write_jsonl(os.path.join(d, "near-pred.jsonl"), [{"id": f"n{i}", "prediction": x} for i, x in enumerate(texts)])
out2 = os.path.join(d, "near-run")
p = fte.run("score", "--dataset", os.path.join(d, "near.jsonl"), "--pred", "m=" + os.path.join(d, "near-pred.jsonl"),
            "--metrics", "json_valid", "--out", out2, "--resamples", "10")
t(p.returncode == 0, f"score on near-JSON exits 0: {p.stderr}")
if p.returncode == 0:
    recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out2, "m.jsonl"))}
    n_valid = 0
    for i, x in enumerate(texts):
        want = ref_parse(x)[0]
        n_valid += want
        got = recs[f"n{i}"]["scores"]["json_valid"]
        t(got == float(want), f"json_valid({x!r}) = {got}, json.loads says {want}")
    t(900 <= n_valid <= 2100, f"near-JSON cases are mixed: {n_valid} of {len(texts)} valid")
    print(f"near-JSON: {len(texts)} compared, {n_valid} valid")

# contains against the reference on 2,000 seeded (prediction, golds) pairs built from a small
# vocabulary (case, punctuation, articles, Unicode letters), golds often cut from the prediction.
VOCAB = ["New", "york", "York,", "the", "A", "an", "cat", "cats", "U.S.", "us", "1,000", "1000", "Straße",
         "ΟΔΟΣ", "οδος", "café", "-", "!", "well-known", "wellknown", "Yorkshire", "art", "party"]
pairs = []
for i in range(2000):
    words = [rng.choice(VOCAB) for _ in range(rng.randint(0, 8))]
    golds = []
    for _ in range(rng.randint(1, 3)):
        if words and rng.random() < 0.6:
            a = rng.randrange(len(words))
            b = rng.randint(a, min(len(words), a + 3))
            golds.append(" ".join(words[a:b]))
        else:
            golds.append(" ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 2))))
    pairs.append((" ".join(words) + rng.choice(["", ".", " ", "?"]), golds))
fte.write_jsonl(os.path.join(d, "cont.jsonl"), [{"id": f"c{i}", "input": "x", "gold": g} for i, (_, g) in enumerate(pairs)])
fte.write_jsonl(os.path.join(d, "cont-pred.jsonl"), [{"id": f"c{i}", "prediction": x} for i, (x, _) in enumerate(pairs)])
out3 = os.path.join(d, "cont-run")
p = fte.run("score", "--dataset", os.path.join(d, "cont.jsonl"), "--pred", "m=" + os.path.join(d, "cont-pred.jsonl"),
            "--metrics", "contains,exact_match", "--out", out3, "--resamples", "10")
t(p.returncode == 0, f"score on contains pairs exits 0: {p.stderr}")
if p.returncode == 0:
    recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(out3, "m.jsonl"))}
    n_one = 0
    for i, (x, golds) in enumerate(pairs):
        answerable = [g for g in golds if normalize_answer(g)]
        want = max(ref_contains(x, g) for g in answerable) if answerable else float(not normalize_answer(x))
        n_one += want
        got = recs[f"c{i}"]["scores"]
        t(got["contains"] == want, f"contains({x!r}, {golds!r}) = {got['contains']}, reference {want}")
        t(got["exact_match"] <= got["contains"], f"exact_match implies contains: {x!r} {golds!r}")
    t(500 <= n_one <= 1500, f"contains cases are mixed: {n_one} of {len(pairs)}")
    print(f"contains: {len(pairs)} compared, {int(n_one)} contain a gold")

# regex against Python's re.fullmatch: patterns whose meaning is the same in PCRE2 and Python's re
# (no \w, \d, \s, \b: ASCII in PCRE2 without UCP, Unicode in Python), 400 seeded strings each.
REGEX_CASES = {  # pattern: strings that match, edited at random to make near misses
    r"[a-z]+(-[a-z]+)*": ["well-known", "abc", "a-b-c"],
    r"(yes|no|maybe)": ["yes", "no", "maybe"],
    r"[A-Z]{2,3}-[0-9]{1,4}": ["AB-1", "XYZ-1234", "QQ-42"],
    r".{0,5}": ["é😀é😀é", "abc", ""],
    r"(?i)(card_arrival|card_linking)": ["Card_Arrival", "card_linking", "CARD_ARRIVAL"],
    r'\{"label": "[a-z_]+"\}': ['{"label": "card_arrival"}', '{"label": "x"}'],
    r"(a|ab)(c|bcd)(d*)": ["abcd", "ac", "abcddd", "abcdd"],
    r"[^\n]*é[^\n]*": ["café", "é", "née 😀"],
    r"(?s).*\n": ["two\nlines\n", "\n"],
}
PIECES = ["a", "b", "c", "d", "yes", "no", "maybe", "AB", "XYZ", "-", "_", "0", "42", "1234", "{", "}",
          '"label": "', '"', "é", "😀", " ", "\n", "card_arrival", "CARD_LINKING", "bcd"]
regex_compared = 0
for k, (pattern, seeds) in enumerate(REGEX_CASES.items()):
    strings = []
    for i in range(400):
        if i % 2:
            strings.append("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4))))
            continue
        x = rng.choice(seeds)
        for _ in range(rng.choice([0, 0, 1, 2])):
            j = rng.randrange(len(x) + 1)
            x = x[:j] + rng.choice(PIECES) + x[j + 1:] if rng.random() < 0.5 else x[:j] + x[j + 1:]
        strings.append(x)
    fte.write_jsonl(os.path.join(d, f"re{k}.jsonl"), [{"id": f"r{i}", "input": "x", "gold": "x"} for i in range(len(strings))])
    fte.write_jsonl(os.path.join(d, f"re{k}-pred.jsonl"), [{"id": f"r{i}", "prediction": x} for i, x in enumerate(strings)])
    rcfg = config({"metrics": ["regex"], "pattern": pattern}, f"re{k}.json")
    outr = os.path.join(d, f"re{k}-run")
    p = fte.run("score", "--config", rcfg, "--dataset", os.path.join(d, f"re{k}.jsonl"),
                "--pred", "m=" + os.path.join(d, f"re{k}-pred.jsonl"), "--out", outr, "--resamples", "10")
    if not t(p.returncode == 0, f"score with pattern {pattern!r} exits 0: {p.stderr}"):
        continue
    recs = {r["id"]: r for r in fte.read_jsonl(os.path.join(outr, "m.jsonl"))}
    hits = 0
    for i, x in enumerate(strings):
        want = float(re.fullmatch(pattern, x) is not None)
        hits += want
        regex_compared += 1
        t(recs[f"r{i}"]["scores"]["regex"] == want, f"regex {pattern!r} on {x!r}: {recs[f'r{i}']['scores']['regex']}, re.fullmatch {want}")
    t(40 <= hits <= 360, f"pattern {pattern!r}: both outcomes are common ({int(hits)} of 400 match)")
print(f"regex: {regex_compared} compared over {len(REGEX_CASES)} patterns")


def score_err(task, metrics=None, name="bad.json", with_config=True):
    args = ["score", "--dataset", os.path.join(d, "data.jsonl"), "--pred", "tuned=" + os.path.join(d, "tuned.jsonl"),
            "--out", os.path.join(d, "err-run")]
    if with_config:
        args += ["--config", config(task, name)]
    if metrics:
        args += ["--metrics", metrics]
    return fte.run(*args)


cases = [
    ({"metrics": ["schema_valid"]}, None,
     "bad.json: task.schema: missing; metric 'schema_valid' (task.metrics[0]) needs it"),
    ({"metrics": ["exact_match", "regex"], "schema": True}, None,
     "bad.json: task.pattern: missing; metric 'regex' (task.metrics[1]) needs it"),
    ({"metrics": ["exact_match"]}, "json_valid,schema_valid",
     "bad.json: task.schema: missing; metric 'schema_valid' needs it"),
    ({"metrics": ["schema_valid"], "schema": {"type": "object", "properties": {"when": {"type": "string", "format": "date"}}}},
     None, "task.schema: #/properties/when: unsupported keyword 'format'"),
    ({"metrics": ["schema_valid"], "schema": "@nope.schema.json"}, None, "task.schema: cannot read"),
    ({"metrics": ["schema_valid"], "schema": "@data.jsonl"}, None, "data.jsonl' is not valid JSON"),
    ({"metrics": ["schema_valid"], "schema": "intent.schema.json"}, None,
     "task.schema: must be a JSON Schema (an object) or \"@file\""),
    ({"metrics": ["schema_valid"], "schema": {"$ref": "#/$defs/x"}}, None,
     "task.schema: #: '$ref' \"#/$defs/x\" does not resolve to a schema"),
    ({"metrics": ["regex"], "pattern": "(abc"}, None,
     "task.pattern: invalid pattern: at offset 4: missing closing parenthesis"),
    ({"metrics": ["regex"], "pattern": 5}, None, "task.pattern: must be a string"),
    ({"metrics": ["regex"], "pattern": "x", "shema": {}}, None, "task.shema: unknown key; did you mean \"schema\"?"),
]
for task, metrics, want in cases:
    p = score_err(task, metrics)
    t(p.returncode == 3 and want in p.stderr, f"{task} {metrics}: exit {p.returncode}, stderr {p.stderr.strip()!r}, want {want!r}")
    t(not os.path.exists(os.path.join(d, "err-run")), f"{task}: no results written")

# a schema error inside the config names the line of task.schema
bad = config({"metrics": ["schema_valid"], "schema": {"type": "object", "if": {}}}, "pos.json")
p = fte.run("run", bad, "--dry-run")
t(p.returncode == 3 and re.search(r"pos\.json:\d+:\d+: task\.schema: #: unsupported keyword 'if'", p.stderr),
  f"run --dry-run: unsupported keyword with position: {p.returncode} {p.stderr.strip()!r}")
ok = config({"metrics": ["json_valid", "schema_valid", "regex", "contains"], "schema": "@intent.schema.json",
             "pattern": PATTERN}, "ok.json")
p = fte.run("run", ok, "--dry-run")
t(p.returncode == 0, f"run --dry-run with the format metrics loads: {p.returncode} {p.stderr.strip()!r}")

p = score_err(None, "regex", with_config=False)
t(p.returncode == 2 and "metric 'regex' needs task.pattern" in p.stderr,
  f"--metrics regex without --config: exit {p.returncode} {p.stderr.strip()!r}")
t.done()
