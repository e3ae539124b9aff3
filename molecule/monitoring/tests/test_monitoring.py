"""Verify Prometheus, Alertmanager and node_exporter on real hosts: TLS, auth, users, targets, routing,
and one alert end to end (node_exporter stopped on data1 -> HostDown in Alertmanager, at the webhook,
and resolved after the restart). And VictoriaMetrics behind HAProxy: its own user on localhost only,
the refusals of both frontends, Prometheus' samples arriving through the remote write, and the six
dashboards served to vmui."""

import base64
import functools
import json
import os
import ssl
import time
import urllib.error
import urllib.request

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("all")
CA_ON_CONTROLLER = os.path.join(os.path.dirname(INVENTORY), "credentials", "pki", "ca.crt")
PKI = "/etc/cloudphone/pki"
DOMAIN = "lab.cloudphone.test"
OPS = f"ops1.{DOMAIN}"
# Rule evaluation interval and HostDown's `for:` (roles/prometheus defaults, files/rules/common.yml).
EVALUATION_S = 15
HOSTDOWN_FOR_S = 60


@functools.cache
def _host(name):
    # Plain SSH with the key Molecule wrote into the inventory: the lab's group_vars template the
    # key path, which testinfra's ansible backend cannot resolve without running Ansible each time.
    hostvars = RUNNER.get_variables(name)
    return testinfra.get_host(
        f"ssh://{hostvars['ansible_user']}@{hostvars['ansible_host']}",
        ssh_identity_file=hostvars["ansible_private_key_file"],
        ssh_extra_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")


@functools.cache
def _password(service):
    ops = _host("ops1")
    with ops.sudo():
        return ops.file(f"/etc/prometheus/{service}.password").content_string.strip()


def _api(path, service="prometheus", port=9090):
    """GET an API path of Prometheus or Alertmanager from the control node, as the admin user, over TLS
    verified against the collection's CA."""
    address = RUNNER.get_variables("ops1")["ansible_host"]
    request = urllib.request.Request(f"https://{address}:{port}{path}")
    token = f"admin:{_password(service)}".encode()
    request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    context = ssl.create_default_context(cafile=CA_ON_CONTROLLER)
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def _alerts():
    return _api("/api/v2/alerts", service="alertmanager", port=9093)


def _wait(predicate, timeout, what):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = predicate()
        if value:
            return value, time.monotonic() - started
        time.sleep(1)
    pytest.fail(f"{what} did not happen within {timeout}s")


@pytest.mark.parametrize("name", ["ops1", "data1"])
def test_node_exporter_runs_as_its_own_user_with_tls_only(name):
    host = _host(name)
    proc = host.process.get(comm="prometheus-node")
    assert proc.user == "node_exporter"
    assert "--web.config.file=/etc/cloudphone/exporters/node.web.yml" in proc.args
    # No certificate: the TLS handshake is refused. Plain HTTP: not a metrics page either.
    assert host.run(f"curl -sS --cacert {PKI}/ca.crt https://localhost:9100/metrics").rc != 0
    assert "node_exporter_build_info" not in host.run("curl -sS http://localhost:9100/metrics").stdout
    with host.sudo():
        out = host.check_output(f"curl -sS --cacert {PKI}/ca.crt --cert {PKI}/host.crt --key {PKI}/host.key "
                                "https://localhost:9100/metrics")
    assert "node_exporter_build_info" in out


def test_prometheus_and_alertmanager_need_tls_and_a_password():
    ops = _host("ops1")
    for port in (9090, 9093):
        code = ops.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' --cacert {PKI}/ca.crt https://{OPS}:{port}/-/ready")
        assert code == "401", f"port {port} answered {code} without credentials"
        code = ops.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' --cacert {PKI}/ca.crt "
                                f"-u admin:wrong-password-123456 https://{OPS}:{port}/-/ready")
        assert code == "401"
    # Alertmanager runs alone: no gossip port.
    assert not ops.socket("tcp://0.0.0.0:9094").is_listening
    assert not ops.socket("tcp://:::9094").is_listening


def test_no_secret_on_a_command_line_and_credentials_files_are_private():
    ops = _host("ops1")
    with ops.sudo():
        secrets = [ops.file(f"/etc/prometheus/{n}.password").content_string.strip()
                   for n in ("prometheus", "alertmanager", "alertmanager-smtp")]
        cmdlines = ops.check_output("ps -eo args")
        for name in ("prometheus", "alertmanager", "alertmanager-smtp"):
            f = ops.file(f"/etc/prometheus/{name}.password")
            assert (f.user, f.group, f.mode) == ("root", "prometheus", 0o640)
        config = ops.file("/etc/prometheus/prometheus.yml").content_string + \
            ops.file("/etc/prometheus/alertmanager.yml").content_string
    for secret in secrets:
        assert len(secret) >= 16
        assert secret not in cmdlines
        assert secret not in config


