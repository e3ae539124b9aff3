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


def _connection_address(hostvars):
    """What Ansible connects to: `ansible_host`, or the inventory name when it has none."""
    return str(hostvars.get("ansible_host") or hostvars.get("inventory_hostname", ""))


def known_address(hostvars):
    """The address the inventory alone gives a host, before any fact is gathered: `cloudphone_address`,
    an IP `ansible_host`, or an IP inventory name (without ansible_host); None when it gives none."""
    if "cloudphone_address" in hostvars:
        return str(hostvars["cloudphone_address"])
    connection = _connection_address(hostvars)
    return connection if _is_ip(connection) else None


def host_address(hostvars):
    """The address other hosts use for a host: the one the inventory gives (known_address), or the
    default IPv4 address from its facts."""
    known = known_address(hostvars)
    if known is not None:
        return known
    try:
        return str(hostvars["ansible_facts"]["default_ipv4"]["address"])
    except (KeyError, TypeError):
        name = hostvars.get("inventory_hostname", "a host")
        raise AnsibleFilterError(
            f"cannot tell the address of {name}: set cloudphone_address or an IP ansible_host, or gather its facts")


def _enumerate(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def hosts_sharing_an_address(hosts, hostvars):
    """One sentence per address that more than one of `hosts` resolves to (ansible_host, or the
    inventory name without one), naming the hosts and the address; [] when every host has its own."""
    by_address = {}
    for host in hosts:
        address = _connection_address(hostvars[host])
        by_address.setdefault(address.lower(), (address, []))[1].append(str(host))
    return [f"{_enumerate(names)} {'both' if len(names) == 2 else 'all'} resolve to ansible_host {address}: two "
            "inventory hosts cannot be one machine; give each host its own ansible_host, or remove the duplicate "
            "entry."
            for address, names in by_address.values() if len(names) > 1]


def hosts_without_address(groups, hostvars, group_names):
    """One sentence per host of the groups `group_names` for which the inventory gives no address
    (known_address), naming its groups and what to set; [] when every one has an address.

    Cluster members address each other; a run limited to some hosts has no facts of the others,
    so their addresses must come from the inventory."""
    member_of = {}
    for group in group_names:
        for host in groups.get(group) or []:
            member_of.setdefault(str(host), []).append(group)
    problems = []
    for host, in_groups in member_of.items():
        variables = hostvars[host]
        if known_address(variables) is not None:
            continue
        ansible_host = str(variables.get("ansible_host") or "")
        reason = (f"its ansible_host {ansible_host} is a name, not an IP address" if ansible_host and ansible_host != host
                  else "it has no ansible_host and its name is not an IP address")
        problems.append(f"{host} (in {', '.join(in_groups)}) has no address its cluster peers can use before facts "
                        f"are gathered: {reason}; set ansible_host (or cloudphone_address) to its IP address in the "
                        "inventory.")
    return problems


def host_addresses(hosts, hostvars, by_name=False, domain=""):
    """The addresses of several inventory hosts, in order: their FQDNs when `by_name`
    (services that announce hostnames), else what host_address() gives for each."""
    if by_name:
        return [fqdn(host, domain) for host in hosts]
    return [host_address(hostvars[host]) for host in hosts]


class FilterModule:
    def filters(self):
        return {"fqdn": fqdn, "host_address": host_address, "host_addresses": host_addresses,
                "hosts_sharing_an_address": hosts_sharing_an_address, "hosts_without_address": hosts_without_address}
