# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How every MinIO module of this collection reaches the cluster.
    DOCUMENTATION = r"""
options:
  endpoints:
    description:
      - The cluster's nodes as C(host:port). Calls go to the first node that answers and move on
        to the next one when a node is unreachable.
    type: list
    elements: str
    required: true
  access_key:
    description: Access key of an admin account (normally the root user).
    type: str
    required: true
  secret_key:
    description: Secret key of that account.
    type: str
    required: true
  ca_file:
    description: CA certificate that signed the nodes' certificates (the collection's PKI CA).
    type: path
  validate_certs:
    description: Verify the nodes' TLS certificates. Only turn this off to debug.
    type: bool
    default: true
  timeout:
    description:
      - Read timeout of one request, in seconds. The admin API can take 20 s to answer while a
        node has just died, so keep it generous.
    type: int
    default: 60
requirements:
  - the C(minio) Python library (7.2) on the control node
notes:
  - "Runs on the control node (C(delegate_to: localhost)); it talks HTTPS to the nodes."
"""
