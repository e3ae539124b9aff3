"""Verify Redis + Sentinel on real hosts over real TLS connections: ACLs, TLS, replication, quorum.

Runs twice: after the first converge, and after a forced failover and a second converge (then
/root/redis-failover.json names the old and the new master, and the new one must still be master).
"""

import json
import os
import socket
import ssl
import time

import pytest
import redis
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("redis")
CA = os.path.join(os.path.dirname(INVENTORY), "credentials", "pki", "ca.crt")
NAME = "cloudphone"


def address(name):
    return RUNNER.get_variables(name)["ansible_host"]


ADDRESSES = {name: address(name) for name in testinfra_hosts}


@pytest.fixture(scope="module")
def secrets():
    """The vaulted passwords, resolved by Ansible itself."""
    host = testinfra.get_host(f"ansible://{testinfra_hosts[0]}?ansible_inventory={INVENTORY}")
    names = ["redis_default_password", "redis_app_password", "redis_replication_password",
             "redis_sentinel_password", "redis_monitoring_password"]
    out = host.ansible("ansible.builtin.debug", "msg={{ [" + ", ".join(names) + "] | join(',') }}", check=False)
    return dict(zip(names, out["msg"].split(",")))


def client(name, user, password, port=6379, **kw):
    return redis.Redis(ADDRESSES[name], port, username=user, password=password, ssl=True, ssl_ca_certs=CA,
                       socket_timeout=3, decode_responses=True, **kw)


def current_master(secrets):
    answers = {client(n, "monitoring", secrets["redis_monitoring_password"], port=26379)
               .execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME)[0] for n in testinfra_hosts}
    assert len(answers) == 1, f"the Sentinels disagree: {answers}"
    master_ip = answers.pop()
    return next(n for n, ip in ADDRESSES.items() if ip == master_ip)


def test_only_tls_ports_listen(host):
    listening = host.socket.get_listening_sockets()
    for port in (6379, 26379):
        assert any(s.endswith(f":{port}") for s in listening), f"nothing listens on {port}"
    # A plaintext client gets no Redis reply on the TLS port.
    with socket.create_connection((ADDRESSES[host.backend.get_hostname()], 6379), timeout=3) as raw:
        raw.sendall(b"PING\r\n")
        raw.settimeout(3)
        try:
            reply = raw.recv(64)
        except (socket.timeout, ConnectionResetError):
            reply = b""
    assert not reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR"))


def test_tls_is_verified_against_the_collection_ca(host, secrets):
    name = host.backend.get_hostname()
    assert client(name, "app", secrets["redis_app_password"]).ping()
    untrusting = ssl.create_default_context()  # the system store on the controller lacks our CA
    with socket.create_connection((ADDRESSES[name], 6379), timeout=3) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.wrap_socket(raw, server_hostname=ADDRESSES[name])


