#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_mgr_modules
short_description: Enable and disable Ceph manager modules
description:
  - Reads the modules (C(ceph mgr module ls)) and runs C(ceph mgr module enable) or C(disable) only for those whose
    state differs. Always-on modules are left alone.
  - Needs an available manager, since the monitors refuse to enable a module no manager has reported.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  enabled:
    description: Modules that must be enabled.
    type: list
    elements: str
    default: []
  disabled:
    description: Modules that must be disabled.
    type: list
    elements: str
    default: []
requirements:
  - The C(ceph) command (package ceph-common) and an administrator's keyring.
attributes:
  check_mode:
    description: Reports the modules it would enable or disable.
    support: full
  diff_mode:
    description: The enabled modules before and after.
    support: full
"""

EXAMPLES = r"""
- name: Metrics on, the REST API off
  cloudphone.infra.ceph_mgr_modules:
    enabled: [prometheus]
    disabled: [restful]
"""

RETURN = r"""
enabled_modules:
  description: The enabled (not always-on) modules after the run.
  returned: always
  type: list
  elements: str
  sample: ["iostat", "nfs", "prometheus"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            enabled=dict(type="list", elements="str", default=[]),
            disabled=dict(type="list", elements="str", default=[]),
            **CEPH_COMMON_ARGS),
        supports_check_mode=True,
    )
    p = module.params
    both = set(p["enabled"]) & set(p["disabled"])
    if both:
        module.fail_json(msg=f"modules both enabled and disabled: {', '.join(sorted(both))}")
    cli = CephCLI.from_params(module)
    try:
        doc = cli.json("mgr", "module", "ls")
        always_on = set(doc.get("always_on_modules") or [])
        before = sorted(doc.get("enabled_modules") or [])
        after = set(before)
        for name in p["enabled"]:
            if name not in after and name not in always_on:
                after.add(name)
                if not module.check_mode:
                    cli.do("mgr", "module", "enable", name)
        for name in p["disabled"]:
            if name in always_on:
                module.fail_json(msg=f"mgr module {name} is always on and cannot be disabled")
            if name in after:
                after.discard(name)
                if not module.check_mode:
                    cli.do("mgr", "module", "disable", name)
    except CephError as exc:
        module.fail_json(msg=str(exc))
    after = sorted(after)
    result = dict(changed=after != before, enabled_modules=after)
    if module._diff:
        result["diff"] = dict(before=dict(enabled_modules=before), after=dict(enabled_modules=after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
