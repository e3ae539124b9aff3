# -*- coding: utf-8 -*-
# Copyright: cloudphone.infra developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side gate: refuse to run when a secret is missing, short or a well-known default."""

from __future__ import annotations

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.plugins.action import ActionBase
from ansible.utils.vars import isidentifier

from ansible_collections.cloudphone.infra.plugins.plugin_utils.secrets import secret_problem

GENERATE_HINT = "run `make secrets INVENTORY=<your inventory>` (tools/generate-secrets -i <inventory>)"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("names", "min_length"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        names = self._task.args.get("names") or []
        min_length = int(self._task.args.get("min_length", 16))
        if isinstance(names, str) or not all(isinstance(n, str) and isidentifier(n) for n in names):
            raise AnsibleError("assert_secrets: 'names' must be a list of variable names")

        problems = []
        for name in names:
            problems.append(self._check(name, task_vars, min_length))
        problems = [p for p in problems if p]
        result["checked"] = list(names)
        # Never echo values: the result names variables only.
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = "; ".join(problems) + f". To generate missing secrets, {GENERATE_HINT}."
        else:
            result["msg"] = f"{len(names)} secret(s) present and acceptable"
        return result

    def _check(self, name, task_vars, min_length):
        if name not in task_vars:
            return (f"secret '{name}' is not defined: map it in group_vars/all/secrets_<tier>.yml as "
                    f"{name}: \"{{{{ vault_{name} }}}}\"")
        try:
            templar = self._templar.copy_with_new_env(available_variables=task_vars)
            value = templar.resolve_variable_expression(name)
        except AnsibleUndefinedVariable:
            return (f"secret '{name}' refers to a vaulted value that is not in the inventory's vault "
                    f"(expected vault_{name} in group_vars/all/vault.yml)")
        return secret_problem(name, value, min_length)
