# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the etcd modules reach the cluster (module_utils/etcd.py connection_argument_spec).
    DOCUMENTATION = r"""
options:
  endpoints:
    description: Client URLs of etcd members, tried in order until one answers.
    type: list
    elements: str
    required: true
  ca_file:
    description: CA that signed the etcd certificates.
    type: path
    required: true
  cert_file:
    description: Client certificate (etcd runs with client-cert-auth).
    type: path
  key_file:
    description: Key of O(cert_file).
    type: path
  timeout:
    description: Seconds to wait for each call.
    type: int
    default: 5
"""
