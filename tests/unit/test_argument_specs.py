"""Each role's meta/argument_specs.yml is the one description of its variables.

Ansible checks a role's variables against the spec of the entry point it runs (types, choices,
required-ness) before the first task, and playbooks/preflight.yml runs every role's `validate`
entry point before any host is touched. For that to mean something, the spec has to describe
what the role really does:

* Every variable of defaults/main.yml is an option of `main`, and its `default:` is the same
  value. A templated default is written in the spec as the same literal Jinja text (the files
  are compared after YAML parsing, so a folded `>-` block must fold to the same string); the
  spec shows what the role starts from, not what that evaluates to on some host.
* An option without a default in defaults/main.yml is `required: true` (a secret the role
  cannot run without) and then has no `default:`. An optional secret gets its empty default
  in defaults/main.yml like any other option, so the spec never promises a default the role
  does not have.
* Options are listed once. `validate` has main's options minus the secrets (`no_log`): Ansible
  templates every option it validates, and an undefined vault entry would stop preflight with
  a bare "is undefined" instead of cloudphone.infra.assert_secrets' message naming the command
  that generates it. Every other entry point has exactly main's options. The spec files reuse
  the list with YAML anchors and merge keys, so these comparisons hold by construction.
"""

import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))


class TaggedLoader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's tags (!unsafe, !vault) as their plain value."""


TaggedLoader.add_multi_constructor(
    "!", lambda loader, _suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)


def load(role, *path):
    full = os.path.join(ROOT, "roles", role, *path)
    if not os.path.exists(full):
        return None
    with open(full, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=TaggedLoader)


def entry_points(role):
    return (load(role, "meta", "argument_specs.yml") or {}).get("argument_specs") or {}


def main_options(role):
    return entry_points(role)["main"].get("options") or {}


def role_defaults(role):
    return load(role, "defaults", "main.yml") or {}


def is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def roles_preflight_validates():
    with open(os.path.join(ROOT, "playbooks", "preflight.yml"), encoding="utf-8") as fh:
        text = fh.read()
    return set(re.findall(r"cloudphone\.infra\.(\w+)", text)) & set(ROLES)


def test_preflight_validates_every_role_of_site_yml():
    # Internal roles (health_gate, drill_fault, rolling_restart, and prometheus_web_config, which
    # alertmanager and prometheus include, and go_program, which victorialogs includes) get their
    # arguments from the role or playbook that includes them, and validate those when they run; drift_schedule is not part of site.yml
    # (playbooks/drift_schedule.yml installs it on a control host).
    not_in_site = {"health_gate", "drill_fault", "rolling_restart", "prometheus_web_config", "go_program",
                   "drift_schedule"}
    assert roles_preflight_validates() == set(ROLES) - not_in_site


@pytest.mark.parametrize("role", ROLES)
def test_spec_has_main_and_validate(role):
    specs = entry_points(role)
    assert "main" in specs, f"roles/{role}/meta/argument_specs.yml has no main entry point"
    if role not in roles_preflight_validates():
        return
    assert "validate" in specs, (
        f"roles/{role}/meta/argument_specs.yml has no validate entry point: playbooks/preflight.yml includes "
        f"tasks_from: validate, and without a spec of that name Ansible checks no type or choice there")


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_an_option_with_the_same_default(role):
    options, defaults = main_options(role), role_defaults(role)
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"{role}: defaults/main.yml sets {undocumented}, which main's spec does not list"
    mismatched = {name: {"spec": options[name].get("default"), "defaults/main.yml": value}
                  for name, value in defaults.items()
                  if "default" not in options[name] or options[name]["default"] != value}
    assert not mismatched, f"{role}: the spec's default differs from defaults/main.yml: {mismatched}"


@pytest.mark.parametrize("role", ROLES)
def test_an_option_without_a_default_is_required(role):
    defaults = role_defaults(role)
    for name, option in main_options(role).items():
        if option.get("required"):
            assert "default" not in option and name not in defaults, (
                f"{role}: {name} is required, so it has no default (neither in the spec nor in defaults/main.yml)")
        else:
            assert name in defaults, (
                f"{role}: {name} is optional but defaults/main.yml does not set it; give it the default the role "
                f"really starts from there (and in the spec), or mark it required: true if the role cannot run "
                f"without it")


# Entry points that run delegated from the control node (the failover drills) declare only the options
# they read: Ansible evaluates every declared default there, and a default templated for a member host
# (its own address) cannot be evaluated on the control node.
READS_ONLY_WHAT_IT_USES = {"redis_sentinel": ("health",)}


@pytest.mark.parametrize("role", ROLES)
def test_entry_points_share_mains_options(role):
    specs = entry_points(role)
    options = main_options(role)
    settings = {name: option for name, option in options.items() if not option.get("no_log")}
    for entry, spec in specs.items():
        got = spec.get("options") or {}
        want = settings if entry == "validate" else options
        if entry in READS_ONLY_WHAT_IT_USES.get(role, ()):
            # A subset of main's options, each exactly as main describes it.
            want = {name: option for name, option in options.items() if name in got}
        assert got == want, (
            f"{role}: entry point {entry} must have "
            f"{'the options of main without the secrets' if entry == 'validate' else 'the options of main'}; "
            f"missing {sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}, "
            f"different {sorted(n for n in set(want) & set(got) if want[n] != got[n])}")


@pytest.mark.parametrize("role", ROLES)
def test_a_literal_default_is_one_of_the_choices(role):
    for name, option in main_options(role).items():
        default = option.get("default")
        if "choices" not in option or default is None or is_template(default):
            continue
        values = default if option.get("type") == "list" else [default]
        assert all(str(v) in [str(c) for c in option["choices"]] for v in values), (
            f"{role}: the default of {name} ({default!r}) is not among its choices {option['choices']}")
