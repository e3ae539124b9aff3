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
DRIFT_VARS = {"drift_tier", "drift_health", "cloudphone_drift_check"}
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


def without_gates(tasks):
    """A converge may stop on an unhealthy tier (an assert); the drift check reports it instead."""
    return [t for t in tasks or [] if "ansible.builtin.assert" not in t]


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


def test_configuration_plays_mirror_site_yml():
    site = [normalised(p) for p in plays_of("site.yml")]
    _all, config, _health = drift_plays()
    assert [normalised(p) for p in config] == site, (
        "drift_check.yml's configuration plays differ from site.yml's plays: a tier that adds or changes "
        "a play in playbooks/<tier>.yml must add the same play to playbooks/drift_check.yml")


def test_every_configuration_and_health_play_is_forced_into_check_mode():
    _all, config, health = drift_plays()
    for play in config:
        assert play.get("check_mode") is True and play.get("diff") is True, play["name"]
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
    for play in health:
        for task in play["tasks"]:
            include = task["ansible.builtin.include_role"]
            assert include["tasks_from"] == "health"
            role = include["name"].rsplit(".", 1)[-1]
            tasks = load(os.path.join("roles", role, "tasks", "health.yml"))
            for t in tasks:
                module = next(k for k in t if "." in k)
                assert module.endswith("_cluster_info") or module in READ_ONLY_HEALTH_MODULES, (
                    f"roles/{role}/tasks/health.yml uses {module}: health tasks may only read "
                    "(a *_cluster_info module, monitoring_info or service_health)")
