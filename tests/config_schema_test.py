"""configs/fteval.schema.json and the config loader accept exactly the same keys per object.

Three independent angles:
1. Tables: $FTEVAL_BUILD/config_keys prints the loader's key table (fe_config_objects) and the
   metric / provider registries; every table object must be a strict object of the schema
   (additionalProperties: false) with exactly those properties, every strict object of the
   schema must be a table object, and the schema's enums must equal the registries.
2. Behaviour: a config that uses every key of every object (built here; its key set per object
   is checked against the table, so it stays complete) passes the schema and `fteval run
   --dry-run`; the same config with one unknown key injected into each object in turn fails
   both, the loader with exit 3 naming that object's JSON path.
3. The shipped configs (configs/*.json) and the README's and DESIGN's example configs pass the
   schema; the shipped ones also load (dry run, no API key).
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fte  # noqa: E402

try:
    import jsonschema  # Debian: python3-jsonschema (scripts/setup.sh --test)
except ImportError:
    if os.environ.get("CI"):
        sys.exit("FAIL: python3-jsonschema is required under CI (scripts/setup.sh --test)")
    jsonschema = None  # the key tables and the loader are still checked; exit 77 at the end

t = fte.Checks()
SRC, BUILD = fte.SRC, os.environ["FTEVAL_BUILD"]
SCHEMA_PATH = os.path.join(SRC, "configs", "fteval.schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as f:
    SCHEMA = json.load(f)


class _NoValidator:
    """Without jsonschema: schema verdicts are not checked (the run ends with exit 77)."""
    def iter_errors(self, _):
        return []

    def is_valid(self, _):
        return False


VALIDATOR = jsonschema.Draft202012Validator(SCHEMA) if jsonschema else _NoValidator()

tool = subprocess.run([os.path.join(BUILD, "config_keys")], capture_output=True, text=True, check=True)
LOADER = json.loads(tool.stdout)
TABLE = {path: keys for path, keys in LOADER["objects"].items()}

# ---- 1. tables --------------------------------------------------------------------------------
t(SCHEMA.get("$schema") == "https://json-schema.org/draft/2020-12/schema", "schema declares draft 2020-12")
if jsonschema:
    try:
        jsonschema.Draft202012Validator.check_schema(SCHEMA)
        t(True, "schema is a valid draft 2020-12 schema")
    except jsonschema.SchemaError as e:
        t(False, f"schema is a valid draft 2020-12 schema: {e.message}")


def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = SCHEMA
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def branches(node):
    """node and, through $ref / oneOf / anyOf, every schema it stands for."""
    node = deref(node)
    yield node
    for key in ("oneOf", "anyOf"):
        for b in node.get(key, []):
            yield from branches(b)


def strict_objects(node, path, out):
    """Collects {table-style path: schema} for every object schema with additionalProperties:
    false reachable from node; "*" = each member of a map, "[]" = each element."""
    for n in branches(node):
        if n.get("additionalProperties") is False:
            t(path not in out or out[path] is n, f"schema: one strict object at {path}")
            out[path] = n
        for key, sub in n.get("properties", {}).items():
            strict_objects(sub, key if path == "(root)" else f"{path}.{key}", out)
        if isinstance(n.get("additionalProperties"), dict):
            strict_objects(n["additionalProperties"], f"{path}.*", out)
        if isinstance(n.get("items"), dict):
            strict_objects(n["items"], f"{path}[]", out)
    return out


SCHEMA_OBJECTS = strict_objects(SCHEMA, "(root)", {})
t(set(SCHEMA_OBJECTS) == set(TABLE),
  f"the same strict objects: only in loader {sorted(set(TABLE) - set(SCHEMA_OBJECTS))}, "
  f"only in schema {sorted(set(SCHEMA_OBJECTS) - set(TABLE))}")
for path, keys in sorted(TABLE.items()):
    node = SCHEMA_OBJECTS.get(path)
    if node is None:
        continue
    props = set(node.get("properties", {}))
    t(props == set(keys) and len(keys) == len(set(keys)),
      f"{path}: same keys (only in loader: {sorted(set(keys) - props)}, only in schema: {sorted(props - set(keys))})")
    t(node.get("type") == "object", f"{path}: schema type object")
    t(not node.get("patternProperties"), f"{path}: no patternProperties")
    for key, sub in node.get("properties", {}).items():
        described = any("description" in n for n in [sub, *branches(sub)])
        t(described, f"{path}.{key}: has a description")

metric_enum = deref(SCHEMA["$defs"]["task"])["properties"]["metrics"]["items"]["anyOf"][0]["enum"]
t(sorted(metric_enum) == sorted(LOADER["metrics"]), f"metric names: schema {metric_enum} vs loader {LOADER['metrics']}")
type_enum = deref(SCHEMA["$defs"]["provider"])["properties"]["type"]["enum"]
t(sorted(type_enum) == sorted(LOADER["provider_types"]),
  f"provider types: schema {type_enum} vs loader {LOADER['provider_types']}")

# ---- 2. behaviour -----------------------------------------------------------------------------
d = fte.tmpdir()
fte.plain_dataset(os.path.join(d, "held.jsonl"), 4)
fte.write_jsonl(os.path.join(d, "few.jsonl"), [{"input": "q", "gold": "a"}])
with open(os.path.join(d, "sys.txt"), "w") as f:
    f.write("Answer with one word.")
SAMPLING = {"temperature": 0, "max_tokens": 8, "seed": 7, "timeout_s": 5, "max_retries": 1}
FULL = {
    "$schema": SCHEMA_PATH,
    "name": "full", "dataset": "held.jsonl", "dataset_format": "jsonl",
    "task": {"template": "Q: {input}", "metrics": ["exact_match", "f1"], "primary_metric": "f1",
             "schema": {"type": "object", "required": ["a"]}, "pattern": "[a-z]+",
             "id_field": "id", "input_field": "input", "gold_field": "gold", "slice_field": "cluster",
             "slice_min_n": 10},
    "defaults": dict(SAMPLING, concurrency=2),
    "providers": {"p": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "base_url_env": "FTEVAL_TEST_UNSET_URL",
                        "api_key_env": "FTEVAL_TEST_UNSET_KEY", "cap_field": "max_completion_tokens",
                        "anthropic_version": "2023-06-01", "path": "recorded.jsonl",
                        "headers": {"X-Team": "evals"}, "extra_body": {"store": False}, "rpm": 60, "tpm": 1e5, "max_wait_s": 30,
                        "concurrency": 1, "batch": True, "batch_max_requests": 100, "batch_max_bytes": 100000,
                        "batch_poll_s": 5, "stream": True, "first_token_timeout_s": 20},
                  # the keys of the issue 15 providers, on providers no arm uses (loaded and checked, no key read)
                  "az": {"type": "azure_openai", "endpoint": "https://res.openai.azure.com", "api_version": "2024-10-21",
                         "token_env": "FTEVAL_TEST_UNSET_TOKEN"},
                  "br": {"type": "bedrock", "region": "eu-west-1"}},
    "arms": [dict(SAMPLING, name="prompted", provider="p", model="gpt-4o-mini-2024-07-18", price_model="gpt-4o-mini-2024-07-18",
                  system="@sys.txt",
                  few_shot="few.jsonl", template="{input}", extra_body={"stop": ["\n"]},
                  stream=False, first_token_timeout_s=5),
             {"name": "ft", "provider": "p", "finetune_job": "ftjob-abc", "checkpoints": True}],
    "baseline_arm": "prompted", "candidate_arm": "ft",
    "prices": {"currency": "USD", "unit": "per_1m_tokens", "notes": "test", "models": {
        "gpt-4o-mini-2024-07-18": {"input": 0.15, "cached_input": 0.075, "output": 0.6, "batch_multiplier": 0.5,
                                   "training": 3, "training_per_1m": 3, "training_per_hour": 100,
                                   "source": "test", "as_of": "2026-11-24", "notes": "n",
                                   "service_tiers": {"flex": {"input": 0.1}}}}},
    "training": {"cost_usd": 4.2, "trained_tokens": 1000},
    "traffic": {"requests_per_month": 1000},
    "stats": {"resamples": 100, "alpha": 0.05, "seed": 1, "correction": "holm", "family": "primary"},
    "budget": {"max_usd": 100},
    "max_error_rate": 0.05, "cache": False,
    "decision": {"margin": 0.01, "min_relative_saving": 0.05, "max_error_rate": 0.05,
                 "distill_report": "distill/distill.json"},
    "evidence": {"expert_reviewed": True, "human_ratings": "ratings.jsonl", "data_check": True,
                 "monitoring": "dashboards", "rag_tried": False},
    "judges": {"quality": {"type": "rubric", "provider": "p", "model": "gpt-4.1-2025-04-14",
                           "prompt": "Grade {output} for {input} against {reference} on {scale}.",
                           "scale": [1, 5], "pass_at": 4},
               "pref": {"type": "pairwise", "provider": "p", "model": "gpt-4.1-2025-04-14",
                        "against": "prompted", "swap": True}},
    "distill": {"teacher": "prompted", "heldout": "held.jsonl", "validation_fraction": 0.1, "max_output_chars": 4096,
                "epochs": 3, "student_model": "gpt-4o-mini-2024-07-18", "judge": "quality", "min_score": 3,
                "student_format": {"system": "Answer.", "template": "{input}"}},
}
# Where each table object sits in FULL, and the JSON path the loader names for it.
LOCATE = {
    "(root)": (lambda c: c, ""),
    "providers.*": (lambda c: c["providers"]["p"], "providers.p."),
    "judges.*": (lambda c: c["judges"]["quality"], "judges.quality."),
    "arms[]": (lambda c: c["arms"][0], "arms[0]."),
    "prices.models.*": (lambda c: c["prices"]["models"]["gpt-4o-mini-2024-07-18"],
                        'prices.models["gpt-4o-mini-2024-07-18"].'),
}
for path in TABLE:
    if path not in LOCATE:
        parts = path.split(".")
        LOCATE[path] = ((lambda parts: lambda c: _walk(c, parts))(parts), path + ".")


def _walk(c, parts):
    for p in parts:
        c = c[p]
    return c


def keys_used(path):
    if path == "arms[]":
        return {k for arm in FULL["arms"] for k in arm}
    if path == "providers.*":
        return {k for prov in FULL["providers"].values() for k in prov}
    if path == "judges.*":
        return {k for j in FULL["judges"].values() for k in j}
    return set(LOCATE[path][0](FULL))


for path, keys in TABLE.items():
    t(keys_used(path) == set(keys), f"the full config uses every key of {path}: missing {sorted(set(keys) - keys_used(path))}")


def write(cfg, name="c.json"):
    p = os.path.join(d, name)
    fte.write_json(p, cfg)
    return p


def dry_run(cfg):
    env = {k: v for k, v in os.environ.items() if k not in ("FTEVAL_TEST_UNSET_KEY", "FTEVAL_TEST_UNSET_URL")}
    return subprocess.run([fte.FTEVAL, "run", write(cfg), "--dry-run"], capture_output=True, text=True, env=env,
                          cwd=d, timeout=120)


errs = [e.message for e in VALIDATOR.iter_errors(FULL)]
t(not errs, f"the full config passes the schema: {errs}")
p = dry_run(FULL)
t(p.returncode == 0 and "dry run: 4 examples x 2 arms" in p.stdout, f"the full config loads: {p.returncode} {p.stderr}")

for path in sorted(TABLE):
    bad = copy.deepcopy(FULL)
    get, prefix = LOCATE[path]
    get(bad)["zz_not_a_key"] = 1
    t(not VALIDATOR.is_valid(bad), f"schema rejects an unknown key in {path}")
    p = dry_run(bad)
    first = next((l for l in p.stderr.splitlines() if l.startswith("fteval: error: ")), "")
    want = re.compile(r"^fteval: error: " + re.escape(os.path.join(d, "c.json")) + r":\d+:\d+: "
                      + re.escape(prefix + "zz_not_a_key: unknown key"))
    t(p.returncode == 3 and want.match(first), f"loader rejects an unknown key in {path}: {p.returncode} {first!r}")

# ---- 3. shipped and documented configs --------------------------------------------------------
shipped = [c for c in sorted(glob.glob(os.path.join(SRC, "configs", "*.json")))
           if "arms" in json.load(open(c, encoding="utf-8"))]
t(len(shipped) >= 3, f"shipped run configs found: {shipped}")
for c in shipped:
    errs = [e.message for e in VALIDATOR.iter_errors(json.load(open(c, encoding="utf-8")))]
    t(not errs, f"{os.path.basename(c)} passes the schema: {errs}")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    p = subprocess.run([fte.FTEVAL, "run", c, "--dry-run"], capture_output=True, text=True, env=env, timeout=120)
    t(p.returncode in (0, 1) and "dry run:" in p.stdout, f"{os.path.basename(c)} loads (dry run): {p.returncode} {p.stderr}")


def doc_configs(path):
    text = open(path, encoding="utf-8").read()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        try:
            obj = json.loads(block)
        except ValueError:
            continue
        if isinstance(obj, dict) and "arms" in obj and "providers" in obj:
            yield obj


docs = [os.path.join(SRC, "README.md"), os.path.join(SRC, "docs", "config.md"), os.path.join(SRC, "docs", "providers.md")]
shared_design = os.path.join(SRC, "..", "shared", "docs", "DESIGN.md")
if os.path.exists(shared_design):
    docs.append(shared_design)
n_readme = 0
for doc in docs:
    for obj in doc_configs(doc):
        n_readme += doc.endswith("README.md")
        errs = [e.message for e in VALIDATOR.iter_errors(obj)]
        t(not errs, f"the example config in {os.path.basename(doc)} passes the schema: {errs}")
t(n_readme >= 1, "the README's example config was found")

if not jsonschema and not t.fails:
    print(f"{t.ok} passed; SKIP schema validation: python3-jsonschema is not installed")
    sys.exit(77)
t.done()
