#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_pool
short_description: Create a Ceph pool with explicit placement groups, size and application, or bring it back to them
description:
  - Reads the pool (C(ceph osd pool ls detail)) and changes only what differs, one C(ceph osd pool set) at a time.
  - A replicated pool gets O(size) and O(min_size); an erasure-coded pool gets the profile O(erasure_profile)
    (created when missing, k, m and failure domain compared when present) and O(min_size). The autoscaler is
    turned off on the pool, so O(pg_num) stays what the inventory says.
  - The type and the erasure-code profile of an existing pool cannot change; the module refuses instead.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
extends_documentation_fragment:
  - cloudphone.infra.ceph
options:
  name:
    description: Pool name.
    type: str
    required: true
  type:
    description: Replicated or erasure coded.
    type: str
    choices: [replicated, erasure]
    default: replicated
  pg_num:
    description: Placement groups (and placement groups for placement); a power of two.
    type: int
    required: true
  size:
    description: Copies of a replicated pool. Ignored for an erasure-coded pool (its size is k+m).
    type: int
    default: 3
  min_size:
    description: Copies (or shards) a placement group needs to accept I/O.
    type: int
    required: true
  erasure_profile:
    description: The erasure-code profile of an erasure-coded pool.
    type: dict
    suboptions:
      name:
        description: Profile name.
        type: str
        required: true
      k:
        description: Data chunks.
        type: int
        required: true
      m:
        description: Coding chunks.
        type: int
        required: true
      failure_domain:
        description: CRUSH failure domain of the chunks.
        type: str
        default: host
  application:
    description: The application the pool is enabled for (C(rgw), C(mgr), C(rbd), ...).
    type: str
    default: rgw
requirements:
  - The C(ceph) command (package ceph-common) and an administrator's keyring.
attributes:
  check_mode:
    description: Reports what it would create or set without doing it.
    support: full
  diff_mode:
    description: The pool's settings before and after.
    support: full
"""

EXAMPLES = r"""
- name: Bucket data, erasure coded over four hosts
  cloudphone.infra.ceph_pool:
    name: default.rgw.buckets.data
    type: erasure
    pg_num: 32
    min_size: 2
    erasure_profile: {name: rgw-k2m2, k: 2, m: 2, failure_domain: host}

- name: Bucket index, four copies
  cloudphone.infra.ceph_pool:
    name: default.rgw.buckets.index
    pg_num: 16
    size: 4
    min_size: 2
"""

RETURN = r"""
pool:
  description: The pool's settings after the run (what they would be, in check mode).
  returned: always
  type: dict
  sample: {"type": "erasure", "pg_num": 32, "size": 4, "min_size": 2, "application": "rgw", "autoscale": "off"}
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloudphone.infra.plugins.module_utils.ceph import (
    CEPH_COMMON_ARGS, CephCLI, CephError)

POOL_TYPES = {1: "replicated", 3: "erasure"}


def state_of(pool):
    return {
        "type": POOL_TYPES.get(pool.get("type"), str(pool.get("type"))),
        "pg_num": pool.get("pg_num"),
        "pgp_num": pool.get("pg_placement_num"),
        "size": pool.get("size"),
        "min_size": pool.get("min_size"),
        "application": sorted((pool.get("application_metadata") or {}).keys()),
        "autoscale": pool.get("pg_autoscale_mode"),
        "erasure_profile": pool.get("erasure_code_profile") or None,
    }


def wanted_state(p):
    profile = p["erasure_profile"]
    erasure = p["type"] == "erasure"
    return {
        "type": p["type"],
        "pg_num": p["pg_num"],
        "pgp_num": p["pg_num"],
        "size": profile["k"] + profile["m"] if erasure else p["size"],
        "min_size": p["min_size"],
        "application": [p["application"]],
        "autoscale": "off",
        "erasure_profile": profile["name"] if erasure else None,
    }


def retry_enoent(cli, *args):
    """A change to a pool created a moment ago: a monitor that has not seen it yet answers ENOENT."""
    for attempt in range(10):
        try:
            return cli.do(*args)
        except CephError as exc:
            if "ENOENT" not in (exc.err or "") or attempt == 9:
                raise
            time.sleep(1)


