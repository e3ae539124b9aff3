#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ceph_osd_raw
short_description: Prepare BlueStore OSDs on raw block devices that ceph-volume does not know yet
description:
  - Reads the OSDs of this host from C(ceph-volume raw list) and runs C(ceph-volume raw prepare --bluestore --data)
    only on the devices it does not list. Raw mode needs no device-mapper (no LVM, no dm-crypt).
  - Refuses, before any change, a device path that is not a block device, an OSD of this cluster on a device the
    list no longer names (a changed device list; remove the OSD with Ceph's own procedure first), and a device that
    holds an OSD of another cluster.
  - Returns every OSD of the devices with its id and uuid, which the activation unit needs.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
options:
  devices:
    description: Block devices that hold one OSD each (by C(/dev/disk/by-id/) path on real disks).
    type: list
    elements: path
    required: true
  fsid:
    description: The cluster's fsid; an OSD of another cluster on a device is refused.
    type: str
    required: true
  timeout:
    description: Seconds one ceph-volume call may take.
    type: int
    default: 300
requirements:
  - ceph-volume and udev on the target, and the bootstrap-osd keyring in /var/lib/ceph/bootstrap-osd/.
attributes:
  check_mode:
    description: Reports the devices it would prepare without preparing them.
    support: full
  diff_mode:
    description: The devices with an OSD before and after.
    support: full
"""

EXAMPLES = r"""
- name: One OSD per data disk
  cloudphone.infra.ceph_osd_raw:
    devices:
      - /dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNE0R123456
    fsid: 8e5a3b52-3f86-4a58-9d8f-3b1a0e8f0c11
"""

RETURN = r"""
osds:
  description: The OSDs on the devices (those it would prepare appear with a null id and uuid in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"device": "/dev/loop3", "osd_id": 0, "osd_uuid": "5c1f..."}]
prepared:
  description: The devices prepared by this run.
  returned: always
  type: list
  elements: str
"""

import json
import os
import stat

from ansible.module_utils.basic import AnsibleModule


def raw_list(module):
    rc, out, err = module.run_command(["timeout", str(module.params["timeout"]), "ceph-volume", "raw", "list",
                                       "--format", "json"])
    if rc != 0:
        module.fail_json(msg=f"ceph-volume raw list failed ({rc}): {err.strip() or out.strip()}")
    try:
        doc = json.loads(out) if out.strip() else {}
    except ValueError:
        module.fail_json(msg="ceph-volume raw list did not answer JSON", stdout=out)
    return {os.path.realpath(osd["device"]): osd for osd in doc.values()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type="list", elements="path", required=True),
            fsid=dict(type="str", required=True),
            timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    p = module.params
    devices = {}
    for path in p["devices"]:
        real = os.path.realpath(path)
        try:
            mode = os.stat(real).st_mode
        except OSError as exc:
            module.fail_json(msg=f"OSD device {path} does not exist on this host ({exc.strerror}): fix ceph_osd_devices")
        if not stat.S_ISBLK(mode):
            module.fail_json(msg=f"OSD device {path} is not a block device on this host: fix ceph_osd_devices")
        devices[real] = path
    known = raw_list(module)
    ours = {dev: osd for dev, osd in known.items() if osd.get("ceph_fsid") == p["fsid"]}
    for dev, osd in known.items():
        if dev in devices and osd.get("ceph_fsid") != p["fsid"]:
            module.fail_json(msg=f"device {devices[dev]} holds osd.{osd.get('osd_id')} of another cluster "
                                 f"({osd.get('ceph_fsid')}); wipe it yourself if it is really free")
    dropped = sorted(f"osd.{osd['osd_id']} on {dev}" for dev, osd in ours.items() if dev not in devices)
    if dropped:
        module.fail_json(msg=f"{', '.join(dropped)} belong(s) to this cluster but ceph_osd_devices no longer lists the "
                             "device: the device list of an existing OSD changed. Put it back, or take the OSD out and "
                             "destroy it with Ceph's procedure before removing the device from the inventory.")
    prepared = []
    for real, path in devices.items():
        if real in ours:
            continue
        prepared.append(path)
        if module.check_mode:
            continue
        rc, out, err = module.run_command(["timeout", str(p["timeout"]), "ceph-volume", "raw", "prepare",
                                           "--bluestore", "--data", real])
        if rc != 0:
            module.fail_json(msg=f"ceph-volume raw prepare --data {path} failed ({rc})", stdout=out, stderr=err)
    if prepared and not module.check_mode:
        ours = {dev: osd for dev, osd in raw_list(module).items() if osd.get("ceph_fsid") == p["fsid"]}
    osds = []
    for real, path in devices.items():
        osd = ours.get(real, {})
        osds.append(dict(device=path, osd_id=osd.get("osd_id"), osd_uuid=osd.get("osd_uuid")))
    result = dict(changed=bool(prepared), osds=osds, prepared=prepared)
    if module._diff:
        result["diff"] = dict(before=dict(devices=sorted(d for d in devices.values() if d not in prepared)),
                              after=dict(devices=sorted(devices.values())))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
