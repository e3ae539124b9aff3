#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rabbitmq_cluster
short_description: Join a RabbitMQ node to the cluster of its running peers, idempotently
description:
  - Makes the local RabbitMQ node a member of the cluster formed by O(nodes).
  - Membership is read from C(rabbitmqctl cluster_status --formatter json) on the local node and on
    every peer (the CLI reaches peers over Erlang distribution with the shared cookie), never from
    error strings.
  - The seed is any running member of the largest running cluster among the peers, not necessarily the
    first node of the inventory. When no cluster exists yet (every running node is alone), the first
    running node in O(nodes) is the seed and stays as it is.
  - Joining runs C(stop_app), C(join_cluster <seed>) and C(start_app). C(join_cluster) discards the
    node's own data (users, vhosts, queues, messages), so the module refuses to join a node whose
    queues hold messages unless O(allow_reset=true).
  - A node that was wiped or force-reset while its peers still list it (RabbitMQ reports
    C(inconsistent_cluster) on join) is first removed from the peers' view with
    C(forget_cluster_node) on the seed, then joined.
  - After a join, the node is added back to every quorum queue (C(rabbitmq-queues grow <node> all)) so
    the queues return to full membership.
  - Run it on one node at a time (C(serial=1) or C(throttle=1) on the task), so that two new nodes never pick each other as seeds.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  node:
    description: Name of the local node, for example C(rabbit@data1).
    type: str
    required: true
  nodes:
    description: Every node of the cluster, local node included, in inventory order.
    type: list
    elements: str
    required: true
  allow_reset:
    description:
      - Join even when the local node's queues hold messages; they are discarded.
    type: bool
    default: false
  grow_quorum_queues:
    description: After a join, add the node to every quorum queue that lacks it.
    type: bool
    default: true
requirements:
  - RabbitMQ CLI tools on the target (C(rabbitmqctl), C(rabbitmq-queues)); run with C(become).
attributes:
  check_mode:
    description: Reports the commands it would run and the membership it would reach, without running them.
    support: full
  diff_mode:
    description: Shows the cluster members before and after the join.
    support: full
