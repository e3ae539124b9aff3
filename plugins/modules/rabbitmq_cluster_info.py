#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rabbitmq_cluster_info
short_description: Report whether a RabbitMQ cluster is healthy, in the collection's health contract
description:
  - Reads the live cluster through the RabbitMQ CLI tools (JSON output) from the node it runs on, or from
    the first running peer when the local node cannot answer.
  - Returns C(healthy), C(problems) and C(topology) like every C(*_cluster_info) module of the collection,
    plus the details below.
  - Problems reported are expected nodes that are not members or not running, members the inventory does
    not know, network partitions, resource alarms, nodes in maintenance mode, mixed versions, and quorum
    queues with fewer online members than their target.
  - Also reports which nodes are quorum-critical (stopping them would cost a quorum queue its majority),
    for use before a rolling restart.
  - Never changes anything and never fails because the cluster is unhealthy; it fails only when no node
    answers at all.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  nodes:
    description: The nodes the inventory expects, for example C([rabbit@data1, rabbit@data2, rabbit@data3]).
    type: list
    elements: str
    required: true
  quorum_target_size:
    description:
      - Members a quorum queue should have; the target of a queue is the smaller of this and the number of
        expected nodes. RabbitMQ's default initial group size is 3.
    type: int
    default: 3
requirements:
  - RabbitMQ CLI tools on the target; run with C(become).
attributes:
  check_mode:
    description: Runs the same in check mode; it only reads.
    support: full
  diff_mode:
    description: Nothing to show; it changes nothing.
    support: none
seealso:
  - module: cloudphone.infra.rabbitmq_cluster
"""

EXAMPLES = r"""
- name: Read the cluster's health
  cloudphone.infra.rabbitmq_cluster_info:
    nodes: "{{ groups['rabbitmq'] | map('regex_replace', '^', 'rabbit@') | list }}"
  become: true
  run_once: true
  register: rabbitmq_health

- name: Refuse to go on with an unhealthy cluster
  ansible.builtin.assert:
    that: rabbitmq_health.healthy
    fail_msg: "{{ rabbitmq_health.problems | join(' ') }}"
"""

RETURN = r"""
healthy:
  description: True when C(problems) is empty.
  returned: always
  type: bool
problems:
  description: Plain-language sentences an operator can act on.
  returned: always
  type: list
  elements: str
topology:
  description: What a failover may legitimately change; here the leader node of every quorum queue.
  returned: always
  type: dict
  sample: {"queue_leaders": {"cloudphone/cloudphone.events": "rabbit@data2"}}
asked:
  description: The node whose view was read.
  returned: always
  type: str
members:
  description: Cluster members (disc nodes).
  returned: always
  type: list
  elements: str
running:
  description: Members whose rabbit application runs.
  returned: always
  type: list
  elements: str
partitions:
  description: Per node, the nodes it cannot see (empty without a partition).
  returned: always
  type: dict
alarms:
  description: Resource alarms in effect, as C({node, resource}).
  returned: always
  type: list
  elements: dict
versions:
  description: RabbitMQ version per running node.
  returned: always
  type: dict
quorum_queues:
  description: Every quorum queue with its leader, members and online members.
  returned: always
  type: list
  elements: dict
quorum_critical:
  description: Per running node, the quorum queues that would lose their majority if it stopped.
  returned: always
  type: dict
safe_to_restart:
  description: Running nodes that are not quorum-critical.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport
from ansible_collections.cloudphone.infra.plugins.module_utils.rabbitmq import (
    EX_OK, EX_UNAVAILABLE, CtlError, RabbitCLI)


def pick_view(cli, nodes):
    """The local node's view, or the first running peer's; (node_to_ask, view, errors)."""
    errors = []
    for target in [None] + list(nodes):
        view = cli.view(target)
        if view.running:
            return target, view, errors
        errors.append(view.error or f"{target or 'local node'}: rabbit application not running")
    return None, None, errors


def quorum_queues(cli, target):
    queues = {}
    for vhost in cli.vhosts(target):
        for q in cli.queues(vhost, ["name", "type", "leader", "members", "online"], target):
            if q.get("type") == "quorum":
                # During a partition the CLI may list a queue once per side; keep one record per queue.
                queues[(vhost, q["name"])] = dict(vhost=vhost, name=q["name"], leader=q.get("leader") or None,
                                                  members=sorted(q.get("members") or []),
                                                  online=sorted(q.get("online") or []))
    return [queues[k] for k in sorted(queues)]


