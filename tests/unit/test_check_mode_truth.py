"""Check mode must tell the truth: no task that check mode skips silently.

Every command-like task in the collection's roles and playbooks must either be a
read-only probe that also runs in check mode (`check_mode: false` and
`changed_when: false`) or declare `creates`/`removes`. A task whose module cannot
run in check mode at all (its documentation says `check_mode: support: none`, or
it never sets `supports_check_mode=True`) is skipped by check mode without a word,
so it is allowed only as such a read-only probe, or when the module never changes
anything (waits, HTTP GET). Handlers are exempt: they run only
after a task already reported the change. Any playbook whose every play starts by refusing
check mode (an assert on `not ansible_check_mode`: the drills in tests/drills/playbooks, which
must, and e.g. the planned switchover) is exempt: check mode stops it loudly, it never skips a
task in silence. So is a role whose first task refuses check mode (the drills' fault injection,
roles/drill_fault), and the drills' own task files (tests/drills/playbooks/tasks), which only
those playbooks include. The collection's own modules must support check mode, except those
used only by drills.
"""

import functools
import glob
import os
import re
import sys

import ansible
import yaml
from ansible.parsing.plugin_docs import read_docstring
from ansible.playbook.task import Task

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMMAND_MODULES = {f"{p}{m}" for p in ("", "ansible.builtin.", "ansible.legacy.")
                   for m in ("command", "shell", "raw", "script")}
BLOCK_KEYS = ("block", "rescue", "always")
# Keywords that load tasks rather than act on a host.
TASK_LOADERS = {f"{p}{m}" for p in ("", "ansible.builtin.")
                for m in ("import_tasks", "include_tasks", "import_role", "include_role", "import_playbook")}


def yaml_files(*tops):
    for top in tops:
        for root, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d not in ("files", "templates", "molecule")]
            for name in files:
                if name.endswith((".yml", ".yaml")):
                    yield os.path.join(root, name)


