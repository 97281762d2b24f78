"""The config is strict, end to end through the CLI (issue 11 section 2).

- The three silent misconfigurations of the issue -- `few_shots` (the prompted baseline loses
  its few-shot examples), `budgt` (no spending cap), `max_token` (falls back to 256) -- each end
  in exit 3 with the exact message (file:line:col, JSON path, "did you mean"), nothing sent and
  no results folder.
- `--dry-run` needs no API key: it loads, estimates and exits 0 with the key variable unset
  (a warning says a real run needs it), and opens no connection; a real run still refuses.
- A literal `system` text that names an existing file (a forgotten '@') gets a warning on
  stderr; an @file or ordinary text does not.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fte  # noqa: E402

t = fte.Checks()
d = fte.tmpdir()
fte.plain_dataset(os.path.join(d, "held.jsonl"), 6)
fte.write_jsonl(os.path.join(d, "few.jsonl"), [{"input": "question 0", "gold": "alpha"}])
os.makedirs(os.path.join(d, "prompts"))
with open(os.path.join(d, "prompts", "system.txt"), "w") as f:
    f.write("Answer with one word.")

# A listening socket that must never see a connection: every config points at it.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
srv.setblocking(False)
URL = "http://127.0.0.1:%d/v1" % srv.getsockname()[1]


def no_connection():
    try:
        conn, _ = srv.accept()
        conn.close()
        return False
    except BlockingIOError:
        return True


# Written by hand, one key per line where it matters, so the line and column are known.
CONFIGS = {
    "few_shots": ('{\n'
                  '  "name": "strict",\n'
                  '  "dataset": "held.jsonl",\n'
                  '  "providers": {"p": {"type": "openai", "base_url": "%s"}},\n'
                  '  "arms": [\n'
                  '    {"name": "base", "provider": "p", "model": "m"},\n'
                  '    {"name": "prompted", "provider": "p", "model": "m",\n'
                  '     "few_shots": "few.jsonl"}\n'
                  '  ]\n'
                  '}\n' % URL,
                  ':8:6: arms[1].few_shots: unknown key; did you mean "few_shot"?'),
    "budgt": ('{\n'
              '  "name": "strict",\n'
              '  "dataset": "held.jsonl",\n'
              '  "providers": {"p": {"type": "openai", "base_url": "%s"}},\n'
              '  "arms": [{"name": "base", "provider": "p", "model": "m"}],\n'
              '  "budgt": {"max_usd": 0.5}\n'
              '}\n' % URL,
              ':6:3: budgt: unknown key; did you mean "budget"?'),
    "max_token": ('{\n'
                  '  "name": "strict",\n'
                  '  "dataset": "held.jsonl",\n'
                  '  "defaults": {"temperature": 0,\n'
                  '               "max_token": 64},\n'
                  '  "providers": {"p": {"type": "openai", "base_url": "%s"}},\n'
                  '  "arms": [{"name": "base", "provider": "p", "model": "m"}]\n'
                  '}\n' % URL,
                  ':5:16: defaults.max_token: unknown key; did you mean "max_tokens"?'),
}
for name, (text, tail) in CONFIGS.items():
    path = os.path.join(d, name + ".json")
    with open(path, "w") as f:
        f.write(text)
    for extra in ([], ["--dry-run"]):
        p = fte.run("run", path, "--out", os.path.join(d, "out-" + name), *extra)
        want = "fteval: error: " + path + tail + "\n"
        t(p.returncode == 3, f"{name} {extra}: exit 3 (got {p.returncode})")
        t(p.stderr == want, f"{name} {extra}: exact message\n got: {p.stderr!r}\nwant: {want!r}")
        t(p.stdout == "", f"{name} {extra}: nothing on stdout")
        t(not os.path.exists(os.path.join(d, "out-" + name)), f"{name} {extra}: no run directory")
t(no_connection(), "no request for a rejected config")

# --dry-run without the API key.
KEYVAR = "FTEVAL_TEST_STRICT_KEY"
PRICES = {"models": {"gpt-4o-mini-2024-07-18": {"input": 0.15, "output": 0.6}}}
cfg = fte.config(os.path.join(d, "keyed.json"), "held.jsonl", URL,
                 providers={"sim": {"api_key_env": KEYVAR}}, budget={"max_usd": 1}, prices=PRICES)
os.environ.pop(KEYVAR, None)
p = fte.run("run", cfg, "--dry-run")
t(p.returncode == 0, f"dry run without the key: exit 0 (got {p.returncode}: {p.stderr})")
t(p.stdout.startswith("dry run: 6 examples x 1 arms; nothing is sent\n") and "within budget" in p.stdout,
  f"dry run without the key: the estimate ({p.stdout!r})")
t(p.stderr == f"fteval: warning: {cfg}: providers.sim.api_key_env: environment variable {KEYVAR} is not set; "
  "a dry run does not need it, a real run does\n", f"dry run without the key: one warning ({p.stderr!r})")
p = fte.run("run", cfg, "--out", os.path.join(d, "out-keyed"))
t(p.returncode == 3 and f"providers.sim.api_key_env: environment variable {KEYVAR} is not set (needed by arm 'base')"
  in p.stderr, f"a real run still needs the key: {p.returncode} {p.stderr!r}")
p = fte.run("run", cfg, "--dry-run", env={KEYVAR: "sk-test-0123456789"})
t(p.returncode == 0 and p.stderr == "", f"dry run with the key: no warning ({p.stderr!r})")
t(no_connection(), "the dry runs opened no connection")

# A system prompt that names a file without '@'.
def arms(system):
    return [{"name": "prompted", "provider": "sim", "model": "gpt-4o-mini-2024-07-18", "system": system}]


cfg = fte.config(os.path.join(d, "sys.json"), "held.jsonl", URL, arms=arms("prompts/system.txt"), prices=PRICES)
p = fte.run("run", cfg, "--dry-run")
want = (f"fteval: warning: {cfg}: arms[0].system: \"prompts/system.txt\" is the name of an existing file but is "
        "sent as literal text; write \"@prompts/system.txt\" to send the file's contents\n")
t(p.returncode == 0 and p.stderr == want, f"system naming a file: the warning\n got: {p.stderr!r}\nwant: {want!r}")
for system in ("@prompts/system.txt", "You are a helpful assistant.", "prompts/absent.txt", "prompts"):
    cfg = fte.config(os.path.join(d, "sys.json"), "held.jsonl", URL, arms=arms(system), prices=PRICES)
    p = fte.run("run", cfg, "--dry-run")
    t(p.returncode == 0 and p.stderr == "", f"system {system!r}: no warning ({p.returncode} {p.stderr!r})")
t(no_connection(), "no connection at all")

t.done()
