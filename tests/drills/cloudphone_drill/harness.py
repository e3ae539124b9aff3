# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one drill harness shared by every tier.

A drill has three parts, and only the first is tier-specific:

* a Workload (<tier>_workload.py in this package) that performs numbered
  operations against the live system with the client settings the README
  recommends, and can read back what the system kept;
* the op loop (run_workload): it numbers operations, records each one with its
  start/end time and outcome in `ops.jsonl`, and stops at a bound in time or
  when the playbook drops a stop file;
* the verdict (build_report): it reads the op log and the fault events,
  compares acknowledged operations with what was read back, measures the RTO
  (the longest gap between two acknowledged writes) and writes the JSON report.

Files in a run directory:
    ops.jsonl     {"seq", "t0", "t1", "ok", "kind", "error"?} per operation
    events.jsonl  {"name", "t", ...} per fault event (fault_injected, fault_restored, ...)
    stop          created by the playbook to end the op loop early
"""

from __future__ import annotations

import json
import os
import time

OPS_FILE = "ops.jsonl"
EVENTS_FILE = "events.jsonl"
STOP_FILE = "stop"
WRITE = "write"


class Workload:
    """A tier's drill client. Subclasses set `system` and implement `step` and `read_back`."""

    system = ""
    # Pause after a failed operation: the client's retry policy, recorded in the report.
    retry_delay_s = 0.1

    def __init__(self, options):
        self.options = options or {}
        # The run directory, set by the harness before prepare(): a workload may keep its own
        # records there (e.g. what a background consumer received) for read_back().
        self.run_dir = None

    def client_settings(self):
        """The connection and retry settings in force (recorded in the report, no secrets)."""
        return {"retry_delay_s": self.retry_delay_s}

    def prepare(self, run_id):
        """Create what the run needs (table, queue, bucket) idempotently."""
        self.run_id = run_id

    def kind(self, seq):
        """The kind of operation `seq` will be ("write" counts as an acknowledged write when it
        succeeds). Decided before the step, so a failed read is not recorded as a failed write."""
        return WRITE

    def begin(self):
        """Called once by the op loop after prepare(), before the first operation (phase run only):
        start background clients here (e.g. a consumer that runs while the writes go on)."""

    def step(self, seq):
        """Perform operation number `seq`. Return when it is acknowledged; raise when it is not.

        May return a dict of extra fields for the op record. A record whose `kind`
        is not "write" (e.g. a read) does not count as an acknowledged write.
        """
        raise NotImplementedError

    def read_back(self):
        """Return {seq: value} for every write of this run that the system holds."""
        raise NotImplementedError

    def expected_value(self, seq):
        """The value write `seq` stored, or None to check presence only."""
        return None

    def extra_report(self, ops, events, present):
        """Tier-specific figures; keys returned here are added to (or override) the report."""
        return {}

    def extra_checks(self, report):
        """Tier-specific pass/fail checks computed from the finished report."""
        return {}

    def close(self):
        pass


def _append_jsonl(path, record):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def record_event(run_dir, name, t=None, **fields):
    """Append an event. `t` (epoch seconds) is when it happened, if not now: a fault injected by
    the drill_fault role is logged after the role returned, with the time the role noted."""
    event = dict(fields, name=name, t=time.time() if t is None else float(t))
    _append_jsonl(os.path.join(run_dir, EVENTS_FILE), event)
    return event


def request_stop(run_dir):
    open(os.path.join(run_dir, STOP_FILE), "w").close()


def short_error(exc):
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text[:200]


def run_workload(workload, run_dir, duration_s, run_id, max_ops=None):
    """The op loop: as fast as the workload goes, bounded by `duration_s` and the stop file."""
    os.makedirs(run_dir, exist_ok=True)
    ops_path = os.path.join(run_dir, OPS_FILE)
    stop_path = os.path.join(run_dir, STOP_FILE)
    workload.run_dir = run_dir
    workload.prepare(run_id)
    workload.begin()
    started = time.time()
    deadline = time.monotonic() + duration_s
    seq = acked = failed = 0
    with open(ops_path, "a", encoding="utf-8", buffering=1 << 16) as log:
        last_flush = time.monotonic()
        while time.monotonic() < deadline and not os.path.exists(stop_path):
            if max_ops is not None and seq >= max_ops:
                break
            seq += 1
            t0 = time.time()
            record = {"seq": seq, "kind": workload.kind(seq)}
            try:
                record.update(workload.step(seq) or {})
                record["ok"] = True
            except Exception as exc:  # every client error is an outcome to record, not a crash
                record.update(ok=False, error=short_error(exc))
            record.update(t0=t0, t1=time.time())
            log.write(json.dumps(record, sort_keys=True) + "\n")
            if record["ok"]:
                acked += record["kind"] == WRITE
            else:
                failed += 1
                time.sleep(workload.retry_delay_s)
            if time.monotonic() - last_flush > 1:
                log.flush()
                last_flush = time.monotonic()
    workload.close()
    return {"ops": seq, "acked": acked, "failed": failed, "seconds": round(time.time() - started, 3)}


