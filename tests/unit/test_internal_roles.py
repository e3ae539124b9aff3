"""The collection's internal roles, run by the real ansible-playbook on the control node.

health_gate includes a tier role's health entry point; here the drift fixture's role
(tests/unit/drift_fixture/roles/fixture_service), which asks whether a port on loopback accepts
connections. drill_fault acts on lab hosts, which the unit tests do not have: only its refusals
are tested, against an inventory whose host points at a closed port, so a task that tried to reach
it would show as UNREACHABLE instead of the expected message.
"""

import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE_ROLES = os.path.join(os.path.dirname(__file__), "drift_fixture", "roles")
INVENTORY = """\
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
    victim:
      ansible_host: 127.0.0.1
      ansible_port: 9
"""




def play(tmp_path, role, role_vars, extra=()):
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    lines = "".join(f"        {k}: {v}\n" for k, v in role_vars.items())
    (tmp_path / "play.yml").write_text(f"""---
- name: Use {role}
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Include {role}
      ansible.builtin.include_role:
        name: cloudphone.infra.{role}
      vars:
{lines}
    - name: Reached the end
      ansible.builtin.debug:
        msg: the play went on
""")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_ROLES_PATH=FIXTURE_ROLES)
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return subprocess.run(["ansible-playbook", str(tmp_path / "play.yml"), "-i", str(tmp_path / "inventory.yml"),
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- health_gate

def test_health_gate_passes_a_healthy_tier(tmp_path, listener):
    res = play(tmp_path, "health_gate", {"health_gate_role": "fixture_service", "fixture_port": listener})
    assert res.returncode == 0, res.stdout[-3000:]
    assert "the play went on" in res.stdout and "failed=0" in res.stdout


def test_health_gate_fails_on_an_unhealthy_tier(tmp_path, closed_port):
    res = play(tmp_path, "health_gate", {"health_gate_role": "fixture_service", "fixture_port": closed_port})
    assert res.returncode == 2, res.stdout[-3000:]
    assert f"nothing accepts connections on 127.0.0.1:{closed_port}" in res.stdout
    assert "the play went on" not in res.stdout


def test_health_gate_records_and_goes_on_when_asked(tmp_path, closed_port):
    res = play(tmp_path, "health_gate", {"health_gate_role": "fixture_service", "fixture_port": closed_port,
                                         "health_gate_on_failure": "record"})
    assert res.returncode == 0, res.stdout[-3000:]
    assert "fixture_service reported its tier unhealthy" in res.stdout
    assert "rescued=1" in res.stdout and "the play went on" in res.stdout


def test_health_gate_asks_from_the_host_it_is_given(tmp_path, listener, closed_port):
    # Delegated to `victim` (a closed SSH port): the check is really sent there.
    res = play(tmp_path, "health_gate", {"health_gate_role": "fixture_service", "fixture_port": listener,
                                         "health_gate_host": "victim"})
    assert res.returncode != 0
    assert "UNREACHABLE" in res.stdout and "victim" in res.stdout
    res = play(tmp_path, "health_gate", {"health_gate_role": "fixture_service", "fixture_port": listener,
                                         "health_gate_host": "localhost"})
    assert res.returncode == 0, res.stdout[-3000:]


@pytest.mark.parametrize("role_vars, message", [
    ({}, "health_gate_role must name the tier's role by FQCN"),
    ({"health_gate_role": "fixture_service", "health_gate_host": "nowhere"},
     "health_gate_host be empty or an inventory host (got 'nowhere')"),
    ({"health_gate_role": "fixture_service", "health_gate_on_failure": "ignore"},
     "health_gate_on_failure must be one of: fail, record"),
])
def test_health_gate_refuses_bad_input(tmp_path, role_vars, message):
    res = play(tmp_path, "health_gate", role_vars)
    assert res.returncode == 2
    assert message in " ".join(res.stdout.split()), res.stdout[-3000:]


# ---------------------------------------------------------------- drill_fault

KILL = {"drill_fault_kind": "kill", "drill_fault_target": "victim", "drill_fault_units": "[redis-server]"}


@pytest.mark.parametrize("role_vars, message", [
    (dict(KILL, drill_fault_kind="reboot"), "drill_fault_kind must be one of: kill, down, stop, pause"),
    (dict(KILL, drill_fault_action="undo"), "drill_fault_action must be one of: inject, restore"),
    (dict(KILL, drill_fault_target="nowhere"), "drill_fault_target must be an inventory host (got 'nowhere')"),
    (dict(KILL, drill_fault_units="[]"), "drill_fault_units must name at least one systemd unit"),
    (dict(KILL, drill_fault_kind="down"), "The 'down' fault needs out-of-band power control for victim"),
])
def test_drill_fault_refuses_bad_input_before_touching_a_host(tmp_path, role_vars, message):
    res = play(tmp_path, "drill_fault", role_vars)
    assert res.returncode == 2
    assert message in " ".join(res.stdout.split()), res.stdout[-3000:]
    assert "UNREACHABLE" not in res.stdout


def test_drill_fault_refuses_check_mode(tmp_path):
    res = play(tmp_path, "drill_fault", KILL, extra=["--check"])
    assert res.returncode == 2
    assert "it cannot run in check mode" in res.stdout
    assert "UNREACHABLE" not in res.stdout


def test_drill_fault_acts_on_the_target(tmp_path):
    """The control for the tests above: valid input gets as far as the victim (unreachable here)."""
    res = play(tmp_path, "drill_fault", KILL)
    assert res.returncode != 0
    assert "UNREACHABLE" in res.stdout and "SIGKILL every process" in res.stdout
