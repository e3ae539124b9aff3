#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rabbitmq_vhost_metadata
short_description: Set a RabbitMQ virtual host's default queue type, description and tags
description:
  - Sets the metadata of an existing virtual host with C(rabbitmqctl update_vhost_metadata), after
    reading the current values from C(rabbitmqctl list_vhosts --formatter json).
  - Only the options given are managed; the others are left as they are.
  - Complements M(community.rabbitmq.rabbitmq_vhost), which creates the virtual host but cannot set
    its default queue type. With C(default_queue_type=quorum), queues declared without an
    C(x-queue-type) argument become quorum queues.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  name:
    description: Name of the virtual host; it must exist.
    type: str
    required: true
  default_queue_type:
    description: Queue type for declarations that do not name one.
    type: str
    choices: [classic, quorum, stream]
  description:
    description: Free-text description.
    type: str
  tags:
    description: Tags of the virtual host.
    type: list
    elements: str
  node:
    description: Node to ask, for example C(rabbit@data1); the local node when omitted.
    type: str
requirements:
  - RabbitMQ CLI tools on the target, RabbitMQ 3.11 or later for C(update_vhost_metadata); run with C(become).
attributes:
  check_mode:
    description: Reports whether the metadata would change, without changing it.
    support: full
  diff_mode:
    description: Shows the default queue type, description and tags before and after.
    support: full
"""

EXAMPLES = r"""
- name: Make quorum the default queue type of the platform's virtual host
  cloudphone.infra.rabbitmq_vhost_metadata:
    name: cloudphone
    default_queue_type: quorum
  become: true
"""

RETURN = r"""
metadata:
  description: The virtual host's metadata after the change (what it would be, in check mode).
  returned: success
  type: dict
  sample: {"default_queue_type": "quorum", "description": "platform", "tags": []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.rabbitmq import CtlError, RabbitCLI

FIELDS = ("default_queue_type", "description", "tags")


def current_metadata(cli, name, node):
    rows = cli.json("rabbitmqctl", ["list_vhosts", "name"] + list(FIELDS), node)
    for row in rows:
        if row.get("name") == name:
            qtype = row.get("default_queue_type")
            return {"default_queue_type": None if qtype in (None, "undefined") else qtype,
                    "description": row.get("description") or "",
                    "tags": sorted(row.get("tags") or [])}
    return None


def update_args(name, wanted):
    args = ["update_vhost_metadata", name]
    if "default_queue_type" in wanted:
        args += ["--default-queue-type", wanted["default_queue_type"]]
    if "description" in wanted:
        args += ["--description", wanted["description"]]
    if "tags" in wanted:
        args += ["--tags", ",".join(wanted["tags"])]
    return args


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            default_queue_type=dict(type="str", choices=["classic", "quorum", "stream"]),
            description=dict(type="str"),
            tags=dict(type="list", elements="str"),
            node=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    name, node = module.params["name"], module.params["node"]
    cli = RabbitCLI(module)
    try:
        before = current_metadata(cli, name, node)
    except CtlError as exc:
        module.fail_json(msg=f"cannot read the virtual hosts: {exc}")
    if before is None:
        module.fail_json(msg=f"virtual host {name} does not exist: create it first (community.rabbitmq.rabbitmq_vhost)")

    wanted = {f: module.params[f] for f in FIELDS if module.params[f] is not None}
    if "tags" in wanted:
        wanted["tags"] = sorted(set(wanted["tags"]))
    after = dict(before, **wanted)
    changed = after != before
    if changed and not module.check_mode:
        try:
            cli.run_checked("rabbitmqctl", update_args(name, wanted), node)
        except CtlError as exc:
            module.fail_json(msg=f"cannot update virtual host {name}: {exc}")
    result = dict(changed=changed, metadata=after)
    if module._diff:
        result["diff"] = dict(before=format_metadata(before), after=format_metadata(after))
    module.exit_json(**result)


def format_metadata(meta):
    return "".join(f"{k}: {meta[k]}\n" for k in FIELDS)


if __name__ == "__main__":
    main()
