"""minio_cluster_info's verdict and the MinIO drill's phase figures, from recorded answers."""

from ansible_collections.cloudphone.infra.plugins.module_utils import drill_minio, minio_client
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def server(name, state="online", drive_state="ok", healing=False):
    return {"endpoint": f"{name}:9000", "state": state, "version": "2025-10-15T17:29:55Z", "commitID": "9e49d5e7",
            "drives": [{"endpoint": f"https://{name}:9000/var/lib/minio/disk1", "state": drive_state,
                        "healing": healing, "pool_index": 0, "set_index": 0}]}


def info(*servers):
    return {"mode": "online", "deploymentID": "x", "servers": list(servers),
            "backend": {"backendType": "Erasure", "standardSCParity": 2, "rrSCParity": 1,
                        "totalSets": [1], "totalDrivesPerSet": [4]}}


HEALTHY_QUORUM = {"write": (200, 3), "read": (200, 2)}
REACHABLE = {f"198.18.10.1{i}:9000": True for i in range(1, 5)}
NAMES = [f"data{i}" for i in range(1, 5)]


def evaluate(data, quorum=HEALTHY_QUORUM, heal=None, reachable=REACHABLE):
    report = HealthReport()
    facts = minio_client.evaluate(report, data, quorum, heal or {"HealDisks": None}, reachable,
                                  expected_nodes=[f"{n}:9000" for n in NAMES], expected_parity=2)
    return facts, report.as_dict()


def test_healthy_cluster():
    facts, health = evaluate(info(*[server(n) for n in NAMES]))
    assert health == {"healthy": True, "problems": [], "topology": {}}
    assert facts["drives"]["online"] == 4 and facts["nodes"]["offline"] == []
    assert facts["layout"]["drives_per_set"] == [4] and facts["quorum"]["write"] == 3


def test_one_node_down_is_named_and_writes_still_ok():
    reach = dict(REACHABLE, **{"198.18.10.14:9000": False})
    facts, health = evaluate(info(*[server(n) for n in NAMES[:3]], server("data4", "offline", "offline")),
                             reachable=reach)
    assert not health["healthy"]
    assert facts["nodes"]["offline"] == ["data4:9000"] and facts["drives"]["offline"] == 1
    assert any("data4:9000 is offline" in p for p in health["problems"])
    assert facts["quorum"]["write_ok"]


def test_lost_write_quorum_and_healing_are_problems():
    facts, health = evaluate(info(*[server(n) for n in NAMES]), quorum={"write": (503, 3), "read": (200, 2)},
                             heal={"HealDisks": ["https://data2:9000/var/lib/minio/disk1"]})
    assert facts["quorum"] == {"write": 3, "read": 2, "write_ok": False, "read_ok": True}
    assert facts["healing"]["in_progress"]
    assert any("lost write quorum" in p for p in health["problems"])
    assert any("healing in progress" in p for p in health["problems"])


def test_unknown_node_and_wrong_parity_are_problems():
    data = info(*[server(n) for n in NAMES[:3]], server("stray"))
    data["backend"]["standardSCParity"] = 3
    _facts, health = evaluate(data)
    assert any("stray:9000 in the cluster but not in the inventory" in p for p in health["problems"])
    assert any("EC:3" in p for p in health["problems"])


def test_payload_is_deterministic_and_distinct():
    assert drill_minio.payload("r", 1, 100) == drill_minio.payload("r", 1, 100)
    assert drill_minio.payload("r", 1, 100) != drill_minio.payload("r", 2, 100)
    assert len(drill_minio.payload("r", 1, 16384)) == 16384


def op(seq, t0, t1, ok, kind="write", error=None):
    rec = {"seq": seq, "t0": t0, "t1": t1, "ok": ok, "kind": kind}
    if error:
        rec["error"] = error
    return rec


def test_phases_follow_the_fault_events():
    events = [{"name": "fault_injected", "t": 10.0}, {"name": "fault_injected", "t": 20.0},
              {"name": "restore_started", "t": 29.0}, {"name": "fault_restored", "t": 30.0},
              {"name": "restore_started", "t": 33.0}, {"name": "fault_restored", "t": 35.0}]
    ops = [op(1, 1, 2, True), op(2, 11, 12, True), op(3, 12, 13, True, "read"),
           op(4, 21, 22, False, error="S3Error: SlowDownWrite"), op(5, 22, 23, True, "read"),
           op(6, 19.5, 20.5, False), op(7, 36, 40, True),
           # Started with two down, acknowledged after the first node was powered on: not two-down.
           op(8, 25, 29.5, True)]
    fig = drill_minio.phase_figures(ops, events)
    assert fig["failed_ops_one_down"] == 0 and fig["ops_one_down"] == 2
    assert fig["reads_ok_two_down"] == 1 and fig["writes_refused_two_down"] == 1
    assert fig["phases"]["transition"]["writes_failed"] == 1
    assert fig["phases"]["transition"]["writes_ok"] == 1
    # RTO: one down, 10 -> first ack at 12 = 2 s; after recovery, 30 -> 40 = 10 s.
    assert fig["write_gaps"] == {"one_down_s": 2.0, "after_recovery_s": 10.0}
    assert fig["rto_s"] == 10.0
