#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_cluster_info
short_description: Tell whether a Redis + Sentinel group is healthy, from the live servers
description:
  - Asks every Sentinel and every Redis server of the group and returns the collection's health
    contract (C(healthy), C(problems), C(topology)) plus the details it is built from.
  - Reports the master according to each Sentinel and whether they agree, C(SENTINEL CKQUORUM),
    the number of Sentinels and replicas each Sentinel knows compared with the inventory, every
    replica's link status and offset, and whether more than one server claims to be master.
  - Only reads. Never fails because the group is unhealthy; fails only when no server at all can be asked.
    A read-only user (the collection's C(monitoring)) is enough to log in.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.redis
options:
  nodes:
    description:
      - The Redis servers of the inventory group, by inventory name (used in messages and C(topology)),
        each with its address (C(host) or C(host:port), as the Sentinels know it).
    type: dict
    required: true
  sentinels:
    description: The Sentinels of the inventory group, like O(nodes) (port 26379 by default).
    type: dict
    required: true
  max_lag_bytes:
    description: A replica further behind its master than this many bytes of replication stream is a problem.
    type: int
    default: 1048576
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show, it changes nothing.
    support: none
"""

EXAMPLES = r"""
- name: Ask the Redis group how it is
  cloudphone.infra.redis_cluster_info:
    name: cloudphone
    nodes: {data1: "198.18.41.11:6379", data2: "198.18.41.12:6379", data3: "198.18.41.13:6379"}
    sentinels: {data1: "198.18.41.11:26379", data2: "198.18.41.12:26379", data3: "198.18.41.13:26379"}
    login_user: monitoring
    login_password: "{{ redis_monitoring_password }}"
    sentinel_login_user: monitoring
    sentinel_login_password: "{{ redis_monitoring_password }}"
    ca_file: /etc/cloudphone/pki/ca.crt
  register: redis_health

- name: Insist on a healthy group
  ansible.builtin.assert:
    that: redis_health.healthy
    fail_msg: "{{ redis_health.problems | join(' ') }}"
"""

RETURN = r"""
healthy:
  description: True when RV(problems) is empty.
  returned: always
  type: bool
problems:
  description: Plain-language sentences, one per problem found.
  returned: always
  type: list
  elements: str
topology:
  description: What a failover may legitimately change. C(master) is the inventory name of the master.
  returned: always
  type: dict
  sample: {"master": "data2", "master_address": "198.18.41.12:6379"}
sentinels:
  description: Per Sentinel, what it says (reachable, master, config epoch, flags, quorum, ckquorum, known replicas and Sentinels).
  returned: always
  type: list
nodes:
  description: Per Redis server, its role, master, link status, offsets and lag.
  returned: always
  type: list
sentinels_agree:
  description: True when every reachable Sentinel names the same master.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client as rc
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def name_of(entries, host, port):
    """Inventory name for a host/port reported by a server, or the address itself."""
    for entry in entries:
        if rc.same_host(entry["host"], host) and entry["port"] == int(port):
            return entry["name"]
    return rc.endpoint_text(host, port)


def inspect_sentinels(module, sentinels, nodes, report):
    p = module.params
    views = []
    for entry in sentinels:
        view = {"name": entry["name"], "address": rc.endpoint_text(entry["host"], entry["port"]), "reachable": False}
        views.append(view)
        try:
            client = rc.connect(module, entry["host"], entry["port"], sentinel=True)
            state = rc.sentinel_master(client, p["name"])
            view["reachable"] = True
        except (rc.RedisError, OSError) as exc:
            view["error"] = str(exc)
            report.problem(f"Sentinel {entry['name']} ({view['address']}) does not answer: {exc}")
            continue
        if state is None:
            report.problem(f"Sentinel {entry['name']} does not monitor {p['name']!r}")
            continue
        replicas = rc.sentinel_list(client, "REPLICAS", p["name"])
        others = rc.sentinel_list(client, "SENTINELS", p["name"])
        ok, sentence = rc.ckquorum(client, p["name"])
        live_replicas = [r for r in replicas if not set(r.get("flags", "").split(",")) & {"s_down", "o_down", "disconnected"}]
        live_sentinels = [s for s in others if not set(s.get("flags", "").split(",")) & {"s_down", "o_down", "disconnected"}]
        view.update(master=name_of(nodes, state["ip"], state["port"]),
                    master_address=rc.endpoint_text(state["ip"], state["port"]),
                    config_epoch=state.get("config-epoch"), flags=state.get("flags"), quorum=state.get("quorum"),
                    ckquorum=sentence, ckquorum_ok=ok,
                    replicas_known=len(replicas), replicas_ok=len(live_replicas),
                    sentinels_known=len(others) + 1, sentinels_ok=len(live_sentinels) + 1)
        report.require(ok, f"Sentinel {entry['name']}: CKQUORUM failed: {sentence}")
        report.require(not state["flag_set"] & {"s_down", "o_down"},
                       f"Sentinel {entry['name']} sees the master {view['master']} as down ({state.get('flags')})")
        report.require(len(live_sentinels) + 1 == len(sentinels),
                       f"Sentinel {entry['name']} knows {len(live_sentinels) + 1} working Sentinel(s) (itself "
                       f"included), the inventory has {len(sentinels)}")
        report.require(len(live_replicas) == len(nodes) - 1,
                       f"Sentinel {entry['name']} knows {len(live_replicas)} working replica(s), the inventory "
                       f"expects {len(nodes) - 1}")
        report.require(len(replicas) <= len(nodes) - 1,
                       f"Sentinel {entry['name']} remembers {len(replicas)} replicas for {len(nodes) - 1} in the "
                       "inventory: a removed or renamed node is still known (SENTINEL RESET clears it)")
    return views


def inspect_nodes(module, nodes, report):
    views = []
    for entry in nodes:
        view = {"name": entry["name"], "address": rc.endpoint_text(entry["host"], entry["port"]), "reachable": False}
        views.append(view)
        try:
            client = rc.connect(module, entry["host"], entry["port"])
            state = rc.role(client)
            info = client.info("replication")
            view["reachable"] = True
        except (rc.RedisError, OSError) as exc:
            view["error"] = str(exc)
            report.problem(f"Redis on {entry['name']} ({view['address']}) does not answer: {exc}")
            continue
        view["role"] = state["role"]
        if state["role"] == "master":
            view.update(offset=state["offset"], connected_replicas=len(state["replicas"]),
                        replicas=[name_of(nodes, h, pt) for h, pt, _offset in state["replicas"]])
        else:
            view.update(master=name_of(nodes, state["master_host"], state["master_port"]),
                        link=info.get("master_link_status"), offset=state["offset"],
                        sync_in_progress=bool(info.get("master_sync_in_progress")))
    return views


def main():
    argument_spec = dict(
        nodes=dict(type="dict", required=True),
        sentinels=dict(type="dict", required=True),
        max_lag_bytes=dict(type="int", default=1048576),
    )
    argument_spec.update(rc.common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    rc.require_redis(module)
    p = module.params

    def endpoints(entries, default_port):
        out = []
        for name, address in entries.items():
            host, port = rc.parse_endpoint(address, default_port)
            out.append({"name": name, "host": host, "port": port})
        return out

    nodes = endpoints(p["nodes"], rc.DEFAULT_REDIS_PORT)
    sentinels = endpoints(p["sentinels"], rc.DEFAULT_SENTINEL_PORT)
    report = HealthReport()
    sentinel_views = inspect_sentinels(module, sentinels, nodes, report)
    node_views = inspect_nodes(module, nodes, report)
    if not any(v["reachable"] for v in sentinel_views + node_views):
        module.fail_json(msg="no Redis server and no Sentinel answered: " +
                         "; ".join(f"{v['name']}: {v.get('error')}" for v in sentinel_views + node_views))

    # The Sentinels' master.
    answers = {v["master_address"] for v in sentinel_views if "master_address" in v}
    agree = len(answers) == 1
    report.require(len(answers) <= 1, "the Sentinels disagree about the master: " + ", ".join(
        f"{v['name']} says {v['master']}" for v in sentinel_views if "master" in v))
    best = max((v for v in sentinel_views if "master" in v), key=lambda v: v["config_epoch"], default=None)

    # The servers' own view.
    masters = [v for v in node_views if v.get("role") == "master"]
    report.require(len(masters) <= 1, "more than one server claims to be master: " +
                   ", ".join(f"{v['name']} ({v['connected_replicas']} replicas)" for v in masters))
    report.require(masters or not any(v["reachable"] for v in node_views), "no Redis server is master")
    if best is not None:
        report.require(any(v["name"] == best["master"] for v in masters),
                       f"the Sentinels name {best['master']} as master, but it does not say it is master")
    master_view = next((v for v in masters if best is None or v["name"] == best["master"]), None)
    for view in node_views:
        if view.get("role") != "replica":
            continue
        if master_view is not None:
            report.require(view["master"] == master_view["name"],
                           f"{view['name']} replicates from {view['master']}, not from the master {master_view['name']}")
            view["lag_bytes"] = max(0, master_view["offset"] - view["offset"])
            report.require(view["lag_bytes"] <= p["max_lag_bytes"],
                           f"{view['name']} is {view['lag_bytes']} bytes behind the master")
        report.require(view["link"] == "up", f"{view['name']}: replication link to {view['master']} is {view['link']}"
                       + (" (full sync in progress)" if view["sync_in_progress"] else ""))
    if master_view is not None:
        report.require(master_view["connected_replicas"] == len(nodes) - 1,
                       f"the master {master_view['name']} has {master_view['connected_replicas']} connected "
                       f"replica(s), the inventory expects {len(nodes) - 1}")

    if best is not None:
        report.topology.update(master=best["master"], master_address=best["master_address"])
    elif master_view is not None:
        report.topology.update(master=master_view["name"], master_address=master_view["address"])
    module.exit_json(changed=False, sentinels=sentinel_views, nodes=node_views, sentinels_agree=agree,
                     **report.as_dict())


if __name__ == "__main__":
    main()
