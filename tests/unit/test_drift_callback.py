"""The drift_report callback, end to end on the control node.

tests/unit/drift_fixture/playbook.yml is a miniature drift check (the real first
play of drift-check.yml, then plays with the variables of site.yml) against localhost. Each test prepares
the files the playbook manages and the port its health check asks, runs the real
ansible-playbook with the real callback, and reads the reports it wrote.
"""

import glob
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(os.path.dirname(__file__), "drift_fixture")
SECRETS = ("FixturePassword0123456789", "FixtureToken9876543210abc", "FixtureInlineVaulted13579xyz")
CONVERGED = {
    "plain.conf": "listen 0.0.0.0:8080\n",
    "app.conf": f"user app\npassword {SECRETS[0]}\n",
    "hidden.conf": f"token {SECRETS[1]}\n",
    "inline.conf": f"key {SECRETS[2]}\n",
}




@pytest.fixture
def managed(tmp_path):
    """A directory whose files match what the playbook would write (a converged host)."""
    d = tmp_path / "managed"
    d.mkdir()
    for name, content in CONVERGED.items():
        (d / name).write_text(content)
        (d / name).chmod(0o644 if name == "plain.conf" else 0o600)
    return d


def run(tmp_path, managed, port, extra=(), inventories=(), env_extra=None, check_flags=("--check", "--diff")):
    reports = tmp_path / "reports"
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), CLOUDPHONE_DRIFT_REPORT_DIR=str(reports),
               ANSIBLE_VAULT_PASSWORD_FILE=os.path.join(FIXTURE, "vault-pass"), **(env_extra or {}))
    cmd = ["ansible-playbook", os.path.join(FIXTURE, "playbook.yml"), "-i", os.path.join(FIXTURE, "inventory.yml"),
           "-e", f"fixture_dir={managed}", "-e", f"fixture_port={port}", *check_flags, *extra]
    for inv in inventories:
        cmd += ["-i", str(inv)]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    jsons = sorted(glob.glob(str(reports / "*.json")))
    report = json.load(open(jsons[-1])) if jsons else None
    return res, report, reports


def test_no_drift_and_healthy_exits_0(tmp_path, managed, listener):
    res, report, _ = run(tmp_path, managed, listener)
    assert res.returncode == 0, res.stdout[-3000:]
    assert report["exit_code"] == 0
    assert report["drift"] == [] and report["problems"] == [] and report["errors"] == []
    assert report["counts"]["tasks_checked"] >= 5
    assert [(h["tier"], h["healthy"]) for h in report["health"]] == [("fixture", True), ("fixture_after", True)]
    assert "DRIFT CHECK: no drift, every tier healthy (exit 0)" in res.stdout


@pytest.mark.parametrize("flags", [(), ("--check",), ("--diff",)], ids=["no flags", "check only", "diff only"])
def test_without_check_and_diff_it_refuses_and_changes_nothing(tmp_path, managed, listener, flags):
    (managed / "plain.conf").write_text("listen 0.0.0.0:9090\n")
    res, _report, _ = run(tmp_path, managed, listener, check_flags=flags)
    assert res.returncode != 0
    assert "ansible-playbook drift-check.yml -i <inventory> --check --diff" in res.stdout
    # The refusal ended the run before the configuration play: the drifted file is untouched.
    assert (managed / "plain.conf").read_text() == "listen 0.0.0.0:9090\n"
    assert "A plain configuration file" not in res.stdout


def test_drift_exits_2_and_names_host_resource_and_diff(tmp_path, managed, listener):
    (managed / "plain.conf").write_text("listen 0.0.0.0:9090\n")
    res, report, reports = run(tmp_path, managed, listener)
    assert res.returncode == 2, res.stdout[-3000:]
    assert [(d["host"], d["tier"], d["resource"], d["change"]) for d in report["drift"]] == [
        ("localhost", "fixture", f"{managed}/plain.conf", "content differs")]
    diff = report["drift"][0]["diff"]
    assert "-listen 0.0.0.0:9090" in diff and "+listen 0.0.0.0:8080" in diff
    # Check mode: the file is untouched.
    assert (managed / "plain.conf").read_text() == "listen 0.0.0.0:9090\n"
    assert f"drift    localhost  fixture/-  {managed}/plain.conf: content differs" in res.stdout
    # JUnit: every checked task is a test case, the drifted one a failure, health its own suite.
    suites = {s.get("name"): s for s in ET.parse(glob.glob(str(reports / "*.xml"))[0]).getroot()}
    assert [c.get("name") for c in suites["drift.fixture"] if c.find("failure") is not None] == [
        "A plain configuration file"]
    assert int(suites["drift.fixture"].get("tests")) >= 4
    assert suites["health.fixture"].get("failures") == "0"


