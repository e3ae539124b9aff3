# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Talking to a MinIO cluster from the control node: S3 and admin API over TLS.

Every module of the MinIO tier connects the same way: a list of node endpoints
(`host:port`), the root (or an admin) key pair, and the collection's CA. Calls
go to the first node that answers and move on to the next one when a node is
unreachable, so the modules keep working while a node is down.

The `minio` Python library (MinioAdmin) covers users, policies and server
info. The few admin calls it lacks (healing) are signed here with the
library's own SigV4 signer; nothing shells out to `mc`.
"""

from __future__ import annotations

import copy
import json
import time

try:
    import urllib3
except ImportError:  # reported with the minio library below
    urllib3 = None

try:
    from minio import Minio
    from minio.commonconfig import ENABLED
    from minio.credentials import Credentials, StaticProvider
    from minio.error import MinioAdminException, S3Error, ServerError
    from minio.helpers import queryencode, sha256_hash
    from minio.minioadmin import MinioAdmin
    from minio.signer import sign_v4_s3
    from minio.time import to_amz_date, utcnow
    from minio.versioningconfig import SUSPENDED, VersioningConfig

    HAS_MINIO = urllib3 is not None
    MINIO_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with fail_json
    HAS_MINIO = False
    MINIO_IMPORT_ERROR = exc
    ENABLED, SUSPENDED = "Enabled", "Suspended"

    class MinioAdminException(Exception):
        """Stand-in so that `except` clauses work without the library."""

    class S3Error(Exception):
        """Stand-in so that `except` clauses work without the library."""

    class ServerError(Exception):
        """Stand-in so that `except` clauses work without the library."""

# Re-exported for the modules and the drill workload.
__all__ = ["ENABLED", "SUSPENDED", "VersioningConfig", "MinioAdminException", "S3Error", "ServerError",
           "urllib3", "Connection", "AdminError", "Unreachable"]

from urllib.parse import urlsplit

LIBRARY_HINT = ("the Python library 'minio' is missing on the control node; "
                "install the controller requirements (make venv) or run with that interpreter")


def connection_argument_spec():
    """Options every MinIO module takes (merge into its argument_spec)."""
    return dict(
        endpoints=dict(type="list", elements="str", required=True),
        access_key=dict(type="str", required=True, no_log=True),
        secret_key=dict(type="str", required=True, no_log=True),
        ca_file=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=60),
    )


class Unreachable(Exception):
    """No endpoint answered."""


class Connection:
    """S3 and admin clients for a cluster, failing over between its nodes."""

    def __init__(self, endpoints, access_key, secret_key, ca_file=None, validate_certs=True, timeout=60,
                 connect_timeout=3, secure=True):
        if not HAS_MINIO:
            raise ImportError(LIBRARY_HINT)
        if not endpoints:
            raise ValueError("no MinIO endpoint given")
        self.endpoints = list(endpoints)
        self.access_key = access_key
        self.secret_key = secret_key
        self.secure = secure
        # No transparent retries: a dead node must fail fast so the next one is tried.
        self.http = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED" if validate_certs else "CERT_NONE",
            ca_certs=ca_file if validate_certs else None,
            timeout=urllib3.Timeout(connect=connect_timeout, read=timeout),
            retries=urllib3.Retry(total=0, redirect=0),
        )
        self.region = "us-east-1"   # MinIO's default region
        self._s3 = {}
        self.preferred = 0          # index of the last endpoint that answered
        self.unreachable = {}       # endpoint -> last connection error

    def as_user(self, access_key, secret_key):
        """The same cluster and TLS settings, signed with another key pair."""
        clone = copy.copy(self)
        clone.access_key, clone.secret_key, clone.unreachable, clone._s3 = access_key, secret_key, {}, {}
        return clone

    # ---------------------------------------------------------------- failover

    def _order(self):
        n = len(self.endpoints)
        return [self.endpoints[(self.preferred + i) % n] for i in range(n)]

    def call(self, fn):
        """Run fn(endpoint) on the first endpoint that answers; S3/admin errors are answers."""
        errors = []
        for endpoint in self._order():
            try:
                result = fn(endpoint)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self.unreachable[endpoint] = f"{type(exc).__name__}: {exc}"
                errors.append(f"{endpoint}: {type(exc).__name__}")
                continue
            self.preferred = self.endpoints.index(endpoint)
            self.unreachable.pop(endpoint, None)
            return result
        raise Unreachable("no MinIO node answered (" + "; ".join(errors) + ")")

    def s3(self, endpoint=None):
        # One client per node, with the region set: no bucket-location lookup before each call
        # (an extra request that stalls like any other while a peer has just died).
        endpoint = endpoint or self.endpoints[self.preferred]
        key = (endpoint, self.access_key)
        if key not in self._s3:
            self._s3[key] = Minio(endpoint, access_key=self.access_key, secret_key=self.secret_key,
                                  secure=self.secure, region=self.region, http_client=self.http)
        return self._s3[key]

    def admin(self, endpoint=None):
        return MinioAdmin(endpoint=endpoint or self.endpoints[self.preferred],
                          credentials=StaticProvider(self.access_key, self.secret_key),
                          secure=self.secure, http_client=self.http)

    # ---------------------------------------------------------------- raw calls

    def url(self, endpoint, path):
        return f"{'https' if self.secure else 'http'}://{endpoint}{path}"

    def health(self, endpoint, path):
        """GET a health endpoint; returns (status, headers). Unauthenticated by design."""
        resp = self.http.request("GET", self.url(endpoint, path), preload_content=True)
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}

    def admin_api(self, endpoint, method, path, query=None, body=b""):
        """A signed call to /minio/admin/v3/<path> for the commands MinioAdmin does not offer."""
        pairs = sorted((query or {}).items())
        query_string = "&".join(f"{queryencode(k)}={queryencode(str(v))}" for k, v in pairs)
        url = urlsplit(self.url(endpoint, "/minio/admin/v3/" + path) + ("?" + query_string if query_string else ""))
        date = utcnow()
        content_sha256 = sha256_hash(body)
        headers = {"Host": url.netloc, "x-amz-date": to_amz_date(date), "x-amz-content-sha256": content_sha256}
        headers = sign_v4_s3(method=method, url=url, region="", headers=headers,
                             credentials=Credentials(self.access_key, self.secret_key),
                             content_sha256=content_sha256, date=date)
        resp = self.http.request(method, url.geturl(), body=body or None, headers=headers)
        data = resp.data
        if resp.status >= 300:
            raise AdminError(resp.status, data)
        return json.loads(data) if data else None


class AdminError(Exception):
    """An admin API error answer (not a connection problem)."""

    def __init__(self, status, body):
        self.status = status
        try:
            doc = json.loads(body)
        except (TypeError, ValueError):
            doc = {}
        self.code = doc.get("Code", "")
        self.message = doc.get("Message", body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))
        super().__init__(f"{status} {self.code}: {self.message}")


def admin_error(exc):
    """(status, code, message) of a MinioAdminException or AdminError."""
    if isinstance(exc, AdminError):
        return exc.status, exc.code, exc.message
    status = getattr(exc, "_code", None)
    try:
        status = int(status)
    except (TypeError, ValueError):
        pass
    body = getattr(exc, "_body", "") or ""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    return status, doc.get("Code", ""), doc.get("Message", body)


# ---------------------------------------------------------------- healing

def heal(conn, bucket, dry_run, prefix="", timeout_s=600, poll_s=1.0):
    """Run an admin heal sequence over `bucket` (like `mc admin heal -r`) and wait for it.

    Returns {"summary", "items", "objects", "needed_heal", "healed", "remaining", "seconds"}:
    `needed_heal` counts objects with a drive not "ok" before, `remaining` those still not
    all "ok" after (for a dry run: the same objects).
    """
    opts = json.dumps({"recursive": True, "dryRun": bool(dry_run), "scanMode": 1}).encode()
    path = f"heal/{bucket}" + (f"/{prefix}" if prefix else "")
    started = time.monotonic()

    def start(endpoint):
        return endpoint, conn.admin_api(endpoint, "POST", path, {"forceStart": "true"}, opts)

    endpoint, first = conn.call(start)
    token = first["clientToken"]
    items, status = [], {}
    while time.monotonic() - started < timeout_s:
        time.sleep(poll_s)
        status = conn.admin_api(endpoint, "POST", path, {"clientToken": token}, opts) or {}
        items += status.get("Items") or []
        if status.get("Summary") != "running":
            break
    objects = [i for i in items if i.get("type") == "object"]

    def all_ok(side):
        drives = (side or {}).get("drives") or []
        return bool(drives) and all(d.get("state") == "ok" for d in drives)

    needed = [i for i in objects if not all_ok(i.get("before"))]
    remaining = [i for i in objects if not all_ok(i.get("after"))]
    return {
        "summary": status.get("Summary"),
        "failure": status.get("FailureDetail") or status.get("Detail"),
        "objects": len(objects),
        "needed_heal": len(needed),
        "healed": len(needed) - len([i for i in needed if not all_ok(i.get("after"))]) if not dry_run else 0,
        "remaining": len(remaining),
        "remaining_sample": [i.get("object") for i in remaining[:10]],
        "seconds": round(time.monotonic() - started, 3),
    }


# ---------------------------------------------------------------- cluster state

def _node_name(endpoint):
    """`https://data1.example:9000/srv/disk1` or `data1.example:9000` -> `data1.example:9000`."""
    if "://" in endpoint:
        return urlsplit(endpoint).netloc
    return endpoint


def evaluate(report, info, quorum, heal_status, reachable, expected_nodes=None, expected_parity=None):
    """Turn what the cluster said into the tier's facts, recording problems on `report`.

    info:        MinioAdmin.info() as a dict (None when the admin API did not answer)
    quorum:      {"write": (status, quorum), "read": (status, quorum)} from the health endpoints
    heal_status: background-heal/status as a dict (None when unavailable)
    reachable:   {endpoint: bool} as seen from the control node (/minio/health/live)
    """
    facts = {"reachable": reachable}
    for endpoint, ok in sorted(reachable.items()):
        report.require(ok, f"{endpoint} does not answer /minio/health/live from the control node: "
                           "check that minio.service runs there (systemctl status minio) and the network")

    write_status, write_quorum = quorum.get("write", (None, None))
    read_status, read_quorum = quorum.get("read", (None, None))
    facts["quorum"] = {"write": write_quorum, "read": read_quorum,
                       "write_ok": write_status == 200, "read_ok": read_status == 200}
    report.require(write_status == 200, "the cluster has lost write quorum (/minio/health/cluster is not 200): "
                                        "uploads fail until enough nodes/drives are back online")
    report.require(read_status == 200, "the cluster has lost read quorum (/minio/health/cluster/read is not 200): "
                                       "downloads fail until enough nodes/drives are back online")

    if info is None:
        report.problem("the admin API did not answer on any node; server and drive states are unknown")
        return facts

    servers = info.get("servers") or []
    online = sorted(s["endpoint"] for s in servers if s.get("state") == "online")
    offline = sorted(s["endpoint"] for s in servers if s.get("state") != "online")
    facts["nodes"] = {"online": online, "offline": offline, "total": len(servers)}
    for node in offline:
        report.problem(f"MinIO node {node} is offline: start minio.service there or replace the host")
    if expected_nodes is not None:
        report.expect_members("MinIO nodes", [_node_name(n) for n in expected_nodes], [s["endpoint"] for s in servers])

    drives = []
    for server in servers:
        for d in server.get("drives") or []:
            drives.append({"endpoint": d.get("endpoint"), "state": d.get("state"), "healing": bool(d.get("healing")),
                           "pool": d.get("pool_index"), "set": d.get("set_index")})
    drives.sort(key=lambda d: d["endpoint"] or "")
    bad = [d for d in drives if d["state"] != "ok"]
    facts["drives"] = {"total": len(drives), "online": len(drives) - len(bad), "offline": len(bad),
                       "list": drives}
    for d in bad:
        if d["endpoint"] and _node_name(d["endpoint"]) not in offline:
            report.problem(f"drive {d['endpoint']} is {d['state']}: check the disk and its mount on that host")

    healing_drives = sorted({d["endpoint"] for d in drives if d["healing"]} |
                            {h.get("endpoint") for h in ((heal_status or {}).get("HealDisks") or [])
                             if isinstance(h, dict)} |
                            {h for h in ((heal_status or {}).get("HealDisks") or []) if isinstance(h, str)})
    facts["healing"] = {"in_progress": bool(healing_drives), "drives": healing_drives}
    if healing_drives:
        report.problem(f"healing in progress on {', '.join(healing_drives)}: "
                       "redundancy is reduced until it finishes; wait before taking another node down")

    backend = info.get("backend") or {}
    facts["layout"] = {
        "backend": backend.get("backendType"),
        "pools": len(backend.get("totalSets") or []),
        "sets": backend.get("totalSets") or [],
        "drives_per_set": backend.get("totalDrivesPerSet") or [],
        "standard_parity": backend.get("standardSCParity"),
        "rrs_parity": backend.get("rrSCParity"),
    }
    if expected_parity is not None and backend.get("standardSCParity") not in (None, expected_parity):
        report.problem(f"the cluster runs with standard parity EC:{backend.get('standardSCParity')} but "
                       f"EC:{expected_parity} is configured: a node still has the old setting, restart it")
    versions = sorted({s.get("version") for s in servers if s.get("version")})
    commits = sorted({s.get("commitID") for s in servers if s.get("commitID")})
    facts["versions"] = versions
    facts["commits"] = commits
    if len(versions) > 1 or len(commits) > 1:
        report.problem(f"nodes run different MinIO builds ({', '.join(versions)}): finish the rolling upgrade")
    facts["deployment_id"] = info.get("deploymentID")
    facts["mode"] = info.get("mode")
    return facts


# ---------------------------------------------------------------- module plumbing

def connect(module):
    """A Connection from the module's connection options, or fail_json saying what is missing."""
    if not HAS_MINIO:
        module.fail_json(msg=LIBRARY_HINT, exception=str(MINIO_IMPORT_ERROR))
    p = module.params
    return Connection(p["endpoints"], p["access_key"], p["secret_key"], ca_file=p["ca_file"],
                      validate_certs=p["validate_certs"], timeout=p["timeout"])


def normalize_policy(statements):
    """A comparable form of a policy's statements (MinIO reorders lists and drops empty keys)."""
    out = []
    for st in statements or []:
        norm = {}
        for key, value in sorted(st.items()):
            if key == "Sid" and not value:
                continue
            if isinstance(value, str) and key in ("Action", "Resource", "NotAction", "NotResource"):
                value = [value]
            if isinstance(value, list):
                value = sorted(value)
            norm[key] = value
        out.append(norm)
    return sorted(out, key=lambda s: json.dumps(s, sort_keys=True))
