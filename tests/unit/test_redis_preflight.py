"""site.yml refuses Redis inventories that cannot work, before any host is touched."""

import pytest
from test_preflight import make_inventory, refused_before_any_host, valid_secrets


def refused(tmp_path, extra_vars="", drop_sentinel=None):
    inv = make_inventory(tmp_path, {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    if extra_vars:
        (inv / "group_vars" / "all" / "zz_redis.yml").write_text("---\n" + extra_vars)
    if drop_sentinel:
        hosts = (inv / "hosts.yml").read_text()
        section = hosts.index("redis_sentinel:")
        line = f"        {drop_sentinel}:\n"
        hosts = hosts[:section] + hosts[section:].replace(line, "", 1)
        (inv / "hosts.yml").write_text(hosts)
    return refused_before_any_host(inv)


def test_quorum_larger_than_the_sentinels(tmp_path):
    out = refused(tmp_path, "redis_sentinel_quorum: 4\n")
    assert "redis_sentinel_quorum is 4 but the inventory group 'redis_sentinel' has 3 Sentinels" in out


def test_fewer_than_three_sentinels(tmp_path):
    out = refused(tmp_path, drop_sentinel="data3")
    assert "the inventory group 'redis_sentinel' has 2 (data1, data2)" in out


@pytest.mark.parametrize("name", ["cloud phone", "cloud,phone"])
def test_master_name_sentinel_rejects(tmp_path, name):
    out = refused(tmp_path, f"redis_master_name: '{name}'\n")
    assert f"'{name}'" in out and "letters, digits" in out
