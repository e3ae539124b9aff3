"""Every role restarts its daemons the one way (docs/DEVELOPING.md, "Restarts").

A role's handlers only enqueue (add the role's FQCN to the host's fact rolling_restart_requests) or
reload; the role flushes its handlers and includes cloudphone.infra.rolling_restart, which restarts
the hosts that asked one at a time, each gated on the role's health. No role outside that one
restarts a daemon, and no play relies on `serial` for it.
"""

import os
import re

import yaml

from task_tree import tasks_in

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PATTERN_ROLE = "rolling_restart"
FACT = "rolling_restart_requests"
# The roles that restart a daemon: the clustered tiers (restarting them all at once is an outage)
# and the daemons without a cluster, which go the same way (one pattern, and an ops node pair
# keeps one of them serving).
RESTARTING = ("alertmanager", "ceph_mgr", "ceph_osd", "ceph_rgw", "common", "etcd", "journal_upload", "patroni",
              "pgbouncer", "prometheus", "prometheus_exporter", "rabbitmq", "redis", "redis_sentinel", "victorialogs",
              "victoriametrics")
SERVICE_MODULES = {f"{p}{m}" for p in ("", "ansible.builtin.", "ansible.legacy.")
                   for m in ("systemd_service", "systemd", "service")}
COMMAND_MODULES = {f"{p}{m}" for p in ("", "ansible.builtin.", "ansible.legacy.") for m in ("command", "shell")}
SET_FACT = {"set_fact", "ansible.builtin.set_fact", "ansible.legacy.set_fact"}
INCLUDE_ROLE = {"include_role", "ansible.builtin.include_role"}
FLUSH = "flush_handlers"
# Restart APIs of a daemon (no systemctl): allowed only in the task file a tier hands to the pattern.
RESTART_MODULES = {"cloudphone.infra.patroni_restart"}
# First starts, not restarts: a member without data replaces the throw-away etcd the package started
# before it is a member of anything; the cluster waits for it (bootstrap) or registers it first (join).
FIRST_STARTS = {"roles/etcd/tasks/bootstrap.yml", "roles/etcd/tasks/join.yml"}


def load(rel):
    path = os.path.join(ROOT, rel)
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return yaml.safe_load(fh) or []


def role_files(role, sub):
    top = os.path.join(ROOT, "roles", role, sub)
    for root, _dirs, files in os.walk(top):
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                yield os.path.relpath(os.path.join(root, name), ROOT)


def all_roles():
    return sorted(d for d in os.listdir(os.path.join(ROOT, "roles"))
                  if os.path.isfile(os.path.join(ROOT, "roles", d, "tasks", "main.yml")))


def restarts_daemon(task):
    """Why the task restarts a daemon, or None."""
    for module in SERVICE_MODULES & task.keys():
        args = task[module] if isinstance(task[module], dict) else {}
        if str(args.get("state", "")) == "restarted":
            return f"{module} restarts {args.get('name')}"
    for module in COMMAND_MODULES & task.keys():
        args = task[module]
        if isinstance(args, dict):
            words = args.get("argv") or str(args.get("cmd", "")).split()
        else:
            words = str(args).split()
        text = " ".join(str(w) for w in words)
        match = re.search(r"(systemctl\s+(try-)?restart|service\s+\S+\s+restart)\s*(\S*)", text)
        if match:
            return f"{module} runs '{match.group(0)}'"
    for module in RESTART_MODULES & task.keys():
        return f"{module} restarts a member"
    return None


def enqueued_role(task):
    """The role a handler asks a rolling restart for (its set_fact of the shared fact), or None."""
    module = next(iter(SET_FACT & task.keys()), None)
    if module is None or not isinstance(task[module], dict) or FACT not in task[module]:
        return None
    value = str(task[module][FACT])
    match = re.fullmatch(
        r"\{\{\s*" + FACT + r"\s*\|\s*default\(\[\]\)\s*\|\s*union\(\['([\w.]+)'\]\)\s*\}\}", value.strip())
    return match.group(1) if match else "<not a plain union>"


