"""meta/runtime.yml's action groups and the roles' module_defaults (docs/DEVELOPING.md).

A group's defaults reach every module of the group, and a module refuses an option it does not
know, so each key a role passes to a group must be an option of every module in it. And the
connection stays stated once: no task repeats, with the same value, what its group's defaults
already give.
"""

import glob
import os
import re

import pytest
import yaml

from task_tree import leaf_tasks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
with open(os.path.join(ROOT, "meta", "runtime.yml")) as fh:
    GROUPS = yaml.safe_load(fh)["action_groups"]
FRAGMENTS = os.path.join(ROOT, "plugins", "doc_fragments")


def module_options(module):
    with open(os.path.join(ROOT, "plugins", "modules", module + ".py")) as fh:
        text = fh.read()
    doc = yaml.safe_load(re.search(r'DOCUMENTATION = r?"""(.*?)"""', text, re.S).group(1))
    options = set(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        name, _, part = fragment.removeprefix("cloudphone.infra.").partition(".")
        with open(os.path.join(FRAGMENTS, name + ".py")) as fh:
            source = fh.read()
        attribute = part.upper() if part else "DOCUMENTATION"
        block = re.search(attribute + r' = r?"""(.*?)"""', source, re.S).group(1)
        options |= set((yaml.safe_load(block) or {}).get("options") or {})
    return options


def module_defaults_uses():
    """(file, group, keys, value) of every `group/cloudphone.infra.X` module_defaults in roles and playbooks."""
    paths = glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(
        os.path.join(ROOT, "playbooks", "*.yml")) + glob.glob(os.path.join(ROOT, "tests", "drills", "playbooks", "*.yml"))
    for path in sorted(paths):
        with open(path) as fh:
            data = yaml.safe_load(fh) or []
        stack = list(data) if isinstance(data, list) else []
        while stack:
            item = stack.pop()
            if not isinstance(item, dict):
                continue
            for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                stack.extend(item.get(key) or [])
            for name, value in (item.get("module_defaults") or {}).items():
                if name.startswith("group/cloudphone.infra."):
                    yield os.path.relpath(path, ROOT), name.split(".")[-1], value, item


def connection_keys(role, value):
    """The keys a role's module_defaults give: a dict, or `{{ <role>_connection }}` from vars/main.yml."""
    if isinstance(value, dict):
        return value
    name = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", str(value).strip()).group(1)
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as fh:
        return yaml.safe_load(fh)[name]


USES = list(module_defaults_uses())


def test_the_roles_state_connections_through_the_groups():
    groups_used = {group for _path, group, _value, _item in USES}
    assert {"etcd", "patroni", "redis", "rabbitmq"} <= groups_used
    assert set(GROUPS) <= groups_used, f"groups no role uses: {set(GROUPS) - groups_used}"


@pytest.mark.parametrize("path,group,value", [(p, g, v) for p, g, v, _ in USES], ids=lambda x: str(x)[:60])
def test_every_module_of_a_group_takes_every_default_it_is_given(path, group, value):
    role = path.split(os.sep)[1] if path.startswith("roles") else None
    keys = connection_keys(role, value) if role else value
    for module in GROUPS[group]:
        unknown = set(keys) - module_options(module)
        assert not unknown, (f"{path}: group/cloudphone.infra.{group} gives {sorted(unknown)}, which "
                             f"cloudphone.infra.{module} does not take: it would refuse every call")


@pytest.mark.parametrize("role", ["etcd", "patroni", "redis"])
def test_no_task_repeats_what_the_group_gives(role):
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as fh:
        connection = yaml.safe_load(fh)[f"{role}_connection"]
    modules = {f"cloudphone.infra.{m}" for m in GROUPS[role]}
    repeated = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml"))):
        with open(path) as fh:
            tasks = yaml.safe_load(fh) or []
        for task in leaf_tasks(tasks):
            for module in modules & task.keys():
                args = task[module] or {}
                repeated += [f"{os.path.relpath(path, ROOT)}: {task.get('name')}: {key}"
                             for key, value in connection.items() if args.get(key) == value]
    assert repeated == [], "stated again although module_defaults give it: " + ", ".join(repeated)


def test_the_checks_can_fail():
    assert "endpoints" in module_options("etcd_member")
    assert "username" not in module_options("patroni_cluster_info")
    with pytest.raises(AssertionError):
        test_every_module_of_a_group_takes_every_default_it_is_given("x", "patroni", {"username": "u"})
