import datetime
import http.server
import json
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport
from ansible_collections.cloudphone.infra.plugins.modules import monitoring_info
from ansible_collections.cloudphone.infra.plugins.modules.monitoring_info import (
    alerts_of, check_rules, check_targets, rules_of, targets_of)
from module_run import run_module

TARGETS = {"data": {"activeTargets": [
    {"labels": {"job": "node", "instance": "data1"}, "health": "up", "lastError": "",
     "scrapeUrl": "https://data1.lab.cloudphone.test:9100/metrics"},
    {"labels": {"job": "redis", "instance": "data2"}, "health": "down",
     "lastError": "connection refused", "scrapeUrl": "https://data2.lab.cloudphone.test:9121/metrics"},
]}}


def test_targets_down_missing_and_unexpected_are_problems():
    report = HealthReport()
    targets = targets_of(TARGETS)
    assert [t["job"] + "/" + t["instance"] for t in targets] == ["node/data1", "redis/data2"]
    check_targets(report, targets, ["node/data1", "node/data2", "redis/data2"])
    assert not report.healthy
    assert report.problems == [
        "target redis/data2 (https://data2.lab.cloudphone.test:9121/metrics) is down: connection refused",
        "scrape targets: node/data2 expected by the inventory but not in the cluster",
    ]


def test_all_targets_up_and_as_expected_is_healthy():
    report = HealthReport()
    up = {"data": {"activeTargets": [dict(TARGETS["data"]["activeTargets"][0])]}}
    check_targets(report, targets_of(up), ["node/data1"])
    check_targets(report, targets_of(up), None)
    assert report.healthy


def test_failing_rules_are_problems_and_alerts_are_listed():
    report = HealthReport()
    rules = rules_of({"data": {"groups": [{"file": "/etc/prometheus/rules/redis.yml", "interval": 15, "rules": [
        {"name": "RedisDown", "type": "alerting", "duration": 60, "health": "ok", "state": "inactive"},
        {"name": "x:recorded", "type": "recording", "health": "ok"},
        {"name": "RedisMemoryNearMax", "type": "alerting", "duration": 300, "health": "err",
         "lastError": "many-to-many matching not allowed"}]}]}})
    assert [(r["name"], r["interval_s"], r["for_s"]) for r in rules] == [("RedisDown", 15, 60), ("RedisMemoryNearMax", 15, 300)]
    check_rules(report, rules)
    assert report.problems == ["rule RedisMemoryNearMax in /etc/prometheus/rules/redis.yml fails to evaluate: "
                               "many-to-many matching not allowed"]
    alerts = alerts_of([{"labels": {"alertname": "RedisDown", "instance": "data2"}, "status": {"state": "active"},
                         "startsAt": "2026-11-28T06:00:00Z", "annotations": {"summary": "x"}}])
    assert alerts == [{"name": "RedisDown", "state": "active", "starts_at": "2026-11-28T06:00:00Z",
                       "labels": {"alertname": "RedisDown", "instance": "data2"}, "annotations": {"summary": "x"}}]


class PrometheusThatHangsUp(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers the targets and drops the connection on `hang_up_on`."""

    hang_up_on = None
    answers = {
        "/api/v1/targets": {"status": "success", "data": {"activeTargets": []}},
        "/api/v1/rules": {"status": "success", "data": {"groups": []}},
        "/api/v1/query": {"status": "success", "data": {"result": []}},
        "/api/v2/alerts": [],
    }

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == self.hang_up_on:
            # No status line, no body: the client sees the connection close mid-request.
            self.close_connection = True
            return
        body = json.dumps(self.answers[path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output clean."""


@pytest.fixture
def ca_file(tmp_path):
    """A CA certificate for the module's ca_file: the HTTP client loads it even for plain HTTP."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "monitoring_info test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.fixture
def prometheus_hanging_up_on(request):
    handler = type("Handler", (PrometheusThatHangsUp,), {"hang_up_on": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("prometheus_hanging_up_on", ["/api/v1/rules", "/api/v1/query"], indirect=True)
def test_prometheus_lost_after_the_targets_fails_with_a_message(prometheus_hanging_up_on, ca_file):
    code, result = run_module(monitoring_info.main, {
        "prometheus_url": prometheus_hanging_up_on, "alertmanager_url": prometheus_hanging_up_on,
        "prometheus_password": "unused-by-the-test-server", "alertmanager_password": "unused-by-the-test-server",
        "ca_file": ca_file, "query": "up"})
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith(f"cannot reach Prometheus at {prometheus_hanging_up_on}")
    assert "prometheus.service" in result["msg"]