def handler_problem(role, handler):
    """Why a role's handler breaks the pattern, or None."""
    if SET_FACT & handler.keys():
        keys = set(handler[next(iter(SET_FACT & handler.keys()))])
        target = enqueued_role(handler)
        if keys != {FACT}:
            return f"sets {sorted(keys)}: an enqueue handler sets {FACT} and nothing else"
        if target != f"cloudphone.infra.{role}":
            return f"enqueues {target}, not cloudphone.infra.{role}"
        return None
    for module in SERVICE_MODULES & handler.keys():
        state = str((handler[module] or {}).get("state", ""))
        if state != "reloaded":
            return f"{module} with state {state!r}: a handler only reloads; a restart is enqueued"
    reason = restarts_daemon(handler)
    if reason:
        return reason
    if INCLUDE_ROLE & handler.keys() or any(k.endswith("include_tasks") or k.endswith("import_tasks") for k in handler):
        return "includes tasks: a handler enqueues or reloads, in one task"
    return None


def rolling_restart_includes(role):
    """(file, index in the file's task list, include vars) of each include of the pattern role."""
    for rel in role_files(role, "tasks"):
        tasks = list(tasks_in(load(rel)))
        for index, task in enumerate(tasks):
            module = next(iter(INCLUDE_ROLE & task.keys()), None)
            if module and (task[module] or {}).get("name") == f"cloudphone.infra.{PATTERN_ROLE}":
                yield rel, tasks, index, task.get("vars") or {}


def test_restarting_roles_notify_only_the_enqueue_handler_for_a_restart():
    problems = []
    for role in RESTARTING:
        handlers = list(tasks_in(load(f"roles/{role}/handlers/main.yml")))
        enqueue = [h["name"] for h in handlers if enqueued_role(h)]
        if not enqueue:
            problems.append(f"{role}: no handler enqueues a rolling restart")
        for handler in handlers:
            problem = handler_problem(role, handler)
            if problem:
                problems.append(f"roles/{role}/handlers/main.yml: {handler.get('name')}: {problem}")
        known = {h.get("name") for h in handlers} | {h.get("listen") for h in handlers if h.get("listen")}
        for rel in role_files(role, "tasks"):
            for task in tasks_in(load(rel)):
                notify = task.get("notify") or []
                for name in [notify] if isinstance(notify, str) else notify:
                    if name not in known:
                        problems.append(f"{rel}: {task.get('name')}: notifies {name!r}, which the role does not define")
                    elif re.search(r"restart", name, re.I) and name not in enqueue:
                        problems.append(f"{rel}: {task.get('name')}: notifies {name!r} rather than the enqueue handler")
    assert problems == []


def test_no_role_but_the_pattern_restarts_a_daemon():
    problems = []
    for role in all_roles():
        if role == PATTERN_ROLE:
            continue
        handed = {f"roles/{role}/tasks/{inc[3].get('rolling_restart_restart_tasks')}.yml"
                  for inc in rolling_restart_includes(role) if inc[3].get("rolling_restart_restart_tasks")}
        for rel in list(role_files(role, "tasks")) + list(role_files(role, "handlers")):
            if rel in FIRST_STARTS or rel in handed:
                continue
            for task in tasks_in(load(rel)):
                reason = restarts_daemon(task)
                if reason:
                    problems.append(f"{rel}: {task.get('name')}: {reason}")
    assert problems == []


# Roles whose <role>_port is the server they connect to, not a port they listen on.
CLIENT_ROLES = {"journal_upload"}


def listens_on_a_port(role):
    """Whether the role's defaults give it a port of its own (<role>_port), which a restart gate must wait for."""
    path = os.path.join(ROOT, "roles", role, "defaults", "main.yml")
    return role not in CLIENT_ROLES and os.path.isfile(path) and f"{role}_port" in (load(f"roles/{role}/defaults/main.yml") or {})


