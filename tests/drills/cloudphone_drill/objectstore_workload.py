# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The object storage drill client: numbered S3 objects with checksums, through HAProxy.

The client is boto3, as the platform's services use it, against https://s3.<domain> (HAProxy on the
ops host), with TLS verified against the collection's CA. The lab's control node has no DNS entry
for that name, so the workload resolves it to the load balancer's address itself (`resolve`, like
curl --resolve): the certificate is still checked against s3.<domain>.

* A write puts `<prefix>/<run_id>/<seq>`: bytes derived from the run and the number, sent with their
  Content-MD5 (the gateway refuses a body that does not match) and their SHA-256 in the metadata.
* Every `read_every`-th operation is a read instead: a GET of an object this run wrote and had
  acknowledged, picked at random, whose body must hash to what was written. A mismatch is an error
  of its own (ChecksumMismatch) and counts as corrupt, not only as a failed operation.
* read_back() lists the run's objects and hashes each one; the harness compares them with the
  acknowledged writes (lost, corrupt).

The report adds the node-loss figures: the phases between the fault events (before, one_down,
two_down, restoring, after), each with its failed operations and its stall (the longest time the
client saw no operation succeed), whether reads and writes succeeded with two nodes down, and the
recovery time from the last node's return to every placement group active+clean.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import random
import socket

from cloudphone_drill import harness

READ = "read"
# The settings the platform's services are told to use (docs/objectstore.md, "S3 clients"), seconds.
# - read_timeout outlasts the longest stall Ceph itself imposes (an OSD that stops answering holds its
#   placement groups' I/O until the monitors mark it down: osd_heartbeat_grace plus the reports), so a
#   request held by a dead OSD completes instead of failing.
# - The library retries (standard mode) a connection error, a 5xx or a throttle, with backoff:
#   HAProxy cuts the sessions of a gateway it marks down, and the retry goes to a live one.
RECOMMENDED = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "max_attempts": 5,
    "retry_mode": "standard",
    "tcp_keepalive": True,
    "addressing_style": "path",
    "region": "us-east-1",
}
DEFAULT_OBJECT_SIZE = 4096
CHECKSUM_MISMATCH = "ChecksumMismatch"
PHASES = ("before", "one_down", "two_down", "restoring", "after")


class ChecksumMismatch(Exception):
    """An object came back with other bytes than were written."""


def object_body(run_id, seq, size=DEFAULT_OBJECT_SIZE):
    """The bytes of object `seq`: derived from the run and the number, so verify can recompute them."""
    return hashlib.shake_256(f"cloudphone-drill:{run_id}:{seq}".encode()).digest(size)


def checksum(body):
    return hashlib.sha256(body).hexdigest()


def phase_bounds(events, start, end):
    """[(phase, t_from, t_to)] from the fault events; phases that did not happen are left out.

    before until the first fault_injected, one_down until the second, two_down until the first
    restore_started, restoring until pgs_clean (every placement group active+clean), after until the end.
    """
    injected = sorted(e["t"] for e in events if e["name"] == "fault_injected")
    restored = sorted(e["t"] for e in events if e["name"] == "restore_started")
    clean = sorted(e["t"] for e in events if e["name"] == "pgs_clean")
    marks = [start, injected[0] if injected else None, injected[1] if len(injected) > 1 else None,
             restored[0] if restored else None, clean[-1] if clean else None, end]
    bounds = []
    for i, name in enumerate(PHASES):
        t_from = marks[i]
        t_to = next((m for m in marks[i + 1:] if m is not None), end)
        if t_from is not None and t_to is not None and t_to >= t_from:
            bounds.append((name, t_from, t_to))
    return bounds


def phase_figures(ops, t_from, t_to):
    """One phase: operations started in it, failures, successes by kind and the stall.

    The stall is the longest stretch within the phase in which no operation succeeded, measured from
    the phase's start (a fault) to the first success, between successes, and from the last success to
    the phase's end: what a client of the tier waits for.
    """
    inside = [op for op in ops if t_from <= op["t0"] < t_to]
    successes = [op["t1"] for op in ops if op["ok"] and t_from <= op["t1"] <= t_to]
    stall = harness.longest_gap(successes, start=t_from, end=t_to)
    return {
        "seconds": round(t_to - t_from, 3),
        "ops": len(inside),
        "failed_ops": sum(1 for op in inside if not op["ok"]),
        "writes_ok": sum(1 for op in inside if op["ok"] and op.get("kind") == harness.WRITE and op["t1"] <= t_to),
        "reads_ok": sum(1 for op in inside if op["ok"] and op.get("kind") == READ and op["t1"] <= t_to),
        "stall_s": round(stall, 3) if stall is not None else None,
    }


