"""Verify MinIO on the hosts: one binary everywhere, hardened unit, identical volume list, TLS."""

import json
import os

import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
# force_ansible: the lab's group_vars template the SSH key path, which only Ansible resolves.
testinfra_hosts = [f"ansible://{h}?force_ansible=True"
                   for h in testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("minio")]
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", os.path.dirname(INVENTORY))
VOLUMES = 'MINIO_VOLUMES="https://data{1...4}.lab.cloudphone.test:9000/var/lib/minio/disk1"'


def test_binary_is_the_pinned_release(host):
    out = host.check_output("/usr/local/bin/minio --version")
    assert "RELEASE.2025-10-15T17-29-55Z" in out
    assert "commit-id=9e49d5e7a648f00e26f2246f4dc28e6b07f8c84a" in out


def test_every_node_has_the_same_binary(host):
    with host.sudo():
        sha = host.check_output("sha256sum /usr/local/bin/minio").split()[0]
    cache = [os.path.join(r, f) for r, _d, files in os.walk("/var/cache/cloudphone/minio")
             for f in files if f == "minio" and "RELEASE.2025-10-15T17-29-55Z" in r]
    assert cache, "no cached build on the control node"
    import hashlib
    shas = {hashlib.sha256(open(p, "rb").read()).hexdigest() for p in cache}
    assert sha in shas


def test_volume_list_is_byte_identical(host):
    with host.sudo():
        env = host.file("/etc/minio/minio.env").content_string
    assert VOLUMES in env.splitlines()
    assert 'MINIO_STORAGE_CLASS_STANDARD="EC:2"' in env


def test_secrets_are_not_world_readable(host):
    with host.sudo():  # /etc/minio is 0750 root:minio
        creds = host.file("/etc/minio/credentials.env")
        assert creds.mode == 0o640 and creds.user == "root" and creds.group == "minio"


def test_unit_is_hardened_and_runs_as_its_own_user(host):
    props = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show minio -p User -p NoNewPrivileges -p ProtectSystem -p PrivateTmp "
        "-p CapabilityBoundingSet -p ActiveState -p UnitFileState -p Type").splitlines())
    assert props["User"] == "minio"
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["PrivateTmp"] == "yes"
    assert props["CapabilityBoundingSet"] == ""
    assert props["ActiveState"] == "active" and props["UnitFileState"] == "enabled"
    assert props["Type"] == "notify"
    user = host.user("minio")
    assert user.shell == "/usr/sbin/nologin" and "ssl-cert" in user.groups
    assert host.process.get(comm="minio").user == "minio"


def test_tls_chain_verifies_on_the_api_port(host):
    out = host.check_output(
        "openssl s_client -connect localhost:9000 -CAfile /etc/cloudphone/pki/ca.crt -verify_return_error "
        "</dev/null 2>&1 | grep -E 'Verify return code'")
    assert "Verify return code: 0 (ok)" in out


def test_cluster_info_from_the_side_effect():
    with open(os.path.join(EPHEMERAL, "cluster-info.json")) as fh:
        info = json.load(fh)
    assert info["healthy"] and info["problems"] == []
    assert info["drives"]["online"] == 4


def test_rolling_restart_kept_one_node_down_at_most():
    with open(os.path.join(EPHEMERAL, "rolling-restart.json")) as fh:
        report = json.load(fh)
    assert report["max_down"] == 1
    assert sorted(report["down_events"].values()) == [1, 1, 1, 1]
