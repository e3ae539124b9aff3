"""Verify the RabbitMQ cluster on real hosts: members, TLS, users, policies, queue type, partition handling.

Runs after the side effect, so data3 has been reset and rejoined by then: every check below also
proves that the rejoined node is a full member again.
"""

import json
import os
import socket
import ssl

import pika
import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("rabbitmq")
NODES = sorted(f"rabbit@{h}" for h in testinfra_hosts)
CA_ON_CONTROLLER = os.path.join(os.path.dirname(INVENTORY), "credentials", "pki", "ca.crt")


def ctl(host, *args):
    with host.sudo():
        return json.loads(host.check_output("rabbitmqctl " + " ".join(args) + " --formatter json"))


def address(name):
    return RUNNER.get_variables(name)["ansible_host"]


def test_every_node_sees_the_whole_cluster_running(host):
    status = ctl(host, "cluster_status")
    assert sorted(status["disk_nodes"]) == NODES
    assert sorted(status["running_nodes"]) == NODES
    assert status["partitions"] == {}
    assert status["alarms"] == []


def test_node_is_named_after_its_inventory_hostname(host):
    name = host.backend.get_hostname()
    assert host.file("/etc/rabbitmq/rabbitmq-env.conf").contains(f"^NODENAME=rabbit@{name}$")
    with host.sudo():
        assert host.file(f"/var/lib/rabbitmq/mnesia/rabbit@{name}").is_directory


def test_cookie_is_private_and_shared(host):
    with host.sudo():
        cookie = host.file("/var/lib/rabbitmq/.erlang.cookie")
        assert (cookie.user, cookie.group, cookie.mode) == ("rabbitmq", "rabbitmq", 0o400)
        digest = host.check_output("sha256sum /var/lib/rabbitmq/.erlang.cookie").split()[0]
    with RUNNER.get_host(testinfra_hosts[0]).sudo():
        first = RUNNER.get_host(testinfra_hosts[0]).check_output("sha256sum /var/lib/rabbitmq/.erlang.cookie")
    assert digest == first.split()[0]


def test_partition_handling_is_in_effect(host):
    with host.sudo():
        out = host.check_output("rabbitmqctl eval 'application:get_env(rabbit, cluster_partition_handling).'")
    assert out.strip() == "{ok,pause_minority}"


def test_only_tls_listeners_are_open(host):
    listeners = {(entry["port"], entry["protocol"]) for entry in ctl(host, "status")["listeners"]}
    assert (5671, "amqp/ssl") in listeners
    assert (15671, "https") in listeners
    assert (15692, "https/prometheus") in listeners
    assert not {port for port, _ in listeners} & {5672, 15672}, listeners


@pytest.mark.parametrize("port", [5671, 15671, 15692])
def test_tls_certificate_verifies_against_the_ca(host, port):
    name = host.backend.get_hostname()
    context = ssl.create_default_context(cafile=CA_ON_CONTROLLER)
    with socket.create_connection((address(name), port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.version() in ("TLSv1.3", "TLSv1.2")


def test_management_api_needs_a_password_and_prometheus_serves_metrics(host):
    base = "https://localhost"
    assert host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {base}:15671/api/overview") == "401"
    metrics = host.check_output(f"curl -sf {base}:15692/metrics")
    assert "rabbitmq_identity_info" in metrics


def test_guest_is_gone_and_platform_users_exist(host):
    users = {u["user"]: set(u["tags"]) for u in ctl(host, "list_users")}
    assert "guest" not in users
    assert users["admin"] == {"administrator"}
    assert users["monitoring"] == {"monitoring"}
    assert "app" in users


def test_platform_vhost_declares_quorum_queues_by_default(host):
    vhosts = {v["name"]: v for v in ctl(host, "list_vhosts", "name", "default_queue_type")}
    assert vhosts["cloudphone"]["default_queue_type"] == "quorum"


def test_quorum_policy_limits_redeliveries_dead_letters_and_length(host):
    policies = {p["name"]: p for p in ctl(host, "list_policies", "-p", "cloudphone")}
    policy = policies["cloudphone-quorum"]
    assert policy["apply-to"] == "quorum_queues"
    assert policy["pattern"] == "^cloudphone\\."
    definition = json.loads(policy["definition"])
    assert definition["delivery-limit"] == 20
    assert definition["dead-letter-exchange"] == "cloudphone.dead-letter"
    assert definition["dead-letter-strategy"] == "at-least-once"
    assert definition["max-length"] == 100000
    assert definition["overflow"] == "reject-publish"
    assert not [k for k in definition if k.startswith("ha-")]


def test_dead_letter_queue_is_a_full_quorum_queue(host):
    queues = {q["name"]: q for q in ctl(host, "list_queues", "-p", "cloudphone", "name", "type", "members", "online")}
    dlq = queues["dead-letter.cloudphone"]
    assert dlq["type"] == "quorum"
    assert sorted(dlq["online"]) == NODES


def test_application_user_can_publish_and_consume_a_quorum_queue_over_tls():
    first = testinfra_hosts[0]
    # run_module: Ansible templates the vaulted value; get_variables would return the raw template.
    password = RUNNER.run_module(first, "ansible.builtin.debug", "var=rabbitmq_app_password")["rabbitmq_app_password"]
    params = pika.ConnectionParameters(
        host=address(first), port=5671, virtual_host="cloudphone",
        credentials=pika.PlainCredentials("app", password),
        ssl_options=pika.SSLOptions(ssl.create_default_context(cafile=CA_ON_CONTROLLER), server_hostname=first))
    conn = pika.BlockingConnection(params)
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        declared = channel.queue_declare("cloudphone.verify", durable=True)
        assert declared.method.message_count == 0
        channel.basic_publish("", "cloudphone.verify", b"hello", pika.BasicProperties(delivery_mode=2), mandatory=True)
        method, _props, body = channel.basic_get("cloudphone.verify", auto_ack=False)
        assert body == b"hello"
        channel.basic_ack(method.delivery_tag)
        channel.queue_delete("cloudphone.verify")
    finally:
        conn.close()
