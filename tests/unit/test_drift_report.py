"""The logic of the drift report (plugins/plugin_utils/drift.py), without running Ansible."""

import json
import os
import sys
import xml.etree.ElementTree as ET

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "collections"))
from ansible_collections.cloudphone.infra.plugins.plugin_utils import drift  # noqa: E402
from ansible_collections.cloudphone.infra.plugins.callback import drift_report  # noqa: E402

SECRET = "Sup3rSecretValue0123456789"
SECRET_PATHS = yaml.safe_load(drift_report.DOCUMENTATION)["options"]["secret_paths"]["default"]


def report():
    return drift.DriftReport("2025-01-01T00:00:00Z", drift.Redactor([SECRET, "short"], SECRET_PATHS))


def test_verdict_precedence_unhealthy_then_error_then_drift():
    r = report()
    assert r.exit_code() == 0
    r.add_change("base", "data1", "common", "Write /etc/hosts", "ansible.builtin.template", {"dest": "/etc/hosts"},
                 {"changed": True, "diff": [{"before": "a\n", "after": "b\n", "before_header": "/etc/hosts"}]})
    assert r.exit_code() == 2
    r.add_error("redis", "data2", None, "Gathering Facts", "ssh: connect refused", unreachable=True)
    assert r.exit_code() == 1
    assert r.as_dict()["verdict"] == "the check itself failed"
    # A host that is down is also what the tier's health check sees from the others: unhealthy wins.
    r.add_health("redis", "data1", "ask", {"healthy": False, "problems": ["data2 is not in the cluster"], "topology": {}})
    assert r.exit_code() == 3


def test_a_health_result_with_problems_is_unhealthy_even_if_it_says_healthy():
    r = report()
    r.add_health("redis", "data1", "ask", {"healthy": True, "problems": ["replica data3 lags"], "topology": {}})
    assert r.exit_code() == 3


def test_a_health_check_that_cannot_ask_makes_the_tier_unhealthy():
    r = report()
    r.add_health_failure("postgresql", "data1", "ask", "connection refused on 8008")
    assert r.exit_code() == 3
    assert r.problems()[0]["problem"].endswith("connection refused on 8008")


def test_problems_are_merged_per_tier_with_their_reporters():
    r = report()
    for host in ("data2", "data1"):
        r.add_health("redis", host, "ask", {"healthy": False, "problems": ["data3 is down"], "topology": {}})
    assert r.problems() == [{"tier": "redis", "problem": "data3 is down", "reported_by": ["data1", "data2"]}]


def test_topology_is_information_and_moves_are_listed():
    r = report()
    r.add_health("postgresql", "data1", "ask", {"healthy": True, "problems": [], "topology": {"leader": "data2"}})
    r.add_health("redis", "data1", "ask", {"healthy": True, "problems": [], "topology": {"master": "data1"}})
    previous = {"topology": {"postgresql": {"leader": "data1"}, "redis": {"master": "data1"}, "gone": {"x": 1}}}
    data = r.as_dict(previous=previous)
    assert data["exit_code"] == 0 and data["drift"] == []
    assert data["topology"] == {"postgresql": {"leader": "data2"}, "redis": {"master": "data1"}}
    assert data["topology_changes"] == [{"tier": "postgresql", "key": "leader", "previous": "data1", "current": "data2"}]
    lines = r.summary_lines(data)
    assert "  info     postgresql leader is data2 (was data1 at the previous check)" in lines


def test_a_diff_that_contains_a_secret_is_reduced_to_content_differs():
    r = report()
    r.add_change("redis", "data1", "redis", "Configure Redis", "ansible.builtin.template", {"dest": "/etc/redis/redis.conf"},
                 {"changed": True, "diff": [{"before": "requirepass old\n", "after": f"requirepass {SECRET}\n",
                                             "before_header": "/etc/redis/redis.conf"}]})
    item = r.drift[0]
    assert item["diff"] == "content differs" and item["details_hidden"] is True
    assert item["change"] == "content differs"
    assert "old" not in json.dumps(r.as_dict())


