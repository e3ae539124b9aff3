"""roles/patroni/tasks/restart_pass.yml restarts every member that waits for a restart.

The loop expression is evaluated here with Jinja2 on member lists shaped like
patroni_cluster_info's `members`, so the test exercises the selection itself, not its spelling.
Patroni names a replica `replica`, `sync_standby` or `quorum_standby` (synchronous_mode: quorum)
and the lock holder `leader` (or `standby_leader` in a standby cluster).
"""

import os

import jinja2
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RESTART_PASS = os.path.join(ROOT, "roles", "patroni", "tasks", "restart_pass.yml")


def restart_loop():
    with open(RESTART_PASS) as fh:
        tasks = yaml.safe_load(fh)
    loops = [t["loop"] for t in tasks if t.get("ansible.builtin.include_tasks") == "restart_member.yml"]
    assert len(loops) == 1, "restart_pass.yml should include restart_member.yml once, in a loop"
    return loops[0].strip()


def restart_order(members, leader):
    """The member names the loop restarts, in order."""
    expression = restart_loop()
    assert expression.startswith("{{") and expression.endswith("}}")
    compiled = jinja2.Environment().compile_expression(expression[2:-2])
    return [m["name"] for m in compiled(patroni_pending={"members": members, "leader": leader})]


def member(name, role, pending=True):
    return {"name": name, "role": role, "pending_restart": pending}


@pytest.mark.parametrize("replica_role", ["replica", "sync_standby", "quorum_standby"])
def test_every_replica_role_with_a_pending_restart_is_restarted_before_the_leader(replica_role):
    members = [member("data1", "leader"), member("data2", replica_role), member("data3", "replica")]
    order = restart_order(members, "data1")
    assert sorted(order[:2]) == ["data2", "data3"]
    assert order[2:] == ["data1"]


def test_a_quorum_cluster_restarts_all_its_members():
    members = [member("data1", "quorum_standby"), member("data2", "leader"), member("data3", "quorum_standby")]
    assert restart_order(members, "data2") == ["data1", "data3", "data2"]


def test_members_without_a_pending_restart_are_left_alone():
    members = [member("data1", "leader", pending=False), member("data2", "quorum_standby"),
               member("data3", "sync_standby", pending=False)]
    assert restart_order(members, "data1") == ["data2"]


def test_a_standby_cluster_leader_is_restarted_last():
    members = [member("data1", "standby_leader"), member("data2", "replica")]
    assert restart_order(members, "data1") == ["data2", "data1"]


def test_a_member_in_an_unexpected_role_is_still_restarted():
    """Selection is by pending_restart, not by a list of role names that a new Patroni role escapes."""
    members = [member("data1", "leader"), member("data2", "some_future_role")]
    assert restart_order(members, "data1") == ["data2", "data1"]
