#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drill_workload
short_description: Run, mark and judge the client workload of a failover drill
description:
  - The control-node half of every failover drill in this collection.
  - C(phase=run) performs numbered, acknowledged operations against a tier until O(duration)
    passes or C(phase=stop) is called, logging every operation with its timestamps. Start it with
    C(async) so the playbook can inject faults meanwhile.
  - C(phase=event) records a fault event (for example C(fault_injected)) with the current time.
  - C(phase=wait) blocks until the running workload has O(acks) acknowledged writes (after the
    O(after_event) event, and with O(after_outage) only after the first failure since then), so the
    playbook acts on what clients see, for example "writes resumed after the fault".
  - C(phase=verify) reads everything back, compares it with the acknowledged operations, measures
    the RTO and writes the JSON report.
  - "Runs on the control node (C(delegate_to: localhost)) with the client libraries of the tier."
version_added: "0.1.0"
author: cloudphone.infra developers (@cloudphone)
options:
  phase:
    description: What to do.
    type: str
    required: true
    choices: [run, event, wait, stop, verify]
  system:
    description: The tier whose workload to use.
    type: str
    required: true
    choices: [postgresql, redis, rabbitmq]
  run_dir:
    description: Directory on the control node for the operation and event logs of this run.
    type: path
    required: true
  run_id:
    description: Identifies this run's data in the system (table rows, keys, messages, objects).
    type: str
  duration:
    description: Upper bound, in seconds, of C(phase=run).
    type: int
    default: 120
  max_ops:
    description: Optional upper bound on the number of operations of C(phase=run).
    type: int
  workload:
    description: Tier-specific connection options (addresses, credentials, CA file, client settings).
    type: dict
    default: {}
  event:
    description: Event name for C(phase=event).
    type: str
  event_fields:
    description: Extra fields stored with the event (for example the host).
    type: dict
    default: {}
  fault:
    description: The fault injected, recorded in the report (C(phase=verify)).
    type: str
  max_rto_s:
    description: The RTO target the report checks against.
    type: float
    default: 30
  checks:
    description: Extra named pass/fail checks measured by the playbook (for example the old leader rejoined).
    type: dict
    default: {}
  extra:
    description: Extra figures measured by the playbook, copied into the report.
    type: dict
    default: {}
  report:
    description: Path of the JSON report written by C(phase=verify).
    type: path
  acks:
    description: For C(phase=wait), how many acknowledged writes to wait for.
    type: int
    default: 1
  after_event:
    description: For C(phase=wait), count only writes started after the first event of this name.
    type: str
  after_outage:
    description: For C(phase=wait), count only writes acknowledged after the first failed operation.
    type: bool
    default: false
  timeout:
    description: For C(phase=wait), give up after this many seconds (the result says whether the count was reached).
    type: float
    default: 60
notes:
  - Check mode is not supported in a meaningful way; drills refuse to run in check mode.
attributes:
  check_mode:
    description: Drills act on live systems; they refuse to run in check mode.
    support: none
  diff_mode:
    description: Nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Start the writer
  cloudphone.infra.drill_workload:
    phase: run
    system: postgresql
    run_dir: /tmp/drill-pg
    run_id: "{{ drill_run_id }}"
    duration: 120
    workload: "{{ drill_postgresql_client }}"
  delegate_to: localhost
  async: 300
  poll: 0
  register: writer

- name: Mark the fault
  cloudphone.infra.drill_workload:
    phase: event
    system: postgresql
    run_dir: /tmp/drill-pg
    event: fault_injected
  delegate_to: localhost

- name: Judge the run
  cloudphone.infra.drill_workload:
    phase: verify
    system: postgresql
    run_dir: /tmp/drill-pg
    run_id: "{{ drill_run_id }}"
    workload: "{{ drill_postgresql_client }}"
    fault: kill
    max_rto_s: 30
    report: reports/drills/postgresql-kill.json
  delegate_to: localhost
