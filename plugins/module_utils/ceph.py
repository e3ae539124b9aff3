# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The `ceph` and `radosgw-admin` command-line tools, as the collection's Ceph modules use them.

Every call is bounded (`timeout`), asks for JSON, and never carries a secret: keys go to the
tools on their standard input (`ceph auth import -i -`, `radosgw-admin metadata put`), and the
tools read the caller's own key from its keyring file.
"""

from __future__ import annotations

import json

# The options every Ceph module accepts, to merge into its argument spec.
CEPH_COMMON_ARGS = dict(
    cluster=dict(type="str", default="ceph"),
    client_name=dict(type="str", default="client.admin"),
    keyring=dict(type="path"),
    timeout=dict(type="int", default=30),
)


class CephError(Exception):
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        super().__init__(f"{' '.join(argv)} failed ({rc}): {(err or out).strip()}")


def normalise(value):
    """A configuration value as Ceph prints it back: booleans lower-case, everything a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class CephCLI:
    """Run `ceph` (or `radosgw-admin`) as one cephx client, with a deadline."""

    def __init__(self, module, cluster="ceph", client_name="client.admin", keyring=None, timeout=30):
        self.module = module
        self.cluster = cluster
        self.client_name = client_name
        self.keyring = keyring
        self.timeout = timeout
        self.last_err = ""

    @classmethod
    def from_params(cls, module):
        p = module.params
        return cls(module, p["cluster"], p["client_name"], p["keyring"], p["timeout"])

    def _base(self, tool):
        argv = ["timeout", str(self.timeout + 5), tool, "--cluster", self.cluster, "--name", self.client_name]
        if self.keyring:
            argv += ["--keyring", self.keyring]
        if tool == "ceph":
            argv += ["--connect-timeout", str(self.timeout)]
        return argv

    def run(self, args, data=None, tool="ceph", fmt_json=True, ok_rcs=(0,)):
        """Run the tool; returns (rc, parsed output). Raises CephError for an rc not in ok_rcs."""
        argv = self._base(tool) + list(args)
        if fmt_json:
            argv += ["--format", "json"]
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None)
        # Some refusals exit 0 with only a message on stderr (a pool name Ceph reserves).
        self.last_err = err
        if rc not in ok_rcs:
            raise CephError(argv, rc, out, err)
        if fmt_json and rc == 0:
            try:
                return rc, json.loads(out) if out.strip() else None
            except ValueError:
                raise CephError(argv, rc, out, "output is not JSON")
        return rc, out

    def json(self, *args):
        return self.run(args)[1]

    def do(self, *args, data=None):
        """A command that changes something; its output is not needed."""
        return self.run(args, data=data, fmt_json=False)[1]

    # ------------------------------------------------------------ reads used by several modules

    def config_dump(self):
        """{(section, name): value} of the monitors' configuration database."""
        return {(e["section"], e["name"]): e["value"] for e in self.json("config", "dump")}

    def pools(self):
        """{pool name: `ceph osd pool ls detail` entry}."""
        return {p["pool_name"]: p for p in self.json("osd", "pool", "ls", "detail")}

    def auth_get(self, entity):
        """The entity's {key, caps}, or None when it does not exist (rc 2, ENOENT)."""
        rc, doc = self.run(["auth", "get", entity], ok_rcs=(0, 2))
        if rc != 0 or not doc:
            return None
        entry = doc[0] if isinstance(doc, list) else doc
        return {"key": entry.get("key"), "caps": dict(entry.get("caps") or {})}


def keyring_text(entity, key, caps=None):
    """A keyring file holding one entity's key (and its caps, for keyrings that seed a monitor)."""
    lines = [f"[{entity}]", f"\tkey = {key}"]
    for daemon, cap in sorted((caps or {}).items()):
        lines.append(f'\tcaps {daemon} = "{cap}"')
    return "\n".join(lines) + "\n"
