#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_policy
short_description: Manage a MinIO IAM policy through the admin API
description:
  - Creates, updates or removes a canned IAM policy on a MinIO cluster, with the C(minio)
    Python library's admin client (no C(mc)).
  - The policy is compared by its statements (order of lists ignored); an identical policy is
    left alone.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.minio
options:
  name:
    description: Policy name.
    type: str
    required: true
  statements:
    description:
      - The policy's statements (C(Effect), C(Action), C(Resource), ...). Admin actions such as
        C(admin:Prometheus) take no C(Resource).
    type: list
    elements: dict
    default: []
  state:
    description: Whether the policy exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Check mode reports what would change without changing it.
    support: full
  diff_mode:
    description: Shows the settings before and after.
    support: full
"""

EXAMPLES = r"""
- name: Read-write access to the APK bucket
  cloudphone.infra.minio_policy:
    endpoints: [198.18.10.11:9000, 198.18.10.12:9000]
    ca_file: inventories/lab/credentials/pki/ca.crt
    access_key: "{{ minio_root_access_key }}"
    secret_key: "{{ minio_root_password }}"
    name: apk-uploads-rw
    statements:
      - Effect: Allow
        Action: ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
        Resource: ["arn:aws:s3:::apk-uploads", "arn:aws:s3:::apk-uploads/*"]
  delegate_to: localhost
"""

RETURN = r"""
policy:
  description: The statements in force after the task (empty when absent).
  returned: always
  type: list
  elements: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_client as mc


def current_policy(conn, name):
    try:
        doc = conn.call(lambda ep: conn.admin(ep).policy_info(name))
    except mc.MinioAdminException as exc:
        if mc.admin_error(exc)[1] == "XMinioAdminNoSuchPolicy":
            return None
        raise
    return json.loads(doc).get("Statement") or []


def main():
    spec = mc.connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        statements=dict(type="list", elements="dict", default=[]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[("state", "present", ["statements"])])
    p = module.params
    conn = mc.connect(module)
    try:
        before = current_policy(conn, p["name"])
        want = p["statements"] if p["state"] == "present" else None
        changed = (before is None) != (want is None) or (
            want is not None and mc.normalize_policy(before) != mc.normalize_policy(want))
        if changed and not module.check_mode:
            if want is None:
                conn.call(lambda ep: conn.admin(ep).policy_remove(p["name"]))
            else:
                doc = {"Version": "2012-10-17", "Statement": want}
                conn.call(lambda ep: conn.admin(ep).policy_add(p["name"], policy=doc))
    except mc.Unreachable as exc:
        module.fail_json(msg=f"cannot reach MinIO: {exc}")
    except mc.MinioAdminException as exc:
        status, code, message = mc.admin_error(exc)
        module.fail_json(msg=f"MinIO refused the policy {p['name']}: {status} {code} {message}")
    result = {"changed": changed, "policy": want or []}
    if module._diff:
        result["diff"] = {"before": {"statements": before} if before is not None else {},
                          "after": {"statements": want} if want is not None else {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
