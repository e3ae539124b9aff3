"""The built tarball is a working collection (modules documented, roles usable by FQCN) and ships
only what operators use: no Molecule scenarios, tests, drills, lab tools, reports or lab inventory."""

import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "main.yml")))
# Repository-only paths (galaxy.yml build_ignore): the test, lab and development machinery.
REPOSITORY_ONLY = ("molecule/", "tests/", "tools/", "reports/", "inventories/lab/", ".config/", ".ci/", ".cache/",
                   ".github/", "collections/", ".venv/")
REPOSITORY_ONLY_FILES = ("Makefile", "docs/DEVELOPING.md", ".ansible-lint", ".yamllint", ".gitignore")
# Internal roles the drills and the drift check use; they ship because shipped playbooks need them.
INTERNAL_ROLES = ("drill_fault", "health_gate")


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
    (tmp / "members.txt").write_text(listing)
    return tmp, env


@pytest.fixture(scope="module")
def members(installed):
    tmp, _env = installed
    return [m.rstrip("/") for m in (tmp / "members.txt").read_text().splitlines() if m.strip()]


def test_the_tarball_ships_no_test_lab_or_development_machinery(members):
    leaked = sorted(m for m in members if (m + "/").startswith(REPOSITORY_ONLY) or m in REPOSITORY_ONLY_FILES)
    assert leaked == [], f"repository-only files in the tarball (add them to build_ignore in galaxy.yml): {leaked}"


def test_the_tarball_ships_no_drill_workload(members):
    drill_code = [m for m in members if "drill_workload" in m or "cloudphone_drill" in m
                  or re.match(r"plugins/module_utils/drill", m)]
    assert drill_code == [], f"the drill workloads are test-side (tests/drills): {drill_code}"


def test_the_internal_roles_ship_with_their_argument_specs(members):
    for role in INTERNAL_ROLES:
        for part in ("meta/argument_specs.yml", "meta/main.yml", "defaults/main.yml", "tasks/main.yml"):
            assert f"roles/{role}/{part}" in members, f"roles/{role}/{part} is missing from the tarball"


def test_every_shipped_module_is_used_by_a_shipped_role_or_playbook(installed, members):
    """Operators reach the modules through the roles and playbooks; a module only tests use is not theirs."""
    tmp, _env = installed
    root = tmp / "collections" / "ansible_collections" / "cloudphone" / "infra"
    modules = sorted(os.path.basename(m)[:-3] for m in members
                     if re.fullmatch(r"plugins/modules/\w+\.py", m))
    assert modules, "no module in the tarball"
    used = set()
    for path in glob.glob(str(root / "**" / "*.yml"), recursive=True):
        with open(path) as fh:
            used.update(re.findall(r"cloudphone\.infra\.(\w+)\s*:", fh.read()))
    unused = [m for m in modules if m not in used]
    assert unused == [], f"modules no shipped role or playbook uses: {unused}"


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
