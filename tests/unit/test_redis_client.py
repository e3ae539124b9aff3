"""Pure logic of the Redis modules: parsing Sentinel/Redis replies and choosing the master.

The modules' behaviour against live servers is proven by the Molecule scenario and the drill;
these tests pin the parsing and the decisions that make them safe.
"""

import pytest

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client as rc
from ansible_collections.cloudphone.infra.plugins.modules.redis_sentinel import (flushed_auth, flushed_state,
                                                                               usable_master_name)


@pytest.mark.parametrize("text, expected", [
    ("198.18.41.11", ("198.18.41.11", 6379)),
    ("198.18.41.11:26379", ("198.18.41.11", 26379)),
    ("data1.lab.cloudphone.test:6380", ("data1.lab.cloudphone.test", 6380)),
    ("[fd00::1]:26379", ("fd00::1", 26379)),
    ("[fd00::1]", ("fd00::1", 6379)),
])
def test_parse_endpoint(text, expected):
    assert rc.parse_endpoint(text, 6379) == expected


def test_endpoint_text_brackets_ipv6():
    assert rc.endpoint_text("fd00::1", 6379) == "[fd00::1]:6379"
    assert rc.endpoint_text("198.18.41.11", 6379) == "198.18.41.11:6379"


def test_pairs_turns_a_flat_reply_into_a_dict():
    assert rc.pairs(["name", "cloudphone", "ip", "198.18.41.12"]) == {"name": "cloudphone", "ip": "198.18.41.12"}


def view(host, epoch, port=6379):
    return {"monitored": True, "master_host": host, "master_port": port, "config_epoch": epoch}


def test_the_highest_config_epoch_wins():
    views = [view("198.18.41.11", 3), view("198.18.41.12", 4), {"monitored": False}, view("198.18.41.11", 3)]
    host, port, agreeing = rc.master_from_sentinels(views)
    assert (host, port) == ("198.18.41.12", 6379)
    assert len(agreeing) == 1


def test_no_sentinel_knows_the_master():
    assert rc.master_from_sentinels([{"monitored": False}, {"reachable": False}]) is None


class FakeClient:
    """A Redis client replaying canned replies (ROLE), for the decisions that do not need a server."""

    def __init__(self, reply):
        self.reply = reply

    def execute_command(self, *args):
        return self.reply


def test_role_of_a_master_and_of_a_replica():
    master = rc.role(FakeClient(["master", 3100, [["198.18.41.12", "6379", "3100"], ["198.18.41.13", "6379", "3050"]]]))
    assert master == {"role": "master", "offset": 3100,
                      "replicas": [("198.18.41.12", 6379, 3100), ("198.18.41.13", 6379, 3050)]}
    replica = rc.role(FakeClient(["slave", "198.18.41.11", 6379, "connected", 3100]))
    assert replica == {"role": "replica", "master_host": "198.18.41.11", "master_port": 6379,
                       "link": "connected", "offset": 3100}


def test_flushed_auth_reads_what_sentinel_wrote(tmp_path):
    state = tmp_path / "sentinel.conf"
    state.write_text(
        "# cloudphone.infra: runtime state of Sentinel\n"
        "sentinel monitor cloudphone 198.18.41.11 6379 2\n"
        "sentinel auth-user cloudphone sentinel\n"
        'sentinel auth-pass cloudphone "s3cr3t with space"\n'
        "sentinel auth-pass other nope\n")
    assert flushed_auth(str(state), "cloudphone") == ("sentinel", "s3cr3t with space")
    assert flushed_auth(str(state), "missing") == (None, None)
    assert flushed_auth(str(tmp_path / "absent.conf"), "cloudphone") == (None, None)


def test_flushed_state_is_the_monitor_a_stopped_sentinel_will_load(tmp_path):
    # The lines Sentinel 8.0 wrote on the lab; parallel-syncs at its default is left out.
    state = tmp_path / "sentinel.conf"
    state.write_text(
        "sentinel myid eeb3fafb9b5576c63d7663e9074f21d0845ad1a3\n"
        "sentinel monitor cloudphone 198.18.10.13 6379 2\n"
        "sentinel config-epoch cloudphone 1\n"
        "sentinel down-after-milliseconds cloudphone 5000\n"
        "sentinel failover-timeout cloudphone 10000\n"
        "sentinel auth-user cloudphone sentinel\n"
        "sentinel known-replica cloudphone 198.18.10.12 6379\n"
        "sentinel known-sentinel cloudphone 198.18.10.12 26379 6d31774c9401d73cc0b56404e79269c813294a46\n")
    assert flushed_state(str(state), "cloudphone") == {
        "ip": "198.18.10.13", "port": 6379, "quorum": 2, "down-after-milliseconds": 5000,
        "failover-timeout": 10000, "parallel-syncs": 1, "auth-user": "sentinel"}
    assert flushed_state(str(state), "other") is None
    assert flushed_state(str(tmp_path / "absent.conf"), "cloudphone") is None


@pytest.mark.parametrize("name, usable", [("cloudphone", True), ("cp-main_1.eu", True),
                                          ("x,y", False), ("x y", False), ('a"b', False), ("", False)])
def test_master_names_sentinel_can_carry(name, usable):
    assert usable_master_name(name) is usable
