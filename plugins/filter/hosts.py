# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that name and address inventory hosts the same way in every role."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def fqdn(hostname, domain):
    """`data1` -> `data1.<domain>`; a hostname that already has a dot is kept."""
    hostname = str(hostname)
    if "." in hostname or not domain:
        return hostname
    return f"{hostname}.{domain}"


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def host_address(hostvars):
    """The address other hosts use for a host: `cloudphone_address`, an IP `ansible_host`,
    or the default IPv4 address from its facts, in that order."""
    if "cloudphone_address" in hostvars:
        return str(hostvars["cloudphone_address"])
    if _is_ip(hostvars.get("ansible_host", "")):
        return str(hostvars["ansible_host"])
    try:
        return str(hostvars["ansible_facts"]["default_ipv4"]["address"])
    except (KeyError, TypeError):
        name = hostvars.get("inventory_hostname", "a host")
        raise AnsibleFilterError(
            f"cannot tell the address of {name}: set cloudphone_address or an IP ansible_host, or gather its facts")


def host_addresses(hosts, hostvars, by_name=False, domain=""):
    """The addresses of several inventory hosts, in order: their FQDNs when `by_name`
    (services that announce hostnames), else what host_address() gives for each."""
    if by_name:
        return [fqdn(host, domain) for host in hosts]
    return [host_address(hostvars[host]) for host in hosts]


class FilterModule:
    def filters(self):
        return {"fqdn": fqdn, "host_address": host_address, "host_addresses": host_addresses}
