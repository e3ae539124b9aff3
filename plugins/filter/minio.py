# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the MinIO tier: the erasure layout (validated on the controller) and metrics tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ansible_collections.cloudphone.infra.plugins.module_utils import minio_layout

# 2100-01-01T00:00:00Z: a fixed expiry keeps the token identical from run to run (no drift).
TOKEN_EXPIRY = 4102444800


def pool_args(pools, hosts, port, drive_root, drives_per_node):
    """The volume argument of every server pool.

    `pools` is minio_pools: dicts {hosts, drives} in expansion syntax, or volume strings. Empty
    means one pool of the group's `hosts` (numbered consecutively) with `drives_per_node` drives.
    """
    if not pools:
        count = int(drives_per_node)
        if count < 1:
            raise minio_layout.LayoutError(f"minio_drives_per_node must be 1 or more, got {drives_per_node}")
        drives = f"{drive_root.rstrip('/')}/disk" + ("1" if count == 1 else "{1..." + str(count) + "}")
        pools = [{"hosts": minio_layout.pattern_for(list(hosts or [])), "drives": drives}]
    args = []
    for index, pool in enumerate(pools, 1):
        if isinstance(pool, str):
            args.append(pool)
            continue
        if not isinstance(pool, dict) or not pool.get("hosts") or not str(pool.get("drives", "")).startswith("/"):
            raise minio_layout.LayoutError(
                f"minio_pools item {index} must be {{hosts: 'data{{1...4}}.example.com', drives: '/srv/minio/disk{{1...2}}'}}, "
                f"got {pool!r}")
        args.append(f"https://{pool['hosts']}:{int(port)}{pool['drives']}")
    return args


def minio_layout_check(pools, parity, hosts=None, port=9000, drive_root="/var/lib/minio", drives_per_node=1,
                       deployed=None):
    """Validate the server pools and return the layout, or {'error': <what to change>}.

    pools:    minio_pools (see pool_args)
    parity:   standard storage-class parity (EC:N)
    hosts:    FQDNs of the inventory group; every one must be in a pool, and nothing else
    deployed: the volume string of the running cluster ('' for a new one)
    """
    try:
        args = pool_args(pools, hosts, port, drive_root, drives_per_node)
        result = minio_layout.layout(args, int(parity))
        named = sorted({h for pool in result["pools"] for h in pool["hosts"]})
        if hosts is not None and named != sorted(set(hosts)):
            missing = sorted(set(hosts) - set(named))
            extra = sorted(set(named) - set(hosts))
            raise minio_layout.LayoutError(
                "minio_pools does not match the inventory group: "
                + (f"hosts in the group but in no pool: {', '.join(missing)}. " if missing else "")
                + (f"hosts in a pool but not in the group: {', '.join(extra)}. " if extra else "")
                + "Make the pools name exactly the group's hosts (by FQDN)")
        appended = minio_layout.check_unchanged((deployed or "").split(), args)
    except (minio_layout.LayoutError, ValueError, TypeError) as exc:
        return {"error": str(exc)}
    result["error"] = None
    result["pool_args"] = args
    result["new_pools"] = appended if deployed else []
    result["drives_by_host"] = drives_by_host(args)
    return result


def drives_by_host(pools):
    """{fqdn: [drive paths]} for every host of the pools."""
    from urllib.parse import urlsplit
    out = {}
    for arg in pools:
        for endpoint in minio_layout.expand(arg):
            url = urlsplit(endpoint)
            out.setdefault(url.hostname, []).append(url.path)
    return out


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def minio_prometheus_token(access_key, secret_key, expiry=TOKEN_EXPIRY):
    """The bearer token Prometheus sends to MinIO's metrics endpoints (what `mc admin prometheus
    generate` prints): an HS512 JWT with issuer "prometheus", signed with the user's secret key."""
    header = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = _b64(json.dumps({"exp": int(expiry), "iss": "prometheus", "sub": str(access_key)},
                             separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(str(secret_key).encode(), f"{header}.{claims}".encode(), hashlib.sha512).digest()
    return f"{header}.{claims}.{_b64(signature)}"


class FilterModule:
    def filters(self):
        return {
            "minio_layout": minio_layout_check,
            "minio_prometheus_token": minio_prometheus_token,
        }
