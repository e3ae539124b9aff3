"""The object storage drill client's bookkeeping: object bodies and checksums, the phases between the
fault events, stalls, reads and writes with two nodes down, corrupt reads and the recovery time.

The client itself runs against the lab in `make drill-objectstore`; here an in-memory store stands in
for the gateways.
"""

import json
import socket

# The workload imports boto3 when it is built; importing it here too makes a missing boto3
# (a requirements.txt dependency) fail this file at once instead of skipping it.
import boto3  # noqa: F401

from cloudphone_drill import harness, objectstore_workload as ow

OPTIONS = {"endpoint_url": "https://s3.lab.example:443", "ca_file": "/dev/null",
           "access_key": "AKIAEXAMPLE", "secret_key": "Secret0123456789abcdef", "object_size": 64}


class Store(ow.ObjectstoreWorkload):
    """The workload with a dict for a bucket: what read_back() finds is what the test put there."""

    def __init__(self, stored=None, **options):
        super().__init__(dict(OPTIONS, **options))
        self.run_id = "r1"
        self.stored = stored or {}

    def read_back(self):
        return dict(self.stored)


def op(seq, kind, ok, t0, t1=None, **fields):
    return dict(fields, seq=seq, kind=kind, ok=ok, t0=t0, t1=t0 + 0.05 if t1 is None else t1)


def write_run(tmp_path, ops, events):
    (tmp_path / harness.OPS_FILE).write_text("".join(json.dumps(o) + "\n" for o in ops))
    for name, t in events:
        harness.record_event(str(tmp_path), name, t=t)


EVENTS = [("fault_injected", 110.0), ("fault_injected", 130.0), ("restore_started", 150.0),
          ("restore_started", 160.0), ("pgs_clean", 172.5)]


def steady_run(w, stall=None, fail_in_one_down=False):
    """An op every second from 100 to 190, writes on odd seconds and reads on even ones; optionally no
    success during `stall` (t_from, t_to) and one failed write with one node down."""
    ops = []
    for t in range(100, 191):
        kind = harness.WRITE if t % 2 else ow.READ
        held = stall and stall[0] <= t < stall[1]
        t1 = stall[1] + 0.2 if held else None
        failed = fail_in_one_down and t == 115
        ops.append(op(t, kind, not failed, float(t), t1, **({} if kind == harness.WRITE else {"object_seq": t - 1})))
    stored = {o["seq"]: w.expected_value(o["seq"]) for o in ops if o["kind"] == harness.WRITE and o["ok"]}
    return ops, stored


def test_an_object_body_depends_on_the_run_and_its_number_only():
    body = ow.object_body("r1", 7, 4096)
    assert len(body) == 4096 and body == ow.object_body("r1", 7, 4096)
    assert body != ow.object_body("r1", 8, 4096) and body != ow.object_body("r2", 7, 4096)
    w = Store()
    assert w.expected_value(7) == ow.checksum(ow.object_body("r1", 7, 64))


def test_reads_start_once_a_write_was_acknowledged_then_every_other_operation():
    w = Store()
    assert [w.kind(s) for s in (1, 2, 3, 4)] == ["write"] * 4
    w.acked.append(1)
    assert [w.kind(s) for s in (2, 3, 4, 5)] == ["read", "write", "read", "write"]
    assert Store(read_every=0).kind(2) == "write"


def test_the_phases_follow_the_fault_events():
    events = [{"name": n, "t": t} for n, t in EVENTS]
    assert ow.phase_bounds(events, 100.0, 190.0) == [
        ("before", 100.0, 110.0), ("one_down", 110.0, 130.0), ("two_down", 130.0, 150.0),
        ("restoring", 150.0, 172.5), ("after", 172.5, 190.0)]
    # A run that never lost a second node has no two_down phase; the next mark closes one_down.
    one = [e for e in events if not (e["name"] == "fault_injected" and e["t"] == 130.0)]
    assert [p[0] for p in ow.phase_bounds(one, 100.0, 190.0)] == ["before", "one_down", "restoring", "after"]


def test_the_stall_counts_from_the_fault_to_the_first_success():
    ops = [op(1, "write", True, 100.0), op(2, "write", True, 109.0, 109.5), op(3, "write", True, 109.6, 131.0),
           op(4, "write", True, 131.1, 131.2)]
    figures = ow.phase_figures(ops, 110.0, 140.0)
    assert figures["stall_s"] == 21.0 and figures["failed_ops"] == 0
    # The op that started before the fault and ended after it belongs to the phase it started in.
    assert figures["ops"] == 1 and figures["writes_ok"] == 1


