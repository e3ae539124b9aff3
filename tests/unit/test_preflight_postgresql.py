"""site.yml refuses a PostgreSQL tier that cannot work, before it touches any host.

Same harness as test_preflight.py: the hosts point at a closed port on loopback, so a
run that got past preflight would report them unreachable instead.
"""

import pytest
import yaml

from test_preflight import make_inventory, run_site, valid_secrets


def inventory_with(tmp_path, name, extra_vars=None, groups=None):
    base = make_inventory(tmp_path / "probe", {})
    inv = make_inventory(tmp_path / name, valid_secrets(base))
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    for group, members in (groups or {}).items():
        hosts["all"]["children"][group]["hosts"] = {h: None for h in members}
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    if extra_vars:
        # Settings of the postgresql group file itself are overridden there, not in all/.
        group_file = inv / "group_vars" / "postgresql.yml"
        group_vars = yaml.safe_load(group_file.read_text())
        for key in [k for k in extra_vars if k in group_vars]:
            group_vars[key] = extra_vars.pop(key)
        group_file.write_text(yaml.safe_dump(group_vars))
        (inv / "group_vars" / "all" / "zz_case.yml").write_text(yaml.safe_dump(extra_vars))
    return inv


CASES = {
    "timing rule": ({"patroni_ttl": 20, "patroni_loop_wait": 10, "patroni_retry_timeout": 6}, None,
                    "loop_wait + 2*retry_timeout <= ttl"),
    "ttl under Patroni's minimum": ({"patroni_ttl": 15, "patroni_loop_wait": 3, "patroni_retry_timeout": 5}, None,
                                    "patroni_ttl=15"),
    "two etcd members": (None, {"etcd": ["data1", "data2"]}, "etcd needs an odd number of members >= 3"),
    "four etcd members": (None, {"etcd": ["data1", "data2", "data3", "data4"]}, "odd number of members >= 3"),
    "one postgresql host": (None, {"postgresql": ["data1"]}, "needs at least 2 hosts in the inventory group 'postgresql'"),
    "unparsable replica lag": ({"haproxy_postgresql_max_replica_lag": "a lot"}, None, "haproxy_postgresql_max_replica_lag"),
    "user without password variable": ({"postgresql_users": [{"name": "api"}]}, None, "password_var"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_before_any_host_is_touched(tmp_path, case):
    extra_vars, groups, message = CASES[case]
    res = run_site(inventory_with(tmp_path, case.replace(" ", "_"), extra_vars, groups))
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert message in out, out[-3000:]
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout


def test_a_weak_postgresql_secret_names_the_variable(tmp_path):
    base = make_inventory(tmp_path / "probe", {})
    secrets = valid_secrets(base)
    # The vault keeps the tier's name; Patroni reads it as patroni_replication_password.
    secrets["postgresql_replication_password"] = "replicator"
    res = run_site(make_inventory(tmp_path / "weak", secrets))
    out = " ".join(res.stdout.split())
    assert res.returncode != 0 and "patroni_replication_password" in out and "make secrets" in out
    assert "UNREACHABLE" not in res.stdout
