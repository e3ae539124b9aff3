# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared code of the RabbitMQ modules: run the broker's CLI tools and read their JSON.

Every decision is taken on `--formatter json` output and exit codes, never on
the human-readable text, which changes between releases. The CLI tools talk to
a node over Erlang distribution with the node's cookie, so they can ask any
cluster member, not only the local one (`-n rabbit@peer`).
"""

from __future__ import annotations

import json

# Exit codes of the RabbitMQ CLI tools (sysexits.h).
EX_OK = 0
EX_USAGE = 64        # also "this command requires the 'rabbit' app to be running"
EX_UNAVAILABLE = 69  # node down/unreachable, or a health check that failed
EX_TEMPFAIL = 75     # timeout

RUNNING = "running"          # Erlang VM up and the rabbit application running
APP_STOPPED = "app_stopped"  # Erlang VM up, rabbit application stopped (stop_app, paused minority)
UNREACHABLE = "unreachable"  # no answer: node down, wrong cookie, name not resolvable


class CtlError(Exception):
    def __init__(self, command, rc, stdout, stderr):
        self.command = command
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout or "").strip().splitlines()
        super().__init__(f"`{' '.join(command)}` exited {rc}: {' '.join(detail)[:400]}")


class NodeView:
    """What one node says about the cluster."""

    def __init__(self, node, state, status=None, error=None):
        self.node = node
        self.state = state
        self.status = status or {}
        self.error = error

    @property
    def running(self):
        return self.state == RUNNING

    @property
    def members(self):
        return sorted(set(self.status.get("disk_nodes", [])) | set(self.status.get("ram_nodes", [])))

    @property
    def running_nodes(self):
        return sorted(self.status.get("running_nodes", []))


class RabbitCLI:
    """rabbitmqctl / rabbitmq-diagnostics / rabbitmq-queues with JSON output."""

    TOOLS = ("rabbitmqctl", "rabbitmq-diagnostics", "rabbitmq-queues")

    def __init__(self, module):
        self.module = module
        self.paths = {}

    def _path(self, tool):
        if tool not in self.paths:
            self.paths[tool] = self.module.get_bin_path(tool, required=True)
        return self.paths[tool]

    def command(self, tool, args, node=None):
        cmd = [self._path(tool)]
        if node:
            cmd += ["-n", node]
        return cmd + list(args)

    def run(self, tool, args, node=None, stdin=None):
        """`stdin` carries what must not appear in the process list (rabbitmqctl reads a password
        left off its command line from standard input)."""
        env = {"LC_ALL": "C.UTF-8"}
        if stdin is not None and node:
            # rabbitmqctl 4.0.5 waits forever for a password on standard input when -n is on its
            # command line; the node it targets can come from the environment instead.
            env["RABBITMQ_NODENAME"] = node
            node = None
        cmd = self.command(tool, args, node)
        rc, out, err = self.module.run_command(cmd, data=stdin, environ_update=env)
        return cmd, rc, out, err

    def run_checked(self, tool, args, node=None, stdin=None):
        cmd, rc, out, err = self.run(tool, args, node, stdin=stdin)
        if rc != EX_OK:
            raise CtlError(cmd, rc, out, err)
        return out

    def json(self, tool, args, node=None, accept_rc=(EX_OK,)):
        """Run a command with `--formatter json` and parse its answer."""
        cmd, rc, out, err = self.run(tool, list(args) + ["--formatter", "json"], node)
        if rc not in accept_rc:
            raise CtlError(cmd, rc, out, err)
        return parse_json(out, cmd)

    def view(self, node=None):
        """cluster_status of `node` (the local node when None) as a NodeView."""
        name = node or "local node"
        cmd, rc, out, err = self.run("rabbitmqctl", ["cluster_status", "--formatter", "json"], node)
        if rc == EX_OK:
            return NodeView(node, RUNNING, parse_json(out, cmd))
        error = str(CtlError(cmd, rc, out, err))
        if rc == EX_USAGE:
            # The VM answered but refused: cluster_status needs the rabbit app (stop_app, paused minority).
            return NodeView(node, APP_STOPPED, error=error)
        return NodeView(node, UNREACHABLE, error=f"{name}: {error}")

    def vhosts(self, node=None):
        return [v["name"] for v in self.json("rabbitmqctl", ["list_vhosts", "name"], node)]

    def queues(self, vhost, columns, node=None):
        return self.json("rabbitmqctl", ["list_queues", "-p", vhost] + list(columns), node)


def parse_json(text, cmd):
    try:
        return json.loads(text) if text.strip() else []
    except ValueError as exc:
        raise CtlError(cmd, 0, text, f"unparsable JSON output ({exc})")


def host_of(node):
    """rabbit@data1 -> data1"""
    return node.split("@", 1)[1] if "@" in node else node


def count_messages(cli, node=None):
    """Messages held in the queues visible from `node`: ({"vhost/queue": n}, total)."""
    held = {}
    for vhost in cli.vhosts(node):
        for q in cli.queues(vhost, ["name", "messages"], node):
            n = q.get("messages") or 0
            if isinstance(n, int) and n > 0:
                held[f"{q['name']} (vhost {vhost})"] = n
    return held, sum(held.values())
