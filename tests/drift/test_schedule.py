"""The scheduled drift check, end to end on a control host.

The first host of the `haproxy` group plays the control host: it gets a copy of the
project and of the inventory under test (with its CA, vault password and SSH key, as
an operator's control host has them), playbooks/drift_schedule.yml installs the timer
with Debian's Ansible packages, and the test starts the service once, as the timer
would. The service must run the real drift check against every host, write its
reports, keep only the newest N, and end with the drift check's exit code.
Runs after test_drift.py (which leaves the hosts converged).
"""

import io
import json
import os
import subprocess
import tarfile
import tempfile

import pytest

from test_drift import INVENTORY, ROOT, ansible, hosts_matching, vault_values

PROJECT = "/srv/cloudphone-infra"
INVENTORY_ON_CONTROL = "inventories/under-test"
VAULT_PASS_ON_CONTROL = "/etc/cloudphone/drift.vault-pass"
KEEP = 2
CALENDAR = "*-*-* 04:30:00"

def project_tarball(path):
    """The project as git knows it (tracked and untracked-not-ignored), plus the inventory under test."""
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    inventory_dir = INVENTORY if os.path.isdir(INVENTORY) else os.path.dirname(INVENTORY)
    with tarfile.open(path, "w") as tar:
        for name in filter(None, files):
            if os.path.lexists(os.path.join(ROOT, name)) and not name.startswith("reports/"):
                tar.add(os.path.join(ROOT, name), arcname=name, recursive=False)
        # The inventory with what git does not hold (vault.yml, the CA), links resolved, modes kept.
        for base, dirs, names in os.walk(inventory_dir, followlinks=True):
            for name in dirs:
                full = os.path.join(base, name)
                tar.add(os.path.realpath(full), recursive=False,
                        arcname=os.path.join(INVENTORY_ON_CONTROL, os.path.relpath(full, inventory_dir)))
            for name in names:
                full = os.path.join(base, name)
                if name == ".vault-pass":
                    continue
                rel = os.path.relpath(full, inventory_dir)
                info = tar.gettarinfo(os.path.realpath(full), arcname=os.path.join(INVENTORY_ON_CONTROL, rel))
                with open(full, "rb") as fh:
                    tar.addfile(info, fh)
        old = json.dumps({"topology": {}}).encode()
        for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
            for ext in ("json", "xml", "txt"):
                info = tarfile.TarInfo(f"reports/drift/{stamp}.{ext}")
                info.size = len(old)
                tar.addfile(info, io.BytesIO(old))


def on(host, module, args, become=True):
    cmd = ["ansible", host, "-i", INVENTORY, "-m", module, "-a", args] + (["--become"] if become else [])
    res = ansible(*cmd)
    assert res.returncode == 0, res.stdout[-3000:]
    return res.stdout


@pytest.fixture(scope="module")
def control():
    hosts = hosts_matching("haproxy[0]")
    assert hosts, "the schedule test needs a host in the haproxy group to act as control host"
    host = hosts[0]
    key = subprocess.run([os.path.join(ROOT, "tools", "lab"), "ssh-key"], capture_output=True, text=True,
                         check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = os.path.join(tmp, "project.tar")
        project_tarball(tarball)
        on(host, "ansible.builtin.file", f"path={PROJECT}/reports/drift state=absent")
        on(host, "ansible.builtin.file", f"path={PROJECT} state=directory mode=0755")
        on(host, "ansible.builtin.unarchive", f"src={tarball} dest={PROJECT}")
    on(host, "ansible.builtin.file", f"path={os.path.dirname(key)} state=directory mode=0700")
    on(host, "ansible.builtin.copy", f"src={key} dest={key} mode=0600")
    on(host, "ansible.builtin.copy", f"src={os.environ.get('ANSIBLE_VAULT_PASSWORD_FILE') or os.path.join(ROOT, 'inventories', 'lab', '.vault-pass')} "
                                     f"dest={VAULT_PASS_ON_CONTROL} mode=0600")
    return host


def install_schedule(host):
    extra = {
        "drift_schedule_hosts": host, "drift_schedule_project_dir": PROJECT, "drift_schedule_install_ansible": True,
        "drift_schedule_inventory": INVENTORY_ON_CONTROL, "drift_schedule_vault_password_file": VAULT_PASS_ON_CONTROL,
        "drift_schedule_calendar": CALENDAR, "drift_schedule_keep": KEEP,
        "drift_schedule_environment": {k: os.environ[k] for k in ("LAB", "LAB_PREFIX") if os.environ.get(k)},
    }
    return ansible("ansible-playbook", "playbooks/drift_schedule.yml", "-i", INVENTORY, "-e", json.dumps(extra))


def test_the_schedule_installs_idempotently(control):
    first = install_schedule(control)
    assert first.returncode == 0, first.stdout[-3000:]
    second = install_schedule(control)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "changed=0" in second.stdout.split("PLAY RECAP")[1], second.stdout[-2000:]
    timer = on(control, "ansible.builtin.command", "systemctl show cloudphone-drift-check.timer "
                                                    "-p ActiveState -p UnitFileState -p TimersCalendar")
    assert "ActiveState=active" in timer and "UnitFileState=enabled" in timer
    assert "OnCalendar=*-*-* 04:30:00" in timer


def test_the_timer_service_runs_the_check_and_keeps_n_reports(control):
    # What the timer starts: `systemctl start` waits for a oneshot service to finish.
    res = ansible("ansible", control, "-i", INVENTORY, "--become", "-m", "ansible.builtin.command",
                  "-a", "systemctl start cloudphone-drift-check.service", timeout=3600)
    status = on(control, "ansible.builtin.command", "systemctl show cloudphone-drift-check.service "
                                                     "-p ExecMainStatus -p Result")
    code = int(status.split("ExecMainStatus=")[1].split()[0])
    listing = on(control, "ansible.builtin.command", f"ls -1 {PROJECT}/reports/drift")
    names = sorted(line.strip() for line in listing.split(">>", 1)[1].splitlines() if line.strip())
    stamps = sorted({n.split(".")[0] for n in names})
    # The newest KEEP runs remain: the one the service just wrote and the newest planted one.
    assert len(stamps) == KEEP and stamps[0] == "20200103T000000Z", names
    newest = f"{PROJECT}/reports/drift/{stamps[-1]}.json"
    with tempfile.TemporaryDirectory() as tmp:
        on(control, "ansible.builtin.fetch", f"src={newest} dest={tmp}/ flat=true")
        with open(os.path.join(tmp, os.path.basename(newest))) as fh:
            report = json.load(fh)
    # The unit ends with the drift check's own verdict, and the check really covered the hosts.
    assert report["exit_code"] == code, (code, report["verdict"])
    assert code == 0 and res.returncode == 0, report["verdict"]
    assert set(hosts_matching("all")) <= {h["host"] for h in report["health"]}
    journal = on(control, "ansible.builtin.command", "journalctl -u cloudphone-drift-check.service --no-pager")
    assert "DRIFT CHECK: no drift, every tier healthy (exit 0)" in journal
    assert not any(secret in journal for secret in vault_values()), "a vault value appears in the journal"
