# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The PostgreSQL drill client: numbered commits through HAProxy's read-write port and PgBouncer.

It connects exactly as the README tells the platform's services to (the settings below are
recorded in the report): a short connect timeout, TCP keepalives and a TCP user timeout so a
dead path is noticed in seconds, autocommit, and on any error a fresh connection after a short
pause. Nothing else retries: every commit the database acknowledged is one row to read back.
"""

from __future__ import annotations

from cloudphone_drill.harness import Workload

# The recommended client settings (README "Connecting to PostgreSQL"). libpq's minimum connect_timeout is 2.
CLIENT_DEFAULTS = {
    "connect_timeout": 2,
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 2,
    "tcp_user_timeout": 3000,
    "sslmode": "verify-full",
}
TABLE = "cloudphone_drill"


class PostgresqlWorkload(Workload):
    system = "postgresql"
    retry_delay_s = 0.1

    def __init__(self, options):
        super().__init__(options)
        import psycopg  # noqa: F401  (an ImportError becomes a clear message in the CLI)

        o = self.options
        self.retry_delay_s = float(o.get("retry_delay_s", self.retry_delay_s))
        self.settings = {k: o.get(k, v) for k, v in CLIENT_DEFAULTS.items()}
        self.conninfo = dict(self.settings, host=o["host"], port=int(o.get("port", 5432)), dbname=o["dbname"],
                             user=o["user"], password=o["password"], application_name="cloudphone-drill")
        if o.get("hostaddr"):
            self.conninfo["hostaddr"] = o["hostaddr"]
        if o.get("sslrootcert"):
            self.conninfo["sslrootcert"] = o["sslrootcert"]
        self.conn = None

    def client_settings(self):
        return dict(self.settings, retry_delay_s=self.retry_delay_s, autocommit=True,
                    path=f"{self.options['host']}:{self.options.get('port', 5432)} (HAProxy read-write -> PgBouncer)")

    def _connect(self):
        import psycopg

        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(autocommit=True, **self.conninfo)
        return self.conn

    def _drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # the connection is already broken; closing is best effort
                pass
        self.conn = None

    def prepare(self, run_id):
        super().prepare(run_id)
        conn = self._connect()
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (run_id text NOT NULL, seq bigint NOT NULL, "
                     "payload text NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), "
                     "PRIMARY KEY (run_id, seq))")

    def step(self, seq):
        try:
            self._connect().execute(f"INSERT INTO {TABLE} (run_id, seq, payload) VALUES (%s, %s, %s)",
                                    (self.run_id, seq, self.expected_value(seq)))
        except Exception:
            self._drop()
            raise

    def expected_value(self, seq):
        return f"{self.run_id}:{seq}"

    def read_back(self):
        import time

        # The read-back follows a failover: give the new leader a few tries.
        for attempt in range(10):
            try:
                return dict(self._connect().execute(f"SELECT seq, payload FROM {TABLE} WHERE run_id = %s",
                                                    (self.run_id,)).fetchall())
            except Exception:
                self._drop()
                if attempt == 9:
                    raise
                time.sleep(1)
        return {}

    def close(self):
        self._drop()
