"""The dashboards: their definitions, the PromQL checker preflight uses, and both renderings.

- every definition the victoriametrics role installs has no problem: every expression parses, panel
  titles are unique in a dashboard, every panel has a unit and a one-line description;
- the checker (plugins/plugin_utils/promql.py) agrees with promtool, the real PromQL parser (Debian's,
  through tools/prometheus-tools like `make rules`), on every dashboard expression and on a set of
  broken ones, so a preflight refusal means what Prometheus would say;
- the checker refuses what it must (a broken expression, a panel without unit or description, a
  title used twice), so the test above cannot pass with a checker that accepts everything;
- the vmui rendering has the shape VictoriaMetrics' -vmui.customDashboardsPath reads, and
  `make grafana-dashboards` writes Grafana JSON whose panels ask the data source variable.
"""

import copy
import glob
import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.cloudphone.infra.plugins.plugin_utils import dashboards, promql

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFINITIONS_DIR = os.path.join(ROOT, "roles", "victoriametrics", "files", "dashboards")
CORE = ["overview", "postgresql", "redis", "rabbitmq", "object_storage", "hosts"]

# Expressions Prometheus refuses, each for another reason; the checker must refuse them too.
BROKEN = [
    "rate(http_requests_total)",                      # rate wants a range vector
    "sum(rate(http_requests_total[5m])",              # unbalanced parenthesis
    "sum(http_requests_total[5m])",                   # aggregation of a range vector
    'up{job="node"',                                  # unclosed selector
    "up{job=node}",                                   # unquoted label value
    'up{job=~"("}',                                   # a regex that does not compile
    "1 > 2",                                          # comparison of scalars without bool
    "up and 1",                                       # set operator with a scalar
    "topk(up, 3)",                                    # parameter in the wrong place
    "rate(up[5m])[5m]",                               # range on an expression (needs a subquery)
    "histogram_quantile(sum by (le) (rate(x[5m])))",  # missing argument
    "no_such_function(up)",                           # unknown function
    "up offset",                                      # offset without a duration
    "sum by (job) (up) by (instance)",                # two groupings
    "x * group_left (a) y",                           # group_left without on/ignoring
    '{job=""}',                                       # selector that matches everything
    "",                                               # empty
]


def definitions():
    out = []
    for name in CORE:
        with open(os.path.join(DEFINITIONS_DIR, name + ".yml"), encoding="utf-8") as fh:
            out.append(yaml.safe_load(fh))
    return out


def expressions():
    return [(d["name"], p["title"], q["expr"]) for d in definitions() for r in d["rows"]
            for p in r["panels"] for q in p["queries"]]


def test_the_role_installs_exactly_the_six_core_dashboards():
    with open(os.path.join(ROOT, "roles", "victoriametrics", "defaults", "main.yml"), encoding="utf-8") as fh:
        defaults = yaml.safe_load(fh)
    assert defaults["victoriametrics_dashboards"] == CORE
    assert sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(DEFINITIONS_DIR, "*.yml"))) == sorted(CORE)
    assert [d["name"] for d in definitions()] == CORE


def test_the_definitions_have_no_problem():
    assert dashboards.check(definitions()) == []


def test_at_least_forty_panels_each_with_unit_and_a_one_line_description():
    panels = [p for d in definitions() for r in d["rows"] for p in r["panels"]]
    assert len(panels) >= 40
    for panel in panels:
        assert panel["unit"] in dashboards.UNITS, panel["title"]
        assert panel["description"].strip() and "\n" not in panel["description"], panel["title"]
        # What bad looks like, in so many words.
        assert "Bad is" in panel["description"], panel["title"]


@pytest.mark.parametrize("definition", definitions(), ids=lambda d: d["name"])
def test_panel_titles_are_unique_in_each_dashboard(definition):
    titles = [p["title"] for r in definition["rows"] for p in r["panels"]]
    assert len(titles) == len(set(titles))


@pytest.mark.parametrize("dashboard, title, expr", expressions(), ids=lambda v: str(v)[:40])
def test_every_expression_parses(dashboard, title, expr):
    assert promql.check(expr) is None, f"{dashboard} / {title}: {promql.check(expr)}"


@pytest.mark.parametrize("expr", BROKEN)
def test_broken_expressions_are_refused(expr):
    assert promql.check(expr)


def promtool_check(tmp_path, exprs):
    """promtool's verdict on each expression (a recording rule each): True when it parses."""
    verdicts = []
    for index, expr in enumerate(exprs):
        path = tmp_path / f"rule{index}.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": [{"record": "check:expr", "expr": expr}]}]}))
        result = subprocess.run([os.path.join(ROOT, "tools", "prometheus-tools"), "promtool", "check", "rules", str(path)],
                                capture_output=True, text=True, timeout=120)
        verdicts.append(result.returncode == 0)
    return verdicts


