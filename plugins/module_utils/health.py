# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The health contract every `<tier>_cluster_info` module returns.

    healthy:  bool, false as soon as one problem is recorded
    problems: list of plain-language sentences an operator can act on
    topology: facts a failover may legitimately change (leader, master, ...);
              the drift check reports them as information, never as drift

Modules build a HealthReport while they inspect the live cluster and merge
`report.as_dict()` into their result. They fail the task only when they cannot
ask the cluster at all; an unhealthy cluster is a successful answer.
"""

from __future__ import annotations

import json

from ansible.module_utils.urls import open_url


class HealthReport:
    def __init__(self):
        self.problems = []
        self.topology = {}

    def problem(self, sentence):
        """Record a problem; duplicates are dropped so one fault reads once."""
        if sentence not in self.problems:
            self.problems.append(sentence)

    def require(self, condition, sentence):
        """Record `sentence` as a problem unless `condition` holds. Returns the condition."""
        if not condition:
            self.problem(sentence)
        return bool(condition)

    def expect_members(self, what, expected, present):
        """Compare the members the inventory expects with those the cluster reports."""
        missing = sorted(set(expected) - set(present))
        unknown = sorted(set(present) - set(expected))
        if missing:
            self.problem(f"{what}: {', '.join(missing)} expected by the inventory but not in the cluster")
        if unknown:
            self.problem(f"{what}: {', '.join(unknown)} in the cluster but not in the inventory")
        return not missing and not unknown

    @property
    def healthy(self):
        return not self.problems

    def as_dict(self):
        return {"healthy": self.healthy, "problems": list(self.problems), "topology": dict(self.topology)}


def get_json(url, ca_file=None, timeout=5, username=None, password=None, headers=None, method="GET", data=None,
             client_cert=None, client_key=None):
    """GET (or POST) a JSON document over HTTP(S), verifying the server against `ca_file`.

    `client_cert`/`client_key` present a client certificate to servers that ask for one
    (etcd with client-cert-auth, Patroni's unsafe REST calls).
    Returns (status, document). HTTP error statuses are returned, not raised, because
    health endpoints answer 503 on purpose; network errors raise.
    """
    from ansible.module_utils.six.moves.urllib.error import HTTPError

    try:
        resp = open_url(url, method=method, data=data, headers=headers, timeout=timeout, ca_path=ca_file,
                        validate_certs=True, url_username=username, url_password=password,
                        force_basic_auth=username is not None,
                        client_cert=client_cert, client_key=client_key)
        status, body = resp.getcode(), resp.read()
    except HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, body.decode("utf-8", "replace")
