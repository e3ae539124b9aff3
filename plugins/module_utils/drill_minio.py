# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The MinIO drill workload: numbered objects with known content, read back by checksum.

Each step either uploads object number `seq` (kind "write") or, every
`read_every` steps, downloads a random earlier acknowledged object and checks
its SHA-256 (kind "read"). The client goes round-robin over the nodes and moves
on to the next node when one does not answer: the retry policy the README
recommends for applications. A write the cluster refuses (e.g. 503
SlowDownWrite without write quorum) is not retried elsewhere: it is an answer.

The verdict splits the run into phases from the fault events (nodes down at
the time an operation started): one_down, two_down, recovery.
"""

from __future__ import annotations

import hashlib
import io
import random
import time

from ansible_collections.cloudphone.infra.plugins.module_utils import drill
from ansible_collections.cloudphone.infra.plugins.module_utils.minio_client import Connection, S3Error, ServerError, urllib3

READ = "read"


def payload(run_id, seq, size):
    """The deterministic content of object `seq`: verify needs no record of what was sent."""
    block = hashlib.sha256(f"{run_id}:{seq}".encode()).digest()
    return (block * (size // len(block) + 1))[:size]


class MinioWorkload(drill.Workload):
    system = "minio"

    def __init__(self, options):
        super().__init__(options)
        o = self.options
        self.bucket = o.get("bucket", "drill")
        self.size = int(o.get("object_size", 16384))
        self.read_every = int(o.get("read_every", 2))
        self.interval_s = float(o.get("interval_s", 0.05))
        self.connect_timeout = float(o.get("connect_timeout", 1))
        self.read_timeout = float(o.get("read_timeout", 15))
        self.retry_delay_s = float(o.get("retry_delay_s", 0.2))
        self.conn = Connection(o["endpoints"], o["access_key"], o["secret_key"], ca_file=o.get("ca_file"),
                               timeout=self.read_timeout, connect_timeout=self.connect_timeout)
        self.acked = []
        self.rng = random.Random(0)
        self.next_node = 0

    def client_settings(self):
        return {
            "endpoints": list(self.conn.endpoints),
            "routing": "round-robin start node; one attempt per node; next node on a timeout, a connection error or a 5xx answer",
            "connect_timeout_s": self.connect_timeout,
            "read_timeout_s": self.read_timeout,
            "retry_delay_s": self.retry_delay_s,
            "object_size": self.size,
            "read_every": self.read_every,
        }

    def key(self, seq):
        return f"{self.run_id}/obj-{seq:08d}"

    def prepare(self, run_id):
        super().prepare(run_id)
        self.conn.call(lambda ep: self.conn.s3(ep).bucket_exists(self.bucket) or self.conn.s3(ep).make_bucket(self.bucket))

    def _round_robin(self, fn):
        """One operation with the client's retry policy.

        Start on the next node (round-robin), give every node one attempt: a node that does
        not answer within the timeouts, or answers with a 5xx (SlowDown, ServiceUnavailable,
        InternalError), is followed by the next one after retry_delay_s. Any other S3 error is
        final. The last error is raised when every node failed.
        """
        nodes = self.conn.endpoints
        start = self.next_node
        self.next_node = (self.next_node + 1) % len(nodes)
        last = None
        for i in range(len(nodes)):
            endpoint = nodes[(start + i) % len(nodes)]
            try:
                return fn(endpoint)
            except S3Error as exc:
                if exc.response is None or exc.response.status < 500:
                    raise
                last = exc
            except (ServerError, urllib3.exceptions.HTTPError, OSError) as exc:
                last = exc
            time.sleep(self.retry_delay_s)
        raise last

    def kind(self, seq):
        return READ if self.read_every and seq % self.read_every == 0 and self.acked else drill.WRITE

    def step(self, seq):
        if self.interval_s:
            time.sleep(self.interval_s)
        if self.kind(seq) == READ:
            target = self.rng.choice(self.acked)
            body = self._round_robin(lambda ep: self._get(ep, self.key(target)))
            if hashlib.sha256(body).hexdigest() != hashlib.sha256(payload(self.run_id, target, self.size)).hexdigest():
                raise ValueError(f"object {target} read back with a wrong checksum")
            return {"kind": READ, "of": target}
        data = payload(self.run_id, seq, self.size)
        self._round_robin(lambda ep: self.conn.s3(ep).put_object(self.bucket, self.key(seq), io.BytesIO(data), len(data)))
        self.acked.append(seq)
        return None

    def _get(self, endpoint, key):
        resp = self.conn.s3(endpoint).get_object(self.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def read_back(self):
        found = {}
        prefix = f"{self.run_id}/obj-"
        names = self.conn.call(lambda ep: [o.object_name for o in self.conn.s3(ep).list_objects(
            self.bucket, prefix=prefix, recursive=True)])
        for name in names:
            seq = int(name[len(prefix):])
            body = self.conn.call(lambda ep: self._get(ep, name))
            found[seq] = hashlib.sha256(body).hexdigest()
        return found

    def expected_value(self, seq):
        return hashlib.sha256(payload(self.run_id, seq, self.size)).hexdigest()

    def extra_report(self, ops, events, present):
        return phase_figures(ops, events)

    def extra_checks(self, report):
        return {
            # One node of four down: the client's retries hide it completely.
            "one_down_no_failed_ops": report["ops_one_down"] > 0 and report["failed_ops_one_down"] == 0,
            # Two down: read quorum (2) holds, write quorum (3) does not.
            "two_down_reads_ok": report["reads_ok_two_down"] > 0 and report["reads_failed_two_down"] == 0,
            # ... and a refused write is an error to the client, never a stored or corrupt object.
            "two_down_writes_refused_cleanly": (report["writes_refused_two_down"] > 0 and report["in_doubt"] == 0
                                                and report["corrupt"] == 0),
        }


def down_count(events, t):
    """Nodes down at time t, from the fault events logged by playbooks/drills/tasks/fault.yml.

    A node counts as back from `restore_started` (it is being powered on and may answer from then
    on), not from `fault_restored`, which is logged only once its units are confirmed running."""
    n = 0
    for e in sorted(events, key=lambda e: e["t"]):
        if e["t"] > t:
            break
        if e["name"] == "fault_injected":
            n += 1
        elif e["name"] == "restore_started":
            n = max(0, n - 1)
    return n


def phase_figures(ops, events):
    """The figures the MinIO drill is judged by (see the issue): per phase, failed and successful ops."""
    injected = sorted(e["t"] for e in events if e["name"] == "fault_injected")
    restored = sorted(e["t"] for e in events if e["name"] == "fault_restored")
    restoring = sorted(e["t"] for e in events if e["name"] == "restore_started")

    def phase(op):
        down = down_count(events, op["t0"])
        if down == 0:
            return "recovery" if injected and op["t0"] >= injected[0] else "before"
        # The phase must hold for the whole operation; one straddling a fault event is "transition".
        if down_count(events, op["t1"]) != down:
            return "transition"
        if down == 1 and restoring and op["t0"] >= restoring[0]:
            return "recovery"
        return {1: "one_down", 2: "two_down"}.get(down, f"{down}_down")

    figures = {}
    for op in ops:
        p = phase(op)
        kind = "reads" if op.get("kind") == READ else "writes"
        bucket = figures.setdefault(p, {"reads_ok": 0, "reads_failed": 0, "writes_ok": 0, "writes_failed": 0,
                                        "errors": set()})
        bucket[f"{kind}_{'ok' if op['ok'] else 'failed'}"] += 1
        if not op["ok"] and op.get("error"):
            bucket["errors"].add(op["error"][:120])
    for p in figures.values():
        p["errors"] = sorted(p["errors"])[:5]

    one = figures.get("one_down", {})
    two = figures.get("two_down", {})
    write_acks = sorted(op["t1"] for op in ops if op["ok"] and op.get("kind") == drill.WRITE)

    def first_ack_after(t):
        return next((a for a in write_acks if a > t), None)

    gaps = {}
    if injected:
        one_down_end = injected[1] if len(injected) > 1 else (restored[0] if restored else None)
        acks = [a for a in write_acks if a > injected[0] and (one_down_end is None or a < one_down_end)]
        gaps["one_down_s"] = drill.longest_gap(acks, start=injected[0]) if acks else None
    if restored:
        first = first_ack_after(restored[0])
        gaps["after_recovery_s"] = round(first - restored[0], 3) if first else None
    measured = [g for g in gaps.values() if g is not None]
    return {
        "phases": figures,
        "failed_ops_one_down": one.get("reads_failed", 0) + one.get("writes_failed", 0),
        "ops_one_down": sum(one.get(k, 0) for k in ("reads_ok", "reads_failed", "writes_ok", "writes_failed")),
        "reads_ok_two_down": two.get("reads_ok", 0),
        "reads_failed_two_down": two.get("reads_failed", 0),
        "writes_refused_two_down": two.get("writes_failed", 0),
        "writes_acked_two_down": two.get("writes_ok", 0),
        "write_gaps": {k: round(v, 3) if v is not None else None for k, v in gaps.items()},
        # Writes are unavailable by design while two of four nodes are down (write quorum 3);
        # the RTO is how long writes stalled when the cluster should have taken them.
        "rto_s": round(max(measured), 3) if len(measured) == len(gaps) and gaps else None,
    }