notes:
  - The local node's Erlang VM must be running (C(systemctl start rabbitmq-server)); a stopped rabbit
    application (C(stop_app), for example after an interrupted join) is started again.
  - In check mode a stopped node that its running peers still list as a member is reported unchanged
    (starting it is the service's change), so a drift check of a stopped node does not fail here.
seealso:
  - module: cloudphone.infra.rabbitmq_cluster_info
"""

EXAMPLES = r"""
- name: Join the cluster
  cloudphone.infra.rabbitmq_cluster:
    node: "rabbit@{{ inventory_hostname }}"
    nodes: "{{ groups['rabbitmq'] | map('regex_replace', '^', 'rabbit@') | list }}"
  throttle: 1
  become: true

- name: Rejoin a node that still holds old messages, discarding them
  cloudphone.infra.rabbitmq_cluster:
    node: rabbit@data3
    nodes: [rabbit@data1, rabbit@data2, rabbit@data3]
    allow_reset: true
"""

RETURN = r"""
seed:
  description: The running member the node joined (or would join); null when nothing had to be done.
  returned: always
  type: str
  sample: rabbit@data2
actions:
  description: The CLI commands run (or, in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
  sample: ["rabbitmqctl stop_app", "rabbitmqctl join_cluster rabbit@data2", "rabbitmqctl start_app"]
members:
  description: Cluster members as seen by the local node at the end (planned members in check mode).
  returned: always
  type: list
  elements: str
discarded_messages:
  description: Messages per C(vhost/queue) the join discarded (only with O(allow_reset)).
  returned: always
  type: dict
msg:
  description: What was decided and why.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.rabbitmq import (
    APP_STOPPED, UNREACHABLE, CtlError, RabbitCLI, count_messages)


def members_listing(node, views):
    """The members the running peers know, when they list this node; else None."""
    known = sorted({m for v in views.values() if v.running for m in v.members})
    return known if node in known else None


def choose_seed(node, nodes, local, views):
    """Pick the member to join, or None when this node is (or starts) the cluster.

    Returns (seed, reason).
    """
    running = [p for p in nodes if p != node and views[p].running]
    if not running:
        return None, "no other node is running; nothing to join"
    # The largest running cluster wins; inventory order only breaks ties.
    ranked = sorted(running, key=lambda p: (-len(views[p].running_nodes), nodes.index(p)))
    best = ranked[0]
    if len(views[best].running_nodes) == 1 and len(local.running_nodes) <= 1:
        # A brand-new cluster: every running node is alone. The first one in inventory order seeds it.
        first = next(p for p in nodes if p == node or p in running)
        if first == node:
            return None, "no cluster exists yet and this node is the first of the inventory: the others join it"
        return first, f"no cluster exists yet; {first} is the first running node of the inventory"
    return best, f"{best} is a running member of the largest cluster ({', '.join(views[best].running_nodes)})"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            node=dict(type="str", required=True),
            nodes=dict(type="list", elements="str", required=True),
            allow_reset=dict(type="bool", default=False),
            grow_quorum_queues=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    node, nodes = module.params["node"], module.params["nodes"]
    if node not in nodes:
        module.fail_json(msg=f"node {node} is not in nodes ({', '.join(nodes)}): list every cluster node, this one included")
    if any("@" not in n for n in nodes):
        module.fail_json(msg=f"nodes must be full node names like rabbit@data1, got {', '.join(nodes)}")

    cli = RabbitCLI(module)
    actions = []
    result = dict(changed=False, seed=None, actions=actions, discarded_messages={})

    def act(tool, args, target=None):
        actions.append(" ".join([tool] + (["-n", target] if target else []) + list(args)))
        if not module.check_mode:
            try:
                cli.run_checked(tool, args, target)
            except CtlError as exc:
                module.fail_json(msg=f"{exc}. Actions done so far: {'; '.join(actions)}", **result)

    local = cli.view()
    views = {p: cli.view(p) for p in nodes if p != node}
    if local.state == UNREACHABLE:
        known = members_listing(node, views)
        if module.check_mode and known:
            # The drift check on a stopped member: its running peers still list it, so starting the
            # service (which the service task reports) is all a converge would do here.
            result.update(members=known, msg=f"{node} does not answer ({local.error}), but the running "
                                             "members list it: it is a member, nothing to join")
            module.exit_json(**result)
        module.fail_json(msg=f"cannot reach the local node {node}: {local.error}. "
                             "Start it first (systemctl start rabbitmq-server) and check its cookie.", **result)
    if local.state == APP_STOPPED:
        # An interrupted join or a manual stop_app: the node must run to be a member, and to be counted.
        act("rabbitmqctl", ["start_app"])
        if not module.check_mode:
            local = cli.view()
        elif any(v.running and node in v.members for v in views.values()):
            result.update(changed=True, members=sorted({node}.union(*(v.members for v in views.values() if v.running))),
                          msg=f"{node} is a member whose rabbit application is stopped: it would be started")
            module.exit_json(**result)
    seed, reason = choose_seed(node, nodes, local, views)
    local_members = local.members or [node]
    result["members"] = local_members

    if seed is None:
        result.update(changed=bool(actions), msg=reason)
        module.exit_json(**result)

    seed_view = views[seed]
    if seed in local_members and node in seed_view.members:
        result.update(changed=bool(actions), msg=f"{node} is already a member of the cluster of {seed}")
        module.exit_json(**result)

    if len(local_members) > 1 and not module.params["allow_reset"]:
        module.fail_json(msg=(
            f"{node} is a member of another cluster ({', '.join(local_members)}) than {seed} "
            f"({', '.join(seed_view.members)}). Joining discards its data. Merge the clusters by hand, or set "
            "allow_reset (rabbitmq_cluster_allow_reset: true) to reset this node into the cluster of the seed."),
            **result)

    held, total = ({}, 0) if module.check_mode and local.state == APP_STOPPED else count_messages(cli)
    if total and not module.params["allow_reset"]:
        sample = ", ".join(f"{q}: {n}" for q, n in sorted(held.items())[:10])
        module.fail_json(msg=(
            f"{node} must join the cluster of {seed}, but joining discards its data and its queues hold "
            f"{total} message(s) ({sample}). Drain or move them first, or set allow_reset "
            "(rabbitmq_cluster_allow_reset: true) to discard them."), **result)

    result["seed"] = seed
    result["discarded_messages"] = held
    act("rabbitmqctl", ["stop_app"])
    if node in seed_view.members:
        # The peers still list this node from before a wipe/force_reset: RabbitMQ would refuse the join
        # as inconsistent_cluster. Remove the stale entry from a running member first.
        act("rabbitmqctl", ["forget_cluster_node", node], seed)
    act("rabbitmqctl", ["join_cluster", seed])
    act("rabbitmqctl", ["start_app"])
    if module.params["grow_quorum_queues"]:
        act("rabbitmq-queues", ["grow", node, "all"])

    planned = sorted(set(seed_view.members) | {node})
    if not module.check_mode:
        after = cli.view()
        if node not in after.running_nodes or seed not in after.members:
            module.fail_json(msg=f"{node} ran the join but {seed} is not among its running members: "
                                 f"{', '.join(after.running_nodes)}", **result)
        planned = after.members
    result.update(changed=True, members=planned, msg=f"joined {node} to the cluster: {reason}")
    if module._diff:
        result["diff"] = dict(before="members: " + ", ".join(local_members) + "\n",
                              after="members: " + ", ".join(planned) + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
