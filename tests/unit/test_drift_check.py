"""drift-check.yml is site.yml in check mode with diff, and nothing else.

There is no second copy of the converge's plays: the drift check imports its first play
(drift_start.yml: arm the report, refuse to run without --check and --diff) and then
site.yml, which ends with every tier's health (playbooks/health.yml). These tests hold
the few rules that make that work: every play of site.yml names its tier for the report,
every role with a health entry point is asked, health only reads, and a failure in one
tier does not hide the tiers after it.
"""

import os

import yaml

from task_tree import leaf_tasks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# logs_query only reads (a LogsQL search): the logging tier asks whether VictoriaLogs answers one;
# metrics_query only reads (PromQL instant queries): VictoriaMetrics' health asks one.
READ_ONLY_HEALTH_MODULES = ("cloudphone.infra.service_health", "cloudphone.infra.monitoring_info",
                            "cloudphone.infra.logs_query", "cloudphone.infra.metrics_query", "ansible.builtin.assert",
                            "ansible.builtin.set_fact")
KEEP_HOSTS = "cloudphone.infra.drift_keep_hosts"


def load(path):
    with open(os.path.join(ROOT, path)) as fh:
        return yaml.safe_load(fh)


def imports_of(path):
    return [p.get("ansible.builtin.import_playbook") for p in load(path)]


def plays_of(path, skip=("cloudphone.infra.preflight",)):
    """The plays of a playbook in run order, following import_playbook of collection playbooks.
    Preflight is skipped: it validates on the control node, and the report files it under "preflight"."""
    plays = []
    for play in load(path):
        target = play.get("ansible.builtin.import_playbook")
        if target in skip:
            continue
        if target:
            plays += plays_of(os.path.join("playbooks", target.rsplit(".", 1)[-1] + ".yml"), skip)
        else:
            plays.append(play)
    return plays


def play_vars(play):
    return play.get("vars") or {}


def test_the_drift_check_is_its_first_play_then_site_yml():
    assert imports_of("drift-check.yml") == ["cloudphone.infra.drift_check"]
    assert imports_of("playbooks/drift_check.yml") == ["cloudphone.infra.drift_start", "cloudphone.infra.site"]


def test_the_first_play_arms_the_report_and_refuses_without_check_and_diff():
    start = load("playbooks/drift_start.yml")
    assert len(start) == 1 and start[0]["hosts"] == "localhost"
    assert start[0]["vars"]["cloudphone_drift_check"] is True
    refusal = [t for t in start[0]["tasks"] if "--check --diff" in t.get("ansible.builtin.assert", {}).get("fail_msg", "")]
    assert refusal and refusal[0]["ansible.builtin.assert"]["that"] == ["ansible_check_mode", "ansible_diff_mode"]
    # Later plays see the mark through hostvars['localhost'], so it must be a fact, not only a play variable.
    assert any(t.get("ansible.builtin.set_fact", {}).get("cloudphone_drift_check") is True for t in start[0]["tasks"])


def test_no_play_of_the_converge_forces_check_mode():
    """Check mode comes from --check alone, so ansible_check_mode is true wherever the run is a check:
    a play-level check_mode would leave it false and the roles' conditions would lie."""
    forced = [p.get("name") for p in plays_of("site.yml") if "check_mode" in p or "diff" in p]
    assert forced == []


def test_every_play_of_site_yml_names_its_tier():
    anonymous = [p["name"] for p in plays_of("site.yml")
                 if not play_vars(p).get("cloudphone_tier") and p["hosts"] != "all:localhost"]
    assert anonymous == [], "each play of playbooks/<tier>.yml sets vars.cloudphone_tier for the drift report"


def test_every_role_with_a_health_entry_point_is_asked_by_health_yml():
    asked = set()
    for play in load("playbooks/health.yml"):
        assert play_vars(play).get("cloudphone_health_check") is True, play["name"]
        assert play_vars(play).get("cloudphone_tier"), play["name"]
        for task in play["tasks"]:
            assert task["ansible.builtin.include_role"] == {"name": "cloudphone.infra.health_gate"}, task["name"]
            asked.add(task["vars"]["health_gate_role"].rsplit(".", 1)[-1])
    with_health = {r for r in os.listdir(os.path.join(ROOT, "roles"))
                   if os.path.exists(os.path.join(ROOT, "roles", r, "tasks", "health.yml"))}
    assert asked == with_health


def test_every_tier_configured_has_its_health_asked():
    site = plays_of("site.yml")
    configured = {play_vars(p)["cloudphone_tier"] for p in site if not play_vars(p).get("cloudphone_health_check")
                  and play_vars(p).get("cloudphone_tier")}
    health = {play_vars(p)["cloudphone_tier"] for p in site if play_vars(p).get("cloudphone_health_check")}
    assert configured == health


def test_health_yml_ends_site_yml():
    assert imports_of("playbooks/site.yml")[-1] == "cloudphone.infra.health"


def test_health_tasks_only_read():
    ask = load(os.path.join("roles", "health_gate", "tasks", "ask.yml"))
    includes = [t["ansible.builtin.include_role"] for t in ask if "ansible.builtin.include_role" in t]
    # One include per way of asking (from each host, or delegated to health_gate_host): always the health entry point.
    assert includes and all((i["name"], i["tasks_from"]) == ("{{ health_gate_role }}", "health") for i in includes)
    for play in load("playbooks/health.yml"):
        for task in play["tasks"]:
            role = task["vars"]["health_gate_role"].rsplit(".", 1)[-1]
            for t in leaf_tasks(load(os.path.join("roles", role, "tasks", "health.yml"))):
                module = next(k for k in t if "." in k)
                assert module.endswith("_cluster_info") or module in READ_ONLY_HEALTH_MODULES, (
                    f"roles/{role}/tasks/health.yml uses {module}: health tasks may only read "
                    "(a *_cluster_info module, monitoring_info or service_health)")


def test_a_failure_does_not_hide_the_checks_after_it():
    """Ansible leaves a failed host out of every later play: after each tier of site.yml,
    drift_keep_hosts clears the failures already reported (in a drift check only); a failed health
    check is rescued in a drift check (recorded as an unhealthy tier) and fails a converge."""
    entries = imports_of("playbooks/site.yml")
    tiers = [e for e in entries if e not in (KEEP_HOSTS, "cloudphone.infra.preflight", "cloudphone.infra.health")]
    for tier in tiers:
        assert entries[entries.index(tier) + 1] == KEEP_HOSTS, f"no drift_keep_hosts after {tier}"
    keep = load("playbooks/drift_keep_hosts.yml")[0]
    assert [t["ansible.builtin.meta"] for t in keep["tasks"]] == ["clear_host_errors"]
    assert "cloudphone_drift_check" in keep["tasks"][0]["when"], "a converge must never forget a failed host"
    gate = load(os.path.join("roles", "health_gate", "tasks", "main.yml"))
    assert [t for t in gate if t.get("rescue") and t.get("when") == "health_gate_on_failure == 'record'"], (
        "health_gate must rescue a failed check in record mode, or the checks after it do not run")
    for play in load("playbooks/health.yml"):
        for task in play["tasks"]:
            assert task["vars"]["health_gate_on_failure"] == (
                "{{ 'record' if hostvars['localhost'].cloudphone_drift_check | default(false) else 'fail' }}"), (
                "a converge must fail on an unhealthy tier, and only a drift check records it and goes on")
