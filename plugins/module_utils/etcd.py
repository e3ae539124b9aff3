# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""etcd v3 membership over the gRPC gateway (JSON over HTTPS), with no library on the host.

Member IDs are uint64; the gateway writes them as decimal strings, and so do we.
A member that was added but has not started yet has no name and no client URLs.
"""

from __future__ import annotations

import json

from ansible_collections.cloudphone.infra.plugins.module_utils.health import get_json


class EtcdError(Exception):
    pass


def connection_argument_spec(**extra):
    """Options every etcd module takes to reach the cluster (doc fragment cloudphone.infra.etcd)."""
    return dict(
        endpoints=dict(type="list", elements="str", required=True),
        ca_file=dict(type="path", required=True),
        cert_file=dict(type="path"),
        key_file=dict(type="path", no_log=False),
        timeout=dict(type="int", default=5),
        **extra,
    )


def api_from(params):
    return EtcdAPI(params["endpoints"], params["ca_file"], params["cert_file"], params["key_file"], params["timeout"])


class EtcdAPI:
    def __init__(self, endpoints, ca_file=None, cert_file=None, key_file=None, timeout=5):
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.ca_file, self.cert_file, self.key_file = ca_file, cert_file, key_file
        self.timeout = timeout

    def call(self, path, body=None):
        """POST to the first endpoint that answers; raise EtcdError with every endpoint's reason otherwise."""
        errors = []
        for endpoint in self.endpoints:
            try:
                status, doc = get_json(endpoint + "/v3/" + path, ca_file=self.ca_file, timeout=self.timeout,
                                       method="POST", data=json.dumps(body or {}),
                                       headers={"Content-Type": "application/json"},
                                       client_cert=self.cert_file, client_key=self.key_file)
            except Exception as exc:  # a dead member is expected while replacing one: try the next
                errors.append(f"{endpoint}: {exc}")
                continue
            if status == 200 and isinstance(doc, dict):
                return doc
            # etcd answered and refused: retrying elsewhere would get the same answer.
            message = doc.get("message") or doc.get("error") if isinstance(doc, dict) else doc
            raise EtcdError(f"{endpoint} refused {path} ({status}): {message}")
        raise EtcdError("no etcd endpoint answered (" + "; ".join(errors) + ")")

    def members(self):
        doc = self.call("cluster/member/list", {"linearizable": True})
        return [normalise(m) for m in doc.get("members", [])], doc.get("header", {}).get("cluster_id")

    def add(self, peer_urls):
        doc = self.call("cluster/member/add", {"peerURLs": list(peer_urls)})
        return normalise(doc["member"]), [normalise(m) for m in doc.get("members", [])]

    def remove(self, member_id):
        doc = self.call("cluster/member/remove", {"ID": str(member_id)})
        return [normalise(m) for m in doc.get("members", [])]

    def update(self, member_id, peer_urls):
        self.call("cluster/member/update", {"ID": str(member_id), "peerURLs": list(peer_urls)})


def normalise(member):
    return {
        "id": str(member.get("ID", "")),
        "name": member.get("name", ""),
        "peer_urls": sorted(member.get("peerURLs") or []),
        "client_urls": sorted(member.get("clientURLs") or []),
        "started": bool(member.get("name")),
        "learner": bool(member.get("isLearner")),
    }


def find(members, name, peer_urls):
    """The registration of a member: by name once started, by peer URL before (an unstarted one has no name)."""
    wanted = set(peer_urls)
    for m in members:
        if m["name"] == name or (wanted & set(m["peer_urls"])):
            return m
    return None


def initial_cluster(members, name, member_id):
    """ETCD_INITIAL_CLUSTER for a member that joins: every registration, the joining one under its name."""
    parts = []
    for m in sorted(members, key=lambda m: m["id"]):
        member_name = name if m["id"] == member_id else m["name"]
        parts.extend(f"{member_name}={url}" for url in m["peer_urls"])
    return ",".join(parts)
