"""Verify the object tier on real hosts: quorum, TLS, cephx refusals, the pools' layout, the bucket policy.

Runs twice: after the first idempotent converge, and after the side effect (a rolling restart of
every OSD host), so every check also holds after the restarts.
"""

import json
import os

import boto3
import testinfra.utils.ansible_runner
from botocore.client import Config
from botocore.exceptions import ClientError

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = ["data1"]
DOMAIN = "lab.cloudphone.test"
CA = "/etc/cloudphone/pki/ca.crt"
REPLICATED = [".rgw.root", "default.rgw.control", "default.rgw.meta", "default.rgw.log",
              "default.rgw.buckets.index", "default.rgw.buckets.non-ec", ".mgr"]


def ceph(host, *args):
    with host.sudo():
        return json.loads(host.check_output("ceph " + " ".join(args) + " --format json"))


def address(name):
    return RUNNER.get_variables(name)["ansible_host"]


def secret(name):
    return RUNNER.get_variables("data1")[name]


def test_five_monitors_in_quorum_and_every_osd_up(host):
    status = ceph(host, "status")
    assert sorted(status["quorum_names"]) == ["data1", "data2", "data3", "data4", "ops1"]
    assert status["osdmap"]["num_osds"] == status["osdmap"]["num_up_osds"] == status["osdmap"]["num_in_osds"] == 4
    assert status["health"]["status"] == "HEALTH_OK", status["health"]["checks"]
    flags = ceph(host, "osd", "dump")["flags"].split(",")
    assert "noout" not in flags


def test_bucket_data_is_erasure_coded_k2_m2_one_chunk_per_host(host):
    pools = {p["pool_name"]: p for p in ceph(host, "osd", "pool", "ls", "detail")}
    data = pools["default.rgw.buckets.data"]
    assert data["erasure_code_profile"] == "rgw-k2m2"
    assert (data["size"], data["min_size"], data["pg_num"]) == (4, 2, 32)
    profile = ceph(host, "osd", "erasure-code-profile", "get", "rgw-k2m2")
    assert (profile["k"], profile["m"], profile["crush-failure-domain"]) == ("2", "2", "host")
    for name in REPLICATED:
        assert (pools[name]["size"], pools[name]["min_size"]) == (4, 2), name
        assert pools[name]["pg_autoscale_mode"] == "off", name
    assert data["pg_autoscale_mode"] == "off"


def test_every_connection_is_msgr2_secure(host):
    with host.sudo():
        for option in ("ms_cluster_mode", "ms_service_mode", "ms_client_mode"):
            assert host.check_output(f"ceph config get osd {option}").strip() == "secure"
        assert host.check_output("ceph config get mon ms_bind_msgr1").strip() == "false"
    conf = host.file("/etc/ceph/ceph.conf").content_string
    assert "v1:" not in conf and "[v2:" in conf


def test_cephx_refuses_a_wrong_key_and_a_daemon_key_beyond_its_caps(host):
    with host.sudo():
        host.check_output("printf '[client.admin]\\n\\tkey = AQBMA1RpAAAAABAAVGVzdEtleVRlc3RLZXkxMg==\\n' "
                          "> /root/wrong.keyring && chmod 600 /root/wrong.keyring")
        wrong = host.run("timeout 30 ceph --connect-timeout 10 --name client.admin --keyring /root/wrong.keyring -s")
        host.check_output("rm -f /root/wrong.keyring")
        assert wrong.rc != 0
        assert "permission denied" in (wrong.stderr + wrong.stdout).lower() or "authenticate" in wrong.stderr.lower()
        # The gateway's own key may read and write its pools, but not change the cluster.
        rgw = host.run("timeout 30 ceph --name client.rgw.data1 --keyring /var/lib/ceph/radosgw/ceph-rgw.data1/keyring "
                       "osd pool set default.rgw.log size 3")
        assert rgw.rc != 0
        assert "access denied" in (rgw.stderr + rgw.stdout).lower()
        # Nor read a pool of another application (the managers' .mgr).
        other = host.run("timeout 30 rados --name client.rgw.data1 --keyring /var/lib/ceph/radosgw/ceph-rgw.data1/keyring "
                         "-p .mgr ls")
        assert "operation not permitted" in (other.stderr + other.stdout).lower(), (other.rc, other.stderr)
    # The admin keyring is on monitor hosts only, readable by root only.
    with host.sudo():
        keyring = host.file("/etc/ceph/ceph.client.admin.keyring")
        assert (keyring.user, keyring.mode) == ("root", 0o600)


