# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Failover drill workloads: a test-side package, run on the control node, never shipped.

`python -m cloudphone_drill` (cli.py) is what the drill playbooks call; harness.py holds the
op loop, the event log and the verdict shared by every tier; <tier>_workload.py the clients.
"""
