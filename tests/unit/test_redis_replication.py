"""redis_replication fails with a message, never a traceback, when the node stops answering.

The client is a stand-in for redis-py (no Redis server runs on the control node): it answers
ROLE, REPLICAOF and CONFIG REWRITE like a fresh master, then loses the connection when the
module waits for the replication link.
"""

import pytest
import redis

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client
from ansible_collections.cloudphone.infra.plugins.modules import redis_replication
from module_run import run_module


class NodeThatDropsTheConnection:
    """A fresh master that accepts REPLICAOF, then cannot be asked for INFO any more."""

    def __init__(self):
        self.commands = []

    def execute_command(self, *args):
        self.commands.append(args)
        if args == ("ROLE",):
            return ["master", 0, []]
        return "OK"

    def info(self, section=None):
        raise redis.exceptions.ConnectionError("Connection closed by server.")


def test_a_node_lost_while_waiting_for_the_link_fails_with_a_message(monkeypatch):
    node = NodeThatDropsTheConnection()
    monkeypatch.setattr(redis_client, "connect", lambda module, host, port, sentinel=False: node)
    code, result = run_module(redis_replication.main, {
        "node": "127.0.0.2:6379", "initial_master": "127.0.0.3:6379", "tls": False, "wait_for_link": 1})
    assert ("REPLICAOF", "127.0.0.3", 6379) in node.commands
    assert code == 1 and result["failed"] is True
    assert "127.0.0.2:6379 now follows 127.0.0.3:6379" in result["msg"]
    assert "Connection closed by server." in result["msg"]
    assert "redis-server" in result["msg"] and "re-run" in result["msg"]


class FreshMaster(NodeThatDropsTheConnection):
    """A fresh master whose replication link comes up as soon as it follows the master."""

    def info(self, section=None):
        return {"role": "slave", "master_link_status": "up"}


@pytest.mark.parametrize("diff_mode", [False, True])
def test_the_diff_is_returned_only_in_diff_mode(monkeypatch, diff_mode):
    node = FreshMaster()
    monkeypatch.setattr(redis_client, "connect", lambda module, host, port, sentinel=False: node)
    code, result = run_module(redis_replication.main, {
        "node": "127.0.0.2:6379", "initial_master": "127.0.0.3:6379", "tls": False, "_ansible_diff": diff_mode})
    assert code == 0 and result["changed"] is True and result["role"] == "replica"
    if diff_mode:
        assert result["diff"] == {"before": "master (no replicas)\n", "after": "replicaof 127.0.0.3 6379\n"}
    else:
        assert "diff" not in result
