"""The verdict of make dashboards-e2e (tests/e2e/dashboards_report.py), on measurements made up to hit
each rule: a panel without data fails, an all-zero panel is named, the object storage dashboard of an
inventory without an object tier is named instead of failing, the browser's findings fail, and a
sample lost across the restart fails."""

import copy
import importlib.util
import json
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = importlib.util.spec_from_file_location("dashboards_report", os.path.join(ROOT, "tests", "e2e", "dashboards_report.py"))
report = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(report)


def definition(name, title, panels):
    return {"name": name, "title": title, "description": "d", "rows": [{"title": "r", "panels": [
        {"title": t, "unit": "count", "description": "Bad is x.", "zero_is_healthy": zero,
         "queries": [{"expr": e} for e in exprs]} for t, exprs, zero in panels]}]}


def answer(expr, *values):
    return {"query": expr, "series": [{"metric": {}, "value": v} for v in values], "count": len(values), "error": None}


def browser_board(name, title, **overrides):
    board = {"name": name, "title": title, "titles_missing": [], "errors_shown": [], "queries_failed": [],
             "expressions_not_sent": [], "queries_empty": []}
    board.update(overrides)
    return board


RAW = {
    "definitions": [
        definition("hosts", "Hosts", [("CPU", ["cpu"], False), ("Errors", ["errs"], True)]),
        definition("object_storage", "Object storage", [("Ceph health", ["ceph_health_status"], False)]),
    ],
    "results": [answer("cpu", 12.5, 3.0), answer("errs", 0, 0), answer("ceph_health_status")],
    "object_tier": False,
    "browser": {"dashboards": [browser_board("hosts", "Hosts"),
                               browser_board("object_storage", "Object storage", queries_empty=["ceph_health_status"])]},
    "restart": {"stopped_s": 60.4, "lost_samples": 0, "counter_increase_difference": 0,
                "prometheus": {"samples": 900, "counter_increase": 5000},
                "victoriametrics": {"samples": 900, "counter_increase": 5000}},
    "victoriametrics": {"version": "v1.151.0", "rss_mib": 80.0},
}


def verdict(tmp_path, raw):
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    code = report.main(str(tmp_path / "raw.json"), str(tmp_path / "report.json"))
    return code, json.loads((tmp_path / "report.json").read_text())


def test_a_healthy_run_passes_and_names_zero_panels_and_the_missing_object_tier(tmp_path):
    code, out = verdict(tmp_path, RAW)
    assert code == 0 and out["passed"] is True
    assert out["explicit_zero_panels"] == [{"dashboard": "Hosts", "panel": "Errors", "declared_failure_panel": True}]
    assert out["not_evaluated"] == [{"dashboard": "Object storage", "reason": "no object tier in this inventory"}]
    assert out["dashboards"][1]["status"] == "no object tier in this inventory"
    assert out["summary"]["panels_with_data"] == 1 and out["summary"]["panels_explicit_zero"] == 1


def test_with_an_object_tier_its_empty_panels_fail(tmp_path):
    raw = dict(copy.deepcopy(RAW), object_tier=True)
    code, out = verdict(tmp_path, raw)
    assert code == 1
    assert out["failures"]["expressions"] == ["Object storage / Ceph health: no data (ceph_health_status)"]
    assert out["failures"]["browser"] == ["Object storage: panels drew no data: ['ceph_health_status']"]


@pytest.mark.parametrize("result, words", [
    (answer("cpu"), "Hosts / CPU: no data (cpu)"),
    ({"query": "cpu", "series": [], "count": 0, "error": "the query was refused: boom"}, "Hosts / CPU: error"),
])
def test_a_panel_without_data_or_with_an_error_fails(tmp_path, result, words):
    raw = copy.deepcopy(RAW)
    raw["results"][0] = result
    code, out = verdict(tmp_path, raw)
    assert code == 1 and out["failures"]["expressions"][0].startswith(words)


@pytest.mark.parametrize("finding, words", [
    ({"titles_missing": ["CPU"]}, "panel titles not shown"),
    ({"errors_shown": ["cannot parse"]}, "the page shows errors"),
    ({"queries_empty": ["cpu"]}, "panels drew no data"),
    ({"expressions_not_sent": ["cpu"]}, "panels that never queried"),
])
def test_what_the_browser_saw_fails_the_test(tmp_path, finding, words):
    raw = copy.deepcopy(RAW)
    raw["browser"]["dashboards"][0].update(finding)
    code, out = verdict(tmp_path, raw)
    assert code == 1 and words in out["failures"]["browser"][0]


def test_a_browser_that_failed_fails_the_test(tmp_path):
    raw = dict(copy.deepcopy(RAW), browser={"error": "exit code 2: timeout"})
    code, out = verdict(tmp_path, raw)
    assert code == 1 and out["failures"]["browser"] == ["the browser step failed: exit code 2: timeout"]


def test_a_sample_lost_across_the_restart_fails(tmp_path):
    raw = copy.deepcopy(RAW)
    raw["restart"].update(lost_samples=12, counter_increase_difference=40)
    raw["restart"]["victoriametrics"] = {"samples": 888, "counter_increase": 4960}
    code, out = verdict(tmp_path, raw)
    assert code == 1 and len(out["failures"]["restart"]) == 2
    assert out["failures"]["restart"][0].startswith("the restart lost 12 sample(s)")
