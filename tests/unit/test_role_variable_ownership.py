"""A role reads only its own variables.

A variable belongs to the role whose name is its longest prefix: `redis_port` to redis,
`redis_sentinel_port` to redis_sentinel, `prometheus_exporter_ports` to prometheus_exporter.
When a role needs another tier's value it takes it as its own documented variable
(`<role>_<thing>` in defaults/main.yml and meta/argument_specs.yml), and the inventory hands
the other role's value over in one place (group_vars/all/cross_tier.yml, or secrets_<tier>.yml
for a secret). A role that reached for `patroni_postgresql_port` directly would silently fall
back to a hard-coded default wherever patroni's defaults are not loaded (preflight, another
play), and nothing would say which roles must change together.

The test reads every Jinja expression of a role's tasks, handlers, defaults, vars and
templates (`{{ ... }}`, `{% ... %}`, and the bare expressions of when/that/until/
changed_when/failed_when), plus the names a role defines (defaults and vars keys, set_fact,
register), and fails on a name owned by another role. Variables passed to another role as
parameters (`vars:` of include_role) are that role's input and are not references.

The one exception is a fact another role publishes with set_fact at run time (the pki role's
`pki_certificate_changed`, documented in docs/DEVELOPING.md): it does not exist before that
role has run on the host, so the inventory could not hand it over.
"""

import functools
import os
import re
import warnings

import jinja2
import jinja2.nodes
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))
SCANNED_DIRS = ("tasks", "handlers", "defaults", "vars", "templates")
# Task keywords whose string value is a bare Jinja expression, not a template.
EXPRESSION_KEYS = {"when", "that", "until", "changed_when", "failed_when"}
SET_FACT = {"set_fact", "ansible.builtin.set_fact", "ansible.legacy.set_fact"}
JINJA = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


class TaggedLoader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's tags (!unsafe, !vault) as their plain value."""


TaggedLoader.add_multi_constructor(
    "!", lambda loader, _suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)


def owner(name):
    """The role a variable belongs to: the longest role name that prefixes it, or None."""
    owners = [role for role in ROLES if name.startswith(role + "_")]
    return max(owners, key=len) if owners else None


