"""Failure reports of the btest check scripts (imported, not run)."""

import os
import sys


def report_problems(who, problems):
    """Writes `who: N problem(s):` and one indented line per problem to
    stderr and, under btest, appends it to $TEST_DIAGNOSTICS (which
    "btest -d" shows: a test's stderr is lost after btest-bg-wait).
    Returns the exit status for a failed check, 1."""
    text = f"{who}: {len(problems)} problem(s):\n"
    text += "".join(f"  {p}\n" for p in problems)
    sys.stderr.write(text)
    if os.environ.get("TEST_DIAGNOSTICS"):
        with open(os.environ["TEST_DIAGNOSTICS"], "a", encoding="utf-8") as f:
            f.write(text)
    return 1
