"""The alert rules' contract: every alert has a severity, a summary and a runbook line, and is covered by
`promtool test rules` cases where it fires and where it must stay silent (`make rules` runs them)."""

import glob
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES_DIR = os.path.join(ROOT, "roles", "prometheus", "files", "rules")
TESTS_DIR = os.path.join(ROOT, "tests", "rules")
SEVERITIES = {"critical", "warning"}


def _load(path):
    with open(path) as fh:
        return yaml.safe_load(fh)


def rule_files():
    return sorted(glob.glob(os.path.join(RULES_DIR, "*.yml")))


def rule_test_files():
    return sorted(glob.glob(os.path.join(TESTS_DIR, "*_test.yml")))


def alerts():
    """(file, rule) for every alerting rule."""
    for path in rule_files():
        for group in _load(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield os.path.basename(path), group["name"], rule


def cases():
    """alertname -> list of (test file, eval_time, number of expected alerts)."""
    found = {}
    for path in rule_test_files():
        for test in _load(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                found.setdefault(case["alertname"], []).append(
                    (os.path.basename(path), case["eval_time"], len(case.get("exp_alerts") or [])))
    return found


def test_there_are_rules_for_every_tier():
    names = {os.path.basename(p)[:-4] for p in rule_files()}
    assert {"common", "postgresql", "etcd", "redis", "rabbitmq", "haproxy"} <= names


@pytest.mark.parametrize("path", rule_files(), ids=os.path.basename)
def test_rules_are_in_the_cloudphone_group(path):
    assert [g["name"] for g in _load(path)["groups"]] == ["cloudphone"]


@pytest.mark.parametrize("rule", [r for _, _, r in alerts()], ids=lambda r: r["alert"] + "/" + r["labels"]["severity"])
def test_every_alert_has_severity_summary_and_runbook(rule):
    assert rule["labels"]["severity"] in SEVERITIES
    assert len(rule["annotations"]["summary"]) > 20
    assert len(rule["annotations"]["runbook"]) > 40, "the runbook line must say what to do"


def test_every_alert_fires_and_stays_silent_in_some_test():
    found = cases()
    missing = []
    for _, _, rule in alerts():
        name = rule["alert"]
        outcomes = [n for _, _, n in found.get(name, [])]
        if not any(outcomes):
            missing.append(f"{name}: no case where it fires")
        if 0 not in outcomes:
            missing.append(f"{name}: no case where it stays silent")
    assert not missing, "\n".join(missing)


def test_every_severity_of_an_alert_fires_in_some_test():
    """An alert defined at two severities (warning and critical) must be seen firing at both."""
    fired = set()
    for path in rule_test_files():
        for test in _load(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                for alert in case.get("exp_alerts") or []:
                    fired.add((case["alertname"], alert["exp_labels"]["severity"]))
    expected = {(r["alert"], r["labels"]["severity"]) for _, _, r in alerts()}
    assert expected - fired == set()


def test_every_rule_file_is_tested_and_every_test_names_real_files():
    tested = set()
    for path in rule_test_files():
        for rel in _load(path)["rule_files"]:
            target = os.path.normpath(os.path.join(TESTS_DIR, rel))
            assert os.path.exists(target), f"{os.path.basename(path)} names a missing rule file {rel}"
            tested.add(target)
    assert set(rule_files()) <= tested


def test_alert_names_are_unique_per_severity():
    seen = [(r["alert"], r["labels"]["severity"]) for _, _, r in alerts()]
    assert len(seen) == len(set(seen))
