"""A check-mode converge with diff must not print the Redis ACL password hashes.

users.acl holds the sha256 hash of every Redis password; a hash in a terminal or a CI log is
enough for an offline guess. The test empties users.acl on one host, so that the template task has
a difference to show, runs the scenario's converge playbook with --check --diff (what an operator
runs before a converge, and what the drift check does), puts the file back, and searches the output
for the hashes the file held.
"""

import os
import re
import subprocess

import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(SCENARIO))
CONVERGE = os.path.join(SCENARIO, "converge.yml")
ACL_FILE = "/etc/redis/cloudphone/users.acl"
ACL_TASK = "cloudphone.infra.redis : Write the ACL users"
# `user app on #<sha256 hex> ...`: what the template writes for each user.
PASSWORD_HASH = re.compile(r"#([0-9a-f]{64})\b")


def ansible_env():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               # The assertions read the default callback's plain text.
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", os.path.join(ROOT, "inventories", "lab", ".vault-pass"))
    return env


def write_as_root(host, path, content):
    """Replace the content in place, so the file keeps its owner, group and mode."""
    with host.sudo():
        host.check_output("printf '%%s' %s > %s", content, path)


def task_output(output, task):
    """The lines the callback printed for one task, up to the next task's header."""
    start = output.index(f"TASK [{task}]")
    end = output.find("\nTASK [", start + 1)
    return output[start:end if end != -1 else len(output)]


def test_check_diff_of_a_changed_acl_file_prints_no_password_hash():
    name = RUNNER.get_hosts("redis")[0]
    host = testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")
    with host.sudo():
        original = host.file(ACL_FILE).content_string
    hashes = set(PASSWORD_HASH.findall(original))
    assert len(hashes) >= 5, f"{ACL_FILE} on {name} should hold a hash per user:\n{original}"

    write_as_root(host, ACL_FILE, "")
    try:
        res = subprocess.run(["ansible-playbook", CONVERGE, "-i", INVENTORY, "--check", "--diff"], cwd=ROOT,
                             env=ansible_env(), capture_output=True, text=True, timeout=1800)
    finally:
        write_as_root(host, ACL_FILE, original)
    with host.sudo():
        assert host.file(ACL_FILE).content_string == original, f"{ACL_FILE} on {name} was not restored"

    output = res.stdout + res.stderr
    assert res.returncode == 0, output[-4000:]
    # Proof that there was a difference to show: otherwise the search below would prove nothing.
    assert f"changed: [{name}]" in task_output(res.stdout, ACL_TASK), task_output(res.stdout, ACL_TASK)
    leaked = sorted(h for h in hashes if h in output)
    assert not leaked, f"--check --diff printed {len(leaked)} ACL password hash(es) of {ACL_FILE}: add no_log: true"
