"""The PostgreSQL tier's reading of Patroni: health verdicts, config diffs and timer rules."""

import pytest

from ansible_collections.cloudphone.infra.plugins.module_utils.patroni import (
    assess, config_changes, parse_size, timing_problem)

MB = 1024 * 1024


def member(name, role, state, lag=0, tl=3):
    m = {"name": name, "role": role, "state": state, "host": f"10.0.0.{name[-1]}", "port": 5432,
         "api_url": f"https://{name}:8008/patroni", "timeline": tl}
    if role != "leader":
        m["lag"] = lag
    return m


def healthy_cluster():
    return {"scope": "cloudphone", "members": [
        member("data1", "leader", "running"),
        member("data2", "sync_standby", "streaming"),
        member("data3", "replica", "streaming"),
    ]}


def statuses(primary="data1", down=()):
    return {n: (None if n in down else {"role": "primary" if n == primary else "replica", "state": "running"})
            for n in ("data1", "data2", "data3")}


def problems_of(cluster, st=None, **kw):
    kw.setdefault("expected_members", ["data1", "data2", "data3"])
    kw.setdefault("synchronous_mode", True)
    report, details = assess(cluster, st if st is not None else statuses(), **kw)
    return report.problems, details, report


def test_a_healthy_cluster():
    problems, details, report = problems_of(healthy_cluster())
    assert problems == []
    assert report.healthy
    assert details["leader"] == "data1"
    assert details["sync_standby"] == ["data2"]
    assert details["replicas"] == ["data2", "data3"]
    assert report.topology == {"leader": "data1", "sync_standby": ["data2"]}


def test_no_leader():
    c = healthy_cluster()
    c["members"][0]["role"] = "replica"
    c["members"][0]["state"] = "stopped"
    problems, details, _ = problems_of(c, statuses(primary=None))
    assert details["leader"] is None
    assert any(p.startswith("no leader") for p in problems)


def test_two_primaries_is_split_brain():
    st = statuses()
    st["data3"] = {"role": "primary", "state": "running"}
    problems, _, _ = problems_of(healthy_cluster(), st)
    assert any("more than one leader: data1, data3" in p for p in problems)


def test_a_primary_without_the_lock():
    st = statuses(primary="data3")
    problems, _, _ = problems_of(healthy_cluster(), st)
    assert any(p.startswith("data3 runs as primary without the leader lock") for p in problems)


def test_replica_not_streaming_and_lag():
    c = healthy_cluster()
    c["members"][1]["state"] = "starting"
    c["members"][2]["lag"] = 40 * MB
    problems, _, _ = problems_of(c, max_lag_bytes=16 * MB)
    assert any(p.startswith("data2 is a replica but not streaming") for p in problems)
    assert "data3 lags 40MB behind the leader (limit 16MB)" in problems


def test_unknown_lag_is_a_problem():
    c = healthy_cluster()
    c["members"][2]["lag"] = "unknown"
    problems, _, _ = problems_of(c)
    assert "the replication lag of data3 is unknown (unknown)" in problems


def test_no_sync_standby_only_matters_in_synchronous_mode():
    c = healthy_cluster()
    c["members"][1]["role"] = "replica"
    problems, _, _ = problems_of(c)
    assert any(p.startswith("synchronous mode is on but no replica") for p in problems)
    problems, _, _ = problems_of(c, synchronous_mode=False)
    assert problems == []


def test_missing_member_and_dead_api():
    c = healthy_cluster()
    del c["members"][2]
    st = statuses(down=("data2",))
    del st["data3"]
    problems, _, _ = problems_of(c, st)
    assert "patroni: data3 expected by the inventory but not in the cluster" in problems
    assert any(p.startswith("the Patroni REST API of data2 does not answer") for p in problems)


def test_timeline_mismatch():
    c = healthy_cluster()
    c["members"][2]["timeline"] = 2
    problems, _, _ = problems_of(c)
    assert problems == ["data3 is on timeline 2 while the leader is on 3"]


@pytest.mark.parametrize("index,role", [(0, "leader"), (1, "sync_standby"), (2, "replica"), (2, "quorum_standby")])
def test_a_member_left_with_a_pending_restart_is_a_problem(index, role):
    """A converge restarts every member that waits for a restart; one left behind runs with settings
    other than the configured ones, so the health check must say so whatever the member's role."""
    c = healthy_cluster()
    c["members"][index]["role"] = role
    c["members"][index]["pending_restart"] = True
    name = c["members"][index]["name"]
    problems, details, report = problems_of(c, synchronous_mode=False)
    assert details["pending_restart"] == [name]
    assert not report.healthy
    assert [p for p in problems if "restart" in p] == [
        f"{name} waits for a restart to apply changed PostgreSQL settings (pending_restart): converge again, "
        "which restarts it through Patroni, or restart it with `patronictl restart`"]


def test_a_pending_restart_seen_by_the_member_itself_counts_too():
    st = statuses()
    st["data2"]["pending_restart"] = True
    problems, details, _ = problems_of(healthy_cluster(), st)
    assert details["pending_restart"] == ["data2"]
    assert any(p.startswith("data2 waits for a restart") for p in problems)


def test_a_rolling_restart_may_wait_for_health_while_restarts_are_still_pending():
    """restart_member.yml waits for a healthy cluster between two restarts: the members not yet
    restarted must not keep that wait from ending."""
    c = healthy_cluster()
    for m in c["members"]:
        m["pending_restart"] = True
    problems, details, report = problems_of(c, allow_pending_restart=True)
    assert problems == [] and report.healthy
    assert details["pending_restart"] == ["data1", "data2", "data3"]


@pytest.mark.parametrize("value,expected", [(1048576, MB), ("16MB", 16 * MB), ("512kB", 512 * 1024),
                                            ("1GB", 1024 * MB), ("100", 100)])
def test_parse_size(value, expected):
    assert parse_size(value) == expected


def test_parse_size_refuses_nonsense():
    with pytest.raises(ValueError):
        parse_size("lots")


def test_config_changes_is_a_minimal_merge_patch():
    current = {"ttl": 20, "synchronous_mode": True,
               "postgresql": {"parameters": {"max_connections": 200, "hot_standby": "on", "wal_keep_size": "256MB"}}}
    assert config_changes(current, {"ttl": 20, "synchronous_mode": "on",
                                    "postgresql": {"parameters": {"max_connections": "200", "hot_standby": True}}}) == {}
    assert config_changes(current, {"ttl": 30, "postgresql": {"parameters": {"max_connections": 300,
                                                                             "work_mem": "8MB"}}}) == {
        "ttl": 30, "postgresql": {"parameters": {"max_connections": 300, "work_mem": "8MB"}}}
    assert config_changes(current, {"postgresql": {"parameters": {"wal_keep_size": None}}}) == {
        "postgresql": {"parameters": {"wal_keep_size": None}}}
    assert config_changes(current, {"postgresql": {"parameters": {"absent_already": None}}}) == {}


@pytest.mark.parametrize("timers,fragment", [
    ((20, 5, 5), None),
    ((30, 10, 10), None),
    ((15, 3, 5), "Patroni's minimum is 20"),
    ((20, 0, 5), "loop_wait is 0"),
    ((20, 5, 2), "retry_timeout is 2"),
    ((20, 10, 6), "10 + 2*6 = 22 > 20"),
])
def test_timing_rules(timers, fragment):
    problem = timing_problem(*timers)
    assert problem is None if fragment is None else fragment in problem
