# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's dashboards: checking a definition, and writing it for vmui or for Grafana.

A definition (roles/victoriametrics/files/dashboards/<name>.yml, or an item of
victoriametrics_extra_dashboards) is plain data:

    name: redis                      # file name: letters, digits, _ and -
    title: Redis
    description: One line: what the dashboard is for.
    rows:
      - title: Memory
        panels:
          - title: Memory used against maxmemory
            unit: percent            # one of UNITS
            description: What it shows. Bad: what an operator must not see here.
            width: 6                 # 1-12 columns (vmui); Grafana gets twice as many of its 24
            zero_is_healthy: true    # optional: a failure counter, whose healthy value is 0
            queries:
              - expr: 100 * redis_memory_used_bytes / redis_memory_max_bytes
                legend: "{instance}" # {label} is replaced by the series' label

Legends use {label} rather than vmui's and Grafana's {{label}}, so that no Jinja ever sees them.
check() lists what is wrong with definitions (preflight refuses them, the unit tests assert there
is nothing); vmui() and grafana() render one definition.
"""

from __future__ import annotations

import re

from ansible_collections.cloudphone.infra.plugins.plugin_utils import promql

# Our unit -> (what vmui shows on the axis, Grafana's unit id).
UNITS = {
    "percent": ("%", "percent"),
    "bytes": ("bytes", "bytes"),
    "bytes/s": ("bytes/s", "Bps"),
    "seconds": ("seconds", "s"),
    "ops/s": ("ops/s", "ops"),
    "requests/s": ("req/s", "reqps"),
    "messages/s": ("msg/s", "short"),
    "transactions/s": ("tx/s", "short"),
    "count": ("count", "short"),
    "events": ("events", "short"),
    "state": ("1 = yes, 0 = no", "bool"),
    "load": ("load", "short"),
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LEGEND_LABEL = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _panels(definition):
    for row in definition.get("rows") or []:
        for panel in (row or {}).get("panels") or []:
            yield row, panel


def check(definitions):
    """Every problem of a list of definitions, as sentences naming the dashboard and panel."""
    problems = []
    if not isinstance(definitions, list):
        return ["the dashboards must be a list of definitions"]
    names = [d.get("name") for d in definitions if isinstance(d, dict)]
    for name in sorted({n for n in names if names.count(n) > 1}, key=str):
        problems.append(f"two dashboards are named {name!r}: give each its own name")
    for index, definition in enumerate(definitions):
        if not isinstance(definition, dict):
            problems.append(f"dashboard {index + 1} is not a mapping")
            continue
        where = f"dashboard {definition.get('name') or index + 1!r}"
        if not NAME.match(str(definition.get("name") or "")):
            problems.append(f"{where}: name must be lower-case letters, digits, _ or - (it names the file)")
        for key in ("title", "description"):
            if not str(definition.get(key) or "").strip():
                problems.append(f"{where}: {key} is missing")
        if not definition.get("rows"):
            problems.append(f"{where}: it has no rows")
        titles = []
        for row, panel in _panels(definition):
            if not isinstance(panel, dict):
                problems.append(f"{where}: a panel of row {row.get('title')!r} is not a mapping")
                continue
            title = str(panel.get("title") or "").strip()
            here = f"{where}, panel {title!r}"
            if not title:
                problems.append(f"{where}: a panel of row {row.get('title')!r} has no title")
            titles.append(title)
            if panel.get("unit") not in UNITS:
                problems.append(f"{here}: unit must be one of {', '.join(UNITS)} (got {panel.get('unit')!r})")
            description = str(panel.get("description") or "").strip()
            if not description:
                problems.append(f"{here}: description is missing (one line: what it shows and what bad looks like)")
            elif "\n" in description:
                problems.append(f"{here}: description must be one line")
            width = panel.get("width", 6)
            if not isinstance(width, int) or not 1 <= width <= 12:
                problems.append(f"{here}: width must be 1-12 columns (got {width!r})")
            queries = panel.get("queries") or []
            if not queries:
                problems.append(f"{here}: it has no queries")
            for query in queries:
                expr = str((query or {}).get("expr") or "")
                error = promql.check(expr)
                if error:
                    problems.append(f"{here}: the expression {expr!r} does not parse: {error}")
        for title in sorted({t for t in titles if t and titles.count(t) > 1}):
            problems.append(f"{where}: two panels are titled {title!r}: panel titles must be unique in a dashboard")
    return problems


def _legend(text, style):
    return LEGEND_LABEL.sub(lambda m: "{{" + m.group(1) + "}}", text or "") if style else text


def vmui(definition):
    """The definition in vmui's custom dashboard format (-vmui.customDashboardsPath)."""
    rows = []
    for row in definition["rows"]:
        panels = []
        for panel in row["panels"]:
            queries = panel["queries"]
            rendered = {
                "title": panel["title"],
                "description": panel["description"],
                "unit": UNITS[panel["unit"]][0],
                "width": panel.get("width", 6),
                "expr": [q["expr"] for q in queries],
            }
            if any(q.get("legend") for q in queries):
                rendered["alias"] = [_legend(q.get("legend", ""), True) for q in queries]
            panels.append(rendered)
        rows.append({"title": row.get("title", ""), "panels": panels})
    return {"title": definition["title"], "rows": rows}


def grafana(definition):
    """The definition as a Grafana dashboard (schema 39) whose queries go to the data source chosen in
    its variable `datasource` (type prometheus)."""
    datasource = {"type": "prometheus", "uid": "${datasource}"}
    panels, y, panel_id = [], 0, 0
    for row in definition["rows"]:
        panel_id += 1
        panels.append({"type": "row", "id": panel_id, "title": row.get("title", ""), "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        y += 1
        x = 0
        for panel in row["panels"]:
            width = 2 * panel.get("width", 6)
            if x + width > 24:
                x, y = 0, y + 8
            panel_id += 1
            panels.append({
                "type": "timeseries",
                "id": panel_id,
                "title": panel["title"],
                "description": panel["description"],
                "datasource": datasource,
                "gridPos": {"h": 8, "w": width, "x": x, "y": y},
                "fieldConfig": {"defaults": {"unit": UNITS[panel["unit"]][1]}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                            "tooltip": {"mode": "multi", "sort": "none"}},
                "targets": [
                    {"refId": chr(ord("A") + index), "datasource": datasource, "expr": query["expr"],
                     "legendFormat": _legend(query.get("legend", ""), True) or "__auto", "range": True}
                    for index, query in enumerate(panel["queries"])
                ],
            })
            x += width
        y += 8
    return {
        "uid": f"cloudphone-{definition['name']}"[:40],
        "title": f"cloudphone: {definition['title']}",
        "description": definition["description"],
        "tags": ["cloudphone"],
        "schemaVersion": 39,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
        }]},
        "annotations": {"list": []},
        "panels": panels,
    }