def test_every_expected_target_is_up():
    targets = _api("/api/v1/targets?state=active")["data"]["activeTargets"]
    seen = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in targets}
    expected = {("node", "ops1"), ("node", "data1"), ("prometheus", "ops1"), ("alertmanager", "ops1"),
                ("haproxy", "ops1"), ("victoriametrics", "ops1")}
    assert set(seen) == expected
    assert all(h == "up" for h in seen.values()), seen


def test_only_the_host_service_and_long_term_store_rules_are_loaded():
    groups = _api("/api/v1/rules")["data"]["groups"]
    assert {g["name"] for g in groups} == {"cloudphone"}
    assert {g["file"] for g in groups} == {"/etc/prometheus/rules/common.yml", "/etc/prometheus/rules/haproxy.yml",
                                           "/etc/prometheus/rules/monitoring.yml"}
    names = {r["name"] for g in groups for r in g["rules"]}
    assert {"HostDown", "TargetDown", "HostDiskSpaceLow", "HostClockSkew", "HTTPHighErrorRate",
            "MetricsRemoteWriteBehind", "VictoriaMetricsReadOnly"} <= names


def test_configs_pass_the_daemons_own_checks():
    ops = _host("ops1")
    with ops.sudo():
        assert ops.run("promtool check config /etc/prometheus/prometheus.yml").rc == 0
        assert ops.run("amtool check-config /etc/prometheus/alertmanager.yml").rc == 0
        assert ops.run("promtool check web-config /etc/prometheus/web.yml /etc/prometheus/alertmanager-web.yml").rc == 0


@pytest.mark.parametrize("labels,receiver", [
    ("alertname=RedisDown severity=critical tier=redis instance=data2", "platform-and-oncall"),
    ("alertname=RedisReplicaLinkDown severity=warning tier=redis instance=data2", "platform"),
    ("alertname=HostDiskSpaceLow severity=warning instance=data1", "platform"),
])
def test_routing_webhook_for_all_email_for_critical(labels, receiver):
    ops = _host("ops1")
    with ops.sudo():
        out = ops.check_output(f"amtool config routes test --config.file=/etc/prometheus/alertmanager.yml {labels}")
    assert out.strip().splitlines()[-1] == receiver
    with ops.sudo():
        config = ops.check_output("amtool config show --config.file=/etc/prometheus/alertmanager.yml 2>/dev/null || "
                                  "cat /etc/prometheus/alertmanager.yml")
    assert "email_configs" in config and "webhook_configs" in config


def test_host_down_fires_within_budget_reaches_the_webhook_and_resolves():
    data1 = _host("data1")
    ops = _host("ops1")
    budget = HOSTDOWN_FOR_S + 2 * EVALUATION_S

    def firing():
        return [a for a in _alerts() if a["labels"].get("alertname") == "HostDown"
                and a["labels"].get("instance") == "data1" and a["status"]["state"] == "active"]

    assert not firing(), "HostDown already fires before the fault"
    with data1.sudo():
        data1.check_output("systemctl stop prometheus-node-exporter")
    try:
        alerts, fired_s = _wait(firing, budget + 30, "HostDown for data1")
        print(f"HostDown for data1 in Alertmanager {fired_s:.1f}s after node_exporter stopped (budget {budget}s)")
        assert fired_s <= budget, f"HostDown reached Alertmanager after {fired_s:.0f}s, budget {budget}s"
        assert alerts[0]["labels"]["severity"] == "critical"
        assert [a for a in _alerts() if a["labels"].get("alertname") == "HostDown"
                and a["labels"].get("instance") != "data1"] == []

        def delivered():
            with ops.sudo():
                lines = ops.run("cat /var/lib/webhook-sink/alerts.jsonl").stdout.splitlines()
            return [m for m in map(json.loads, lines) if m["payload"]["status"] == "firing"
                    and any(a["labels"].get("alertname") == "HostDown" for a in m["payload"]["alerts"])]
        _wait(delivered, 60, "the HostDown notification at the webhook")
    finally:
        with data1.sudo():
            data1.check_output("systemctl start prometheus-node-exporter")
    _, resolved_s = _wait(lambda: not firing(), 2 * EVALUATION_S + 30, "HostDown to resolve")
    print(f"HostDown resolved {resolved_s:.1f}s after node_exporter started again")
    assert resolved_s <= 2 * EVALUATION_S + 15