def tasks_in(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        for key in BLOCK_KEYS:
            yield from tasks_in(item.get(key))
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers"):
            if key in item and isinstance(item[key], list):
                yield from tasks_in(item[key])
        yield item


def is_probe(task):
    return task.get("check_mode") is False and task.get("changed_when") is False


def module_of(task):
    """The module a task calls (its one key that is not a task keyword)."""
    if "action" in task or "local_action" in task:
        action = task.get("action") or task.get("local_action")
        return (action.get("module") if isinstance(action, dict) else str(action).split()[0]) or None
    keys = [k for k in task if k not in Task.fattributes and not k.startswith("with_")
            and k not in ("local_action", "block", "rescue", "always", "listen")]
    return keys[0] if len(keys) == 1 else None


def module_path(module):
    """The file of a module: ansible.builtin from ansible-core, ns.coll.x from the collections on the path.

    Resolved by hand: Ansible's plugin loader installs a global import hook that clashes
    with the tests that import this collection's plugins directly.
    """
    parts = module.split(".")
    if len(parts) == 1 or module.startswith("ansible.builtin.") or module.startswith("ansible.legacy."):
        path = os.path.join(os.path.dirname(ansible.__file__), "modules", parts[-1] + ".py")
        return path if os.path.exists(path) else None
    namespace, collection, name = parts
    roots = [os.path.join(ROOT, "collections")] + [p for p in sys.path if os.path.isdir(p)]
    for root in roots:
        path = os.path.join(root, "ansible_collections", namespace, collection, "plugins", "modules", name + ".py")
        if os.path.exists(path):
            return path
    return None


@functools.lru_cache(maxsize=None)
def check_mode_support(module):
    """'full', 'partial', 'none' or None (unknown), from the module's documentation or its source."""
    path = module_path(module)
    if path is None:
        return None
    doc = read_docstring(path).get("doc") or {}
    support = ((doc.get("attributes") or {}).get("check_mode") or {}).get("support")
    if support:
        return support
    with open(path) as fh:
        return "full" if re.search(r"supports_check_mode\s*=\s*True", fh.read()) else "none"


def only_reads(module, task):
    """Modules that change nothing (waits, HTTP GET): check mode skipping them hides no change."""
    name = module.rsplit(".", 1)[-1]
    if name in ("wait_for", "wait_for_connection", "pause"):
        return True
    args = task.get(module) if isinstance(task.get(module), dict) else {}
    return name == "uri" and str(args.get("method", "GET")).upper() in ("GET", "HEAD")


def skipped_silently(task):
    """A task whose module cannot run in check mode, and that is not a read-only probe."""
    module = module_of(task)
    if module is None or module in COMMAND_MODULES or module in TASK_LOADERS or is_probe(task):
        return None
    if only_reads(module, task):
        return None
    if check_mode_support(module) == "none":
        return f"{task.get('name', module)} ({module} cannot run in check mode)"
    return None


def offending(task):
    module = next((m for m in COMMAND_MODULES if m in task), None)
    if module is None:
        return skipped_silently(task)
    args = task[module] if isinstance(task[module], dict) else {}
    args = {**args, **(task.get("args") or {})}
    if "creates" in args or "removes" in args:
        return None
    if is_probe(task):
        return None
    return task.get("name", f"<unnamed {module} task>")


def refuses_check_mode(doc):
    """Every play of the playbook starts with an assert that fails in check mode."""
    plays = [p for p in doc if isinstance(p, dict) and "hosts" in p]
    if not plays or len(plays) != len(doc):
        return False
    for play in plays:
        first = next(iter(play.get("pre_tasks") or play.get("tasks") or []), {})
        that = (first.get("ansible.builtin.assert") or {}).get("that")
        if not any(str(c).strip() == "not ansible_check_mode" for c in ([that] if isinstance(that, str) else that or [])):
            return False
    return True


# What a role asserts first when it cannot run in check mode (ansible_check_mode is the one way to ask).
ROLE_REFUSAL = "not ansible_check_mode"
# Playbooks: the collection's, and the test-side ones that run against real hosts.
PLAYBOOK_DIRS = ("playbooks/", "tests/drills/playbooks/", "tests/e2e/")
DRILL_PLAYBOOKS = "tests/drills/playbooks"
# Task files included only by the drill playbooks, which refuse check mode (test below).
DRILL_TASK_FILES = DRILL_PLAYBOOKS + "/tasks/"


def role_refuses_check_mode(role_dir):
    """The role's tasks/main.yml starts (directly or through its imported validate.yml) with an assert
    that fails in check mode, so check mode stops the whole role loudly."""
    tasks_dir = os.path.join(role_dir, "tasks")
    path = os.path.join(tasks_dir, "main.yml")
    for _hop in range(2):
        if not os.path.exists(path):
            return False
        with open(path) as fh:
            first = next(iter(yaml.safe_load(fh) or []), {})
        imported = first.get("ansible.builtin.import_tasks")
        if imported:
            path = os.path.join(tasks_dir, imported)
            continue
        that = (first.get("ansible.builtin.assert") or {}).get("that")
        return any(str(c).strip() == ROLE_REFUSAL for c in ([that] if isinstance(that, str) else that or []))
    return False


def collect():
    problems = []
    for path in yaml_files("roles", "playbooks", DRILL_PLAYBOOKS, "tests/e2e"):
        rel = os.path.relpath(path, ROOT)
        if "/handlers/" in rel or rel.startswith(DRILL_TASK_FILES):
            continue
        if rel.startswith("roles/") and role_refuses_check_mode(os.path.join(ROOT, *rel.split("/")[:2])):
            continue
        with open(path) as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, list) or (rel.startswith(PLAYBOOK_DIRS) and refuses_check_mode(doc)):
            continue
        for task in tasks_in(doc):
            name = offending(task)
            if name:
                problems.append(f"{rel}: {name}")
    return problems


def test_no_command_task_is_silently_skipped_in_check_mode():
    assert collect() == []


def test_the_scanner_catches_a_bad_task():
    bad = [{"name": "do something", "ansible.builtin.command": "rm -rf /tmp/x"},
           {"block": [{"name": "nested", "ansible.builtin.shell": "echo", "changed_when": False}]}]
    assert [offending(t) for t in tasks_in(bad) if offending(t)] == ["do something", "nested"]
    good = [{"name": "probe", "ansible.builtin.command": "true", "check_mode": False, "changed_when": False},
            {"name": "init", "ansible.builtin.command": {"cmd": "init", "creates": "/x"}}]
    assert [t for t in tasks_in(good) if offending(t)] == []


def test_the_scanner_catches_a_module_without_check_mode():
    bad = {"name": "create a user", "community.rabbitmq.rabbitmq_user": {"user": "app"}}
    assert offending(bad) == "create a user (community.rabbitmq.rabbitmq_user cannot run in check mode)"
    probe = {"name": "ask", "ansible.builtin.uri": {"url": "https://x"}, "check_mode": False, "changed_when": False}
    assert offending(probe) is None
    assert offending({"name": "wait", "ansible.builtin.uri": {"url": "https://x"}}) is None
    post = {"name": "create", "ansible.builtin.uri": {"url": "https://x", "method": "POST"}}
    assert offending(post) == "create (ansible.builtin.uri cannot run in check mode)"
    assert offending({"name": "ok", "ansible.posix.sysctl": {"name": "vm.swappiness", "value": 1}}) is None


