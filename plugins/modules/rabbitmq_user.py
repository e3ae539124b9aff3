#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rabbitmq_user
short_description: Keep a RabbitMQ user, its password, tags and permissions in the wanted state, with check mode
description:
  - Reads the user with C(rabbitmqctl list_users) and C(list_user_permissions) (JSON), checks the password with
    C(authenticate_user), and changes only what differs.
  - Exists because M(community.rabbitmq.rabbitmq_user) cannot run in check mode (C(supports_check_mode=False)), so
    a drift check would skip it without a word. Options follow that module's names.
  - The password reaches C(rabbitmqctl) on its standard input, never on its command line, where every
    local user could read it in the process list.
  - O(permissions) is the whole set of the user's permissions; those on other virtual hosts are cleared. An entry
    that grants nothing (C(^$) for all three) is the same as no entry.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  user:
    description: Name of the user.
    type: str
    required: true
    aliases: [name]
  password:
    description: Password of the user. Required to create one.
    type: str
  update_password:
    description: C(always) sets the password when authentication with it fails; C(on_create) only on creation.
    type: str
    choices: [always, on_create]
    default: on_create
  tags:
    description: The user's tags (for example C(administrator), C(monitoring)), comma-separated.
    type: str
    default: ""
  permissions:
    description: Permissions per virtual host.
    type: list
    elements: dict
    default: []
    suboptions:
      vhost:
        description: Virtual host.
        type: str
        required: true
      configure_priv:
        description: Regular expression of the resources the user may configure.
        type: str
        default: ^$
      write_priv:
        description: Regular expression of the resources the user may write to.
        type: str
        default: ^$
      read_priv:
        description: Regular expression of the resources the user may read from.
        type: str
        default: ^$
  node:
    description: Node to ask, for example C(rabbit@data1); the local node when omitted.
    type: str
  state:
    description: Whether the user exists.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - RabbitMQ CLI tools on the target (run with C(become)).
notes:
  - The password is passed to C(rabbitmqctl) on its command line, as M(community.rabbitmq.rabbitmq_user) does.
attributes:
  check_mode:
    description: Reports what would change (the password included) without changing it.
    support: full
  diff_mode:
    description: Shows tags and permissions before and after; of the password only whether it changes.
    support: full
"""

EXAMPLES = r"""
- name: The application's user, limited to its queues
  cloudphone.infra.rabbitmq_user:
    user: app
    password: "{{ rabbitmq_app_password }}"
    update_password: always
    permissions:
      - {vhost: cloudphone, configure_priv: '^cloudphone\..*', write_priv: '^cloudphone\..*', read_priv: '^cloudphone\..*'}
  become: true
  no_log: true
"""

RETURN = r"""
user:
  description: The user's tags and permissions after the run (what they would be, in check mode).
  returned: always
  type: dict
  sample: {"tags": ["administrator"], "permissions": {"/": {"configure": ".*", "write": ".*", "read": ".*"}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.rabbitmq import CtlError, RabbitCLI

NOTHING = ("^$", "^$", "^$")
# Commands that read the password from standard input when it is left off the command line.
PASSWORD_ON_STDIN = ("add_user", "change_password", "authenticate_user")


def wanted_permissions(entries):
    perms = {}
    for e in entries:
        rights = (e["configure_priv"], e["write_priv"], e["read_priv"])
        if rights != NOTHING:
            perms[e["vhost"]] = rights
    return perms


def current_user(cli, user, node):
    row = next((u for u in cli.json("rabbitmqctl", ["list_users"], node) if u.get("user") == user), None)
    if row is None:
        return None
    rows = cli.json("rabbitmqctl", ["list_user_permissions", user], node)
    perms = {r["vhost"]: (r["configure"], r["write"], r["read"]) for r in rows
             if (r["configure"], r["write"], r["read"]) != NOTHING}
    return {"tags": sorted(row.get("tags") or []), "permissions": perms}


def shown(state):
    if state is None:
        return "absent\n"
    lines = [f"tags: {','.join(state['tags'])}"]
    lines += [f"permissions {v}: configure={c} write={w} read={r}" for v, (c, w, r) in sorted(state["permissions"].items())]
    return "\n".join(lines) + "\n"


def plan(before, wanted, password_ok):
    """The rabbitmqctl calls (without the node) that turn `before` into `wanted`; the commands of
    PASSWORD_ON_STDIN get the password on standard input."""
    user = wanted["user"]
    if wanted["state"] == "absent":
        return [["delete_user", user]] if before is not None else []
    calls = []
    if before is None:
        calls.append(["add_user", user])
        before = {"tags": [], "permissions": {}}
    elif password_ok is False:
        calls.append(["change_password", user])
    if before["tags"] != wanted["tags"]:
        calls.append(["set_user_tags", user] + wanted["tags"])
    for vhost in sorted(set(before["permissions"]) - set(wanted["permissions"])):
        calls.append(["clear_permissions", "-p", vhost, user])
    for vhost, rights in sorted(wanted["permissions"].items()):
        if before["permissions"].get(vhost) != rights:
            calls.append(["set_permissions", "-p", vhost, user] + list(rights))
    return calls


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type="str", required=True, aliases=["name"]),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            tags=dict(type="str", default=""),
            permissions=dict(type="list", elements="dict", default=[], options=dict(
                vhost=dict(type="str", required=True),
                configure_priv=dict(type="str", default="^$"),
                write_priv=dict(type="str", default="^$"),
                read_priv=dict(type="str", default="^$"),
            )),
            node=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    cli = RabbitCLI(module)
    wanted = {"user": p["user"], "state": p["state"], "password": p["password"],
              "tags": sorted({t.strip() for t in p["tags"].split(",") if t.strip()}),
              "permissions": wanted_permissions(p["permissions"])}
    try:
        before = current_user(cli, p["user"], p["node"])
    except CtlError as exc:
        module.fail_json(msg=f"cannot read the RabbitMQ users: {exc}")
    if before is None and p["state"] == "present" and not p["password"]:
        module.fail_json(msg=f"user {p['user']} does not exist and no password was given to create it")

    password_ok = None
    if before is not None and p["state"] == "present" and p["password"] and p["update_password"] == "always":
        cmd, rc, _out, _err = cli.run("rabbitmqctl", ["authenticate_user", p["user"]], p["node"], stdin=p["password"])
        password_ok = rc == 0
    calls = plan(before, wanted, password_ok)
    after = None if p["state"] == "absent" else {"tags": wanted["tags"], "permissions": wanted["permissions"]}
    result = dict(changed=bool(calls), user=after)
    if module._diff:
        result["diff"] = dict(before=shown(before) + ("password: differs\n" if password_ok is False else ""),
                              after=shown(after) + ("password: changed\n" if password_ok is False else ""))
    if not module.check_mode:
        for args in calls:
            try:
                cli.run_checked("rabbitmqctl", args, p["node"],
                                stdin=p["password"] if args[0] in PASSWORD_ON_STDIN else None)
            except CtlError as exc:
                module.fail_json(msg=f"cannot {args[0]} for user {p['user']}: rc {exc.rc}: {(exc.stderr or '').strip()[:300]}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