def _event_time(run_dir, name):
    return next((e["t"] for e in read_jsonl(os.path.join(run_dir, EVENTS_FILE)) if e["name"] == name), None)


def wait_for_acks(run_dir, acks, after_event=None, after_outage=False, timeout_s=60.0, poll_s=0.25):
    """Block until `acks` writes are acknowledged, so a playbook acts on what clients see.

    Counts writes started after the first `after_event` event (or after the call), and with
    `after_outage` only those after the first failed operation since then: "writes resumed
    after the fault" rather than "writes went on until the fault bit". Reads ops.jsonl
    incrementally. Returns {"reached", "acks", "outage", "seconds"}, where seconds runs from
    the event (or the call) to the first counted acknowledgement (None if none came in time).
    """
    started = time.time()
    deadline = time.monotonic() + timeout_s
    since = _event_time(run_dir, after_event) if after_event else started
    if since is None:
        raise ValueError(f"no {after_event!r} event has been logged in {run_dir}")
    ops_path = os.path.join(run_dir, OPS_FILE)
    offset, pending = 0, ""
    seen, first, outage = 0, None, not after_outage
    while True:
        if os.path.exists(ops_path):
            with open(ops_path, encoding="utf-8") as fh:
                fh.seek(offset)
                pending += fh.read()
                offset = fh.tell()
            lines = pending.split("\n")
            pending = lines.pop()  # the writer may be in the middle of a line
            for op in (json.loads(line) for line in lines if line.strip()):
                if op["t0"] < since or op.get("kind") != WRITE:
                    continue
                if not op["ok"]:
                    outage = True
                elif outage:
                    seen += 1
                    first = op["t1"] if first is None else first
        if seen >= acks or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    return {"reached": seen >= acks, "acks": seen, "outage": outage if after_outage else None,
            "seconds": round(first - since, 3) if first is not None else None}


def longest_gap(times, start=None, end=None):
    """Longest interval between consecutive timestamps, optionally bounded by start/end."""
    points = sorted(times)
    if start is not None:
        points.insert(0, start)
    if end is not None:
        points.append(end)
    if len(points) < 2:
        return None
    return max(b - a for a, b in zip(points, points[1:]))


def build_report(workload, run_dir, fault, max_rto_s, checks=None, extra=None):
    """Compare the op log with what the system kept, and return the drill report."""
    workload.run_dir = run_dir
    ops = read_jsonl(os.path.join(run_dir, OPS_FILE))
    events = read_jsonl(os.path.join(run_dir, EVENTS_FILE))
    writes = [op for op in ops if op.get("kind") == WRITE]
    acked = {op["seq"] for op in writes if op["ok"]}
    attempted_failed = {op["seq"] for op in writes if not op["ok"]}
    present = workload.read_back()
    present_seqs = set(present)

    lost = sorted(acked - present_seqs)
    in_doubt = sorted(present_seqs & attempted_failed)   # kept, though the client saw an error
    unexpected = sorted(present_seqs - acked - attempted_failed)  # never written by this run
    corrupt = sorted(s for s in acked & present_seqs
                     if workload.expected_value(s) is not None and present[s] != workload.expected_value(s))

    ack_times = [op["t1"] for op in writes if op["ok"]]
    started = ops[0]["t0"] if ops else None
    rto = longest_gap(ack_times)
    fault_at = next((e["t"] for e in events if e["name"] == "fault_injected"), None)
    first_ack_after_fault = min((t for t in ack_times if fault_at is not None and t > fault_at), default=None)

    report = {
        "system": workload.system,
        "fault": fault,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)) if started else None,
        "duration_s": round(ops[-1]["t1"] - started, 3) if ops else 0,
        "ops": len(ops),
        "attempted": len(writes),
        "acked": len(acked),
        "failed_ops": len(attempted_failed) + sum(1 for op in ops if op.get("kind") != WRITE and not op["ok"]),
        "lost": len(lost),
        "lost_sample": lost[:20],
        "in_doubt": len(in_doubt),
        "unexpected": len(unexpected),
        "corrupt": len(corrupt),
        "rto_s": round(rto, 3) if rto is not None else None,
        "fault_to_first_ack_s": round(first_ack_after_fault - fault_at, 3) if first_ack_after_fault else None,
        "max_rto_s": max_rto_s,
        "client_settings": workload.client_settings(),
        "events": [dict(e, t=round(e["t"] - started, 3) if started else e["t"]) for e in events],
        "errors_sample": sorted({op.get("error") for op in ops if not op["ok"]} - {None})[:10],
    }
    report.update(extra or {})
    report.update(workload.extra_report(ops, events, present))
    report["checks"] = dict(checks or {})
    report["checks"].update({
        "no_acknowledged_write_lost": report["lost"] == 0,
        "nothing_unexpected": report["unexpected"] == 0,
        "nothing_corrupt": report["corrupt"] == 0,
        "writes_resumed": report["rto_s"] is not None and (fault_at is None or first_ack_after_fault is not None),
        "rto_within_target": report["rto_s"] is not None and report["rto_s"] <= max_rto_s,
    })
    report["checks"].update(workload.extra_checks(report))
    report["passed"] = all(report["checks"].values())
    return report


def write_report(report, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)
