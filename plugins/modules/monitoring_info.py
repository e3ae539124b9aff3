#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: monitoring_info
short_description: Read the live state of Prometheus and Alertmanager
description:
  - The health check of the monitoring tier. It asks Prometheus for its scrape targets and the state of its
    rules, and Alertmanager for its active alerts, and compares the targets with the ones the inventory implies.
  - Returns the collection's health contract (C(healthy), C(problems), C(topology)). A target that is down, a target
    missing or unexpected, a rule that fails to evaluate, or an unreachable Alertmanager is a problem. Alerts that fire
    are reported in C(alerts), not as problems of the monitoring tier.
  - Runs on the monitoring host (it reads the API passwords from the files the roles install), or anywhere the APIs are
    reachable when the passwords are given.
  - Only reads. Fails only when Prometheus cannot be asked at all.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  prometheus_url:
    description: Base URL of Prometheus.
    type: str
    default: https://localhost:9090
  alertmanager_url:
    description: Base URL of Alertmanager.
    type: str
    default: https://localhost:9093
  username:
    description: Basic auth user of both APIs.
    type: str
    default: admin
  prometheus_password:
    description: Password of Prometheus' API; read from O(prometheus_password_file) when not given.
    type: str
  prometheus_password_file:
    description: File holding Prometheus' API password (installed by the prometheus role).
    type: path
    default: /etc/prometheus/prometheus.password
  alertmanager_password:
    description: Password of Alertmanager's API; read from O(alertmanager_password_file) when not given.
    type: str
  alertmanager_password_file:
    description: File holding Alertmanager's API password.
    type: path
    default: /etc/prometheus/alertmanager.password
  ca_file:
    description: CA that signed the servers' certificates.
    type: path
    default: /etc/cloudphone/pki/ca.crt
  expected_targets:
    description:
      - The scrape targets the inventory implies, as C(job/instance). Targets missing from Prometheus, or scraped but
        not listed, are problems. Omit to skip the comparison.
    type: list
    elements: str
  query:
    description: An optional PromQL instant query whose result is returned in RV(query_result).
    type: str
  timeout:
    description: Timeout of each HTTP request, in seconds.
    type: int
    default: 5
attributes:
  check_mode:
    description: Only reads, so check mode runs it as usual.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Every target of the inventory is scraped and up
  cloudphone.infra.monitoring_info:
    expected_targets: ["node/data1", "node/ops1", "prometheus/ops1", "alertmanager/ops1"]
  become: true
  delegate_to: ops1
  register: monitoring

- name: Refuse an unhealthy monitoring tier
  ansible.builtin.assert:
    that: monitoring.healthy
    fail_msg: "{{ monitoring.problems | join('; ') }}"

- name: Which Redis nodes are replicas right now
  cloudphone.infra.monitoring_info:
    query: redis_instance_info{role="slave"}
  become: true
  delegate_to: ops1
  register: replicas
"""

RETURN = r"""
healthy:
  description: True when RV(problems) is empty.
  returned: always
  type: bool
problems:
  description: What is wrong with the monitoring tier, in plain words.
  returned: always
  type: list
  elements: str
topology:
  description: Nothing a failover changes lives here; always empty.
  returned: always
  type: dict
targets:
  description: Every active scrape target.
  returned: always
  type: list
  elements: dict
  sample: [{job: node, instance: data1, health: up, last_error: "", scrape_url: "https://data1.lab.cloudphone.test:9100/metrics"}]
rules:
  description: Every alerting rule loaded, with its group's evaluation interval and its C(for) in seconds.
  returned: always
  type: list
  elements: dict
  sample: [{name: RedisDown, file: /etc/prometheus/rules/redis.yml, interval_s: 15, for_s: 60, health: ok, state: inactive}]
alerts:
  description: Alerts active in Alertmanager (firing, including silenced or inhibited ones), with their labels.
  returned: always
  type: list
  elements: dict
  sample: [{name: RedisDown, state: active, starts_at: "2026-11-28T06:00:00Z", labels: {instance: data2, severity: critical}}]
query_result:
  description: Result of O(query), one item per series with its labels and value.
  returned: when O(query) is given
  type: list
  elements: dict
  sample: [{metric: {instance: data2, role: slave}, value: 1.0}]