def test_only_playbooks_that_refuse_check_mode_first_are_exempt():
    post = {"name": "switch", "ansible.builtin.uri": {"url": "https://x", "method": "POST"}}
    refuse = {"name": "refuse", "ansible.builtin.assert": {"that": "not ansible_check_mode"}}
    assert refuses_check_mode([{"hosts": "all", "tasks": [refuse, post]}])
    assert not refuses_check_mode([{"hosts": "all", "tasks": [post, refuse]}])
    assert not refuses_check_mode([{"hosts": "all", "tasks": [refuse, post]}, {"hosts": "all", "tasks": [post]}])
    assert not refuses_check_mode([{"hosts": "all", "roles": ["x"]}])
    with open(os.path.join(ROOT, "playbooks", "postgresql_switchover.yml")) as fh:
        assert refuses_check_mode(yaml.safe_load(fh))


def test_only_a_role_that_refuses_check_mode_first_is_exempt(tmp_path):
    assert role_refuses_check_mode(os.path.join(ROOT, "roles", "drill_fault"))
    assert not role_refuses_check_mode(os.path.join(ROOT, "roles", "health_gate"))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    refuse = {"name": "refuse", "ansible.builtin.assert": {"that": ROLE_REFUSAL}}
    act = {"name": "act", "ansible.builtin.command": {"argv": ["x"]}, "changed_when": True}
    (tasks / "validate.yml").write_text(yaml.safe_dump([refuse]))
    (tasks / "main.yml").write_text(yaml.safe_dump([{"ansible.builtin.import_tasks": "validate.yml"}, act]))
    assert role_refuses_check_mode(str(tmp_path))
    (tasks / "main.yml").write_text(yaml.safe_dump([act, refuse]))
    assert not role_refuses_check_mode(str(tmp_path))
    # A refusal that asks anything but ansible_check_mode does not count.
    (tasks / "main.yml").write_text(yaml.safe_dump([{"name": "r", "ansible.builtin.assert": {"that": "not dry_run"}}]))
    assert not role_refuses_check_mode(str(tmp_path))


def test_collection_modules_support_check_mode_unless_only_drills_use_them():
    # The drill playbooks live in tests/drills/ and are not scanned here: a module only they use
    # may skip check mode, since they refuse it.
    used_outside_drills = set()
    for path in yaml_files("roles", "playbooks"):
        with open(path) as fh:
            used_outside_drills.update(re.findall(r"cloudphone\.infra\.(\w+):", fh.read()))
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))):
        name = os.path.basename(path)[:-3]
        support = check_mode_support(f"cloudphone.infra.{name}")
        with open(path) as fh:
            source = fh.read()
        if "AnsibleModule(" in source:
            declared = re.search(r"supports_check_mode\s*=\s*True", source) is not None
            assert declared == (support in ("full", "partial")), f"{name}: documentation and code disagree on check mode"
        if support == "none":
            assert name not in used_outside_drills, f"{name} cannot run in check mode but is used outside drills"


def test_drill_playbooks_refuse_check_mode():
    playbooks = sorted(glob.glob(os.path.join(ROOT, DRILL_PLAYBOOKS, "*.yml")))
    assert len(playbooks) >= 3, "the drill playbooks moved: update DRILL_PLAYBOOKS"
    for path in playbooks:
        with open(path) as fh:
            assert refuses_check_mode(yaml.safe_load(fh)), f"{path} must refuse to run in check mode first"


def test_roles_ask_one_variable_whether_they_are_in_a_check():
    """The drift check runs site.yml with --check, so ansible_check_mode is the one answer; no play
    forces check mode (which would leave ansible_check_mode false) and no role invents a second
    variable for it (the former cloudphone_check_mode)."""
    found = []
    for path in yaml_files("roles", "playbooks"):
        with open(path) as fh:
            for number, line in enumerate(fh, 1):
                code = line.split("#", 1)[0]
                if re.search(r"\w+_check_mode\b", code.replace("ansible_check_mode", "")):
                    found.append(f"{os.path.relpath(path, ROOT)}:{number}")
    assert found == [], "ask ansible_check_mode, and run checks with --check"