def test_promtool_agrees_with_the_checker(tmp_path):
    """The real parser accepts every dashboard expression and refuses every broken one."""
    good = [expr for _d, _t, expr in expressions()]
    broken = [expr for expr in BROKEN if expr]  # promtool refuses an empty expr for another reason
    # One rules file for all the good ones (fast), one per broken one (each must fail on its own).
    path = tmp_path / "good.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": [
        {"record": f"check:expr{i}", "expr": expr} for i, expr in enumerate(good)]}]}))
    result = subprocess.run([os.path.join(ROOT, "tools", "prometheus-tools"), "promtool", "check", "rules", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert promtool_check(tmp_path, broken) == [False] * len(broken)


def test_the_checker_names_every_kind_of_problem():
    bad = copy.deepcopy(definitions()[:2])
    panel = bad[0]["rows"][0]["panels"][0]
    panel["queries"][0]["expr"] = "rate(up)"
    del bad[0]["rows"][0]["panels"][1]["unit"]
    bad[0]["rows"][0]["panels"][2]["description"] = ""
    bad[1]["rows"][0]["panels"][1]["title"] = bad[1]["rows"][0]["panels"][0]["title"]
    bad[1]["name"] = bad[0]["name"]
    problems = " | ".join(dashboards.check(bad))
    assert f"panel {panel['title']!r}: the expression 'rate(up)' does not parse: rate() wants a range vector" in problems
    assert "unit must be one of" in problems
    assert "description is missing" in problems
    assert "two panels are titled" in problems
    assert "two dashboards are named 'overview'" in problems


def test_vmui_rendering_has_the_custom_dashboard_shape():
    for definition in definitions():
        rendered = dashboards.vmui(definition)
        assert set(rendered) == {"title", "rows"} and rendered["title"] == definition["title"]
        for row, source in zip(rendered["rows"], definition["rows"]):
            assert row["title"] == source["title"]
            for panel, spec in zip(row["panels"], source["panels"]):
                assert set(panel) <= {"title", "description", "unit", "expr", "alias", "showLegend", "width"}
                assert panel["expr"] == [q["expr"] for q in spec["queries"]]
                assert 1 <= panel["width"] <= 12
                assert panel["unit"] == dashboards.UNITS[spec["unit"]][0]
                if "alias" in panel:
                    assert len(panel["alias"]) == len(panel["expr"])
                    # vmui's {{label}} templates, from the definitions' {label}.
                    assert all("{" not in a or "{{" in a for a in panel["alias"])
        json.dumps(rendered)
    assert dashboards.vmui(definitions()[2])["rows"][0]["panels"][0]["alias"] == ["{{instance}}"]


def test_make_grafana_dashboards_writes_grafana_json_with_a_prometheus_datasource_variable(tmp_path):
    out = tmp_path / "grafana"
    result = subprocess.run(["make", "-o", ".venv/.installed", "grafana-dashboards", f"OUT={out}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(n + ".json" for n in CORE)
    for definition in definitions():
        board = json.loads((out / (definition["name"] + ".json")).read_text())
        variables = board["templating"]["list"]
        assert [(v["name"], v["type"], v["query"]) for v in variables] == [("datasource", "datasource", "prometheus")]
        panels = [p for p in board["panels"] if p["type"] != "row"]
        rows = [p for p in board["panels"] if p["type"] == "row"]
        assert len(rows) == len(definition["rows"])
        specs = [p for r in definition["rows"] for p in r["panels"]]
        assert [p["title"] for p in panels] == [p["title"] for p in specs]
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
        for panel, spec in zip(panels, specs):
            assert panel["type"] == "timeseries"
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["description"] == spec["description"]
            assert panel["fieldConfig"]["defaults"]["unit"] == dashboards.UNITS[spec["unit"]][1]
            assert [t["expr"] for t in panel["targets"]] == [q["expr"] for q in spec["queries"]]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0
        assert board["uid"] and len(board["uid"]) <= 40


def test_grafana_export_refuses_a_broken_definition(tmp_path):
    broken = definitions()[0]
    broken["rows"][0]["panels"][0]["queries"][0]["expr"] = "sum(up"
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "overview.yml").write_text(yaml.safe_dump(broken))
    result = subprocess.run([os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "tools", "grafana-dashboards"),
                             "--definitions", str(tmp_path / "defs"), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "'sum(up' does not parse" in result.stderr
    assert not (tmp_path / "out").exists()
