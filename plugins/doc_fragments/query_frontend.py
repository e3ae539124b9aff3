# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How logs_query and metrics_query log in to HAProxy's query frontends.
    DOCUMENTATION = r"""
options:
  username:
    description: Basic auth user of HAProxy's query frontend.
    type: str
  password:
    description: Password of O(username).
    type: str
  ca_file:
    description: CA that signed the server's certificate (HTTPS URLs).
    type: path
    default: /etc/cloudphone/pki/ca.crt
"""
