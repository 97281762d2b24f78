#!/usr/bin/env python3
"""report_memory_test.py — `fteval report` on a run of 20,000 examples x 3 arms (the report
fixture, tests/fixtures/report/make_run.py) stays under 70 MiB of peak RSS (issue 14, Memory).

The bound is generous on purpose (not a timed benchmark): the code before issue 14's memory work
peaked at 92 MiB here (every record's slimmed JSON, the example browser's JSON tree), today's at
about 47 MiB. The page must still hold all 20,000 examples. Under a sanitizer build
(FTEVAL_SANITIZED) the bound does not apply (shadow memory); the report is still checked."""
import os
import subprocess
import sys
import tempfile

FTEVAL = os.environ["FTEVAL"]
SRC = os.environ["FTEVAL_SRC"]
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
N = 20000
BOUND_MIB = 70


def sanitized():
    """CMake sets FTEVAL_SANITIZED in the sanitizer build's test environment."""
    return bool(os.environ.get("FTEVAL_SANITIZED"))


def main():
    fail = 0
    with tempfile.TemporaryDirectory(prefix="fteval-report-memory.") as work:
        run = os.path.join(work, "run")
        subprocess.run([PYTHON, os.path.join(SRC, "tests/fixtures/report/make_run.py"), run,
                        "--scenario", "full", "--n", str(N)], check=True)
        with open(os.path.join(work, "err"), "w+") as err:
            p = subprocess.Popen([FTEVAL, "report", run], stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(p.pid, 0)  # this child's own rusage
            p.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            if p.returncode != 0:
                print(f"FAIL: fteval report exited {p.returncode}: {err.read()}")
                return 1
        peak_kib = usage.ru_maxrss
        html = open(os.path.join(run, "report.html"), encoding="utf-8").read()
        if f"{N} examples." not in html:
            print(f"FAIL: the example browser does not hold all {N} examples")
            fail = 1
        mib = peak_kib / 1024
        if sanitized():
            print(f"sanitizer build: peak RSS {mib:.1f} MiB, bound {BOUND_MIB} MiB not applied")
        elif mib > BOUND_MIB:
            print(f"FAIL: fteval report on {N} examples x 3 arms peaked at {mib:.1f} MiB "
                  f"(bound {BOUND_MIB} MiB)")
            fail = 1
        else:
            print(f"ok: fteval report on {N} examples x 3 arms peaked at {mib:.1f} MiB "
                  f"(bound {BOUND_MIB} MiB)")
    return fail


if __name__ == "__main__":
    sys.exit(main())
