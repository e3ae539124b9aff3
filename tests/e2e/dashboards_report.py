#!/usr/bin/env python3
"""make dashboards-e2e, the verdict: turns what tests/e2e/dashboards_e2e.yml measured into
reports/dashboards/dashboards-e2e.json and an exit code (0 passed, 1 failed).

    dashboards_report.py RAW.json REPORT.json

RAW.json (written by the playbook) holds:
  definitions   the dashboard definitions (roles/victoriametrics/files/dashboards/*.yml)
  results       metrics_query's answers to every expression, in the order of the definitions
  object_tier   whether the inventory has an object tier (a 'ceph_mon' group)
  browser       vmui_dashboards.js' summary (or its failure)
  restart       the figures of the 60 s VictoriaMetrics restart
  victoriametrics  version and resident memory

The rules, from issue 17:
- every expression of every panel returns at least one series from VictoriaMetrics' query API; a
  panel whose every series is exactly 0 is named (a failure panel's healthy value);
- the object storage dashboard of an inventory without an object tier is named "no object tier in
  this inventory" instead of failing on its empty queries;
- in Chromium each dashboard shows every panel title, no error, and its panels' queries answered
  with data (the same exception);
- the restart check loses no sample: the counter's increase and the number of samples over the
  window are the same in Prometheus and in VictoriaMetrics.
"""

import json
import sys

NO_OBJECT_TIER = "no object tier in this inventory"
OBJECT_DASHBOARD = "object_storage"


def panels(definition):
    for row in definition["rows"]:
        for panel in row["panels"]:
            yield panel


def evaluate_expressions(definitions, results, object_tier):
    """Per dashboard and panel: what each expression returned, and the panel's verdict."""
    answers = iter(results)
    report, failures, zero_panels = [], [], []
    for definition in definitions:
        skipped = definition["name"] == OBJECT_DASHBOARD and not object_tier
        board = {"name": definition["name"], "title": definition["title"], "panels": []}
        if skipped:
            board["status"] = NO_OBJECT_TIER
        for panel in panels(definition):
            queries = []
            for query in panel["queries"]:
                answer = next(answers)
                assert answer["query"] == query["expr"], (answer["query"], query["expr"])
                values = [s["value"] for s in answer["series"]]
                queries.append({"expr": query["expr"], "series": answer["count"], "error": answer["error"],
                                "all_zero": bool(values) and all(v == 0 for v in values)})
            if skipped:
                status = NO_OBJECT_TIER
            elif any(q["error"] for q in queries):
                status = "error"
            elif any(q["series"] == 0 for q in queries):
                status = "no data"
            elif all(q["all_zero"] for q in queries):
                status = "explicit zero"
            else:
                status = "data"
            entry = {"title": panel["title"], "unit": panel["unit"], "status": status,
                     "zero_is_healthy": bool(panel.get("zero_is_healthy")), "queries": queries}
            board["panels"].append(entry)
            if status in ("error", "no data"):
                failures.append(f"{definition['title']} / {panel['title']}: {status} "
                                f"({'; '.join(q['error'] or q['expr'] for q in queries if q['error'] or not q['series'])})")
            if status == "explicit zero":
                zero_panels.append({"dashboard": definition["title"], "panel": panel["title"],
                                    "declared_failure_panel": entry["zero_is_healthy"]})
        board.setdefault("status", "passed" if not any(
            p["status"] in ("error", "no data") for p in board["panels"]) else "failed")
        report.append(board)
    return report, failures, zero_panels


def evaluate_browser(browser, object_tier):
    failures = []
    if browser.get("error"):
        return [f"the browser step failed: {browser['error']}"]
    seen = {d["name"]: d for d in browser.get("dashboards", [])}
    for name, board in seen.items():
        exempt = name == OBJECT_DASHBOARD and not object_tier
        if board["titles_missing"]:
            failures.append(f"{board['title']}: panel titles not shown: {board['titles_missing']}")
        if board["errors_shown"]:
            failures.append(f"{board['title']}: the page shows errors: {board['errors_shown']}")
        if board["queries_failed"]:
            failures.append(f"{board['title']}: queries failed in the browser: {board['queries_failed']}")
        if board["expressions_not_sent"]:
            failures.append(f"{board['title']}: panels that never queried: {board['expressions_not_sent']}")
        if board["queries_empty"] and not exempt:
            failures.append(f"{board['title']}: panels drew no data: {board['queries_empty']}")
    return failures


def evaluate_restart(restart):
    failures = []
    if restart["lost_samples"] != 0:
        failures.append(f"the restart lost {restart['lost_samples']} sample(s) of `up` "
                        f"(Prometheus {restart['prometheus']['samples']}, VictoriaMetrics {restart['victoriametrics']['samples']})")
    if restart["counter_increase_difference"] != 0:
        failures.append(f"the counter's increase differs by {restart['counter_increase_difference']} "
                        f"(Prometheus {restart['prometheus']['counter_increase']}, "
                        f"VictoriaMetrics {restart['victoriametrics']['counter_increase']})")
    if restart["stopped_s"] < 60:
        failures.append(f"VictoriaMetrics was stopped only {restart['stopped_s']} s, not 60")
    return failures


def main(raw_path, report_path):
    with open(raw_path, encoding="utf-8") as fh:
        raw = json.load(fh)
    object_tier = bool(raw["object_tier"])
    dashboards, expression_failures, zero_panels = evaluate_expressions(raw["definitions"], raw["results"], object_tier)
    browser_failures = evaluate_browser(raw["browser"], object_tier)
    restart_failures = evaluate_restart(raw["restart"])
    all_panels = [p for d in dashboards for p in d["panels"]]
    report = {
        "summary": {
            "dashboards": len(dashboards),
            "panels": len(all_panels),
            "expressions": sum(len(p["queries"]) for p in all_panels),
            "panels_with_data": sum(p["status"] == "data" for p in all_panels),
            "panels_explicit_zero": sum(p["status"] == "explicit zero" for p in all_panels),
            "panels_without_object_tier": sum(p["status"] == NO_OBJECT_TIER for p in all_panels),
            "panels_failed": sum(p["status"] in ("error", "no data") for p in all_panels),
            "object_tier": object_tier,
        },
        "explicit_zero_panels": zero_panels,
        "not_evaluated": ([{"dashboard": "Object storage", "reason": NO_OBJECT_TIER}] if not object_tier else []),
        "dashboards": dashboards,
        "browser": raw["browser"],
        "restart": raw["restart"],
        "victoriametrics": raw["victoriametrics"],
        "failures": {"expressions": expression_failures, "browser": browser_failures, "restart": restart_failures},
    }
    report["passed"] = not (expression_failures or browser_failures or restart_failures)
    with open(report_path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, sort_keys=False)
        fh.write("\n")
    print(json.dumps({"passed": report["passed"], "summary": report["summary"], "failures": report["failures"],
                      "restart": {k: raw["restart"][k] for k in ("stopped_s", "lost_samples", "counter_increase_difference")},
                      "rss_mib": raw["victoriametrics"].get("rss_mib")}))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
