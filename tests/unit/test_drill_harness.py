"""The drill harness's bookkeeping, with an in-memory store standing in for a tier.

The real tiers are exercised by the drills themselves on the lab; this checks the
arithmetic the reports rely on (acked/lost/in-doubt/unexpected/RTO).
"""

import json

from cloudphone_drill import harness


class ScriptedWorkload(harness.Workload):
    system = "scripted"
    retry_delay_s = 0

    def __init__(self, fail=(), kept_despite_error=(), dropped=(), stray=()):
        super().__init__({})
        self.fail, self.kept, self.dropped, self.stray = set(fail), set(kept_despite_error), set(dropped), set(stray)
        self.store = {}

    def step(self, seq):
        if seq in self.fail:
            if seq in self.kept:
                self.store[seq] = seq * 2
            raise ConnectionError(f"connection lost at {seq}")
        if seq not in self.dropped:
            self.store[seq] = seq * 2

    def read_back(self):
        return {**self.store, **{s: 0 for s in self.stray}}

    def expected_value(self, seq):
        return seq * 2


def test_report_counts(tmp_path):
    w = ScriptedWorkload(fail={5, 6, 7}, kept_despite_error={6}, dropped={9}, stray={1000})
    summary = harness.run_workload(w, str(tmp_path), duration_s=30, run_id="t", max_ops=12)
    assert summary["ops"] == 12 and summary["failed"] == 3 and summary["acked"] == 9
    harness.record_event(str(tmp_path), "fault_injected", host="data1")
    report = harness.build_report(w, str(tmp_path), "kill", max_rto_s=5)
    assert report["acked"] == 9
    assert report["lost"] == 1 and report["lost_sample"] == [9]
    assert report["in_doubt"] == 1
    assert report["unexpected"] == 1
    assert report["passed"] is False
    assert report["checks"]["no_acknowledged_write_lost"] is False


def test_rto_is_the_longest_gap_between_acks(tmp_path):
    ops = [{"seq": i, "kind": "write", "ok": ok, "t0": t - 0.01, "t1": t}
           for i, (t, ok) in enumerate([(100.0, True), (100.5, True), (101.0, False), (104.2, True), (104.4, True)], 1)]
    (tmp_path / harness.OPS_FILE).write_text("".join(json.dumps(o) + "\n" for o in ops))
    w = ScriptedWorkload()
    w.store = {1: 2, 2: 4, 4: 8, 5: 10}
    report = harness.build_report(w, str(tmp_path), "stop", max_rto_s=3.5)
    assert report["rto_s"] == 3.7
    assert report["checks"]["rto_within_target"] is False
    assert report["lost"] == 0 and report["unexpected"] == 0 and report["corrupt"] == 0


def test_stop_file_ends_the_loop(tmp_path):
    harness.request_stop(str(tmp_path))
    summary = harness.run_workload(ScriptedWorkload(), str(tmp_path), duration_s=30, run_id="t")
    assert summary["ops"] == 0


def test_corrupt_values_are_counted(tmp_path):
    w = ScriptedWorkload()
    harness.run_workload(w, str(tmp_path), duration_s=30, run_id="t", max_ops=3)
    w.store[2] = "garbage"
    report = harness.build_report(w, str(tmp_path), "kill", max_rto_s=5)
    assert report["corrupt"] == 1 and report["passed"] is False
