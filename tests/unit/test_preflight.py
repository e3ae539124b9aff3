"""site.yml refuses a bad inventory before it touches any host.

The hosts in these inventories point at a closed port on loopback addresses: if the
preflight tried to reach one, the run would report it unreachable, and the
tests would fail on that instead of on the expected message.
"""

import os
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_inventory(tmp_path, secrets):
    inv = tmp_path / "inv"
    shutil.copytree(os.path.join(ROOT, "inventories", "lab"), inv,
                    ignore=shutil.ignore_patterns("vault.yml", ".vault-pass", "credentials"))
    # One loopback address per host (127.0.0.<lab_octet>; a host without one falls back to its name, as
    # in the lab): preflight refuses two hosts at one address.
    (inv / "group_vars" / "all" / "zz_test.yml").write_text(
        "---\nansible_host: \"{{ ('127.0.0.' ~ lab_octet) if lab_octet is defined else inventory_hostname }}\"\n"
        "ansible_port: 9\n"
        # The lab's OSD devices are loop devices tools/lab attached; none exist here.
        "lab_disk_device: /dev/loop0\n" + "".join(f"vault_{k}: {v}\n" for k, v in secrets.items()))
    return inv


def run_site(inv):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return subprocess.run(["ansible-playbook", "site.yml", "-i", str(inv)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def refused_before_any_host(inv):
    """Run site.yml and insist it stopped in preflight: no host contacted, no facts gathered.
    Returns the output with white space folded, for the message assertions."""
    res = run_site(inv)
    assert res.returncode != 0
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
    return " ".join(res.stdout.split())


def valid_secrets(inv):
    names = set()
    for root, _d, files in os.walk(inv / "group_vars"):
        for f in files:
            with open(os.path.join(root, f)) as fh:
                names.update(w[len("vault_"):] for w in fh.read().replace("}", " ").split() if w.startswith("vault_"))
    return {n: CEPHX_KEY if n.endswith("_cephx_key") else f"Valid{n.title().replace('_', '')}Secret123456"
            for n in names}


# A well-formed cephx key (type 1, a creation time, 16 bytes), as the Ceph roles insist on.
CEPHX_KEY = "AQBMA1RpAAAAABAAVGVzdEtleVRlc3RLZXkxMg=="


def test_valid_secrets_pass_the_secret_gate(tmp_path):
    """The control: with every secret valid, the run gets past preflight (and then fails to reach hosts)."""
    inv = make_inventory(tmp_path, {})
    secrets = valid_secrets(inv)
    inv = make_inventory(tmp_path / "ok", secrets)
    res = run_site(inv)
    assert "UNREACHABLE" in res.stdout, res.stdout[-2000:]


@pytest.mark.parametrize("case", ["missing", "default", "short"])
def test_bad_secret_fails_before_any_host_is_touched(tmp_path, case):
    inv = make_inventory(tmp_path, {})
    secrets = valid_secrets(inv)
    if case == "missing":
        del secrets["pki_ca_passphrase"]
    elif case == "default":
        secrets["pki_ca_passphrase"] = "admin123"
    else:
        secrets["pki_ca_passphrase"] = "tooShort1"
    inv = make_inventory(tmp_path / case, secrets)
    res = run_site(inv)
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert "pki_ca_passphrase" in out
    assert "make secrets" in out
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
