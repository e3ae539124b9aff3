# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Talking to live Redis servers and Sentinels, shared by the redis_* modules.

Everything here asks the running processes (ROLE, INFO, SENTINEL ...) and never
reads a template. Replies are requested raw (`execute_command`) and parsed here,
so the modules behave the same with the python3-redis of Debian (6.x) on the
hosts and the redis-py pinned for the control node (8.x).
"""

from __future__ import annotations

import socket
import traceback

REDIS_IMPORT_ERROR = None
try:
    import redis
    from redis.exceptions import RedisError, ResponseError
except ImportError:  # reported by require_redis()
    redis = None
    RedisError = ResponseError = Exception
    REDIS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_REDIS_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379


def common_argument_spec():
    """What every redis_* module accepts: the master name and the logins (Redis, Sentinel)."""
    return dict(
        name=dict(type="str", default="cloudphone"),
        login_user=dict(type="str", default="default"),
        login_password=dict(type="str", no_log=True),
        sentinel_login_user=dict(type="str", default="default"),
        sentinel_login_password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=True),
        ca_file=dict(type="path"),
        connect_timeout=dict(type="float", default=3.0),
    )


def require_redis(module):
    if redis is None:
        module.fail_json(msg="the redis Python library is missing on the managed host: install python3-redis "
                             "(the redis role and the redis_sentinel role install it)", exception=REDIS_IMPORT_ERROR)


def parse_endpoint(value, default_port):
    """'10.0.0.1', '10.0.0.1:26379' or 'host.example:6380' -> (host, port)."""
    text = str(value).strip()
    if text.startswith("["):  # [v6]:port
        host, _bracket, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


def endpoint_text(host, port):
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def connect(module, host, port, sentinel=False):
    """A client for one server. Nothing is sent until the first command."""
    p = module.params
    user = p["sentinel_login_user"] if sentinel else p["login_user"]
    password = p["sentinel_login_password"] if sentinel else p["login_password"]
    kwargs = dict(host=host, port=port, username=user if password else None, password=password,
                  socket_timeout=p["connect_timeout"], socket_connect_timeout=p["connect_timeout"],
                  decode_responses=True)
    if p["tls"]:
        kwargs.update(ssl=True, ssl_ca_certs=p["ca_file"], ssl_cert_reqs="required")
    return redis.Redis(**kwargs)


def pairs(reply):
    """Flat [k1, v1, k2, v2 ...] (RESP2 map) -> dict."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2]))


def same_host(a, b):
    """True when two host names/addresses designate the same machine (compared by what they resolve to)."""
    if str(a).lower() == str(b).lower():
        return True
    try:
        ips_a = {info[4][0] for info in socket.getaddrinfo(a, None)}
        ips_b = {info[4][0] for info in socket.getaddrinfo(b, None)}
    except OSError:
        return False
    return bool(ips_a & ips_b)


def role(client):
    """ROLE of a Redis server as a dict: role, and for a replica master_host/master_port/link/offset,
    for a master offset and replicas [(host, port, offset)]."""
    reply = client.execute_command("ROLE")
    kind = reply[0]
    if kind == "master":
        return {"role": "master", "offset": int(reply[1]),
                "replicas": [(r[0], int(r[1]), int(r[2])) for r in reply[2]]}
    if kind in ("slave", "replica"):
        return {"role": "replica", "master_host": reply[1], "master_port": int(reply[2]),
                "link": reply[3], "offset": int(reply[4])}
    return {"role": kind}


def sentinel_master(client, name):
    """SENTINEL MASTER <name> as a dict with ints where Sentinel sends numbers; None when not monitored."""
    try:
        state = pairs(client.execute_command("SENTINEL", "MASTER", name))
    except ResponseError as exc:
        if "no such master" in str(exc).lower():
            return None
        raise
    for key, value in list(state.items()):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            state[key] = int(value)
    state["flag_set"] = set(str(state.get("flags", "")).split(","))
    return state


def sentinel_list(client, subcommand, name):
    """SENTINEL REPLICAS|SENTINELS <name> as a list of dicts."""
    return [pairs(entry) for entry in client.execute_command("SENTINEL", subcommand, name)]


def ckquorum(client, name):
    """(ok, sentence) from SENTINEL CKQUORUM; NOQUORUM comes back as an error reply."""
    try:
        return True, str(client.execute_command("SENTINEL", "CKQUORUM", name))
    except ResponseError as exc:
        return False, str(exc)


def ask_sentinels(module, sentinels, name):
    """What every Sentinel says about master `name`.

    Returns a list of views, one per Sentinel, in the order given:
    {endpoint, reachable, error, monitored, master_host, master_port, config_epoch, state}.
    """
    views = []
    for entry in sentinels:
        host, port = parse_endpoint(entry, DEFAULT_SENTINEL_PORT)
        view = {"endpoint": endpoint_text(host, port), "host": host, "port": port,
                "reachable": False, "monitored": False}
        try:
            client = connect(module, host, port, sentinel=True)
            state = sentinel_master(client, name)
            view["reachable"] = True
            if state is not None:
                view.update(monitored=True, master_host=state["ip"], master_port=int(state["port"]),
                            config_epoch=int(state.get("config-epoch", 0)), state=state)
            view["client"] = client
        except (RedisError, OSError) as exc:
            view["error"] = str(exc)
        views.append(view)
    return views


def master_from_sentinels(views):
    """The master the Sentinels agree on: the answer with the highest config epoch (the one a
    failover wrote last). Returns (host, port, agreeing_views) or None when no Sentinel knows it."""
    known = [v for v in views if v.get("monitored")]
    if not known:
        return None
    best = max(known, key=lambda v: v["config_epoch"])
    agreeing = [v for v in known if same_host(v["master_host"], best["master_host"])
                and v["master_port"] == best["master_port"]]
    return best["master_host"], best["master_port"], agreeing


def public_view(view):
    """A Sentinel view without the live client, for module results."""
    return {k: v for k, v in view.items() if k not in ("client", "state")}


def locate_master(module, name, sentinels, peers, initial_master):
    """The current master as (host, port, source).

    source is "sentinels" (the Sentinel answer with the highest config epoch), "peers" (no Sentinel
    knows `name`, but one Redis server is master with replicas) or "inventory" (nothing is set up
    yet: `initial_master`). Only the first is authoritative; callers must not move an existing
    replica on the strength of the other two.
    """
    agreed = master_from_sentinels(ask_sentinels(module, sentinels, name))
    if agreed is not None:
        return agreed[0], agreed[1], "sentinels"
    masters = []
    for peer in peers:
        host, port = parse_endpoint(peer, DEFAULT_REDIS_PORT)
        try:
            state = role(connect(module, host, port))
        except (RedisError, OSError):
            continue
        if state["role"] == "master" and state["replicas"]:
            masters.append((host, port))
    if len(masters) > 1:
        module.fail_json(msg="no Sentinel knows {!r} and several Redis servers are masters with replicas ({}): "
                             "refusing to guess. Pick the master by hand (REPLICAOF on the others) and re-run."
                         .format(name, ", ".join(endpoint_text(*m) for m in masters)))
    if masters:
        return masters[0][0], masters[0][1], "peers"
    host, port = parse_endpoint(initial_master, DEFAULT_REDIS_PORT)
    return host, port, "inventory"
