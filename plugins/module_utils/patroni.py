# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Patroni's REST API and the PostgreSQL tier's reading of it.

`PatroniAPI` talks to the members over HTTPS (reads need only the CA; writes need
the REST API's basic auth and a client certificate, because the role sets
`verify_client: optional`). `assess()` turns what the members say into the
health contract of module_utils/health.py. It is pure so the unit tests can
feed it recorded answers.
"""

from __future__ import annotations

import json
import re

from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport, get_json

# Roles Patroni reports in /cluster for the lock holder and for replicas.
LEADER_ROLES = ("leader", "standby_leader")
REPLICA_ROLES = ("replica", "sync_standby", "quorum_standby")
# Roles a member reports for itself in /patroni when it runs read-write.
PRIMARY_SELF_ROLES = ("primary", "master")

_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgGtT]?)[bB]?\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def parse_size(value):
    """Bytes from an int or a PostgreSQL-style size ('16MB', '512kB', '1GB')."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use bytes or a number with kB, MB, GB)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def human_size(value):
    for unit, factor in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if value >= factor:
            return f"{value / factor:.1f}".rstrip("0").rstrip(".") + unit
    return f"{value}B"


class PatroniError(Exception):
    pass


def api_argument_spec(**extra):
    """Options every Patroni module takes to reach the REST API (doc fragment cloudphone.infra.patroni)."""
    return dict(
        api_urls=dict(type="list", elements="str", required=True),
        ca_file=dict(type="path"),
        timeout=dict(type="int", default=5),
        **extra,
    )


# Options of the modules that change the cluster (doc fragment cloudphone.infra.patroni.write).
WRITE_REQUIRED_TOGETHER = [("client_cert", "client_key")]
WRITE_REFUSED_HINT = "A 401 means a wrong patroni_restapi_password, a 403 a missing client certificate."


def write_argument_spec(**extra):
    return api_argument_spec(
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        username=dict(type="str", default="patroni"),
        password=dict(type="str", no_log=True),
        **extra,
    )


def write_api(params):
    """The REST client of a module built on write_argument_spec."""
    return PatroniAPI(params["api_urls"], ca_file=params["ca_file"], client_cert=params["client_cert"],
                      client_key=params["client_key"], username=params["username"], password=params["password"],
                      timeout=params["timeout"])


class PatroniAPI:
    """A small client for the members' REST APIs."""

    def __init__(self, urls, ca_file=None, client_cert=None, client_key=None, username=None, password=None,
                 timeout=5):
        self.urls = [u.rstrip("/") for u in urls]
        self.ca_file = ca_file
        self.client_cert, self.client_key = client_cert, client_key
        self.username, self.password = username, password
        self.timeout = timeout

    def request(self, base, path, method="GET", body=None, timeout=None):
        """Return (status, document) of one call to one member. Network errors raise."""
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        write = method != "GET"
        return get_json(base.rstrip("/") + path, ca_file=self.ca_file, timeout=timeout or self.timeout,
                        method=method, data=data, headers=headers,
                        username=self.username if write else None, password=self.password if write else None,
                        client_cert=self.client_cert if write else None,
                        client_key=self.client_key if write else None)

    def first(self, path, method="GET", body=None):
        """Ask the members in turn until one answers; return (url, status, document)."""
        errors = []
        for url in self.urls:
            try:
                status, doc = self.request(url, path, method, body)
                return url, status, doc
            except Exception as exc:  # an unreachable member is normal during a failover: try the next
                errors.append(f"{url}: {exc}")
        raise PatroniError("no Patroni REST API answered (" + "; ".join(errors) + ")")

    def cluster(self):
        url, status, doc = self.first("/cluster")
        if status != 200 or not isinstance(doc, dict):
            raise PatroniError(f"{url}/cluster answered {status}: {doc}")
        return doc

    def config(self):
        url, status, doc = self.first("/config")
        if status != 200 or not isinstance(doc, dict):
            raise PatroniError(f"{url}/config answered {status}: {doc}")
        return doc

    def member_status(self, api_url):
        """A member's own view (/patroni), or None when it does not answer."""
        base = api_url[: -len("/patroni")] if api_url.endswith("/patroni") else api_url
        try:
            status, doc = self.request(base, "/patroni", timeout=min(self.timeout, 3))
        except Exception:
            return None
        return doc if isinstance(doc, dict) else None


