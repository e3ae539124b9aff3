"""The drift check on real hosts: fresh -> 0, seeded drift -> 2, converge -> 0, stopped service -> 3.

Runs in the Molecule scenario `drift` (its verifier) and against a lab
(`make drift-test INVENTORY=inventories/lab`). The inventory comes from
DRIFT_TEST_INVENTORY or Molecule's MOLECULE_INVENTORY_FILE. What each tier seeds and
expects is in tiers.yml; a tier whose group is empty in the inventory is left out.
The tests run in file order and build on each other (one lab state).
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
INVENTORY = os.environ.get("DRIFT_TEST_INVENTORY") or os.environ.get("MOLECULE_INVENTORY_FILE")
OUT = os.environ.get("DRIFT_TEST_OUT") or os.path.join(
    os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY") or os.path.join(ROOT, "reports"), "drift-test")

if not INVENTORY:
    # A drift test without hosts must not read as a pass.
    pytest.fail("no inventory under test: run `make drift-test INVENTORY=inventories/lab` (it sets "
                "DRIFT_TEST_INVENTORY), or the Molecule scenario `drift`", pytrace=False)


@pytest.fixture(scope="module", autouse=True)
def fresh_output():
    """Reports and logs of this session only: the secret search reads all of them."""
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)


def env():
    e = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
             CLOUDPHONE_DRIFT_REPORT_DIR=os.path.join(OUT, "reports"),
             # Molecule forces colour on; the tests parse plain output.
             ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    e.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", os.path.join(ROOT, "inventories", "lab", ".vault-pass"))
    return e


def ansible(*args, timeout=1800, keep_output=True):
    """Run an ansible CLI from the project root; keep its output for the secret search."""
    res = subprocess.run(list(args), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    if keep_output:
        os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
        with open(os.path.join(OUT, "logs", f"{time.time_ns()}-{os.path.basename(args[0])}.log"), "w") as fh:
            fh.write(res.stdout + res.stderr)
    return res


def drift_check():
    before = set(glob.glob(os.path.join(OUT, "reports", "*.json")))
    started = time.monotonic()
    res = ansible("ansible-playbook", "drift-check.yml", "-i", INVENTORY, "--check", "--diff")
    new = sorted(set(glob.glob(os.path.join(OUT, "reports", "*.json"))) - before)
    assert len(new) == 1, f"expected one new report, got {new}\n{res.stdout[-3000:]}"
    with open(new[0]) as fh:
        report = json.load(fh)
    report["_wall_s"] = round(time.monotonic() - started, 1)
    return res, report


def converge():
    res = ansible("ansible-playbook", "site.yml", "-i", INVENTORY)
    assert res.returncode == 0, res.stdout[-3000:]


def hosts_matching(pattern):
    """The hosts of a pattern, in Ansible's own order (so `haproxy[0]` means what the seeds mean)."""
    res = ansible("ansible", pattern, "-i", INVENTORY, "--list-hosts", keep_output=False)
    if res.returncode != 0 or "hosts (0)" in res.stdout:
        return []
    return [line.strip() for line in res.stdout.splitlines()[1:] if line.strip()]


@pytest.fixture(scope="module")
def registry():
    """tiers.yml: what each tier seeds, expects, stops and moves."""
    with open(os.path.join(HERE, "tiers.yml")) as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def groups(registry):
    # The tiers' groups and every group an expectation or a stop names (redis_sentinel, ...).
    names = {t["group"] for t in registry.values()} | {"all"}
    names |= {ref["group"] for t in registry.values() for ref in t["expect"] + ([t["stop"]] if t.get("stop") else [])}
    return {name: hosts_matching(name) for name in names}


@pytest.fixture(scope="module")
def tiers(registry, groups):
    """The tiers of tiers.yml that this inventory has hosts for."""
    present = {name: t for name, t in registry.items() if groups.get(t["group"])}
    assert "base" in present and len(present) >= 2, f"the drift test needs base and at least one tier: {present}"
    return present


def host_of(groups, ref):
    return groups[ref["group"]][ref["index"]]


def test_fresh_lab_has_no_drift(tiers, groups):
    res, report = drift_check()
    assert res.returncode == 0, res.stdout[-4000:]
    assert report["exit_code"] == 0 and report["drift"] == [] and report["errors"] == []
    assert report["unchecked"] == [], "tasks that check mode skips cannot show drift"
    # Every tier present answered its health check, healthy, from every host of its group.
    answered = {(h["tier"], h["host"]) for h in report["health"] if h["healthy"]}
    for name, tier in tiers.items():
        for host in groups[tier["group"]]:
            assert (name, host) in answered, f"no healthy answer from {name} on {host}"
    assert "DRIFT CHECK: no drift, every tier healthy (exit 0)" in res.stdout


