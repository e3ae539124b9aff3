"""site.yml refuses an object tier (Ceph) that cannot work, before it touches any host.

Same method as test_preflight.py: the hosts point at a closed port on loopback, so reaching one
would show as UNREACHABLE instead of the expected refusal. The host-side refusals (a device that
is not a block device, a changed device list) are tested against the module itself below and on
real hosts by the Molecule scenario.
"""

import os

import pytest
import yaml

from ansible_collections.cloudphone.infra.plugins.modules import ceph_osd_raw
from module_run import run_module
from test_preflight import make_inventory, run_site, valid_secrets


def refused(tmp_path, extra_vars=None, edit_hosts=None):
    inv = make_inventory(tmp_path / "probe", {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    if extra_vars:
        with open(inv / "group_vars" / "all" / "zz_test.yml", "a") as fh:
            fh.write(yaml.safe_dump(extra_vars))
    if edit_hosts:
        hosts = yaml.safe_load((inv / "hosts.yml").read_text())
        edit_hosts(hosts["all"]["children"])
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    res = run_site(inv)
    assert res.returncode != 0
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
    return " ".join(res.stdout.split())


def drop(group, *hosts):
    def edit(children):
        for host in hosts:
            del children[group]["hosts"][host]
    return edit


def test_an_even_number_of_monitors_is_refused(tmp_path):
    out = refused(tmp_path, edit_hosts=drop("ceph_mon", "ops1"))
    assert "Ceph needs an odd number of monitors, at least 3" in out
    assert "'ceph_mon' has 4 (data1, data2, data3, data4)" in out


def test_fewer_than_three_monitors_are_refused(tmp_path):
    out = refused(tmp_path, edit_hosts=drop("ceph_mon", "ops1", "data4", "data3"))
    assert "Ceph needs an odd number of monitors, at least 3" in out
    assert "'ceph_mon' has 2 (data1, data2)" in out


def test_fewer_osd_hosts_than_k_plus_m_are_refused(tmp_path):
    # Three OSD hosts for k=2 m=2; the replicated size is lowered so that only k+m is wrong.
    out = refused(tmp_path, edit_hosts=drop("ceph_osd", "data4"),
                  extra_vars={"ceph_rgw_replicated_size": 3, "ceph_mon_pool_default_size": 3})
    assert "which needs k+m=4 OSD hosts" in out
    assert "'ceph_osd' (3: data1, data2, data3)" in out


def test_an_erasure_min_size_below_k_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"ceph_rgw_ec_min_size": 1})
    assert "ceph_rgw_ec_min_size (1) must be between k and k+m" in out


def test_a_replicated_size_larger_than_the_hosts_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"ceph_rgw_replicated_size": 5})
    assert "ceph_rgw_replicated_size (5) must not exceed the OSD hosts" in out


def test_a_pg_count_that_is_not_a_power_of_two_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"ceph_rgw_data_pg_num": 24})
    assert "PG counts must be powers of two; got 24" in out


def test_a_key_that_is_not_a_cephx_key_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"vault_ceph_mon_cephx_key": "NotACephxKeyButLongEnough123456"})
    assert "must be cephx keys" in out


def test_a_device_that_is_not_a_block_device_is_refused_before_any_change(tmp_path):
    not_a_device = tmp_path / "disk.img"
    not_a_device.write_bytes(b"\0" * 4096)
    code, result = run_module(ceph_osd_raw.main, {
        "devices": [str(not_a_device)], "fsid": "8e5a3b52-3f86-4a58-9d8f-3b1a0e8f0c11"})
    assert code == 1
    assert result["msg"] == f"OSD device {not_a_device} is not a block device on this host: fix ceph_osd_devices"


def test_a_missing_device_is_refused(tmp_path):
    code, result = run_module(ceph_osd_raw.main, {
        "devices": [os.path.join(str(tmp_path), "nothing")], "fsid": "8e5a3b52-3f86-4a58-9d8f-3b1a0e8f0c11"})
    assert code == 1
    assert "does not exist on this host" in result["msg"]