def test_a_secret_bearing_path_is_never_diffed():
    r = report()
    r.add_change("redis", "data1", "redis", "Write the ACL file", "ansible.builtin.copy", {"dest": "/etc/redis/users.acl"},
                 {"changed": True, "diff": [{"before": "user a on #0abc\n", "after": "user a on #0def\n",
                                             "before_header": "/etc/redis/users.acl"}]})
    assert r.drift[0]["diff"] == "content differs"
    # Its attributes are not secret: a mode change is named.
    r.add_change("base", "data1", "pki", "Credentials directory", "ansible.builtin.file", {"path": "/x/credentials/pki"},
                 {"changed": True, "diff": {"before": {"path": "/x/credentials/pki", "mode": "0755"},
                                            "after": {"path": "/x/credentials/pki", "mode": "0700"}}})
    assert r.drift[1]["change"] == "mode 0755 -> 0700" and r.drift[1]["details_hidden"] is False


def test_no_log_results_have_no_diff_and_say_so():
    r = report()
    r.add_change("loadbalancer", "ops1", "haproxy", "Configure HAProxy", "ansible.builtin.template",
                 {"dest": "/etc/haproxy/haproxy.cfg"}, {"changed": True, "censored": "hidden"}, hidden=True)
    r.add_change("base", "data1", "pki", "Sign", "community.crypto.x509_certificate_pipe", {"csr_content": "x"},
                 {"changed": True, "censored": "hidden"}, hidden=True)
    assert [(d["resource"], d["change"], d["diff"]) for d in r.drift] == [
        ("/etc/haproxy/haproxy.cfg", "content differs", "content differs"),
        ("x509_certificate_pipe", "would change (details hidden by no_log)", "content differs")]


def test_secrets_in_messages_and_problems_are_redacted():
    r = report()
    r.add_error("redis", "data1", "redis", "Connect", f"AUTH {SECRET} failed")
    r.add_health("redis", "data1", "ask", {"healthy": False, "problems": [f"password {SECRET} rejected"], "topology": {}})
    text = json.dumps(r.as_dict()) + r.junit() + "\n".join(r.summary_lines(r.as_dict()))
    assert SECRET not in text and drift.REDACTED in text
    # Short values are not treated as secrets (they would match ordinary words).
    assert drift.Redactor(["short"]).secrets == []


def test_secret_values_walks_vault_variables_only():
    class Encrypted:
        """Like Ansible's EncryptedString: not a str until asked."""
        def __str__(self):
            return "five"

    found = drift.secret_values({"vault_a": "one", "vault_users": [{"password": "two"}], "public": "three",
                                 "vault_map": {"k": "four"}, "vault_inline": Encrypted(), "vault_port": 5432})
    assert sorted(found) == ["five", "four", "one", "two"]


def test_resources_are_named_the_way_operators_name_them():
    dr = drift.describe_resource
    assert dr("ansible.builtin.systemd_service", {"name": "haproxy", "state": "started"}, {}) == "service haproxy"
    assert dr("ansible.posix.sysctl", {"name": "vm.swappiness", "value": 1}, {}, "vm.swappiness") == "sysctl vm.swappiness"
    assert dr("ansible.builtin.apt", {"name": ["chrony", "curl"]}, {}) == "package chrony, curl"
    assert dr("ansible.builtin.file", {"path": "/etc/x", "state": "link"}, {}) == "/etc/x"
    assert dr("ansible.builtin.copy", {"dest": "/a"}, {"diff": [{"before_header": "/etc/b"}]}) == "/etc/b"
    assert dr("ansible.builtin.copy", {"dest": "/etc/c"}, {}, "one") == "/etc/c [one]"
    assert dr("community.postgresql.postgresql_set", {"name": "max_connections", "value": "200"}, {}) == \
        "PostgreSQL parameter max_connections"
    assert dr("community.postgresql.postgresql_pg_hba", {"dest": "/etc/pg_hba.conf", "contype": "hostssl",
                                                        "databases": "all", "users": "app", "source": "10.0.0.0/8"}, {}) == \
        "/etc/pg_hba.conf (hostssl all app 10.0.0.0/8)"
    assert dr("community.rabbitmq.rabbitmq_policy", {"name": "ha-all"}, {}) == "RabbitMQ policy ha-all"
    assert dr("community.rabbitmq.rabbitmq_vhost", {"name": "phones"}, {}, "phones") == "RabbitMQ vhost phones"
    assert dr("cloudphone.infra.some_module", {"name": "x"}, {}) == "some_module x"
    assert dr("community.general.redis", {"command": "config", "name": "maxmemory"}, {}, "maxmemory") == \
        "Redis setting maxmemory"
    assert dr("cloudphone.infra.patroni_config", {"config": {}},
              {"changes": {"postgresql": {"parameters": {"wal_keep_size": "32MB"}}, "ttl": 30}}) == \
        "PostgreSQL parameter wal_keep_size, Patroni setting ttl"


