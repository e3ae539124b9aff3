# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Turn a run of drift-check.yml into a drift report and an exit code
description:
  - Stays silent unless a play of the run sets the variable C(cloudphone_drift_check) to true, which
    the first play of C(drift-check.yml) does. Enabling it in C(ansible.cfg) therefore changes nothing
    for C(site.yml) or any other playbook.
  - Attributes each result to the tier named by the play variable C(cloudphone_tier) (set by every play
    of C(site.yml)), and reads the results of a play that sets C(cloudphone_health_check) as health
    (C(playbooks/health.yml)), not configuration.
  - Collects every task that would change something (host, tier, role, task, resource and diff), every
    result that follows the health contract of C(module_utils/health.py) (C(healthy), C(problems),
    C(topology)), every failed task and unreachable host, and every task that check mode skipped
    because its module cannot run in check mode.
  - Writes C(<directory>/<timestamp>.json) (stable, machine-readable), C(<timestamp>.xml) (JUnit) and
    C(<timestamp>.txt) (the summary), prints the summary at the end of the run, and keeps the newest
    O(keep) reports.
  - Ends C(ansible-playbook) with the verdict as exit code when O(exit_code) is true. 0 no drift and
    every tier healthy, 2 drift found and every tier healthy, 3 a tier is unhealthy, 1 the check
    itself failed (unreachable host, failed task). List it last in C(callbacks_enabled), as the
    C(v2_playbook_on_stats) event of callbacks after it does not run.
  - Secrets never reach a report. Diffs of tasks with C(no_log), of files that match O(secret_paths),
    and of any content that contains the value of a C(vault_*) variable of the inventory are reduced
    to C(content differs); other text has such values replaced by C(********).
  - Topology that follows a failover (the C(topology) key of the health contract) is reported as
    information, with what changed since the previous report, and never counts as drift.