def test_a_clean_run_passes_with_its_figures(tmp_path):
    w = Store()
    ops, w.stored = steady_run(w, stall=(110, 128))
    write_run(tmp_path, ops, EVENTS)
    report = harness.build_report(w, str(tmp_path), "down", max_rto_s=35)
    assert report["lost"] == 0 and report["corrupt"] == 0 and report["failed_ops_one_down"] == 0
    assert report["stall_s"]["one_down"] == 18.05 and report["stall_s"]["before"] <= 1.1
    assert report["reads_ok_two_down"] is True and report["writes_ok_two_down"] is True
    assert report["recovery_s"] == 12.5
    assert report["passed"] is True, report["checks"]


def test_a_failed_operation_with_one_node_down_fails_the_drill(tmp_path):
    w = Store()
    ops, w.stored = steady_run(w, fail_in_one_down=True)
    write_run(tmp_path, ops, EVENTS)
    report = harness.build_report(w, str(tmp_path), "pause", max_rto_s=35)
    assert report["failed_ops_one_down"] == 1 and report["lost"] == 0
    assert report["checks"]["no_failed_op_with_one_node_down"] is False and report["passed"] is False


def test_a_stall_beyond_the_target_fails_the_drill(tmp_path):
    w = Store()
    ops, w.stored = steady_run(w, stall=(131, 149))
    write_run(tmp_path, ops, EVENTS)
    report = harness.build_report(w, str(tmp_path), "down", max_rto_s=10)
    assert report["stall_s"]["two_down"] > 10
    assert report["checks"]["every_stall_within_target"] is False and report["passed"] is False


def test_no_success_with_two_nodes_down_is_named(tmp_path):
    w = Store()
    ops, w.stored = steady_run(w, stall=(130, 150))
    ops = [o for o in ops if not 130 <= o["t0"] < 150]  # the client hung with its op until the restore
    write_run(tmp_path, ops, EVENTS)
    report = harness.build_report(w, str(tmp_path), "down", max_rto_s=60)
    assert report["writes_ok_two_down"] is False and report["reads_ok_two_down"] is False
    assert report["passed"] is False


def test_lost_and_corrupt_objects_are_counted(tmp_path):
    w = Store()
    ops, stored = steady_run(w)
    del stored[101]                 # acknowledged, gone
    stored[103] = "0" * 64          # acknowledged, other bytes
    ops.append(op(200, ow.READ, False, 191.0, error="ChecksumMismatch: object 105 read back with sha256 ...",
                  object_seq=105))
    w.stored = stored
    write_run(tmp_path, ops, EVENTS)
    report = harness.build_report(w, str(tmp_path), "down", max_rto_s=35)
    assert report["lost"] == 1 and report["lost_sample"] == [101]
    assert report["corrupt"] == 2 and report["corrupt_sample"] == [103, 105]
    assert report["checks"]["nothing_corrupt"] is False and report["passed"] is False


def test_without_the_clean_event_there_is_no_recovery_time(tmp_path):
    w = Store()
    ops, w.stored = steady_run(w)
    write_run(tmp_path, ops, [e for e in EVENTS if e[0] != "pgs_clean"])
    report = harness.build_report(w, str(tmp_path), "down", max_rto_s=35)
    assert report["recovery_s"] is None and report["checks"]["recovered_to_active_clean"] is False


def test_the_report_records_the_client_settings_without_keys():
    settings = Store().client_settings()
    assert settings["read_timeout"] == 60 and settings["max_attempts"] == 5 and settings["library"] == "boto3"
    text = json.dumps(settings)
    assert "Secret0123456789abcdef" not in text and "AKIAEXAMPLE" not in text


def test_the_service_name_resolves_to_the_pinned_address_in_this_process(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    ow.pin_addresses({"s3.lab.invalid": "127.0.0.1"})
    assert {a[4][0] for a in socket.getaddrinfo("s3.lab.invalid", 443, proto=socket.IPPROTO_TCP)} == {"127.0.0.1"}
    assert {a[4][0] for a in socket.getaddrinfo("127.0.0.1", 443, proto=socket.IPPROTO_TCP)} == {"127.0.0.1"}
