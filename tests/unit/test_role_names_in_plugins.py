"""Plugins name only roles that exist.

Error messages and documentation send operators to a role ("install python3-redis (the redis
role does)"); a name that is not under roles/ sends them nowhere. The phrases the plugins use are
`the <role> role`, `roles/<role>` and the FQCN `cloudphone.infra.<role>` followed by "role".
"""

import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE_PHRASES = (
    re.compile(r"\bthe ([a-z][a-z0-9_]*) role\b"),
    re.compile(r"\broles/([a-z][a-z0-9_]*)"),
    re.compile(r"\bcloudphone\.infra\.([a-z][a-z0-9_]*) role\b"),
    re.compile(r"\brole `?cloudphone\.infra\.([a-z][a-z0-9_]*)"),
)
# The roles a server plays in its cluster (Redis master, Patroni leader, ...) are not Ansible roles.
SERVER_ROLES = {"master", "replica", "leader", "primary", "standby"}


def plugin_sources():
    return sorted(glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True))


def named_roles(text):
    """(line number, role name) of every role a text names."""
    for number, line in enumerate(text.splitlines(), 1):
        for phrase in ROLE_PHRASES:
            for match in phrase.finditer(line):
                if match.group(1) not in SERVER_ROLES:
                    yield number, match.group(1)


def test_every_role_a_plugin_names_exists():
    existing = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")) if os.path.isdir(p)}
    unknown = []
    for path in plugin_sources():
        with open(path) as fh:
            unknown += [f"{os.path.relpath(path, ROOT)}:{number}: {name}"
                        for number, name in named_roles(fh.read()) if name not in existing]
    assert not unknown, "these plugins name roles that are not under roles/:\n" + "\n".join(unknown)


def test_the_phrases_are_recognised():
    text = ("install python3-redis (the redis_server role does)\nsee roles/patroni/tasks/main.yml\n"
            "hand over the master role first\nrun the cloudphone.infra.pki role\nrole cloudphone.infra.common\n"
            "the role of the node")
    assert list(named_roles(text)) == [(1, "redis_server"), (2, "patroni"), (4, "pki"), (5, "common")]
