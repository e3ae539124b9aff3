#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_user
short_description: Manage a MinIO user, its secret and its policies through the admin API
description:
  - Creates, updates or removes a MinIO IAM user with the C(minio) Python library's admin
    client (no C(mc)).
  - The secret is never read back; the module checks it by signing a request as the user, so
    a changed secret is detected and check mode tells the truth.
  - O(policies) is the exact set of policies attached to the user.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.minio
options:
  name:
    description: The user's access key.
    type: str
    required: true
  password:
    description: The user's secret key (8 to 40 characters).
    type: str
  policies:
    description: Policies attached to the user; others are detached.
    type: list
    elements: str
    default: []
  update_password:
    description: C(always) resets a secret that differs; C(on_create) sets it only for a new user.
    type: str
    choices: [always, on_create]
    default: always
  state:
    description: Whether the user exists (and is enabled).
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
- name: The uploader of the APK service
  cloudphone.infra.minio_user:
    endpoints: [198.18.10.11:9000, 198.18.10.12:9000]
    ca_file: inventories/lab/credentials/pki/ca.crt
    access_key: "{{ minio_root_access_key }}"
    secret_key: "{{ minio_root_password }}"
    name: apk-uploader
    password: "{{ minio_apk_uploader_password }}"
    policies: [apk-uploads-rw]
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
policies:
  description: Policies attached after the task.
  returned: always
  type: list
  elements: str
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_client as mc


def current_user(conn, name):
    try:
        info = json.loads(conn.call(lambda ep: conn.admin(ep).user_info(name)))
    except mc.MinioAdminException as exc:
        if mc.admin_error(exc)[1] == "XMinioAdminNoSuchUser":
            return None
        raise
    policies = sorted(p for p in (info.get("policyName") or "").split(",") if p)
    return {"policies": policies, "status": info.get("status", "enabled")}


def secret_matches(conn, name, password, attempts=3):
    """Sign a request as the user: only the right secret gets an answer.

    A user created a moment ago may not have reached every node yet, so a refusal is
    confirmed a few times before it counts as a different secret.
    """
    user = conn.as_user(name, password)
    for attempt in range(attempts):
        try:
            user.call(lambda ep: user.admin(ep).account_info())
            return True
        except mc.MinioAdminException as exc:
            if mc.admin_error(exc)[0] not in (401, 403):
                raise
        if attempt + 1 < attempts:
            time.sleep(1)
    return False


def main():
    spec = mc.connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        password=dict(type="str", no_log=True),
        policies=dict(type="list", elements="str", default=[]),
        update_password=dict(type="str", choices=["always", "on_create"], default="always", no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[("state", "present", ["password"])])
    p = module.params
    conn = mc.connect(module)
    changes = []
    try:
        before = current_user(conn, p["name"])
        if p["state"] == "absent":
            after = None
            if before is not None:
                changes.append("remove the user")
                if not module.check_mode:
                    conn.call(lambda ep: conn.admin(ep).user_remove(p["name"]))
        else:
            want = sorted(set(p["policies"]))
            after = {"policies": want, "status": "enabled"}
            if before is None:
                changes.append("create the user")
            elif p["update_password"] == "always" and not secret_matches(conn, p["name"], p["password"]):
                changes.append("reset the secret")
            if before is not None and before["status"] != "enabled":
                changes.append("enable the user")
            have = before["policies"] if before else []
            attach = sorted(set(want) - set(have))
            detach = sorted(set(have) - set(want))
            if attach:
                changes.append(f"attach {', '.join(attach)}")
            if detach:
                changes.append(f"detach {', '.join(detach)}")
            if changes and not module.check_mode:
                if "create the user" in changes or "reset the secret" in changes:
                    conn.call(lambda ep: conn.admin(ep).user_add(p["name"], p["password"]))
                if "enable the user" in changes:
                    conn.call(lambda ep: conn.admin(ep).user_enable(p["name"]))
                if attach:
                    conn.call(lambda ep: conn.admin(ep).attach_policy(attach, user=p["name"]))
                if detach:
                    conn.call(lambda ep: conn.admin(ep).detach_policy(detach, user=p["name"]))
    except mc.Unreachable as exc:
        module.fail_json(msg=f"cannot reach MinIO: {exc}")
    except mc.MinioAdminException as exc:
        status, code, message = mc.admin_error(exc)
        module.fail_json(msg=f"MinIO refused a change to user {p['name']}: {status} {code} {message}")
    result = {"changed": bool(changes), "changes": changes, "policies": (after or {}).get("policies", [])}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": dict(after or {}, **(
            {"secret": "reset"} if "reset the secret" in changes else {}))}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
