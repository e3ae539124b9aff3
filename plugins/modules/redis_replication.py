#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_replication
short_description: Make a Redis server a replica of the current master, as the Sentinels know it
description:
  - Finds the current master of O(name) by asking the Sentinels (the answer with the highest
    config epoch wins), then makes the Redis server at O(node) a replica of it with C(REPLICAOF)
    and persists that with C(CONFIG REWRITE).
  - Only when no Sentinel monitors O(name) (a brand-new cluster, or no Sentinel answers) does it
    fall back to the live nodes in O(peers) (a node that is master and already has replicas) and
    then to O(initial_master) from the inventory; and then it only attaches nodes that are masters
    without replicas (fresh ones). A replica is re-pointed only on the Sentinels' word.
  - Never demotes the real master. When the Sentinels name O(node) as master, nothing is done.
    A node that is master with connected replicas is never turned into a replica; the module fails
    and says why instead.
  - Idempotent. A replica already following the current master reports no change.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.redis
options:
  node:
    description:
      - The Redis server to configure, C(host) or C(host:port), as the other nodes and the
        Sentinels address it (same address family and naming as the Sentinel monitor).
    type: str
    required: true
  sentinels:
    description: Sentinels to ask, C(host) or C(host:port) (port 26379 by default).
    type: list
    elements: str
    default: []
  peers:
    description:
      - All Redis servers of the group, C(host) or C(host:port). Asked only when no Sentinel knows
        O(name) yet, so a cluster whose Sentinels were rebuilt keeps its live master.
    type: list
    elements: str
    default: []
  initial_master:
    description:
      - The master of a brand-new cluster (C(host) or C(host:port)), normally the first host of the
        inventory group. Used only when neither the Sentinels nor the peers know a master.
    type: str
    required: true
  wait_for_link:
    description: After a change, wait up to this many seconds for C(master_link_status:up). 0 does not wait.
    type: int
    default: 60
attributes:
  check_mode:
    description: Reports the REPLICAOF it would send without sending it.
    support: full
  diff_mode:
    description: Shows the replication target before and after.
    support: full
"""

EXAMPLES = r"""
- name: Follow the current master
  cloudphone.infra.redis_replication:
    name: cloudphone
    node: "{{ inventory_hostname | cloudphone.infra.host_address }}"
    sentinels: "{{ groups['redis_sentinel'] | map('extract', hostvars) | map('cloudphone.infra.host_address') }}"
    peers: "{{ groups['redis'] | map('extract', hostvars) | map('cloudphone.infra.host_address') }}"
    initial_master: "{{ hostvars[groups['redis'][0]] | cloudphone.infra.host_address }}"
    login_password: "{{ redis_default_password }}"
    sentinel_login_password: "{{ redis_default_password }}"
    ca_file: /etc/cloudphone/pki/ca.crt
  no_log: true
"""

RETURN = r"""
master:
  description: The current master, as C(host:port).
  returned: always
  type: str
  sample: 198.18.41.12:6379
source:
  description: Where the master came from, C(sentinels), C(peers) or C(inventory).
  returned: always
  type: str
role:
  description: The role of O(node) after the module ran, C(master) or C(replica).
  returned: always
  type: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client as rc


def main():
    argument_spec = dict(
        node=dict(type="str", required=True),
        sentinels=dict(type="list", elements="str", default=[]),
        peers=dict(type="list", elements="str", default=[]),
        initial_master=dict(type="str", required=True),
        wait_for_link=dict(type="int", default=60),
    )
    argument_spec.update(rc.common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    rc.require_redis(module)
    p = module.params

    node_host, node_port = rc.parse_endpoint(p["node"], rc.DEFAULT_REDIS_PORT)
    client = rc.connect(module, node_host, node_port)
    try:
        before = rc.role(client)
    except (rc.RedisError, OSError) as exc:
        module.fail_json(msg=f"cannot ask {rc.endpoint_text(node_host, node_port)} for its role: {exc}")

    master_host, master_port, source = rc.locate_master(module, p["name"], p["sentinels"], p["peers"],
                                                        p["initial_master"])
    result = dict(changed=False, master=rc.endpoint_text(master_host, master_port), source=source,
                  role=before["role"])

    node_is_master = rc.same_host(master_host, node_host) and master_port == node_port
    if node_is_master:
        if before["role"] != "master":
            # Sentinel names this node master but it still follows someone: a failover is under way.
            module.fail_json(msg=f"the {source} name {p['node']} as master of {p['name']!r} but it is still a "
                                 f"replica of {before['master_host']}:{before['master_port']}; a failover is "
                                 "probably in progress. Re-run in a few seconds.", **result)
        module.exit_json(**result)

    following = (before["role"] == "replica" and rc.same_host(before["master_host"], master_host)
                 and before["master_port"] == master_port)
    if following:
        module.exit_json(**result)
    if before["role"] == "replica" and source != "sentinels":
        # No Sentinel vouches for a master: a replica keeps following whatever it follows, rather
        # than being re-pointed on the strength of the inventory.
        module.warn(f"{p['node']} follows {before['master_host']}:{before['master_port']} and no Sentinel "
                    f"knows {p['name']!r}; left as it is")
        module.exit_json(**result)

    if before["role"] == "master" and before["replicas"]:
        module.fail_json(msg="{} is a master with {} connected replica(s) ({}), while the {} name {} as master of "
                             "{!r}. Refusing to demote it: check the cluster with "
                             "cloudphone.infra.redis_cluster_info and let Sentinel settle it."
                         .format(p["node"], len(before["replicas"]),
                                 ", ".join(rc.endpoint_text(h, pt) for h, pt, _offset in before["replicas"]),
                                 source, result["master"], p["name"]), **result)

    old = (f"replicaof {before['master_host']} {before['master_port']}" if before["role"] == "replica"
           else "master (no replicas)")
    result.update(changed=True, role="replica")
    if module._diff:
        result["diff"] = dict(before=old + "\n", after=f"replicaof {master_host} {master_port}\n")
    if module.check_mode:
        module.exit_json(**result)

    try:
        client.execute_command("REPLICAOF", master_host, master_port)
        client.execute_command("CONFIG", "REWRITE")
    except (rc.RedisError, OSError) as exc:
        module.fail_json(msg=f"REPLICAOF {master_host} {master_port} on {p['node']} failed: {exc}", **result)

    deadline = time.monotonic() + p["wait_for_link"]
    while p["wait_for_link"] > 0:
        try:
            link = client.info("replication").get("master_link_status")
            unanswered = None
        except (rc.RedisError, OSError) as exc:
            # The client reconnects on the next call: keep asking until the deadline.
            link, unanswered = None, exc
        if link == "up":
            break
        if time.monotonic() > deadline:
            if unanswered is not None:
                module.fail_json(msg=f"{p['node']} now follows {result['master']} but stopped answering while the "
                                     f"module waited for its replication link ({unanswered}): check that "
                                     "redis-server runs there and accepts connections, then re-run.", **result)
            module.fail_json(msg=f"{p['node']} now follows {result['master']} but its replication link is still "
                                 f"{link!r} after {p['wait_for_link']} s: check the master's log, the "
                                 "replication user and TLS.", **result)
        time.sleep(0.5)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
