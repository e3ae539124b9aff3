# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The RabbitMQ drill client: a confirming publisher and a manual-ack consumer.

Both connect through HAProxy over TLS with the client settings the README
recommends for the platform's services, and reconnect on any error.

* Each operation publishes one persistent, mandatory message `<run_id> <seq>` and
  returns when the broker confirms it (publisher confirms). A publish that fails
  is not retried with the same number: the next operation gets a new one, so a
  message the broker kept although the client saw an error shows up as in_doubt.
* A background consumer (started by the op loop) receives with manual acks while
  the writes go on and records each delivery before acking it. A delivery whose
  ack was lost with a connection comes again: that is a duplicate, allowed by
  at-least-once delivery and counted in the report.
* The verify phase drains what is left in the queue, then read_back() returns,
  per message number, how many times it was delivered.
"""

from __future__ import annotations

import collections
import json
import os
import ssl
import threading
import time

from cloudphone_drill import harness

CONSUMED_FILE = "consumed.jsonl"
CONSUMER_STATS_FILE = "consumer.json"

# The settings the README recommends to the platform's services (see "RabbitMQ clients").
DEFAULT_SETTINGS = {
    "heartbeat": 5,                     # s; a dead peer is noticed within ~2 heartbeats
    "blocked_connection_timeout": 30,   # s; a connection blocked by an alarm is dropped and retried
    "socket_timeout": 5,                # s; TCP connect
    "stack_timeout": 10,                # s; TCP + TLS + AMQP handshake as a whole
    "connection_attempts": 1,           # the application's own loop retries (below)
    "reconnect_delay_s": 0.5,           # pause before reconnecting after an error
    "prefetch": 100,                    # unacked deliveries per consumer
}


class RabbitmqWorkload(harness.Workload):
    system = "rabbitmq"

    def __init__(self, options):
        super().__init__(options)
        import pika  # the CLI turns an ImportError into an instruction

        self.pika = pika
        o = self.options
        self.settings = {k: o.get(k, v) for k, v in DEFAULT_SETTINGS.items()}
        self.retry_delay_s = float(self.settings["reconnect_delay_s"])
        self.queue = o.get("queue", "cloudphone.drill")
        self.queue_type = o.get("queue_type", "quorum")
        self.run_id = None
        self.publisher = None
        self.publisher_connections = 0
        self.stop_consumer = threading.Event()
        self.consumer_thread = None
        self.consumer_stats = collections.Counter()

    # -- connections ---------------------------------------------------------------------------
    def parameters(self, role):
        o, s = self.options, self.settings
        context = ssl.create_default_context(cafile=o["ca_file"])
        return self.pika.ConnectionParameters(
            host=o["host"], port=int(o.get("port", 5671)), virtual_host=o.get("vhost", "cloudphone"),
            credentials=self.pika.PlainCredentials(o["username"], o["password"]),
            ssl_options=self.pika.SSLOptions(context, server_hostname=o.get("server_hostname") or o["host"]),
            heartbeat=int(s["heartbeat"]), blocked_connection_timeout=float(s["blocked_connection_timeout"]),
            socket_timeout=float(s["socket_timeout"]), stack_timeout=float(s["stack_timeout"]),
            connection_attempts=int(s["connection_attempts"]), retry_delay=0,
            client_properties={"connection_name": f"cloudphone-drill-{role}-{self.run_id}"})

    def connect(self, role):
        return self.pika.BlockingConnection(self.parameters(role))

    def client_settings(self):
        return dict(self.settings, retry_delay_s=self.retry_delay_s, publisher_confirms=True,
                    delivery_mode="persistent", mandatory=True, consumer_acks="manual",
                    queue=self.queue, queue_type=self.queue_type,
                    endpoint=f"{self.options.get('host')}:{self.options.get('port', 5671)} (HAProxy, TLS)")

    # -- harness hooks -------------------------------------------------------------------------
    def prepare(self, run_id):
        self.run_id = run_id
        conn = self.connect("prepare")
        try:
            conn.channel().queue_declare(self.queue, durable=True, arguments={"x-queue-type": self.queue_type})
        finally:
            conn.close()

    def begin(self):
        self.consumer_thread = threading.Thread(target=self.consume, name="drill-consumer", daemon=True)
        self.consumer_thread.start()

    def step(self, seq):
        if self.publisher is None or self.publisher[0].is_closed:
            conn = self.connect("publisher")
            channel = conn.channel()
            channel.confirm_delivery()
            self.publisher = (conn, channel)
            self.publisher_connections += 1
        try:
            # Returns once the broker confirmed the message; raises on nack, return or a lost connection.
            self.publisher[1].basic_publish(
                exchange="", routing_key=self.queue, body=f"{self.run_id} {seq}".encode(), mandatory=True,
                properties=self.pika.BasicProperties(delivery_mode=2, message_id=f"{self.run_id}-{seq}"))
        except Exception:
            self.drop_publisher()
            raise

    def close(self):
        self.drop_publisher()
        if self.consumer_thread is not None:
            self.stop_consumer.set()
            self.consumer_thread.join(timeout=60)
            self.consumer_thread = None
            stats = dict(self.consumer_stats, publisher_connections=self.publisher_connections)
            with open(os.path.join(self.run_dir, CONSUMER_STATS_FILE), "w", encoding="utf-8") as fh:
                json.dump(stats, fh)

    def read_back(self):
        """Drain the queue, then return {seq: deliveries} for every message of this run."""
        self.drain()
        deliveries = collections.Counter(r["seq"] for r in harness.read_jsonl(self.consumed_path()))
        return dict(deliveries)

    def extra_report(self, ops, events, present):
        stats_path = os.path.join(self.run_dir, CONSUMER_STATS_FILE)
        stats = json.load(open(stats_path, encoding="utf-8")) if os.path.exists(stats_path) else {}
        return {
            "duplicates": sum(n - 1 for n in present.values() if n > 1),
            "consumed": len(present),
            "deliveries": sum(present.values()),
            "consumer_connections": stats.get("connections", 0),
            "publisher_connections": stats.get("publisher_connections", 0),
            "foreign_messages": stats.get("foreign", 0) + self.consumer_stats.get("foreign", 0),
        }

    # -- the consumer --------------------------------------------------------------------------
    def consumed_path(self):
        return os.path.join(self.run_dir, CONSUMED_FILE)

    def drop_publisher(self):
        if self.publisher is not None:
            conn, self.publisher = self.publisher[0], None
            if conn.is_open:
                try:
                    conn.close()
                except Exception:  # already broken: nothing left to close
                    pass

    def receive(self, channel, log, until):
        """Consume with manual acks until `until()` says stop; record each delivery before its ack."""
        for method, _props, body in channel.consume(self.queue, inactivity_timeout=0.5):
            if method is not None:
                run_id, _sep, seq = body.decode(errors="replace").partition(" ")
                if run_id == self.run_id and seq.isdigit():
                    log.write(json.dumps({"seq": int(seq), "redelivered": method.redelivered, "t": time.time()}) + "\n")
                    log.flush()
                else:
                    self.consumer_stats["foreign"] += 1  # left over from an older run: drained, not counted
                channel.basic_ack(method.delivery_tag)
            if until(method is None):
                break
        channel.cancel()

    def consume(self, until=None):
        until = until or (lambda idle: self.stop_consumer.is_set())
        with open(self.consumed_path(), "a", encoding="utf-8") as log:
            while True:
                conn = None
                try:
                    conn = self.connect("consumer")
                    self.consumer_stats["connections"] += 1
                    channel = conn.channel()
                    channel.basic_qos(prefetch_count=int(self.settings["prefetch"]))
                    self.receive(channel, log, until)
                    conn.close()
                    return
                except Exception:  # any client error: reconnect, as a service would
                    self.consumer_stats["errors"] += 1
                    if conn is not None and conn.is_open:
                        try:
                            conn.close()
                        except Exception:
                            pass
                    if until(True):
                        return
                    time.sleep(self.retry_delay_s)

    def drain(self, idle_s=3.0, timeout_s=300):
        """Consume until the queue stayed empty for `idle_s` seconds (bounded by `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        state = {"idle_since": None}

        def until(idle):
            now = time.monotonic()
            if not idle:
                state["idle_since"] = None
            elif state["idle_since"] is None:
                state["idle_since"] = now
            return now > deadline or (state["idle_since"] is not None and now - state["idle_since"] >= idle_s)

        self.consume(until)
