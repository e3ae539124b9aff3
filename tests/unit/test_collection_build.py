"""The built tarball is a working collection: modules documented, roles usable by FQCN."""

import glob
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "main.yml")))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("collection")
    (tmp / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(tmp / "collections"))
    subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp), ROOT],
                   check=True, capture_output=True, env=env)
    tarballs = glob.glob(str(tmp / "cloudphone-infra-*.tar.gz"))
    assert len(tarballs) == 1
    listing = subprocess.run(["tar", "-tzf", tarballs[0]], check=True, capture_output=True, text=True).stdout
    for unwanted in ("collections/", ".venv/", "vault.yml", ".vault-pass", "credentials/"):
        assert unwanted not in listing, f"{unwanted} leaked into the tarball"
    subprocess.run(["ansible-galaxy", "collection", "install", "-p", str(tmp / "collections"), tarballs[0]],
                   check=True, capture_output=True, env=env)
    return tmp, env


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_shows_every_module(installed, module):
    tmp, env = installed
    res = subprocess.run(["ansible-doc", "-t", "module", f"cloudphone.infra.{module}"], cwd=tmp, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert str(tmp / "collections") in res.stdout, "ansible-doc did not read the installed copy"


def test_every_role_resolves_by_fqcn(installed):
    tmp, env = installed
    plays = "".join(
        f"- name: Use {role}\n  hosts: localhost\n  gather_facts: false\n  roles:\n    - role: cloudphone.infra.{role}\n"
        for role in ROLES)
    (tmp / "roles.yml").write_text("---\n" + plays)
    res = subprocess.run(["ansible-playbook", "--syntax-check", "roles.yml"], cwd=tmp, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_installed_plugins_run(installed):
    tmp, env = installed
    (tmp / "plugins.yml").write_text("""---
- name: Exercise installed plugins
  hosts: localhost
  gather_facts: false
  vars:
    good_secret: Zq8wLr2mXv9TnB4kHs7dPf3Yc6Ju1Ea5
  tasks:
    - name: Filter
      ansible.builtin.assert:
        that: "'data1' | cloudphone.infra.fqdn('lab.example') == 'data1.lab.example'"
    - name: Action plugin
      cloudphone.infra.assert_secrets:
        names: [good_secret]
""")
    res = subprocess.run(["ansible-playbook", "plugins.yml"], cwd=tmp, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "failed=0" in res.stdout
