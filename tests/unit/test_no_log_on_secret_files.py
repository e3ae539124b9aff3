"""A task that writes a secret-bearing file must say `no_log: true`.

Without it, `--check --diff` and the drift check print the file's content (passwords, or
password hashes such as Redis' users.acl) to the terminal and the logs. A file counts as
secret-bearing when its name (template source or destination) says so, or when its template
or inline content uses a secret variable.
"""

import glob
import os
import re

import yaml

from task_tree import tasks_in

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILE_MODULES = {f"{prefix}{module}" for prefix in ("", "ansible.builtin.", "ansible.legacy.")
                for module in ("template", "copy")}
SECRET_NAME_PARTS = ("acl", "secret", "password", "credentials", ".env", "vault")
# `{{ redis_app_password }}`, `{{ user.password | hash(...) }}`, ... but not a variable that holds
# the path of a secret file (`*_password_file`): the path itself is not secret.
SECRET_VARIABLE = re.compile(r"\{\{[^}]*?\b([\w.]*(password|passphrase|secret|cookie|access_key|token)\w*)", re.I)
NOT_A_SECRET_VALUE = re.compile(r"_(file|path|dir)$")
# Templates whose name sounds secret but which hold only settings; diffs of them are useful in the
# drift report, so they keep them. The content check below still applies to them, so a secret added
# to one of these later brings the no_log requirement back.
SETTINGS_ONLY = {
    "roles/etcd/templates/etcd.env.j2": "member name, URLs, timers and certificate paths",
}


def task_files():
    return sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))
                  + glob.glob(os.path.join(ROOT, "roles", "*", "handlers", "*.yml")))


def secret_variables(text):
    return sorted({m.group(1) for m in SECRET_VARIABLE.finditer(text) if not NOT_A_SECRET_VALUE.search(m.group(1))})


def template_path(role_dir, src):
    """The role's template file for a literal `src`, or None when it is templated or absent."""
    if not src or "{{" in src:
        return None
    path = os.path.join(role_dir, "templates", src)
    return path if os.path.isfile(path) else None


def why_secret(task, role_dir):
    """Why the task writes a secret-bearing file, or None when it does not write one."""
    module = next((m for m in FILE_MODULES if m in task), None)
    if module is None:
        return None
    args = task[module] if isinstance(task[module], dict) else {}
    src, dest = str(args.get("src") or ""), str(args.get("dest") or "")
    template = template_path(role_dir, src)
    relative = os.path.relpath(template, ROOT) if template else None
    named = [part for part in SECRET_NAME_PARTS
             if any(part in os.path.basename(p).lower() for p in (src, dest) if p)]
    if named and relative not in SETTINGS_ONLY:
        return f"its file name contains {', '.join(repr(p) for p in named)}"
    content = str(args.get("content") or "")
    if template:
        with open(template) as fh:
            content += fh.read()
    used = secret_variables(content)
    if used:
        return f"its content uses {', '.join(used)}"
    return None


def offending_tasks():
    found = []
    for path in task_files():
        role_dir = os.path.dirname(os.path.dirname(path))
        with open(path) as fh:
            for task in tasks_in(yaml.safe_load(fh)):
                reason = why_secret(task, role_dir)
                # A literal true: a templated no_log can be false exactly when it matters.
                if reason and task.get("no_log") is not True:
                    found.append(f"{os.path.relpath(path, ROOT)}: {task.get('name')!r} ({reason})")
    return found


def test_every_task_writing_a_secret_bearing_file_has_no_log():
    offenders = offending_tasks()
    assert not offenders, ("these tasks write secret-bearing files without `no_log: true`, so --check --diff "
                           "and the drift check print the secrets:\n" + "\n".join(offenders))


def test_the_scan_reads_the_roles():
    assert "roles/redis/tasks/main.yml" in [os.path.relpath(p, ROOT) for p in task_files()]


def test_files_exempted_by_name_hold_no_secret():
    for relative, holds in SETTINGS_ONLY.items():
        path = os.path.join(ROOT, relative)
        if not os.path.exists(path):  # a tier removed from the collection takes its templates with it
            continue
        with open(path) as fh:
            assert secret_variables(fh.read()) == [], f"{relative} was exempted as holding only {holds}"


def test_the_scan_flags_names_and_contents(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "app.conf.j2").write_text("user app\npassword {{ app_password | hash('sha256') }}\n")
    (tmp_path / "templates" / "unit.j2").write_text("ExecStart=run --vault-password-file {{ vault_password_file }}\n")
    role = str(tmp_path)
    assert why_secret({"ansible.builtin.template": {"src": "users.acl.j2", "dest": "/etc/x/users.acl"}}, role) == (
        "its file name contains 'acl'")
    assert why_secret({"ansible.builtin.copy": {"content": "x", "dest": "/etc/app/.env"}}, role) == (
        "its file name contains '.env'")
    assert why_secret({"ansible.builtin.template": {"src": "app.conf.j2", "dest": "/etc/app.conf"}}, role) == (
        "its content uses app_password")
    assert why_secret({"ansible.builtin.copy": {"content": "{{ db.password }}", "dest": "/etc/db"}}, role) == (
        "its content uses db.password")
    assert why_secret({"ansible.builtin.template": {"src": "unit.j2", "dest": "/etc/x.service"}}, role) is None
    assert why_secret({"ansible.builtin.copy": {"src": "/etc/pki/credentials/ca.crt", "dest": "/etc/ca.crt"}},
                      role) is None
    assert why_secret({"ansible.builtin.file": {"path": "/etc/secret", "state": "directory"}}, role) is None
