#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: logs_query
short_description: Run a LogsQL query on VictoriaLogs and return the rows
description:
  - Asks VictoriaLogs (the logging tier, role C(cloudphone.infra.victorialogs)) one LogsQL query through
    C(/select/logsql/query) and returns the matching log rows, each with C(_time), C(_msg), C(_stream) and its fields
    (for the journal C(_HOSTNAME), C(_SYSTEMD_UNIT), C(PRIORITY), C(CONTAINER_NAME), ...).
  - Use it on the logging host against VictoriaLogs itself (the default URL, localhost), or from anywhere through
    HAProxy's query frontend with O(username) and O(password).
  - Only reads, so check mode runs it as usual. Fails with a message that says what to do when VictoriaLogs cannot be
    reached, asks for a password, or refuses the query.
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.query_frontend
options:
  url:
    description:
      - Base URL of VictoriaLogs, or of HAProxy's query frontend (C(https://<logging host>:9430)).
    type: str
    default: http://127.0.0.1:9428
  query:
    description:
      - The LogsQL query, e.g. C(traceId:abc-123), C("abc-123") (a phrase), or C(_SYSTEMD_UNIT:haproxy.service error).
    type: str
    required: true
  start:
    description: Oldest time to search, as VictoriaLogs reads it (C(5m) ago, C(2026-12-07T06:00:00Z), a Unix time).
    type: str
  end:
    description: Newest time to search (same forms as O(start)); omit for now.
    type: str
  limit:
    description: At most this many rows (the newest ones); 0 for every match.
    type: int
    default: 1000
  min_rows:
    description:
      - Fail unless at least this many rows match. With C(until) and C(retries) on the task, this waits for logs
        to arrive.
    type: int
    default: 0
  client_cert:
    description: A client certificate to present (HAProxy's ingestion frontend wants one; the query frontend does not).
    type: path
  client_key:
    description: Key of O(client_cert).
    type: path
  timeout:
    description: Seconds to wait for the answer.
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
- name: Find one request across every service by its trace ID (the NestJS services log JSON with traceId)
  cloudphone.infra.logs_query:
    query: '"abc-123" | unpack_json fields (traceId) | filter traceId:="abc-123"'
    start: 1h
  become: true
  delegate_to: ops1
  register: trace

- name: The same from the control node, through HAProxy's query frontend
  cloudphone.infra.logs_query:
    url: https://ops1.cloudphone.internal:9430
    username: logs
    password: "{{ haproxy_logging_query_password }}"
    ca_file: "{{ inventory_dir }}/credentials/pki/ca.crt"
    query: _HOSTNAME:db-1 AND _SYSTEMD_UNIT:patroni.service AND PRIORITY:<=3
    start: 30m
  delegate_to: localhost

- name: Wait until a line written on data1 is searchable
  cloudphone.infra.logs_query:
    query: _HOSTNAME:data1 AND "marker-42"
    min_rows: 1
  register: found
  until: found is succeeded
  retries: 30
  delay: 2
  delegate_to: ops1
"""

RETURN = r"""
rows:
  description: The matching rows, newest last, each with every field VictoriaLogs stored.
  returned: always
  type: list
  elements: dict
  sample: [{_time: "2026-12-07T06:51:02.123Z", _msg: '{"traceId":"abc-123","msg":"created"}', _HOSTNAME: data1,
            _SYSTEMD_UNIT: api.service, PRIORITY: "6", _stream: '{_HOSTNAME="data1",_SYSTEMD_UNIT="api.service"}'}]
count:
  description: The number of rows in RV(rows).
  returned: always
  type: int
  sample: 1
hosts:
  description: The distinct C(_HOSTNAME) values of the rows, sorted.
  returned: always
  type: list
  elements: str
  sample: [data1, data2, ops1]
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.cloudphone.infra.plugins.module_utils.victorialogs import LogsQueryError, run_query  # noqa: E402


def summarize(rows):
    """count and hosts of the rows (journal rows carry _HOSTNAME; others may not)."""
    return {"count": len(rows), "hosts": sorted({str(r["_HOSTNAME"]) for r in rows if r.get("_HOSTNAME")})}


def rows_by_time(rows):
    """Oldest first: VictoriaLogs returns the newest rows of a limited query in no set order."""
    return sorted(rows, key=lambda r: str(r.get("_time", "")))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", default="http://127.0.0.1:9428"),
            query=dict(type="str", required=True),
            start=dict(type="str"),
            end=dict(type="str"),
            limit=dict(type="int", default=1000),
            min_rows=dict(type="int", default=0),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            ca_file=dict(type="path", default="/etc/cloudphone/pki/ca.crt"),
            client_cert=dict(type="path"),
            client_key=dict(type="path"),
            timeout=dict(type="int", default=30),
        ),
        required_together=[("username", "password"), ("client_cert", "client_key")],
        supports_check_mode=True,
    )
    p = module.params
    if not p["query"].strip():
        module.fail_json(msg="query is empty: give a LogsQL query, e.g. '_HOSTNAME:data1' or '\"abc-123\"' (every row is '*')")
    if p["limit"] < 0:
        module.fail_json(msg=f"limit must be 0 (every match) or more, got {p['limit']}")
    try:
        rows = run_query(p["url"], p["query"], limit=p["limit"], start=p["start"], end=p["end"],
                         username=p["username"], password=p["password"], ca_file=p["ca_file"],
                         client_cert=p["client_cert"], client_key=p["client_key"], timeout=p["timeout"])
    except LogsQueryError as exc:
        module.fail_json(msg=str(exc), rows=[], count=0, hosts=[])
    rows = rows_by_time(rows)
    result = dict(changed=False, rows=rows, **summarize(rows))
    if result["count"] < p["min_rows"]:
        module.fail_json(msg=f"the query {p['query']!r} found {result['count']} row(s), fewer than min_rows={p['min_rows']}",
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
