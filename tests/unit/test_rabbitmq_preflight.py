"""site.yml refuses a RabbitMQ inventory that cannot work, before it touches any host.

Same method as test_preflight.py: the hosts point at a closed port on loopback, so reaching one
would show as UNREACHABLE instead of the expected refusal.
"""

import yaml

from test_preflight import make_inventory, run_site, valid_secrets


def refused(tmp_path, extra_vars=None, edit_hosts=None, secrets_override=None):
    inv = make_inventory(tmp_path / "probe", {})
    secrets = dict(valid_secrets(inv), **(secrets_override or {}))
    inv = make_inventory(tmp_path / "case", secrets)
    if extra_vars:
        with open(inv / "group_vars" / "all" / "zz_test.yml", "a") as fh:
            fh.write(yaml.safe_dump(extra_vars))
    if edit_hosts:
        hosts = yaml.safe_load((inv / "hosts.yml").read_text())
        edit_hosts(hosts)
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
    res = run_site(inv)
    assert res.returncode != 0
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
    return " ".join(res.stdout.split())


def test_ha_mode_on_rabbitmq_4_is_refused_with_the_reason(tmp_path):
    out = refused(tmp_path, extra_vars={"rabbitmq_extra_policies": [
        {"name": "legacy-ha", "pattern": "^cloudphone\\.", "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}}]})
    assert "Policy legacy-ha asks for ha-mode, ha-sync-mode" in out
    assert "removed in RabbitMQ 4.0" in out
    assert "quorum queue" in out


def test_ha_mode_is_accepted_for_rabbitmq_3(tmp_path):
    inv = make_inventory(tmp_path / "probe", {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    with open(inv / "group_vars" / "all" / "zz_test.yml", "a") as fh:
        fh.write('rabbitmq_version: "3"\n')
    res = run_site(inv)
    # Preflight accepts the mirrored policy of 3.x: the run gets as far as trying the hosts.
    assert "UNREACHABLE" in res.stdout, res.stdout[-2000:]


def test_fewer_than_three_nodes_are_refused(tmp_path):
    def two_nodes(hosts):
        del hosts["all"]["children"]["rabbitmq"]["hosts"]["data3"]

    out = refused(tmp_path, edit_hosts=two_nodes)
    assert "RabbitMQ needs at least 3 nodes" in out
    assert "has 2 (data1, data2): add hosts to it" in out


def test_a_cookie_the_package_would_replace_is_refused(tmp_path):
    out = refused(tmp_path, secrets_override={"rabbitmq_erlang_cookie": "ABCDEFGHIJKLMNOPQRST"})
    assert "not exactly 20 upper-case letters" in out


def test_a_dead_letter_queue_inside_the_policed_pattern_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"rabbitmq_dead_letter_queue": "cloudphone.dead"})
    assert "would loop back into it" in out
