#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_cluster_info
short_description: Read an etcd v3 cluster's membership and each member's status
description:
  - Lists the members through the first client endpoint that answers, then asks every member for
    its status (version, raft leader, database size).
  - Returns the collection's health contract (C(healthy), C(problems), C(topology)); it flags a
    member that does not answer, a registered member that never started, no raft leader, members
    that disagree on the leader, and members the inventory expects but the cluster lacks.
  - Only reads.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  expected_members:
    description: Member names the inventory expects. Empty skips the comparison.
    type: list
    elements: str
    default: []
  allow_unreachable:
    description:
      - Answer C(reachable=false) instead of failing when no endpoint answers. Used to find out
        whether a cluster exists before bootstrapping one.
    type: bool
    default: false
extends_documentation_fragment:
  - cloudphone.infra.etcd
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read the etcd cluster
  cloudphone.infra.etcd_cluster_info:
    endpoints: [https://198.18.10.11:2379, https://198.18.10.12:2379, https://198.18.10.13:2379]
    ca_file: /etc/cloudphone/pki/ca.crt
    cert_file: /etc/cloudphone/pki/host.crt
    key_file: /etc/cloudphone/pki/host.key
    expected_members: "{{ groups['etcd'] }}"
  register: etcd
"""

RETURN = r"""
reachable:
  description: Whether any endpoint answered.
  returned: always
  type: bool
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
  description:
    - The raft leader (it moves on its own; never drift), under its own key so that it never hides the
      Patroni leader that the same tier reports.
  returned: always
  type: dict
  sample: {"etcd_leader": "data1"}
leader:
  description: Name of the raft leader.
  returned: always
  type: str
members:
  description: Every registration with id, name, peer_urls, client_urls, started, answering, version, db_size, leader.
  returned: always
  type: list
  elements: dict
cluster_id:
  description: The cluster's ID.
  returned: when reachable
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.etcd import (
    EtcdAPI, EtcdError, api_from, connection_argument_spec)
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            expected_members=dict(type="list", elements="str", default=[]),
            allow_unreachable=dict(type="bool", default=False),
        ),
        required_together=[("cert_file", "key_file")],
        supports_check_mode=True,
    )
    p = module.params
    creds = (p["ca_file"], p["cert_file"], p["key_file"])
    report = HealthReport()
    try:
        members, cluster_id = api_from(p).members()
    except EtcdError as exc:
        if not p["allow_unreachable"]:
            module.fail_json(msg=f"cannot list the etcd members: {exc}")
        report.problem(f"no etcd member answered: {exc}")
        report.topology["etcd_leader"] = None
        module.exit_json(changed=False, reachable=False, leader=None, members=[], **report.as_dict())

    leaders = set()
    for m in members:
        m.update(answering=False, version=None, db_size=None, leader=None)
        if not m["started"]:
            report.problem(f"member {m['id']} ({', '.join(m['peer_urls'])}) is registered but has never started: "
                           "start etcd on that host with initial-cluster-state=existing, or remove the registration")
            continue
        try:
            status = EtcdAPI(m["client_urls"], *creds, timeout=p["timeout"]).call("maintenance/status")
        except EtcdError as exc:
            report.problem(f"etcd member {m['name']} does not answer: {exc}")
            continue
        m.update(answering=True, version=status.get("version"), db_size=int(status.get("dbSize", 0)),
                 leader=str(status.get("leader", "")))
        leaders.add(m["leader"])

    by_id = {m["id"]: m["name"] for m in members}
    leader = by_id.get(next(iter(leaders))) if len(leaders) == 1 else None
    if not leaders or leaders == {"0"}:
        report.problem("etcd has no raft leader: fewer than a quorum of members can talk to each other")
    elif len(leaders) > 1:
        report.problem("etcd members disagree on the raft leader ("
                       + ", ".join(sorted(by_id.get(i, i) for i in leaders)) + "); wait for the election to settle")
    if p["expected_members"]:
        report.expect_members("etcd", p["expected_members"], [m["name"] for m in members if m["started"]])
    report.topology["etcd_leader"] = leader
    module.exit_json(changed=False, reachable=True, cluster_id=str(cluster_id or ""), leader=leader,
                     members=members, **report.as_dict())


if __name__ == "__main__":
    main()
