"""Verify common + pki on real hosts: chain, unique keys, renewal, base settings."""

import datetime
import hashlib
import json
import os
import subprocess

import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("all")
PKI = "/etc/cloudphone/pki"
CA_ON_CONTROLLER = os.path.join(os.path.dirname(INVENTORY), "credentials", "pki", "ca.crt")


def _fingerprint(pem_text):
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem_text.encode(),
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def test_host_trusts_the_controller_ca(host):
    with open(CA_ON_CONTROLLER) as fh:
        controller_ca = fh.read()
    assert _fingerprint(host.file(f"{PKI}/ca.crt").content_string) == _fingerprint(controller_ca)
    trusted = host.file("/etc/ssl/certs/cloudphone-internal-ca.pem")
    assert trusted.exists, "the CA is not in the system trust store"


def test_certificate_chains_to_the_ca(host):
    with host.sudo():
        out = host.check_output(f"openssl verify -CAfile {PKI}/ca.crt {PKI}/host.crt")
    assert out.endswith(": OK")
    # The system trust store verifies it too, without naming the CA file.
    assert host.run(f"openssl verify {PKI}/host.crt").rc == 0


def test_certificate_matches_the_host_key_and_names(host):
    with host.sudo():
        key_pub = host.check_output(f"openssl pkey -in {PKI}/host.key -pubout")
    cert_pub = host.check_output(f"openssl x509 -in {PKI}/host.crt -noout -pubkey")
    assert key_pub.strip() == cert_pub.strip()
    sans = host.check_output(f"openssl x509 -in {PKI}/host.crt -noout -ext subjectAltName")
    name = host.backend.get_hostname()
    assert f"DNS:{name}.lab.cloudphone.test" in sans
    assert f"DNS:{name}," in sans or sans.rstrip().endswith(f"DNS:{name}")
    address = host.interface.default().addresses[0]
    assert f"IP Address:{address}" in sans


def test_key_is_private_to_the_host(host):
    key = host.file(f"{PKI}/host.key")
    assert key.user == "root"
    assert key.group == "ssl-cert"
    assert key.mode == 0o640


def test_every_host_has_its_own_key():
    fingerprints = {}
    for name in testinfra_hosts:
        h = testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")
        pub = h.check_output(f"openssl x509 -in {PKI}/host.crt -noout -pubkey")
        fingerprints[name] = hashlib.sha256(pub.encode()).hexdigest()
    assert len(fingerprints) == len(testinfra_hosts) >= 2
    assert len(set(fingerprints.values())) == len(fingerprints), fingerprints


def test_planted_certificate_was_renewed(host):
    if host.backend.get_hostname() != "data1":
        return
    with host.sudo():
        planted = json.loads(host.file("/root/planted-certificate.json").content_string)
    planted_expiry = datetime.datetime.strptime(planted["not_after"], "%Y%m%d%H%M%SZ")
    # The side effect really planted a certificate inside the renewal window...
    assert planted_expiry - datetime.datetime.utcnow() < datetime.timedelta(days=6)
    serial = host.check_output(f"openssl x509 -in {PKI}/host.crt -noout -serial").split("=")[1]
    # ...and the second run replaced it with a fresh one.
    assert int(serial, 16) != int(planted["serial"])
    assert host.run(f"openssl x509 -in {PKI}/host.crt -noout -checkend {60 * 86400}").rc == 0


def test_certificate_follows_a_new_alias(host):
    """The side effect added a service alias in the inventory; every certificate must carry it."""
    sans = host.check_output(f"openssl x509 -in {PKI}/host.crt -noout -ext subjectAltName")
    assert "DNS:alias-added-by-side-effect.lab.cloudphone.test" in sans


def test_hosts_file_names_every_host(host):
    hosts = host.file("/etc/hosts").content_string
    for name in testinfra_hosts:
        assert f"{name}.lab.cloudphone.test {name}" in hosts


def test_base_settings(host):
    assert host.package("chrony").is_installed
    assert host.service("chrony").is_running
    assert host.sysctl("vm.overcommit_memory") == 1
    assert host.sysctl("net.core.somaxconn") == 4096
    proxy = host.file("/etc/apt/apt.conf.d/01cloudphone-proxy").content_string
    assert ":3142" in proxy
