#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rgw_bucket
short_description: Keep an S3 bucket of the RADOS Gateway, its versioning and its bucket policy, with check mode and diff
description:
  - Talks S3 to a gateway as the bucket's owner (boto3), reads the bucket, its versioning and its policy, and changes
    only what differs.
  - Exists because M(amazon.aws.s3_bucket) (which has a C(ceph) mode) does not support check mode, so a drift
    check would skip it without a word.
  - The policy is compared as JSON, so key order and formatting never count as a change.
version_added: "0.2.0"
author: cloudphone.infra developers (@cloudphone)
options:
  name:
    description: Bucket name.
    type: str
    required: true
  endpoint_url:
    description: The gateway, for example C(https://198.18.60.11:7443).
    type: str
    required: true
  ca_bundle:
    description: CA certificate the gateway's certificate is checked against.
    type: path
  access_key:
    description: Access key id of the bucket's owner.
    type: str
    required: true
  secret_key:
    description: Secret key of the bucket's owner.
    type: str
    required: true
  versioning:
    description: Whether object versioning is enabled; left alone when omitted. A versioned bucket can only be suspended.
    type: bool
  policy:
    description: The bucket policy (a mapping); an empty mapping removes it; left alone when omitted.
    type: dict
  state:
    description: Whether the bucket exists. An absent bucket must be empty.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - python3-boto3 on the host the module runs on.
attributes:
  check_mode:
    description: Reports what it would create or change without doing it.
    support: full
  diff_mode:
    description: Existence, versioning and policy before and after.
    support: full
"""

EXAMPLES = r"""
- name: The APK upload bucket, versioned, writable by the upload user
  cloudphone.infra.rgw_bucket:
    name: apk-uploads
    endpoint_url: https://198.18.60.11:7443
    ca_bundle: /etc/cloudphone/pki/ca.crt
    access_key: "{{ owner_access_key }}"
    secret_key: "{{ owner_secret_key }}"
    versioning: true
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {AWS: ["arn:aws:iam:::user/apk-uploader"]}
          Action: ["s3:PutObject", "s3:GetObject"]
          Resource: ["arn:aws:s3:::apk-uploads/*"]
  no_log: true
"""

RETURN = r"""
bucket:
  description: The bucket after the run (what it would be, in check mode).
  returned: always
  type: dict
  sample: {"exists": true, "versioning": true, "policy": {"Version": "2012-10-17", "Statement": []}}
"""

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import boto3
    from botocore.client import Config
    from botocore.exceptions import ClientError
except ImportError:
    BOTO3_ERROR = traceback.format_exc()
else:
    BOTO3_ERROR = None


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def read_bucket(s3, name):
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return {"exists": False, "versioning": None, "policy": None}
        raise
    status = s3.get_bucket_versioning(Bucket=name).get("Status")
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise
        policy = {}
    return {"exists": True, "versioning": status == "Enabled", "policy": policy}


def canonical(policy):
    return json.dumps(policy or {}, sort_keys=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            endpoint_url=dict(type="str", required=True),
            ca_bundle=dict(type="path"),
            access_key=dict(type="str", required=True, no_log=False),
            secret_key=dict(type="str", required=True, no_log=True),
            versioning=dict(type="bool"),
            policy=dict(type="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    if BOTO3_ERROR:
        module.fail_json(msg=missing_required_lib("boto3 (Debian package python3-boto3)"), exception=BOTO3_ERROR)
    p = module.params
    name = p["name"]
    s3 = boto3.client("s3", endpoint_url=p["endpoint_url"], aws_access_key_id=p["access_key"],
                      aws_secret_access_key=p["secret_key"], region_name="us-east-1",
                      verify=p["ca_bundle"] or True,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                    connect_timeout=10, read_timeout=30, retries={"max_attempts": 2}))
    changed = False
    try:
        before = read_bucket(s3, name)
        after = dict(before)
        if p["state"] == "absent":
            if before["exists"]:
                changed = True
                after = {"exists": False, "versioning": None, "policy": None}
                if not module.check_mode:
                    s3.delete_bucket(Bucket=name)
        else:
            if not before["exists"]:
                changed = True
                after = {"exists": True, "versioning": False, "policy": {}}
                if not module.check_mode:
                    s3.create_bucket(Bucket=name)
            if p["versioning"] is not None and after["versioning"] != p["versioning"]:
                changed = True
                after["versioning"] = p["versioning"]
                if not module.check_mode:
                    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                        "Status": "Enabled" if p["versioning"] else "Suspended"})
            if p["policy"] is not None and canonical(after["policy"]) != canonical(p["policy"]):
                changed = True
                after["policy"] = p["policy"]
                if not module.check_mode:
                    if p["policy"]:
                        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(p["policy"]))
                    else:
                        s3.delete_bucket_policy(Bucket=name)
    except ClientError as exc:
        module.fail_json(msg=f"S3 {exc.operation_name} on bucket {name} failed: {error_code(exc)}: {exc}")
    except Exception as exc:  # pylint: disable=broad-exception-caught
        module.fail_json(msg=f"cannot reach the gateway {p['endpoint_url']}: {exc}")
    result = dict(changed=changed, bucket=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