# ---------------------------------------------------------------- VictoriaMetrics

METRICS_QUERY = 8430
METRICS_WRITE = 8429


def _metrics_password():
    """The query frontend's password, read from HAProxy's configuration on ops1 (it is in the vault)."""
    ops = _host("ops1")
    with ops.sudo():
        config = ops.file("/etc/haproxy/haproxy.cfg").content_string
    line = next(l for l in config.splitlines() if l.strip().startswith("user metrics insecure-password"))
    return line.split()[-1]


def _metrics(path, password=None):
    """GET a path of HAProxy's metrics query frontend from the control node: (status, body)."""
    address = RUNNER.get_variables("ops1")["ansible_host"]
    request = urllib.request.Request(f"https://{address}:{METRICS_QUERY}{path}")
    if password is not None:
        token = f"metrics:{password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    context = ssl.create_default_context(cafile=CA_ON_CONTROLLER)
    context.check_hostname = False
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_victoriametrics_runs_as_its_own_user_on_localhost_only():
    ops = _host("ops1")
    proc = ops.process.get(comm="victoria-metric")
    assert proc.user == "victoriametrics"
    assert "-retentionPeriod=12M" in proc.args and "-vmui.customDashboardsPath=/etc/victoria-metrics/dashboards" in proc.args
    assert ops.socket("tcp://127.0.0.1:8428").is_listening
    assert not ops.socket("tcp://0.0.0.0:8428").is_listening
    with ops.sudo():
        unit = ops.check_output("systemctl show victoria-metrics -p NoNewPrivileges -p ProtectSystem -p CapabilityBoundingSet")
    assert "NoNewPrivileges=yes" in unit and "ProtectSystem=strict" in unit and "CapabilityBoundingSet=\n" in unit + "\n"


def test_the_query_frontend_wants_the_password_and_only_reads():
    password = _metrics_password()
    assert len(password) >= 16
    assert _metrics("/api/v1/query?query=up")[0] == 401
    assert _metrics("/api/v1/query?query=up", "wrong-password-123456")[0] == 401
    assert _metrics("/api/v1/query?query=up", password)[0] == 200
    # Writes, imports, deletes and internal endpoints are refused on the query port.
    for path in ("/api/v1/write", "/api/v1/import/prometheus", "/api/v1/admin/tsdb/delete_series?match[]=up",
                 "/internal/force_flush", "/snapshot/create"):
        assert _metrics(path, password)[0] == 403, path
    status, page = _metrics("/vmui/", password)
    assert status == 200 and "<html" in page.lower()


def test_the_remote_write_frontend_wants_a_client_certificate():
    ops = _host("ops1")
    # Without a certificate the TLS handshake fails; with ops1's own, only /api/v1/write and /metrics.
    assert ops.run(f"curl -sS --cacert {PKI}/ca.crt https://{OPS}:{METRICS_WRITE}/metrics").rc != 0
    with ops.sudo():
        tls = f"--cacert {PKI}/ca.crt --cert {PKI}/host.crt --key {PKI}/host.key"
        metrics = ops.check_output(f"curl -sS {tls} https://{OPS}:{METRICS_WRITE}/metrics")
        query = ops.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {tls} "
                                 f"'https://{OPS}:{METRICS_WRITE}/api/v1/query?query=up'")
    assert "vm_app_version" in metrics
    assert query == "403"


def test_prometheus_samples_reach_victoriametrics():
    password = _metrics_password()

    def node_series():
        status, body = _metrics("/api/v1/query?query=up%7Bjob%3D%22node%22%7D", password)
        result = json.loads(body)["data"]["result"] if status == 200 else []
        return {r["metric"]["instance"] for r in result} == {"ops1", "data1"}

    _value, waited = _wait(node_series, 180, "up{job=\"node\"} of both hosts in VictoriaMetrics")
    print(f"remote write: both hosts' up in VictoriaMetrics after {waited:.1f} s of waiting")


def test_the_six_dashboards_are_served_to_vmui():
    status, body = _metrics("/prometheus/vmui/custom-dashboards", _metrics_password())
    assert status == 200
    boards = json.loads(body)["dashboardsSettings"]
    assert sorted(b["title"] for b in boards) == ["Hosts", "Object storage", "Platform overview", "PostgreSQL",
                                                  "RabbitMQ", "Redis"]
    panels = [p for b in boards for r in b["rows"] for p in r["panels"]]
    assert len(panels) >= 40 and all(p["unit"] and p["description"] and p["expr"] for p in panels)
