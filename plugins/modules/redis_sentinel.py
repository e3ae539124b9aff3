#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_sentinel
short_description: Make a Sentinel monitor a Redis master with the given quorum and settings
description:
  - Talks to one running Sentinel (O(sentinel)).
  - With O(state=present), makes sure it monitors O(name), authenticated with O(auth_user) /
    O(auth_pass), with the given quorum, C(down-after-milliseconds), C(failover-timeout) and
    C(parallel-syncs). Settings are changed in place with C(SENTINEL SET); the monitor is never
    removed and re-added to change them.
  - A new monitor points at the current master, which is the one the Sentinels in O(sentinels) report
    (highest config epoch), else the Redis server in O(redis_nodes) that is master with replicas,
    else O(initial_master). The master address of an existing monitor is never touched, because
    Sentinel moves it on every failover.
  - With O(state=absent), removes the monitor (C(SENTINEL REMOVE)).
  - C(SENTINEL MASTER) does not show C(auth-user)/C(auth-pass); the module compares them with what
    Sentinel last flushed to its own state file (O(state_file)), which it rewrites on every change.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.redis
options:
  sentinel:
    description: The Sentinel to configure, C(host) or C(host:port) (port 26379 by default).
    type: str
    required: true
  state:
    description: Whether the monitor should exist.
    type: str
    choices: [present, absent]
    default: present
  sentinels:
    description: The Sentinels of the group (C(host) or C(host:port)), asked for the current master before a new monitor is added.
    type: list
    elements: str
    default: []
  redis_nodes:
    description: The Redis servers of the group, asked when no Sentinel knows O(name).
    type: list
    elements: str
    default: []
  initial_master:
    description: The master of a brand-new group (C(host) or C(host:port)); required with O(state=present).
    type: str
  quorum:
    description: Sentinels that must agree the master is down before a failover starts.
    type: int
    default: 2
  down_after_ms:
    description: C(down-after-milliseconds).
    type: int
    default: 5000
  failover_timeout_ms:
    description: C(failover-timeout).
    type: int
    default: 10000
  parallel_syncs:
    description: C(parallel-syncs), replicas reconfigured at the same time after a failover.
    type: int
    default: 1
  auth_user:
    description: The ACL user Sentinel logs in with on the Redis servers.
    type: str
  auth_pass:
    description: Its password.
    type: str
  state_file:
    description: Sentinel's own configuration file (the one it rewrites), read to compare O(auth_user)/O(auth_pass).
    type: path
    default: /etc/redis/sentinel.conf
attributes:
  check_mode:
    description:
      - Reports the SENTINEL MONITOR/SET/REMOVE it would send without sending them.
      - When Sentinel does not answer, compares with its state file (O(state_file)), which it loads when
        it starts.
    support: full
  diff_mode:
    description: Shows the monitor's settings before and after (never the password).
    support: full
"""

EXAMPLES = r"""
- name: Monitor the Redis master
  cloudphone.infra.redis_sentinel:
    sentinel: "{{ inventory_hostname | cloudphone.infra.host_address }}"
    name: cloudphone
    sentinels: "{{ redis_sentinel_addresses }}"
    redis_nodes: "{{ redis_addresses }}"
    initial_master: "{{ redis_addresses[0] }}"
    quorum: 2
    down_after_ms: 5000
    failover_timeout_ms: 10000
    auth_user: sentinel
    auth_pass: "{{ redis_sentinel_password }}"
    sentinel_login_password: "{{ redis_default_password }}"
    ca_file: /etc/cloudphone/pki/ca.crt
  no_log: true

- name: Stop monitoring an old master name
  cloudphone.infra.redis_sentinel:
    sentinel: 198.18.41.11
    name: legacy
    state: absent
    sentinel_login_password: "{{ redis_default_password }}"
    ca_file: /etc/cloudphone/pki/ca.crt
"""

RETURN = r"""
changes:
  description: The settings that were (or, in check mode, would be) changed, without secrets.
  returned: always
  type: dict
  sample: {"down-after-milliseconds": 5000}
master:
  description: The master the monitor points at, C(host:port).
  returned: when state=present
  type: str
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import redis_client as rc

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def usable_master_name(name):
    """Commas break Sentinel's hello messages, spaces and quotes its state file."""
    return bool(name) and not set(name) - NAME_CHARS


# What Sentinel assumes for a setting it does not write to its state file.
SENTINEL_DEFAULTS = {"down-after-milliseconds": 30000, "failover-timeout": 180000, "parallel-syncs": 1}


def flushed_state(path, name):
    """The monitor `name` as Sentinel last wrote it into its state file (which it loads when it starts):
    ip, port and quorum, its settings (Sentinel's defaults for those it leaves out), auth-user and
    auth-pass. None when the file has no monitor for `name`."""
    if not os.path.exists(path):
        return None
    state = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.lstrip().startswith("#"):
                continue
            try:
                words = shlex.split(line)
            except ValueError:
                continue
            if len(words) < 4 or words[0] != "sentinel" or words[2] != name:
                continue
            if words[1] == "monitor" and len(words) == 6:
                state.update(ip=words[3], port=int(words[4]), quorum=int(words[5]))
            elif words[1] in SENTINEL_DEFAULTS and len(words) == 4 and words[3].isdigit():
                state[words[1]] = int(words[3])
            elif words[1] in ("auth-user", "auth-pass") and len(words) == 4:
                state[words[1]] = words[3]
    if "ip" not in state:
        return None
    return dict(SENTINEL_DEFAULTS, **state)