def test_attribute_drift_names_the_attribute(tmp_path, managed, listener):
    (managed / "plain.conf").chmod(0o666)
    res, report, _ = run(tmp_path, managed, listener)
    assert res.returncode == 2
    assert report["drift"][0]["change"] == "mode 0666 -> 0644"


def test_unhealthy_exits_3_with_or_without_drift(tmp_path, managed, closed_port):
    (managed / "plain.conf").write_text("drifted\n")
    res, report, _ = run(tmp_path, managed, closed_port)
    assert res.returncode == 3, res.stdout[-3000:]
    assert len(report["drift"]) == 1
    assert report["problems"] == [{
        "tier": "fixture", "reported_by": ["localhost"],
        "problem": f"nothing accepts connections on 127.0.0.1:{closed_port} (fixture service): "
                   "check that it runs and listens there"}]
    # The check gave up waiting (a failed task): its last answer's problems are reported, and the
    # tier after it is still asked.
    assert [(h["tier"], h["healthy"]) for h in report["health"]] == [("fixture", False), ("fixture_after", True)]
    assert report["errors"] == []


def test_a_failed_task_exits_1(tmp_path, managed, listener):
    res, report, _ = run(tmp_path, managed, listener, extra=["-e", "fixture_fail=true"])
    assert res.returncode == 1, res.stdout[-3000:]
    assert [(e["host"], e["msg"]) for e in report["errors"]] == [("localhost", "the fixture failed on purpose")]


def test_an_unreachable_host_exits_1_even_with_drift(tmp_path, managed, listener):
    (managed / "plain.conf").write_text("drifted\n")
    ghost = tmp_path / "ghost.yml"
    ghost.write_text("all:\n  hosts:\n    ghost:\n      ansible_host: 127.0.0.1\n      ansible_port: 9\n"
                     "      ansible_connection: ssh\n")
    res, report, _ = run(tmp_path, managed, listener, inventories=[ghost])
    assert res.returncode == 1, res.stdout[-3000:]
    assert [(e["host"], e["unreachable"]) for e in report["errors"]] == [("ghost", True)]
    assert report["verdict"] == "the check itself failed"


def test_vault_values_never_reach_a_report(tmp_path, managed, listener):
    # (The test's name becomes its directory's name: it must not match a secret-file pattern
    # such as *secret*, or the paths alone would hide the diffs.)
    # Every secret-bearing file drifts: two written without no_log (their diffs would show the
    # password, one of them inline-vaulted), one with no_log.
    (managed / "app.conf").write_text("user app\npassword old-one-0123456789\n")
    (managed / "hidden.conf").write_text("token old-token-0123456789\n")
    (managed / "inline.conf").write_text("key old-key-0123456789\n")
    res, report, reports = run(tmp_path, managed, listener)
    assert res.returncode == 2
    by_file = {os.path.basename(d["resource"]): d for d in report["drift"]}
    assert set(by_file) == {"app.conf", "hidden.conf", "inline.conf"}
    for item in by_file.values():
        assert item["diff"] == "content differs" and item["details_hidden"] is True
        assert item["change"] == "content differs"
    written = [p for p in glob.glob(str(reports / "*")) if os.path.isfile(p)]
    assert len(written) == 3
    for path in written:
        text = open(path).read()
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked into {path}"
    # The old values were in the diffs' "before" side: they never made it either.
    assert "old-one-0123456789" not in json.dumps(report)


def test_keep_prunes_old_reports_and_topology_is_compared(tmp_path, managed, listener):
    reports = tmp_path / "reports"
    reports.mkdir()
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (reports / f"{stamp}.json").write_text(json.dumps({"topology": {"fixture": {"leader": "old"}}}))
        (reports / f"{stamp}.xml").write_text("<testsuites/>")
    res, report, _ = run(tmp_path, managed, listener, env_extra={"CLOUDPHONE_DRIFT_REPORT_KEEP": "2"})
    assert res.returncode == 0
    stamps = sorted({os.path.basename(p).split(".")[0] for p in glob.glob(str(reports / "*"))})
    assert len(stamps) == 2 and stamps[0] == "20200103T000000Z"
    # The fixture's health check reports no topology, so nothing "moved".
    assert report["topology_changes"] == []


def test_dormant_for_other_playbooks(tmp_path, managed, listener):
    """Enabled in ansible.cfg, the callback must not touch an ordinary run (no report, Ansible's exit code)."""
    play = tmp_path / "plain.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.copy: {content: x, dest: '%s/plain.conf', mode: '0644'}\n" % managed)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               CLOUDPHONE_DRIFT_REPORT_DIR=str(tmp_path / "reports"),
               ANSIBLE_VAULT_PASSWORD_FILE=os.path.join(FIXTURE, "vault-pass"))
    res = subprocess.run(["ansible-playbook", str(play), "-i", os.path.join(FIXTURE, "inventory.yml"), "--check"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:]
    assert "DRIFT CHECK" not in res.stdout
    assert not (tmp_path / "reports").exists()
