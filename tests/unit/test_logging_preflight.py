"""site.yml refuses a logging inventory that cannot work, before it touches any host.

Same method as test_preflight.py: the hosts point at a closed port on loopback, so reaching one
would show as UNREACHABLE instead of the expected refusal.
"""

import yaml

from test_preflight import make_inventory, refused_before_any_host, run_site, valid_secrets
from test_rabbitmq_preflight import refused


def test_a_retention_under_a_day_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"victorialogs_retention_period": "12h"})
    assert "victorialogs_retention_period must be a duration of at least one day such as 30d" in out
    assert "got '12h'" in out


def test_a_retention_victorialogs_cannot_read_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"victorialogs_retention_period": "30 days"})
    assert "got '30 days'" in out


def test_shipping_with_an_empty_logging_group_is_refused(tmp_path):
    def no_logging_host(hosts):
        hosts["all"]["children"]["logging"] = {}

    out = refused(tmp_path, edit_hosts=no_logging_host)
    assert "the inventory group 'logging' has no host" in out
    assert "or set journal_upload_enabled: false" in out


def test_a_missing_query_password_is_refused(tmp_path):
    secrets = valid_secrets(make_inventory(tmp_path / "probe", {}))
    del secrets["logging_query_password"]
    out = refused_before_any_host(make_inventory(tmp_path / "case", secrets))
    assert "haproxy_logging_query_password" in out
    assert "make secrets" in out


def test_a_logging_host_without_haproxy_is_refused(tmp_path):
    def logging_on_data4(hosts):
        hosts["all"]["children"]["logging"] = {"hosts": {"data4": None}}

    out = refused(tmp_path, edit_hosts=logging_on_data4)
    assert "put data4 in the 'haproxy' group as well" in out


def test_an_inventory_without_a_logging_group_ships_nothing_and_passes(tmp_path):
    """Shipping follows the group: an inventory without one (an older inventory, a Molecule scenario of
    another tier) gets past preflight to the hosts."""
    inv = make_inventory(tmp_path / "probe", {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())
    del hosts["all"]["children"]["logging"]
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    res = run_site(inv)
    assert "UNREACHABLE" in res.stdout, res.stdout[-2000:]
