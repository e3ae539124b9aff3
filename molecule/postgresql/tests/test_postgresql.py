"""Verify the PostgreSQL tier on real hosts and over real connections.

Runs twice: after the idempotent converge, and again after the side effect (switchover and
etcd member replacement) plus another idempotent converge.
"""

import json
import os
import time
import uuid

import psycopg
import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("postgresql")
DATA = RUNNER.get_hosts("postgresql")
ADDRESS = {name: RUNNER.get_variables(name)["ansible_host"] for name in RUNNER.get_hosts("all")}
CA = os.path.join(os.path.dirname(INVENTORY), "credentials", "pki", "ca.crt")
PKI = "/etc/cloudphone/pki"


def lab_var(name):
    """A lab group_vars value, with vaulted secrets decrypted by ansible itself."""
    out = RUNNER.run_module("data1", "ansible.builtin.debug", f"var={name}")
    return out[name]


@pytest.fixture(scope="module")
def cluster():
    doc = json.loads(RUNNER.get_host("data1").check_output(
        f"curl -sf --cacert {PKI}/ca.crt https://{ADDRESS['data1']}:8008/cluster"))
    leader = [m["name"] for m in doc["members"] if m["role"] == "leader"]
    assert len(leader) == 1, doc
    return {"leader": leader[0], "members": doc["members"]}


@pytest.fixture(scope="module")
def app():
    return {"user": lab_var("postgresql_drill_user"), "password": lab_var("postgresql_drill_password"),
            "dbname": lab_var("postgresql_drill_database"), "service": lab_var("postgresql_service_name")}


def connect(app, port):
    return psycopg.connect(host=app["service"], hostaddr=ADDRESS["ops1"], port=port, dbname=app["dbname"],
                           user=app["user"], password=app["password"], sslmode="verify-full", sslrootcert=CA,
                           connect_timeout=5, autocommit=True)


def psql(host, sql, db="postgres"):
    with host.sudo("postgres"):
        return host.check_output(f"psql -XAtq -d {db} -c \"{sql}\"")


def test_services_run_and_are_enabled(host):
    for unit in ("etcd", "patroni", "pgbouncer"):
        svc = host.service(unit)
        assert svc.is_running and svc.is_enabled, unit
    # Debian's own cluster machinery holds no cluster: Patroni owns the data directory.
    assert host.check_output("pg_lsclusters --no-header") == ""


def test_one_leader_two_streaming_replicas_one_synchronous(cluster):
    roles = sorted(m["role"] for m in cluster["members"])
    assert roles == ["leader", "replica", "sync_standby"]
    for m in cluster["members"]:
        if m["role"] != "leader":
            assert m["state"] == "streaming" and m["lag"] < 1024 * 1024, m


def test_replicas_stream_from_the_leader_over_tls(cluster):
    rows = psql(RUNNER.get_host(cluster["leader"]), "SELECT r.application_name, r.state, s.ssl, s.version FROM pg_stat_replication r "
                      "JOIN pg_stat_ssl s USING (pid) ORDER BY 1").splitlines()
    replicas = sorted(n for n in DATA if n != cluster["leader"])
    assert [r.split("|")[0] for r in rows] == replicas
    for row in rows:
        name, state, ssl, version = row.split("|")
        assert state == "streaming" and ssl == "t" and version.startswith("TLSv1."), row


def test_pg_hba_has_no_trust_and_only_tls_for_tcp(host):
    with host.sudo():
        hba = host.file("/var/lib/postgresql/17/cloudphone/pg_hba.conf").content_string
    lines = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert lines, "empty pg_hba.conf"
    assert not [line for line in lines if "trust" in line]
    assert {line[0] for line in lines} <= {"local", "hostssl"}


