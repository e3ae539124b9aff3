# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small client of VictoriaLogs' LogsQL HTTP API (/select/logsql/query).

VictoriaLogs answers a query with JSON lines: one JSON object per log row, with `_time`, `_msg`,
`_stream` and every field of the row. Errors come back as a non-200 status with a plain-text
explanation, which `LogsQueryError` carries to the module's message.
"""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

QUERY_PATH = "/select/logsql/query"


class LogsQueryError(Exception):
    """VictoriaLogs could not be asked, or refused the question; the message says what to do."""


def parse_json_lines(text):
    """The rows of a /select/logsql/query answer. Blank lines are skipped; a line that is not a JSON
    object raises LogsQueryError (the endpoint is not VictoriaLogs, or a proxy answered)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise LogsQueryError(
                f"line {number} of the answer is not JSON ({line[:120]!r}): is this URL VictoriaLogs?") from None
        if not isinstance(row, dict):
            raise LogsQueryError(f"line {number} of the answer is not a JSON object ({line[:120]!r})")
        rows.append(row)
    return rows


def query_form(query, limit=None, start=None, end=None):
    """The form fields of a query: empty ones are left out, so VictoriaLogs applies its defaults."""
    form = {"query": query}
    if limit:
        form["limit"] = str(int(limit))
    if start:
        form["start"] = str(start)
    if end:
        form["end"] = str(end)
    return form


def explain_status(status, body, url):
    """An operator's sentence for a refused query."""
    body = (body or "").strip()
    if status == 401:
        return (f"{url} asked for a user and password (401): pass username and password (the query frontend's "
                "haproxy_logging_query_user and haproxy_logging_query_password)")
    if status == 403:
        return f"{url} refused the query (403): this frontend does not serve queries (use the query port, not ingestion)"
    if status == 400:
        return f"VictoriaLogs refused the LogsQL query (400): {body[:500]}"
    if status in (502, 503, 504):
        return (f"{url} answered {status}: VictoriaLogs behind it does not answer; check `systemctl status victoria-logs` "
                "on the logging host")
    return f"{url} answered {status}: {body[:500]}"


def run_query(base_url, query, limit=None, start=None, end=None, username=None, password=None, ca_file=None,
              client_cert=None, client_key=None, timeout=30):
    """Run one LogsQL query; the rows as a list of dicts."""
    from ansible.module_utils.six.moves.urllib.error import HTTPError

    url = base_url.rstrip("/") + QUERY_PATH
    # Plain HTTP (VictoriaLogs itself, on localhost) needs no CA; the default CA path may not exist there.
    ca_file = ca_file if url.startswith("https://") else None
    data = urlencode(query_form(query, limit, start, end))
    try:
        response = open_url(url, method="POST", data=data, timeout=timeout, ca_path=ca_file, validate_certs=True,
                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                            url_username=username, url_password=password, force_basic_auth=username is not None,
                            client_cert=client_cert, client_key=client_key)
        body = response.read().decode("utf-8", "replace")
    except HTTPError as exc:
        raise LogsQueryError(explain_status(exc.code, exc.read().decode("utf-8", "replace"), url)) from None
    except Exception as exc:  # refused, reset, TLS, timeout
        raise LogsQueryError(
            f"cannot reach VictoriaLogs at {url}: {exc}; check that victoria-logs (and HAProxy, when the URL is its "
            "query frontend) runs on the logging host, that this host reaches the port, and that ca_file is the CA of "
            "its certificate") from None
    return parse_json_lines(body)
