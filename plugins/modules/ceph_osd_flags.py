#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_osd_flags
short_description: Set or unset cluster-wide OSD flags (noout, norebalance, ...)
description:
  - Reads the OSD map's flags (C(ceph osd dump)) and runs C(ceph osd set) or C(ceph osd unset) only for those that
    differ. The rolling restart of OSD hosts sets C(noout) around each host's restart, so that Ceph does not start
    moving data while the OSDs are briefly down.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  flags:
    description: Flags by name, each true (set) or false (unset).
    type: dict
    required: true
requirements:
  - The C(ceph) command (package ceph-common) and an administrator's keyring.
attributes:
  check_mode:
    description: Reports the flags it would set or unset.
    support: full
  diff_mode:
    description: The flags before and after.
    support: full
"""

EXAMPLES = r"""
- name: No rebalancing while an OSD host restarts
  cloudphone.infra.ceph_osd_flags:
    flags:
      noout: true
"""

RETURN = r"""
flags:
  description: The OSD map's flags after the run.
  returned: always
  type: list
  elements: str
  sample: ["noout", "sortbitwise"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError)


def main():
    module = AnsibleModule(
        argument_spec=dict(flags=dict(type="dict", required=True), **CEPH_COMMON_ARGS),
        supports_check_mode=True,
    )
    cli = CephCLI.from_params(module)
    try:
        before = sorted(f for f in (cli.json("osd", "dump").get("flags") or "").split(",") if f)
        after = set(before)
        for flag, wanted in sorted(module.params["flags"].items()):
            wanted = module.boolean(wanted)
            if wanted and flag not in after:
                after.add(flag)
                if not module.check_mode:
                    cli.do("osd", "set", flag)
            elif not wanted and flag in after:
                after.discard(flag)
                if not module.check_mode:
                    cli.do("osd", "unset", flag)
    except CephError as exc:
        module.fail_json(msg=str(exc))
    after = sorted(after)
    result = dict(changed=after != before, flags=after)
    if module._diff:
        result["diff"] = dict(before=dict(flags=before), after=dict(flags=after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