def test_etcd_three_members_tls_client_certificates(host):
    base = f"etcdctl --endpoints=https://{ADDRESS[host.backend.get_hostname()]}:2379 --cacert={PKI}/ca.crt"
    with host.sudo():
        members = host.check_output(f"{base} --cert={PKI}/host.crt --key={PKI}/host.key member list -w json")
        assert sorted(m["name"] for m in json.loads(members)["members"]) == ["data1", "data2", "data3"]
        health = host.run(f"{base} --cert={PKI}/host.crt --key={PKI}/host.key endpoint health --cluster")
        assert health.rc == 0 and health.stdout.count("is healthy") == 3, health.stdout + health.stderr
        # Without a client certificate etcd refuses the client.
        refused = host.run(f"{base} --command-timeout=3s endpoint health")
        assert refused.rc != 0


def test_pgbouncer_pools_transactions_without_a_password_file(host):
    with host.sudo():
        ini = host.file("/etc/pgbouncer/pgbouncer.ini").content_string
        assert host.file("/etc/pgbouncer/userlist.txt").size == 0
    assert "pool_mode = transaction" in ini and "max_client_conn = 1000" in ini
    assert "auth_query" in ini
    # The file limit PgBouncer runs with covers 1000 clients.
    pid = host.check_output("systemctl show -p MainPID --value pgbouncer")
    with host.sudo():
        limits = host.check_output(f"cat /proc/{pid}/limits")
    soft = int(next(line for line in limits.splitlines() if line.startswith("Max open files")).split()[3])
    assert soft > 1000


def test_write_through_rw_lands_on_the_leader_and_reaches_both_replicas(cluster, app):
    token = uuid.uuid4().hex
    with connect(app, 5432) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        listen = conn.execute("SELECT current_setting('listen_addresses')").fetchone()[0]
        assert ADDRESS[cluster["leader"]] in listen.split(",")
        conn.execute("CREATE TABLE IF NOT EXISTS molecule_probe (token text PRIMARY KEY)")
        conn.execute("INSERT INTO molecule_probe VALUES (%s)", (token,))
    for name in DATA:
        if name == cluster["leader"]:
            continue
        host = RUNNER.get_host(name)
        deadline = time.time() + 15
        while psql(host, f"SELECT count(*) FROM molecule_probe WHERE token = '{token}'", app["dbname"]) != "1":
            assert time.time() < deadline, f"{token} never reached {name}"
            time.sleep(0.5)


def test_read_only_port_never_reaches_the_leader(cluster, app):
    seen = set()
    for _ in range(12):
        with connect(app, 5433) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
            seen.add(conn.execute("SELECT current_setting('listen_addresses')").fetchone()[0])
    assert not any(ADDRESS[cluster["leader"]] in s.split(",") for s in seen)
    assert len(seen) == 2, f"reads should spread over both replicas, saw {seen}"


def test_haproxy_exposes_statistics_and_prometheus_metrics():
    ops1 = RUNNER.get_host("ops1")
    metrics = ops1.check_output(f"curl -sf --cacert {PKI}/ca.crt https://ops1:8404/metrics")
    assert 'haproxy_backend_active_servers{proxy="postgresql_rw"} 1' in metrics
    assert 'haproxy_backend_active_servers{proxy="postgresql_ro"} 2' in metrics


def test_side_effect_kept_the_new_leader_and_replaced_the_etcd_member(cluster):
    host = RUNNER.get_host("data1")
    with host.sudo():
        f = host.file("/root/side-effect.json")
        side_effect_ran = f.exists
        expected = json.loads(f.content_string) if side_effect_ran else None
    base = f"etcdctl --endpoints=https://{ADDRESS['data1']}:2379 --cacert={PKI}/ca.crt --cert={PKI}/host.crt --key={PKI}/host.key"
    with host.sudo():
        members = json.loads(host.check_output(f"{base} member list -w json"))["members"]
    # One started etcd member per data host, in both verify passes.
    assert sorted(m.get("name", "") for m in members) == sorted(DATA), members
    if not side_effect_ran:
        return
    assert cluster["leader"] == expected["leader"] != expected["old_leader"]
    data3 = [m for m in members if m.get("name") == "data3"]
    assert len(data3) == 1 and str(data3[0]["ID"]) != expected["etcd_data3_id"]
