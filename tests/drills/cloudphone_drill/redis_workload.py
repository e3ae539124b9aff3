# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Redis drill workload: a Sentinel-aware writer with the client settings the README recommends.

Each operation is `SET <prefix>:<run>:<seq> <seq>` followed by `WAIT <replicas> <ms>`; it counts as
acknowledged only when WAIT reports at least `replicas` copies. The settings below are the ones
the platform's services are told to use (README, "Redis clients"); the report records them.
"""

from __future__ import annotations

from cloudphone_drill import harness

# The recommended client settings (seconds unless named otherwise). Why each one:
# - Sentinel links: short timeouts and no library retry, discovery already walks every Sentinel.
# - Master link: socket_timeout bounds a frozen or vanished master (SIGSTOP, dead host); it must
#   exceed the longest command the service sends (here WAIT's timeout).
# - Library retries stay at 1: a retry inside one command reconnects to the *same* address
#   (redis-py does not ask Sentinel again until the pool hands out a connection), and connect
#   retries nest inside command retries, so more retries only lengthen the stall.
# - On a connection error, a timeout or NOREPLICAS the service drops the pool's connections so the
#   next command asks Sentinel for the master (a thawed old master answers NOREPLICAS, not an error
#   that would make redis-py reconnect).
RECOMMENDED = {
    "sentinel_socket_timeout": 0.5,
    "sentinel_socket_connect_timeout": 0.5,
    "socket_timeout": 1.0,
    "socket_connect_timeout": 0.5,
    "retries": 1,
    "retry_backoff_base": 0.05,
    "retry_backoff_cap": 0.5,
    "health_check_interval": 5,
    "wait_replicas": 1,
    "wait_timeout_ms": 500,
    "reset_pool_on": ["ConnectionError", "TimeoutError", "NOREPLICAS", "READONLY"],
}


class NotAcknowledged(Exception):
    """The write happened but too few replicas confirmed it."""


class RedisWorkload(harness.Workload):
    system = "redis"
    retry_delay_s = 0.1

    def __init__(self, options):
        super().__init__(options)
        from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
        from redis.retry import Retry
        from redis.sentinel import Sentinel

        o = self.options
        self.settings = {k: o.get(k, v) for k, v in RECOMMENDED.items()}
        s = self.settings
        self.name = o.get("master_name", "cloudphone")
        self.prefix = o.get("key_prefix", "drill")
        tls = {"ssl": True, "ssl_ca_certs": o["ca_file"]} if o.get("tls", True) else {}
        self._reset_errors = (RedisConnectionError, RedisTimeoutError)
        self.sentinel = Sentinel(
            [(h, int(p)) for h, p in (str(e).rsplit(":", 1) if ":" in str(e) else (e, 26379)
                                      for e in o["sentinels"])],
            sentinel_kwargs=dict(tls, username=o.get("sentinel_username"), password=o.get("sentinel_password"),
                                 socket_timeout=s["sentinel_socket_timeout"],
                                 socket_connect_timeout=s["sentinel_socket_connect_timeout"],
                                 retry=Retry(NoBackoff(), 0)),
            **tls)
        self.master = self.sentinel.master_for(
            self.name, username=o.get("username"), password=o.get("password"),
            socket_timeout=s["socket_timeout"], socket_connect_timeout=s["socket_connect_timeout"],
            retry=Retry(ExponentialWithJitterBackoff(cap=s["retry_backoff_cap"], base=s["retry_backoff_base"]),
                        s["retries"]),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=s["health_check_interval"], decode_responses=True)

    def client_settings(self):
        return dict(self.settings, library="redis-py", retry_delay_s=self.retry_delay_s)

    def key(self, seq):
        return f"{self.prefix}:{self.run_id}:{seq}"

    def step(self, seq):
        s = self.settings
        try:
            self.master.set(self.key(seq), seq)
            copies = self.master.wait(s["wait_replicas"], s["wait_timeout_ms"])
        except Exception as exc:
            if isinstance(exc, self._reset_errors) or any(code in str(exc) for code in ("NOREPLICAS", "READONLY")):
                self.master.connection_pool.disconnect()
            raise
        if copies < s["wait_replicas"]:
            raise NotAcknowledged(f"WAIT {s['wait_replicas']} {s['wait_timeout_ms']} returned {copies}")
        host, port = self.master.connection_pool.master_address
        return {"master": f"{host}:{port}"}

    def read_back(self):
        present = {}
        keys = list(self.master.scan_iter(match=f"{self.prefix}:{self.run_id}:*", count=1000))
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for key, value in zip(chunk, self.master.mget(chunk)):
                if value is not None:
                    present[int(key.rsplit(":", 1)[1])] = int(value)
        return present

    def expected_value(self, seq):
        return seq

    def extra_report(self, ops, events, present):
        masters = []
        for op in ops:
            if op.get("master") and (not masters or masters[-1] != op["master"]):
                masters.append(op["master"])
        return {"masters_seen": masters}

    def close(self):
        self.master.close()
        self.sentinel.close()
