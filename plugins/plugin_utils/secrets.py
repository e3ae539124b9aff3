# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What makes a secret acceptable. Shared by the assert_secrets action (controller side) and its tests."""

from __future__ import annotations

# Values that ship as defaults somewhere, or that people type when in a hurry.
WELL_KNOWN_DEFAULTS = frozenset((
    "admin", "admin123", "administrator", "guest", "minioadmin", "password", "passw0rd",
    "postgres", "redis", "rabbitmq", "root", "secret", "changeme", "change_me", "letmein",
    "123456", "12345678", "123456789", "qwerty", "default", "test", "toor", "etcd",
    "patroni", "replicator", "pgbouncer", "prometheus", "grafana",
))


def secret_problem(name, value, min_length=16):
    """Return a sentence naming what is wrong with the secret, or None when it is acceptable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"secret '{name}' is empty"
    if not isinstance(value, str):
        return f"secret '{name}' must be a string, not {type(value).__name__}"
    lowered = value.strip().lower()
    if lowered in WELL_KNOWN_DEFAULTS or any(lowered == d * 2 for d in WELL_KNOWN_DEFAULTS):
        return f"secret '{name}' is a well-known default value"
    if len(value) < min_length:
        return f"secret '{name}' is {len(value)} characters long; it needs at least {min_length}"
    if len(set(value)) < 4:
        return f"secret '{name}' repeats too few distinct characters to be a real secret"
    return None
