"""drift-check.yml checks what site.yml would do, in check mode, and asks every tier's health.

Its configuration plays must mirror the plays of site.yml (same hosts, roles, tasks
and variables; health gates, the asserts that stop a converge on an unhealthy tier,
may be left out) so that a drift check can never disagree with a converge; every one of
them forces check mode and diff; every tier has a health play that runs read-only
tasks from its role's tasks/health.yml.
"""

import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Play keywords that only pace a real converge (rolling restarts); in check mode nothing restarts.
PACING = {"serial", "max_fail_percentage", "any_errors_fatal", "order", "throttle", "strategy", "name"}
DRIFT_ONLY = {"check_mode", "diff"}
DRIFT_VARS = {"drift_tier", "drift_health", "cloudphone_drift_check", "cloudphone_check_mode"}
READ_ONLY_HEALTH_MODULES = ("cloudphone.infra.service_health", "cloudphone.infra.monitoring_info",
                            "ansible.builtin.assert", "ansible.builtin.set_fact")


def load(path):
    with open(os.path.join(ROOT, path)) as fh:
        return yaml.safe_load(fh)


def plays_of(path, skip=("cloudphone.infra.preflight",)):
    """The plays of a playbook, following import_playbook of collection playbooks."""
    plays = []
    for play in load(path):
        target = play.get("ansible.builtin.import_playbook") or play.get("import_playbook")
        if target:
            if target not in skip:
                plays += plays_of(os.path.join("playbooks", target.rsplit(".", 1)[-1] + ".yml"), skip)
        else:
            plays.append(play)
    return plays


def is_gate(task):
    """A converge may stop on an unhealthy tier (an assert, or a role's health entry point);
    the drift check reports it in its health plays instead."""
    include = task.get("ansible.builtin.include_role") or {}
    return "ansible.builtin.assert" in task or include.get("tasks_from") == "health"


def without_gates(tasks):
    return [t for t in tasks or [] if not is_gate(t)]


def normalised(play):
    out = {k: v for k, v in play.items() if k not in PACING | DRIFT_ONLY}
    for key in ("pre_tasks", "tasks", "post_tasks"):
        if key in out:
            out[key] = without_gates(out[key])
    variables = {k: v for k, v in (play.get("vars") or {}).items() if k not in DRIFT_VARS}
    out.pop("vars", None)
    if variables:
        out["vars"] = variables
    return out


def drift_plays():
    plays = plays_of("drift-check.yml")
    config = [p for p in plays if (p.get("vars") or {}).get("drift_tier") and not (p.get("vars") or {}).get("drift_health")]
    health = [p for p in plays if (p.get("vars") or {}).get("drift_health")]
    return plays, config, health


def does_something(play):
    return any(play.get(key) for key in ("roles", "pre_tasks", "tasks", "post_tasks"))


def test_configuration_plays_mirror_site_yml():
    # A play of site.yml that only waits for a healthy tier has no configuration to mirror.
    site = [p for p in (normalised(p) for p in plays_of("site.yml")) if does_something(p)]
    _all, config, _health = drift_plays()
    assert [normalised(p) for p in config] == site, (
        "drift_check.yml's configuration plays differ from site.yml's plays: a tier that adds or changes "
        "a play in playbooks/<tier>.yml must add the same play to playbooks/drift_check.yml")


def test_every_configuration_and_health_play_is_forced_into_check_mode():
    _all, config, health = drift_plays()
    for play in config:
        assert play.get("check_mode") is True and play.get("diff") is True, play["name"]
        # ansible_check_mode follows only --check; the roles' conditions read this too.
        assert play["vars"].get("cloudphone_check_mode") is True, play["name"]
    for play in health:
        assert play.get("check_mode") is True, play["name"]


def test_the_first_play_arms_the_callback():
    plays, _config, _health = drift_plays()
    assert plays[0]["vars"]["cloudphone_drift_check"] is True


def test_every_tier_has_a_health_play_on_the_same_hosts():
    _all, config, health = drift_plays()
    config_tiers = {p["vars"]["drift_tier"]: p["hosts"] for p in config}
    health_tiers = {p["vars"]["drift_tier"]: p["hosts"] for p in health}
    assert set(config_tiers) == set(health_tiers), "every tier in drift_check.yml needs a health play"


def test_health_tasks_only_read():
    _all, _config, health = drift_plays()
    # The health_gate role includes nothing but the tier role's health entry point.
    asks = load(os.path.join("roles", "health_gate", "tasks", "ask.yml"))
    for ask in asks:
        include = {k: v for k, v in ask["ansible.builtin.include_role"].items() if k != "apply"}
        assert include == {"name": "{{ health_gate_role }}", "tasks_from": "health"}
    for play in health:
        for task in play["tasks"]:
            assert task["ansible.builtin.include_role"] == {"name": "cloudphone.infra.health_gate"}, task["name"]
            assert task["vars"]["health_gate_on_failure"] == "record", task["name"]
            role = task["vars"]["health_gate_role"].rsplit(".", 1)[-1]
            tasks = load(os.path.join("roles", role, "tasks", "health.yml"))
            for t in tasks:
                module = next(k for k in t if "." in k)
                assert module.endswith("_cluster_info") or module in READ_ONLY_HEALTH_MODULES, (
                    f"roles/{role}/tasks/health.yml uses {module}: health tasks may only read "
                    "(a *_cluster_info module, monitoring_info or service_health)")


def test_a_failure_does_not_hide_the_checks_after_it():
    """Ansible leaves a failed host out of every later play: before each tier's configuration and
    before the health plays, drift_keep_hosts clears the failures already reported; a failed health
    check is rescued (it is recorded as an unhealthy tier, and the next tier is still asked)."""
    plays = load("playbooks/drift_check.yml")
    previous, missing, sections = None, [], 0
    for index, play in enumerate(plays):
        variables = play.get("vars") or {}
        if not variables.get("drift_tier"):
            continue
        # Sections: each tier's configuration plays, then all the health plays.
        section = "health" if variables.get("drift_health") else variables["drift_tier"]
        if previous is not None and section != previous:
            sections += 1
            if plays[index - 1].get("ansible.builtin.import_playbook") != "cloudphone.infra.drift_keep_hosts":
                missing.append(play["name"])
        previous = section
    tiers = {(p.get("vars") or {}).get("drift_tier") for p in plays} - {None}
    assert sections == len(tiers) and not missing, f"no drift_keep_hosts before: {missing}"
    keep = load("playbooks/drift_keep_hosts.yml")[0]
    assert [t["ansible.builtin.meta"] for t in keep["tasks"]] == ["clear_host_errors"]
    recorded = next(t for t in load(os.path.join("roles", "health_gate", "tasks", "main.yml"))
                    if t.get("when") == "health_gate_on_failure == 'record'")
    assert recorded["rescue"], "a failed health check must be rescued, or the checks after it do not run"
