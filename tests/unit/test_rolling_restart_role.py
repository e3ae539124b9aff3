"""cloudphone.infra.rolling_restart, run by ansible-playbook on local hosts with a fixture tier.

The fixture tier (a role in a throw-away collection) has the shape every clustered role has: a task
that notifies, a handler that only adds the role to rolling_restart_requests, a flush point that
includes the pattern, and task files for the leader, the step before a restart, the restart and the
health gate. Each file appends a line to a journal, so the tests see what the pattern did, in which
order, from which host, and whether anything overlapped.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOSTS = ["h1", "h2", "h3", "h4"]

TIER = {
    "handlers/main.yml": """---
- name: Request a rolling restart of the fixture tier
  ansible.builtin.set_fact:
    rolling_restart_requests: "{{ rolling_restart_requests | default([]) | union(['fixture.cluster.tier']) }}"
""",
    "tasks/main.yml": """---
- name: Break a host
  ansible.builtin.fail:
    msg: broken on purpose
  when: inventory_hostname == fixture_broken

- name: Change something that needs a restart
  ansible.builtin.debug:
    msg: new settings
  changed_when: true
  notify: Request a rolling restart of the fixture tier
  when: inventory_hostname in fixture_changed

- name: Apply the restarts
  ansible.builtin.meta: flush_handlers

- name: Restart the members that asked
  ansible.builtin.include_role:
    name: cloudphone.infra.rolling_restart
  vars:
    rolling_restart_role: fixture.cluster.tier
    rolling_restart_restart_tasks: restart_member
    rolling_restart_before_tasks: restart_before
    rolling_restart_leader_tasks: restart_leader
    rolling_restart_health_tasks: restart_health
    rolling_restart_health_retries: 3
    rolling_restart_health_delay: 0
""",
    "tasks/restart_leader.yml": """---
- name: Leader | say who leads
  ansible.builtin.set_fact:
    rolling_restart_leader: "{{ fixture_leader }}"
""",
    "tasks/restart_before.yml": """---
- name: Before | note it
  ansible.builtin.shell: "echo before {{ rolling_restart_member }} {{ inventory_hostname }} >> {{ fixture_journal }}"
  changed_when: true
""",
    # A restart that takes a while: an overlapping one would interleave its lines with this one's.
    "tasks/restart_member.yml": """---
- name: Restart | down, up
  ansible.builtin.shell: >-
    echo down {{ rolling_restart_member }} >> {{ fixture_journal }} && sleep 0.3 &&
    echo up {{ rolling_restart_member }} >> {{ fixture_journal }}
  changed_when: true
""",
    "tasks/restart_health.yml": """---
- name: Health | the member must be healthy
  ansible.builtin.shell: "echo health {{ rolling_restart_member }} >> {{ fixture_journal }}; test {{ rolling_restart_member }} != {{ fixture_sick }}"
  register: fixture_health
  until: fixture_health.rc == 0
  retries: "{{ rolling_restart_health_retries }}"
  delay: "{{ rolling_restart_health_delay }}"
  changed_when: false
