"""Every module returns a `diff` only when Ansible asked for one (`--diff`, `diff: true`).

Ansible sets `module._diff` from the task's diff mode. A module that returns a diff regardless
makes plain runs print (and log) what only a diff run should show, and makes modules disagree.
The check reads each module's source: every place that puts a `diff` into a result (a `diff=`
keyword, `result["diff"] = ...`, a dict literal with a "diff" key) must sit in the body of an
`if` (or a conditional expression) whose test reads `module._diff`.
"""

import ast
import glob
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


def is_diff_key(node):
    return isinstance(node, ast.Constant) and node.value == "diff"


def diff_producers(tree):
    """The nodes that put a diff into a result."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "diff":
            yield node
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and is_diff_key(node.slice):
            yield node
        elif isinstance(node, ast.Dict) and any(is_diff_key(k) for k in node.keys):
            yield node
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "setdefault"
              and node.args and is_diff_key(node.args[0])):
            yield node


def reads_diff_mode(test):
    return any(isinstance(n, ast.Attribute) and n.attr == "_diff" for n in ast.walk(test))


def parents_of(tree):
    parents = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    return parents


def guarded(node, parents):
    """Whether the node only runs when diff mode is on."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.If) and child in parent.body and reads_diff_mode(parent.test):
            return True
        if isinstance(parent, ast.IfExp) and child is parent.body and reads_diff_mode(parent.test):
            return True
        child, parent = parent, parents.get(parent)
    return False


def unguarded_lines(source):
    tree = ast.parse(source)
    parents = parents_of(tree)
    return sorted({n.lineno for n in diff_producers(tree) if not guarded(n, parents)})


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_a_diff_is_returned_only_in_diff_mode(path):
    with open(path) as fh:
        lines = unguarded_lines(fh.read())
    assert not lines, (f"{os.path.relpath(path, ROOT)} returns a diff outside `if module._diff:` "
                       f"on line(s) {', '.join(map(str, lines))}")


def test_the_check_sees_every_way_of_returning_a_diff():
    source = '''
def main(module, result):
    result.update(changed=True, diff=dict(before="a", after="b"))
    result["diff"] = {"before": 1}
    module.exit_json(**{"changed": True, "diff": {}})
    result.setdefault("diff", {})
    if module._diff:
        result["diff"] = {"before": 2}
        result.update(diff={})
    else:
        result["diff"] = {}
    if module.check_mode and module._diff:
        module.exit_json(diff={})
    extra = dict(diff={}) if module._diff else {}
'''
    assert unguarded_lines(source) == [3, 4, 5, 6, 11]
