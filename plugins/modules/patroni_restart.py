#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: patroni_restart
short_description: Restart one Patroni member's PostgreSQL when it waits for a restart
description:
  - Asks the cluster (C(GET /cluster)) and the member itself (C(GET /patroni)) whether O(member) waits for a
    restart (C(pending_restart)), and only then asks that member's REST API to restart PostgreSQL
    (C(POST /restart) with C(restart_pending=true), so Patroni itself skips a member that needs nothing).
  - Does not wait for the cluster to be healthy again; follow it with M(cloudphone.infra.patroni_cluster_info).
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  member:
    description: Patroni name of the member to restart (its inventory name).
    type: str
    required: true
  restart_timeout:
    description: Seconds to wait for the member to answer the restart request (it answers once PostgreSQL is back).
    type: int
    default: 120
extends_documentation_fragment:
  - cloudphone.infra.patroni
  - cloudphone.infra.patroni.write
attributes:
  check_mode:
    description: Reports whether the member would be restarted, without restarting it.
    support: full
  diff_mode:
    description: Nothing to show beyond the restart itself.
    support: none
"""

EXAMPLES = r"""
- name: Restart data2 if a parameter change waits for it
  cloudphone.infra.patroni_restart:
    api_urls: [https://data1.lab.cloudphone.test:8008, https://data2.lab.cloudphone.test:8008]
    ca_file: /etc/cloudphone/pki/ca.crt
    client_cert: /etc/cloudphone/pki/host.crt
    client_key: /etc/cloudphone/pki/host.key
    password: "{{ patroni_restapi_password }}"
    member: data2
  no_log: true
"""

RETURN = r"""
api_url:
  description: The REST API of the member, as the cluster advertises it.
  returned: always
  type: str
  sample: https://data2.lab.cloudphone.test:8008
pending_restart:
  description: Whether the member waited for a restart before the run.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.patroni import (
    WRITE_REFUSED_HINT, WRITE_REQUIRED_TOGETHER, PatroniError, write_api, write_argument_spec)


def main():
    module = AnsibleModule(
        argument_spec=write_argument_spec(
            member=dict(type="str", required=True),
            restart_timeout=dict(type="int", default=120),
        ),
        required_together=WRITE_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    p = module.params
    api = write_api(p)
    try:
        cluster = api.cluster()
    except PatroniError as exc:
        module.fail_json(msg=f"cannot read the Patroni cluster: {exc}")
    member = next((m for m in cluster.get("members", []) if m.get("name") == p["member"]), None)
    if member is None or not member.get("api_url"):
        module.fail_json(msg=f"{p['member']} is not a member of the Patroni cluster (members: "
                             f"{', '.join(sorted(m.get('name', '?') for m in cluster.get('members', [])))}); "
                             "is Patroni running there?")
    base = member["api_url"][: -len("/patroni")] if member["api_url"].endswith("/patroni") else member["api_url"]
    status = api.member_status(member["api_url"]) or {}
    pending = bool(member.get("pending_restart") or status.get("pending_restart"))
    result = dict(changed=pending, api_url=base, pending_restart=pending)
    if pending and not module.check_mode:
        try:
            code, doc = api.request(base, "/restart", method="POST", body={"restart_pending": True},
                                    timeout=p["restart_timeout"])
        except Exception as exc:  # the member's API is unreachable or timed out
            module.fail_json(msg=f"cannot ask {base} to restart: {exc}", **result)
        if code != 200:
            module.fail_json(msg=f"{base}/restart refused ({code}): {doc}. {WRITE_REFUSED_HINT}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