def test_acl_users_have_what_they_need_and_no_more(host, secrets):
    name = host.backend.get_hostname()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(ADDRESSES[name], 6379, ssl=True, ssl_ca_certs=CA, socket_timeout=3).get("x")
    app = client(name, "app", secrets["redis_app_password"])
    assert app.exists("nothing-here") == 0
    for forbidden in (lambda: app.config_set("maxmemory", "1"), app.flushall, lambda: app.execute_command("ACL", "LIST")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            forbidden()
    monitoring = client(name, "monitoring", secrets["redis_monitoring_password"])
    assert monitoring.info("replication")["role"] in ("master", "slave")
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitoring.get("x")
    replication = client(name, "replication", secrets["redis_replication_password"])
    with pytest.raises(redis.exceptions.NoPermissionError):
        replication.get("x")
    sentinel = client(name, "sentinel", secrets["redis_sentinel_password"])
    with pytest.raises(redis.exceptions.NoPermissionError):
        sentinel.get("x")
    admin = client(name, "default", secrets["redis_default_password"])
    # The ACL file is the role's: the server may not rewrite it.
    with pytest.raises(redis.exceptions.ResponseError):
        admin.execute_command("ACL", "SAVE")


def test_managed_files_are_root_owned(host):
    for path in ("/etc/redis/cloudphone/redis.conf", "/etc/redis/cloudphone/runtime.conf",
                 "/etc/redis/cloudphone/users.acl", "/etc/redis/cloudphone/sentinel.conf",
                 "/etc/redis/cloudphone/sentinel-users.acl"):
        with host.sudo():
            f = host.file(path)
            assert f.user == "root" and f.group == "redis" and f.mode == 0o640, path
    assert "--include /etc/redis/cloudphone/redis.conf" in host.check_output("systemctl cat redis-server")


def test_persistence_and_write_safety(host, secrets):
    admin = client(host.backend.get_hostname(), "default", secrets["redis_default_password"])
    assert admin.config_get("appendonly")["appendonly"] == "yes"
    assert admin.config_get("appendfsync")["appendfsync"] == "everysec"
    assert admin.config_get("save")["save"] == "3600 1 300 100 60 10000"
    assert admin.config_get("min-replicas-to-write")["min-replicas-to-write"] == "1"
    assert admin.config_get("maxmemory")["maxmemory"] == str(256 * 1024 * 1024)
    with host.sudo():
        assert host.file("/var/lib/redis/appendonlydir").is_directory


def test_replication_carries_an_acknowledged_write(secrets):
    master_name = current_master(secrets)
    master = client(master_name, "app", secrets["redis_app_password"])
    key = f"molecule:{time.time()}"
    master.set(key, "replicated")
    assert master.wait(2, 2000) == 2, "both replicas must acknowledge"
    for name in testinfra_hosts:
        assert client(name, "app", secrets["redis_app_password"]).get(key) == "replicated", name
    master.delete(key)


def test_one_master_two_linked_replicas(secrets):
    master_name = current_master(secrets)
    roles = {}
    for name in testinfra_hosts:
        info = client(name, "monitoring", secrets["redis_monitoring_password"]).info("replication")
        roles[name] = info["role"]
        if info["role"] == "slave":
            assert info["master_host"] == ADDRESSES[master_name]
            assert info["master_link_status"] == "up"
        else:
            assert info["connected_slaves"] == 2
    assert sorted(roles.values()) == ["master", "slave", "slave"]
    assert roles[master_name] == "master"


def test_sentinels_reach_quorum_and_know_everyone(secrets):
    for name in testinfra_hosts:
        s = client(name, "monitoring", secrets["redis_monitoring_password"], port=26379)
        assert s.execute_command("SENTINEL", "CKQUORUM", NAME).startswith("OK 3 usable Sentinels")
        state = s.sentinel_master(NAME)
        assert int(state["quorum"]) == 2
        assert int(state["down-after-milliseconds"]) == 5000
        assert int(state["failover-timeout"]) == 10000
        assert int(state["num-other-sentinels"]) == 2
        assert int(state["num-slaves"]) == 2


def test_app_discovers_the_master_through_sentinel(secrets):
    from redis.sentinel import Sentinel

    tls = {"ssl": True, "ssl_ca_certs": CA}
    sentinel = Sentinel([(ip, 26379) for ip in ADDRESSES.values()],
                        sentinel_kwargs=dict(tls, username="app", password=secrets["redis_app_password"],
                                             socket_timeout=1),
                        **tls)
    host, _port = sentinel.discover_master(NAME)
    assert host == ADDRESSES[current_master(secrets)]
    master = sentinel.master_for(NAME, username="app", password=secrets["redis_app_password"], socket_timeout=2)
    assert master.set("molecule:discovery", "ok")
    master.delete("molecule:discovery")


def test_a_converge_after_a_failover_keeps_the_new_master(host, secrets):
    marker = host.file("/root/redis-failover.json")
    with host.sudo():
        failed_over = marker.exists
        names = json.loads(marker.content_string) if failed_over else None
    if not failed_over:
        # First verify: a brand-new group starts on the inventory's first host and nothing moved it.
        assert current_master(secrets) == testinfra_hosts[0]
        return
    assert names["new_master"] != names["old_master"]
    assert current_master(secrets) == names["new_master"]
    old = client(names["old_master"], "monitoring", secrets["redis_monitoring_password"]).info("replication")
    assert old["role"] == "slave" and old["master_host"] == ADDRESSES[names["new_master"]]
