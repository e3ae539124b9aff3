"""Preflight refuses a value of the wrong type or outside a closed set, before any host is touched.

playbooks/preflight.yml includes every role with `tasks_from: validate`, so Ansible checks the
role's `validate` entry point spec (the options of main without the secrets) first. Same harness
as test_preflight.py: the hosts point at a closed port on loopback, so a run that got past
preflight would report them unreachable instead.

The last case checks a value one tier hands to another through the inventory
(group_vars/all/cross_tier.yml): PgBouncer's check sees Patroni's PostgreSQL port.
"""

import pytest
import yaml

from test_preflight import make_inventory, run_site, valid_secrets

CASES = {
    "unknown redis flavour": ({"redis_flavor": "foo"}, "value of redis_flavor must be one of: redis, valkey, got: foo"),
    "unknown partition handling": (
        {"rabbitmq_partition_handling": "sometimes"},
        "value of rabbitmq_partition_handling must be one of: pause_minority, autoheal, ignore, got: sometimes"),
    "a timer that is not a number": ({"patroni_ttl": "soon"}, "argument 'patroni_ttl' is of type str and we were unable to convert to int"),
    "a service without targets": (
        {"prometheus_http_services": [{"name": "api"}]},
        "missing required arguments: targets found in prometheus_http_services"),
    "PgBouncer on Patroni's port, handed over by the inventory": (
        {"patroni_postgresql_port": 6432}, "PgBouncer's port (6432) must differ from PostgreSQL's (6432)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_by_the_spec_before_any_host_is_touched(tmp_path, case):
    extra_vars, message = CASES[case]
    inv = make_inventory(tmp_path / "probe", {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    (inv / "group_vars" / "all" / "zz_case.yml").write_text(yaml.safe_dump(extra_vars))
    res = run_site(inv)
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert message in out, out[-3000:]
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
