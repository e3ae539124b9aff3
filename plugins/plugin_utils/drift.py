# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The drift report: what a check-mode run of drift-check.yml found, and its verdict.

The callback plugin `cloudphone.infra.drift_report` feeds a DriftReport with task
results; everything that decides what is drift, what is a health problem, what a
resource is called and what must never be written (secrets) lives here, so it can
be tested without running Ansible.

Verdict and exit code, in order of precedence:

    3  a tier is unhealthy (with or without drift, even when part of the check failed:
       a problem a health check found is certain, and the most urgent news)
    1  the check itself failed (a host unreachable, a task failed): drift is unknown
    2  drift: a task would change something, every tier healthy
    0  no drift, every tier healthy

Topology (leader, master, ...) is information: it is reported, compared with the
previous report, and never counts as drift.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import xml.etree.ElementTree as ET

SCHEMA_VERSION = 1
CONTENT_DIFFERS = "content differs"
REDACTED = "********"
# Secret values shorter than this are not searched for: they would match ordinary text.
MIN_SECRET_LENGTH = 8
EXIT_OK, EXIT_ERROR, EXIT_DRIFT, EXIT_UNHEALTHY = 0, 1, 2, 3
VERDICTS = {
    EXIT_OK: "no drift, every tier healthy",
    EXIT_DRIFT: "drift found, every tier healthy",
    EXIT_UNHEALTHY: "a tier is unhealthy",
    EXIT_ERROR: "the check itself failed",
}
# Modules that act on a named object rather than a file: how the resource is called.
NAMED_RESOURCES = {
    "systemd_service": "service", "systemd": "service", "service": "service",
    "apt": "package", "package": "package", "pip": "python package",
    "sysctl": "sysctl", "user": "user", "group": "group", "mount": "mount",
    "apt_repository": "apt source", "deb822_repository": "apt source", "apt_key": "apt key",
    "postgresql_set": "PostgreSQL parameter", "postgresql_user": "PostgreSQL role", "postgresql_db": "PostgreSQL database",
    "postgresql_pg_hba": "pg_hba.conf", "postgresql_privs": "PostgreSQL privileges", "postgresql_ext": "PostgreSQL extension",
    "rabbitmq_user": "RabbitMQ user", "rabbitmq_vhost": "RabbitMQ vhost", "rabbitmq_policy": "RabbitMQ policy",
    "rabbitmq_plugin": "RabbitMQ plugin", "rabbitmq_queue": "RabbitMQ queue", "rabbitmq_parameter": "RabbitMQ parameter",
    "rabbitmq_exchange": "RabbitMQ exchange", "rabbitmq_binding": "RabbitMQ binding",
    "redis": "Redis setting", "redis_sentinel": "Redis Sentinel setting",
    "ceph_pool": "Ceph pool", "ceph_auth": "cephx entity", "rgw_user": "S3 user", "rgw_bucket": "S3 bucket",
}
PATH_KEYS = ("dest", "path", "file", "sysctl_file")
SKIPPED_FOR_CHECK_MODE = re.compile(r"check[ _]mode", re.I)


class Redactor:
    """Knows the secret values of the inventory and keeps them out of every report."""

    def __init__(self, secrets=(), secret_paths=()):
        values = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted(values, key=len, reverse=True)
        self.secret_paths = tuple(secret_paths)

    def leaks(self, text):
        return any(s in text for s in self.secrets)

    def redact(self, text):
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def secret_path(self, path):
        return bool(path) and any(fnmatch.fnmatch(path, pattern) for pattern in self.secret_paths)


def secret_values(variables, prefix="vault_"):
    """Every string under a variable named vault_* (the inventory's convention for secrets).

    Inline-vaulted values are not str objects until asked: str() decrypts them.
    """
    found = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif value is not None and not isinstance(value, (bool, int, float)):
            found.append(str(value))

    for name, value in variables.items():
        if isinstance(name, str) and name.startswith(prefix):
            walk(value)
    return found