def node_loss_figures(ops, events, present, expected):
    """The figures of the node-loss drill from the op log, the events and what was read back."""
    start = ops[0]["t0"] if ops else None
    end = ops[-1]["t1"] if ops else None
    phases = {name: phase_figures(ops, a, b) for name, a, b in phase_bounds(events, start, end)} if ops else {}
    acked = {op["seq"] for op in ops if op.get("kind") == harness.WRITE and op["ok"]}
    corrupt_stored = sorted(s for s in acked & set(present) if present[s] != expected(s))
    corrupt_reads = sorted(op.get("object_seq", op["seq"]) for op in ops
                           if not op["ok"] and str(op.get("error", "")).startswith(CHECKSUM_MISMATCH))
    restores = sorted(e["t"] for e in events if e["name"] == "restore_started")
    clean = sorted(e["t"] for e in events if e["name"] == "pgs_clean")
    two_down = phases.get("two_down")
    return {
        "phases": phases,
        "stall_s": {name: figures["stall_s"] for name, figures in phases.items()},
        "failed_ops_one_down": phases["one_down"]["failed_ops"] if "one_down" in phases else None,
        "failed_ops_two_down": two_down["failed_ops"] if two_down else None,
        "reads_ok_two_down": bool(two_down and two_down["reads_ok"] > 0),
        "writes_ok_two_down": bool(two_down and two_down["writes_ok"] > 0),
        "reads": sum(1 for op in ops if op.get("kind") == READ),
        "reads_failed": sum(1 for op in ops if op.get("kind") == READ and not op["ok"]),
        "corrupt": len(set(corrupt_stored) | set(corrupt_reads)),
        "corrupt_sample": sorted(set(corrupt_stored) | set(corrupt_reads))[:20],
        "recovery_s": round(clean[-1] - restores[-1], 3) if restores and clean and clean[-1] >= restores[-1] else None,
    }


class ObjectstoreWorkload(harness.Workload):
    system = "objectstore"
    retry_delay_s = 0.2

    def __init__(self, options):
        super().__init__(options)
        import boto3  # the CLI turns an ImportError into an instruction
        from botocore.config import Config

        o = self.options
        self.settings = {k: o.get(k, v) for k, v in RECOMMENDED.items()}
        s = self.settings
        self.endpoint = o["endpoint_url"]
        self.bucket = o.get("bucket", "cloudphone-drill")
        self.prefix = o.get("key_prefix", "drill")
        self.object_size = int(o.get("object_size", DEFAULT_OBJECT_SIZE))
        self.read_every = int(o.get("read_every", 2))
        self.resolve = dict(o.get("resolve") or {})
        self.random = random.Random(o.get("seed"))
        self.acked = []
        self.run_id = None
        if self.resolve:
            pin_addresses(self.resolve)
        self.s3 = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=s["region"],
            aws_access_key_id=o["access_key"], aws_secret_access_key=o["secret_key"], verify=o["ca_file"],
            config=Config(connect_timeout=s["connect_timeout"], read_timeout=s["read_timeout"],
                          retries={"mode": s["retry_mode"], "max_attempts": int(s["max_attempts"])},
                          tcp_keepalive=bool(s["tcp_keepalive"]), signature_version="s3v4",
                          s3={"addressing_style": s["addressing_style"]},
                          # The body's own Content-MD5 and SHA-256 are the checksums; no aws-chunked trailers.
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def client_settings(self):
        return dict(self.settings, library="boto3", retry_delay_s=self.retry_delay_s, endpoint=self.endpoint,
                    bucket=self.bucket, object_size=self.object_size, read_every=self.read_every,
                    tls_verify="collection CA", content_md5=True)

    def key(self, seq):
        return f"{self.prefix}/{self.run_id}/{seq:08d}"

    def prepare(self, run_id):
        self.run_id = run_id
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise
            self.s3.create_bucket(Bucket=self.bucket)

    def kind(self, seq):
        if self.read_every > 0 and seq % self.read_every == 0 and self.acked:
            return READ
        return harness.WRITE

    def step(self, seq):
        if self.kind(seq) == READ:
            target = self.random.choice(self.acked)
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key(target))
            body = response["Body"].read()
            if checksum(body) != self.expected_value(target):
                raise ChecksumMismatch(f"object {target} read back with sha256 {checksum(body)[:16]}...")
            return {"object_seq": target}
        body = object_body(self.run_id, seq, self.object_size)
        self.s3.put_object(Bucket=self.bucket, Key=self.key(seq), Body=body,
                           ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
                           Metadata={"sha256": checksum(body)})
        self.acked.append(seq)
        return None

    def read_back(self):
        """{seq: sha256 of the stored body} for every object of this run."""
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                       Prefix=f"{self.prefix}/{self.run_id}/"):
            keys += [item["Key"] for item in page.get("Contents", [])]

        def fetch(key):
            return int(key.rsplit("/", 1)[1]), checksum(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return dict(pool.map(fetch, keys))

    def expected_value(self, seq):
        return checksum(object_body(self.run_id, seq, self.object_size))

    def extra_report(self, ops, events, present):
        return node_loss_figures(ops, events, present, self.expected_value)

    def extra_checks(self, report):
        limit = report.get("max_rto_s")
        stalls = [s for s in (report.get("stall_s") or {}).values() if s is not None]
        return {
            "no_failed_op_with_one_node_down": report.get("failed_ops_one_down") == 0,
            "reads_with_two_nodes_down": report.get("reads_ok_two_down") is True,
            "writes_with_two_nodes_down": report.get("writes_ok_two_down") is True,
            "every_stall_within_target": bool(stalls) and limit is not None and max(stalls) <= limit,
            "recovered_to_active_clean": report.get("recovery_s") is not None,
        }

    def close(self):
        self.s3.close()


def pin_addresses(mapping):
    """Resolve the names in `mapping` ({name: address}) to those addresses in this process only.

    TLS still verifies the certificate against the name, exactly as with a DNS entry for it.
    """
    original = socket.getaddrinfo
    if getattr(original, "cloudphone_pinned", None) is not None:
        original.cloudphone_pinned.update(mapping)
        return

    def getaddrinfo(host, *args, **kwargs):
        return original(getaddrinfo.cloudphone_pinned.get(host, host), *args, **kwargs)

    getaddrinfo.cloudphone_pinned = dict(mapping)
    socket.getaddrinfo = getaddrinfo
