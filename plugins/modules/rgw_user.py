#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rgw_user
short_description: Keep a RADOS Gateway (S3) user and its one S3 key pair, from the vault, with check mode and diff
description:
  - Reads the user's metadata (C(radosgw-admin metadata get user:<uid>)) and changes only what differs - the
    display name, the maximum number of buckets, whether it is suspended, and its S3 key pair.
  - No secret is ever on a command line. A new user is created (C(radosgw-admin user create), whose generated key
    pair is replaced at once); the key pair is then written into the user's metadata, which
    C(radosgw-admin metadata put) reads from its standard input, and the gateway updates its access-key index
    from it. The user's other S3 keys are removed - O(access_key) is its only key.
  - The diff shows the display name, the settings and the access key id; of the secret only whether it changes.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  uid:
    description: The user's id.
    type: str
    required: true
  display_name:
    description: The user's display name; the uid when omitted.
    type: str
  access_key:
    description: The S3 access key id (from the vault). Required with O(state=present).
    type: str
  secret_key:
    description: The S3 secret key (from the vault). Required with O(state=present).
    type: str
  max_buckets:
    description:
      - How many buckets the user may own, with the gateway's meaning; C(-1) forbids creating buckets.
      - C(0) means B(no limit) to the gateway, not none.
    type: int
    default: 1000
  suspended:
    description: Whether the user is suspended.
    type: bool
    default: false
  state:
    description: Whether the user exists. Removing a user does not remove its buckets; the gateway refuses a user that owns some.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - radosgw-admin (package ceph-common) and a keyring allowed to read and write the zone's pools.
attributes:
  check_mode:
    description: Reports what it would create or change without doing it.
    support: full
  diff_mode:
    description: Display name, settings and access key id before and after; of the secret only whether it changes.
    support: full
"""

EXAMPLES = r"""
- name: The APK upload user, with its key pair from the vault
  cloudphone.infra.rgw_user:
    uid: apk-uploader
    display_name: APK uploads
    access_key: "{{ ceph_rgw_apk_uploader_access_key }}"
    secret_key: "{{ ceph_rgw_apk_uploader_secret_key }}"
    max_buckets: -1
  no_log: true
"""

RETURN = r"""
user:
  description: The user after the run, without its secret.
  returned: always
  type: dict
  sample: {"uid": "apk-uploader", "display_name": "APK uploads", "access_key": "k3...", "max_buckets": -1, "suspended": false}
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError)


def public_view(uid, data):
    """What the module shows of a user: never a secret key."""
    if data is None:
        return {}
    keys = data.get("keys") or []
    return {
        "uid": uid,
        "display_name": data.get("display_name"),
        "access_key": ",".join(k.get("access_key", "") for k in keys) or None,
        "max_buckets": data.get("max_buckets"),
        "suspended": bool(data.get("suspended")),
    }


def get_metadata(cli, uid):
    rc, doc = cli.run(["metadata", "get", f"user:{uid}"], tool="radosgw-admin", fmt_json=False, ok_rcs=(0, 2))
    if rc != 0:
        return None
    try:
        return json.loads(doc)
    except ValueError:
        raise CephError(["radosgw-admin", "metadata", "get", f"user:{uid}"], rc, "", "output is not JSON")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uid=dict(type="str", required=True),
            display_name=dict(type="str"),
            access_key=dict(type="str", no_log=False),
            secret_key=dict(type="str", no_log=True),
            max_buckets=dict(type="int", default=1000),
            suspended=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            **CEPH_COMMON_ARGS),
        required_if=[("state", "present", ["access_key", "secret_key"])],
        supports_check_mode=True,
    )
    p = module.params
    uid = p["uid"]
    if p["max_buckets"] < -1:
        module.fail_json(msg=f"max_buckets is {p['max_buckets']}: use -1 to forbid creating buckets, 0 for no limit, "
                             "or a positive limit.")
    cli = CephCLI.from_params(module)
    changed = False
    try:
        meta = get_metadata(cli, uid)
        before = public_view(uid, meta["data"] if meta else None)
        if p["state"] == "absent":
            if meta is not None:
                changed = True
                if not module.check_mode:
                    cli.run(["user", "rm", f"--uid={uid}"], tool="radosgw-admin", fmt_json=False)
            after = {}
        else:
            display_name = p["display_name"] or uid
            if meta is None:
                changed = True
                if not module.check_mode:
                    # The key pair radosgw-admin generates is replaced right below.
                    cli.run(["user", "create", f"--uid={uid}", f"--display-name={display_name}"],
                            tool="radosgw-admin", fmt_json=False)
                    meta = get_metadata(cli, uid)
            wanted_keys = [{"user": uid, "access_key": p["access_key"], "secret_key": p["secret_key"]}]
            data = dict(meta["data"]) if meta else {}
            current_keys = [{"user": k.get("user"), "access_key": k.get("access_key"), "secret_key": k.get("secret_key")}
                            for k in data.get("keys") or []]
            secret_changes = not any(k["access_key"] == p["access_key"] and k["secret_key"] == p["secret_key"]
                                     for k in current_keys)
            updates = {}
            if current_keys != wanted_keys:
                updates["keys"] = wanted_keys
            if data.get("display_name") != display_name:
                updates["display_name"] = display_name
            if data.get("max_buckets") != p["max_buckets"]:
                updates["max_buckets"] = p["max_buckets"]
            if bool(data.get("suspended")) != p["suspended"]:
                updates["suspended"] = 1 if p["suspended"] else 0
            if updates:
                changed = True
                if not module.check_mode:
                    data.update(updates)
                    meta["data"] = data
                    cli.run(["metadata", "put", f"user:{uid}"], tool="radosgw-admin", fmt_json=False,
                            data=json.dumps(meta))
                    meta = get_metadata(cli, uid)
                    data = meta["data"]
                else:
                    data.update(updates)
            after = public_view(uid, data)
            before = dict(before, secret_key_changes=False) if before else before
            after = dict(after, secret_key_changes=bool(secret_changes and meta is not None or secret_changes))
    except CephError as exc:
        module.fail_json(msg=str(exc).replace(p["secret_key"] or "\0", "********"))
    result = dict(changed=changed, user={k: v for k, v in after.items() if k != "secret_key_changes"})
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
