"""Preflight refuses an inventory whose hosts cannot be told apart or addressed.

Two inventory hosts at one ansible_host are one machine configured twice (two cluster members
that are really one lose the quorum they seem to give). A host of a data tier needs an address
its peers can use before any fact is gathered: what `cloudphone.infra.host_address` answers
from the inventory alone. The filters are tested directly, then through site.yml with the
harness of test_preflight.py (hosts on closed loopback ports, so a run that got past preflight
would report them unreachable).
"""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudphone.infra.plugins.filter.hosts import (
    host_address, hosts_sharing_an_address, hosts_without_address, known_address)
from test_preflight import make_inventory, refused_before_any_host, valid_secrets

DATA_GROUPS = ["etcd", "postgresql", "redis", "redis_sentinel", "rabbitmq"]


def hostvars_of(**hosts):
    return {name: dict(vars_, inventory_hostname=name) for name, vars_ in hosts.items()}


def test_known_address_is_what_host_address_answers_without_facts():
    assert known_address({"inventory_hostname": "db-1", "cloudphone_address": "198.18.10.5"}) == "198.18.10.5"
    assert known_address({"inventory_hostname": "db-1", "ansible_host": "198.18.10.6"}) == "198.18.10.6"
    assert known_address({"inventory_hostname": "198.18.10.7"}) == "198.18.10.7"
    assert known_address({"inventory_hostname": "db-1"}) is None
    assert known_address({"inventory_hostname": "db-1", "ansible_host": "db-1.example"}) is None
    # An ansible_host that is a name hides the name's own address: Ansible connects to the name.
    assert known_address({"inventory_hostname": "198.18.10.7", "ansible_host": "db-1.example"}) is None


def test_host_address_uses_an_ip_inventory_name_before_facts():
    facts = {"default_ipv4": {"address": "198.18.10.99"}}
    assert host_address({"inventory_hostname": "198.18.10.7", "ansible_facts": facts}) == "198.18.10.7"
    with pytest.raises(AnsibleFilterError, match="cannot tell the address of db-1"):
        host_address({"inventory_hostname": "db-1"})


def test_two_hosts_at_one_address_are_named_with_the_address():
    hostvars = hostvars_of(data1={"ansible_host": "198.18.10.11"}, data2={"ansible_host": "198.18.10.11"},
                           data3={"ansible_host": "198.18.10.13"}, ops1={"ansible_host": "198.18.10.21"})
    assert hosts_sharing_an_address(["data1", "data2", "data3", "ops1"], hostvars) == [
        "data1 and data2 both resolve to ansible_host 198.18.10.11: two inventory hosts cannot be one machine; "
        "give each host its own ansible_host, or remove the duplicate entry."]


def test_hosts_without_ansible_host_are_compared_by_name():
    hostvars = hostvars_of(**{"db-1.example": {}, "db-2.example": {"ansible_host": "DB-1.example"},
                              "db-3.example": {"ansible_host": "db-1.example"}, "db-4.example": {}})
    assert hosts_sharing_an_address(list(hostvars), hostvars) == [
        "db-1.example, db-2.example and db-3.example all resolve to ansible_host db-1.example: two inventory hosts "
        "cannot be one machine; give each host its own ansible_host, or remove the duplicate entry."]


def test_distinct_addresses_pass():
    hostvars = hostvars_of(data1={"ansible_host": "198.18.10.11"}, data2={"ansible_host": "198.18.10.12"})
    assert hosts_sharing_an_address(["data1", "data2"], hostvars) == []


def test_a_data_host_without_a_usable_address_is_named_with_its_groups():
    hostvars = hostvars_of(data1={"ansible_host": "198.18.10.11"}, data2={"cloudphone_address": "198.18.10.12"},
                           **{"198.18.10.13": {}, "db-4": {}, "db-5": {"ansible_host": "db-5.example"},
                              "lb-1": {}})
    groups = {"all": list(hostvars), "etcd": ["data1", "db-4"], "redis": ["data2", "198.18.10.13", "db-4"],
              "rabbitmq": ["db-5"], "haproxy": ["lb-1"]}
    assert hosts_without_address(groups, hostvars, DATA_GROUPS) == [
        "db-4 (in etcd, redis) has no address its cluster peers can use before facts are gathered: it has no "
        "ansible_host and its name is not an IP address; set ansible_host (or cloudphone_address) to its IP "
        "address in the inventory.",
        "db-5 (in rabbitmq) has no address its cluster peers can use before facts are gathered: its ansible_host "
        "db-5.example is a name, not an IP address; set ansible_host (or cloudphone_address) to its IP address in "
        "the inventory.",
    ]


def refused(inv):
    return refused_before_any_host(inv)


def lab_inventory(tmp_path):
    inv = make_inventory(tmp_path / "probe", {})
    return make_inventory(tmp_path / "case", valid_secrets(inv))


def test_site_refuses_two_hosts_at_one_address(tmp_path):
    inv = lab_inventory(tmp_path)
    (inv / "host_vars").mkdir()
    # data1 is 127.0.0.11 in the harness; data3 copies it.
    (inv / "host_vars" / "data3.yml").write_text("---\nansible_host: 127.0.0.11\n")
    out = refused(inv)
    assert "data1 and data3 both resolve to ansible_host 127.0.0.11" in out
    assert "give each host its own ansible_host" in out


def test_site_refuses_a_data_host_without_an_address(tmp_path):
    inv = lab_inventory(tmp_path)
    hosts = (inv / "hosts.yml").read_text()
    # A host without lab_octet: the lab (and the harness) fall back to its name, which is no address.
    section = hosts.index("    rabbitmq:\n      hosts:\n") + len("    rabbitmq:\n      hosts:\n")
    (inv / "hosts.yml").write_text(hosts[:section] + "        data5:\n" + hosts[section:])
    out = refused(inv)
    assert ("data5 (in rabbitmq) has no address its cluster peers can use before facts are gathered: it has no "
            "ansible_host and its name is not an IP address") in out