def _lines(value):
    if value is None:
        return []
    if isinstance(value, (dict, list)):
        value = json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
    value = str(value)
    return value.splitlines(keepends=True) if value else []


def render_diff(diff):
    """Turn Ansible's diff structure (a dict or a list of dicts) into plain unified diff text."""
    parts = []
    for entry in diff if isinstance(diff, list) else [diff]:
        if not isinstance(entry, dict):
            continue
        if entry.get("prepared"):
            parts.append(str(entry["prepared"]).rstrip("\n") + "\n")
            continue
        if "before" not in entry and "after" not in entry:
            continue
        before, after = entry.get("before"), entry.get("after")
        if before == after:
            continue
        lines = difflib.unified_diff(_lines(before), _lines(after),
                                     fromfile=str(entry.get("before_header") or "before"),
                                     tofile=str(entry.get("after_header") or "after"))
        parts.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(parts)


def diff_paths(diff):
    """File paths named by a diff's headers (or by the path key of a file module's diff)."""
    paths = []
    for entry in diff if isinstance(diff, list) else [diff]:
        if not isinstance(entry, dict):
            continue
        for key in ("before_header", "after_header"):
            header = entry.get(key)
            if isinstance(header, str) and header.startswith("/"):
                paths.append(header)
        for key in ("before", "after"):
            side = entry.get(key)
            if isinstance(side, dict) and isinstance(side.get("path"), str):
                paths.append(side["path"])
    return list(dict.fromkeys(paths))


def has_content(diff):
    """Whether a diff shows file content (text), as opposed to attributes only (mode, owner, state)."""
    for entry in diff if isinstance(diff, list) else [diff]:
        if isinstance(entry, dict) and (entry.get("prepared") or any(
                isinstance(entry.get(side), str) for side in ("before", "after"))):
            return True
    return False


def patroni_settings(changes, prefix=""):
    """The settings a Patroni configuration patch changes: PostgreSQL parameters by name, the rest by path."""
    names = []
    for key, value in sorted(changes.items()):
        path = f"{prefix}{key}"
        if path == "postgresql.parameters" and isinstance(value, dict):
            names += [f"PostgreSQL parameter {name}" for name in sorted(value)]
        elif isinstance(value, dict) and value:
            names += patroni_settings(value, f"{path}.")
        else:
            names.append(f"Patroni setting {path}")
    return names


def describe_resource(action, args, result, item_label=None):
    """What an operator calls the thing that would change: a file, a service, a package, ..."""
    short = (action or "").rsplit(".", 1)[-1]
    args = args or {}
    result = result or {}
    kind = NAMED_RESOURCES.get(short)
    resource = None
    if short == "patroni_config" and isinstance(result.get("changes"), dict) and result["changes"]:
        resource = ", ".join(patroni_settings(result["changes"]))
    if short == "ceph_config" and isinstance(result.get("changes"), list) and result["changes"]:
        resource = "Ceph option " + ", ".join(str(c) for c in result["changes"])
    if kind and resource is None:
        name = (args.get("name") or args.get("key") or args.get("parameter") or args.get("uid") or args.get("entity")
                or result.get("name"))
        if isinstance(name, (list, tuple)):
            name = ", ".join(str(n) for n in name)
        if kind == "pg_hba.conf":
            rule = " ".join(str(args[k]) for k in ("contype", "databases", "users", "source") if args.get(k))
            resource = f"{args.get('dest') or kind} ({rule})"
        elif name:
            resource = f"{kind} {name}"
    if resource is None:
        paths = diff_paths(result.get("diff"))
        for key in PATH_KEYS:
            for source in (result, args):
                if isinstance(source.get(key), str) and source[key].startswith("/"):
                    paths.append(source[key])
        resource = paths[0] if paths else None
    if resource is None:
        name = args.get("name")
        resource = f"{short} {name}" if isinstance(name, str) and name else short or "task"
    label = item_label if isinstance(item_label, str) else None
    if label and label not in resource:
        resource = f"{resource} [{label}]"
    return resource


