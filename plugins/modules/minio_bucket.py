#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_bucket
short_description: Manage a MinIO bucket, its versioning and its quota
description:
  - Creates or removes a bucket and sets its versioning and hard quota, with the C(minio)
    Python library (S3 API and admin client; no C(mc)).
  - Removing a bucket that still holds objects is refused; empty it first.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.minio
options:
  name:
    description: Bucket name.
    type: str
    required: true
  versioning:
    description: Keep every version of an object (C(true)) or suspend versioning (C(false)). Omit to leave it.
    type: bool
  quota_bytes:
    description: Hard quota in bytes; C(0) removes the quota. Omit to leave it.
    type: int
  state:
    description: Whether the bucket exists.
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
- name: Bucket for APK uploads, versioned
  cloudphone.infra.minio_bucket:
    endpoints: [198.18.10.11:9000, 198.18.10.12:9000]
    ca_file: inventories/lab/credentials/pki/ca.crt
    access_key: "{{ minio_root_access_key }}"
    secret_key: "{{ minio_root_password }}"
    name: apk-uploads
    versioning: true
  delegate_to: localhost
"""

RETURN = r"""
bucket:
  description: The bucket's settings after the task (empty when absent).
  returned: always
  type: dict
  sample: {"name": "apk-uploads", "versioning": true, "quota_bytes": 0}
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_client as mc


def current_bucket(conn, name):
    if not conn.call(lambda ep: conn.s3(ep).bucket_exists(name)):
        return None
    status = conn.call(lambda ep: conn.s3(ep).get_bucket_versioning(name)).status
    quota = json.loads(conn.call(lambda ep: conn.admin(ep).bucket_quota_get(name)) or "{}")
    return {"name": name, "versioning": status == "Enabled", "quota_bytes": int(quota.get("quota") or 0)}


def main():
    spec = mc.connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        versioning=dict(type="bool"),
        quota_bytes=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    name = p["name"]
    conn = mc.connect(module)
    changes = []
    try:
        before = current_bucket(conn, name)
        if p["state"] == "absent":
            after = None
            if before is not None:
                if any(True for _obj in conn.call(lambda ep: conn.s3(ep).list_objects(name, recursive=True))):
                    module.fail_json(msg=f"bucket {name} still holds objects; empty it before removing it")
                changes.append("remove the bucket")
                if not module.check_mode:
                    conn.call(lambda ep: conn.s3(ep).remove_bucket(name))
        else:
            have = before or {"name": name, "versioning": False, "quota_bytes": 0}
            after = dict(have)
            if before is None:
                changes.append("create the bucket")
            if p["versioning"] is not None and p["versioning"] != have["versioning"]:
                after["versioning"] = p["versioning"]
                changes.append(("enable" if p["versioning"] else "suspend") + " versioning")
            if p["quota_bytes"] is not None and p["quota_bytes"] != have["quota_bytes"]:
                if p["quota_bytes"] < 0:
                    module.fail_json(msg="quota_bytes must be 0 (no quota) or a positive number of bytes")
                after["quota_bytes"] = p["quota_bytes"]
                changes.append(f"set the quota to {p['quota_bytes']} bytes" if p["quota_bytes"] else "remove the quota")
            if changes and not module.check_mode:
                if before is None:
                    conn.call(lambda ep: conn.s3(ep).make_bucket(name))
                if after["versioning"] != have["versioning"]:
                    config = mc.VersioningConfig(mc.ENABLED if after["versioning"] else mc.SUSPENDED)
                    conn.call(lambda ep: conn.s3(ep).set_bucket_versioning(name, config))
                if after["quota_bytes"] != have["quota_bytes"]:
                    if after["quota_bytes"]:
                        conn.call(lambda ep: conn.admin(ep).bucket_quota_set(name, after["quota_bytes"]))
                    else:
                        conn.call(lambda ep: conn.admin(ep).bucket_quota_clear(name))
    except mc.Unreachable as exc:
        module.fail_json(msg=f"cannot reach MinIO: {exc}")
    except (mc.MinioAdminException, mc.S3Error) as exc:
        module.fail_json(msg=f"MinIO refused a change to bucket {name}: {exc}")
    result = {"changed": bool(changes), "changes": changes, "bucket": after or {}}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": after or {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
