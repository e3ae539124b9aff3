#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_health
short_description: Health of a host-local service that has no cluster to ask
description:
  - Checks that systemd units are active and that TCP ports accept connections, and answers with the
    health contract of this collection (C(healthy), C(problems), C(topology)), like the
    C(<tier>_cluster_info) modules do for clustered tiers.
  - For services without a cluster of their own (the base of every host, HAProxy). The drift check
    (C(drift-check.yml)) runs it through each role's C(tasks/health.yml).
  - Only reads. An inactive unit or a closed port is a problem in the answer, not a failed task; the
    task fails only when systemd cannot be asked at all.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  units:
    description: systemd units that must be active (running). A name without a suffix means C(.service).
    type: list
    elements: str
    default: []
  ports:
    description: TCP endpoints on this host that must accept a connection.
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: The port.
        type: int
        required: true
      host:
        description: The address to connect to, from the host itself.
        type: str
        default: 127.0.0.1
      name:
        description: What listens there, for the problem sentence.
        type: str
  timeout:
    description: Seconds to wait for each TCP connection.
    type: float
    default: 3
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show; it changes nothing.
    support: none
"""

EXAMPLES = r"""
- name: Health | HAProxy runs and serves its statistics port
  cloudphone.infra.service_health:
    units: [haproxy]
    ports:
      - port: 8404
        name: HAProxy statistics and metrics
  register: haproxy_health

- name: Health | refuse an unhealthy HAProxy
  ansible.builtin.assert:
    that: haproxy_health.healthy
    fail_msg: "{{ haproxy_health.problems | join('; ') }}"
"""

RETURN = r"""
healthy:
  description: True when every unit is active and every port accepts connections.
  returned: always
  type: bool
problems:
  description: One plain-language sentence per problem, saying what to do.
  returned: always
  type: list
  elements: str
  sample: ["haproxy.service is inactive (dead): start it (systemctl start haproxy.service) and read journalctl -u haproxy.service"]
topology:
  description: Always empty; a single service has no topology that a failover could move.
  returned: always
  type: dict
units:
  description: The state of each unit.
  returned: always
  type: dict
  sample: {"haproxy.service": {"active_state": "active", "sub_state": "running", "load_state": "loaded"}}
ports:
  description: For each checked endpoint (C(host:port)), whether it accepted a connection.
  returned: always
  type: dict
  sample: {"127.0.0.1:8404": true}
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def unit_name(name):
    return name if "." in name else f"{name}.service"


def unit_state(module, unit):
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command([systemctl, "show", "--property=LoadState,ActiveState,SubState", "--", unit])
    if rc != 0:
        module.fail_json(msg=f"could not ask systemd about {unit}: {err.strip() or out.strip()}")
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {"load_state": props.get("LoadState", "unknown"), "active_state": props.get("ActiveState", "unknown"),
            "sub_state": props.get("SubState", "unknown")}


def port_open(host, port, timeout):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(type="list", elements="str", default=[]),
            ports=dict(type="list", elements="dict", default=[], options=dict(
                port=dict(type="int", required=True),
                host=dict(type="str", default="127.0.0.1"),
                name=dict(type="str"),
            )),
            timeout=dict(type="float", default=3),
        ),
        supports_check_mode=True,
    )
    report = HealthReport()
    units = {}
    for name in module.params["units"]:
        unit = unit_name(name)
        state = units[unit] = unit_state(module, unit)
        if state["load_state"] != "loaded":
            report.problem(f"{unit} is not installed ({state['load_state']}): run site.yml to install it")
        elif state["active_state"] != "active":
            report.problem(f"{unit} is {state['active_state']} ({state['sub_state']}): start it "
                           f"(systemctl start {unit}) and read journalctl -u {unit}")
    ports = {}
    for endpoint in module.params["ports"]:
        address = f"{endpoint['host']}:{endpoint['port']}"
        ports[address] = port_open(endpoint["host"], endpoint["port"], module.params["timeout"])
        if not ports[address]:
            what = endpoint["name"] or "the service"
            report.problem(f"nothing accepts connections on {address} ({what}): check that it runs and listens there")
    module.exit_json(changed=False, units=units, ports=ports, **report.as_dict())


if __name__ == "__main__":
    main()