def fresh_state(module, cli, name, wanted, answer):
    """The pool's live state; a pool created a moment ago may take a few seconds to show on every monitor."""
    if module.check_mode and name not in cli.pools():
        return dict(wanted, autoscale=None, application=[], pg_num=None, pgp_num=None, min_size=None,
                    size=None if wanted["type"] == "replicated" else wanted["size"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pools = cli.pools()
        if name in pools:
            return state_of(pools[name])
        time.sleep(1)
    module.fail_json(msg=f"pool {name} does not exist 30 s after its creation; Ceph answered: {answer.strip() or 'nothing'}")


def ensure_profile(module, cli, profile):
    """Create the erasure-code profile, or refuse one whose k, m or failure domain differ."""
    wanted = {"k": str(profile["k"]), "m": str(profile["m"]), "crush-failure-domain": profile["failure_domain"]}
    rc, live = cli.run(["osd", "erasure-code-profile", "get", profile["name"]], ok_rcs=(0, 2))
    if rc == 0 and live:
        differ = {k: (live.get(k), v) for k, v in wanted.items() if live.get(k) != v}
        if differ:
            module.fail_json(msg=f"erasure-code profile {profile['name']} exists with other settings "
                                 f"{differ} (live, wanted); a profile in use cannot change: name a new one")
        return False
    if not module.check_mode:
        cli.do("osd", "erasure-code-profile", "set", profile["name"], *[f"{k}={v}" for k, v in wanted.items()])
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", choices=["replicated", "erasure"], default="replicated"),
            pg_num=dict(type="int", required=True),
            size=dict(type="int", default=3),
            min_size=dict(type="int", required=True),
            erasure_profile=dict(type="dict", options=dict(
                name=dict(type="str", required=True),
                k=dict(type="int", required=True),
                m=dict(type="int", required=True),
                failure_domain=dict(type="str", default="host"),
            )),
            application=dict(type="str", default="rgw"),
            **CEPH_COMMON_ARGS),
        required_if=[("type", "erasure", ["erasure_profile"])],
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    if p["pg_num"] < 1 or p["pg_num"] & (p["pg_num"] - 1):
        module.fail_json(msg=f"pg_num of pool {name} must be a power of two, got {p['pg_num']}")
    cli = CephCLI.from_params(module)
    wanted = wanted_state(p)
    changed = False
    answer = ""
    try:
        pools = cli.pools()
        if name in pools:
            before = state_of(pools[name])
            if before["type"] != wanted["type"] or before["erasure_profile"] != wanted["erasure_profile"]:
                module.fail_json(msg=f"pool {name} is {before['type']} (profile {before['erasure_profile']}), the "
                                     f"inventory wants {wanted['type']} (profile {wanted['erasure_profile']}); "
                                     "a pool's type and profile cannot change: migrate its data to a new pool")
        else:
            before = None
            if p["type"] == "erasure":
                ensure_profile(module, cli, p["erasure_profile"])
            changed = True
            if not module.check_mode:
                create = ["osd", "pool", "create", name, str(p["pg_num"]), str(p["pg_num"]), p["type"]]
                if p["type"] == "erasure":
                    create.append(p["erasure_profile"]["name"])
                # Off from the start, so the autoscaler never resizes the new pool. Ceph reserves names
                # that begin with a dot (.rgw.root, .mgr) and refuses them, with exit code 0, unless told.
                create.append("--autoscale-mode=off")
                if name.startswith("."):
                    create.append("--yes-i-really-mean-it")
                cli.run(create, fmt_json=False)
                answer = cli.last_err
        current = fresh_state(module, cli, name, wanted, answer)
        settings = [("pg_autoscale_mode", "autoscale", "off")]
        if p["type"] == "replicated":
            settings.append(("size", "size", wanted["size"]))
        settings += [("min_size", "min_size", wanted["min_size"]), ("pg_num", "pg_num", wanted["pg_num"]),
                     ("pgp_num", "pgp_num", wanted["pgp_num"])]
        for option, key, value in settings:
            if current[key] != value:
                changed = True
                if not module.check_mode:
                    retry_enoent(cli, "osd", "pool", "set", name, option, str(value))
        if p["application"] not in current["application"]:
            changed = True
            if not module.check_mode:
                retry_enoent(cli, "osd", "pool", "application", "enable", name, p["application"])
        after = wanted if module.check_mode else state_of(cli.pools()[name])
    except CephError as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=changed, pool=after)
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
