#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_cluster_info
short_description: Health of a Ceph cluster and its S3 gateways, with the collection's health contract
description:
  - Asks the monitors (C(ceph status), C(ceph osd tree), C(ceph mgr stat), C(ceph quorum_status)) and every
    gateway (an anonymous C(GET /) over HTTPS, verified against O(ca_file)).
  - Problems are plain sentences - monitors out of quorum, OSDs down or out, an OSD host without an OSD up,
    placement groups not active+clean, every health check Ceph raises, a gateway that does not answer S3.
  - Returns C(healthy), C(problems) and C(topology) (the active manager and the leading monitor, which move
    without anything being wrong). Read-only; fails only when the C(ceph) command cannot run at all. Monitors
    that do not answer are an answer, C(no quorum).
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  mons:
    description: Monitor names the inventory expects in the quorum.
    type: list
    elements: str
    default: []
  osd_hosts:
    description: OSD hosts (CRUSH host names) the inventory expects, each with its OSDs up and in.
    type: list
    elements: str
    default: []
  gateways:
    description: Gateway URLs to ask, for example C(https://198.18.60.11:7443/).
    type: list
    elements: str
    default: []
  ca_file:
    description: CA certificate the gateways' certificates are checked against.
    type: path
  timeout:
    description: Seconds to wait for the monitors (and for each gateway).
    type: int
    default: 20
requirements:
  - The C(ceph) command (package ceph-common) and a keyring allowed to read the cluster's state.
attributes:
  check_mode:
    description: Only reads; the same answer in check mode.
    support: full
  diff_mode:
    description: Nothing to compare; it changes nothing.
    support: none
"""

EXAMPLES = r"""
- name: The object tier's health
  cloudphone.infra.ceph_cluster_info:
    mons: [data1, data2, data3, data4, ops1]
    osd_hosts: [data1, data2, data3, data4]
    gateways: ["https://198.18.60.11:7443/"]
    ca_file: /etc/cloudphone/pki/ca.crt
  register: ceph
"""

RETURN = r"""
healthy:
  description: True when no problem was found.
  returned: always
  type: bool
problems:
  description: Plain-language problems an operator can act on.
  returned: always
  type: list
  elements: str
topology:
  description: What may move without anything being wrong, the active manager and the leading monitor.
  returned: always
  type: dict
  sample: {"mgr_active": "data2", "mon_leader": "data1"}
status:
  description: Ceph's own verdict (HEALTH_OK, HEALTH_WARN, HEALTH_ERR), or C(no quorum).
  returned: always
  type: str
quorum:
  description: Monitors in the quorum.
  returned: always
  type: list
  elements: str
osds:
  description: OSD counts (total, up, in) and the OSDs down or out by name.
  returned: always
  type: dict
  sample: {"total": 4, "up": 4, "in": 4, "down": [], "out": []}
pgs:
  description: Placement groups, their total, how many are active+clean and the count by state.
  returned: always
  type: dict
  sample: {"total": 105, "active_clean": 105, "by_state": {"active+clean": 105}}
checks:
  description: Ceph's health checks by name, each with its severity and summary.
  returned: always
  type: dict
gateways:
  description: Each gateway's answer.
  returned: always
  type: list
  elements: dict
  sample: [{"url": "https://198.18.60.11:7443/", "ok": true, "status": 200}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError)
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport, get_json


def osd_summary(tree):
    """OSDs from `ceph osd tree`: {name: (host, up, in)}."""
    nodes = {n["id"]: n for n in tree.get("nodes", [])}
    host_of = {}
    for node in nodes.values():
        if node.get("type") == "host":
            for child in node.get("children", []):
                host_of[child] = node["name"]
    osds = {}
    for node in nodes.values():
        if node.get("type") == "osd":
            osds[node["name"]] = (host_of.get(node["id"]), node.get("status") == "up",
                                  float(node.get("reweight", 0)) > 0)
    for node in tree.get("stray", []):
        osds[node["name"]] = (None, node.get("status") == "up", False)
    return osds


def pg_summary(status):
    pgmap = status.get("pgmap", {})
    by_state = {s["state_name"]: s["count"] for s in pgmap.get("pgs_by_state", [])}
    return {"total": pgmap.get("num_pgs", 0), "active_clean": by_state.get("active+clean", 0), "by_state": by_state}


def assess(report, status, tree, mons, osd_hosts):
    """Fill `report` from `ceph status` and `ceph osd tree`; returns the details of the answer."""
    quorum = status.get("quorum_names", [])
    missing = sorted(set(mons) - set(quorum))
    if missing:
        report.problem(f"monitors {', '.join(missing)} are not in the quorum ({len(quorum)} of "
                       f"{len(set(mons) | set(quorum))} are): start them or check their network")
    osds = osd_summary(tree)
    down = sorted(name for name, state in osds.items() if not state[1])
    out = sorted(name for name, state in osds.items() if not state[2])
    if down:
        report.problem(f"OSDs down: {', '.join(f'{n} ({osds[n][0]})' for n in down)}; start ceph-osd on their hosts")
    if out:
        report.problem(f"OSDs out: {', '.join(out)}; mark them in (ceph osd in) once their hosts are back")
    up_hosts = {state[0] for state in osds.values() if state[1]}
    no_osd = sorted(set(osd_hosts) - up_hosts)
    if no_osd:
        report.problem(f"OSD hosts without an OSD up: {', '.join(no_osd)}")
    pgs = pg_summary(status)
    if pgs["total"] and pgs["active_clean"] != pgs["total"]:
        others = ", ".join(f"{count} {state}" for state, count in sorted(pgs["by_state"].items())
                           if state != "active+clean")
        report.problem(f"{pgs['total'] - pgs['active_clean']} of {pgs['total']} placement groups are not "
                       f"active+clean ({others})")
    checks = {}
    for name, check in sorted((status.get("health", {}).get("checks") or {}).items()):
        summary = (check.get("summary") or {}).get("message", "")
        checks[name] = {"severity": check.get("severity"), "summary": summary}
        report.problem(f"Ceph health check {name} ({check.get('severity')}): {summary}")
    osdmap = status.get("osdmap", {})
    return {
        "status": status.get("health", {}).get("status", "unknown"),
        "quorum": quorum,
        "osds": {"total": osdmap.get("num_osds", len(osds)), "up": osdmap.get("num_up_osds", len(osds) - len(down)),
                 "in": osdmap.get("num_in_osds", len(osds) - len(out)), "down": down, "out": out},
        "pgs": pgs,
        "checks": checks,
    }


def ask_gateway(report, url, ca_file, timeout):
    try:
        status = get_json(url, ca_file=ca_file, timeout=timeout)[0]
    except Exception as exc:  # pylint: disable=broad-exception-caught
        report.problem(f"gateway {url} does not answer S3: {exc}")
        return {"url": url, "ok": False, "status": None, "error": str(exc)}
    if status != 200:
        report.problem(f"gateway {url} answers HTTP {status} to an anonymous GET /")
    return {"url": url, "ok": status == 200, "status": status}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mons=dict(type="list", elements="str", default=[]),
            osd_hosts=dict(type="list", elements="str", default=[]),
            gateways=dict(type="list", elements="str", default=[]),
            ca_file=dict(type="path"),
            **dict(CEPH_COMMON_ARGS, timeout=dict(type="int", default=20))),
        supports_check_mode=True,
    )
    p = module.params
    if not module.get_bin_path("ceph"):
        module.fail_json(msg="the ceph command is not installed on this host (package ceph-common)")
    cli = CephCLI.from_params(module)
    report = HealthReport()
    result = {"status": "no quorum", "quorum": [], "osds": {}, "pgs": {}, "checks": {}}
    try:
        status = cli.json("status")
        tree = cli.json("osd", "tree")
        result.update(assess(report, status, tree, p["mons"], p["osd_hosts"]))
        mgr = cli.json("mgr", "stat")
        report.topology["mgr_active"] = mgr.get("active_name") if mgr.get("available") else None
        report.require(mgr.get("available"), "no manager is active: start ceph-mgr on a manager host")
        report.topology["mon_leader"] = cli.json("quorum_status").get("quorum_leader_name")
    except CephError as exc:
        report.problem(f"the monitors do not answer ({exc.err.strip() or exc.rc}): no quorum, start the monitors "
                       "that are down")
    result["gateways"] = [ask_gateway(report, url, p["ca_file"], p["timeout"]) for url in p["gateways"]]
    result.update(report.as_dict())
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
