# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the monitoring tier."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    import bcrypt
except ImportError:  # reported when the filter is used
    bcrypt = None

# bcrypt cost of the web UI passwords: Prometheus and Alertmanager pay it on each request that is
# not in their auth cache.
BCRYPT_ROUNDS = 10


def bcrypt_hash(password, current_hash=None):
    """Return `current_hash` when it is a bcrypt hash of `password`, else a new bcrypt hash.

    Web configs hold bcrypt hashes. A fresh salt each run would rewrite the file every time, so the
    hash already installed is kept as long as it still matches the password."""
    if bcrypt is None:
        raise AnsibleFilterError("the bcrypt Python package is missing on the control node: run `make venv`")
    if not password:
        raise AnsibleFilterError("bcrypt_hash: the password is empty")
    secret = str(password).encode()
    if current_hash:
        try:
            if bcrypt.checkpw(secret, str(current_hash).encode()):
                return str(current_hash)
        except ValueError:
            pass  # not a bcrypt hash: replace it
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


class FilterModule:
    def filters(self):
        return {"bcrypt_hash": bcrypt_hash}
