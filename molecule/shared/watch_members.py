#!/usr/bin/env python3
"""Watch every member of a tier while a command (a converge) runs, and write what was seen.

Usage:
  watch_members.py --tier postgresql|rabbitmq --ca CA --out REPORT.json [--interval 0.2]
                   NAME=ADDRESS [NAME=ADDRESS ...] -- COMMAND [ARG ...]

One thread per member asks it every --interval seconds, over the network, whether it serves clients:
  postgresql  a PostgreSQL startup packet on 5432: a server that answers with an authentication
              request or refuses the login (no pg_hba entry for the watcher) accepts connections; one
              that refuses the connection, closes it or answers 57P03 (starting up, shutting down)
              does not. No answer within --timeout counts as neither (slow_probes in the report). Patroni's
              REST API (GET /patroni on 8008) adds the member's role and its postmaster start time,
              which reveals a restart even between two probes (asked in a thread of its own).
  rabbitmq    a TLS connection to 5671 and the AMQP 0-9-1 protocol header: a node that answers with
              connection.start serves clients.
The watch starts --settle seconds before COMMAND and ends --settle seconds after it. The report
holds COMMAND's exit code and log, every member's down intervals, the timeline of changes, the most
members down at one moment, the order in which members went down, the roles seen first and last,
and the longest gap between two probes of a member (the watch's resolution). The caller judges.
"""

import argparse
import http.client
import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

PG_PORT, PATRONI_PORT, AMQPS_PORT = 5432, 8008, 5671
NOT_READY = "57P03"  # cannot_connect_now: the database system is starting up / shutting down


