#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_cluster_info
short_description: Report the health of a distributed MinIO cluster (the tier's failover check)
description:
  - Asks every node's C(/minio/health/live), the cluster health endpoints
    (C(/minio/health/cluster) for write quorum, C(/minio/health/cluster/read) for read quorum),
    the admin API's server info and background-heal status.
  - Returns the collection's health contract (C(healthy), C(problems), C(topology)) plus online
    and offline nodes and drives, write and read quorum, healing in progress and the erasure
    layout.
  - Only reads. It fails only when no node answers at all; an unhealthy cluster is a
    successful answer with C(healthy=false).
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.minio
options:
  expected_nodes:
    description:
      - The nodes the inventory expects, as the cluster names them (C(fqdn:port)). A node missing
        from the cluster, or one the inventory does not know, is a problem.
    type: list
    elements: str
  expected_parity:
    description: The standard parity (EC:N) the inventory configures.
    type: int
attributes:
  check_mode:
    description: Check mode reports what would change without changing it.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Ask the cluster
  cloudphone.infra.minio_cluster_info:
    endpoints: [198.18.10.11:9000, 198.18.10.12:9000, 198.18.10.13:9000, 198.18.10.14:9000]
    ca_file: inventories/lab/credentials/pki/ca.crt
    access_key: "{{ minio_root_access_key }}"
    secret_key: "{{ minio_root_password }}"
    expected_parity: 2
  delegate_to: localhost
  register: minio_state

- name: Require a healthy cluster
  ansible.builtin.assert:
    that: minio_state.healthy
    fail_msg: "{{ minio_state.problems }}"
"""

RETURN = r"""
healthy:
  description: True when no problem was found.
  returned: always
  type: bool
problems:
  description: Sentences an operator can act on.
  returned: always
  type: list
  elements: str
topology:
  description: MinIO has no leader; empty.
  returned: always
  type: dict
nodes:
  description: Online and offline nodes as the cluster sees them.
  returned: when the admin API answered
  type: dict
  sample: {"online": ["data1.lab.cloudphone.test:9000"], "offline": [], "total": 4}
drives:
  description: Drive counts and every drive's endpoint, state and healing flag.
  returned: when the admin API answered
  type: dict
quorum:
  description: Write and read quorum (drives) and whether each is met, from the health endpoints.
  returned: always
  type: dict
  sample: {"write": 3, "read": 2, "write_ok": true, "read_ok": true}
healing:
  description: Whether drives are being healed, and which.
  returned: when the admin API answered
  type: dict
layout:
  description: Pools, erasure sets, drives per set and the storage-class parity in force.
  returned: when the admin API answered
  type: dict
reachable:
  description: Whether each endpoint answered /minio/health/live from the control node.
  returned: always
  type: dict
versions:
  description: MinIO versions the nodes run.
  returned: when the admin API answered
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_client as mc
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def main():
    spec = mc.connection_argument_spec()
    spec.update(
        expected_nodes=dict(type="list", elements="str"),
        expected_parity=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    conn = mc.connect(module)

    reachable = {}
    for endpoint in conn.endpoints:
        try:
            reachable[endpoint] = conn.health(endpoint, "/minio/health/live")[0] == 200
        except (mc.urllib3.exceptions.HTTPError, OSError):
            reachable[endpoint] = False
    if not any(reachable.values()):
        module.fail_json(msg="no MinIO node answers /minio/health/live: " + ", ".join(conn.endpoints),
                         reachable=reachable)
    conn.preferred = next(i for i, e in enumerate(conn.endpoints) if reachable[e])

    quorum = {}
    for kind, path, header in (("write", "/minio/health/cluster", "x-minio-write-quorum"),
                               ("read", "/minio/health/cluster/read", "x-minio-read-quorum")):
        try:
            status, headers = conn.call(lambda ep: conn.health(ep, path))
            value = headers.get(header)
            quorum[kind] = (status, int(value) if value and value.isdigit() else None)
        except mc.Unreachable:
            quorum[kind] = (None, None)

    info = heal_status = None
    try:
        info = json.loads(conn.call(lambda ep: conn.admin(ep).info()))
        heal_status = conn.call(lambda ep: conn.admin_api(ep, "POST", "background-heal/status"))
    except (mc.Unreachable, mc.MinioAdminException, mc.AdminError, ValueError):
        pass

    report = HealthReport()
    facts = mc.evaluate(report, info, quorum, heal_status, reachable,
                        expected_nodes=p["expected_nodes"], expected_parity=p["expected_parity"])
    module.exit_json(changed=False, **facts, **report.as_dict())


if __name__ == "__main__":
    main()
