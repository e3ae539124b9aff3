# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""MinIO's erasure layout, computed on the controller before any host is touched.

MinIO derives the erasure-set size of each server pool from the pool's volume
argument (expansion syntax, e.g. ``https://data{1...4}.example:9000/srv/disk{1...2}``)
and refuses parity it cannot honour. This module repeats those rules
(cmd/endpoint-ellipses.go, minio/pkg ellipses and internal/config/storageclass of
the pinned release) so that a bad layout is refused with a message that says
what to change, and so that the real fault tolerance can be printed:

* read quorum  = data drives of a set                 (data = set size - parity)
* write quorum = data drives, +1 when data == parity  (an even split must not
  accept two diverging writes)

A node takes all its drives of a set down with it, so the node tolerance is the
largest k for which the k fullest nodes of every set stay within the budget:
parity drives for reads, write quorum's slack for writes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SET_SIZES = range(2, 17)
_ELLIPSIS = re.compile(r"(.*)(\{[0-9a-z]*\.\.\.[0-9a-z]*\})(.*)")


class LayoutError(ValueError):
    """A layout MinIO would refuse (or this collection refuses); the message says what to change."""


# ---------------------------------------------------------------- expansion syntax

def _parse_range(text, arg):
    lo, _sep, hi = text[1:-1].partition("...")
    hexadecimal = False
    try:
        start, end = int(lo, 10), int(hi, 10)
    except ValueError:
        try:
            start, end, hexadecimal = int(lo, 16), int(hi, 16), True
        except ValueError:
            raise LayoutError(f"{arg}: {text} is not a range; write {{N...M}} with numbers, e.g. {{1...4}}")
    if start > end:
        raise LayoutError(f"{arg}: the range {text} starts after it ends; write {{{min(lo, hi)}...{max(lo, hi)}}}")
    padded = (lo.startswith("0") and len(lo) > 1) or hi.startswith("0")
    conv = "x" if hexadecimal else "d"
    fmt = f"%0{len(hi)}{conv}" if padded else f"%{conv}"
    return [fmt % i for i in range(start, end + 1)]


def parse_patterns(arg):
    """The ellipsis patterns of one pool argument, rightmost first (MinIO's order).

    Each pattern is (prefix, values, suffix). An argument without ellipses is a
    single pattern with a single value.
    """
    found = []
    rest = arg
    m = _ELLIPSIS.match(rest)
    while m:
        head, rng, tail = m.groups()
        found.append(["", _parse_range(rng, arg), tail])
        rest = head
        m = _ELLIPSIS.match(rest)
    if not found:
        return [(arg, [""], "")]
    found[-1][0] = rest
    for prefix, _values, suffix in found:
        if "{" in prefix + suffix or "}" in prefix + suffix:
            raise LayoutError(f"{arg}: malformed ellipsis; write ranges as {{N...M}}, e.g. {{1...4}}")
    return [tuple(p) for p in found]


def expand(arg):
    """Every endpoint of one pool argument, in MinIO's order: the leftmost range varies fastest."""
    labels = [[f"{prefix}{value}{suffix}" for value in values] for prefix, values, suffix in parse_patterns(arg)]
    out = [""]
    for choices in labels:  # rightmost first, so it ends up varying slowest
        out = [choice + tail for tail in out for choice in choices]
    return out


# ---------------------------------------------------------------- erasure sets

def set_size(arg, drive_count):
    """The erasure-set size MinIO picks for a pool of `drive_count` drives (getSetIndexes)."""
    if drive_count < SET_SIZES[0]:
        raise LayoutError(
            f"{arg}: a pool needs at least 2 drives, this one has {drive_count}; "
            "add drives (more hosts or more drives per host)")
    candidates = [s for s in SET_SIZES if drive_count % s == 0]
    if not candidates:
        raise LayoutError(
            f"{arg}: {drive_count} drives cannot be split into erasure sets of 2 to 16 drives; "
            "use a drive count with such a divisor (e.g. 4, 8, 12 or 16)")
    # MinIO's symmetry test looks at the last pattern it parsed: the leftmost range (the hosts).
    width = len(parse_patterns(arg)[-1][1])
    symmetric = [s for s in candidates if (width % s == 0 if width > s else s % width == 0)]
    if not symmetric:
        raise LayoutError(
            f"{arg}: {drive_count} drives on {width} hosts cannot be spread symmetrically over erasure sets "
            f"of {candidates}; use a host count that divides the set size or is a multiple of it")
    return max(symmetric)


def _host_of(endpoint):
    return urlsplit(endpoint).hostname or endpoint


def _node_tolerance(sets, budget):
    """Largest k such that losing any k nodes costs no set more than `budget` drives."""
    worst = None
    for members in sets:
        per_node = {}
        for endpoint in members:
            per_node[_host_of(endpoint)] = per_node.get(_host_of(endpoint), 0) + 1
        counts = sorted(per_node.values(), reverse=True)
        k, lost = 0, 0
        while k < len(counts) and lost + counts[k] <= budget:
            lost += counts[k]
            k += 1
        worst = k if worst is None else min(worst, k)
    return worst or 0


# ---------------------------------------------------------------- the whole layout

def layout(pools, parity, rrs_parity=None):
    """Validate `pools` (one volume argument per server pool) with standard parity `parity`.

    Returns a dict with the volume string and the real tolerance; raises LayoutError.
    """
    if not pools:
        raise LayoutError("no server pool: the inventory group for MinIO is empty; add hosts to it")
    if not isinstance(parity, int) or isinstance(parity, bool):
        raise LayoutError(f"parity must be a whole number (EC:N), got {parity!r}")
    if parity < 1:
        raise LayoutError(f"parity EC:{parity} keeps no redundancy, so one lost drive loses data; use EC:1 or more")
    seen = {}
    described = []
    for index, arg in enumerate(pools, 1):
        if not isinstance(arg, str) or not arg.strip() or arg != arg.strip() or " " in arg:
            raise LayoutError(f"pool {index}: {arg!r} is not a single volume argument without spaces")
        scheme = urlsplit(arg).scheme
        if scheme not in ("https", "http") or not urlsplit(arg).path.startswith("/"):
            raise LayoutError(f"pool {index}: {arg} must be a URL like https://host{{1...4}}:9000/path/disk{{1...2}}")
        endpoints = expand(arg)
        for endpoint in endpoints:
            if endpoint in seen:
                raise LayoutError(f"{endpoint} appears in pool {seen[endpoint]} and pool {index}; every drive once")
            seen[endpoint] = index
        size = set_size(arg, len(endpoints))
        if parity > size // 2:
            raise LayoutError(
                f"pool {index} ({arg}) has erasure sets of {size} drives, so parity can be at most "
                f"EC:{size // 2}; EC:{parity} was asked for. Lower the parity or use more drives")
        sets = [endpoints[i:i + size] for i in range(0, len(endpoints), size)]
        described.append({"pool": index, "volumes": arg, "drives": len(endpoints),
                          "hosts": sorted({_host_of(e) for e in endpoints}),
                          "set_size": size, "sets": len(sets), "_sets": sets})
    schemes = {urlsplit(p).scheme for p in pools}
    if len(schemes) > 1:
        raise LayoutError(f"pools mix {sorted(schemes)}; MinIO needs one scheme for every endpoint")
    if rrs_parity is not None and rrs_parity > parity:
        raise LayoutError(f"reduced-redundancy parity EC:{rrs_parity} exceeds standard parity EC:{parity}; lower it")

    read_nodes, write_nodes = [], []
    for pool in described:
        sets = pool.pop("_sets")
        data = pool["set_size"] - parity
        pool.update(data_drives=data, read_quorum=data, write_quorum=data + 1 if data == parity else data)
        pool["read_tolerance_drives"] = parity
        pool["write_tolerance_drives"] = pool["set_size"] - pool["write_quorum"]
        read_nodes.append(_node_tolerance(sets, pool["read_tolerance_drives"]))
        write_nodes.append(_node_tolerance(sets, pool["write_tolerance_drives"]))
    result = {
        "volumes": " ".join(pools),
        "pools": described,
        "parity": parity,
        "nodes": len({h for p in described for h in p["hosts"]}),
        # A cluster is as tolerant as its least tolerant pool.
        "read_tolerance_nodes": min(read_nodes),
        "write_tolerance_nodes": min(write_nodes),
    }
    result["summary"] = summary(result)
    return result


def summary(result):
    pools = "; ".join(
        f"pool {p['pool']}: {p['drives']} drives on {len(p['hosts'])} hosts, {p['sets']} erasure set(s) of "
        f"{p['set_size']} = data {p['data_drives']} + parity {result['parity']}, read quorum {p['read_quorum']}, "
        f"write quorum {p['write_quorum']}" for p in result["pools"])
    return (f"{pools}. With EC:{result['parity']} reads survive {result['read_tolerance_nodes']} of "
            f"{result['nodes']} nodes down, writes survive {result['write_tolerance_nodes']}.")


def check_unchanged(deployed, desired):
    """Refuse a change to the pools of an existing deployment; appending a pool (expansion) is fine.

    `deployed` and `desired` are lists of volume arguments. Returns the appended pools.
    """
    deployed = [p for p in (deployed or []) if p]
    if not deployed:
        return list(desired)
    if list(desired[:len(deployed)]) != deployed:
        raise LayoutError(
            "the deployed cluster's volume list is '{}' but the inventory now asks for '{}'. MinIO cannot "
            "change the drives of an existing pool: restore minio_pools (or minio_drives_per_node) so the "
            "existing pools stay byte-identical, and to grow the cluster append a new pool at the end of "
            "minio_pools".format(" ".join(deployed), " ".join(desired)))
    return list(desired[len(deployed):])


def pattern_for(names):
    """`[data1.x, data2.x, data3.x]` -> `data{1...3}.x`: the expansion syntax for numbered hostnames."""
    names = sorted(set(names))
    if len(names) == 1:
        return names[0]
    split = [re.split(r"(\d+)", n) for n in names]
    if len({len(s) for s in split}) != 1:
        raise LayoutError(_unnumbered(names))
    varying = [i for i in range(len(split[0])) if len({s[i] for s in split}) > 1]
    if len(varying) != 1 or varying[0] % 2 == 0:
        raise LayoutError(_unnumbered(names))
    pos = varying[0]
    values = sorted(split, key=lambda s: int(s[pos]))
    numbers = [int(s[pos]) for s in values]
    widths = {len(s[pos]) for s in values}
    padded = any(s[pos].startswith("0") and len(s[pos]) > 1 for s in values)
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))) or (padded and len(widths) != 1):
        raise LayoutError(_unnumbered(names))
    first, last = values[0][pos], values[-1][pos]
    return "".join(values[0][:pos]) + "{" + f"{first}...{last}" + "}" + "".join(values[0][pos + 1:])


def _unnumbered(names):
    return (f"the MinIO hosts {', '.join(names)} are not numbered consecutively (like data1..data4), so "
            "they cannot be written in expansion syntax; set minio_pools explicitly")