def test_s3_answers_through_haproxy_over_verified_tls_only(host):
    ops = address("ops1")
    ok = host.run(f"curl -sS -o /dev/null -w '%{{http_code}}' --cacert {CA} "
                  f"--resolve s3.{DOMAIN}:443:{ops} https://s3.{DOMAIN}/")
    assert ok.stdout == "200", ok.stderr
    # Plain HTTP to a gateway is refused (its frontend speaks TLS only).
    plain = host.run(f"curl -sS -o /dev/null -w '%{{http_code}}' --max-time 5 http://{address('data2')}:7443/")
    assert plain.stdout != "200"
    # A certificate not from the collection's CA is refused by a client that trusts another CA only.
    # (The hosts' system store holds the collection's CA, so it cannot play "another CA".)
    with host.sudo():
        host.check_output("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=another-ca "
                          "-keyout /root/another-ca.key -out /root/another-ca.crt 2>/dev/null")
        unverified = host.run(f"curl -sS -o /dev/null --cacert /root/another-ca.crt --capath /nonexistent "
                              f"--resolve s3.{DOMAIN}:443:{ops} https://s3.{DOMAIN}/")
        host.check_output("rm -f /root/another-ca.key /root/another-ca.crt")
    assert unverified.rc == 60, (unverified.rc, unverified.stderr)


def s3_client(endpoint, ca_file, user):
    """A boto3 client of one of the inventory's S3 users, run here on the control node: the keys stay
    in this process, never on a command line or in a file on a host."""
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=secret(f"vault_ceph_rgw_{user}_access_key"),
                        aws_secret_access_key=secret(f"vault_ceph_rgw_{user}_secret_key"), region_name="us-east-1",
                        verify=ca_file, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


def error_code(call):
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def test_the_upload_user_reaches_its_bucket_and_nothing_else(host, tmp_path):
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(host.file(CA).content_string)
    endpoint = f"https://{address('data1')}:7443"
    owner = s3_client(endpoint, str(ca_file), "platform")
    uploader = s3_client(endpoint, str(ca_file), "apk_uploader")
    if error_code(lambda: owner.head_bucket(Bucket="verify-other")) != "ok":
        owner.create_bucket(Bucket="verify-other")
    owner.put_object(Bucket="verify-other", Key="secret.txt", Body=b"not for the uploader")
    result = {
        "put_own": error_code(lambda: uploader.put_object(Bucket="apk-uploads", Key="verify/app.apk", Body=b"apk")),
        "get_own": error_code(lambda: uploader.get_object(Bucket="apk-uploads", Key="verify/app.apk")["Body"].read()),
        "list_own": error_code(lambda: uploader.list_objects_v2(Bucket="apk-uploads")),
        "get_other": error_code(lambda: uploader.get_object(Bucket="verify-other", Key="secret.txt")),
        "list_other": error_code(lambda: uploader.list_objects_v2(Bucket="verify-other")),
        "put_other": error_code(lambda: uploader.put_object(Bucket="verify-other", Key="x", Body=b"x")),
        "create_bucket": error_code(lambda: uploader.create_bucket(Bucket="verify-uploader-bucket")),
    }
    versioning = owner.get_bucket_versioning(Bucket="apk-uploads").get("Status")
    assert result["put_own"] == result["get_own"] == result["list_own"] == "ok", result
    assert result["get_other"] == result["list_other"] == result["put_other"] == "AccessDenied", result
    assert result["create_bucket"] in ("TooManyBuckets", "AccessDenied"), result
    assert versioning == "Enabled"
