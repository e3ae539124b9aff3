"""The RabbitMQ drill client's bookkeeping: deliveries per message, duplicates, foreign messages.

The client itself runs against the lab in `make drill-rabbitmq`; here the consumer's record file
stands in for the broker.
"""

import json

# The workload imports pika when it is built; importing it here too makes a missing pika
# (a requirements.txt dependency) fail this file at once instead of skipping it.
import pika  # noqa: F401

from cloudphone_drill import harness, rabbitmq_workload


class NoBroker(rabbitmq_workload.RabbitmqWorkload):
    def drain(self, idle_s=3.0, timeout_s=300):
        """The test's queue is already empty."""


def workload(tmp_path):
    w = NoBroker({"host": "127.0.0.1", "ca_file": "/dev/null", "username": "u", "password": "p"})
    w.run_dir = str(tmp_path)
    w.run_id = "r1"
    return w


def test_redeliveries_count_as_duplicates_never_as_losses(tmp_path):
    w = workload(tmp_path)
    records = [{"seq": 1}, {"seq": 2}, {"seq": 2, "redelivered": True}, {"seq": 3}, {"seq": 3}, {"seq": 3}]
    (tmp_path / rabbitmq_workload.CONSUMED_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / rabbitmq_workload.CONSUMER_STATS_FILE).write_text(json.dumps({"connections": 2, "publisher_connections": 3}))
    present = w.read_back()
    assert present == {1: 1, 2: 2, 3: 3}
    extra = w.extra_report([], [], present)
    assert extra["duplicates"] == 3
    assert extra["consumed"] == 3 and extra["deliveries"] == 6
    assert (extra["consumer_connections"], extra["publisher_connections"]) == (2, 3)


def test_the_report_records_the_recommended_client_settings(tmp_path):
    settings = workload(tmp_path).client_settings()
    assert settings["heartbeat"] == 5 and settings["publisher_confirms"] is True
    assert settings["consumer_acks"] == "manual" and settings["retry_delay_s"] == 0.5
    assert "password" not in json.dumps(settings)


def test_a_consumed_message_counts_against_an_acknowledged_write(tmp_path):
    w = workload(tmp_path)
    ops = [{"seq": s, "kind": "write", "ok": True, "t0": 100.0 + s, "t1": 100.1 + s} for s in (1, 2, 3)]
    (tmp_path / harness.OPS_FILE).write_text("".join(json.dumps(o) + "\n" for o in ops))
    (tmp_path / rabbitmq_workload.CONSUMED_FILE).write_text('{"seq": 1}\n{"seq": 3}\n{"seq": 3}\n')
    report = harness.build_report(w, str(tmp_path), "kill", max_rto_s=10)
    assert report["lost"] == 1 and report["lost_sample"] == [2]
    assert report["duplicates"] == 1
    assert report["passed"] is False
