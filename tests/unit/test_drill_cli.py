"""The drill workload CLI (`python -m cloudphone_drill`), run as the drill playbooks run it: a subprocess
with tests/drills on PYTHONPATH. Its inputs are checked here; its workloads run against the lab in the
drills (make drill-redis, drill-postgresql, drill-rabbitmq, drill-objectstore).
"""

import glob
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DRILLS = os.path.join(ROOT, "tests", "drills")
DRILL_PLAYBOOKS = sorted(glob.glob(os.path.join(DRILLS, "playbooks", "**", "*.yml"), recursive=True))
COMMAND = ("ansible.builtin.command", "ansible.builtin.shell", "command", "shell")


def cli(*args, stdin=None, cwd=None):
    env = dict(os.environ, PYTHONPATH=DRILLS)
    return subprocess.run([sys.executable, "-m", "cloudphone_drill", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd or ROOT, timeout=60)


def one_json_object(stdout):
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


def test_an_unknown_phase_is_refused_naming_the_phases(tmp_path):
    res = cli("explode", "--run-dir", str(tmp_path))
    assert res.returncode == 2
    assert res.stdout == ""
    assert "invalid choice: 'explode'" in res.stderr and "'run', 'event', 'wait', 'stop', 'verify'" in res.stderr


def test_a_phase_without_its_required_options_is_refused(tmp_path):
    res = cli("verify", "--run-dir", str(tmp_path), "--system", "redis")
    assert res.returncode == 2
    assert "the following arguments are required: --run-id, --workload-file, --fault, --report" in res.stderr
    res = cli("run", "--run-dir", str(tmp_path), "--system", "mysql", "--run-id", "x", "--workload-file", "-")
    assert res.returncode == 2 and "invalid choice: 'mysql'" in res.stderr


def test_event_fields_must_be_a_json_object(tmp_path):
    res = cli("event", "--run-dir", str(tmp_path), "--name", "fault_injected", "--fields", "host=data1")
    assert res.returncode == 2 and "--fields: not JSON" in res.stderr
    res = cli("event", "--run-dir", str(tmp_path), "--name", "fault_injected", "--fields", '["data1"]')
    assert res.returncode == 2 and "must be a JSON object, not list" in res.stderr
    assert not (tmp_path / "events.jsonl").exists()


def test_event_then_stop_write_the_run_files(tmp_path):
    run_dir = tmp_path / "run"
    res = cli("event", "--run-dir", str(run_dir), "--name", "fault_injected", "--at", "1700000000.25",
              "--fields", json.dumps({"fault": "kill", "host": "data2"}))
    assert res.returncode == 0, res.stderr
    out = one_json_object(res.stdout)
    assert out == {"phase": "event",
                   "event": {"name": "fault_injected", "t": 1700000000.25, "fault": "kill", "host": "data2"}}
    res = cli("event", "--run-dir", str(run_dir), "--name", "failover_seen", "--fields", '{"new_master": "data3"}')
    assert res.returncode == 0, res.stderr
    now_event = one_json_object(res.stdout)["event"]

    res = cli("stop", "--run-dir", str(run_dir))
    assert res.returncode == 0, res.stderr
    assert one_json_object(res.stdout) == {"phase": "stop", "stop_file": str(run_dir / "stop")}

    assert (run_dir / "stop").is_file()
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert events == [{"fault": "kill", "host": "data2", "name": "fault_injected", "t": 1700000000.25}, now_event]
    assert events[1]["t"] > 1700000000.25


def test_wait_after_an_event_that_never_came_fails_with_the_reason(tmp_path):
    res = cli("wait", "--run-dir", str(tmp_path), "--after-event", "fault_restored", "--timeout", "1")
    assert res.returncode == 1 and res.stdout == ""
    assert "no 'fault_restored' event has been logged" in res.stderr


def test_wait_reports_the_count_it_saw(tmp_path):
    (tmp_path / "events.jsonl").write_text(json.dumps({"name": "fault_injected", "t": 100.0}) + "\n")
    ops = [{"seq": 1, "kind": "write", "ok": True, "t0": 99.0, "t1": 99.1},
           {"seq": 2, "kind": "write", "ok": True, "t0": 101.0, "t1": 101.5}]
    (tmp_path / "ops.jsonl").write_text("".join(json.dumps(o) + "\n" for o in ops))
    res = cli("wait", "--run-dir", str(tmp_path), "--after-event", "fault_injected", "--acks", "2", "--timeout", "0.5")
    assert res.returncode == 0, res.stderr
    assert one_json_object(res.stdout) == {"phase": "wait",
                                           "wait": {"reached": False, "acks": 1, "outage": None, "seconds": 1.5}}


def test_a_workload_file_others_can_read_is_refused(tmp_path):
    options = tmp_path / "workload.json"
    options.write_text(json.dumps({"password": "Secret0123456789abcdef"}))
    options.chmod(0o644)
    res = cli("run", "--run-dir", str(tmp_path), "--system", "redis", "--run-id", "t", "--workload-file", str(options))
    assert res.returncode == 2
    assert "others may read it (mode 0644): make it 0600" in res.stderr
    assert "Secret0123456789abcdef" not in res.stderr + res.stdout
    assert not (tmp_path / "ops.jsonl").exists()


def test_bad_workload_options_are_refused_before_connecting(tmp_path):
    options = tmp_path / "workload.json"
    options.write_text("[1, 2]")
    options.chmod(0o600)
    res = cli("run", "--run-dir", str(tmp_path), "--system", "redis", "--run-id", "t", "--workload-file", str(options))
    assert res.returncode == 2 and "must be a JSON object, not list" in res.stderr
    res = cli("run", "--run-dir", str(tmp_path), "--system", "redis", "--run-id", "t", "--workload-file", "-",
              stdin="{not json")
    assert res.returncode == 2 and "the workload options in stdin are not JSON" in res.stderr
    res = cli("run", "--run-dir", str(tmp_path), "--system", "redis", "--run-id", "t", "--workload-file",
              str(tmp_path / "missing.json"))
    assert res.returncode == 2 and "cannot read the workload file" in res.stderr
    # Read from stdin, valid JSON, but not what the Redis client needs: named, before any connection.
    res = cli("run", "--run-dir", str(tmp_path), "--system", "redis", "--run-id", "t", "--workload-file", "-",
              stdin='{"password": "Secret0123456789abcdef"}')
    assert res.returncode == 2 and "the redis workload options lack 'ca_file'" in res.stderr


def test_run_is_bounded_in_time(tmp_path):
    res = cli("run", "--run-dir", str(tmp_path), "--system", "postgresql", "--run-id", "t", "--workload-file", "-",
              "--duration", "7200", stdin="{}")
    assert res.returncode == 2 and "--duration must be between 1 and 1800 seconds" in res.stderr


# ---------------------------------------------------------------- how the playbooks call it

# What names a secret in a variable: passwords, and the S3 secret keys of the object storage drill.
SECRET_WORDS = ("password", "secret")


def secret(text):
    return any(word in str(text).lower() for word in SECRET_WORDS)


def secret_holding_vars(mapping):
    """Names of the variables whose value holds a secret (e.g. the workload's connection options)."""
    def holds(value):
        if isinstance(value, dict):
            return any(secret(k) or holds(v) for k, v in value.items())
        if isinstance(value, list):
            return any(holds(v) for v in value)
        return secret(value)
    return {name for name, value in (mapping or {}).items() if holds(value)}


def tasks_in(items):
    for item in items or []:
        if isinstance(item, dict):
            for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                yield from tasks_in(item.get(key))
            yield item


def command_lines(task):
    """The argv/cmd text of a command task, with the task's own vars that feed it."""
    module = next((m for m in COMMAND if m in task), None)
    if module is None:
        return None
    def strings(value):
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [" ".join(str(value).split())]
    return "\n".join(strings(task[module])), task.get("vars") or {}


def test_the_scan_finds_the_cli_calls():
    calls = [t for path in DRILL_PLAYBOOKS for t in tasks_in(yaml.safe_load(open(path))) if command_lines(t)]
    phases = {phase for t in calls for phase in ("run", "event", "wait", "stop", "verify")
              if f"'{phase}'" in command_lines(t)[0]}
    assert phases == {"run", "event", "wait", "stop", "verify"}


def test_no_secret_reaches_a_command_line():
    secret_vars = set()
    for path in DRILL_PLAYBOOKS:
        doc = yaml.safe_load(open(path))
        for play in doc if isinstance(doc, list) else []:
            if isinstance(play, dict):
                secret_vars |= secret_holding_vars(play.get("vars"))
    # The scan knows what to look for: each tier's connection options.
    assert {"drill_client", "drill_redis_client"} <= secret_vars
    offenders = []
    for path in DRILL_PLAYBOOKS:
        for task in tasks_in(yaml.safe_load(open(path))):
            found = command_lines(task)
            if found is None:
                continue
            text, task_vars = found
            named = [v for v in secret_vars | secret_holding_vars(task_vars) if v in text]
            if secret(text) or named:
                offenders.append(f"{os.path.relpath(path, ROOT)}: {task.get('name')} ({named or 'a secret'})")
            if any(f"'{phase}'" in text for phase in ("run", "verify")):
                assert "'--workload-file', drill_workload_file" in text, task.get("name")
    assert offenders == [], f"secrets on a command line (visible in ps and in Ansible's output): {offenders}"


def test_the_scan_knows_an_s3_secret_key_for_a_secret():
    """The object storage drill's options hold S3 keys, not a password: the scan above must see them."""
    play = yaml.safe_load(open(os.path.join(DRILLS, "playbooks", "objectstore_failover.yml")))[0]
    assert "drill_client" in secret_holding_vars(play["vars"])
    assert "secret_key" in play["vars"]["drill_client"]


def test_the_workload_options_are_written_privately_and_removed():
    tasks = yaml.safe_load(open(os.path.join(DRILLS, "playbooks", "tasks", "workload_file.yml")))
    write = next(t for t in tasks if "ansible.builtin.copy" in t)
    assert write["no_log"] is True
    assert write["ansible.builtin.copy"]["mode"] == "0600"
    assert write["ansible.builtin.copy"]["dest"] == "{{ drill_workload_file }}"
    assert write["notify"] == "Forget the workload options"
    for path in glob.glob(os.path.join(DRILLS, "playbooks", "*_failover.yml")):
        for play in yaml.safe_load(open(path)):
            # The handler removes the file even when the drill fails.
            assert play.get("force_handlers") is True, path
            forget = [h for h in play.get("handlers") or [] if h.get("name") == "Forget the workload options"]
            assert forget and forget[0]["ansible.builtin.file"] == {"path": "{{ drill_workload_file }}",
                                                                  "state": "absent"}, path