def quorum_critical(cli, running):
    critical = {}
    for node in running:
        answer = cli.json("rabbitmq-diagnostics", ["check_if_node_is_quorum_critical"], node,
                          accept_rc=(EX_OK, EX_UNAVAILABLE))
        queues = answer.get("queues", []) if isinstance(answer, dict) else []
        critical[node] = sorted(f"{q.get('virtual_host')}/{q.get('name')}" for q in queues)
    return critical


def assess(report, expected, status, queues, critical, target_size):
    members = sorted(set(status.get("disk_nodes", [])) | set(status.get("ram_nodes", [])))
    running = sorted(status.get("running_nodes", []))
    report.expect_members("RabbitMQ cluster membership", expected, members)
    for node in sorted(set(members) - set(running)):
        report.problem(f"{node} is a member but not running: start it (systemctl start rabbitmq-server on "
                       f"{node.split('@')[-1]}) or find why it paused (partition, pause_minority)")
    for node, unseen in sorted((status.get("partitions") or {}).items()):
        if unseen:
            report.problem(f"network partition: {node} cannot see {', '.join(sorted(unseen))}; once the network "
                           "heals, restart the nodes of the minority side one at a time")
    for alarm in status.get("alarms") or []:
        report.problem(f"{alarm.get('resource', 'resource')} alarm on {alarm.get('node')}: publishers are blocked "
                       "on every node until it clears (free disk/memory or add consumers)")
    for node, state in sorted((status.get("maintenance_status") or {}).items()):
        if state != "not under maintenance":
            report.problem(f"{node} is in maintenance mode ({state}): it serves no clients until "
                           "`rabbitmq-upgrade revive` runs on it")
    versions = {n: v.get("rabbitmq_version") for n, v in (status.get("versions") or {}).items()}
    if len(set(versions.values())) > 1:
        report.problem("mixed RabbitMQ versions in the cluster: " +
                       ", ".join(f"{n} {v}" for n, v in sorted(versions.items())) + "; finish the upgrade")
    target = min(target_size, len(expected))
    for q in queues:
        label = f"quorum queue {q['name']} in vhost {q['vhost']}"
        if len(q["online"]) < len(q["members"]):
            offline = sorted(set(q["members"]) - set(q["online"]))
            report.problem(f"{label} has {len(q['online'])} of {len(q['members'])} members online "
                           f"({', '.join(offline)} offline)")
        if len(q["members"]) < target:
            missing = [n for n in running if n not in q["members"]]
            hint = f": rabbitmq-queues grow {missing[0]} all" if missing else ""
            report.problem(f"{label} has {len(q['members'])} members, fewer than its target of {target}{hint}")
        if not q["leader"]:
            report.problem(f"{label} has no leader: it cannot accept or deliver messages")
    report.topology["queue_leaders"] = {f"{q['vhost']}/{q['name']}": q["leader"] for q in queues}
    return dict(members=members, running=running, partitions=status.get("partitions") or {},
                alarms=[{"node": a.get("node"), "resource": a.get("resource")} for a in status.get("alarms") or []],
                versions=versions, quorum_queues=queues, quorum_critical=critical,
                safe_to_restart=sorted(n for n, qs in critical.items() if not qs))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type="list", elements="str", required=True),
            quorum_target_size=dict(type="int", default=3),
        ),
        supports_check_mode=True,
    )
    expected = module.params["nodes"]
    cli = RabbitCLI(module)
    report = HealthReport()
    target, view, errors = pick_view(cli, expected)
    if view is None:
        module.fail_json(msg="no RabbitMQ node answered: " + "; ".join(errors), healthy=False, problems=errors)
    try:
        queues = quorum_queues(cli, target)
        critical = quorum_critical(cli, view.running_nodes)
    except CtlError as exc:
        module.fail_json(msg=f"the cluster answered cluster_status but not the queue listing: {exc}")
    details = assess(report, expected, view.status, queues, critical, module.params["quorum_target_size"])
    module.exit_json(changed=False, asked=target or "local node", **details, **report.as_dict())


if __name__ == "__main__":
    main()
