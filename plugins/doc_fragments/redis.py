# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The master name, and how the redis_* modules log in to Redis servers and Sentinels.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - The master name the Sentinels monitor. Letters, digits, C(.), C(_) and C(-) only (commas break
        Sentinel's discovery messages, spaces and quotes its state file).
    type: str
    default: cloudphone
  login_user:
    description: ACL user for the Redis servers.
    type: str
    default: default
  login_password:
    description: Its password.
    type: str
  sentinel_login_user:
    description: ACL user for the Sentinels.
    type: str
    default: default
  sentinel_login_password:
    description: Its password.
    type: str
  tls:
    description: Connect with TLS (the servers of this collection listen only on TLS ports).
    type: bool
    default: true
  ca_file:
    description: CA certificate that signed the servers' certificates.
    type: path
  connect_timeout:
    description: Seconds to wait for a connection or a reply.
    type: float
    default: 3.0
requirements:
  - redis (the Python library; C(python3-redis) on Debian) on the host that runs the module
"""