""",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rolling_restart")
    role = tmp / "collections" / "ansible_collections" / "fixture" / "cluster" / "roles" / "tier"
    for rel, text in TIER.items():
        (role / rel).parent.mkdir(parents=True, exist_ok=True)
        (role / rel).write_text(text)
    (tmp / "ansible.cfg").write_text("[defaults]\n")
    (tmp / "pending").mkdir()
    (tmp / "hosts.ini").write_text(
        "[cluster]\n" + "\n".join(HOSTS) + "\n[cluster:vars]\nansible_connection=local\n"
        f"ansible_python_interpreter={sys.executable}\n")
    return tmp


def converge(lab, name, changed, leader="", serial=None, check=False, sick="nobody", broken="nobody"):
    journal = lab / f"{name}.journal"
    journal.write_text("")
    play = {"name": "Fixture tier", "hosts": "cluster", "gather_facts": False,
            "vars": {"fixture_changed": changed, "fixture_leader": leader, "fixture_journal": str(journal),
                     "fixture_sick": sick, "fixture_broken": broken,
                     # The local hosts share one file system: one pending file each (the member's
                     # name while the pattern works on it, else the host's own).
                     "rolling_restart_pending_file":
                         str(lab / "pending" / "{{ rolling_restart_member | default(inventory_hostname) }}")},
            "roles": [{"role": "fixture.cluster.tier"}]}
    if serial is not None:
        play["serial"] = serial
    (lab / f"{name}.yml").write_text(json.dumps([play]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(lab / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(lab / "collections"), os.path.join(ROOT, "collections")]),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_FORKS="4")
    playbook = shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) or "ansible-playbook"
    argv = [playbook, "-i", str(lab / "hosts.ini"), str(lab / f"{name}.yml")] + (["--check"] if check else [])
    proc = subprocess.run(argv, cwd=lab, env=env, capture_output=True, text=True, timeout=300)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(proc.stdout[-3000:] + proc.stderr[-3000:])
    lines = [line.split() for line in journal.read_text().splitlines()]
    return proc.returncode, result, lines


def restarts(lines):
    """The members in the order they went down, after checking that no two were down at once."""
    down, order = None, []
    for word, member, *_ in lines:
        if word == "down":
            assert down is None, f"{member} went down while {down} was still down: {lines}"
            down = member
            order.append(member)
        elif word == "up":
            assert down == member, lines
            down = None
    assert down is None, lines
    return order


def changed_per_task(result):
    """{task name without its role prefix: [hosts it changed]}."""
    out = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                if res.get("changed"):
                    out.setdefault(task["task"]["name"].split(" : ", 1)[-1], []).append(host)
    return out


def test_without_serial_every_member_that_asked_restarts_once_in_turn_the_leader_last(lab):
    rc, _result, lines = converge(lab, "all", changed=["h1", "h2", "h3"], leader="h1")
    assert rc == 0
    assert restarts(lines) == ["h2", "h3", "h1"]
    # Each member: the step before, the restart, then its health gate, before the next one begins.
    assert [(w, m) for w, m, *_ in lines] == [
        (w, m) for m in ("h2", "h3", "h1") for w in ("before", "down", "up", "health")]
    # One host drives it all: the batch's first.
    assert {host for w, _m, host in (x for x in lines if x[0] == "before")} == {"h1"}


def test_a_leader_that_asked_nothing_is_not_restarted(lab):
    rc, _result, lines = converge(lab, "leader-unchanged", changed=["h2", "h4"], leader="h3")
    assert rc == 0
    assert restarts(lines) == ["h2", "h4"]


@pytest.mark.parametrize("serial,batches", [(1, [["h1"], ["h2"], ["h3"], ["h4"]]), (2, [["h1", "h2"], ["h3", "h4"]])])
def test_with_serial_each_batch_restarts_its_own_members_once_and_still_one_at_a_time(lab, serial, batches):
    rc, _result, lines = converge(lab, f"serial{serial}", changed=["h1", "h2", "h4"], leader="h2", serial=serial)
    assert rc == 0
    expected = []
    for batch in batches:
        asked = [h for h in batch if h in ("h1", "h2", "h4")]
        # Within a batch the leader goes last.
        expected += [h for h in asked if h != "h2"] + [h for h in asked if h == "h2"]
    assert restarts(lines) == expected


def test_a_member_that_does_not_recover_stops_the_restarts_and_the_next_run_finishes_them(lab):
    rc, result, lines = converge(lab, "sick", changed=["h1", "h2", "h3"], leader="h1", sick="h3")
    assert rc != 0
    # h2 went first and recovered, h3 did not: the gate held, h1 (the leader) was never touched.
    assert restarts(lines) == ["h2", "h3"]
    assert [m for w, m, *_ in lines if w == "health"] == ["h2", "h3", "h3", "h3", "h3"]
    assert result["stats"]["h1"]["failures"] >= 1
    assert sorted(p.name for p in (lab / "pending").iterdir()) == ["h1", "h3"]
    # The next run changes nothing, yet restarts what the failed one left pending, the leader last.
    rc, _result, lines = converge(lab, "sick-again", changed=[], leader="h1")
    assert rc == 0
    assert restarts(lines) == ["h3", "h1"]
    assert list((lab / "pending").iterdir()) == []
    rc, _result, lines = converge(lab, "sick-done", changed=[], leader="h1")
    assert (rc, lines) == (0, [])


def test_check_mode_restarts_nothing_and_reports_each_restart_as_a_change(lab):
    # h2's restart was left pending by an earlier run: check mode reports it too, and leaves it.
    (lab / "pending" / "h2").write_text("")
    rc, result, lines = converge(lab, "check", changed=["h1", "h3"], leader="h1", check=True)
    assert rc == 0
    assert lines == []
    changed = changed_per_task(result)
    assert sorted(changed.pop("Rolling restart | report the restart this member would get")) == ["h1", "h2", "h3"]
    assert list(changed) == ["Change something that needs a restart"], changed
    assert [p.name for p in (lab / "pending").iterdir()] == ["h2"]
    (lab / "pending" / "h2").unlink()


def test_no_restart_while_a_peer_failed_earlier_in_the_play(lab):
    rc, result, lines = converge(lab, "peer-failed", changed=["h1", "h2"], leader="", broken="h3")
    assert rc != 0
    assert lines == []
    pending = sorted(p.name for p in (lab / "pending").iterdir())
    for leftover in (lab / "pending").iterdir():
        leftover.unlink()
    assert pending == ["h1", "h2"]
    failed = [(host, task["task"]["name"]) for play in result["plays"] for task in play["tasks"]
              for host, res in task["hosts"].items() if res.get("failed")]
    assert failed[0] == ("h3", "fixture.cluster.tier : Break a host")
    assert failed[1][1].endswith("refuse to restart members while a peer failed in this play")