def describe_change(action, args, result, hidden=False, resource=""):
    """A few words on what would happen, for the summary line. Never includes file content."""
    short = (action or "").rsplit(".", 1)[-1]
    args, result = args or {}, result or {}
    if short in ("systemd_service", "systemd", "service"):
        # The unit's state before the run (systemd's own words) tells which half would change.
        status = result.get("status") if isinstance(result.get("status"), dict) else {}
        words = []
        if args.get("state") and not (args["state"] == "started" and status.get("ActiveState") == "active"):
            words.append(f"would be {args['state']}" + (f" (it is {status['ActiveState']})" if status.get("ActiveState") else ""))
        if "enabled" in args and status.get("UnitFileState") != ("enabled" if args["enabled"] else "disabled"):
            words.append("would be " + ("enabled" if args["enabled"] else "disabled"))
        return " and ".join(words) or "would change"
    if short in ("apt", "package", "pip"):
        return f"would be {args.get('state') or 'installed'}"
    if hidden:
        return CONTENT_DIFFERS if resource.startswith("/") else "would change (details hidden by no_log)"
    words = []
    for entry in result.get("diff") if isinstance(result.get("diff"), list) else [result.get("diff")]:
        if not isinstance(entry, dict):
            continue
        before, after = entry.get("before"), entry.get("after")
        if isinstance(before, dict) and isinstance(after, dict):
            # File attributes (state, mode, owner, ...): safe to name, and what the operator wants to see.
            words += [f"{k} {before.get(k)} -> {after.get(k)}" for k in sorted(set(before) | set(after))
                      if k != "path" and before.get(k) != after.get(k)]
        elif before != after and (before is not None or after is not None or entry.get("prepared")):
            words.append(CONTENT_DIFFERS)
        elif entry.get("prepared"):
            words.append(CONTENT_DIFFERS)
    if words:
        return ", ".join(dict.fromkeys(words))
    if args.get("state") == "absent":
        return "would be removed"
    return "would change"