def test_each_restarting_role_flushes_into_the_pattern_with_its_own_files():
    for role in RESTARTING:
        includes = list(rolling_restart_includes(role))
        assert includes, f"{role} never includes cloudphone.infra.{PATTERN_ROLE}"
        for rel, tasks, index, variables in includes:
            assert variables.get("rolling_restart_role") == f"cloudphone.infra.{role}", (rel, variables)
            assert not tasks[index].get("run_once"), f"{rel}: include the pattern without run_once (it runs once itself)"
            before = [t for t in tasks[:index] if (t.get("ansible.builtin.meta") or t.get("meta")) == FLUSH]
            assert before, f"{rel}: no flush_handlers before the include: the requests would not be in yet"
            # A gate: the tier's own health file, or the built-in one (its unit runs again, and its ports
            # answer when it has any). A unit-less include with no health file would restart blind.
            assert variables.get("rolling_restart_health_tasks") or variables.get("rolling_restart_unit"), \
                f"{rel}: no health gate"
            if not variables.get("rolling_restart_health_tasks") and listens_on_a_port(role):
                assert variables.get("rolling_restart_health_ports"), \
                    f"{rel}: {role} listens on a port, so its built-in gate must wait for it (rolling_restart_health_ports)"
            for key in ("rolling_restart_restart_tasks", "rolling_restart_before_tasks",
                        "rolling_restart_leader_tasks", "rolling_restart_health_tasks"):
                if variables.get(key):
                    path = os.path.join(ROOT, "roles", role, "tasks", variables[key] + ".yml")
                    assert os.path.isfile(path), f"{rel}: {key} names {variables[key]}, which {role} lacks"


def test_no_play_paces_a_tier_with_serial():
    """The restart pattern holds whatever the batch; `serial` in a tier's play would only slow it down,
    or hide a restart that is not rolling. A play that needs it for another reason says so here."""
    for name in sorted(os.listdir(os.path.join(ROOT, "playbooks"))):
        if not name.endswith(".yml"):
            continue
        for play in load(f"playbooks/{name}"):
            if isinstance(play, dict) and "hosts" in play:
                assert "serial" not in play, f"playbooks/{name}: {play.get('name')} sets serial"


def test_the_scanners_catch_what_they_look_for():
    assert restarts_daemon({"ansible.builtin.systemd_service": {"name": "etcd", "state": "restarted"}})
    assert restarts_daemon(
        {"ansible.builtin.systemd_service": {"name": "{{ redis_flavor_settings.server_service }}", "state": "restarted"}})
    assert restarts_daemon({"ansible.builtin.command": {"argv": ["systemctl", "restart", "pgbouncer"]}})
    assert restarts_daemon({"ansible.builtin.shell": "systemctl restart rabbitmq-server"})
    assert restarts_daemon({"cloudphone.infra.patroni_restart": {"member": "data1"}})
    assert restarts_daemon({"ansible.builtin.systemd_service": {"name": "haproxy", "state": "restarted"}})
    assert not restarts_daemon({"ansible.builtin.systemd_service": {"name": "etcd", "state": "started"}})

    good = {"name": "Request", "ansible.builtin.set_fact": {
        FACT: "{{ rolling_restart_requests | default([]) | union(['cloudphone.infra.redis']) }}"}}
    assert handler_problem("redis", good) is None
    assert "not cloudphone.infra.redis" in handler_problem("redis", {**good, "ansible.builtin.set_fact": {
        FACT: "{{ rolling_restart_requests | default([]) | union(['cloudphone.infra.etcd']) }}"}})
    assert "nothing else" in handler_problem("redis", {"ansible.builtin.set_fact": {FACT: [], "x": 1}})
    assert "only reloads" in handler_problem(
        "redis", {"ansible.builtin.systemd_service": {"name": "redis-server", "state": "restarted"}})
    assert handler_problem("redis", {"ansible.builtin.systemd_service": {"name": "x", "state": "reloaded"}}) is None
    assert "one task" in handler_problem("rabbitmq", {"ansible.builtin.include_tasks": "restart.yml"})


def test_every_role_that_restarts_is_listed():
    """A new role with a restart handler joins RESTARTING, and so the checks above."""
    for role in all_roles():
        if role == PATTERN_ROLE:
            continue
        handlers = list(tasks_in(load(f"roles/{role}/handlers/main.yml")))
        if any(enqueued_role(h) for h in handlers):
            assert role in RESTARTING, f"{role} enqueues rolling restarts: add it to RESTARTING"
