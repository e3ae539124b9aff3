#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_auth
short_description: Keep a cephx entity (a daemon's or a client's own key) and its capabilities, without a key on a command line
description:
  - Reads the entity (C(ceph auth get)); creates it with a key the monitors generate (C(ceph auth get-or-create))
    or with the given O(key), imported through standard input (C(ceph auth import -i -)); sets its capabilities
    (C(ceph auth caps)) when they differ.
  - With O(keyring_path), writes the entity's keyring on the host the module runs on (atomically, with its owner
    and mode). With O(return_keyring), returns the keyring's text, for a play that hands it to another host;
    use C(no_log) on that task.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  entity:
    description: The entity, for example C(mgr.data1), C(client.rgw.data1), C(client.bootstrap-osd).
    type: str
    required: true
  caps:
    description: Capabilities by daemon type (C(mon), C(osd), C(mgr), C(mds)); the entity's whole set.
    type: dict
    default: {}
  key:
    description: The entity's key, for an entity whose key comes from the vault; the monitors generate one when omitted.
    type: str
  keyring_path:
    description: Where to write the entity's keyring on this host.
    type: path
  owner:
    description: Owner of O(keyring_path).
    type: str
    default: root
  group:
    description: Group of O(keyring_path).
    type: str
    default: root
  mode:
    description: Mode of O(keyring_path).
    type: str
    default: "0600"
  return_keyring:
    description: Return the keyring's text as RV(keyring).
    type: bool
    default: false
requirements:
  - The C(ceph) command (package ceph-common) and a keyring allowed to manage cephx entities.
attributes:
  check_mode:
    description: Reports what it would create, change or write without doing it.
    support: full
  diff_mode:
    description: The capabilities before and after; of the key only whether it changes.
    support: full
"""

EXAMPLES = r"""
- name: The manager's own key
  cloudphone.infra.ceph_auth:
    entity: mgr.data1
    caps: {mon: "allow profile mgr", osd: "allow *", mds: "allow *"}
    keyring_path: /var/lib/ceph/mgr/ceph-data1/keyring
    owner: ceph
    group: ceph
  no_log: true
"""

RETURN = r"""
keyring:
  description: The entity's keyring text (its key), when O(return_keyring) is true and the entity exists.
  returned: when requested
  type: str
caps:
  description: The entity's capabilities after the run.
  returned: always
  type: dict
  sample: {"mon": "allow profile mgr"}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError, keyring_text)


def write_keyring(module, path, text):
    """Write the keyring when its content differs; returns whether it changed."""
    current = None
    if os.path.exists(path):
        with open(path) as fh:
            current = fh.read()
    changed = current != text
    if changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".keyring.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        module.atomic_move(tmp, path)
    args = module.load_file_common_arguments(
        dict(path=path, owner=module.params["owner"], group=module.params["group"], mode=module.params["mode"]))
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(args, changed)
    return changed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            entity=dict(type="str", required=True),
            caps=dict(type="dict", default={}),
            key=dict(type="str", no_log=True),
            keyring_path=dict(type="path"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="str", default="0600"),
            return_keyring=dict(type="bool", default=False),
            **CEPH_COMMON_ARGS),
        supports_check_mode=True,
    )
    p = module.params
    entity = p["entity"]
    caps = {k: str(v) for k, v in p["caps"].items()}
    cli = CephCLI.from_params(module)
    changed = False
    key_changes = False
    try:
        live = cli.auth_get(entity)
        before_caps = live["caps"] if live else {}
        if live is None or (p["key"] and live["key"] != p["key"]):
            changed = key_changes = True
            if not module.check_mode:
                if p["key"]:
                    cli.do("auth", "import", "-i", "-", data=keyring_text(entity, p["key"], caps))
                else:
                    args = ["auth", "get-or-create", entity]
                    for daemon, cap in sorted(caps.items()):
                        args += [daemon, cap]
                    cli.do(*args)
                live = cli.auth_get(entity)
        if live is not None and live["caps"] != caps:
            changed = True
            if not module.check_mode:
                args = ["auth", "caps", entity]
                for daemon, cap in sorted(caps.items()):
                    args += [daemon, cap]
                cli.do(*args)
        result = dict(caps=caps)
        if live is not None:
            text = keyring_text(entity, live["key"])
            if p["keyring_path"]:
                changed = write_keyring(module, p["keyring_path"], text) or changed
            if p["return_keyring"]:
                result["keyring"] = text
        elif p["keyring_path"]:
            changed = True
    except CephError as exc:
        module.fail_json(msg=str(exc))
    result["changed"] = changed
    if module._diff:
        result["diff"] = dict(before=dict(caps=before_caps), after=dict(caps=caps, key_changes=key_changes))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
