#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_heal
short_description: Heal the objects of a MinIO bucket after a node or drive came back
description:
  - Runs an admin heal sequence over a bucket (what C(mc admin heal -r) does) through the
    admin API and waits for it to finish. Objects written while a node was down lack that
    node's shards until they are healed.
  - In check mode, or with O(dry_run=true), it only scans and reports what needs healing.
  - C(changed) is true when objects were healed (or, in a dry run, would be).
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.minio
options:
  bucket:
    description: The bucket to heal.
    type: str
    required: true
  prefix:
    description: Only heal objects under this prefix.
    type: str
    default: ""
  dry_run:
    description: Scan only.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait for the heal sequence, in seconds.
    type: int
    default: 600
attributes:
  check_mode:
    description: Check mode reports what would change without changing it.
    support: full
  diff_mode:
    description: Nothing to diff.
    support: none
"""

EXAMPLES = r"""
- name: Heal the drill bucket after the nodes came back
  cloudphone.infra.minio_heal:
    endpoints: [198.18.10.11:9000, 198.18.10.12:9000]
    ca_file: inventories/lab/credentials/pki/ca.crt
    access_key: "{{ minio_root_access_key }}"
    secret_key: "{{ minio_root_password }}"
    bucket: drill
  delegate_to: localhost
  register: healed
"""

RETURN = r"""
objects:
  description: Objects scanned.
  returned: always
  type: int
needed_heal:
  description: Objects that had a shard missing or a drive not ok before the sequence.
  returned: always
  type: int
healed:
  description: Objects healed (0 in a dry run).
  returned: always
  type: int
remaining:
  description: Objects still not healthy on every drive after the sequence.
  returned: always
  type: int
seconds:
  description: How long the sequence took.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_client as mc


def main():
    spec = mc.connection_argument_spec()
    spec.update(
        bucket=dict(type="str", required=True),
        prefix=dict(type="str", default=""),
        dry_run=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    conn = mc.connect(module)
    dry_run = p["dry_run"] or module.check_mode
    try:
        result = mc.heal(conn, p["bucket"], dry_run=dry_run, prefix=p["prefix"], timeout_s=p["wait_timeout"])
    except mc.Unreachable as exc:
        module.fail_json(msg=f"cannot reach MinIO: {exc}")
    except mc.AdminError as exc:
        module.fail_json(msg=f"MinIO refused the heal of {p['bucket']}: {exc}")
    if result["summary"] not in ("finished",):
        module.fail_json(msg=f"the heal sequence of {p['bucket']} did not finish in {p['wait_timeout']} s "
                             f"(state: {result['summary']}, {result['failure'] or 'no detail'})", **result)
    module.exit_json(changed=result["needed_heal"] > 0, dry_run=dry_run, **result)


if __name__ == "__main__":
    main()
