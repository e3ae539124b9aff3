#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: patroni_config
short_description: Keep a Patroni cluster's dynamic configuration in the wanted state
description:
  - Reads the cluster-wide dynamic configuration (C(GET /config)), compares it with O(config) and
    sends only what differs as a JSON merge patch (C(PATCH /config)). Keys that O(config) does not
    mention are left alone; a key set to null is removed.
  - Values are compared the way PostgreSQL reads them (C(on) equals C(true), C(200) equals C("200")),
    so a second run changes nothing.
  - Patroni applies the patch on every member on its next cycle. Parameters that need a restart
    then show up as C(pending_restart) in M(cloudphone.infra.patroni_cluster_info); restarting is
    the caller's job (one member at a time).
  - Refuses timing values that break Patroni's rules (ttl >= 20, loop_wait >= 1, retry_timeout >= 3,
    loop_wait + 2*retry_timeout <= ttl) instead of letting Patroni silently rewrite them.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  config:
    description: The wanted dynamic configuration (a subset of what C(GET /config) returns).
    type: dict
    required: true
extends_documentation_fragment:
  - cloudphone.infra.patroni
  - cloudphone.infra.patroni.write
attributes:
  check_mode:
    description: Reports what it would change without changing it.
    support: full
  diff_mode:
    description: Shows the configuration before and after.
    support: full
"""

EXAMPLES = r"""
- name: Set the failover timers and parameters
  cloudphone.infra.patroni_config:
    api_urls: [https://data1.lab.cloudphone.test:8008, https://data2.lab.cloudphone.test:8008]
    ca_file: /etc/cloudphone/pki/ca.crt
    client_cert: /etc/cloudphone/pki/host.crt
    client_key: /etc/cloudphone/pki/host.key
    password: "{{ patroni_restapi_password }}"
    config:
      ttl: 20
      loop_wait: 5
      retry_timeout: 5
      synchronous_mode: true
      postgresql:
        parameters:
          max_connections: 300
  no_log: true
"""

RETURN = r"""
changes:
  description: The merge patch sent (or that would be sent in check mode); empty when nothing differed.
  returned: always
  type: dict
  sample: {"postgresql": {"parameters": {"max_connections": 300}}}
config:
  description: The dynamic configuration after the run (predicted in check mode).
  returned: always
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.patroni import (
    WRITE_REFUSED_HINT, WRITE_REQUIRED_TOGETHER, PatroniError, config_changes, timing_problem, write_api,
    write_argument_spec)


def merged(current, patch):
    result = copy.deepcopy(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merged(result.get(key) if isinstance(result.get(key), dict) else {}, value)
        else:
            result[key] = value
    return result


def main():
    module = AnsibleModule(
        argument_spec=write_argument_spec(
            config=dict(type="dict", required=True),
        ),
        required_together=WRITE_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    p = module.params
    api = write_api(p)
    try:
        current = api.config()
    except PatroniError as exc:
        module.fail_json(msg=f"cannot read Patroni's dynamic configuration: {exc}")

    wanted = merged(current, p["config"])
    timers = {k: wanted.get(k) for k in ("ttl", "loop_wait", "retry_timeout")}
    if all(isinstance(v, int) for v in timers.values()):
        problem = timing_problem(**timers)
        if problem:
            module.fail_json(msg=f"refusing the Patroni timers: {problem}. Change patroni_ttl, patroni_loop_wait "
                                 "or patroni_retry_timeout.")

    changes = config_changes(current, p["config"])
    result = dict(changed=bool(changes), changes=changes, config=merged(current, changes))
    if module._diff:
        result["diff"] = {"before": current, "after": result["config"]}
    if changes and not module.check_mode:
        try:
            url, status, doc = api.first("/config", method="PATCH", body=changes)
        except PatroniError as exc:
            module.fail_json(msg=f"cannot change Patroni's dynamic configuration: {exc}", **result)
        if status != 200:
            module.fail_json(msg=f"{url}/config refused the change ({status}): {doc}. {WRITE_REFUSED_HINT}", **result)
        result["config"] = doc if isinstance(doc, dict) else result["config"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