def postgresql_accepts(address, timeout):
    """(serves, detail): a startup packet for user 'watcher', without TLS."""
    body = b"user\0watcher\0database\0postgres\0application_name\0restart-watch\0\0"
    packet = struct.pack("!ii", 8 + len(body), 196608) + body
    try:
        with socket.create_connection((address, PG_PORT), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(packet)
            head = sock.recv(5)
            if len(head) < 5:
                return False, "connection closed"
            kind, length = head[:1], struct.unpack("!i", head[1:5])[0]
            if kind == b"R":
                return True, "authentication requested"
            if kind != b"E":
                return False, f"unexpected message {kind!r}"
            payload = b""
            while len(payload) < length - 4:
                chunk = sock.recv(length - 4 - len(payload))
                if not chunk:
                    break
                payload += chunk
    except TimeoutError:
        return None, f"no answer within {timeout} s"
    except OSError as exc:
        return False, type(exc).__name__
    fields = {f[:1]: f[1:].decode(errors="replace") for f in payload.split(b"\0") if f}
    code, message = fields.get(b"C", "?"), fields.get(b"M", "")
    if code == NOT_READY:
        return False, f"{code} {message}"
    return True, f"{code} {message}"


def patroni_status(address, context, timeout):
    try:
        conn = http.client.HTTPSConnection(address, PATRONI_PORT, context=context, timeout=timeout)
        conn.request("GET", "/patroni")
        doc = json.loads(conn.getresponse().read() or b"{}")
        conn.close()
        return doc
    except (OSError, ValueError, http.client.HTTPException):
        return {}


def rabbitmq_serves(name, address, context, timeout):
    try:
        with socket.create_connection((address, AMQPS_PORT), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                tls.settimeout(timeout)
                tls.sendall(b"AMQP\x00\x00\x09\x01")
                head = b""
                while len(head) < 11:
                    chunk = tls.recv(11 - len(head))
                    if not chunk:
                        return False, "connection closed"
                    head += chunk
    except TimeoutError:
        return None, f"no answer within {timeout} s"
    except (OSError, ssl.SSLError) as exc:
        return False, type(exc).__name__
    frame_type, _channel, _size, class_id, method_id = struct.unpack("!BHIHH", head)
    if (frame_type, class_id, method_id) == (1, 10, 10):
        return True, "connection.start"
    return False, f"unexpected frame {frame_type}/{class_id}/{method_id}"


class Member(threading.Thread):
    def __init__(self, watch, name, address):
        super().__init__(daemon=True)
        self.watch, self.name, self.address = watch, name, address
        self.samples = 0
        self.slow = 0
        self.max_gap = 0.0
        self.up = None
        self.down_since = None
        self.intervals = []
        self.role_first = self.role_last = None
        self.start_times = []

    def probe(self):
        w = self.watch
        if w.tier == "postgresql":
            return postgresql_accepts(self.address, w.timeout)
        return rabbitmq_serves(self.name, self.address, w.context, w.timeout)

    def follow_patroni(self):
        """Role and postmaster start time from Patroni, in a thread of its own, so that a slow REST
        answer never delays the availability probe."""
        w = self.watch
        while not w.stop.is_set():
            status = patroni_status(self.address, w.context, w.timeout)
            if status.get("role"):
                self.role_last = status["role"]
                self.role_first = self.role_first or status["role"]
            started = status.get("postmaster_start_time")
            if started and (not self.start_times or self.start_times[-1] != started):
                self.start_times.append(started)
            w.stop.wait(w.interval)

    def run(self):
        w = self.watch
        last = None
        while not w.stop.is_set():
            began = w.now()
            serves, detail = self.probe()
            done = w.now()
            if last is not None:
                self.max_gap = max(self.max_gap, done - last)
            last = done
            self.samples += 1
            # No answer in time is no evidence either way: a restarting member refuses, closes or
            # answers "starting up"; a member slowed by a starved machine only answers late.
            if serves is None:
                self.slow += 1
            elif serves != self.up:
                w.event(self.name, "up" if serves else "down", done, detail)
                if not serves:
                    self.down_since = began
                elif self.down_since is not None:
                    self.intervals.append([round(self.down_since, 3), round(done, 3)])
                    self.down_since = None
                self.up = serves
            w.stop.wait(max(0.0, w.interval - (w.now() - began)))
        if self.down_since is not None:
            self.intervals.append([round(self.down_since, 3), None])


class Watch:
    def __init__(self, tier, ca, interval, timeout):
        self.tier, self.interval, self.timeout = tier, interval, timeout
        self.context = ssl.create_default_context(cafile=ca)
        self.stop = threading.Event()
        self.origin = time.monotonic()
        self.lock = threading.Lock()
        self.timeline = []

    def now(self):
        return time.monotonic() - self.origin

    def event(self, member, what, at, detail):
        with self.lock:
            self.timeline.append({"t": round(at, 3), "member": member, "event": what, "detail": detail})


def most_down_at_once(intervals, end):
    """The largest number of members down at the same moment (interval sweep)."""
    edges = []
    for spans in intervals.values():
        for start, stop in spans:
            edges += [(start, 1), (stop if stop is not None else end, -1)]
    current = peak = 0
    for _t, step in sorted(edges, key=lambda e: (e[0], e[1])):
        current += step
        peak = max(peak, current)
    return peak


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=["postgresql", "rabbitmq"], required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log", help="where COMMAND's output goes (default: next to --out)")
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds a probe waits for an answer")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds watched before and after COMMAND")
    parser.add_argument("members", nargs="+", help="NAME=ADDRESS")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("give the command to watch after --")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]

    watch = Watch(args.tier, args.ca, args.interval, args.timeout)
    members = [Member(watch, *spec.split("=", 1)) for spec in args.members]
    followers = [threading.Thread(target=m.follow_patroni, daemon=True) for m in members if args.tier == "postgresql"]
    for thread in members + followers:
        thread.start()
    time.sleep(args.settle)
    baseline = {m.name: m.up for m in members}
    log_path = args.log or args.out.rsplit(".", 1)[0] + ".log"
    command_start = watch.now()
    with open(log_path, "w") as log:
        rc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
    command_end = watch.now()
    time.sleep(args.settle)
    watch.stop.set()
    for thread in members + followers:
        thread.join(timeout=10)
    end = watch.now()

    intervals = {m.name: m.intervals for m in members}
    downs = sorted((start, m.name) for m in members for start, _stop in m.intervals)
    firsts = sorted((m.intervals[0][0], m.name) for m in members if m.intervals)
    report = {
        "tier": args.tier,
        "command": command,
        "command_rc": rc,
        "command_log": log_path,
        "command_window": [round(command_start, 3), round(command_end, 3)],
        "interval": args.interval,
        "seconds": round(end, 1),
        "up_before": baseline,
        "up_after": {m.name: m.up for m in members},
        "samples": {m.name: m.samples for m in members},
        "max_probe_gap": {m.name: round(m.max_gap, 3) for m in members},
        "down_intervals": intervals,
        "slow_probes": {m.name: m.slow for m in members},
        "down_seconds": {m.name: round(sum((b if b is not None else end) - a for a, b in m.intervals), 2)
                         for m in members},
        "max_down_at_once": most_down_at_once(intervals, end),
        "restart_order": [name for _start, name in downs],
        "first_down_order": [name for _start, name in firsts],
        "last_down": downs[-1][1] if downs else None,
        "roles_first": {m.name: m.role_first for m in members} if args.tier == "postgresql" else {},
        "roles_last": {m.name: m.role_last for m in members} if args.tier == "postgresql" else {},
        "postmaster_starts": {m.name: max(0, len(m.start_times) - 1) for m in members} if args.tier == "postgresql" else {},
        "timeline": sorted(watch.timeline, key=lambda e: e["t"]),
    }
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=1)
    json.dump({k: v for k, v in report.items() if k != "timeline"}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
