# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# Apache License 2.0 (see galaxy.yml)

"""Filters for the monitoring roles: credentials in the forms Prometheus-style daemons want."""

from __future__ import annotations

import warnings

from ansible.errors import AnsibleFilterError

try:
    import bcrypt
except ImportError:  # reported when a filter is used
    bcrypt = None

try:
    import jwt
except ImportError:
    jwt = None

# bcrypt cost for web UI passwords; every HTTP request with basic auth pays it once per cache miss.
BCRYPT_ROUNDS = 10
# `mc admin prometheus generate` signs HS512 tokens with issuer "prometheus" valid for 100 years; a
# fixed expiry (2100-01-01) keeps the token, and so the file holding it, the same from run to run.
MINIO_TOKEN_EXPIRY = 4102444800


def _need(module, name):
    if module is None:
        raise AnsibleFilterError(f"the {name} Python package is missing on the control node: run `make venv`")


def bcrypt_hash(password, current_hash=None):
    """Return `current_hash` when it is a bcrypt hash of `password`, else a new bcrypt hash.

    Web configs need a bcrypt hash; a fresh salt each run would rewrite the file every time, so the
    hash already installed is kept as long as it still matches the password."""
    _need(bcrypt, "bcrypt")
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


def minio_prometheus_token(access_key, secret_key, expires=MINIO_TOKEN_EXPIRY):
    """The bearer token MinIO accepts on its metrics endpoints, as `mc admin prometheus generate`
    builds it: an HS512 JWT {iss: prometheus, sub: access key, exp} signed with the secret key."""
    _need(jwt, "PyJWT")
    if not access_key or not secret_key:
        raise AnsibleFilterError("minio_prometheus_token: the access key and the secret key are required")
    claims = {"iss": "prometheus", "sub": str(access_key), "exp": int(expires)}
    with warnings.catch_warnings():
        # MinIO's secret keys are shorter than the 64 bytes RFC 7518 suggests for HS512; MinIO decides.
        warnings.simplefilter("ignore")
        return jwt.encode(claims, str(secret_key), algorithm="HS512")


class FilterModule:
    def filters(self):
        return {"bcrypt_hash": bcrypt_hash, "minio_prometheus_token": minio_prometheus_token}
