#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done on the control node by the action plugin
# of the same name (plugins/action/assert_secrets.py).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: assert_secrets
short_description: Refuse to run when a secret is missing, short or a well-known default
description:
  - Checks, on the control node and without contacting the host, that each named variable
    holds an acceptable secret. Fails naming the variable and the command that generates it
    when the variable is undefined, refers to a vaulted value that does not exist, is empty,
    shorter than O(min_length), a well-known default (such as V(admin), V(guest),
    V(minioadmin), V(password)) or made of too few distinct characters.
  - Every role of this collection calls it from its C(validate.yml), which
    C(playbooks/preflight.yml) runs before any host is touched.
  - Never returns or prints the values.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  names:
    description: Names of the variables that hold secrets.
    type: list
    elements: str
    required: true
  min_length:
    description: Minimum length of every secret.
    type: int
    default: 16
attributes:
  check_mode:
    description: Runs the same in check mode; it only reads variables.
    support: full
  diff_mode:
    description: Nothing to show; it changes nothing.
    support: none
  action:
    description: Implemented by an action plugin on the control node.
    support: full
"""

EXAMPLES = r"""
- name: Refuse weak Redis secrets
  cloudphone.infra.assert_secrets:
    names:
      - redis_app_password
      - redis_replication_password
"""

RETURN = r"""
checked:
  description: The variable names that were checked.
  returned: always
  type: list
  elements: str
"""
