import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudphone.infra.plugins.filter.hosts import fqdn, host_address, host_addresses


def test_fqdn():
    assert fqdn("data1", "lab.cloudphone.test") == "data1.lab.cloudphone.test"
    assert fqdn("db-1.cloudphone.internal", "other.example") == "db-1.cloudphone.internal"
    assert fqdn("data1", "") == "data1"


def test_host_address_prefers_explicit_then_ip_then_facts():
    facts = {"default_ipv4": {"address": "198.18.10.99"}}
    assert host_address({"cloudphone_address": "198.18.10.5", "ansible_host": "198.18.10.6"}) == "198.18.10.5"
    assert host_address({"ansible_host": "198.18.10.6", "ansible_facts": facts}) == "198.18.10.6"
    assert host_address({"ansible_host": "db-1.example", "ansible_facts": facts}) == "198.18.10.99"
    with pytest.raises(AnsibleFilterError, match="cloudphone_address"):
        host_address({"ansible_host": "db-1.example", "inventory_hostname": "db-1"})


def test_host_addresses_keep_the_order_and_switch_to_names():
    hostvars = {"data2": {"ansible_host": "198.18.10.12"}, "data1": {"cloudphone_address": "198.18.10.11"}}
    assert host_addresses(["data2", "data1"], hostvars) == ["198.18.10.12", "198.18.10.11"]
    assert host_addresses(["data2", "data1"], hostvars, by_name=True, domain="lab.cloudphone.test") == [
        "data2.lab.cloudphone.test", "data1.lab.cloudphone.test"]
