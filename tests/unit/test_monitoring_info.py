from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport
from ansible_collections.cloudphone.infra.plugins.modules.monitoring_info import (
    alerts_of, check_rules, check_targets, rules_of, targets_of)

TARGETS = {"data": {"activeTargets": [
    {"labels": {"job": "node", "instance": "data1"}, "health": "up", "lastError": "",
     "scrapeUrl": "https://data1.lab.cloudphone.test:9100/metrics"},
    {"labels": {"job": "redis", "instance": "data2"}, "health": "down",
     "lastError": "connection refused", "scrapeUrl": "https://data2.lab.cloudphone.test:9121/metrics"},
]}}


def test_targets_down_missing_and_unexpected_are_problems():
    report = HealthReport()
    targets = targets_of(TARGETS)
    assert [t["job"] + "/" + t["instance"] for t in targets] == ["node/data1", "redis/data2"]
    check_targets(report, targets, ["node/data1", "node/data2", "redis/data2"])
    assert not report.healthy
    assert report.problems == [
        "target redis/data2 (https://data2.lab.cloudphone.test:9121/metrics) is down: connection refused",
        "scrape targets: node/data2 expected by the inventory but not in the cluster",
    ]


def test_all_targets_up_and_as_expected_is_healthy():
    report = HealthReport()
    up = {"data": {"activeTargets": [dict(TARGETS["data"]["activeTargets"][0])]}}
    check_targets(report, targets_of(up), ["node/data1"])
    check_targets(report, targets_of(up), None)
    assert report.healthy


def test_failing_rules_are_problems_and_alerts_are_listed():
    report = HealthReport()
    rules = rules_of({"data": {"groups": [{"file": "/etc/prometheus/rules/redis.yml", "interval": 15, "rules": [
        {"name": "RedisDown", "type": "alerting", "duration": 60, "health": "ok", "state": "inactive"},
        {"name": "x:recorded", "type": "recording", "health": "ok"},
        {"name": "RedisMemoryNearMax", "type": "alerting", "duration": 300, "health": "err",
         "lastError": "many-to-many matching not allowed"}]}]}})
    assert [(r["name"], r["interval_s"], r["for_s"]) for r in rules] == [("RedisDown", 15, 60), ("RedisMemoryNearMax", 15, 300)]
    check_rules(report, rules)
    assert report.problems == ["rule RedisMemoryNearMax in /etc/prometheus/rules/redis.yml fails to evaluate: "
                               "many-to-many matching not allowed"]
    alerts = alerts_of([{"labels": {"alertname": "RedisDown", "instance": "data2"}, "status": {"state": "active"},
                         "startsAt": "2026-11-28T06:00:00Z", "annotations": {"summary": "x"}}])
    assert alerts == [{"name": "RedisDown", "state": "active", "starts_at": "2026-11-28T06:00:00Z",
                       "labels": {"alertname": "RedisDown", "instance": "data2"}, "annotations": {"summary": "x"}}]
