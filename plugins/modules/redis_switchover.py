#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_switchover
short_description: Hand the master role to a replica without losing acknowledged writes
description:
  - A planned switchover for a Sentinel-managed group, used before restarting the master.
  - When O(node) is the current master (as the Sentinels say), pauses writes on it
    (C(CLIENT PAUSE WRITE)), waits until every connected replica has its offset, asks a Sentinel for
    C(SENTINEL FAILOVER), waits until the Sentinels name another master and O(node) has become a
    replica of it, then lifts the pause.
  - A bare C(SENTINEL FAILOVER) keeps the old master writable for a second or two; writes it takes
    then reach the other replica (so C(WAIT 1) acknowledges them) and are dropped when that replica
    resynchronises from the new master. The pause closes that window.
  - Does nothing when O(node) is not the master, or when no Sentinel monitors O(name) yet.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.redis
options:
  node:
    description: The Redis server that should stop being master, C(host) or C(host:port).
    type: str
    required: true
  sentinels:
    description: The Sentinels, C(host) or C(host:port).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for the Sentinels to finish the switchover; writes stay paused at most this long.
    type: int
    default: 30
attributes:
  check_mode:
    description: Reports whether the node would hand over the master role, without pausing or failing over.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Move the master role away before restarting this node
  cloudphone.infra.redis_switchover:
    node: "{{ inventory_hostname | cloudphone.infra.host_address }}"
    sentinels: "{{ redis_sentinel_addresses }}"
    login_password: "{{ redis_default_password }}"
    sentinel_login_password: "{{ redis_default_password }}"
    ca_file: /etc/cloudphone/pki/ca.crt
  no_log: true
"""

RETURN = r"""
old_master:
  description: O(node) when it was master, else null.
  returned: always
  type: str
new_master:
  description: The master after the switchover, C(host:port).
  returned: changed
  type: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client as rc


def main():
    argument_spec = dict(
        node=dict(type="str", required=True),
        sentinels=dict(type="list", elements="str", required=True),
        timeout=dict(type="int", default=30),
    )
    argument_spec.update(rc.common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    rc.require_redis(module)
    p = module.params

    node_host, node_port = rc.parse_endpoint(p["node"], rc.DEFAULT_REDIS_PORT)
    views = rc.ask_sentinels(module, p["sentinels"], p["name"])
    agreed = rc.master_from_sentinels(views)
    result = dict(changed=False, old_master=None)
    if agreed is None or not (rc.same_host(agreed[0], node_host) and agreed[1] == node_port):
        module.exit_json(**result)

    client = rc.connect(module, node_host, node_port)
    state = rc.role(client)
    if not state["replicas"]:
        module.fail_json(msg=f"{p['node']} is master with no connected replica: there is nothing to hand over to. "
                             "Bring a replica back before restarting the master.")
    result.update(changed=True, old_master=rc.endpoint_text(node_host, node_port))
    if module.check_mode:
        module.exit_json(**result)

    deadline = time.monotonic() + p["timeout"]
    asker = next(v["client"] for v in views if v.get("monitored"))
    client.execute_command("CLIENT", "PAUSE", p["timeout"] * 1000, "WRITE")
    try:
        # 1. Let the replicas take everything the master acknowledged.
        while not all(offset >= state["offset"] for _host, _port, offset in state["replicas"]):
            if time.monotonic() > deadline:
                module.fail_json(msg="the replicas did not catch up with the paused master in time; nothing was "
                                     "switched. Check replication with cloudphone.infra.redis_cluster_info.", **result)
            time.sleep(0.1)
            state = rc.role(client)
        # 2. Fail over, and wait until the Sentinels name the new master and no replica follows the old one
        #    (then a write the old master takes after the pause cannot be acknowledged by WAIT).
        try:
            asker.execute_command("SENTINEL", "FAILOVER", p["name"])
        except (rc.RedisError, OSError) as exc:
            module.fail_json(msg=f"SENTINEL FAILOVER {p['name']} was refused: {exc}. Sentinel waits twice the "
                                 "failover-timeout between failovers of the same master; re-run later.", **result)
        while True:
            agreed = rc.master_from_sentinels(rc.ask_sentinels(module, p["sentinels"], p["name"]))
            moved = agreed is not None and not (rc.same_host(agreed[0], node_host) and agreed[1] == node_port)
            if moved and not rc.role(client).get("replicas"):
                result["new_master"] = rc.endpoint_text(agreed[0], agreed[1])
                break
            if time.monotonic() > deadline:
                module.fail_json(msg=f"the Sentinels did not finish the switchover within {p['timeout']} s",
                                 **result)
            time.sleep(0.2)
    finally:
        # The pause also holds Sentinel's own link (its PUBLISH and MULTI/EXEC), so Sentinel can only
        # turn the old master into a replica once it is lifted.
        client.execute_command("CLIENT", "UNPAUSE")
    while rc.role(client)["role"] != "replica":
        if time.monotonic() > deadline:
            module.fail_json(msg=f"the Sentinels named {result['new_master']} master but did not turn "
                                 f"{p['node']} into its replica within {p['timeout']} s", **result)
        time.sleep(0.2)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
