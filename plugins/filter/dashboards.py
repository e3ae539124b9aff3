# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the dashboards (logic in plugins/plugin_utils/dashboards.py)."""

from __future__ import annotations

from ansible_collections.cloudphone.infra.plugins.plugin_utils import dashboards


def dashboard_problems(definitions):
    """What is wrong with a list of dashboard definitions: expressions that do not parse, missing
    units or descriptions, panel titles used twice. An empty list when nothing is."""
    return dashboards.check(definitions)


def vmui_dashboard(definition):
    """One definition in vmui's custom dashboard JSON format."""
    return dashboards.vmui(definition)


def grafana_dashboard(definition):
    """One definition as Grafana dashboard JSON with a Prometheus data source variable."""
    return dashboards.grafana(definition)


class FilterModule:
    def filters(self):
        return {
            "dashboard_problems": dashboard_problems,
            "vmui_dashboard": vmui_dashboard,
            "grafana_dashboard": grafana_dashboard,
        }
