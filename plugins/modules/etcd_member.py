#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_member
short_description: Add, remove or replace one member of a running etcd v3 cluster, idempotently
description:
  - Talks to the cluster's client endpoints (TLS, client certificate) and changes its membership
    the way C(etcdctl member add/remove/update) does, but only when needed.
  - C(state=present) registers the member (by name and peer URLs) unless it is already registered.
    The new member must then start with C(initial-cluster-state=existing) and the returned
    RV(initial_cluster).
  - C(state=present) with O(replace=true) is for a member whose data directory was lost. A
    registration that has already started is then stale, so it is removed and the member is added
    again under a new ID. A registration that has not started yet is the one a previous run made,
    and is kept, so a second run changes nothing.
  - C(state=absent) removes the member.
  - Run it on (or delegate it to) a host that can reach a healthy member, never on the member
    being replaced.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  name:
    description: The member's name (ETCD_NAME), the inventory hostname in this collection.
    type: str
    required: true
  peer_urls:
    description: The member's peer URLs (ETCD_INITIAL_ADVERTISE_PEER_URLS). Required for C(state=present).
    type: list
    elements: str
    default: []
  state:
    description: Whether the member should be registered.
    type: str
    choices: [present, absent]
    default: present
  replace:
    description: The member's data directory is gone; treat a started registration as stale and re-add it.
    type: bool
    default: false
extends_documentation_fragment:
  - cloudphone.infra.etcd
attributes:
  check_mode:
    description: Reports what it would change without changing it.
    support: full
  diff_mode:
    description: Shows the member list before and after.
    support: full
"""

EXAMPLES = r"""
- name: Register a new member before its first start
  cloudphone.infra.etcd_member:
    name: data4
    peer_urls: [https://198.18.10.14:2380]
    endpoints: [https://198.18.10.11:2379, https://198.18.10.12:2379]
    ca_file: /etc/cloudphone/pki/ca.crt
    cert_file: /etc/cloudphone/pki/host.crt
    key_file: /etc/cloudphone/pki/host.key
  delegate_to: data1
  register: joined

- name: Replace a member that lost its data directory
  cloudphone.infra.etcd_member:
    name: data3
    peer_urls: [https://198.18.10.13:2380]
    replace: true
    endpoints: [https://198.18.10.11:2379, https://198.18.10.12:2379]
    ca_file: /etc/cloudphone/pki/ca.crt
    cert_file: /etc/cloudphone/pki/host.crt
    key_file: /etc/cloudphone/pki/host.key
  delegate_to: data1

- name: Remove a member
  cloudphone.infra.etcd_member:
    name: data4
    state: absent
    endpoints: [https://198.18.10.11:2379]
    ca_file: /etc/cloudphone/pki/ca.crt
    cert_file: /etc/cloudphone/pki/host.crt
    key_file: /etc/cloudphone/pki/host.key
  delegate_to: data1
"""

RETURN = r"""
action:
  description: What was done (or would be in check mode) - none, added, replaced, updated or removed.
  returned: always
  type: str
member:
  description: The member's registration after the run (id, name, peer_urls, client_urls, started).
  returned: when the member is registered after the run
  type: dict
members:
  description: Every registration after the run.
  returned: always
  type: list
  elements: dict
initial_cluster:
  description: The ETCD_INITIAL_CLUSTER value the member must start with when it joins.
  returned: when state=present
  type: str
  sample: data1=https://198.18.10.11:2380,data2=https://198.18.10.12:2380,data3=https://198.18.10.13:2380
cluster_id:
  description: The cluster's ID.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.etcd import (
    EtcdError, api_from, connection_argument_spec, find, initial_cluster)

PENDING_ID = "(new)"


def plan(members, name, peer_urls, state, replace):
    """Decide what to do from the current registrations: (action, the member's current registration or None)."""
    current = find(members, name, peer_urls)
    if state == "absent":
        return ("removed", current) if current else ("none", None)
    if current is None:
        return "added", None
    if replace and current["started"]:
        return "replaced", current
    if sorted(peer_urls) != current["peer_urls"]:
        return "updated", current
    return "none", current


def main():
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            name=dict(type="str", required=True),
            peer_urls=dict(type="list", elements="str", default=[]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            replace=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["peer_urls"])],
        required_together=[("cert_file", "key_file")],
        supports_check_mode=True,
    )
    p = module.params
    api = api_from(p)
    try:
        members, cluster_id = api.members()
    except EtcdError as exc:
        module.fail_json(msg=f"cannot list the etcd members: {exc}. The endpoints must be healthy members "
                             "reachable from this host.")

    action, current = plan(members, p["name"], p["peer_urls"], p["state"], p["replace"])
    before = [dict(m) for m in members]
    if action == "removed" and len(members) == 1:
        module.fail_json(msg=f"refusing to remove {p['name']}: it is the cluster's last member")

    member_id = current["id"] if current and action in ("none", "updated") else None
    try:
        if action in ("removed", "replaced"):
            members = [m for m in members if m["id"] != current["id"]]
            if not module.check_mode:
                members = api.remove(current["id"])
        if action in ("added", "replaced"):
            if module.check_mode:
                member_id = PENDING_ID
                members = members + [{"id": PENDING_ID, "name": "", "peer_urls": sorted(p["peer_urls"]),
                                      "client_urls": [], "started": False, "learner": False}]
            else:
                new, members = api.add(p["peer_urls"])
                member_id = new["id"]
        if action == "updated":
            for m in members:
                if m["id"] == member_id:
                    m["peer_urls"] = sorted(p["peer_urls"])
            if not module.check_mode:
                api.update(member_id, p["peer_urls"])
    except EtcdError as exc:
        module.fail_json(msg=f"etcd refused to change the membership ({action} {p['name']}): {exc}. "
                             "etcd refuses a change that would endanger quorum: check `etcdctl endpoint health`.")

    result = dict(changed=action != "none", action=action, members=members, cluster_id=str(cluster_id or ""))
    if p["state"] == "present":
        result["member"] = next((m for m in members if m["id"] == member_id), None)
        result["initial_cluster"] = initial_cluster(members, p["name"], member_id)
    if module._diff:
        result["diff"] = {"before": {"members": before}, "after": {"members": members}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
