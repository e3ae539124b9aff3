import os
import re
import subprocess
import sys

import pytest
import yaml
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.cloudphone.infra.plugins.plugin_utils.secrets import secret_problem

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "generate-secrets")


@pytest.mark.parametrize("value", ["admin", "Admin123", "guest", "minioadmin", "password", "PASSWORD"])
def test_well_known_defaults_are_refused(value):
    assert "well-known default" in secret_problem("x", value)


@pytest.mark.parametrize("value,fragment", [
    ("", "empty"), (None, "empty"), ("short1234", "9 characters"), ("a" * 20, "distinct"), (12345678901234567, "string"),
])
def test_weak_values_are_refused(value, fragment):
    assert fragment in secret_problem("x", value)


def test_a_generated_value_is_accepted():
    assert secret_problem("x", "Zq8wLr2mXv9TnB4kHs7dPf3Yc6Ju1Ea5") is None


def _inventory(tmp_path, refs):
    gv = tmp_path / "inv" / "group_vars" / "all"
    gv.mkdir(parents=True)
    (gv / "secrets_x.yml").write_text("---\n" + "".join(f'{r[6:]}: "{{{{ {r} }}}}"\n' for r in refs))
    (tmp_path / "pass").write_text("test-vault-password\n")
    return tmp_path / "inv", tmp_path / "pass"


def _decrypt(inv, pw):
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(pw.read_bytes().strip()))])
    return yaml.safe_load(vault.decrypt((inv / "group_vars" / "all" / "vault.yml").read_bytes()))


def _run(inv, pw):
    return subprocess.run([sys.executable, TOOL, "-i", str(inv), "--vault-password-file", str(pw)],
                          capture_output=True, text=True, check=True)


def test_generator_adds_missing_and_keeps_existing(tmp_path):
    inv, pw = _inventory(tmp_path, ["vault_db_password", "vault_mq_erlang_cookie", "vault_s3_access_key"])
    first = _run(inv, pw)
    values = _decrypt(inv, pw)
    assert set(values) == {"vault_db_password", "vault_mq_erlang_cookie", "vault_s3_access_key"}
    assert re.fullmatch(r"[A-Za-z0-9]{32}", values["vault_db_password"])
    assert re.fullmatch(r"[A-Z]{32}", values["vault_mq_erlang_cookie"])
    assert re.fullmatch(r"[a-z0-9]{20}", values["vault_s3_access_key"])
    for value in values.values():
        assert value not in first.stdout + first.stderr, "a secret value was printed"
        assert secret_problem("x", value) is None

    # A new reference appears: only it is added, nothing else changes.
    with open(inv / "group_vars" / "all" / "secrets_x.yml", "a") as fh:
        fh.write('new_password: "{{ vault_new_password }}"\n')
    second = _run(inv, pw)
    after = _decrypt(inv, pw)
    assert "added 1 secret(s): vault_new_password" in second.stdout
    assert {k: after[k] for k in values} == values
    assert "nothing to add" in _run(inv, pw).stdout


def test_generator_refuses_a_plaintext_vault(tmp_path):
    inv, pw = _inventory(tmp_path, ["vault_db_password"])
    (inv / "group_vars" / "all" / "vault.yml").write_text("vault_db_password: hunter2\n")
    res = subprocess.run([sys.executable, TOOL, "-i", str(inv), "--vault-password-file", str(pw)],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "not encrypted" in res.stderr
