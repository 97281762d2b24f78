#!/usr/bin/env python3
"""mutate.py — the mutation runner behind tests/mutation/run.sh.

Reads a list of curated single-line mutants (tests/mutation/mutants.tsv), applies each one to a
scratch copy of the source tree, rebuilds that copy incrementally and runs the tests that own the
mutated module under CI=true. A mutant is KILLED when some owning test fails, SURVIVES when all of
them pass, and is INVALID when it does not compile or its entry is stale (the pattern no longer
matches exactly once). Survivors and invalid entries fail the run, each named.

Why running only the owning tests is enough: they are a subset of the suite, so a mutant they kill
is killed by the suite too; the selection can only under-report kills, never invent one. A mutant
the owning tests miss fails the run, and the fix is a test in the owning set (or a wider regex).

Each worker owns one copy (build-mutation/wN/src, built in build-mutation/wN/build) that is synced
from the working tree (tracked and untracked-but-not-ignored files) by content, so unchanged files
keep their mtimes and the build stays incremental across mutants and across runs.
"""
import argparse
import concurrent.futures
import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIELDS = ("id", "file", "pattern", "replacement", "tests", "why")
print_lock = threading.Lock()


def say(msg):
    with print_lock:
        print(msg, flush=True)


class Mutant:
    def __init__(self, lineno, fields):
        self.lineno = lineno
        for name, value in zip(FIELDS, fields):
            setattr(self, name, value)


def parse_list(path):
    """Returns (mutants, errors). Tab-separated, six fields; '#' comments and blank lines skipped."""
    mutants, errors, seen = [], [], set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != len(FIELDS):
                errors.append(f"{path}:{lineno}: {len(fields)} tab-separated fields, want {len(FIELDS)} "
                              f"({', '.join(FIELDS)})")
                continue
            m = Mutant(lineno, fields)
            m.pattern, m.replacement = unescape(m.pattern), unescape(m.replacement)
            if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", m.id):
                errors.append(f"{path}:{lineno}: bad id '{m.id}' (lowercase letters, digits, - _ .)")
            elif m.id in seen:
                errors.append(f"{path}:{lineno}: duplicate id '{m.id}'")
            seen.add(m.id)
            for name in FIELDS:
                if not getattr(m, name):
                    errors.append(f"{path}:{lineno}: {m.id}: empty field '{name}'")
            if m.pattern == m.replacement:
                errors.append(f"{path}:{lineno}: {m.id}: replacement equals the pattern")
            if m.pattern.count("\n") > 1 or m.pattern.count("\n") != m.replacement.count("\n") or \
                    (m.pattern.split("\n")[:-1] != m.replacement.split("\n")[:-1]):
                errors.append(f"{path}:{lineno}: {m.id}: a mutant changes one line: at most one \\n, "
                              f"before which pattern and replacement agree")
            mutants.append(m)
    return mutants, errors


def unescape(field):
    """A field's text: '\\n' stands for a line break (to include the end of the line before the
    mutated one when identical lines must be told apart), '\\\\' for a backslash."""
    return re.sub(r"\\([n\\])", lambda mo: "\n" if mo.group(1) == "n" else "\\", field)


def check_stale(mutants, root):
    """Each pattern must match exactly once in its file, as a literal substring of one line."""
    errors = []
    for m in mutants:
        path = os.path.join(root, m.file)
        if not os.path.isfile(path):
            errors.append(f"stale mutant {m.id} (line {m.lineno}): file '{m.file}' does not exist")
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        n = text.count(m.pattern)
        if n != 1:
            errors.append(f"stale mutant {m.id} (line {m.lineno}): pattern matches {n} times in "
                          f"{m.file}, want exactly 1: {m.pattern!r}")
        try:
            re.compile(m.tests)
        except re.error as e:
            errors.append(f"mutant {m.id} (line {m.lineno}): tests regex '{m.tests}' is invalid: {e}")
    return errors


def source_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return sorted({p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(ROOT, p))})


def sync_copy(src_dir, files):
    """Makes src_dir hold exactly `files` from ROOT; copies only files whose content differs."""
    manifest = os.path.join(src_dir, ".mutation-files")
    old = set()
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            old = set(f.read().split("\0")) - {""}
    for p in sorted(old - set(files)):
        try:
            os.unlink(os.path.join(src_dir, p))
        except FileNotFoundError:
            pass
    for p in files:
        a, b = os.path.join(ROOT, p), os.path.join(src_dir, p)
        if os.path.isfile(b) and not os.path.islink(b) and filecmp.cmp(a, b, shallow=False):
            continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        if os.path.lexists(b):
            os.unlink(b)
        shutil.copy2(a, b)
        os.utime(b)  # newer than any object built from an older (or mutated) version
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("\0".join(files))
    # Prism's and puppeteer-core's node_modules are ignored by git and installed by the set-up
    # step: share them.
    for tool in ("prism", "browser"):
        nm_src = os.path.join(ROOT, "tests", tool, "node_modules")
        nm_dst = os.path.join(src_dir, "tests", tool, "node_modules")
        if os.path.isdir(nm_src) and not os.path.lexists(nm_dst):
            os.symlink(nm_src, nm_dst)


