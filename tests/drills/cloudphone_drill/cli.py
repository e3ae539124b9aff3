# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The control-node half of every failover drill: run, mark and judge a tier's client workload.

    PYTHONPATH=tests/drills python -m cloudphone_drill <phase> --run-dir DIR [options]

Phases (the drill playbooks in tests/drills/playbooks/ call them with ansible.builtin.command):

run     performs numbered, acknowledged operations against a tier until --duration passes or
        `stop` is called, logging every operation with its timestamps. The playbook starts it
        with async, so it can inject faults meanwhile.
event   records a fault event (fault_injected, ...) at --at (epoch seconds) or now.
wait    blocks until the running workload has --acks acknowledged writes (after the first
        --after-event event, and with --after-outage only after the first failure since then),
        so the playbook acts on what clients see ("writes resumed after the fault").
stop    asks a running `run` to end.
verify  reads everything back, compares it with the acknowledged operations, measures the RTO
        and writes the JSON report (--report).

The workload's connection options (addresses, credentials, CA file, client settings) hold
passwords, so they never travel on the command line: --workload-file names a JSON object in
a file readable by its owner only (mode 0600), or `-` to read it from stdin.

Every call prints one JSON object on stdout ({"phase": ..., <result>}); a bad input exits 2
and a failure 1, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys

from cloudphone_drill import harness
from cloudphone_drill.objectstore_workload import ObjectstoreWorkload
from cloudphone_drill.postgresql_workload import PostgresqlWorkload
from cloudphone_drill.rabbitmq_workload import RabbitmqWorkload
from cloudphone_drill.redis_workload import RedisWorkload

PROG = "cloudphone_drill"
# One workload class per tier; each lives in <tier>_workload.py of this package.
WORKLOADS = {
    "objectstore": ObjectstoreWorkload,
    "postgresql": PostgresqlWorkload,
    "rabbitmq": RabbitmqWorkload,
    "redis": RedisWorkload,
}
# Drills are bounded in time: a forgotten writer must not load a cluster for hours.
MAX_DURATION_S = 1800


class Failure(Exception):
    """A reason to stop, said to the operator; `code` 2 for bad input, 1 for a failed phase."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def json_object(text):
    """argparse type: a JSON object given on the command line (event fields, checks, extra figures)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text[:80]!r}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, not {type(value).__name__}: {text[:80]!r}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog=PROG, description="Run, mark and judge the client workload of a failover drill.")
    phases = parser.add_subparsers(dest="phase", metavar="PHASE", required=True,
                                   help="run | event | wait | stop | verify")

    def phase(name, help_text):
        sub = phases.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--run-dir", required=True,
                         help="directory on the control node for this run's operation and event logs")
        return sub

    def workload_options(sub):
        sub.add_argument("--system", required=True, choices=sorted(WORKLOADS), help="the tier whose workload to use")
        sub.add_argument("--run-id", required=True,
                         help="identifies this run's data in the system (table rows, keys, messages)")
        sub.add_argument("--workload-file", required=True, metavar="PATH",
                         help="JSON object of connection options (mode 0600: it holds passwords), or - for stdin")

    run = phase("run", "perform acknowledged operations until --duration passes or `stop` is called")
    workload_options(run)
    run.add_argument("--duration", type=int, default=120, help=f"upper bound in seconds (1-{MAX_DURATION_S})")
    run.add_argument("--max-ops", type=int, help="optional upper bound on the number of operations")

    event = phase("event", "record a fault event")
    event.add_argument("--name", required=True, help="event name, e.g. fault_injected")
    event.add_argument("--fields", type=json_object, default={}, metavar="JSON",
                       help="extra fields stored with the event, a JSON object (e.g. the host)")
    event.add_argument("--at", type=float, metavar="EPOCH",
                       help="when it happened, in seconds since the epoch (default now)")

    wait = phase("wait", "block until the running workload has --acks acknowledged writes")
    wait.add_argument("--acks", type=int, default=1, help="how many acknowledged writes to wait for")
    wait.add_argument("--after-event", help="count only writes started after the first event of this name")
    wait.add_argument("--after-outage", action="store_true",
                      help="count only writes acknowledged after the first failed operation")
    wait.add_argument("--timeout", type=float, default=60,
                      help="give up after this many seconds (the result says whether the count was reached)")

    phase("stop", "ask the running workload to end")

    verify = phase("verify", "read everything back, compare, measure the RTO and write the report")
    workload_options(verify)
    verify.add_argument("--fault", required=True, help="the fault injected, recorded in the report")
    verify.add_argument("--report", required=True, metavar="PATH", help="where to write the JSON report")
    verify.add_argument("--max-rto-s", type=float, default=30, help="the RTO target the report checks against")
    verify.add_argument("--checks", type=json_object, default={}, metavar="JSON",
                        help="extra named pass/fail checks measured by the playbook, a JSON object of booleans")
    verify.add_argument("--extra", type=json_object, default={}, metavar="JSON",
                        help="extra figures measured by the playbook, copied into the report")
    return parser


