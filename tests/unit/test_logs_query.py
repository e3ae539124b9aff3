"""cloudphone.infra.logs_query and its client (plugins/module_utils/victorialogs.py), against a local
HTTP server that answers like VictoriaLogs' /select/logsql/query (JSON lines)."""

import base64
import http.server
import json
import threading
import urllib.parse

import pytest

from ansible_collections.cloudphone.infra.plugins.module_utils.victorialogs import (
    LogsQueryError, explain_status, parse_json_lines, query_form)
from ansible_collections.cloudphone.infra.plugins.modules import logs_query
from module_run import run_module

ROWS = [
    {"_time": "2026-12-07T06:51:03Z", "_msg": '{"traceId":"abc-123","msg":"paid"}', "_HOSTNAME": "data2",
     "_SYSTEMD_UNIT": "api.service", "PRIORITY": "6"},
    {"_time": "2026-12-07T06:51:01Z", "_msg": '{"traceId":"abc-123","msg":"created"}', "_HOSTNAME": "data1",
     "_SYSTEMD_UNIT": "api.service", "PRIORITY": "6"},
    {"_time": "2026-12-07T06:51:02Z", "_msg": '{"traceId":"abc-123","msg":"queued"}', "_HOSTNAME": "ops1"},
]


def test_json_lines_become_rows_and_blank_lines_are_skipped():
    text = "\n".join(json.dumps(r) for r in ROWS) + "\n\n"
    assert parse_json_lines(text) == ROWS
    assert parse_json_lines("") == []


@pytest.mark.parametrize("text, words", [
    ("<html>Service Unavailable</html>", "is this URL VictoriaLogs"),
    ('{"a":1}\n[1,2]', "line 2 of the answer is not a JSON object"),
])
def test_an_answer_that_is_not_json_lines_is_explained(text, words):
    with pytest.raises(LogsQueryError, match=words):
        parse_json_lines(text)


def test_empty_form_fields_are_left_to_victorialogs():
    assert query_form("x") == {"query": "x"}
    assert query_form("x", limit=10, start="5m", end="now") == {"query": "x", "limit": "10", "start": "5m", "end": "now"}
    assert query_form("x", limit=0) == {"query": "x"}


@pytest.mark.parametrize("status, words", [
    (401, "haproxy_logging_query_password"),
    (403, "use the query port"),
    (400, "refused the LogsQL query (400): unexpected token"),
    (503, "systemctl status victoria-logs"),
    (500, "answered 500: boom"),
])
def test_refusals_say_what_to_do(status, words):
    body = {400: "unexpected token", 500: "boom"}.get(status, "")
    assert words in explain_status(status, body, "https://ops1:9430/select/logsql/query")


class FakeVictoriaLogs(http.server.BaseHTTPRequestHandler):
    """Answers /select/logsql/query with ROWS (or 400 for a query containing 'bad'); requires basic auth
    logs:secret when the class says so. Records each form it got."""

    require_auth = False
    forms = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        type(self).forms.append(form)
        expected = "Basic " + base64.b64encode(b"logs:secret").decode()
        if self.require_auth and self.headers.get("Authorization") != expected:
            return self._answer(401, "Unauthorized")
        if self.path != "/select/logsql/query":
            return self._answer(404, "not found")
        if "bad" in form["query"]:
            return self._answer(400, "cannot parse query [bad(]: unexpected token")
        rows = [] if "nothing" in form["query"] else ROWS
        return self._answer(200, "".join(json.dumps(r) + "\n" for r in rows))

    def _answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output clean."""


@pytest.fixture
def victorialogs(request):
    handler = type("Handler", (FakeVictoriaLogs,), {"require_auth": getattr(request, "param", False), "forms": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_rows_come_back_oldest_first_with_their_hosts(victorialogs):
    url, handler = victorialogs
    code, result = run_module(logs_query.main, {"url": url, "query": '"abc-123"', "start": "1h", "limit": 10,
                                                "_ansible_check_mode": True})
    assert code == 0 and result["changed"] is False
    assert [r["_HOSTNAME"] for r in result["rows"]] == ["data1", "ops1", "data2"]
    assert result["count"] == 3 and result["hosts"] == ["data1", "data2", "ops1"]
    assert handler.forms == [{"query": '"abc-123"', "start": "1h", "limit": "10"}]


def test_too_few_rows_fail_with_the_rows_found(victorialogs):
    url, _handler = victorialogs
    code, result = run_module(logs_query.main, {"url": url, "query": "nothing here", "min_rows": 1})
    assert code == 1 and result["count"] == 0
    assert "found 0 row(s), fewer than min_rows=1" in result["msg"]
    code, result = run_module(logs_query.main, {"url": url, "query": "x", "min_rows": 3})
    assert code == 0 and result["count"] == 3


@pytest.mark.parametrize("victorialogs", [True], indirect=True)
def test_a_password_is_sent_and_a_wrong_one_is_explained(victorialogs):
    url, _handler = victorialogs
    code, result = run_module(logs_query.main, {"url": url, "query": "x", "username": "logs", "password": "secret"})
    assert code == 0 and result["count"] == 3
    code, result = run_module(logs_query.main, {"url": url, "query": "x", "username": "logs", "password": "wrong"})
    assert code == 1 and "asked for a user and password (401)" in result["msg"]
    assert "wrong" not in json.dumps(result)


def test_a_bad_query_shows_victorialogs_message(victorialogs):
    url, _handler = victorialogs
    code, result = run_module(logs_query.main, {"url": url, "query": "bad("})
    assert code == 1 and result["msg"] == "VictoriaLogs refused the LogsQL query (400): cannot parse query [bad(]: unexpected token"


def test_an_unreachable_server_is_explained(closed_port):
    code, result = run_module(logs_query.main, {"url": f"http://127.0.0.1:{closed_port}", "query": "x", "timeout": 2})
    assert code == 1 and result["msg"].startswith(f"cannot reach VictoriaLogs at http://127.0.0.1:{closed_port}")
    assert "runs on the logging host" in result["msg"]


@pytest.mark.parametrize("args, words", [
    ({"query": "  "}, "query is empty"),
    ({"query": "x", "limit": -1}, "limit must be 0"),
    ({"query": "x", "username": "logs"}, "parameters are required together: username, password"),
])
def test_bad_arguments_are_refused_before_asking(args, words, closed_port):
    code, result = run_module(logs_query.main, {"url": f"http://127.0.0.1:{closed_port}", **args})
    assert code == 1 and words in result["msg"]