def test_seeded_drift_is_reported_with_host_and_resource(tiers, groups):
    seeded_hosts = {}
    for name, tier in tiers.items():
        res = ansible("ansible-playbook", os.path.join(HERE, tier["seed"]), "-i", INVENTORY)
        assert res.returncode == 0, res.stdout[-3000:]
        for ref in tier["expect"]:
            seeded_hosts.setdefault(name, set()).add(host_of(groups, ref))
    res, report = drift_check()
    assert res.returncode == 2, res.stdout[-4000:]
    assert report["problems"] == [], "seeded drift must not make a tier unhealthy"
    reported = {(d["tier"], d["host"], d["resource"]) for d in report["drift"]}
    for name, tier in tiers.items():
        for ref in tier["expect"]:
            host = host_of(groups, ref)
            assert (name, host, ref["resource"]) in reported, f"{name}: {ref['resource']} on {host} not reported"
            assert any(line.startswith(f"  drift    {host}  {name}/") and ref["resource"] in line
                       for line in res.stdout.splitlines()), f"no summary line for {ref['resource']} on {host}"
    # Nothing is reported where nothing was seeded.
    for tier, host, resource in reported:
        assert host in seeded_hosts.get(tier, set()), f"unexpected drift: {tier} {host} {resource}"


def test_one_converge_clears_the_drift(tiers):
    converge()
    res, report = drift_check()
    assert res.returncode == 0, res.stdout[-4000:]
    assert report["drift"] == []


def test_a_failover_is_information_not_drift(tiers):
    """After a switchover (new leader, new master) a converge changes nothing, so the drift check
    finds no drift; the move is listed as information. Where no tier of the inventory has a leader
    to move, the check must list no move at all."""
    moving = {name: t["failover"] for name, t in tiers.items() if t.get("failover")}
    for name, failover in moving.items():
        res = ansible("ansible-playbook", os.path.join(ROOT, failover["playbook"]), "-i", INVENTORY)
        assert res.returncode == 0, f"{name} failover: {res.stdout[-3000:]}"
    res, report = drift_check()
    assert res.returncode == 0, res.stdout[-4000:]
    assert report["drift"] == [] and report["problems"] == []
    moved = {(c["tier"], c["key"]) for c in report["topology_changes"]}
    if not moving:
        assert moved == set(), f"nothing moved, yet the check reports moves: {report['topology_changes']}"
    for name, failover in moving.items():
        assert (name, failover["key"]) in moved, f"{name}: the move of {failover['key']} is not reported"
        assert any(line.startswith(f"  info     {name} {failover['key']} is ") for line in res.stdout.splitlines())


def test_a_stopped_service_makes_its_tier_unhealthy(tiers, groups):
    stopped = [(name, t["stop"]) for name, t in tiers.items() if t.get("stop")]
    assert stopped, "at least one tier must define a service to stop"
    try:
        for name, stop in stopped:
            res = ansible("ansible", host_of(groups, stop), "-i", INVENTORY, "--become", "-m",
                          "ansible.builtin.systemd_service", "-a", f"name={stop['unit']} state=stopped")
            assert res.returncode == 0, res.stdout[-2000:]
        res, report = drift_check()
        assert res.returncode == 3, res.stdout[-4000:]
        # A stopped daemon is a health matter: no task of the check itself fails on it.
        assert report["errors"] == [], report["errors"]
        for name, stop in stopped:
            host = host_of(groups, stop)
            problems = [p for p in report["problems"] if p["tier"] == name and stop["problem"] in p["problem"]]
            assert problems, f"{name}: no problem containing {stop['problem']!r}: {report['problems']}"
            assert any(line.startswith(f"  health   {name}: ") and stop["problem"] in line for line in res.stdout.splitlines())
            # The stopped service is also drift (the role would start it), named by its host.
            assert any(d["host"] == host and d["resource"] == f"service {stop['unit']}" for d in report["drift"])
    finally:
        for name, stop in stopped:
            ansible("ansible", host_of(groups, stop), "-i", INVENTORY, "--become", "-m", "ansible.builtin.systemd_service",
                    "-a", f"name={stop['unit']} state=started")
        # Units that stopped with them (an exporter bound to its daemon) come back with a converge.
        ansible("ansible-playbook", "site.yml", "-i", INVENTORY)


def vault_values():
    inventory_dir = INVENTORY if os.path.isdir(INVENTORY) else os.path.dirname(INVENTORY)
    res = ansible("ansible-vault", "view", os.path.join(inventory_dir, "group_vars", "all", "vault.yml"),
                  keep_output=False)
    assert res.returncode == 0, res.stderr
    values = [v for k, v in yaml.safe_load(res.stdout).items() if k.startswith("vault_")]
    assert len(values) >= 2 and all(len(v) >= 16 for v in values)
    return values


def test_no_secret_in_any_report_or_output(tiers, groups):
    secrets = vault_values()
    # The control: the drifted haproxy.cfg really carried a secret (the statistics password).
    if "loadbalancer" in tiers:
        with tempfile.TemporaryDirectory() as fetched:
            res = ansible("ansible", groups["haproxy"][0], "-i", INVENTORY, "--become", "-m", "ansible.builtin.fetch",
                          "-a", f"src=/etc/haproxy/haproxy.cfg dest={fetched}/ flat=true", keep_output=False)
            assert res.returncode == 0, res.stdout[-2000:]
            with open(os.path.join(fetched, "haproxy.cfg")) as fh:
                content = fh.read()
        assert any(s in content for s in secrets), "haproxy.cfg should hold the statistics password"
    files = [p for p in glob.glob(os.path.join(OUT, "**", "*"), recursive=True) if os.path.isfile(p)]
    reports = [p for p in files if "/reports/" in p]
    assert len(reports) >= 12, f"expected the reports of four runs, found {reports}"
    for path in files:
        with open(path, errors="replace") as fh:
            text = fh.read()
        for secret in secrets:
            assert secret not in text, f"a vault value appears in {path}"
