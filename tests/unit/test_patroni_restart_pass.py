"""Every Patroni member that waits for a restart is restarted, the leader last.

Two pieces decide it, and both are exercised here, not their spelling:
- plugins/module_utils/patroni.assess lists the waiting members (`pending_restart`) from a /cluster
  document, whatever Patroni calls their role (`replica`, `sync_standby`, `quorum_standby` with
  synchronous_mode: quorum, `standby_leader` in a standby cluster, or a role a later Patroni adds);
- roles/rolling_restart orders the members that asked for a restart, the live leader last; its
  expression is evaluated here with Jinja2.
"""

import os

import jinja2
import pytest
import yaml

from ansible_collections.cloudphone.infra.plugins.module_utils.patroni import assess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLLING_RESTART = os.path.join(ROOT, "roles", "rolling_restart", "tasks", "main.yml")


def order_expression():
    with open(ROLLING_RESTART) as fh:
        tasks = yaml.safe_load(fh)
    facts = [t["ansible.builtin.set_fact"] for t in tasks
             if "rolling_restart_order" in (t.get("ansible.builtin.set_fact") or {})]
    assert len(facts) == 1, "roles/rolling_restart/tasks/main.yml should set rolling_restart_order once"
    expression = facts[0]["rolling_restart_order"].strip()
    assert expression.startswith("{{") and expression.endswith("}}")
    return jinja2.Environment().compile_expression(expression[2:-2])


def restart_order(members, leader):
    """The names the collection restarts, in order: the ones Patroni reports waiting, leader last."""
    cluster = {"members": [dict(m, state="running" if m["role"] in ("leader", "standby_leader") else "streaming",
                                timeline=1, lag=0) for m in members]}
    _report, details = assess(cluster, {m["name"]: {"state": "running"} for m in members})
    return order_expression()(rolling_restart_requested=details["pending_restart"], rolling_restart_leader=leader)


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
