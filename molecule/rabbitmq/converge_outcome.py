#!/usr/bin/env python3
"""Run the scenario's converge and print which tasks changed or failed on which host, as JSON.

Usage: converge_outcome.py INVENTORY PLAYBOOK. Prints {"rc": int, "changed": [[host, task]],
"failed": [[host, task, message]]}; always exits 0 so the caller judges the outcome.
"""

import json
import os
import subprocess
import sys


def outcomes(result):
    changed, failed = [], []
    for play in result.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            for host, res in task.get("hosts", {}).items():
                if res.get("failed") or res.get("unreachable"):
                    failed.append([host, name, str(res.get("msg", ""))])
                elif res.get("changed"):
                    changed.append([host, name])
    return changed, failed


def main():
    inventory, playbook = sys.argv[1:3]
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    proc = subprocess.run(["ansible-playbook", "-i", inventory, playbook], env=env, capture_output=True, text=True)
    try:
        changed, failed = outcomes(json.loads(proc.stdout))
    except ValueError:
        changed, failed = [], [["-", "ansible-playbook", (proc.stdout + proc.stderr)[-2000:]]]
    print(json.dumps({"rc": proc.returncode, "changed": changed, "failed": failed}))


if __name__ == "__main__":
    main()
