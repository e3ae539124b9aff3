#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: metrics_query
short_description: Run PromQL instant queries on VictoriaMetrics (or Prometheus) and return the series
description:
  - Asks the Prometheus query API (C(/api/v1/query)) of VictoriaMetrics (role C(cloudphone.infra.victoriametrics)) one
    or more instant queries and returns, for each, its series with their labels and values.
  - Use it on the monitoring host against VictoriaMetrics itself (the default URL, localhost), or from anywhere through
    HAProxy's query frontend with O(username) and O(password).
  - With O(queries), every query is asked and a refused one is reported in its result instead of failing the task, so
    one call checks a whole dashboard. With O(query), a refusal fails the task.
  - Only reads, so check mode runs it as usual. Fails with a message that says what to do when the API cannot be
    reached or asks for a password.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.query_frontend
options:
  url:
    description: Base URL of VictoriaMetrics, or of HAProxy's query frontend (C(https://<monitoring host>:8430)).
    type: str
    default: http://127.0.0.1:8428
  query:
    description: One PromQL/MetricsQL expression; mutually exclusive with O(queries).
    type: str
  queries:
    description: Several expressions, each asked on its own.
    type: list
    elements: str
  time:
    description: Evaluation time (Unix seconds); omit for now.
    type: float
  min_series:
    description: With O(query), fail unless the answer has at least this many series (a wait with C(until)).
    type: int
    default: 0
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
attributes:
  check_mode:
    description: Only reads, so check mode runs it as usual.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: VictoriaMetrics answers, and knows its own version
  cloudphone.infra.metrics_query:
    query: vm_app_version
    min_series: 1
  delegate_to: ops1

- name: Every expression of a dashboard, through HAProxy's query frontend
  cloudphone.infra.metrics_query:
    url: https://ops1.cloudphone.internal:8430
    username: metrics
    password: "{{ haproxy_monitoring_query_password }}"
    ca_file: "{{ inventory_dir }}/credentials/pki/ca.crt"
    queries:
      - sum by (instance) (rate(redis_commands_processed_total[5m]))
      - redis_sentinel_master_status
  delegate_to: localhost
  register: answers   # answers.results[0].series, .count, .error
"""

RETURN = r"""
series:
  description: With O(query), its series, each with its labels (C(metric)) and C(value).
  returned: with query
  type: list
  elements: dict
  sample: [{metric: {__name__: vm_app_version, version: victoria-metrics-v1.151.0-cloudphone}, value: 1.0}]
count:
  description: With O(query), the number of series.
  returned: with query
  type: int
  sample: 1
results:
  description: With O(queries), one item per expression, in order, with C(query), C(series), C(count) and C(error)
    (null, or why the query was refused).
  returned: with queries
  type: list
  elements: dict
  sample: [{query: up, series: [{metric: {job: node, instance: data1}, value: 1.0}], count: 1, error: null}]
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.cloudphone.infra.plugins.module_utils.metrics_api import (  # noqa: E402
    MetricsQueryError, instant_query)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", default="http://127.0.0.1:8428"),
            query=dict(type="str"),
            queries=dict(type="list", elements="str"),
            time=dict(type="float"),
            min_series=dict(type="int", default=0),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            ca_file=dict(type="path", default="/etc/cloudphone/pki/ca.crt"),
            timeout=dict(type="int", default=30),
        ),
        required_together=[("username", "password")],
        required_one_of=[("query", "queries")],
        mutually_exclusive=[("query", "queries")],
        supports_check_mode=True,
    )
    p = module.params
    ask = dict(at=p["time"], username=p["username"], password=p["password"], ca_file=p["ca_file"], timeout=p["timeout"])
    if p["query"] is not None:
        try:
            series = instant_query(p["url"], p["query"], **ask)
        except MetricsQueryError as exc:
            module.fail_json(msg=str(exc), series=[], count=0)
        if len(series) < p["min_series"]:
            module.fail_json(msg=f"the query {p['query']!r} returned {len(series)} series, fewer than "
                                 f"min_series={p['min_series']}", series=series, count=len(series))
        module.exit_json(changed=False, series=series, count=len(series))
    results = []
    for query in p["queries"]:
        try:
            series, error = instant_query(p["url"], query, **ask), None
        except MetricsQueryError as exc:
            if str(exc).startswith("cannot reach") or "(401)" in str(exc) or "(403)" in str(exc):
                # Not the query's fault: no later query would fare better.
                module.fail_json(msg=str(exc), results=results)
            series, error = [], str(exc)
        results.append({"query": query, "series": series, "count": len(series), "error": error})
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
