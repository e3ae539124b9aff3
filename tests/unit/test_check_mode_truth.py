"""Check mode must tell the truth: no command/shell task that check mode skips silently.

Every command-like task in the collection's roles and playbooks must either be a
read-only probe that also runs in check mode (`check_mode: false` and
`changed_when: false`) or declare `creates`/`removes`. Handlers are exempt: they
run only after a task already reported the change. Drill playbooks are exempt:
they refuse to run in check mode at all (checked below).
"""

import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMMAND_MODULES = {f"{p}{m}" for p in ("", "ansible.builtin.", "ansible.legacy.")
                   for m in ("command", "shell", "raw", "script")}
BLOCK_KEYS = ("block", "rescue", "always")


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


def offending(task):
    module = next((m for m in COMMAND_MODULES if m in task), None)
    if module is None:
        return None
    args = task[module] if isinstance(task[module], dict) else {}
    args = {**args, **(task.get("args") or {})}
    if "creates" in args or "removes" in args:
        return None
    if task.get("check_mode") is False and task.get("changed_when") is False:
        return None
    return task.get("name", f"<unnamed {module} task>")


def collect():
    problems = []
    for path in yaml_files("roles", "playbooks"):
        rel = os.path.relpath(path, ROOT)
        if "/handlers/" in rel or rel.startswith("playbooks/drills/"):
            continue
        with open(path) as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, list):
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


def test_drill_playbooks_refuse_check_mode():
    for path in (p for p in yaml_files("playbooks/drills") if "/tasks/" not in p):
        with open(path) as fh:
            assert "ansible_check_mode" in fh.read(), f"{path} must refuse to run in check mode"