author: cloudphone.infra developers (@cloudphone)
version_added: "0.1.0"
requirements:
  - enabled in C(callbacks_enabled) (the project's C(ansible.cfg) does this)
options:
  directory:
    description:
      - Where the reports go. A relative path is taken from the directory of the playbook given to
        C(ansible-playbook) (the project root for C(drift-check.yml)).
    type: path
    default: reports/drift
    env:
      - name: CLOUDPHONE_DRIFT_REPORT_DIR
    ini:
      - section: cloudphone_drift_report
        key: directory
  keep:
    description: How many reports to keep in O(directory); older ones are removed. 0 keeps all.
    type: int
    default: 0
    env:
      - name: CLOUDPHONE_DRIFT_REPORT_KEEP
    ini:
      - section: cloudphone_drift_report
        key: keep
  exit_code:
    description: End C(ansible-playbook) with the verdict (0, 2, 3 or 1) instead of Ansible's own code.
    type: bool
    default: true
    env:
      - name: CLOUDPHONE_DRIFT_EXIT_CODE
    ini:
      - section: cloudphone_drift_report
        key: exit_code
  secret_paths:
    description: Shell patterns of files whose content is secret; their diffs are never written.
    type: list
    elements: str
    default: ["*.key", "*.key.pem", "*password*", "*passwd*", "*secret*", "*token*", "*cookie*", "*credential*",
              "*.acl", "*.pgpass", "*/vault.yml", "*.htpasswd"]
    ini:
      - section: cloudphone_drift_report
        key: secret_paths
"""

import json
import os
import time

from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

from ansible_collections.cloudphone.infra.plugins.plugin_utils.drift import (
    DriftReport, Redactor, SKIPPED_FOR_CHECK_MODE, previous_report, prune_reports, secret_values,
)

ARM_VARIABLE = "cloudphone_drift_check"
TIER_VARIABLE = "cloudphone_tier"
HEALTH_VARIABLE = "cloudphone_health_check"
# Modules whose "changed" only reports that something else changed (a notify trigger).
CONSEQUENCE_ACTIONS = ("ansible.builtin.debug", "debug", "ansible.builtin.meta", "meta")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cloudphone.infra.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = None
        self.base_dir = os.getcwd()
        self.tier = None
        self.health_play = False
        self.play_hosts = []
        self.started_monotonic = None

    # ------------------------------------------------------------ play events

    def v2_playbook_on_start(self, playbook):
        self.base_dir = getattr(playbook, "_basedir", None) or os.getcwd()

    def v2_playbook_on_play_start(self, play):
        play_vars = play.vars or {}
        if self.report is None and play_vars.get(ARM_VARIABLE) in (True, "true", "True"):
            self._arm(play)
        self.tier = str(play_vars.get(TIER_VARIABLE) or "preflight")
        self.health_play = play_vars.get(HEALTH_VARIABLE) in (True, "true", "True")
        manager = play.get_variable_manager()
        self.play_hosts = [h.get_name() for h in manager._inventory.get_hosts(play.hosts)] if manager else []

    def _arm(self, play):
        self.started_monotonic = time.monotonic()
        redactor = Redactor(self._inventory_secrets(play), self.get_option("secret_paths"))
        self.report = DriftReport(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), redactor)

    @staticmethod
    def _inventory_secrets(play):
        """The values of every vault_* variable any host of the inventory sees."""
        manager = play.get_variable_manager()
        if manager is None:
            return []
        values = []
        for host in manager._inventory.get_hosts():
            host_vars = manager.get_vars(host=host, include_hostvars=False)
            values.extend(secret_values({k: host_vars[k] for k in host_vars if str(k).startswith("vault_")}))
        return values

    # ------------------------------------------------------------ task events

    def _context(self, result):
        task = result.task
        role = task._role.get_name(include_role_fqcn=False) if task._role else None
        return result.host.get_name(), role, task.name or task.action, task.resolved_action or task.action

    @staticmethod
    def _args(result):
        return {k: v for k, v in (result.task_fields.get("args") or {}).items() if not k.startswith("_ansible")}

    def _record(self, result, item=False):
        if self.report is None:
            return
        res = result.result
        host, role, name, action = self._context(result)
        if self.health_play:
            if "healthy" in res and "problems" in res:
                for answered in self._answered_for(result, host):
                    self.report.add_health(self.tier, answered, name, res)
            return
        if not item and isinstance(res.get("results"), list):
            # A loop: its items were recorded one by one.
            self.report.task_passed(self.tier, host, role, name)
            return
        if not res.get("changed"):
            self.report.task_passed(self.tier, host, role, name)
            return
        hidden = bool(res.get("_ansible_no_log")) or "censored" in res
        self.report.add_change(self.tier, host, role, name, action, self._args(result), res,
                               item_label=None if hidden else res.get("_ansible_item_label", res.get("item")),
                               hidden=hidden,
                               consequence=isinstance(result.task, Handler) or action in CONSEQUENCE_ACTIONS)

    def _answered_for(self, result, host):
        """A cluster asked once (run_once) answers for every host of the play."""
        return [host] + ([h for h in self.play_hosts if h != host] if result.task.run_once else [])

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result, item=True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self.report is None:
            return
        host, role, name, _action = self._context(result)
        msg = result.result.get("msg") or result.result.get("censored") or "failed"
        if ignore_errors:
            return
        if self.health_play:
            for answered in self._answered_for(result, host):
                if "healthy" in result.result and "problems" in result.result:
                    # A check that retried until healthy and gave up: its last answer names the problems.
                    self.report.add_health(self.tier, answered, name, result.result)
                else:
                    self.report.add_health_failure(self.tier, answered, name, msg)
        else:
            self.report.add_error(self.tier, host, role, name, msg)

    def v2_runner_on_unreachable(self, result):
        if self.report is None:
            return
        host, role, name, _action = self._context(result)
        self.report.add_error(self.tier, host, role, name, result.result.get("msg") or "unreachable", unreachable=True)

    def v2_runner_on_skipped(self, result):
        if self.report is None:
            return
        res = result.result
        reason = res.get("msg") or res.get("skip_reason") or ""
        if SKIPPED_FOR_CHECK_MODE.search(str(reason)) and "Conditional" not in str(reason):
            host, role, name, action = self._context(result)
            self.report.add_unchecked(self.tier, host, role, name, action, reason)

    # ------------------------------------------------------------ the end

    def v2_playbook_on_stats(self, stats):
        if self.report is None:
            return
        report = self.report
        report.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        report.meta["duration_s"] = round(time.monotonic() - self.started_monotonic, 1)
        report.meta["hosts"] = sorted(stats.processed)
        directory = self.get_option("directory")
        if not os.path.isabs(directory):
            directory = os.path.join(self.base_dir, directory)
        os.makedirs(directory, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        data = report.as_dict(previous=previous_report(directory, exclude=f"{stamp}.json"))
        paths = [os.path.join(directory, f"{stamp}.{ext}") for ext in ("json", "xml", "txt")]
        shown = [os.path.relpath(p) if not os.path.relpath(p).startswith("..") else p for p in paths[:2]]
        lines = report.summary_lines(data, paths=shown)
        for path, text in zip(paths, (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n",
                                      report.junit(), "\n".join(lines) + "\n")):
            with open(path + ".part", "w") as fh:
                fh.write(report.redactor.redact(text))
            os.replace(path + ".part", path)
        prune_reports(directory, self.get_option("keep"))
        self._display.banner("DRIFT CHECK")
        for line in lines:
            self._display.display(line)
        if self.get_option("exit_code"):
            # Schedulers act on the verdict, not on Ansible's own code (2 would mean both
            # "drift" and "a task failed"). Raised last, after every report is written;
            # ansible-playbook's cleanup (its `finally` blocks) still runs.
            raise SystemExit(data["exit_code"])
