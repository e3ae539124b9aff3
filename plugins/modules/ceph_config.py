#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_config
short_description: Keep options of Ceph's central configuration database in the wanted state
description:
  - Reads the monitors' configuration database once (C(ceph config dump)) and runs C(ceph config set) (or
    C(ceph config rm)) only for the options whose live value differs.
  - The collection keeps C(ceph.conf) down to the fsid and the monitor addresses; every other setting goes
    through this module, so a daemon started anywhere gets the same configuration from the monitors.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  config:
    description:
      - Options by section (C(global), C(mon), C(osd), C(client.rgw.data1), ...), each a mapping of option
        name to value. A null value removes the option from the database.
      - Booleans are written C(true)/C(false); other values as Ceph prints them back (plain integers for sizes).
    type: dict
    required: true
  force:
    description:
      - Set options the monitors do not know yet (C(ceph config set --force)), such as a manager module's
        C(mgr/<module>/<option>) before any manager has started and reported its modules.
    type: bool
    default: false
requirements:
  - The C(ceph) command (package ceph-common) and a keyring allowed to change the configuration.
attributes:
  check_mode:
    description: Reports the options it would set without setting them.
    support: full
  diff_mode:
    description: The changed options, before and after.
    support: full
"""

EXAMPLES = r"""
- name: Secure mode on every connection, the autoscaler off
  cloudphone.infra.ceph_config:
    config:
      global:
        ms_cluster_mode: secure
        ms_service_mode: secure
        ms_client_mode: secure
        osd_pool_default_pg_autoscale_mode: "off"
      mgr:
        mgr/prometheus/server_port: 9283
"""

RETURN = r"""
changes:
  description: The options set or removed, as C(section/name).
  returned: always
  type: list
  elements: str
  sample: ["global/ms_cluster_mode"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError, normalise)


def main():
    module = AnsibleModule(
        argument_spec=dict(config=dict(type="dict", required=True), force=dict(type="bool", default=False),
                           **CEPH_COMMON_ARGS),
        supports_check_mode=True,
    )
    cli = CephCLI.from_params(module)
    try:
        live = cli.config_dump()
        before, after, changes = {}, {}, []
        for section, options in sorted(module.params["config"].items()):
            if not isinstance(options, dict):
                module.fail_json(msg=f"config.{section} must be a mapping of option names to values")
            for name, value in sorted(options.items()):
                current = live.get((section, name))
                wanted = None if value is None else normalise(value)
                if current is not None and wanted is not None and current.lower() == wanted.lower():
                    continue
                if current is None and wanted is None:
                    continue
                key = f"{section}/{name}"
                changes.append(key)
                before[key], after[key] = current, wanted
                if module.check_mode:
                    continue
                if wanted is None:
                    cli.do("config", "rm", section, name)
                else:
                    cli.do("config", "set", section, name, wanted, *(["--force"] if module.params["force"] else []))
    except CephError as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=bool(changes), changes=changes)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
