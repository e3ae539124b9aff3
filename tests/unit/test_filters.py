import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudphone.infra.plugins.filter.hosts import fqdn, host_address


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