"""

from urllib.parse import quote  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport, get_json  # noqa: E402


def _password(module, name):
    given = module.params[f"{name}_password"]
    if given:
        return given
    path = module.params[f"{name}_password_file"]
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError as exc:
        module.fail_json(msg=f"cannot read the {name} API password from {path} ({exc}): run this on the monitoring "
                             f"host with become, or pass {name}_password")


def targets_of(document):
    return [{"job": t["labels"].get("job", ""), "instance": t["labels"].get("instance", ""),
             "health": t.get("health", "unknown"), "last_error": t.get("lastError", ""),
             "scrape_url": t.get("scrapeUrl", "")}
            for t in document["data"]["activeTargets"]]


def check_targets(report, targets, expected):
    for t in targets:
        report.require(t["health"] == "up",
                       f"target {t['job']}/{t['instance']} ({t['scrape_url']}) is {t['health']}: "
                       f"{t['last_error'] or 'no error reported yet'}")
    if expected is not None:
        report.expect_members("scrape targets", expected, [f"{t['job']}/{t['instance']}" for t in targets])


def rules_of(document):
    return [{"name": r.get("name"), "file": g["file"], "interval_s": g.get("interval"), "for_s": r.get("duration", 0),
             "health": r.get("health", "unknown"), "state": r.get("state", ""), "last_error": r.get("lastError", "")}
            for g in document["data"]["groups"] for r in g["rules"] if r.get("type") == "alerting"]


def check_rules(report, rules):
    for rule in rules:
        report.require(rule["health"] in ("ok", "unknown"),
                       f"rule {rule['name']} in {rule['file']} fails to evaluate: {rule['last_error']}")


def alerts_of(document):
    return [{"name": a["labels"].get("alertname", ""), "state": a["status"]["state"], "starts_at": a["startsAt"],
             "labels": a["labels"], "annotations": a.get("annotations", {})}
            for a in document]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            prometheus_url=dict(type="str", default="https://localhost:9090"),
            alertmanager_url=dict(type="str", default="https://localhost:9093"),
            username=dict(type="str", default="admin"),
            prometheus_password=dict(type="str", no_log=True),
            prometheus_password_file=dict(type="path", default="/etc/prometheus/prometheus.password", no_log=False),
            alertmanager_password=dict(type="str", no_log=True),
            alertmanager_password_file=dict(type="path", default="/etc/prometheus/alertmanager.password", no_log=False),
            ca_file=dict(type="path", default="/etc/cloudphone/pki/ca.crt"),
            expected_targets=dict(type="list", elements="str"),
            query=dict(type="str"),
            timeout=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    p = module.params
    report = HealthReport()
    result = dict(changed=False, targets=[], rules=[], alerts=[])

    def ask(base, path, password):
        return get_json(base.rstrip("/") + path, ca_file=p["ca_file"], timeout=p["timeout"],
                        username=p["username"], password=password)

    prom_password = _password(module, "prometheus")

    def ask_prometheus(path):
        """Every question to Prometheus: a network error means it cannot be asked, so the task fails."""
        try:
            return ask(p["prometheus_url"], path, prom_password)
        except Exception as exc:  # network errors (refused, reset, TLS, timeout)
            module.fail_json(msg=f"cannot reach Prometheus at {p['prometheus_url']} (asking {path.split('?')[0]}): "
                                 f"{exc}; check that prometheus.service runs on the monitoring host, that this host "
                                 "reaches its port, and that ca_file is the CA of its certificate")

    status, targets = ask_prometheus("/api/v1/targets?state=active")
    if status != 200:
        module.fail_json(msg=f"Prometheus answered {status} to /api/v1/targets: {targets}; check the user and password")
    result["targets"] = targets_of(targets)
    check_targets(report, result["targets"], p["expected_targets"])

    status, rules = ask_prometheus("/api/v1/rules")
    if report.require(status == 200, f"Prometheus answered {status} to /api/v1/rules"):
        result["rules"] = rules_of(rules)
        check_rules(report, result["rules"])

    if p["query"]:
        status, answer = ask_prometheus("/api/v1/query?query=" + quote(p["query"]))
        if status != 200:
            module.fail_json(msg=f"Prometheus refused the query {p['query']!r} ({status}): {answer}")
        result["query_result"] = [{"metric": r["metric"], "value": float(r["value"][1])}
                                  for r in answer["data"]["result"]]

    try:
        status, alerts = ask(p["alertmanager_url"], "/api/v2/alerts", _password(module, "alertmanager"))
        if report.require(status == 200, f"Alertmanager answered {status} to /api/v2/alerts"):
            result["alerts"] = alerts_of(alerts)
    except Exception as exc:
        report.problem(f"cannot reach Alertmanager at {p['alertmanager_url']}: {exc}")

    result.update(report.as_dict())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