class DriftReport:
    """Collects one drift-check run and renders the JSON report, the JUnit XML and the summary."""

    def __init__(self, started, redactor=None):
        self.started = started
        self.finished = None
        self.redactor = redactor or Redactor()
        self.drift = []
        self.consequences = []
        self.health = []
        self.errors = []
        self.unchecked = []
        self.cases = {}
        self.meta = {}

    # ------------------------------------------------------------ collecting

    def _case(self, suite, host, role, task, status, message=None):
        """One JUnit test case per (suite, host, role and task); a later, worse status wins."""
        key = (suite, host, f"{role} : {task}" if role else task)
        rank = {"passed": 0, "skipped": 1, "failure": 2, "error": 3}
        old = self.cases.get(key)
        if old is None or rank[status] > rank[old[0]]:
            self.cases[key] = (status, message)

    def task_passed(self, tier, host, role, task):
        self._case(f"drift.{tier}", host, role, task, "passed")

    def add_change(self, tier, host, role, task, action, args, result, item_label=None, hidden=False,
                   consequence=False):
        """A task that would change something. `hidden`: its output is no_log, so no diff exists."""
        result = result or {}
        resource = self.redactor.redact(describe_resource(action, args, result, item_label))
        diff = "" if hidden else render_diff(result.get("diff") or [])
        # File attributes (mode, owner, state) are never secret; the content of a secret file is.
        secret_file = self.redactor.secret_path(resource) or any(
            self.redactor.secret_path(p) for p in diff_paths(result.get("diff")))
        secret = hidden or self.redactor.leaks(diff) or (secret_file and has_content(result.get("diff")))
        item = {
            "tier": tier, "host": host, "role": role, "task": task, "module": action,
            "resource": resource, "change": describe_change(action, args, result, hidden=secret, resource=resource),
            # A secret-bearing diff is never written, only the fact that it differs.
            "diff": CONTENT_DIFFERS if secret else diff,
            "details_hidden": bool(secret),
        }
        if consequence:
            self.consequences.append(item)
            return
        self.drift.append(item)
        self._case(f"drift.{tier}", host, role, task, "failure", f"{resource}: {item['change']}")

    def add_health(self, tier, host, task, result):
        """A result that follows the health contract (healthy, problems, topology)."""
        problems = [self.redactor.redact(str(p)) for p in result.get("problems") or []]
        healthy = bool(result.get("healthy")) and not problems
        topology = result.get("topology") if isinstance(result.get("topology"), dict) else {}
        self.health.append({"tier": tier, "host": host, "task": task, "healthy": healthy,
                            "problems": problems, "topology": json.loads(self.redactor.redact(json.dumps(topology, default=str)))})
        self._case(f"health.{tier}", host, None, task, "passed" if healthy else "failure", "; ".join(problems) or None)

    def add_health_failure(self, tier, host, task, msg):
        """A health check that could not ask its tier at all: the tier counts as unhealthy."""
        problem = f"the health check could not ask the tier: {self.redactor.redact(str(msg))}"
        self.add_health(tier, host, task, {"healthy": False, "problems": [problem], "topology": {}})

    def add_error(self, tier, host, role, task, msg, unreachable=False):
        msg = self.redactor.redact(str(msg or "failed"))
        self.errors.append({"tier": tier, "host": host, "role": role, "task": task, "unreachable": bool(unreachable),
                            "msg": msg})
        self._case(f"drift.{tier}", host, role, task, "error", msg)

    def add_unchecked(self, tier, host, role, task, action, reason):
        """A task check mode skipped because its module cannot check: a blind spot, not drift."""
        self.unchecked.append({"tier": tier, "host": host, "role": role, "task": task, "module": action,
                               "reason": self.redactor.redact(str(reason))})
        self._case(f"drift.{tier}", host, role, task, "skipped", str(reason))

    # ------------------------------------------------------------ judging

    @property
    def unhealthy(self):
        return [h for h in self.health if not h["healthy"]]

    def exit_code(self):
        if self.unhealthy:
            return EXIT_UNHEALTHY
        if self.errors:
            return EXIT_ERROR
        if self.drift:
            return EXIT_DRIFT
        return EXIT_OK

    def problems(self):
        """Each health problem once per tier, with the hosts that reported it."""
        merged = {}
        for entry in self.health:
            for problem in entry["problems"]:
                merged.setdefault((entry["tier"], problem), []).append(entry["host"])
        return [{"tier": tier, "problem": problem, "reported_by": sorted(set(hosts))}
                for (tier, problem), hosts in sorted(merged.items())]

    def topology(self):
        """Per tier, the topology its health checks reported (first answer per key wins)."""
        merged = {}
        for entry in self.health:
            for key, value in entry["topology"].items():
                merged.setdefault(entry["tier"], {}).setdefault(key, value)
        return merged

    @staticmethod
    def topology_changes(current, previous):
        """What moved since the previous report: information, never drift."""
        changes = []
        for tier, keys in sorted((previous or {}).items()):
            for key, before in sorted(keys.items()):
                after = current.get(tier, {}).get(key)
                if tier in current and after is not None and after != before:
                    changes.append({"tier": tier, "key": key, "previous": before, "current": after})
        return changes

    # ------------------------------------------------------------ rendering

    def as_dict(self, previous=None):
        code = self.exit_code()
        topology = self.topology()
        order = ("tier", "host", "resource", "task")
        return {
            "schema": SCHEMA_VERSION,
            **self.meta,
            "started": self.started,
            "finished": self.finished,
            "exit_code": code,
            "verdict": VERDICTS[code],
            "counts": {
                "drift": len(self.drift), "health_problems": len(self.problems()), "errors": len(self.errors),
                "unchecked": len(self.unchecked), "hosts_checked": len({h for _s, h, _t in self.cases}),
                "tasks_checked": len(self.cases),
            },
            "drift": sorted(self.drift, key=lambda d: tuple(d[k] or "" for k in order)),
            "would_also_run": sorted(self.consequences, key=lambda d: tuple(d[k] or "" for k in order)),
            "health": sorted(self.health, key=lambda h: (h["tier"] or "", h["host"], h["task"])),
            "problems": self.problems(),
            "topology": topology,
            "topology_changes": self.topology_changes(topology, (previous or {}).get("topology")),
            "errors": self.errors,
            "unchecked": self.unchecked,
        }

    def junit(self):
        suites = ET.Element("testsuites", name="cloudphone drift check")
        by_suite = {}
        for (suite, host, task), (status, message) in sorted(self.cases.items()):
            by_suite.setdefault(suite, []).append((host, task, status, message))
        for suite, cases in by_suite.items():
            counts = {s: sum(1 for c in cases if c[2] == s) for s in ("failure", "error", "skipped")}
            el = ET.SubElement(suites, "testsuite", name=suite, tests=str(len(cases)), failures=str(counts["failure"]),
                               errors=str(counts["error"]), skipped=str(counts["skipped"]))
            for host, task, status, message in cases:
                case = ET.SubElement(el, "testcase", classname=f"{suite}.{host}", name=task)
                if status != "passed":
                    ET.SubElement(case, status, message=self.redactor.redact(message or status))
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    def summary_lines(self, report, paths=()):
        """The short human summary: one line per drifted resource and per health problem."""
        counts = report["counts"]
        lines = [f"DRIFT CHECK: {report['verdict']} (exit {report['exit_code']}): {counts['drift']} drifted, "
                 f"{counts['health_problems']} health problem(s), {counts['errors']} error(s), "
                 f"{counts['unchecked']} not checkable in check mode"]
        for d in report["drift"]:
            lines.append(f"  drift    {d['host']}  {d['tier']}/{d['role'] or '-'}  {d['resource']}: {d['change']}  [{d['task']}]")
        for p in report["problems"]:
            lines.append(f"  health   {p['tier']}: {p['problem']} (seen from {', '.join(p['reported_by'])})")
        for e in report["errors"]:
            what = "unreachable" if e["unreachable"] else "failed"
            lines.append(f"  error    {e['host']}  {what}: {e['task']}: {e['msg'].splitlines()[0] if e['msg'] else ''}")
        for u in report["unchecked"]:
            lines.append(f"  unchecked {u['host']}  {u['task']}: {u['reason']}")
        for c in report["topology_changes"]:
            lines.append(f"  info     {c['tier']} {c['key']} is {c['current']} (was {c['previous']} at the previous check)")
        for tier, keys in sorted(report["topology"].items()):
            if keys:
                lines.append(f"  info     {tier} topology: " + ", ".join(f"{k}={v}" for k, v in sorted(keys.items())))
        for path in paths:
            lines.append(f"  report   {path}")
        return [self.redactor.redact(line) for line in lines]


def previous_report(directory, exclude=None):
    """The newest earlier JSON report in `directory`, or None."""
    try:
        names = sorted(n for n in os.listdir(directory) if re.match(r"^\d{8}T\d{6}Z\.json$", n) and n != exclude)
    except FileNotFoundError:
        return None
    for name in reversed(names):
        try:
            with open(os.path.join(directory, name)) as fh:
                return json.load(fh)
        except (OSError, ValueError):
            continue
    return None


def prune_reports(directory, keep):
    """Keep the newest `keep` reports (JSON + XML + summary of one run go together); 0 keeps all."""
    if keep <= 0:
        return []
    stamps = sorted({m.group(1) for n in os.listdir(directory)
                     if (m := re.match(r"^(\d{8}T\d{6}Z)\.(json|xml|txt)$", n))})
    removed = []
    for stamp in stamps[:-keep]:
        for ext in ("json", "xml", "txt"):
            path = os.path.join(directory, f"{stamp}.{ext}")
            if os.path.exists(path):
                os.remove(path)
                removed.append(path)
    return removed
