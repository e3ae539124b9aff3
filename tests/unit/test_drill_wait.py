"""harness.wait_for_acks: the playbook waits on what clients saw, not on a fixed sleep."""

import json

import pytest

from cloudphone_drill import harness


def write_ops(path, ops, partial_line=False):
    text = "".join(json.dumps({"seq": i, "kind": "write", "ok": ok, "t0": t, "t1": t + 0.01}) + "\n"
                   for i, (t, ok) in enumerate(ops, 1))
    if partial_line:
        text += '{"seq": 99, "kind": "wri'
    (path / harness.OPS_FILE).write_text(text)


def test_counts_acks_after_the_event(tmp_path):
    (tmp_path / harness.EVENTS_FILE).write_text(json.dumps({"name": "fault_injected", "t": 100.0}) + "\n")
    write_ops(tmp_path, [(99.0, True), (99.5, True), (100.2, True), (100.4, True)], partial_line=True)
    got = harness.wait_for_acks(str(tmp_path), acks=2, after_event="fault_injected", timeout_s=1)
    assert got == {"reached": True, "acks": 2, "outage": None, "seconds": 0.21}


def test_after_outage_ignores_writes_before_the_first_failure(tmp_path):
    (tmp_path / harness.EVENTS_FILE).write_text(json.dumps({"name": "fault_injected", "t": 100.0}) + "\n")
    # Writes still succeed for a moment after the fault is logged, then fail, then resume.
    write_ops(tmp_path, [(100.1, True), (100.2, True), (100.3, False), (105.0, False), (107.5, True), (107.6, True)])
    got = harness.wait_for_acks(str(tmp_path), acks=2, after_event="fault_injected", after_outage=True, timeout_s=1)
    assert got["reached"] and got["outage"] and got["seconds"] == 7.51


def test_times_out_and_says_so(tmp_path):
    (tmp_path / harness.EVENTS_FILE).write_text(json.dumps({"name": "fault_injected", "t": 100.0}) + "\n")
    write_ops(tmp_path, [(100.1, False), (100.2, False)])
    got = harness.wait_for_acks(str(tmp_path), acks=1, after_event="fault_injected", after_outage=True,
                              timeout_s=0.3, poll_s=0.05)
    assert got == {"reached": False, "acks": 0, "outage": True, "seconds": None}


def test_an_unknown_event_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no 'fault_restored' event"):
        harness.wait_for_acks(str(tmp_path), acks=1, after_event="fault_restored", timeout_s=0.1)
