# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the Patroni modules reach the REST API (module_utils/patroni.py api_argument_spec).
    DOCUMENTATION = r"""
options:
  api_urls:
    description:
      - Base URLs of the members' REST APIs, for example C(https://data1.lab.cloudphone.test:8008).
      - They are tried in order until one answers; give all members so a dead one does not matter.
    type: list
    elements: str
    required: true
  ca_file:
    description: CA bundle that signed the REST API certificates.
    type: path
  timeout:
    description: Seconds to wait for each REST call.
    type: int
    default: 5
"""

    # Credentials of the modules that change the cluster (module_utils/patroni.py write_argument_spec).
    WRITE = r"""
options:
  client_cert:
    description: Client certificate for the write (Patroni's C(verify_client) asks for one).
    type: path
  client_key:
    description: Key of O(client_cert).
    type: path
  username:
    description: REST API user for writes.
    type: str
    default: patroni
  password:
    description: REST API password for writes.
    type: str
"""