live = set()  # process groups of running children, killed on SIGINT/SIGTERM
stopping = threading.Event()


def run(cmd, cwd, env=None, timeout=None):
    """Runs cmd in its own process group; on timeout kills the whole group. Returns (rc, output)."""
    if stopping.is_set():
        return None, "interrupted"
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    live.add(p.pid)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out.decode(errors="replace")
    finally:
        live.discard(p.pid)


def on_signal(signum, frame):
    """Stops the workers: kills the running builds and tests; each worker restores its file."""
    stopping.set()
    for pgid in list(live):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Worker:
    def __init__(self, idx, workdir, args):
        self.idx = idx
        self.src = os.path.join(workdir, f"w{idx}", "src")
        self.build = os.path.join(workdir, f"w{idx}", "build")
        self.args = args
        self.env = dict(os.environ, CI="true")

    def prepare(self, files, jobs):
        os.makedirs(self.src, exist_ok=True)
        sync_copy(self.src, files)
        shared = os.path.realpath(os.path.join(ROOT, "..", "shared"))
        cfg = ["cmake", "-S", self.src, "-B", self.build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
               "-DFTEVAL_WERROR=ON", f"-DFTEVAL_SHARED_DIR={shared}",
               # the code CI tests (-O2, NDEBUG) without debug info: faster compiles and links
               "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG",
               f"-DFTEVAL_TEST_TIMEOUT={self.args.test_timeout}"]
        rc, out = run(cfg, ROOT)
        if rc != 0 and not stopping.is_set():
            raise RuntimeError(f"worker {self.idx}: cmake configure failed:\n{out[-3000:]}")
        rc, out = run(["cmake", "--build", self.build, f"-j{jobs}"], ROOT)
        if rc != 0 and not stopping.is_set():
            raise RuntimeError(f"worker {self.idx}: the unmutated copy does not build:\n{out[-3000:]}")

    def test_names(self, regex):
        rc, out = run(["ctest", "-N", "-R", regex], self.build)
        return re.findall(r"Test\s+#\d+: (\S+)", out) if rc == 0 else []

    def ctest(self, regex, jobs, n_tests):
        cmd = ["ctest", "--no-tests=error", "--output-on-failure", "-j", str(jobs), "-R", regex,
               "--timeout", str(self.args.test_timeout)]
        # ctest's own per-test TIMEOUT ends a hung test; this outer limit only guards ctest itself
        limit = self.args.test_timeout * (n_tests + 1) + 60
        rc, out = run(cmd, self.build, env=self.env, timeout=limit)
        failed = re.findall(r"^\s*\d+ - (\S+) \((.*?)\)\s*$", out, re.M)
        return rc, out, failed

    def targets(self, names):
        """The build targets the named tests need: a C test is its own executable; a scripted test
        drives fteval and the test tools (tests/tools/*.c)."""
        c_tests = {os.path.splitext(f)[0] for f in os.listdir(os.path.join(self.src, "tests"))
                   if f.startswith("test_") and f.endswith(".c")}
        tools = [os.path.splitext(f)[0] for f in sorted(os.listdir(os.path.join(self.src, "tests", "tools")))
                 if f.endswith(".c")] if os.path.isdir(os.path.join(self.src, "tests", "tools")) else []
        out = sorted(n for n in names if n in c_tests)
        if any(n not in c_tests for n in names):
            out += ["fteval"] + tools
        return out

    def mutate(self, m, names):
        path = os.path.join(self.src, m.file)
        with open(path, encoding="utf-8") as f:
            original = f.read()
        if original.count(m.pattern) != 1:
            return ("INVALID", f"pattern matches {original.count(m.pattern)} times in the copy", "")
        t0 = time.monotonic()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(m.pattern, m.replacement, 1))
            rc, out = run(["cmake", "--build", self.build, "-j1", "--target"] + self.targets(names),
                          ROOT, timeout=900)
            if rc != 0:
                errs = [l for l in out.splitlines() if "error" in l.lower()][:3]
                return ("INVALID", "does not compile: " + " | ".join(errs), out)
            rc, out, failed = self.ctest(m.tests, self.args.ctest_jobs, len(names))
            if rc is None:
                return ("INVALID", "ctest itself did not finish (outer limit)", out)
            if rc != 0 and failed:
                return ("KILLED", "by " + ", ".join(f"{n} ({why})" for n, why in failed), out)
            if rc != 0:
                return ("INVALID", f"ctest exited {rc} without naming a failed test", out)
            return ("SURVIVED", "every owning test passed", out)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
            self.last_time = time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", "--workers", type=int, default=int(os.environ.get("MUTATION_WORKERS", "2")))
    ap.add_argument("--list", default=os.path.join(ROOT, "tests", "mutation", "mutants.tsv"))
    ap.add_argument("--only", default="", help="comma-separated ids (default: all)")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build-mutation"))
    ap.add_argument("--test-timeout", type=int, default=int(os.environ.get("MUTATION_TEST_TIMEOUT", "180")),
                    help="ctest TIMEOUT for each test of the scratch build, seconds (default 180)")
    ap.add_argument("--ctest-jobs", type=int, default=int(os.environ.get("MUTATION_CTEST_JOBS", "2")),
                    help="ctest -j within one mutant (default 2: the end-to-end tests mostly wait)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip running the owning tests on the unmutated copy first")
    ap.add_argument("--check", action="store_true", help="only validate the list, build nothing")
    ap.add_argument("-v", "--verbose", action="store_true", help="print test output of survivors")
    args = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    t_start = time.monotonic()

    mutants, errors = parse_list(args.list)
    errors += check_stale(mutants, ROOT)
    if args.only:
        want = set(args.only.split(","))
        unknown = want - {m.id for m in mutants}
        errors += [f"--only: no mutant '{u}'" for u in sorted(unknown)]
        mutants = [m for m in mutants if m.id in want]
    if errors:
        for e in errors:
            say(f"mutation: ERROR {e}")
        say(f"mutation: {len(errors)} invalid entr{'y' if len(errors) == 1 else 'ies'} in {args.list}; nothing run")
        return 2
    if args.check:
        say(f"mutation: {len(mutants)} mutants, every pattern matches exactly once")
        return 0

    n_workers = max(1, min(args.workers, len(mutants)))
    files = source_files()
    workers = [Worker(i, args.workdir, args) for i in range(n_workers)]
    t0 = time.monotonic()
    # build the copies one after another, each with all cores: the same wall time, less peak memory
    try:
        for w in workers:
            w.prepare(files, args.workers)
    except RuntimeError as e:
        say(f"mutation: ERROR {e}")
        return 2
    if stopping.is_set():
        return 130
    say(f"mutation: {n_workers} scratch cop{'y' if n_workers == 1 else 'ies'} built in "
        f"{time.monotonic() - t0:.0f}s under {os.path.relpath(args.workdir, ROOT)}/")

    # every owning regex must select at least one test; remember how many for the outer limit
    owners = {}
    for m in mutants:
        owners[m.id] = workers[0].test_names(m.tests)
        if not owners[m.id]:
            errors.append(f"mutant {m.id} (line {m.lineno}): tests regex '{m.tests}' selects no test")
    if errors:
        for e in errors:
            say(f"mutation: ERROR {e}")
        say(f"mutation: {len(errors)} invalid entries; nothing run")
        return 2

    if not args.no_baseline:
        t0 = time.monotonic()
        union = sorted({n for m in mutants for n in owners[m.id]})
        regex = "^(" + "|".join(re.escape(n) for n in union) + ")$"
        rc, out, failed = workers[0].ctest(regex, args.workers, len(union))
        if rc != 0:
            say(out[-4000:])
            say(f"mutation: ERROR the owning tests fail on the unmutated source: "
                f"{', '.join(n for n, _ in failed) or 'ctest exit ' + str(rc)}; nothing run")
            return 2
        say(f"mutation: baseline: {len(union)} owning tests pass unmutated ({time.monotonic() - t0:.0f}s)")

    results = {}
    queue = list(mutants)
    qlock = threading.Lock()

    def loop(w):
        while True:
            with qlock:
                if not queue or stopping.is_set():
                    return
                m = queue.pop(0)
            verdict, detail, out = w.mutate(m, owners[m.id])
            if stopping.is_set():
                return
            results[m.id] = (verdict, detail)
            with print_lock:
                print(f"{verdict:8} {m.id:32} {m.file}  {w.last_time:5.1f}s  {detail}", flush=True)
                if verdict == "SURVIVED":
                    print(f"         why it matters: {m.why}\n         {m.pattern!r} -> {m.replacement!r}"
                          f"\n         owning tests: {m.tests}", flush=True)
                    if args.verbose:
                        print(out[-3000:], flush=True)

    with concurrent.futures.ThreadPoolExecutor(n_workers) as ex:
        for f in [ex.submit(loop, w) for w in workers]:
            f.result()
    if stopping.is_set():
        say("mutation: interrupted; the scratch copies are restored")
        return 130

    killed = [m for m in mutants if results[m.id][0] == "KILLED"]
    survived = [m for m in mutants if results[m.id][0] == "SURVIVED"]
    invalid = [m for m in mutants if results[m.id][0] == "INVALID"]
    for m in survived:
        say(f"mutation: SURVIVOR {m.id} ({m.file}): {m.why}")
    for m in invalid:
        say(f"mutation: INVALID {m.id} ({m.file}, line {m.lineno} of the list): {results[m.id][1]}")
    scored = len(killed) + len(survived)
    score = 100.0 * len(killed) / scored if scored else 0.0
    say(f"mutation score: {score:.1f}% ({len(killed)} of {scored} killed, {len(invalid)} invalid) "
        f"with {n_workers} workers in {time.monotonic() - t_start:.0f}s")
    say(f"mutation: {len(killed)} passed, {len(survived) + len(invalid)} failed")
    return 0 if not survived and not invalid else 1


if __name__ == "__main__":
    sys.exit(main())
