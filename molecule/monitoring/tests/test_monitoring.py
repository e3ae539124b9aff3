"""Verify Prometheus, Alertmanager and node_exporter on real hosts: TLS, auth, users, targets, routing,
and one alert end to end (node_exporter stopped on data1 -> HostDown in Alertmanager, at the webhook,
and resolved after the restart)."""

import base64
import functools
import json
import os
import ssl
import time
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
    expected = {("node", "ops1"), ("node", "data1"), ("prometheus", "ops1"), ("alertmanager", "ops1")}
    assert set(seen) == expected
    assert all(h == "up" for h in seen.values()), seen


def test_only_the_host_and_service_rules_are_loaded():
    groups = _api("/api/v1/rules")["data"]["groups"]
    assert {g["name"] for g in groups} == {"cloudphone"}
    assert {g["file"] for g in groups} == {"/etc/prometheus/rules/common.yml"}
    names = {r["name"] for g in groups for r in g["rules"]}
    assert {"HostDown", "TargetDown", "HostDiskSpaceLow", "HostClockSkew", "HTTPHighErrorRate"} <= names


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
