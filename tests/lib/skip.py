"""The one rule for a test whose dependency is missing (../shared, scipy, Prism, Chromium, a tool):
outside CI it is skipped — exit 77, printing what is missing — and under CI (CI set to anything
but "" / "0" / "false") it fails, because CI promises that every test runs. Dependencies are
installed by scripts/setup.sh --test / scripts/test.sh, never by a test.

    sys.path.insert(0, os.path.join(os.environ["FTEVAL_SRC"], "tests", "lib"))  # or relative
    from skip import skip_or_fail, need_file, need_env
"""
import os
import sys


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(what):
    """Never returns: exit 1 under CI, else 77 (ctest: skipped). `what` names what is missing."""
    if in_ci():
        print("FAIL (CI=true, no test may skip): missing %s" % what, flush=True)
        sys.exit(1)
    print("skipped: missing %s" % what, flush=True)
    sys.exit(77)


def need_env(name):
    """The value of environment variable `name` (set by ctest), or skip_or_fail."""
    v = os.environ.get(name)
    if not v:
        skip_or_fail("environment variable %s (run through ctest)" % name)
    return v


def need_file(path, what=None):
    """`path` if it exists, else skip_or_fail naming it."""
    if not path or not os.path.exists(path):
        skip_or_fail("%s (%s)" % (what, path) if what else str(path))
    return path


def shared(*parts):
    """A path under $FTEVAL_SHARED (../shared: datasets, the OpenAPI spec), or skip_or_fail."""
    root = os.environ.get("FTEVAL_SHARED", "")
    if not root or not os.path.isdir(root):
        skip_or_fail("../shared ($FTEVAL_SHARED=%r)" % root)
    return need_file(os.path.join(root, *parts), "../shared/" + "/".join(parts))
