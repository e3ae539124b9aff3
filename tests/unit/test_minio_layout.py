"""MinIO's erasure-layout rules, repeated on the controller (checked against the real server)."""

import base64
import hashlib
import hmac
import json

import pytest

from ansible_collections.cloudphone.infra.plugins.filter.minio import minio_layout_check, minio_prometheus_token
from ansible_collections.cloudphone.infra.plugins.module_utils import minio_layout as ml

HOSTS = [f"data{i}.lab.cloudphone.test" for i in range(1, 5)]


def test_expansion_order_is_minios():
    # MinIO varies the leftmost range fastest: drive 1 on every host, then drive 2...
    assert ml.expand("https://h{1...2}:9000/d{1...2}") == [
        "https://h1:9000/d1", "https://h2:9000/d1", "https://h1:9000/d2", "https://h2:9000/d2"]
    assert ml.expand("https://n{01...03}:9000/x") == ["https://n01:9000/x", "https://n02:9000/x", "https://n03:9000/x"]


# (hosts, drives per host) -> (sets, set size), as `minio server` formatted them (RELEASE.2025-10-15).
@pytest.mark.parametrize("hosts,drives,sets,size", [
    (3, 4, 1, 12), (5, 4, 2, 10), (4, 2, 1, 8), (6, 3, 3, 6), (7, 1, 1, 7), (3, 6, 2, 9), (4, 5, 5, 4),
    (2, 9, 3, 6), (4, 1, 1, 4),
])
def test_set_size_matches_the_server(hosts, drives, sets, size):
    result = ml.layout([f"https://h{{1...{hosts}}}:9000/d{{1...{drives}}}"], 1)
    assert (result["pools"][0]["sets"], result["pools"][0]["set_size"]) == (sets, size)


def test_four_nodes_ec2_reads_survive_two_writes_one():
    r = ml.layout(["https://data{1...4}.lab.cloudphone.test:9000/var/lib/minio/disk1"], 2)
    pool = r["pools"][0]
    assert (pool["read_quorum"], pool["write_quorum"]) == (2, 3)
    assert (r["read_tolerance_nodes"], r["write_tolerance_nodes"]) == (2, 1)
    assert "reads survive 2 of 4 nodes down, writes survive 1" in r["summary"]


def test_node_tolerance_counts_every_drive_a_node_holds():
    # 4 hosts x 2 drives, EC:4: one set of 8, each host holds 2 drives of it.
    r = ml.layout(["https://h{1...4}:9000/d{1...2}"], 4)
    assert (r["read_tolerance_nodes"], r["write_tolerance_nodes"]) == (2, 1)
    # A cluster is as tolerant as its least tolerant pool.
    r = ml.layout(["https://a{1...4}:9000/x", "https://b{1...4}:9000/x{1...2}"], 2)
    assert (r["read_tolerance_nodes"], r["write_tolerance_nodes"]) == (1, 1)


@pytest.mark.parametrize("pools,parity,message", [
    (["https://h{1...4}:9000/d1"], 3, "parity can be at most EC:2"),        # server: "parity 3 should be <= 2"
    (["https://h{1...4}:9000/d{1...2}"], 5, "parity can be at most EC:4"),
    (["https://h{1...17}:9000/d1"], 2, "cannot be split into erasure sets"),  # server: not divisible
    (["https://h1:9000/d1"], 1, "at least 2 drives"),
    (["https://h{1...4}:9000/d1"], 0, "keeps no redundancy"),
    (["https://h{1...4}:9000/d1", "https://h{1...4}:9000/d1"], 2, "every drive once"),
    (["https://h{4...1}:9000/d1"], 2, "starts after it ends"),
])
def test_impossible_layouts_are_refused(pools, parity, message):
    with pytest.raises(ml.LayoutError, match=message):
        ml.layout(pools, parity)


def test_default_pool_from_numbered_hosts():
    r = minio_layout_check([], 2, hosts=HOSTS)
    assert r["error"] is None
    assert r["volumes"] == "https://data{1...4}.lab.cloudphone.test:9000/var/lib/minio/disk1"
    r = minio_layout_check([], 4, hosts=HOSTS, drives_per_node=2, drive_root="/srv/minio")
    assert r["volumes"] == "https://data{1...4}.lab.cloudphone.test:9000/srv/minio/disk{1...2}"
    assert r["drives_by_host"]["data3.lab.cloudphone.test"] == ["/srv/minio/disk1", "/srv/minio/disk2"]


def test_unnumbered_hosts_need_explicit_pools():
    r = minio_layout_check([], 2, hosts=["db-1.x", "db-2.x", "obj-4.x", "db-3.x"])
    assert "set minio_pools explicitly" in r["error"]


def test_pools_must_name_exactly_the_group():
    r = minio_layout_check([{"hosts": "data{1...4}.lab.cloudphone.test", "drives": "/d1"}], 2, hosts=HOSTS[:3])
    assert "hosts in a pool but not in the group: data4.lab.cloudphone.test" in r["error"]


def test_changed_volume_list_is_refused_but_a_new_pool_is_not():
    deployed = minio_layout_check([], 2, hosts=HOSTS)["volumes"]
    r = minio_layout_check([], 2, hosts=HOSTS, drives_per_node=2, deployed=deployed)
    assert "MinIO cannot change the drives of an existing pool" in r["error"]
    assert "append a new pool" in r["error"]
    grown = [deployed, "https://data{5...8}.lab.cloudphone.test:9000/var/lib/minio/disk1"]
    r = minio_layout_check(grown, 2, hosts=HOSTS + [f"data{i}.lab.cloudphone.test" for i in range(5, 9)],
                           deployed=deployed)
    assert r["error"] is None and r["new_pools"] == grown[1:]
    r = minio_layout_check(grown[1:], 2, hosts=[f"data{i}.lab.cloudphone.test" for i in range(5, 9)],
                           deployed=deployed)
    assert "cannot change" in r["error"]


def test_prometheus_token_is_a_stable_hs512_jwt():
    token = minio_prometheus_token("monitoring", "s3cr3t-s3cr3t-s3cr3t")
    assert token == minio_prometheus_token("monitoring", "s3cr3t-s3cr3t-s3cr3t")
    header, claims, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header))) == {"alg": "HS512", "typ": "JWT"}
    body = json.loads(base64.urlsafe_b64decode(pad(claims)))
    assert body["iss"] == "prometheus" and body["sub"] == "monitoring" and body["exp"] > 4e9
    expected = hmac.new(b"s3cr3t-s3cr3t-s3cr3t", f"{header}.{claims}".encode(), hashlib.sha512).digest()
    assert base64.urlsafe_b64decode(pad(sig)) == expected
