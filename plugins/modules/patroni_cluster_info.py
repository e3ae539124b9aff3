#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: patroni_cluster_info
short_description: Read a Patroni cluster's live state and judge its health
description:
  - Asks the Patroni REST API of the members for the cluster view (C(/cluster)) and each member
    for its own view (C(/patroni)), and returns the leader, the members with role, state, timeline
    and lag, the synchronous standbys and a verdict.
  - The verdict follows the collection's health contract (C(healthy), C(problems), C(topology)).
    It flags no leader, more than one primary, a replica that is not streaming, lag over
    O(max_lag), no synchronous standby while synchronous mode is on, a member that waits for a
    restart to apply changed settings (unless O(allow_pending_restart)), and members the inventory
    expects but the cluster does not have (or the other way round).
  - Only reads. An unhealthy cluster is a successful answer; the task fails only when no member's
    REST API answers.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  expected_members:
    description: Member names (inventory hostnames) the cluster should have. Empty skips the check.
    type: list
    elements: str
    default: []
  max_lag:
    description: Replication lag above which a replica is a problem, in bytes or with a unit (C(16MB)).
    type: str
    default: 16MB
  synchronous_mode:
    description:
      - Whether a synchronous standby is required. By default the module reads it from the
        cluster's dynamic configuration.
    type: bool
  wait_timeout:
    description:
      - Keep reading the cluster, every O(wait_interval) seconds, until it is healthy (and
        O(wait_member) is back) or this many seconds passed. 0 reads once.
      - Polling inside the module notices the moment much closer than an Ansible C(until) loop
        does; RV(waited_s) says how long it took.
    type: float
    default: 0
  wait_interval:
    description: Seconds between two reads while waiting.
    type: float
    default: 0.5
  wait_member:
    description: While waiting, also require this member to be the leader or a streaming replica.
    type: str
  allow_pending_restart:
    description:
      - Do not count a member that waits for a restart (RV(pending_restart)) as a problem.
      - For the health waits inside a rolling restart, which restarts those members next. A health
        check leaves it false, so a member a converge left behind makes the cluster unhealthy.
    type: bool
    default: false
notes:
  - Runs wherever the REST APIs are reachable (a member, or the control node with C(delegate_to)).
extends_documentation_fragment:
  - cloudphone.infra.patroni
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read the PostgreSQL cluster
  cloudphone.infra.patroni_cluster_info:
    api_urls: "{{ groups['postgresql'] | map('regex_replace', '^(.*)$', 'https://\\1:8008') | list }}"
    ca_file: /etc/cloudphone/pki/ca.crt
    expected_members: "{{ groups['postgresql'] }}"
  register: pg

- name: Refuse to go on with an unhealthy cluster
  ansible.builtin.assert:
    that: pg.healthy
    fail_msg: "{{ pg.problems | join('; ') }}"
"""

RETURN = r"""
healthy:
  description: True when no problem was found.
  returned: always
  type: bool
problems:
  description: What is wrong, in plain words.
  returned: always
  type: list
  elements: str
topology:
  description: What a failover may legitimately change (leader, synchronous standbys).
  returned: always
  type: dict
  sample: {"leader": "data2", "sync_standby": ["data3"]}
leader:
  description: Name of the member holding the leader lock, or null.
  returned: always
  type: str
members:
  description: Every member with name, role, state, host, port, api_url, timeline, lag (bytes), pending_restart, tags.
  returned: always
  type: list
  elements: dict
replicas:
  description: Names of the replicas (synchronous or not).
  returned: always
  type: list
  elements: str
sync_standby:
  description: Names of the synchronous standbys.
  returned: always
  type: list
  elements: str
timeline:
  description: The leader's timeline.
  returned: always
  type: int
pending_restart:
  description: Members whose PostgreSQL needs a restart to apply a changed parameter.
  returned: always
  type: list
  elements: str
config:
  description: The cluster's dynamic configuration (from the DCS).
  returned: always
  type: dict
scope:
  description: The cluster's name.
  returned: always
  type: str
waited_s:
  description: Seconds spent waiting (0 without O(wait_timeout)).
  returned: always
  type: float
reached_at:
  description: Unix time of the read that met the wait condition (null when it was not met).
  returned: always
  type: float
reached:
  description: Whether the wait condition held before O(wait_timeout) (always true without waiting).
  returned: always
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.patroni import (
    PatroniAPI, PatroniError, api_argument_spec, assess, parse_size)


def main():
    module = AnsibleModule(
        argument_spec=api_argument_spec(
            expected_members=dict(type="list", elements="str", default=[]),
            max_lag=dict(type="str", default="16MB"),
            synchronous_mode=dict(type="bool"),
            wait_timeout=dict(type="float", default=0),
            wait_interval=dict(type="float", default=0.5),
            wait_member=dict(type="str"),
            allow_pending_restart=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["api_urls"]:
        module.fail_json(msg="api_urls is empty: give the REST API URL of at least one Patroni member")
    try:
        max_lag = parse_size(p["max_lag"])
    except ValueError as exc:
        module.fail_json(msg=f"max_lag: {exc}")

    api = PatroniAPI(p["api_urls"], ca_file=p["ca_file"], timeout=p["timeout"])
    started = time.monotonic()
    while True:
        result = read(module, api, max_lag)
        reached = result["healthy"] and (not p["wait_member"] or member_is_back(result, p["wait_member"]))
        waited = time.monotonic() - started
        if reached or waited >= p["wait_timeout"]:
            break
        time.sleep(p["wait_interval"])
    module.exit_json(changed=False, reached=reached, reached_at=time.time() if reached else None,
                     waited_s=round(waited, 3), **result)


def member_is_back(result, name):
    return result["leader"] == name or any(
        m["name"] == name and m["state"] == "streaming" for m in result["members"])


def read(module, api, max_lag):
    """One look at the cluster. While waiting, an unreachable cluster is one more reason to wait."""
    p = module.params
    try:
        cluster = api.cluster()
        config = api.config()
    except PatroniError as exc:
        if p["wait_timeout"]:
            return {"healthy": False, "problems": [str(exc)], "topology": {}, "leader": None, "members": [],
                    "replicas": [], "sync_standby": [], "timeline": None, "pending_restart": [], "config": {},
                    "scope": None}
        module.fail_json(msg=f"cannot read the Patroni cluster: {exc}. Check that patroni.service runs on the "
                             "members and that this host reaches their REST port with the right CA.")

    # Each member's own view catches a primary the DCS does not know about (split brain).
    names = {m.get("name"): m.get("api_url") for m in cluster.get("members") or []}
    statuses = {name: api.member_status(url) if url else None for name, url in names.items()}
    synchronous_mode = p["synchronous_mode"]
    if synchronous_mode is None:
        synchronous_mode = config.get("synchronous_mode") in (True, "on", "true", "quorum")
    report, details = assess(cluster, statuses, p["expected_members"], max_lag, synchronous_mode,
                             allow_pending_restart=p["allow_pending_restart"])
    return dict(config=config, scope=cluster.get("scope"), **details, **report.as_dict())


if __name__ == "__main__":
    main()