def test_changes_are_described_without_content():
    dc = drift.describe_change
    assert dc("ansible.builtin.systemd_service", {"name": "x", "state": "started", "enabled": True}, {}) == \
        "would be started and would be enabled"
    assert dc("ansible.builtin.systemd_service", {"name": "x", "state": "started", "enabled": True},
              {"status": {"ActiveState": "inactive", "UnitFileState": "enabled"}}) == "would be started (it is inactive)"
    assert dc("ansible.builtin.file", {}, {"diff": {"before": {"path": "/x", "mode": "0666"},
                                                    "after": {"path": "/x", "mode": "0644"}}}) == "mode 0666 -> 0644"
    assert dc("ansible.builtin.copy", {}, {"diff": [{"before": "a", "after": "b"}]}) == "content differs"
    assert dc("community.rabbitmq.rabbitmq_vhost", {"state": "absent"}, {}) == "would be removed"


def test_render_diff_is_a_plain_unified_diff():
    text = drift.render_diff([{"before": "a\nb\n", "after": "a\nc\n", "before_header": "/etc/x", "after_header": "/etc/x"},
                              {"prepared": "+ added line"}])
    assert text.splitlines() == ["--- /etc/x", "+++ /etc/x", "@@ -1,2 +1,2 @@", " a", "-b", "+c", "+ added line"]
    assert drift.render_diff({"before": {"mode": "0644"}, "after": {"mode": "0600"}}).count("mode") == 2


def test_junit_is_well_formed_and_counts():
    r = report()
    r.task_passed("base", "data1", "common", "Install")
    r.add_change("base", "data1", "common", "Write", "ansible.builtin.copy", {"dest": "/etc/x"},
                 {"changed": True, "diff": [{"before": "a", "after": "b"}]})
    r.add_unchecked("rabbitmq", "data1", "rabbitmq", "Create users", "community.rabbitmq.rabbitmq_user",
                    "remote module does not support check mode")
    root = ET.fromstring(r.junit().split("\n", 1)[1])
    suites = {s.get("name"): s for s in root}
    assert suites["drift.base"].get("tests") == "2" and suites["drift.base"].get("failures") == "1"
    assert suites["drift.rabbitmq"].get("skipped") == "1"


def test_prune_keeps_the_newest_runs(tmp_path):
    for day in range(1, 6):
        for ext in ("json", "xml", "txt"):
            (tmp_path / f"2025010{day}T000000Z.{ext}").write_text("{}")
    (tmp_path / "notes.md").write_text("kept")
    drift.prune_reports(str(tmp_path), 2)
    assert sorted(os.listdir(tmp_path)) == ["20250104T000000Z.json", "20250104T000000Z.txt", "20250104T000000Z.xml",
                                            "20250105T000000Z.json", "20250105T000000Z.txt", "20250105T000000Z.xml",
                                            "notes.md"]
    assert drift.previous_report(str(tmp_path)) == {}
