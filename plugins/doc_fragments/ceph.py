# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the ceph_* and rgw_* modules reach the cluster: which cluster, as which cephx client.
    DOCUMENTATION = r"""
options:
  cluster:
    description: Cluster name.
    type: str
    default: ceph
  client_name:
    description: The cephx client the module acts as.
    type: str
    default: client.admin
  keyring:
    description: Keyring of O(client_name); the cluster's default location when omitted.
    type: path
  timeout:
    description: Seconds one call of C(ceph) or C(radosgw-admin) may take (it waits for the monitors).
    type: int
    default: 30
"""
