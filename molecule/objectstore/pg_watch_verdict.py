#!/usr/bin/python3
"""Judge the PG samples the side effect took during the rolling OSD restart.

Each line of the log is {"t": <epoch s>, "stat": <ceph pg stat JSON>} or {"t": ..., "error": true}.
Prints one JSON object: how many samples, how many failed (a sample that timed out under load
does not end a window), the states that need an operator
(down, incomplete, unknown, inconsistent: Ceph does not leave them by itself), and the windows in
which some PG was not active (a stopped OSD's PGs are stale, then peer and activate on the others:
a short pause for the clients), the longest in seconds.
"""

import json
import sys

NEEDS_AN_OPERATOR = ("down", "incomplete", "unknown", "inconsistent")


def main(path):
    samples = [json.loads(line) for line in open(path) if line.strip()]
    errors = sum(1 for s in samples if s.get("error"))
    needs_operator, windows, start, last_t = set(), [], None, None
    for sample in samples:
        if sample.get("error"):
            continue
        states = [s["name"] for s in sample["stat"]["pg_summary"]["num_pg_by_state"]]
        needs_operator.update(part for name in states for part in name.split("+") if part in NEEDS_AN_OPERATOR)
        all_active = all("active" in name.split("+") and "stale" not in name.split("+") for name in states)
        if not all_active and start is None:
            start = sample["t"]
        elif all_active and start is not None:
            windows.append(sample["t"] - start)
            start = None
        last_t = sample["t"]
    if start is not None:
        windows.append(last_t - start)
    print(json.dumps({"samples": len(samples), "errors": errors, "needs_operator": sorted(needs_operator),
                      "not_active_windows_s": windows, "longest_not_active_s": max(windows, default=0)}))


if __name__ == "__main__":
    main(sys.argv[1])