def template_names(text):
    """Variables a Jinja template reads: free names, and hostvars[...].name / hostvars[...]['name']."""
    with warnings.catch_warnings():
        # Jinja's lexer warns about regex escapes ('\s') in string literals; they are not our concern here.
        warnings.simplefilter("ignore", DeprecationWarning)
        ast = JINJA.parse(text)
    names = list(ast.find_all(jinja2.nodes.Name))
    local = {n.name for n in names if n.ctx in ("store", "param")}
    called = {call.node.name for call in ast.find_all(jinja2.nodes.Call) if isinstance(call.node, jinja2.nodes.Name)}
    found = {n.name for n in names if n.ctx == "load"} - local - called

    def is_hostvars_entry(node):
        return (isinstance(node, jinja2.nodes.Getitem) and isinstance(node.node, jinja2.nodes.Name)
                and node.node.name == "hostvars")

    for node in ast.find_all(jinja2.nodes.Getattr):
        if is_hostvars_entry(node.node):
            found.add(node.attr)
    for node in ast.find_all(jinja2.nodes.Getitem):
        if is_hostvars_entry(node.node) and isinstance(node.arg, jinja2.nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    # lookup('vars', 'name') and vars['name'] read a variable by its name.
    found.update(re.findall(r"""lookup\(\s*['"](?:ansible\.builtin\.)?vars['"]\s*,\s*['"](\w+)['"]""", text))
    found.update(re.findall(r"""\bvars\[\s*['"](\w+)['"]\s*\]""", text))
    return found


def yaml_names(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in SET_FACT and isinstance(v, dict):
                yield from v  # set_fact defines these names
            if k == "register" and isinstance(v, str):
                yield v
            yield from yaml_names(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from yaml_names(v, key)
    elif isinstance(node, str):
        if key in EXPRESSION_KEYS:
            yield from template_names("{{ (%s) }}" % node)
        elif "{{" in node or "{%" in node:
            yield from template_names(node)


def role_files(role):
    for sub in SCANNED_DIRS:
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, "roles", role, sub)):
            for name in sorted(files):
                yield sub, os.path.join(dirpath, name)


def load_yaml(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=TaggedLoader)


@functools.lru_cache(maxsize=None)
def names_used(role):
    """{variable name: [files]} of every name the role reads or defines."""
    used = {}
    for sub, path in role_files(role):
        if path.endswith((".yml", ".yaml")):
            data = load_yaml(path)
            names = set(yaml_names(data))
            if sub in ("defaults", "vars") and isinstance(data, dict):
                names.update(data)
        else:
            with open(path, encoding="utf-8") as fh:
                names = template_names(fh.read())
        for name in names:
            used.setdefault(name, []).append(os.path.relpath(path, ROOT))
    return used


# cloudphone.infra.rolling_restart runs task files of the tier that calls it (restart, before, leader,
# health): they read the member whose turn it is (its loop variable) and the health gate's budget, which
# the role's spec documents as theirs to honour.
HANDED_TO_CALLED_TASK_FILES = {"rolling_restart": {"rolling_restart_health_retries", "rolling_restart_health_delay"}}


@functools.lru_cache(maxsize=None)
def published_facts(role):
    """What a role hands to others: the facts it sets, its loop variables, and HANDED_TO_CALLED_TASK_FILES."""
    facts = set(HANDED_TO_CALLED_TASK_FILES.get(role, ()))
    for sub, path in role_files(role):
        if sub == "tasks" and path.endswith((".yml", ".yaml")):
            data = load_yaml(path)
            facts.update(_set_fact_keys(data))
            facts.update(_loop_vars(data))
    return facts


def _loop_vars(node):
    if isinstance(node, dict):
        if isinstance(node.get("loop_control"), dict) and "loop_var" in node["loop_control"]:
            yield node["loop_control"]["loop_var"]
        for v in node.values():
            yield from _loop_vars(v)
    elif isinstance(node, list):
        for v in node:
            yield from _loop_vars(v)


def _set_fact_keys(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in SET_FACT and isinstance(v, dict):
                yield from (name for name in v if name != "cacheable")
            yield from _set_fact_keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from _set_fact_keys(v)


def test_owner_prefers_the_longest_role_name():
    assert owner("redis_port") == "redis"
    assert owner("redis_sentinel_port") == "redis_sentinel"
    assert owner("redis_sentinels") == "redis"
    assert owner("prometheus_exporter_ports") == "prometheus_exporter"
    assert owner("prometheus_scrape_exporter_ports") == "prometheus"
    assert owner("prometheus_web_config_users") == "prometheus_web_config"
    assert owner("cloudphone_domain") is None


def test_template_names_finds_reads_not_locals():
    text = ("{% for host in groups['etcd'] %}{{ hostvars[host].etcd_client_port }}"
            "{{ hostvars[host]['patroni_restapi_port'] }}{% endfor %}"
            "{{ x | default(redis_port) }}{{ lookup('ansible.builtin.vars', 'rabbitmq_admin_password') }}")
    assert template_names(text) == {"groups", "hostvars", "x", "redis_port", "etcd_client_port",
                                    "patroni_restapi_port", "rabbitmq_admin_password"}


@pytest.mark.parametrize("role", ROLES)
def test_role_reads_only_its_own_variables(role):
    facts = {other: published_facts(other) for other in ROLES if other != role}
    foreign = {}
    for name, files in names_used(role).items():
        other = owner(name)
        if other and other != role and name not in facts[other]:
            foreign[name] = (other, sorted(set(files)))
    assert not foreign, "\n".join(
        f"roles/{role} uses {name}, a variable of the {other} role, in {', '.join(files)}: take it as a "
        f"{role}_* variable (defaults/main.yml and meta/argument_specs.yml) and hand {name} over to it in "
        f"inventories/*/group_vars/all/cross_tier.yml (secrets_<tier>.yml for a secret)"
        for name, (other, files) in sorted(foreign.items()))