"""

RETURN = r"""
wait:
  description: For C(phase=wait), whether the count was reached, the writes counted, and the seconds from the event to the first of them.
  returned: phase=wait
  type: dict
  sample: {"reached": true, "acks": 100, "outage": true, "seconds": 6.2}
summary:
  description: For C(phase=run), counts of operations, acknowledged writes and failures.
  returned: phase=run
  type: dict
report:
  description: For C(phase=verify), the drill report (also written to O(report)).
  returned: phase=verify
  type: dict
  sample: {"system": "postgresql", "fault": "kill", "rto_s": 9.8, "acked": 41234, "lost": 0, "passed": true}
"""

import os
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils import drill
from ansible_collections.cloudphone.infra.plugins.module_utils.drill_rabbitmq import RabbitmqWorkload
from ansible_collections.cloudphone.infra.plugins.module_utils.drill_postgresql import PostgresqlWorkload
from ansible_collections.cloudphone.infra.plugins.module_utils.drill_redis import RedisWorkload

# One workload class per tier; each lives in module_utils/drill_<tier>.py.
WORKLOADS = {
    "postgresql": PostgresqlWorkload,
    "rabbitmq": RabbitmqWorkload,
    "redis": RedisWorkload,
}


def load_workload(module, system):
    cls = WORKLOADS.get(system)
    if cls is None:
        module.fail_json(msg=f"no drill workload is registered for {system!r}; add it to plugins/modules/drill_workload.py")
    try:
        return cls(module.params["workload"])
    except ImportError as exc:
        module.fail_json(msg=f"the {system} drill client needs a Python library on the control node: {exc}. "
                             "Install the controller requirements (make venv).")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            phase=dict(type="str", required=True, choices=["run", "event", "wait", "stop", "verify"]),
            system=dict(type="str", required=True, choices=["postgresql", "redis", "rabbitmq"]),
            run_dir=dict(type="path", required=True),
            run_id=dict(type="str"),
            duration=dict(type="int", default=120),
            max_ops=dict(type="int"),
            workload=dict(type="dict", default={}, no_log=True),
            event=dict(type="str"),
            event_fields=dict(type="dict", default={}),
            fault=dict(type="str"),
            max_rto_s=dict(type="float", default=30),
            checks=dict(type="dict", default={}),
            extra=dict(type="dict", default={}),
            report=dict(type="path"),
            acks=dict(type="int", default=1),
            after_event=dict(type="str"),
            after_outage=dict(type="bool", default=False),
            timeout=dict(type="float", default=60),
        ),
        required_if=[("phase", "event", ["event"]), ("phase", "verify", ["report", "fault", "run_id"]),
                     ("phase", "run", ["run_id"])],
        supports_check_mode=False,
    )
    p = module.params
    os.makedirs(p["run_dir"], exist_ok=True)

    if p["phase"] == "event":
        event = drill.record_event(p["run_dir"], p["event"], **p["event_fields"])
        module.exit_json(changed=True, event=event)
    if p["phase"] == "stop":
        drill.request_stop(p["run_dir"])
        module.exit_json(changed=True)
    if p["phase"] == "wait":
        try:
            waited = drill.wait_for_acks(p["run_dir"], p["acks"], after_event=p["after_event"],
                                         after_outage=p["after_outage"], timeout_s=p["timeout"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        module.exit_json(changed=False, wait=waited)

    if not 1 <= p["duration"] <= 1800:
        module.fail_json(msg="duration must be between 1 and 1800 seconds: drills are bounded in time")
    workload = load_workload(module, p["system"])
    if p["phase"] == "run":
        summary = drill.run_workload(workload, p["run_dir"], p["duration"], p["run_id"] or uuid.uuid4().hex,
                                     max_ops=p["max_ops"])
        module.exit_json(changed=True, summary=summary)

    workload.run_dir = p["run_dir"]
    workload.prepare(p["run_id"])
    report = drill.build_report(workload, p["run_dir"], p["fault"], p["max_rto_s"], checks=p["checks"], extra=p["extra"])
    workload.close()
    drill.write_report(report, p["report"])
    module.exit_json(changed=True, report=report)


if __name__ == "__main__":
    main()