def read_workload_options(path, stdin=None):
    """The workload's connection options: a JSON object from a private file, or from stdin."""
    if path == "-":
        text = (stdin or sys.stdin).read()
        source = "stdin"
    else:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise Failure(f"cannot read the workload file: {exc}", code=2) from exc
        if stat.S_IMODE(mode) & 0o077:
            raise Failure(f"{path} holds the workload's passwords but others may read it "
                          f"(mode {stat.S_IMODE(mode):04o}): make it 0600", code=2)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        source = path
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise Failure(f"the workload options in {source} are not JSON: {exc}", code=2) from exc
    if not isinstance(options, dict):
        raise Failure(f"the workload options in {source} must be a JSON object, not {type(options).__name__}", code=2)
    return options


def load_workload(system, options):
    try:
        return WORKLOADS[system](options)
    except ImportError as exc:
        raise Failure(f"the {system} drill client needs a Python library on the control node: {exc}. "
                      "Install the controller requirements (make venv).") from exc
    except KeyError as exc:
        raise Failure(f"the {system} workload options lack {exc}", code=2) from exc


def run_phase(args, stdin=None):
    """Do what `args` ask; return the JSON-able result (without "phase")."""
    if args.phase == "event":
        return {"event": harness.record_event(args.run_dir, args.name, t=args.at, **args.fields)}
    if args.phase == "stop":
        harness.request_stop(args.run_dir)
        return {"stop_file": os.path.join(os.path.abspath(args.run_dir), harness.STOP_FILE)}
    if args.phase == "wait":
        try:
            return {"wait": harness.wait_for_acks(args.run_dir, args.acks, after_event=args.after_event,
                                                  after_outage=args.after_outage, timeout_s=args.timeout)}
        except ValueError as exc:
            raise Failure(str(exc)) from exc

    if args.phase == "run" and not 1 <= args.duration <= MAX_DURATION_S:
        raise Failure(f"--duration must be between 1 and {MAX_DURATION_S} seconds (got {args.duration}): "
                      "drills are bounded in time", code=2)
    workload = load_workload(args.system, read_workload_options(args.workload_file, stdin))
    if args.phase == "run":
        return {"summary": harness.run_workload(workload, args.run_dir, args.duration, args.run_id,
                                                max_ops=args.max_ops)}

    workload.run_dir = args.run_dir
    workload.prepare(args.run_id)
    report = harness.build_report(workload, args.run_dir, args.fault, args.max_rto_s, checks=args.checks,
                                  extra=args.extra)
    workload.close()
    harness.write_report(report, args.report)
    return {"report": report, "report_path": os.path.abspath(args.report)}


def main(argv=None, stdin=None, stdout=None):
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)  # exits 2 with argparse's message on bad input
    try:
        os.makedirs(args.run_dir, exist_ok=True)
        result = run_phase(args, stdin)
    except Failure as exc:
        print(f"{PROG} {args.phase}: error: {exc}", file=sys.stderr)
        return exc.code
    stdout.write(json.dumps(dict(result, phase=args.phase), sort_keys=True) + "\n")
    return 0