def assess(cluster, statuses, expected_members=(), max_lag_bytes=16 * 1024 ** 2, synchronous_mode=False,
           allow_pending_restart=False):
    """Judge the cluster. Returns (HealthReport, details dict).

    cluster:  the /cluster document (the DCS view: lock holder, roles, lag)
    statuses: {member name: its /patroni document, or None when its API did not answer}
    allow_pending_restart: do not count a member that waits for a restart as a problem (for the
              health waits inside a rolling restart, which restarts those members next)
    """
    report = HealthReport()
    members = cluster.get("members") or []
    leaders = [m for m in members if m.get("role") in LEADER_ROLES]
    leader = leaders[0] if leaders else None
    leader_name = leader["name"] if leader else None

    # A member that runs read-write without holding the lock is a split brain, whatever the DCS says.
    primaries = sorted(name for name, st in statuses.items()
                       if st and st.get("role") in PRIMARY_SELF_ROLES and st.get("state") == "running")

    if not leader:
        report.problem("no leader: no member holds the Patroni leader lock, so nothing accepts writes; "
                       "look at `patronictl list` and the Patroni journal of every member")
    elif leader.get("state") != "running":
        report.problem(f"the leader {leader_name} is {leader.get('state')}, not running: writes fail until it "
                       "recovers or Patroni elects another leader")
    if len(leaders) > 1 or len(primaries) > 1:
        both = sorted({m["name"] for m in leaders} | set(primaries))
        report.problem(f"more than one leader: {', '.join(both)} act as primary (split brain); stop PostgreSQL on "
                       "every one that does not hold the Patroni leader lock")
    elif primaries and leader_name and primaries[0] != leader_name:
        report.problem(f"{primaries[0]} runs as primary without the leader lock, which {leader_name} holds: stop it")

    for name, st in sorted(statuses.items()):
        if st is None:
            report.problem(f"the Patroni REST API of {name} does not answer: is patroni.service running there?")

    leader_tl = leader.get("timeline") if leader else None
    sync = []
    details_members = []
    for m in members:
        name, role, state = m.get("name"), m.get("role"), m.get("state")
        lag = m.get("lag")
        st = statuses.get(name) or {}
        pending_restart = bool(m.get("pending_restart") or st.get("pending_restart"))
        details_members.append({
            "name": name, "role": role, "state": state, "host": m.get("host"), "port": m.get("port"),
            "api_url": m.get("api_url"), "timeline": m.get("timeline"), "lag": lag,
            "pending_restart": pending_restart,
            "tags": m.get("tags") or {},
        })
        # Whatever its role: a member left waiting runs with other settings than the configured ones.
        if pending_restart and not allow_pending_restart:
            report.problem(f"{name} waits for a restart to apply changed PostgreSQL settings (pending_restart): "
                           "converge again, which restarts it through Patroni, or restart it with `patronictl restart`")
        if role not in REPLICA_ROLES:
            continue
        if role == "sync_standby":
            sync.append(name)
        if state != "streaming":
            report.problem(f"{name} is a replica but not streaming from the leader (state: {state}); "
                           "read its Patroni journal: replication credentials, pg_hba or a diverged timeline")
            continue
        if leader_tl is not None and m.get("timeline") not in (None, leader_tl):
            report.problem(f"{name} is on timeline {m.get('timeline')} while the leader is on {leader_tl}")
        if not isinstance(lag, int):
            report.problem(f"the replication lag of {name} is unknown ({lag})")
        elif lag > max_lag_bytes:
            report.problem(f"{name} lags {human_size(lag)} behind the leader (limit {human_size(max_lag_bytes)})")

    if synchronous_mode and not sync:
        report.problem("synchronous mode is on but no replica is a synchronous standby: "
                       "a failover now could lose acknowledged commits")

    present = [m.get("name") for m in members]
    if expected_members:
        report.expect_members("patroni", expected_members, present)

    report.topology["leader"] = leader_name
    report.topology["sync_standby"] = sorted(sync)
    details = {
        "leader": leader_name,
        "members": details_members,
        "sync_standby": sorted(sync),
        "replicas": sorted(m["name"] for m in details_members if m["role"] in REPLICA_ROLES),
        "timeline": leader_tl,
        "pending_restart": sorted(m["name"] for m in details_members if m["pending_restart"]),
    }
    return report, details


def _norm(value):
    """Compare settings the way PostgreSQL reads them: on/true, 200/'200' are the same."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        low = value.strip().lower()
        return {"true": "on", "yes": "on", "false": "off", "no": "off"}.get(low, value.strip())
    return value


def config_changes(current, desired):
    """The part of `desired` that differs from `current` (a JSON merge patch), or {} when nothing does."""
    patch = {}
    for key, want in desired.items():
        have = current.get(key) if isinstance(current, dict) else None
        if isinstance(want, dict):
            sub = config_changes(have if isinstance(have, dict) else {}, want)
            if sub:
                patch[key] = sub
        elif want is None:
            if have is not None:
                patch[key] = None
        elif have is None or _norm(have) != _norm(want):
            patch[key] = want
    return patch


def timing_problem(ttl, loop_wait, retry_timeout):
    """Patroni's own rules for the three timers; None when they hold. Patroni silently rewrites bad values."""
    if ttl < 20:
        return f"ttl is {ttl}; Patroni's minimum is 20 (it would silently use 20)"
    if loop_wait < 1:
        return f"loop_wait is {loop_wait}; Patroni's minimum is 1"
    if retry_timeout < 3:
        return f"retry_timeout is {retry_timeout}; Patroni's minimum is 3"
    if loop_wait + 2 * retry_timeout > ttl:
        return (f"loop_wait + 2*retry_timeout must be <= ttl, but {loop_wait} + 2*{retry_timeout} = "
                f"{loop_wait + 2 * retry_timeout} > {ttl}")
    return None