def flushed_auth(path, name):
    """(auth-user, auth-pass) Sentinel last wrote for `name` into its state file; (None, None) if absent."""
    state = flushed_state(path, name) or {}
    return state.get("auth-user"), state.get("auth-pass")


def main():
    argument_spec = dict(
        sentinel=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        sentinels=dict(type="list", elements="str", default=[]),
        redis_nodes=dict(type="list", elements="str", default=[]),
        initial_master=dict(type="str"),
        quorum=dict(type="int", default=2),
        down_after_ms=dict(type="int", default=5000),
        failover_timeout_ms=dict(type="int", default=10000),
        parallel_syncs=dict(type="int", default=1),
        auth_user=dict(type="str"),
        auth_pass=dict(type="str", no_log=True),
        state_file=dict(type="path", default="/etc/redis/sentinel.conf"),
    )
    argument_spec.update(rc.common_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=[("auth_user", "auth_pass")],
                           required_if=[("state", "present", ["initial_master"])])
    rc.require_redis(module)
    p = module.params
    if not usable_master_name(p["name"]):
        module.fail_json(msg=f"master name {p['name']!r} is not usable by Sentinel: use letters, digits, '.', '_' "
                             "and '-' only (commas break Sentinel discovery, spaces break its state file)")

    host, port = rc.parse_endpoint(p["sentinel"], rc.DEFAULT_SENTINEL_PORT)
    client = rc.connect(module, host, port, sentinel=True)
    try:
        current = rc.sentinel_master(client, p["name"])
    except (rc.RedisError, OSError) as exc:
        # Check mode (the drift check) on a stopped Sentinel: compare with the state file it will load
        # when it starts; starting it is the service task's change.
        current = flushed_state(p["state_file"], p["name"]) if module.check_mode else None
        if current is None:
            module.fail_json(msg=f"cannot ask Sentinel {p['sentinel']} about {p['name']!r}: {exc}. Start it "
                                 "(systemctl start redis-sentinel) and check its address and certificate.")
        module.warn(f"Sentinel {p['sentinel']} does not answer ({exc}); compared with its state file "
                    f"{p['state_file']}, which it loads when it starts")

    result = dict(changed=False, changes={})
    if p["state"] == "absent":
        if current is not None:
            result["changed"] = True
            if module._diff:
                result["diff"] = dict(before=f"monitor {p['name']}\n", after="")
            if not module.check_mode:
                client.execute_command("SENTINEL", "REMOVE", p["name"])
        module.exit_json(**result)

    commands = []
    if current is None:
        others = [e for e in p["sentinels"]
                  if not (rc.same_host(rc.parse_endpoint(e, rc.DEFAULT_SENTINEL_PORT)[0], host)
                          and rc.parse_endpoint(e, rc.DEFAULT_SENTINEL_PORT)[1] == port)]
        master_host, master_port, result["source"] = rc.locate_master(module, p["name"], others, p["redis_nodes"],
                                                                      p["initial_master"])
        commands.append(["MONITOR", p["name"], master_host, str(master_port), str(p["quorum"])])
        result["changes"]["monitor"] = rc.endpoint_text(master_host, master_port)
        live = {"quorum": p["quorum"]}
    else:
        master_host, master_port = current["ip"], int(current["port"])
        live = current

    wanted = {"quorum": p["quorum"], "down-after-milliseconds": p["down_after_ms"],
              "failover-timeout": p["failover_timeout_ms"], "parallel-syncs": p["parallel_syncs"]}
    settings = []
    for key, value in wanted.items():
        if live.get(key) != value:
            settings += [key, str(value)]
            result["changes"][key] = value
    if p["auth_user"] is not None:
        flushed_user, flushed_pass = (None, None) if current is None else flushed_auth(p["state_file"], p["name"])
        if flushed_user != p["auth_user"]:
            settings += ["auth-user", p["auth_user"]]
            result["changes"]["auth-user"] = p["auth_user"]
        if flushed_pass != p["auth_pass"]:
            settings += ["auth-pass", p["auth_pass"]]
            result["changes"]["auth-pass"] = "(changed)"
    if settings:
        commands.append(["SET", p["name"]] + settings)

    result["master"] = rc.endpoint_text(master_host, master_port)
    if commands:
        result["changed"] = True
        if module._diff:
            before = {k: live.get(k) for k in wanted} if current is not None else {}
            after = dict(before, **{k: v for k, v in result["changes"].items() if k != "auth-pass"})
            result["diff"] = dict(before="".join(f"{k} {v}\n" for k, v in sorted(before.items())),
                                  after="".join(f"{k} {v}\n" for k, v in sorted(after.items())))
        if not module.check_mode:
            for command in commands:
                try:
                    client.execute_command("SENTINEL", *command)
                except (rc.RedisError, OSError) as exc:
                    module.fail_json(msg=f"SENTINEL {command[0]} {p['name']} on {p['sentinel']} failed: {exc}",
                                     **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
