# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A client of the Prometheus query API (/api/v1/query), as VictoriaMetrics and Prometheus serve it."""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

QUERY_PATH = "/api/v1/query"


class MetricsQueryError(Exception):
    """The API could not be asked, or refused the question; the message says what to do."""


def explain_status(status, body, url):
    """An operator's sentence for a refused request."""
    body = (body or "").strip()
    if status == 401:
        return (f"{url} asked for a user and password (401): pass username and password (the query frontend's "
                "haproxy_monitoring_query_user and haproxy_monitoring_query_password)")
    if status == 403:
        return f"{url} refused the request (403): this frontend does not serve queries (use the query port)"
    if status in (502, 503, 504):
        return (f"{url} answered {status}: the server behind it does not answer; check `systemctl status "
                "victoria-metrics` on the monitoring host")
    return f"{url} answered {status}: {body[:500]}"


def parse_answer(body):
    """The series of an instant query's answer, each as {metric: {...}, value: float}.

    A scalar answer is one series without labels. Raises MetricsQueryError for an answer that is not
    the API's JSON, and for an error status (a query the server refused: its message)."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise MetricsQueryError(f"the answer is not JSON ({body[:120]!r}): is this URL a Prometheus query API?") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        error = answer.get("error") if isinstance(answer, dict) else None
        raise MetricsQueryError(f"the query was refused: {error or body[:500]}")
    data = answer.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return [{"metric": {}, "value": float(result[1])}]
    if kind != "vector":
        raise MetricsQueryError(f"an instant query returned a {kind}, not a vector or a scalar")
    return [{"metric": item.get("metric", {}), "value": float(item["value"][1])} for item in result]


def instant_query(base_url, query, at=None, username=None, password=None, ca_file=None, timeout=30):
    """Run one instant query; its series as a list of {metric, value}."""
    from ansible.module_utils.six.moves.urllib.error import HTTPError

    url = base_url.rstrip("/") + QUERY_PATH
    # Plain HTTP (the server itself, on localhost) needs no CA; the default CA path may not exist there.
    ca_file = ca_file if url.startswith("https://") else None
    form = {"query": query}
    if at is not None:
        form["time"] = str(at)
    try:
        response = open_url(url, method="POST", data=urlencode(form), timeout=timeout, ca_path=ca_file,
                            validate_certs=True, headers={"Content-Type": "application/x-www-form-urlencoded"},
                            url_username=username, url_password=password, force_basic_auth=username is not None)
        body = response.read().decode("utf-8", "replace")
    except HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        if exc.code in (400, 422):
            # The server refused the query itself: its JSON says why.
            try:
                parse_answer(text)
            except MetricsQueryError as refused:
                raise MetricsQueryError(str(refused)) from None
        raise MetricsQueryError(explain_status(exc.code, text, url)) from None
    except Exception as exc:  # refused, reset, TLS, timeout
        raise MetricsQueryError(
            f"cannot reach the query API at {url}: {exc}; check that victoria-metrics (and HAProxy, when the URL is its "
            "query frontend) runs on the monitoring host, that this host reaches the port, and that ca_file is the CA "
            "of its certificate") from None
    return parse_answer(body)
