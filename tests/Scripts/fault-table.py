#!/usr/bin/env python3
"""Turns the fault suite's measurements into a Markdown table.

Usage: fault-table.py RESULTS.jsonl

RESULTS.jsonl holds one JSON object per fault-run.py run, as it appends them
to the file named by FAULT_RESULTS, e.g. after

    cd tests && FAULT_RESULTS=$PWD/fault.jsonl btest -j zeromqwriter/fault-*.sh

Prints one row per run (the last one of each situation, mode, policy and
end): what the writer counted (sent, dropped by reason), what the
subscribers' processes read, how many records counted as sent they never
read (and the bound the suite allows), and how long Zeek took to exit after
terminate() or the SIGTERM.
"""

import json
import sys

SITUATIONS = ["absent", "killed", "restarted", "hung", "stopped"]

# The totals line's reasons, shortened for the table.
REASONS = {
    "with no subscriber": "no subscriber",
    "with a slow subscriber": "slow subscriber",
    "unsent when the linger time ran out": "unsent at linger",
    "at shutdown": "at shutdown",
    "lost with the connection": "lost with connection",
    "unencodable": "unencodable",
    "on socket errors": "socket errors",
}


def order(r):
    return (SITUATIONS.index(r["situation"]) if r["situation"] in SITUATIONS else 99,
            r["end"] != "terminate()", r["mode"], r["policy"])


def dropped(r):
    if not r["dropped"]:
        return "0"
    parts = [f"{n} {REASONS.get(why, why)}" for why, n in (r["reasons"] or {}).items() if n]
    return f"{r['dropped']} ({', '.join(parts)})"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[(r["situation"], r["mode"], r["policy"], r["end"])] = r
    print("| subscriber | mode | policy | Zeek ends by | written | sent | dropped "
          "| received | sent, never read (bound) | exit after the end |")
    print("|---|---|---|---|---:|---:|---|---:|---:|---:|")
    for r in sorted(runs.values(), key=order):
        lost = r.get("lost")
        print(f"| {r['situation']} | {r['mode']} | {r['policy'].upper()} | {r['end']} "
              f"| {r['zeek_writes']} | {r['sent']} | {dropped(r)} | {r['received']} "
              f"| {lost} ({r['max_lost']}) | {r['exit_seconds']:.1f} s"
              f"{'' if r['ok'] else ' FAILED'} |")


if __name__ == "__main__":
    main()
